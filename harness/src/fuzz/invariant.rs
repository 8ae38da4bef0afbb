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
use crate::rig::transport::Response;
use crate::scenario::model::Flag;
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
    if let Some(flag) = flags
        .iter()
        .find(|f| **f == Flag::DisallowOidc || **f == Flag::disallowing(*provider))
    {
        return doom(format!("the fixture sets {}", flag.name()), "R-FLAG-1");
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
    if let Some(defect) = spec.defects.iter().find(|d| d.breaks_signature()) {
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

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(
        || "(absent)".to_owned(),
        |v| crate::rig::transport::shorten(&v.to_string()),
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
                    crate::rig::transport::shorten(&answer.body)
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::fuzz::case::{MintBody, MintRequest, UploadTry};
    use crate::fuzz::endpoint::Answer;
    use crate::rig::transport::Outgoing;
    use crate::rig::transport::Response;
    use crate::scenario::model::Fixture;
    use crate::scenario::model::Flag;
    use mock_issuer::{Forger, KeySet, TokenSpec};
    use reference_registry::fixture::{self as fx, FixtureDocument};
    use serde_json::json;

    pub const NOW: f64 = 1_767_225_600.0;

    pub fn case(spec: serde_json::Value, fixture: Fixture) -> Case {
        let spec: TokenSpec = serde_json::from_value(spec).unwrap();
        Case {
            fixture,
            mint: MintRequest {
                body: MintBody::Token(spec),
                content_type: None,
            },
            uploads: Vec::new(),
        }
    }

    pub fn forged(case: &Case) -> ForgedToken {
        let spec = case.token().unwrap();
        let keys = KeySet::embedded_for(spec.profile().provider());
        let builder = Forger::new(&keys).token(spec.profile()).seed(1).at(NOW);
        spec.apply(builder).sign().unwrap()
    }

    /// The four canonical issuers, each publishing `mintcheck-primary`.
    fn trust() -> Trust {
        let mut document = FixtureDocument::new();
        for provider in fx::Provider::ALL {
            document.issuers.push(fx::Issuer {
                provider,
                issuer: provider.canonical_issuer().to_owned(),
                canonical: true,
                discovery_url: None,
                jwks_url: None,
                jwks: Some(json!({"keys": [{"kid": "mintcheck-primary", "kty": "RSA"}]})),
            });
        }
        Trust::of(&document)
    }

    fn doomed(spec: serde_json::Value, fixture: Fixture) -> Option<&'static str> {
        let case = case(spec, fixture);
        doom(&case, &forged(&case), &trust(), NOW).map(|d| d.rule)
    }

    fn doomed_by(spec: serde_json::Value) -> Option<&'static str> {
        doomed(spec, Fixture::default())
    }

    #[test]
    fn a_sound_token_is_not_doomed_and_legitimate_divergences_are_not_either() {
        assert_eq!(doomed_by(json!({})), None);
        for profile in ["gitlab", "google", "activestate"] {
            assert_eq!(doomed_by(json!({ "profile": profile })), None, "{profile}");
        }
        assert_eq!(
            doomed_by(json!({"claims": {"aud": ["pypi"]}})),
            None,
            "a one-element aud array"
        );
        assert_eq!(
            doomed_by(json!({"defects": ["no-kid"]})),
            None,
            "no kid with one key"
        );
        assert_eq!(
            doomed_by(json!({"times": {"exp": "now-57.5s"}})),
            None,
            "inside 60 s"
        );
        assert_eq!(
            doomed_by(json!({"header": {"alg": "RS384"}})),
            None,
            "RS384 is pypi-exact only"
        );
        assert_eq!(doomed_by(json!({"defects": ["crit-header"]})), None);
    }

    #[test]
    fn each_core_check_dooms_a_token_under_its_rule() {
        let cases = [
            (json!({"times": {"exp": "now-62.5s"}}), "R-TIME-1"),
            (json!({"times": {"iat": "now+62.5s"}}), "R-TIME-1"),
            (json!({"times": {"nbf": "now+62.5s"}}), "R-TIME-1"),
            (json!({"remove": ["exp"]}), "R-CLAIM-1"),
            (json!({"defects": ["null-claim:iat"]}), "R-CLAIM-1"),
            (json!({"remove": ["aud"]}), "R-CLAIM-1"),
            (json!({"claims": {"aud": "testpypi"}}), "R-CLAIM-2"),
            (json!({"claims": {"aud": ["other"]}}), "R-CLAIM-2"),
            (json!({"claims": {"aud": 0}}), "R-CLAIM-2"),
            (
                json!({"claims": {"iss": "https://token.actions.githubusercontent.com/"}}),
                "R-ISS-3",
            ),
            (json!({"claims": {"iss": 0}}), "R-ISS-3"),
            (json!({"claims": {"iss": "https://gitlab.com"}}), "R-SIG-5"),
            (json!({"defects": ["alg-none:NoNe"]}), "R-SIG-3"),
            (json!({"header": {"alg": "HS256"}}), "R-SIG-3"),
            (json!({"remove_header": ["alg"]}), "R-SIG-3"),
            (json!({"defects": ["hs256-public-key:der"]}), "R-SIG-3"),
            (json!({"defects": ["bad-signature"]}), "R-SIG-5"),
            (json!({"defects": ["jku-injection"]}), "R-SIG-5"),
            (json!({"defects": ["unknown-kid"]}), "R-JWKS-6"),
            (json!({"header": {"kid": "mintcheck-next"}}), "R-JWKS-6"),
            (json!({"defects": ["malformed:bad-base64"]}), "R-JWT-1"),
        ];
        for (spec, rule) in cases {
            assert_eq!(doomed_by(spec.clone()), Some(rule), "{spec}");
        }
        let disabled = Fixture {
            flags: vec![Flag::DisallowGithubOidc],
            ..Fixture::default()
        };
        assert_eq!(doomed(json!({}), disabled.clone()), Some("R-FLAG-1"));
        assert_eq!(
            doomed(json!({"profile": "gitlab"}), disabled),
            None,
            "only GitHub's flag is on"
        );
        let testpypi = Fixture {
            audience: Some("testpypi".into()),
            ..Fixture::default()
        };
        assert_eq!(
            doomed(json!({"claims": {"aud": "pypi"}}), testpypi),
            Some("R-CLAIM-2")
        );
    }

    pub fn exchange(kind: StepKind, status: u16, body: serde_json::Value) -> Exchange {
        let request_body = json!({"token": "t"}).to_string().into_bytes();
        Exchange {
            kind,
            request: Outgoing {
                method: "POST".into(),
                url: "/_/oidc/mint-token".into(),
                headers: Vec::new(),
                body: Some(request_body),
            },
            result: Ok(Answer {
                response: Response {
                    status,
                    reason: None,
                    headers: Vec::new(),
                    body: body.to_string(),
                },
                undisclosed_rule: None,
            }),
        }
    }

    pub fn minted() -> serde_json::Value {
        json!({"expires": 1, "success": true, "token": "pypi-AgEabc"})
    }

    pub fn refused(code: &str, description: &str) -> serde_json::Value {
        json!({"errors": [{"code": code, "description": description}], "message": "Token request failed"})
    }

    fn invariants(case: &Case, doomed: bool, exchanges: &[Exchange]) -> Vec<(Invariant, String)> {
        let token = forged(case);
        let doom = doomed.then(|| Doom {
            why: "test".into(),
            rule: "R-TIME-1",
        });
        check(case, Some(&token), doom.as_ref(), exchanges)
            .into_iter()
            .map(|v| (v.invariant, v.rule))
            .collect()
    }

    #[test]
    fn the_invariants_catch_what_no_registry_may_answer() {
        let github = case(json!({}), Fixture::default());
        let found = |doomed, exchanges: &[Exchange]| invariants(&github, doomed, exchanges);
        let ok = exchange(StepKind::Mint, 200, minted());
        assert_eq!(found(false, std::slice::from_ref(&ok)), []);
        assert_eq!(
            found(true, std::slice::from_ref(&ok)),
            [(Invariant::RefusesInvalidTokens, "R-TIME-1".into())]
        );
        let refusal = exchange(StepKind::Mint, 422, refused("invalid-token", "x"));
        assert_eq!(found(true, &[refusal]), []);
        let server_error = exchange(StepKind::Mint, 500, json!("boom"));
        assert_eq!(
            found(false, &[server_error]),
            [(Invariant::NoServerError, "R-RESP-6".into())]
        );
        for (status, body) in [
            (400, refused("invalid-payload", "x")),
            (422, refused("bad-code", "x")),
            (422, json!({"message": "no errors"})),
            (200, json!({"success": true, "token": ""})),
            (413, json!("too large")),
        ] {
            let answer = exchange(StepKind::Mint, status, body.clone());
            let found = found(false, &[answer]);
            assert_eq!(found.len(), 1, "{status} {body}");
            assert_eq!(found[0].0, Invariant::MintEnvelope, "{status} {body}");
        }
        let mut large = exchange(StepKind::Mint, 413, json!("too large"));
        large.request.body = Some(vec![b'x'; SIZE_LIMIT_FLOOR + 1]);
        assert_eq!(
            found(false, &[large]),
            [],
            "size limits are not judged (§17 item 5)"
        );
        let mut hang = exchange(StepKind::Mint, 200, minted());
        hang.result = Err(NoAnswer::Timeout("no answer within 5 s".into()));
        assert_eq!(
            found(false, &[hang]),
            [(Invariant::Answered, "R-RESP-6".into())]
        );
        let replayed = exchange(StepKind::Replay, 200, minted());
        assert_eq!(
            found(false, &[ok.clone(), replayed.clone()]),
            [(Invariant::SingleUse, "R-JTI-1".into())]
        );
        // Google tokens carry no jti and may mint again (R-GOOG-4).
        let google = case(json!({"profile": "google"}), Fixture::default());
        assert_eq!(invariants(&google, false, &[ok, replayed]), []);
    }

    #[test]
    fn uploads_succeed_only_with_the_minted_token_for_the_fixtures_projects() {
        let fixture = Fixture {
            projects: vec!["Sprocket.Tools".into()],
            ..Fixture::default()
        };
        let mut case = case(json!({}), fixture);
        let attempt = |name: &str, credential| UploadTry {
            name: name.into(),
            version: "1.0.0".into(),
            credential,
        };
        case.uploads = vec![
            attempt("sprocket__tools", Credential::Minted),
            attempt("unrelated", Credential::Minted),
            attempt("sprocket-tools", Credential::OidcToken),
            attempt("Sprocket.Tools", Credential::Tampered),
        ];
        let exchanges: Vec<Exchange> = std::iter::once(exchange(StepKind::Mint, 200, minted()))
            .chain((0..4).map(|i| exchange(StepKind::Upload(i), 200, json!("OK"))))
            .collect();
        let steps: Vec<String> = check(&case, Some(&forged(&case)), None, &exchanges)
            .into_iter()
            .map(|v| {
                assert_eq!(v.invariant, Invariant::UploadScope);
                v.step
            })
            .collect();
        assert_eq!(steps, ["upload-2", "upload-3", "upload-4"]);
    }

    #[test]
    fn differences_name_the_rule_that_decided_the_reference_answer() {
        let case = case(json!({"times": {"exp": "now-31s"}}), Fixture::default());
        let mint_ok = exchange(StepKind::Mint, 200, minted());
        let expired = exchange(
            StepKind::Mint,
            422,
            refused("invalid-token", "malformed or invalid token"),
        );
        assert!(
            compare(
                &case,
                std::slice::from_ref(&mint_ok),
                std::slice::from_ref(&mint_ok)
            )
            .is_none()
        );
        let difference = compare(
            &case,
            std::slice::from_ref(&expired),
            std::slice::from_ref(&mint_ok),
        )
        .unwrap();
        assert_eq!(
            (difference.invariant, difference.rule.as_str()),
            (Invariant::SameAsReference, "R-TIME-2")
        );
        assert_eq!(
            difference.message,
            "the target answered 422 invalid-token, the reference registry 200"
        );
        let mut undisclosed = expired.clone();
        if let Ok(answer) = &mut undisclosed.result {
            answer.undisclosed_rule = Some("R-CLAIM-2".into());
        }
        assert_eq!(
            compare(&case, std::slice::from_ref(&mint_ok), &[undisclosed])
                .unwrap()
                .rule,
            "R-CLAIM-2"
        );
        let no_publisher = exchange(
            StepKind::Mint,
            422,
            refused(
                "invalid-publisher",
                "valid token, but no corresponding publisher (The ref and sha claims are empty)",
            ),
        );
        assert_eq!(
            compare(&case, &[mint_ok], &[no_publisher]).unwrap().rule,
            "R-GH-4"
        );
    }

    #[test]
    fn every_invariant_names_itself_and_states_a_requirement() {
        let names: BTreeSet<&str> = Invariant::ALL.iter().map(|i| i.name()).collect();
        assert_eq!(names.len(), Invariant::ALL.len());
        for invariant in Invariant::ALL {
            assert!(invariant.requirement().contains("MUST"), "{invariant}");
        }
    }
}
