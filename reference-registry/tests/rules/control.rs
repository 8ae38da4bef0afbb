//! The control endpoint and the fixture document (`docs/target-contract.md`).

use reference_registry::{FixtureDocument, Registry, RegistryConfig};
use serde_json::json;

use crate::support::Target;

async fn controlled() -> Target {
    let config = RegistryConfig {
        control_token: Some("s3cret".into()),
        ..RegistryConfig::default()
    };
    Target::start(Registry::new(config)).await
}

async fn put(target: &Target, token: &str, body: &str) -> (String, String) {
    let request = format!(
        "PUT /__mintcheck/fixture HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let reply = target.raw(request.as_bytes()).await;
    (reply.status_line, reply.body)
}

#[tokio::test]
async fn control_endpoint_applies_fixtures_behind_a_bearer_token() {
    let target = controlled().await;
    let document = json!({"mintcheck_fixture": 1, "audience": "testpypi"}).to_string();
    assert!(
        put(&target, "wrong", &document)
            .await
            .0
            .starts_with("HTTP/1.1 401")
    );
    assert!(
        put(&target, "s3cret", &document)
            .await
            .0
            .starts_with("HTTP/1.1 204")
    );
    assert_eq!(
        target.send("GET", "/_/oidc/audience", vec![]).await.body,
        r#"{"audience":"testpypi"}"#
    );
    assert_eq!(
        target
            .send("POST", "/__mintcheck/fixture", vec![])
            .await
            .status,
        405
    );
}

#[tokio::test]
async fn control_endpoint_names_the_offending_field() {
    let target = controlled().await;
    let cases = [
        (json!({"mintcheck_fixture": 2}), "mintcheck_fixture"),
        (
            json!({"mintcheck_fixture": 1, "flags": {"disallow-everything": true}}),
            "flags.disallow-everything",
        ),
        (
            json!({"mintcheck_fixture": 1, "projects": [{"name": "a"}], "publishers": [{"projects": ["a"], "identity": {"provider": "github", "repository_owner": "o"}}]}),
            "publishers[0].identity",
        ),
        (
            json!({"mintcheck_fixture": 1, "publishers": [{"projects": ["nope"], "identity": {"provider": "google", "email": "e"}}]}),
            "publishers[0].projects[0]",
        ),
        (
            json!({"mintcheck_fixture": 1, "issuers": [{"provider": "github", "issuer": "i", "canonical": true, "jwks": {"keys": []}}]}),
            "issuers[0].jwks",
        ),
    ];
    for (document, field) in cases {
        let (status, body) = put(&target, "s3cret", &document.to_string()).await;
        assert!(status.starts_with("HTTP/1.1 422"), "{status} {body}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["field"], field, "{body}");
    }
}

#[tokio::test]
async fn control_endpoint_is_absent_without_a_token() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    assert_eq!(
        target
            .send("PUT", "/__mintcheck/fixture", b"{}".to_vec())
            .await
            .status,
        404
    );
}

/// `docs/fixture.schema.json` describes exactly the fields the Rust types read.
#[test]
fn fixture_schema_matches_the_types() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/fixture.schema.json")).unwrap();
    let documented: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    let mut full = FixtureDocument::new();
    full.audience = Some("pypi".into());
    full.ca_pem = Some(String::new());
    let serialized = serde_json::to_value(&full).unwrap();
    let actual: Vec<&String> = serialized.as_object().unwrap().keys().collect();
    assert_eq!(documented, actual);
    let flags: Vec<&String> = schema["$defs"]["flags"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let flag_value = serde_json::to_value(full.flags).unwrap();
    assert_eq!(
        flags,
        flag_value.as_object().unwrap().keys().collect::<Vec<_>>()
    );
}

async fn post_clock(target: &Target, token: &str, body: &str) -> String {
    let request = format!(
        "POST /__mintcheck/clock HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    target.raw(request.as_bytes()).await.status_line
}

#[tokio::test]
async fn the_clock_moves_on_behind_the_bearer_token_until_the_next_fixture() {
    let config = RegistryConfig {
        control_token: Some("s3cret".into()),
        ..RegistryConfig::default()
    };
    let registry = Registry::new(config);
    let target = Target::start(registry.clone()).await;
    let before = registry.now().seconds();
    assert!(
        post_clock(&target, "wrong", r#"{"advance_seconds": 900}"#)
            .await
            .starts_with("HTTP/1.1 401")
    );
    for bad in [r#"{"advance_seconds": -1}"#, r#"{"seconds": 1}"#, "900"] {
        assert!(
            post_clock(&target, "s3cret", bad)
                .await
                .starts_with("HTTP/1.1 422"),
            "{bad}"
        );
    }
    assert!(
        post_clock(&target, "s3cret", r#"{"advance_seconds": 900}"#)
            .await
            .starts_with("HTTP/1.1 204")
    );
    let moved = registry.now().seconds() - before;
    assert!((900.0..960.0).contains(&moved), "moved {moved} s");
    registry.apply(&FixtureDocument::new()).unwrap();
    assert!(
        registry.now().seconds() - before < 60.0,
        "a fixture resets it"
    );
}
