//! What any target must do whatever it is sent (the invariants), what a case's own input
//! says must be refused (`doom`), and the comparison with the reference registry
//! (`reference`).

mod doom;
mod pep807;
mod reference;
#[cfg(test)]
pub(crate) mod tests;

pub use doom::{Doom, doom};
pub use reference::{compare, decided_by};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use mock_issuer::{ForgedToken, Provider};
use reference_registry::{FixtureDocument, normalize};
use serde_json::Value;

use super::case::{Case, Credential};
use super::endpoint::NoAnswer;
use super::exchange::{Exchange, StepKind};
use crate::rig::transport::Response;
use crate::suite::check::{is_error_envelope, is_success_envelope};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Invariant {
    /// Every request gets an HTTP answer within the timeout.
    Answered,
    /// No request gets a 5xx.
    NoServerError,
    /// A mint answer is 200 with the success envelope or 422 with the error envelope.
    MintEnvelope,
    /// A token failing the signature, time, audience, issuer or enablement checks never mints.
    RefusesInvalidTokens,
    /// A GitHub or GitLab token with a `jti` mints once.
    SingleUse,
    /// An upload succeeds only with a minted API token and only for a project it may reach.
    UploadScope,
    /// Status and code equal the reference registry's (the differential oracle).
    SameAsReference,
    /// PEP 807: a discovery answer of 200 names endpoints on the upload URL's host.
    DiscoverySameHost,
    /// PEP 807: a single-use credential authorises one upload.
    SingleUseCredential,
}

impl Invariant {
    pub const ALL: [Invariant; 9] = [
        Invariant::Answered,
        Invariant::NoServerError,
        Invariant::MintEnvelope,
        Invariant::RefusesInvalidTokens,
        Invariant::SingleUse,
        Invariant::UploadScope,
        Invariant::SameAsReference,
        Invariant::DiscoverySameHost,
        Invariant::SingleUseCredential,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Invariant::Answered => "answered",
            Invariant::NoServerError => "no-server-error",
            Invariant::MintEnvelope => "mint-envelope",
            Invariant::RefusesInvalidTokens => "refuses-invalid-tokens",
            Invariant::SingleUse => "single-use",
            Invariant::UploadScope => "upload-scope",
            Invariant::SameAsReference => "same-as-reference",
            Invariant::DiscoverySameHost => "discovery-same-host",
            Invariant::SingleUseCredential => "single-use-credential",
        }
    }

    /// The requirement, as a scenario states it.
    pub fn requirement(self) -> &'static str {
        match self {
            Invariant::Answered => "The registry MUST answer every request.",
            Invariant::NoServerError => {
                "The registry MUST answer every request, however malformed, without a server error."
            }
            Invariant::MintEnvelope => {
                "A mint answer MUST be 200 with the success envelope or 422 with the error envelope and a code of the spec."
            }
            Invariant::RefusesInvalidTokens => {
                "The registry MUST NOT mint for a token that fails the signature, time, audience, issuer or enablement checks."
            }
            Invariant::SingleUse => "A GitHub or GitLab token that has minted MUST NOT mint again.",
            Invariant::UploadScope => {
                "An upload MUST succeed only with a valid minted API token and only for a project of its publisher."
            }
            Invariant::SameAsReference => {
                "The registry MUST answer with the status and code PyPI's rules give (the reference registry's)."
            }
            Invariant::DiscoverySameHost => {
                "A PEP 807 discovery answer MUST name its endpoints as absolute URLs on the upload URL's host, https or loopback."
            }
            Invariant::SingleUseCredential => {
                "A credential minted with single-use-token MUST NOT authorise a second upload."
            }
        }
    }
}

impl fmt::Display for Invariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A broken invariant: which, under which spec rule, at which step, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub invariant: Invariant,
    pub rule: String,
    pub step: String,
    pub message: String,
}

impl Violation {
    /// What makes two failures the same fault: shrinking keeps it, reports count repeats.
    pub fn signature(&self) -> (Invariant, String) {
        (self.invariant, self.rule.clone())
    }
}

/// The trusted issuers of a fixture document: `iss` → provider and published `kid`s.
pub struct Trust(BTreeMap<String, (Provider, BTreeSet<String>)>);

impl Trust {
    pub fn of(document: &FixtureDocument) -> Trust {
        let issuers = document.issuers.iter().map(|issuer| {
            let kids = issuer
                .jwks
                .as_ref()
                .and_then(|jwks| jwks.get("keys")?.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|key| Some(key.get("kid")?.as_str()?.to_owned()))
                .collect();
            (issuer.issuer.clone(), (issuer.provider, kids))
        });
        Trust(issuers.collect())
    }
}

/// Bodies larger than this may get 413 (§17 item 5: size limits are not judged). Smaller
/// ones may not: real tokens are a few KiB.
pub const SIZE_LIMIT_FLOOR: usize = 8 * 1024;

/// The invariants over what the target answered; the first violation of each step, in
/// step order. `origin` is where the requests went (`http://127.0.0.1:8000`): what
/// discovery must answer with.
pub fn check(
    case: &Case,
    token: Option<&ForgedToken>,
    doomed: Option<&Doom>,
    exchanges: &[Exchange],
    origin: &str,
) -> Vec<Violation> {
    let mut violations: Vec<Violation> = exchanges
        .iter()
        .filter_map(|exchange| {
            let (invariant, rule, message) = violation(case, token, doomed, exchange, origin)?;
            Some(Violation {
                invariant,
                rule: rule.to_owned(),
                step: exchange.step_name(),
                message,
            })
        })
        .collect();
    let reused = pep807::single_use(case, exchanges);
    let already = |step: &str| violations.iter().any(|v| v.step == step);
    if let Some((step, message)) = reused.filter(|(step, _)| !already(step)) {
        violations.push(Violation {
            invariant: Invariant::SingleUseCredential,
            rule: "R-807-FEAT-1".to_owned(),
            step,
            message,
        });
    }
    violations
}

/// The invariant one exchange breaks first, the rule, and what happened.
fn violation(
    case: &Case,
    token: Option<&ForgedToken>,
    doomed: Option<&Doom>,
    exchange: &Exchange,
    origin: &str,
) -> Option<(Invariant, &'static str, String)> {
    let answer = match &exchange.result {
        Ok(answer) => &answer.response,
        Err(no_answer) => {
            let what = match no_answer {
                NoAnswer::Timeout(_) => "no answer in time",
                NoAnswer::Failed(_) => "the connection failed",
            };
            let message = format!("{what}: {no_answer}");
            return Some((Invariant::Answered, "R-RESP-6", message));
        }
    };
    // Discovery may fail with any 4xx or 5xx (R-807-DISC-5).
    if answer.status >= 500 && exchange.kind != StepKind::Discover {
        let rule = match exchange.kind {
            StepKind::Mint | StepKind::Replay | StepKind::Discover => "R-RESP-6",
            StepKind::Upload(_) => "R-UP-1",
        };
        let body = crate::rig::transport::shorten(&answer.body);
        let message = format!("HTTP {}: {body}", answer.status);
        return Some((Invariant::NoServerError, rule, message));
    }
    match exchange.kind {
        StepKind::Discover => (answer.status == 200)
            .then(|| pep807::discovery(answer, origin))
            .flatten(),
        StepKind::Mint | StepKind::Replay => {
            let size = exchange.request.body.as_ref().map_or(0, Vec::len);
            if let Some((rule, message)) = envelope_problem(answer, size) {
                return Some((Invariant::MintEnvelope, rule, message));
            }
            (answer.status == 200)
                .then(|| minted_violation(exchange.kind, token, doomed))
                .flatten()
        }
        StepKind::Upload(index) => (answer.status == 200)
            .then(|| upload_violation(case, index))
            .flatten(),
    }
}

/// A mint or replay that minted: doomed tokens must not, nor single-use tokens twice.
fn minted_violation(
    kind: StepKind,
    token: Option<&ForgedToken>,
    doomed: Option<&Doom>,
) -> Option<(Invariant, &'static str, String)> {
    if kind == StepKind::Mint {
        let doom = doomed?;
        let message = format!("minted, but {}", doom.why);
        return Some((Invariant::RefusesInvalidTokens, doom.rule, message));
    }
    let token = token.filter(|t| single_use(t))?;
    let jti = token
        .claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let message = format!("the token with jti {jti:?} minted a second time");
    Some((Invariant::SingleUse, "R-JTI-1", message))
}

/// An upload that succeeded: only with the minted token, only to the fixture's projects.
fn upload_violation(case: &Case, index: usize) -> Option<(Invariant, &'static str, String)> {
    let attempt = &case.uploads[index];
    let message = if attempt.credential != Credential::Minted {
        format!(
            "an upload with {} succeeded",
            credential_described(attempt.credential)
        )
    } else if !reachable(case).contains(&normalize(&attempt.name)) {
        format!(
            "an upload of {:?} succeeded, a project no publisher of the fixture has",
            attempt.name
        )
    } else {
        return None;
    };
    Some((Invariant::UploadScope, "R-TOK-4", message))
}

fn credential_described(credential: Credential) -> &'static str {
    match credential {
        Credential::Minted => "the minted API token",
        Credential::OidcToken => "the OIDC token as the password",
        Credential::Tampered => "a tampered API token",
    }
}

/// R-JTI-1 at core: GitHub and GitLab tokens with a `jti`.
fn single_use(token: &ForgedToken) -> bool {
    let iss = token.claims.get("iss").and_then(Value::as_str);
    let jti = token.claims.get("jti").and_then(Value::as_str);
    let provider_has_it = [Provider::Github, Provider::Gitlab]
        .iter()
        .any(|p| iss == Some(p.canonical_issuer()));
    provider_has_it && jti.is_some_and(|j| !j.is_empty())
}

/// The `normalize`d names a minted token could reach: the fixture's projects and the
/// projects its pending publishers would create. Uploads elsewhere never succeed.
fn reachable(case: &Case) -> BTreeSet<String> {
    let fixture = &case.fixture;
    fixture
        .projects
        .iter()
        .chain(fixture.pending_publishers.iter().map(|p| &p.project_name))
        .map(|name| normalize(name))
        .collect()
}

/// What is wrong with a mint answer's shape, with the rule it breaks.
fn envelope_problem(answer: &Response, request_size: usize) -> Option<(&'static str, String)> {
    let body = crate::rig::transport::shorten(&answer.body);
    match answer.status {
        200 if is_success_envelope(answer) => None,
        200 => Some((
            "R-RESP-3",
            format!("200 without the success envelope: {body}"),
        )),
        422 if is_error_envelope(answer) => None,
        422 => Some((
            "R-RESP-6",
            format!("422 without the error envelope of a spec code: {body}"),
        )),
        413 if request_size > SIZE_LIMIT_FLOOR => None,
        status => Some((
            "R-RESP-6",
            format!("HTTP {status} (a mint failure is 422): {body}"),
        )),
    }
}
