//! The scenario file format (documented in `scenarios/README.md`). One TOML file is one
//! scenario; its path under the scenarios folder, without `.toml`, is its ID.

use std::collections::BTreeMap;

use mock_issuer::TokenSpec;
use reference_registry::fixture::{PendingPublisher, Publisher, UsedJti};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

pub use crate::spec::grading::{Level, Strength};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// A sentence a reader understands.
    pub title: String,
    /// The requirement checked, as the spec words it ("The registry MUST ...").
    pub requirement: String,
    /// Spec rule IDs (`R-...`).
    pub rules: Vec<String>,
    pub level: Level,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub fixture: FixtureSpec,
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// What the target is told before the scenario. The harness adds the trusted issuers
/// (its mock issuers) and turns this into a fixture document.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Admin flags that are on, e.g. `["disallow-github-oidc"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// Names of existing projects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prohibited_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<Publisher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_publishers: Vec<PendingPublisher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used_jtis: Vec<UsedJti>,
    /// Issuers an organisation registered (a self-managed GitLab, say): each is served by a
    /// mock of its own and trusted as a custom issuer of its provider type (R-ISS-4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_issuers: Vec<CustomIssuer>,
    /// Providers whose canonical issuer string the fixture replaces by their mock's own URL
    /// (R-ISS-5: a test deployment may), e.g. `["github"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub substitute_issuers: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomIssuer {
    /// `github`, `gitlab`, `google` or `activestate`: how its tokens are matched.
    pub provider: String,
    /// The exact `iss` its tokens carry, e.g. `https://gitlab.acme.example`; tokens name it
    /// with `claims = { iss = "..." }`.
    pub issuer: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// `GET /_/oidc/audience`.
    Audience,
    /// `POST /_/oidc/mint-token` with `{"token": <forged>}` or a raw `body`.
    Mint,
    /// Any HTTP request: `method`, `path`, optional `body` and `content_type`.
    Request,
    /// `POST /legacy/` with a generated distribution, authenticated as `__token__`.
    Upload,
    /// The same mint request `count` times at once (replay races, R-JTI-4).
    MintConcurrent,
    /// A change to a mock issuer between requests (key rotation, JWKS faults); sends nothing
    /// to the target and expects nothing.
    Issuer,
    /// Moves the target's clock `advance_seconds` forward (a minted token ages); expects
    /// nothing. Targets without a clock control are unsupported.
    Clock,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Audience => "audience",
            Action::Mint => "mint",
            Action::Request => "request",
            Action::Upload => "upload",
            Action::MintConcurrent => "mint-concurrent",
            Action::Issuer => "issuer",
            Action::Clock => "clock",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Name later steps use in `${steps.NAME.token}`; default `step1`, `step2`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: Action,
    /// The token to forge (mint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<TokenSpec>,
    /// A raw request body instead of `{"token": ...}`; `${steps.NAME.token}` is substituted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// For `request`: the method (default GET) and path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// For `upload`: what to upload and with which token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadSpec>,
    /// Why this refusal has no positive twin (the fixture itself refuses every token, as in
    /// check-order scenarios). Without it, a refusal of a token with defects is first
    /// checked against the same token without them, which must mint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_twin: Option<String>,
    /// The positive twin, spelled out: a token that differs from `token` only where the
    /// step's refusal is caused and that must mint against a fresh copy of the fixture.
    /// Needed by refusals whose cause is a claim value rather than a defect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin: Option<TokenSpec>,
    /// How the step is judged where the spec allows more than one answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// For `mint-concurrent`: how many identical requests are sent at once (default 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// For `issuer`: what changes at which mock issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<IssuerChange>,
    /// For `clock`: how many seconds the target's time moves on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance_seconds: Option<f64>,
    #[serde(default)]
    pub expect: Expect,
}

/// A legitimate divergence (spec §2, §17): what a run at a level accepts instead of the
/// step's `expect`. `core` applies to core runs; `pypi-exact`, if given, to pypi-exact runs
/// (otherwise those judge `expect` exactly).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub core: Answer,
    #[serde(
        default,
        rename = "pypi-exact",
        skip_serializing_if = "Option::is_none"
    )]
    pub pypi_exact: Option<Answer>,
    /// Why more than one answer is right.
    pub reason: String,
}

/// The answers a graded step may get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// Minted: 200 with a non-empty string `token` (and what a success answer carries).
    Accept,
    /// Refused: 422 with the error envelope and any code of the spec.
    Reject,
    /// Refused by a body-size limit (§17 item 5): 413, or `reject`.
    TooLarge,
    /// Either `accept` or `reject`, each judged as such.
    Either,
}

impl Answer {
    pub fn name(self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Reject => "reject",
            Answer::TooLarge => "too-large",
            Answer::Either => "either",
        }
    }
}

/// A change to the mock issuer of one provider. Keys are `mintcheck-primary` (signs and is
/// published at start), `mintcheck-next`, `mintcheck-small` (1024 bits); faults as
/// `mintcheck issuer --help` lists them, or `none`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerChange {
    /// `github` (default), `gitlab`, `google` or `activestate`.
    #[serde(default = "default_provider")]
    pub provider: String,
    /// Publish `mintcheck-next` and sign with it (the old key stays published).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rotate: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// Publish a key's JWK changed (the key still signs as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<JwkChange>,
    /// Publish this entry in the JWKS after the keys, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_jwk: Option<Value>,
}

/// A published JWK with members set (any JSON) and then members removed, e.g.
/// `{ kid = "mintcheck-next", set = { alg = "PS256" } }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwkChange {
    pub kid: String,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub set: serde_json::Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

fn default_provider() -> String {
    "github".to_owned()
}

/// A distribution upload to the legacy endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadSpec {
    /// The metadata `name` (what decides the project, after normalisation).
    pub name: String,
    #[serde(default = "default_version")]
    pub version: String,
    /// The API token (password for `__token__`), e.g. `${steps.mint.token}`.
    pub token: String,
}

fn default_version() -> String {
    "1.0.0".to_owned()
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The HTTP status; also decides the expected decision (2xx: minted, uploaded,
    /// answered; anything else: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Checked<u16>>,
    /// `errors[0].code` of the 422 envelope, or one of several; also requires the
    /// envelope's shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Checked<Codes>>,
    /// `errors[0].description`.
    #[serde(default, skip_serializing_if = "TextMatches::is_empty")]
    pub description: TextMatches,
    /// The body as JSON: values compared exactly, except strings `$type:T` (T = string,
    /// integer, number, boolean, array, object, null) and `$matches:REGEX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<JsonMatch>,
    /// The body as text.
    #[serde(default, skip_serializing_if = "TextMatches::is_empty")]
    pub body: TextMatches,
    /// The HTTP/1.1 reason phrase of the status line (where the legacy upload puts its message).
    #[serde(default, skip_serializing_if = "TextMatches::is_empty")]
    pub reason: TextMatches,
    /// For `mint-concurrent`: how many requests must succeed (200). The others are checked
    /// against `status`, `code` and `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successes: Option<usize>,
    /// What the target asked the mock issuers since the scenario began, by endpoint
    /// (`discovery`, `jwks`, `attacker-jku`, `attacker-x5u`), e.g. `{ jwks = { max = 1 } }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub issuer_requests: BTreeMap<String, CountRange>,
    /// Response headers (names case-insensitive).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, TextMatch>,
}

impl Expect {
    /// The expected status, if one is given.
    pub fn status_value(&self) -> Option<u16> {
        self.status.as_ref().map(|s| s.value)
    }

    /// The expected codes above core, if any are given.
    pub fn codes(&self) -> Option<&[String]> {
        self.code.as_ref().map(|c| c.value.0.as_slice())
    }
}

/// Why a check is made, where the default (the scenario's level and rules, a MUST) is not
/// right: the level at which it is judged, the rule demanding it and how strongly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grading {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<Strength>,
}

impl Grading {
    pub fn is_default(&self) -> bool {
        self == &Grading::default()
    }
}

/// An expected value, written plainly (`status = 422`) or as a table that grades it
/// (`status = { value = 405, level = "pypi-exact", rule = "R-EP-5" }`), or says what core
/// accepts instead (`code = { value = "invalid-publisher", core = ["invalid-publisher",
/// "invalid-token"] }`: the exact value above core).
#[derive(Clone, Debug, PartialEq)]
pub struct Checked<T> {
    pub value: T,
    /// What a core run judges instead of `value`.
    pub core: Option<T>,
    pub grading: Grading,
}

impl<T> From<T> for Checked<T> {
    fn from(value: T) -> Self {
        Checked {
            value,
            core: None,
            grading: Grading::default(),
        }
    }
}

impl<T> Checked<T> {
    /// The value a run at `level` judges.
    pub fn at(&self, level: Level) -> &T {
        match (&self.core, level) {
            (Some(core), Level::Core) => core,
            _ => &self.value,
        }
    }
}

impl<T: Serialize> Serialize for Checked<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.grading.is_default() && self.core.is_none() {
            return self.value.serialize(serializer);
        }
        #[derive(Serialize)]
        struct Table<'a, T> {
            value: &'a T,
            #[serde(skip_serializing_if = "Option::is_none")]
            core: Option<&'a T>,
            #[serde(flatten)]
            grading: &'a Grading,
        }
        Table {
            value: &self.value,
            core: self.core.as_ref(),
            grading: &self.grading,
        }
        .serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const KEYS: &str = "`value`, `core`, `level`, `rule`, `strength`";
        let raw = Value::deserialize(deserializer)?;
        let Value::Object(mut table) = raw else {
            return T::deserialize(raw)
                .map(Checked::from)
                .map_err(D::Error::custom);
        };
        if let Some(key) = table.keys().find(|k| !KEYS.contains(&format!("`{k}`"))) {
            return Err(D::Error::custom(format!(
                "unknown field `{key}`, expected one of {KEYS}"
            )));
        }
        let value = table.remove("value").ok_or_else(|| {
            D::Error::custom(format!("missing field `value` (the table's keys: {KEYS})"))
        })?;
        let core = table
            .remove("core")
            .map(|core| T::deserialize(core).map_err(D::Error::custom))
            .transpose()?;
        Ok(Checked {
            value: T::deserialize(value).map_err(D::Error::custom)?,
            core,
            grading: Grading::deserialize(Value::Object(table)).map_err(D::Error::custom)?,
        })
    }
}

/// One error code, or several of which the answer may give any (`["invalid-payload",
/// "invalid-token"]` where §17 leaves the choice open).
#[derive(Clone, Debug, PartialEq)]
pub struct Codes(pub Vec<String>);

impl Serialize for Codes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Codes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        match Raw::deserialize(deserializer) {
            Ok(Raw::One(code)) => Ok(Codes(vec![code])),
            Ok(Raw::Many(codes)) if !codes.is_empty() => Ok(Codes(codes)),
            _ => Err(D::Error::custom(
                "an error code, or a non-empty array of error codes",
            )),
        }
    }
}

/// One text matcher, or several (an array of tables), each judged on its own: a SHOULD at
/// core beside the exact text at pypi-exact, say.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextMatches(pub Vec<TextMatch>);

impl TextMatches {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, TextMatch> {
        self.0.iter()
    }
}

impl Serialize for TextMatches {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for TextMatches {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Array(items) => items
                .into_iter()
                .map(|item| TextMatch::deserialize(item).map_err(D::Error::custom))
                .collect::<Result<_, _>>()
                .map(TextMatches),
            one => TextMatch::deserialize(one)
                .map(|m| TextMatches(vec![m]))
                .map_err(D::Error::custom),
        }
    }
}

/// A text expectation: exactly one of `exact`, `prefix`, `contains`, `regex`, and how it
/// is graded (default: the scenario's level and rules, a MUST).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<Strength>,
}

impl TextMatch {
    pub fn grading(&self) -> Grading {
        Grading {
            level: self.level,
            rule: self.rule.clone(),
            strength: self.strength,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
}

/// The mock-issuer endpoints an `issuer_requests` expectation may count.
pub const ISSUER_ENDPOINTS: [&str; 4] = ["discovery", "jwks", "attacker-jku", "attacker-x5u"];

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonMatch {
    pub value: Value,
    /// Members the expected objects do not name are allowed (at core, a body may carry
    /// more than the spec names).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<Strength>,
}

impl JsonMatch {
    pub fn grading(&self) -> Grading {
        Grading {
            level: self.level,
            rule: self.rule.clone(),
            strength: self.strength,
        }
    }
}

/// A loaded scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    /// Path under the scenarios folder without `.toml`, `/`-separated.
    pub id: String,
    #[serde(flatten)]
    pub file: ScenarioFile,
}

impl Scenario {
    /// Step names: given, or `stepN` (1-based).
    pub fn step_name(&self, index: usize) -> String {
        self.file.steps[index]
            .name
            .clone()
            .unwrap_or_else(|| format!("step{}", index + 1))
    }
}
