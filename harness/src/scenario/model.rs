//! A scenario as the loader checked it (`validate`): what the runner needs, typed, so
//! nothing the loader checked is checked again and no case the loader rules out has to be
//! handled.

use mock_issuer::{JwksFault, Provider, TokenSpec};
use serde_json::Value;

pub use super::expect::{
    Answer, Checked, Codes, CountRange, Expect, Grade, Grading, ISSUER_ENDPOINTS, JsonMatch,
    TextMatch, TextMatches,
};
pub use super::file::{Action, JwkChange, UploadSpec};
pub use super::fixture::{CustomIssuer, Fixture, Flag};
pub use crate::spec::grading::{Level, Strength};

/// A loaded scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Path under the scenarios folder without `.toml`, `/`-separated.
    pub id: String,
    pub title: String,
    pub requirement: String,
    /// Spec rule IDs, each a rule of the spec.
    pub rules: Vec<String>,
    pub level: Level,
    pub tags: Vec<String>,
    pub fixture: Fixture,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug)]
pub struct Step {
    /// As given, or `stepN` (1-based): what `${steps.NAME.…}` and reports call it.
    pub name: String,
    pub kind: StepKind,
}

#[derive(Clone, Debug)]
pub enum StepKind {
    /// A change to a mock issuer between requests; sends nothing to the target.
    Issuer(Box<IssuerChange>),
    /// Moves the target's clock this many seconds on (finite, not negative).
    Clock(f64),
    /// A request to the target and what its answer must be.
    Exchange(Box<Exchange>),
}

#[derive(Clone, Debug)]
pub struct Exchange {
    pub request: Request,
    /// The `Accept` header sent, if any.
    pub accept: Option<String>,
    pub expect: Expect,
}

impl Exchange {
    /// Whether the request is a PEP 807 client's: its `Accept` names the PEP's media type,
    /// so every error must be problem details (R-807-ERR-1).
    pub fn asks_pep807(&self) -> bool {
        use reference_registry::pep807::{Accepted, accepted};
        accepted(self.accept.as_deref()) == Accepted::Pep807
    }
}

#[derive(Clone, Debug)]
pub enum Request {
    /// `GET /_/oidc/audience`.
    Audience,
    Mint(Mint),
    /// The same mint request `count` times at once; `successes` of them must mint.
    MintConcurrent {
        send: MintSend,
        count: usize,
        successes: usize,
    },
    /// Any HTTP request.
    Http(HttpRequest),
    /// `POST /legacy/` with a generated distribution.
    Upload(UploadSpec),
    /// PEP 807 discovery for an upload URL with this path.
    Discover {
        upload_path: String,
    },
}

impl Request {
    pub fn action(&self) -> Action {
        match self {
            Request::Audience => Action::Audience,
            Request::Mint(_) => Action::Mint,
            Request::MintConcurrent { .. } => Action::MintConcurrent,
            Request::Http(_) => Action::Request,
            Request::Upload(_) => Action::Upload,
            Request::Discover { .. } => Action::Discover,
        }
    }

    /// Whether the target answers by minting or refusing a token.
    pub fn is_mint(&self) -> bool {
        matches!(self, Request::Mint(_) | Request::MintConcurrent { .. })
    }

    /// The grade that replaces `expect` where the spec allows more than one answer.
    pub fn grade(&self) -> Option<&Grade> {
        match self {
            Request::Mint(mint) => mint.grade.as_ref(),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Mint {
    pub send: MintSend,
    pub twin: Twin,
    pub grade: Option<Grade>,
}

/// A mint request: what it carries, where it goes.
#[derive(Clone, Debug)]
pub struct MintSend {
    pub payload: Payload,
    /// `/_/oidc/mint-token` unless the scenario says otherwise.
    pub path: String,
    /// `application/json` unless the scenario says otherwise.
    pub content_type: Option<String>,
    /// PEP 807 features, sent beside the token as `features`.
    pub features: Option<Vec<String>>,
}

#[derive(Clone, Debug)]
pub enum Payload {
    /// `{"token": <the forged token>}`.
    Token(TokenSpec),
    /// A body as written, `${steps.NAME.FIELD}` filled in.
    Body(String),
}

/// The positive twin of a refused token: the same token where the refusal's cause is
/// removed, which must mint against a fresh copy of the fixture, so the refusal is shown to
/// have that cause.
#[derive(Clone, Debug, PartialEq)]
pub enum Twin {
    /// The step's token without its defects (no twin where it has none).
    WithoutDefects,
    /// Spelled out by the step.
    Given(TokenSpec),
    /// None, for the reason the step gives.
    Waived,
}

#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// Upper case.
    pub method: String,
    pub path: String,
    /// `${steps.NAME.FIELD}` filled in.
    pub body: Option<String>,
    pub content_type: Option<String>,
}

/// A change to the mock issuer of one provider; the keys named are the mock's.
#[derive(Clone, Debug)]
pub struct IssuerChange {
    pub provider: Provider,
    /// Publish `mintcheck-next` and sign with it (the old key stays published).
    pub rotate: bool,
    pub publish: Option<String>,
    pub retire: Option<String>,
    pub sign_with: Option<String>,
    pub fault: Option<FaultChange>,
    pub jwk: Option<JwkChange>,
    /// A JWKS entry (a JSON object) published after the keys, verbatim.
    pub add_jwk: Option<Value>,
    /// The change as written, for reports.
    pub written: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultChange {
    Set(JwksFault),
    /// `fault = "none"`: the issuer answers normally again.
    Clear,
}
