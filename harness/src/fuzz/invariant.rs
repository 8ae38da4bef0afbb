//! What any target must do whatever it is sent (the invariants), what a case's own input
//! says must be refused, and the comparison with the reference registry.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use mock_issuer::{Defect, ForgedToken, Provider};
use reference_registry::{FixtureDocument, normalize};
use serde_json::Value;

use super::case::{Case, Credential};
use super::endpoint::NoAnswer;
use super::exchange::{Exchange, StepKind};
use crate::check::{Response, is_error_envelope, is_success_envelope};

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
}

impl Invariant {
    pub const ALL: [Invariant; 7] = [
        Invariant::Answered,
        Invariant::NoServerError,
        Invariant::MintEnvelope,
        Invariant::RefusesInvalidTokens,
        Invariant::SingleUse,
        Invariant::UploadScope,
        Invariant::SameAsReference,
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
        let issuers = document.issuers.iter().filter_map(|issuer| {
            let provider = crate::issuers::provider_named(
                serde_json::to_value(issuer.provider).ok()?.as_str()?,
            )?;
            let kids = issuer
                .jwks
                .as_ref()
                .and_then(|jwks| jwks.get("keys")?.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|key| Some(key.get("kid")?.as_str()?.to_owned()))
                .collect();
            Some((issuer.issuer.clone(), (provider, kids)))
        });
        Trust(issuers.collect())
    }
}

/// Why the case's token can never mint at core, and the rule that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Doom {
    pub why: String,
    pub rule: &'static str,
}

/// Seconds of leeway R-TIME-1 allows at most: beyond it every core registry refuses.
const CORE_LEEWAY: f64 = 60.0;

/// The first reason the forged token fails at core, from what was actually sent.
pub fn doom(case: &Case, token: &ForgedToken, trust: &Trust, now: f64) -> Option<Doom> {
    let spec = case.token()?;
    let doom = |why: String, rule| Some(Doom { why, rule });
    if spec
        .defects
        .iter()
        .any(|d| matches!(d, Defect::Malformed(_)))
    {
        return doom("the token is not a compact JWS".into(), "R-JWT-1");
    }
    let claims = token.claims.as_object()?;
    let header = token.header.as_object()?;
    let Some((provider, kids)) = claims
        .get("iss")
        .and_then(Value::as_str)
        .and_then(|iss| trust.0.get(iss))
    else {
        return doom(
            format!("iss {} is not a trusted issuer", shown(claims.get("iss"))),
            "R-ISS-3",
        );
    };
    let flags = &case.fixture.flags;
    let provider_flag = format!("disallow-{}-oidc", provider.name());
    if let Some(flag) = flags
        .iter()
        .find(|f| **f == "disallow-oidc" || **f == provider_flag)
    {
        return doom(format!("the fixture sets {flag}"), "R-FLAG-1");
    }
    match header.get("alg").and_then(Value::as_str) {
        None => return doom("the header has no string alg".into(), "R-SIG-3"),
        Some(alg)
            if alg.eq_ignore_ascii_case("none") || alg.to_ascii_uppercase().starts_with("HS") =>
        {
            return doom(format!("alg is {alg:?}"), "R-SIG-3");
        }
        Some(_) => {}
    }
    if let Some(defect) = spec.defects.iter().find(|d| breaks_signature(d)) {
        return doom(
            format!("{defect}: the signature is not the issuer's"),
            "R-SIG-5",
        );
    }
    if *provider != spec.profile().provider() {
        return doom(
            format!(
                "signed by the {} key but iss names {provider}",
                spec.profile().provider()
            ),
            "R-SIG-5",
        );
    }
    if let Some(kid) = header.get("kid").and_then(Value::as_str)
        && !kids.contains(kid)
    {
        return doom(format!("kid {kid:?} is not published"), "R-JWKS-6");
    }
    for (name, late) in [("exp", false), ("iat", true), ("nbf", true)] {
        match claims.get(name) {
            None | Some(Value::Null) if name != "nbf" => {
                return doom(format!("{name} is absent"), "R-CLAIM-1");
            }
            Some(Value::Number(at)) => {
                let at = at.as_f64().unwrap_or_default();
                if late && at > now + CORE_LEEWAY {
                    return doom(
                        format!("{name} is {:.1} s in the future", at - now),
                        "R-TIME-1",
                    );
                }
                if !late && at < now - CORE_LEEWAY {
                    return doom(format!("exp was {:.1} s ago", now - at), "R-TIME-1");
                }
            }
            _ => {}
        }
    }
    let audience = case.fixture.audience.as_deref().unwrap_or("pypi");
    let fits = match claims.get("aud") {
        None | Some(Value::Null) => return doom("aud is absent".into(), "R-CLAIM-1"),
        Some(Value::String(aud)) => aud == audience,
        // One-element arrays are a legitimate divergence (graded in the suite).
        Some(Value::Array(auds)) => auds.iter().any(|a| a == audience),
        Some(_) => false,
    };
    if !fits {
        return doom(
            format!("aud {} is not {audience:?}", shown(claims.get("aud"))),
            "R-CLAIM-2",
        );
    }
    None
}

fn breaks_signature(defect: &Defect) -> bool {
    matches!(
        defect,
        Defect::BadSignature
            | Defect::OtherIssuerKey(_)
            | Defect::CorruptedSignature
            | Defect::StrippedSignature
            | Defect::TruncatedSignature
            | Defect::UnknownKid
            | Defect::JkuInjection
            | Defect::JwkInjection
            | Defect::X5uInjection
            | Defect::X5cInjection
    )
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(
        || "(absent)".to_owned(),
        |v| crate::check::shorten(&v.to_string()),
    )
}

/// Bodies larger than this may get 413 (§17 item 5: size limits are not judged). Smaller
/// ones may not: real tokens are a few KiB.
pub const SIZE_LIMIT_FLOOR: usize = 8 * 1024;

/// The invariants over what the target answered; the first violation of each step, in
/// step order.
pub fn check(
    case: &Case,
    token: Option<&ForgedToken>,
    doomed: Option<&Doom>,
    exchanges: &[Exchange],
) -> Vec<Violation> {
    let mut found = Vec::new();
    for exchange in exchanges {
        let step = exchange.step_name();
        let mut violated = |invariant, rule: &str, message: String| {
            found.push(Violation {
                invariant,
                rule: rule.to_owned(),
                step: step.clone(),
                message,
            })
        };
        let answer = match &exchange.result {
            Ok(answer) => &answer.response,
            Err(no_answer) => {
                let what = match no_answer {
                    NoAnswer::Timeout(_) => "no answer in time",
                    NoAnswer::Failed(_) => "the connection failed",
                };
                violated(
                    Invariant::Answered,
                    "R-RESP-6",
                    format!("{what}: {no_answer}"),
                );
                continue;
            }
        };
        if answer.status >= 500 {
            let rule = if exchange.kind == StepKind::Mint || exchange.kind == StepKind::Replay {
                "R-RESP-6"
            } else {
                "R-UP-1"
            };
            violated(
                Invariant::NoServerError,
                rule,
                format!(
                    "HTTP {}: {}",
                    answer.status,
                    crate::check::shorten(&answer.body)
                ),
            );
            continue;
        }
        match exchange.kind {
            StepKind::Mint | StepKind::Replay => {
                let size = exchange.request.body.as_ref().map_or(0, Vec::len);
                if let Some(problem) = envelope_problem(answer, size) {
                    violated(Invariant::MintEnvelope, problem.0, problem.1);
                    continue;
                }
                if answer.status != 200 {
                    continue;
                }
                if exchange.kind == StepKind::Mint {
                    if let Some(doom) = doomed {
                        violated(
                            Invariant::RefusesInvalidTokens,
                            doom.rule,
                            format!("minted, but {}", doom.why),
                        );
                    }
                } else if let Some(token) = token.filter(|t| single_use(t)) {
                    let jti = token
                        .claims
                        .get("jti")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    violated(
                        Invariant::SingleUse,
                        "R-JTI-1",
                        format!("the token with jti {jti:?} minted a second time"),
                    );
                }
            }
            StepKind::Upload(index) => {
                let attempt = &case.uploads[index];
                if answer.status != 200 {
                    continue;
                }
                if attempt.credential != Credential::Minted {
                    violated(
                        Invariant::UploadScope,
                        "R-TOK-4",
                        format!(
                            "an upload with {} succeeded",
                            credential_described(attempt.credential)
                        ),
                    );
                } else if !reachable(case).contains(&normalize(&attempt.name)) {
                    violated(
                        Invariant::UploadScope,
                        "R-TOK-4",
                        format!(
                            "an upload of {:?} succeeded, a project no publisher of the fixture has",
                            attempt.name
                        ),
                    );
                }
            }
        }
    }
    found
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
    let body = crate::check::shorten(&answer.body);
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

/// The first step where the target's status (and code, for 422) differs from the
/// reference's, as a violation of the rule that decided the reference's answer.
pub fn compare(case: &Case, target: &[Exchange], reference: &[Exchange]) -> Option<Violation> {
    for (ours, theirs) in target.iter().zip(reference) {
        let (Some(status), Some(expected)) = (ours.status(), theirs.status()) else {
            continue;
        };
        let size = ours.request.body.as_ref().map_or(0, Vec::len);
        if status == 413 && size > SIZE_LIMIT_FLOOR {
            continue;
        }
        if status == expected && ours.code() == theirs.code() {
            continue;
        }
        let rule = if expected == 200 {
            suspect_rule(case, ours)
        } else {
            decided_by(theirs)
        };
        return Some(Violation {
            invariant: Invariant::SameAsReference,
            rule,
            step: ours.step_name(),
            message: format!(
                "the target answered {}, the reference registry {}",
                ours.summary(),
                theirs.summary()
            ),
        });
    }
    None
}

/// The rule behind a reference registry refusal: its undisclosed reason's, else its
/// code's and description's (R-ORDER-1's table, §7.2's reasons, §15).
pub fn decided_by(exchange: &Exchange) -> String {
    let Ok(answer) = &exchange.result else {
        return "R-RESP-6".into();
    };
    if let Some(rule) = &answer.undisclosed_rule {
        return rule.clone();
    }
    let response = &answer.response;
    if let StepKind::Upload(_) = exchange.kind {
        let reason = response.reason.as_deref().unwrap_or_default();
        return match response.status {
            200 => "R-UP-2",
            400 => "R-UP-1",
            _ if reason.contains("expired") => "R-UP-4",
            _ => "R-UP-3",
        }
        .into();
    }
    let description = response
        .json()
        .and_then(|j| Some(j.pointer("/errors/0/description")?.as_str()?.to_owned()))
        .unwrap_or_default();
    let code = exchange.code().unwrap_or_default();
    let by_reason = [
        ("JWT issuer ", "R-PUB-1"),
        ("Missing claim", "R-PUB-2"),
        ("Publisher with matching claims was not found", "R-PUB-3"),
        ("Could not job extract", "R-GH-2"),
        ("Could not extract workflow", "R-GL-2"),
        ("Check failed for", "R-PUB-4"),
        ("pull_request_target", "R-GH-5"),
        ("job_workflow_ref", "R-GH-4"),
        ("The ref and sha", "R-GH-4"),
        ("ci_config_ref_uri", "R-GL-4"),
        ("ref_path and sha", "R-GL-4"),
        ("'subject'", "R-AS-3"),
    ];
    let rule = match code.as_str() {
        "invalid-payload" if description == "malformed JWT" => "R-JWT-1",
        "invalid-payload" if description.contains("unknown trusted publishing issuer") => "R-ISS-3",
        "invalid-payload" if description.starts_with("1 validation error") => "R-PAYLOAD-1",
        "invalid-payload" => "R-NAME-1",
        "not-enabled" => "R-FLAG-1",
        "invalid-token" => "R-SIG-5",
        "invalid-pending-publisher" => "R-PEND-2",
        "invalid-reuse-token" => "R-JTI-1",
        "invalid-publisher" => by_reason
            .iter()
            .find(|(text, _)| description.contains(text))
            .map_or("R-PUB-7", |(_, rule)| rule),
        _ => "R-RESP-3",
    };
    rule.into()
}

/// Where the reference minted and the target did not: the rule of what the case changed
/// that the target may have judged differently.
fn suspect_rule(case: &Case, ours: &Exchange) -> String {
    let Some(spec) = case.token() else {
        return "R-PAYLOAD-1".into();
    };
    if ours.code().as_deref() == Some("invalid-token") {
        let names: BTreeSet<&str> = spec
            .claims
            .keys()
            .chain(spec.times.keys())
            .chain(spec.remove.iter())
            .map(String::as_str)
            .collect();
        let suspects = [
            (
                names.contains("exp") || names.contains("iat") || names.contains("nbf"),
                "R-TIME-2",
            ),
            (names.contains("aud"), "R-CLAIM-2"),
            (names.contains("sub") || names.contains("jti"), "R-CLAIM-3"),
            (
                spec.header.contains_key("alg") || !spec.defects.is_empty(),
                "R-SIG-3",
            ),
            (
                spec.header.contains_key("kid") || spec.remove_header.iter().any(|h| h == "kid"),
                "R-SIG-1",
            ),
        ];
        if let Some((_, rule)) = suspects.iter().find(|(hit, _)| *hit) {
            return (*rule).into();
        }
    }
    match ours.kind {
        StepKind::Upload(_) => "R-UP-2".into(),
        StepKind::Replay => "R-JTI-1".into(),
        StepKind::Mint => match ours.code().as_deref() {
            Some("invalid-publisher") => "R-PUB-7",
            Some("not-enabled") => "R-FLAG-1",
            Some("invalid-payload") => "R-PAYLOAD-1",
            _ => "R-RESP-3",
        }
        .into(),
    }
}
