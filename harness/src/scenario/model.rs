//! The scenario file format (documented in `scenarios/README.md`). One TOML file is one
//! scenario; its path under the scenarios folder, without `.toml`, is its ID.

use std::collections::BTreeMap;
use std::fmt;

use mock_issuer::TokenSpec;
use reference_registry::fixture::{PendingPublisher, Publisher, UsedJti};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which rules are judged: `core` < `pypi-exact`; `info` is recorded, never judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Core,
    PypiExact,
    Info,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Core => "core",
            Level::PypiExact => "pypi-exact",
            Level::Info => "info",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "core" => Ok(Level::Core),
            "pypi-exact" => Ok(Level::PypiExact),
            "info" => Ok(Level::Info),
            _ => Err(format!(
                "unknown level {text:?}: expected core, pypi-exact or info"
            )),
        }
    }
}

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
    /// 200 with the success envelope.
    Accept,
    /// A 4xx refusal; a 422 must be the error envelope with a code of the spec.
    Reject,
    /// Either of those: never a 5xx, never a malformed 200 or 422.
    Either,
}

impl Answer {
    pub fn name(self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Reject => "reject",
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `errors[0].code` of the 422 envelope; also requires the envelope's shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `errors[0].description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<TextMatch>,
    /// The body as JSON: values compared exactly, except strings `$type:T` (T = string,
    /// integer, number, boolean, array, object, null) and `$matches:REGEX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<JsonMatch>,
    /// The body as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TextMatch>,
    /// The HTTP/1.1 reason phrase of the status line (where the legacy upload puts its message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<TextMatch>,
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

/// A text expectation: exactly one of `exact`, `prefix`, `contains`, `regex`, and the level
/// at which it is judged (default: the scenario's level).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
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
