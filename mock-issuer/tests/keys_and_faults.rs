//! The issuer's keys and faults over its life: rotation, publishing, retiring and editing
//! keys (from Rust and over the admin API), and every JWKS fault as a client sees it.

mod common;

use std::time::Duration;

use common::http::{get_json, github_expectation};
use common::{Reason, fetch_json, reasons, verify};
use mock_issuer::{IssuerMode, JwkEdit, JwksFault, MockIssuer, Profile, Provider};
use serde_json::{Value, json};

#[tokio::test]
async fn key_rotation_publish_switch_retire() {
    let issuer = MockIssuer::start().await.unwrap();
    let before = issuer.token(Profile::Github).sign().unwrap();
    issuer.sign_with("mintcheck-next").unwrap();
    let early = issuer.token(Profile::Github).sign().unwrap();
    assert_eq!(early.header["kid"], "mintcheck-next");
    let (_, jwks) = get_json(&issuer.jwks_url()).await;
    assert_eq!(
        verify(early.as_str(), &github_expectation(issuer.issuer(), &jwks)),
        reasons([Reason::UnknownKid])
    );

    issuer.publish_key("mintcheck-next").unwrap();
    let (_, jwks) = get_json(&issuer.jwks_url()).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    for token in [&before, &early] {
        assert_eq!(
            verify(token.as_str(), &github_expectation(issuer.issuer(), &jwks)),
            reasons([])
        );
    }

    issuer.retire_key("mintcheck-primary").unwrap();
    let (_, jwks) = get_json(&issuer.jwks_url()).await;
    assert_eq!(
        verify(before.as_str(), &github_expectation(issuer.issuer(), &jwks)),
        reasons([Reason::UnknownKid])
    );
    assert_eq!(
        verify(early.as_str(), &github_expectation(issuer.issuer(), &jwks)),
        reasons([])
    );

    assert!(matches!(
        issuer.publish_key("mintcheck-rogue"),
        Err(mock_issuer::IssuerError::RogueKey)
    ));
    assert!(
        issuer
            .sign_with("nope")
            .unwrap_err()
            .to_string()
            .contains("no key with kid \"nope\"")
    );

    let rotated = MockIssuer::start().await.unwrap();
    rotated.rotate().unwrap();
    assert_eq!(
        rotated.token(Profile::Github).sign().unwrap().header["kid"],
        "mintcheck-next"
    );
    assert_eq!(rotated.jwks()["keys"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn key_lifecycle_and_faults_over_the_admin_api() {
    let issuer = MockIssuer::start().await.unwrap();
    let client = reqwest::Client::new();
    let admin = |path: &str| format!("{}/admin/{path}", issuer.base_url());
    let response = client
        .post(admin("keys"))
        .json(&json!({"publish": "mintcheck-next"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(issuer.jwks()["keys"].as_array().unwrap().len(), 2);
    let response = client
        .post(admin("keys"))
        .json(&json!({"publish": "mintcheck-rogue"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = client
        .post(admin("fault"))
        .json(&json!({"fault": "jwks-outage"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(reqwest::get(issuer.jwks_url()).await.unwrap().status(), 500);
    let response = client
        .post(admin("fault"))
        .json(&json!({"fault": "jwks-sometimes"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    client
        .post(admin("fault"))
        .json(&json!({"fault": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(reqwest::get(issuer.jwks_url()).await.unwrap().status(), 200);
    let job: Value = client
        .post(admin("jobs"))
        .json(&json!({"profile": "gitlab"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(job["request_token"].is_string());
    let log: Value = fetch_json(&client, admin("log")).await;
    let jwks_hits = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoint"] == "jwks")
        .count();
    assert_eq!(jwks_hits, 2);
}

#[tokio::test]
async fn published_jwks_can_be_edited_and_extended() {
    let issuer = MockIssuer::start().await.unwrap();
    let edit = JwkEdit {
        set: json!({"alg": "PS256", "use": "enc"})
            .as_object()
            .unwrap()
            .clone(),
        remove: vec!["e".into()],
    };
    issuer.edit_jwk("mintcheck-primary", edit).unwrap();
    issuer.add_jwks_entry(json!({"kty": "mintcheck-unknown", "kid": "odd"}));
    let (status, jwks) = get_json(&issuer.jwks_url()).await;
    assert_eq!(status, 200);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys[0]["alg"], "PS256");
    assert_eq!(keys[0]["use"], "enc");
    assert!(keys[0].get("e").is_none());
    assert_eq!(
        keys[0]["n"],
        issuer.keys().primary.jwk()["n"],
        "the key itself is kept"
    );
    assert_eq!(keys[1], json!({"kty": "mintcheck-unknown", "kid": "odd"}));
    assert!(
        issuer
            .edit_jwk("mintcheck-rogue", JwkEdit::default())
            .is_err(),
        "the rogue key is never published"
    );
    // The same over the admin API.
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{}/admin/keys", issuer.base_url()))
        .json(&json!({"edit_jwk": {"kid": "mintcheck-primary", "set": {"kty": "EC"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["jwks"]["keys"][0]["kty"], "EC");
    assert_eq!(
        body["jwks"]["keys"][0]["alg"], "RS256",
        "an edit replaces the earlier one"
    );
}

#[tokio::test]
async fn a_mock_impersonating_a_provider_signs_with_that_providers_keys() {
    let github = MockIssuer::builder()
        .issuer_mode(IssuerMode::Canonical(Provider::Github))
        .start()
        .await
        .unwrap();
    let gitlab = MockIssuer::builder()
        .issuer_mode(IssuerMode::Canonical(Provider::Gitlab))
        .start()
        .await
        .unwrap();
    let n = |issuer: &MockIssuer| issuer.jwks()["keys"][0]["n"].clone();
    assert_ne!(n(&github), n(&gitlab));
    assert_eq!(
        github.jwks()["keys"][0]["kid"],
        gitlab.jwks()["keys"][0]["kid"],
        "the same kid names different keys at different issuers"
    );
    // The 1024-bit key can be published and signs tokens that verify with RS256.
    github.publish_key("mintcheck-small").unwrap();
    github.sign_with("mintcheck-small").unwrap();
    let token = github.token(Profile::Github).sign().unwrap();
    // jsonwebtoken refuses keys under 2048 bits, so this checks with aws-lc-rs's legacy verifier.
    use aws_lc_rs::signature::{RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, UnparsedPublicKey};
    use base64::Engine as _;
    let (message, signature) = token.as_str().rsplit_once('.').unwrap();
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap();
    let small = UnparsedPublicKey::new(
        &RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        github.keys().small.public_der(),
    );
    assert_eq!(token.header["kid"], "mintcheck-small");
    small.verify(message.as_bytes(), &signature).unwrap();
}

#[tokio::test]
async fn every_jwks_fault_shows() {
    let issuer = MockIssuer::start().await.unwrap();
    let client = reqwest::Client::new();
    let fetch = || async { client.get(issuer.jwks_url()).send().await.unwrap() };

    issuer.set_jwks_fault(Some(JwksFault::Outage));
    assert_eq!(fetch().await.status(), 500);
    issuer.set_jwks_fault(Some(JwksFault::Malformed));
    let body = fetch().await.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    issuer.set_jwks_fault(Some(JwksFault::EmptyKeys));
    assert_eq!(
        fetch().await.json::<Value>().await.unwrap(),
        json!({"keys": []})
    );
    issuer.set_jwks_fault(Some(JwksFault::MissingKid));
    let jwks: Value = fetch().await.json().await.unwrap();
    assert!(jwks["keys"][0].get("kid").is_none() && jwks["keys"][0]["n"].is_string());
    issuer.set_jwks_fault(Some(JwksFault::DuplicateKid));
    let jwks: Value = fetch().await.json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], jwks["keys"][1]["kid"]);
    assert_ne!(jwks["keys"][0]["n"], jwks["keys"][1]["n"]);
    issuer.set_jwks_fault(Some(JwksFault::DiscoveryWithoutJwksUri));
    let (_, discovery) = get_json(&issuer.discovery_url()).await;
    assert!(discovery.get("jwks_uri").is_none() && discovery["issuer"].is_string());
    issuer.set_jwks_fault(Some(JwksFault::Redirect));
    let unfollowed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(issuer.jwks_url())
        .send()
        .await
        .unwrap();
    assert_eq!(unfollowed.status(), 302);
    let location = unfollowed.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    assert!(
        location.ends_with("/.well-known/jwks?redirected"),
        "{location}"
    );
    let followed = fetch().await;
    assert!(followed.url().as_str().ends_with("?redirected"));
    assert_eq!(followed.json::<Value>().await.unwrap(), issuer.jwks());
    issuer.set_jwks_fault(Some(JwksFault::Slow(Duration::from_millis(300))));
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    assert!(
        quick
            .get(issuer.jwks_url())
            .send()
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(fetch().await.status(), 200, "slow, not broken");
}
