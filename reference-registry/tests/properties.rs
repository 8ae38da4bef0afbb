//! Property test: no body and no token makes the registry panic, answer 5xx, or leave the
//! 422 envelope with one of the spec's codes (R-RESP-6, R-RESP-7, spec §4.1).

#[path = "support/mod.rs"]
mod support;

use proptest::prelude::*;
use reference_registry::ErrorCode;
use reference_registry::fixture::Provider;
use serde_json::Value;

fn assert_envelope(status: u16, body: &str) {
    assert!(status == 200 || status == 422, "status {status}: {body}");
    let json: Value = serde_json::from_str(body).unwrap();
    if status == 422 {
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), 2, "{body}");
        assert_eq!(json["message"], "Token request failed");
        let errors = json["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0].as_object().unwrap().len(), 2, "{body}");
        let code = errors[0]["code"].as_str().unwrap();
        assert!(ErrorCode::ALL.iter().any(|c| c.as_str() == code), "{code}");
        assert!(errors[0]["description"].is_string());
    }
}

fn token_like() -> impl Strategy<Value = String> {
    let segment = "[A-Za-z0-9_=+/-]{0,40}";
    prop_oneof![
        any::<String>(),
        (segment, segment, segment).prop_map(|(a, b, c)| format!("{a}.{b}.{c}")),
        "[A-Za-z0-9_.-]{0,200}",
    ]
}

#[test]
fn arbitrary_bodies_and_tokens_get_the_envelope() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let setup = runtime.block_on(support::Setup::standard(Provider::Github));
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in proptest::collection::vec(any::<u8>(), 0..512), token in token_like())| {
        let reply = runtime.block_on(setup.target.send("POST", "/_/oidc/mint-token", body));
        assert_envelope(reply.status, &reply.body);
        let reply = runtime.block_on(setup.target.mint(&token));
        assert_envelope(reply.status, &reply.body);
        prop_assert_eq!(reply.status, 422);
    });
    // Tokens whose claims are arbitrary JSON, correctly signed, reach every later step.
    let claim_names = [
        "repository",
        "job_workflow_ref",
        "jti",
        "exp",
        "iat",
        "nbf",
        "aud",
        "sub",
        "environment",
        "ref",
        "sha",
        "event_name",
        "repository_owner_id",
    ];
    let json_value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,30}".prop_map(Value::from),
        proptest::collection::vec(".{0,5}".prop_map(Value::from), 0..3).prop_map(Value::from),
    ];
    let config = ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(index in 0..claim_names.len(), value in json_value)| {
        let token = setup.token().claim(claim_names[index], value).sign().unwrap();
        let reply = runtime.block_on(setup.target.mint(token.as_str()));
        assert_envelope(reply.status, &reply.body);
    });
}
