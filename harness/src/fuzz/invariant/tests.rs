//! Tests of the invariants, the doom and the comparison; the helpers build cases and
//! exchanges for the fuzzer's other tests too.

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
            features: None,
        },
        uploads: Vec::new(),
        discover: None,
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
    check(case, Some(&token), doom.as_ref(), exchanges, "127.0.0.1")
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
    let steps: Vec<String> = check(&case, Some(&forged(&case)), None, &exchanges, "127.0.0.1")
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
