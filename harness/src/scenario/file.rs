//! The scenario file format as written (documented in `scenarios/README.md`, schema in
//! `scenarios/schema/`). One TOML file is one scenario; its path under the scenarios folder,
//! without `.toml`, is its ID. The loader checks a file and turns it into the typed model
//! of [`super::model`]; the fuzzer writes files in this form.

use std::sync::LazyLock;

use mock_issuer::TokenSpec;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::expect::{ExpectTable, Grade};
use super::fixture::FixtureTable;
use crate::spec::grading::Level;

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
    pub fixture: FixtureTable,
    #[serde(rename = "step")]
    pub steps: Vec<StepTable>,
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
    /// PEP 807 discovery: `GET /.well-known/pytp?discover=<upload_path, percent-encoded>`.
    Discover,
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
            Action::Discover => "discover",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTable {
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
    pub issuer: Option<IssuerTable>,
    /// For `clock`: how many seconds the target's time moves on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance_seconds: Option<f64>,
    /// For `discover`: the upload URL's path whose discovery is asked (default `/legacy/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_path: Option<String>,
    /// The `Accept` header sent (`""`: none). Default: PEP 807's media type for `discover`,
    /// none for the other requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
    /// For `mint` with a `token`: PEP 807 features asked for, sent as the body's `features`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
    #[serde(default)]
    pub expect: ExpectTable,
}

/// A change to the mock issuer of one provider. Keys are `mintcheck-primary` (signs and is
/// published at start), `mintcheck-next`, `mintcheck-small` (1024 bits); faults as
/// `mintcheck issuer --help` lists them, or `none`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerTable {
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

/// `${steps.NAME.FIELD}`: the loader checks these references and the runner fills them in,
/// so both read them with this one pattern (compiled once).
pub static STEP_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{steps\.([A-Za-z0-9_-]+)\.([A-Za-z_]+)\}").expect("a valid pattern")
});

/// `(step name, field)` of every `${steps.NAME.FIELD}` in a text.
pub fn references(text: &str) -> Vec<(String, String)> {
    STEP_REFERENCE
        .captures_iter(text)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect()
}
