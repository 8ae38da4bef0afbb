//! What the registry would answer to one token, step by step, without the issuer's keys: the
//! engine of `mintcheck explain`. It runs the registry's own mint procedure
//! (`mint.rs`) on a registry of the caller's, with the key lookup and signature check
//! left out, and keeps a note of what each step found; so explain and the registry cannot
//! disagree about anything but the signature.
//!
//! ```no_run
//! # async fn demo() {
//! use reference_registry::explain::{Input, explain};
//! use reference_registry::{FixtureDocument, Registry, RegistryConfig};
//!
//! let registry = Registry::new(RegistryConfig::default());
//! registry.apply(&FixtureDocument::new()).unwrap();
//! let token = std::fs::read_to_string("token.jwt").unwrap();
//! let explanation = explain(&registry, &Input::Token(token.trim().to_owned())).await;
//! println!("{:?}", explanation.verdict);
//! # }
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::error::MintError;
use crate::fixture::Identity;
use crate::mint::{self, Run};
use crate::state::{Registry, stored_identity};

pub use crate::matching::table::{Comparison, FieldCheck};
pub use crate::mint::Step;

/// What to explain.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A compact JWT, as a CI provider issued it.
    Token(String),
    /// A token's claims (its payload), e.g. as a CI log printed them.
    Claims(Map<String, Value>),
}

/// How one step of R-ORDER-1 went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It passed; what it found.
    Passed(Vec<String>),
    /// It failed, deciding the answer.
    Failed(MintError),
    /// An earlier step failed.
    NotReached,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The nine steps in order.
    pub steps: Vec<(Step, Outcome)>,
    /// The registry's answer: `Ok` means it mints, provided the signature verifies.
    pub verdict: Result<(), MintError>,
    /// The token's header and claims, when the token parses.
    pub header: Option<Map<String, Value>>,
    pub claims: Option<Map<String, Value>>,
}

/// The header of tokens built from [`Input::Claims`].
const CLAIMS_HEADER: &str = r#"{"alg":"RS256","kid":"explain","typ":"JWT"}"#;

/// Runs the mint procedure on `input` against `registry`, whose state it changes as a mint
/// would (a pending publisher may create its project, the `jti` is recorded): use a
/// registry of its own.
pub async fn explain(registry: &Registry, input: &Input) -> Explanation {
    let token = match input {
        Input::Token(token) => token.clone(),
        Input::Claims(claims) => {
            let payload = serde_json::to_vec(claims).expect("a JSON object serializes");
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(CLAIMS_HEADER),
                URL_SAFE_NO_PAD.encode(payload)
            )
        }
    };
    let body = serde_json::to_vec(&json!({ "token": token })).expect("JSON serializes");
    let mut run = Run::offline();
    let result = mint::run(registry, &body, "pypi.org", &mut run).await;
    let mut notes = run.notes.take().unwrap_or_default();
    if let Input::Claims(_) = input {
        let built = "claims given: the token is built from them, with header {\"alg\":\"RS256\",\"kid\":\"explain\"}";
        notes.insert(0, (Step::Parse, built.to_owned()));
    }
    let steps = Step::ALL
        .into_iter()
        .map(|step| {
            let outcome = match &result {
                Err(error) if step == run.step => Outcome::Failed(error.clone()),
                Err(_) if step > run.step => Outcome::NotReached,
                _ => Outcome::Passed(
                    notes
                        .iter()
                        .filter(|(s, _)| *s == step)
                        .map(|(_, note)| note.clone())
                        .collect(),
                ),
            };
            (step, outcome)
        })
        .collect();
    let parsed = crate::jwt::parse(&token).ok();
    Explanation {
        steps,
        verdict: result.map(|_| ()),
        header: parsed.as_ref().map(|jwt| jwt.header.clone()),
        claims: parsed.map(|jwt| jwt.claims),
    }
}

/// Publisher matching between `identity` (as a fixture gives it) and a token with `claims`
/// and issuer `issuer`, one row per comparison. Every row passes exactly when the
/// registry's lookup and verification do, given the issuer guard and the required claims
/// pass ([`Provider::required_claims`](crate::fixture::Provider::required_claims)).
pub fn fields(identity: &Identity, claims: &Map<String, Value>, issuer: &str) -> Vec<FieldCheck> {
    crate::matching::fields(&stored_identity(identity), claims, issuer)
}
