//! Spec §3: routes, methods, serialization, envelopes.

use reference_registry::FixtureDocument;
use reference_registry::fixture::Provider;

use crate::support::{Setup, Target};

#[tokio::test]
async fn r_ep_1_audience() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    let reply = target.send("GET", "/_/oidc/audience", vec![]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, r#"{"audience":"pypi"}"#);
    let mut fixture = FixtureDocument::new();
    fixture.audience = Some("testpypi".into());
    target.registry.apply(&fixture).unwrap();
    assert_eq!(
        target.send("GET", "/_/oidc/audience", vec![]).await.body,
        r#"{"audience":"testpypi"}"#
    );
}

#[tokio::test]
async fn r_ep_2_audience_forbidden_while_disallow_oidc() {
    let mut fixture = FixtureDocument::new();
    fixture.flags.disallow_github_oidc = true;
    let target = Target::with_fixture(&fixture).await;
    assert_eq!(
        target.send("GET", "/_/oidc/audience", vec![]).await.status,
        200,
        "per-provider flags do not matter"
    );
    fixture.flags.disallow_oidc = true;
    target.registry.apply(&fixture).unwrap();
    let reply = target.send("GET", "/_/oidc/audience", vec![]).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.body,
        r#"{"message":"Trusted publishing functionality not enabled"}"#
    );
}

#[tokio::test]
async fn r_ep_3_content_type_is_ignored() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.token().sign().unwrap();
    let body = format!(r#"{{"token":"{}"}}"#, token.as_str());
    let reply = setup
        .target
        .raw_post(
            "/_/oidc/mint-token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
        .await;
    assert!(reply.status_line.starts_with("HTTP/1.1 200"), "{reply:?}");
}

#[tokio::test]
async fn r_ep_4_github_alias_mints_for_any_issuer() {
    let setup = Setup::standard(Provider::Gitlab).await;
    let token = setup.token().sign().unwrap();
    let body = serde_json::to_vec(&serde_json::json!({"token": token.as_str()})).unwrap();
    let reply = setup
        .target
        .send("POST", "/_/oidc/github/mint-token", body)
        .await;
    reply.assert_minted();
}

#[tokio::test]
async fn r_ep_5_other_methods_are_405_with_allow() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    for (path, allow, methods) in [
        (
            "/_/oidc/audience",
            "GET",
            &["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"][..],
        ),
        (
            "/_/oidc/mint-token",
            "POST",
            &["GET", "PUT", "DELETE", "HEAD", "OPTIONS"][..],
        ),
        ("/_/oidc/github/mint-token", "POST", &["GET", "HEAD"][..]),
    ] {
        for method in methods {
            let reply = target.send(method, path, vec![]).await;
            assert_eq!(reply.status, 405, "{method} {path}");
            assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
            assert!(
                !reply.body.contains("errors"),
                "{method} {path}: {}",
                reply.body
            );
        }
    }
}

#[tokio::test]
async fn r_ep_6_no_trailing_slash_variants() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    assert_eq!(
        target
            .send("POST", "/_/oidc/mint-token/", b"{}".to_vec())
            .await
            .status,
        404
    );
    assert_eq!(
        target.send("GET", "/_/oidc/audience/", vec![]).await.status,
        404
    );
}

#[tokio::test]
async fn r_resp_1_2_5_success_body_is_exact() {
    let setup = Setup::standard(Provider::Github).await;
    let reply = setup.mint(setup.token()).await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let json = reply.json();
    let expires = json["expires"].as_i64().unwrap();
    let token = reply.assert_minted();
    assert_eq!(
        reply.body,
        format!(r#"{{"expires":{expires},"success":true,"token":"{token}"}}"#)
    );
}

#[tokio::test]
async fn r_resp_3_4_token_shape_and_expires() {
    let setup = Setup::standard(Provider::Github).await;
    let before = now();
    let reply = setup.mint(setup.token()).await;
    let after = now();
    let token = reply.assert_minted();
    let rest = token.strip_prefix("pypi-").unwrap();
    assert!(
        rest.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "{token}"
    );
    let expires = reply.json()["expires"].as_i64().unwrap();
    assert!((before + 900..=after + 900).contains(&expires), "{expires}");
}

#[tokio::test]
async fn r_resp_6_7_error_envelope_and_status_line() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    let reply = target
        .raw_post("/_/oidc/mint-token", &[], br#"{"token":"x"}"#)
        .await;
    assert_eq!(reply.status_line, "HTTP/1.1 422 Unprocessable Entity");
    assert!(
        reply
            .head
            .to_ascii_lowercase()
            .contains("content-type: application/json\r\n"),
        "{}",
        reply.head
    );
    assert_eq!(
        reply.body,
        r#"{"errors":[{"code":"invalid-payload","description":"malformed JWT"}],"message":"Token request failed"}"#
    );
}

#[tokio::test]
async fn r_resp_2_non_ascii_is_escaped() {
    let setup = Setup::standard(Provider::Github).await;
    let claim = "acme-labs/widgetry/.github/workflows/publish.yml@refs/tags/v\u{fc}";
    let reply = setup
        .mint(setup.token().claim("job_workflow_ref", claim))
        .await;
    assert!(reply.body.contains(r"refs/tags/v\u00fc'"), "{}", reply.body);
    assert!(reply.body.is_ascii());
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
