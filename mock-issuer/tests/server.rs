//! The issuer as a real server on loopback: discovery, JWKS, the token API, GitHub's
//! token-request contract, TLS with the generated CA, key lifecycle, faults and the log.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{Expectation, Reason, WIDGETRY, fetch_json, reasons, verify};
use mock_issuer::time::unix_now;
use mock_issuer::{
    Endpoint, IssuerMode, JwkEdit, JwksFault, MockIssuer, Profile, Provider, TokenSpec,
};
use serde_json::{Value, json};

fn github_expectation<'a>(issuer: &'a str, jwks: &'a Value) -> Expectation<'a> {
    Expectation {
        issuer,
        audience: "pypi",
        jwks,
        now: unix_now(),
        publisher: Some(&WIDGETRY),
    }
}

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn discovery_points_at_the_jwks_and_names_the_issuer() {
    let issuer = MockIssuer::start().await.unwrap();
    assert!(issuer.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(issuer.issuer(), issuer.base_url(), "own-URL mode");
    let (status, discovery) = get_json(&issuer.discovery_url()).await;
    assert_eq!(status, 200);
    assert_eq!(discovery["issuer"], issuer.issuer());
    assert_eq!(discovery["jwks_uri"], issuer.jwks_url());
    let (_, jwks) = get_json(&issuer.jwks_url()).await;
    assert_eq!(jwks, issuer.jwks());
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kid"].as_str(),
            key["alg"].as_str(),
            key["use"].as_str()
        ),
        (Some("mintcheck-primary"), Some("RS256"), Some("sig"))
    );
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        1,
        "only the primary key is published"
    );
}

#[tokio::test]
async fn impersonation_keeps_the_canonical_issuer_string() {
    let issuer = MockIssuer::builder()
        .issuer_mode(IssuerMode::Canonical(Provider::Github))
        .start()
        .await
        .unwrap();
    assert_eq!(
        issuer.issuer(),
        "https://token.actions.githubusercontent.com"
    );
    let (_, discovery) = get_json(&issuer.discovery_url()).await;
    assert_eq!(
        discovery["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(
        discovery["jwks_uri"],
        issuer.jwks_url(),
        "keys are still served by the mock"
    );
    let token = issuer.token(Profile::Gitlab).sign().unwrap();
    assert_eq!(
        token.claims["iss"],
        "https://token.actions.githubusercontent.com"
    );
    let custom = MockIssuer::builder()
        .issuer_mode("https://gitlab.acme.example".parse().unwrap())
        .start()
        .await
        .unwrap();
    assert_eq!(
        custom.token(Profile::Gitlab).sign().unwrap().claims["iss"],
        "https://gitlab.acme.example"
    );
}

#[tokio::test]
async fn post_token_forges_from_a_json_spec() {
    let issuer = MockIssuer::start().await.unwrap();
    let client = reqwest::Client::new();
    let response = client
        .post(issuer.token_url())
        .json(&json!({"profile": "github", "claims": {"environment": "staging"}, "times": {"exp": "now+2m"}, "defects": ["owner-id-drift"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["claims"]["environment"], "staging");
    assert_eq!(
        body["claims"]["repository_owner_id"],
        "48213977"
            .parse::<u64>()
            .map(|n| (n + 1).to_string())
            .unwrap()
    );
    let jwks = issuer.jwks();
    let expect = github_expectation(issuer.issuer(), &jwks);
    assert_eq!(
        verify(body["token"].as_str().unwrap(), &expect),
        reasons([Reason::Mismatch("repository_owner_id")])
    );

    let bad = client
        .post(issuer.token_url())
        .body(r#"{"profile":"github","claimz":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let message: Value = bad.json().await.unwrap();
    assert!(
        message["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `claimz`"),
        "{message}"
    );

    let conflict = client
        .post(issuer.token_url())
        .json(&json!({"defects": ["alg-none", "bad-signature"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(conflict.status(), 422);
    assert_eq!(issuer.hits(Endpoint::Token), 3);
}

#[tokio::test]
async fn github_token_request_contract() {
    let issuer = MockIssuer::start().await.unwrap();
    let url = issuer.github_request_url();
    assert!(
        url.ends_with("?api-version=2.0"),
        "clients append &audience="
    );
    let client = reqwest::Client::new();
    let jwks = issuer.jwks();

    for scheme in ["bearer", "Bearer"] {
        let response = client
            .get(format!("{url}&audience=pypi"))
            .header(
                "Authorization",
                format!("{scheme} {}", issuer.request_token()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
        let body: Value = response.json().await.unwrap();
        let token = body["value"].as_str().unwrap();
        assert_eq!(
            verify(token, &github_expectation(issuer.issuer(), &jwks)),
            reasons([])
        );
    }

    let response = client
        .get(&url)
        .bearer_auth(issuer.request_token())
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let mut expect = github_expectation(issuer.issuer(), &jwks);
    expect.audience = "https://github.com/acme-labs";
    assert_eq!(
        verify(body["value"].as_str().unwrap(), &expect),
        reasons([]),
        "default audience"
    );

    for authorization in [None, Some("bearer wrong-token"), Some("Basic abc")] {
        let mut request = client.get(format!("{url}&audience=pypi"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].is_string(), "{body}");
    }

    let spec: TokenSpec = serde_json::from_value(json!({
        "claims": {"repository": "octo-org/other", "repository_owner": "octo-org"},
    }))
    .unwrap();
    let other_job = issuer.add_job(spec);
    let env = issuer.github_env(&other_job);
    assert_eq!(
        env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        Some(other_job.as_str())
    );
    let response = client
        .get(format!(
            "{}&audience=testpypi",
            env.get("ACTIONS_ID_TOKEN_REQUEST_URL").unwrap()
        ))
        .bearer_auth(&other_job)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let (_, payload, _) = split(body["value"].as_str().unwrap());
    assert_eq!(payload["repository"], "octo-org/other");
    assert_eq!(payload["aud"], "testpypi");
    assert_eq!(issuer.hits(Endpoint::GithubTokenRequest), 7);
    let logged = issuer
        .requests()
        .into_iter()
        .find(|r| r.endpoint == Endpoint::GithubTokenRequest)
        .unwrap();
    assert_eq!(
        logged.query.as_deref(),
        Some("api-version=2.0&audience=pypi")
    );
    assert_eq!(
        logged.header("authorization"),
        Some(format!("bearer {}", issuer.request_token()).as_str())
    );
}

fn split(token: &str) -> (Value, Value, String) {
    use base64::Engine as _;
    let decode = |s: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap(),
        )
        .unwrap()
    };
    let parts: Vec<&str> = token.split('.').collect();
    (decode(parts[0]), decode(parts[1]), parts[2].to_owned())
}

fn tls_client(ca_pem: &str, resolve: &[(&str, SocketAddr)]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()]);
    for (host, addr) in resolve {
        builder = builder.resolve(host, *addr);
    }
    builder.build().unwrap()
}

#[tokio::test]
async fn tls_with_the_generated_ca_and_virtual_issuers_by_host() {
    let issuer = MockIssuer::builder().tls(true).start().await.unwrap();
    assert!(issuer.base_url().starts_with("https://127.0.0.1:"));
    let ca_path = issuer.ca_path().unwrap().to_owned();
    assert_eq!(
        std::fs::read_to_string(&ca_path).unwrap(),
        issuer.ca_pem().unwrap()
    );

    let untrusting = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .unwrap();
    assert!(
        untrusting.get(issuer.discovery_url()).send().await.is_err(),
        "the CA is required"
    );

    let addr = issuer.address();
    let client = tls_client(
        issuer.ca_pem().unwrap(),
        &[
            ("token.actions.githubusercontent.com", addr),
            ("platform.activestate.com", addr),
        ],
    );
    let discovery: Value = fetch_json(&client, issuer.discovery_url()).await;
    assert_eq!(discovery["issuer"], issuer.issuer());
    let jwks: Value = fetch_json(&client, discovery["jwks_uri"].as_str().unwrap()).await;
    assert_eq!(jwks, issuer.jwks());

    let port = addr.port();
    let github: Value = fetch_json(
        &client,
        format!(
            "https://token.actions.githubusercontent.com:{port}/.well-known/openid-configuration"
        ),
    )
    .await;
    assert_eq!(
        github["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    let jwks_uri = github["jwks_uri"].as_str().unwrap();
    assert_eq!(
        jwks_uri,
        format!("https://token.actions.githubusercontent.com:{port}/.well-known/jwks")
    );
    let via_host: Value = fetch_json(&client, jwks_uri).await;
    assert_eq!(via_host, issuer.jwks());

    let activestate: Value = fetch_json(&client, format!("https://platform.activestate.com:{port}/api/v1/oauth/oidc/.well-known/openid-configuration")).await;
    assert_eq!(
        activestate["issuer"],
        Provider::ActiveState.canonical_issuer()
    );
    drop(issuer);
    assert!(!ca_path.exists(), "the CA file goes away with the issuer");
}

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

#[tokio::test]
async fn dropping_the_issuer_stops_it() {
    let issuer = MockIssuer::start().await.unwrap();
    let url = issuer.discovery_url();
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    drop(issuer);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    assert!(fresh.get(&url).send().await.is_err());
}

#[tokio::test]
async fn non_loopback_addresses_need_an_explicit_allowance() {
    let err = MockIssuer::builder()
        .bind("0.0.0.0:0".parse().unwrap())
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("without allow_remote"), "{err}");
}

#[tokio::test]
async fn the_log_proves_what_a_client_fetched() {
    let issuer = MockIssuer::start().await.unwrap();
    assert_eq!(issuer.hits(Endpoint::Jwks), 0);
    let token = issuer
        .token(Profile::Github)
        .defect(mock_issuer::Defect::X5uInjection)
        .sign()
        .unwrap();
    assert_eq!(
        issuer.hits(Endpoint::AttackerX5u),
        0,
        "forging fetches nothing"
    );
    reqwest::get(token.header["x5u"].as_str().unwrap())
        .await
        .unwrap();
    reqwest::get(issuer.jwks_url()).await.unwrap();
    assert_eq!(issuer.hits(Endpoint::AttackerX5u), 1);
    assert_eq!(issuer.hits(Endpoint::Jwks), 1);
    let last = issuer.requests().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str()),
        ("GET", "/.well-known/jwks")
    );
}

#[tokio::test]
async fn issuers_built_with_one_ca_share_it() {
    let ca = std::sync::Arc::new(mock_issuer::tls::TestCa::generate().unwrap());
    let first = MockIssuer::builder().ca(ca.clone()).start().await.unwrap();
    let second = MockIssuer::builder()
        .issuer_mode(IssuerMode::Canonical(Provider::Gitlab))
        .ca(ca.clone())
        .start()
        .await
        .unwrap();
    assert!(first.base_url().starts_with("https://127.0.0.1:"));
    assert_eq!(first.ca_pem(), Some(ca.ca_pem()));
    assert_eq!(second.ca_pem(), Some(ca.ca_pem()));
    assert_eq!(first.ca_path(), Some(ca.ca_path()));
    let client = tls_client(ca.ca_pem(), &[]);
    for issuer in [&first, &second] {
        let response = client.get(issuer.discovery_url()).send().await.unwrap();
        assert_eq!(response.status(), 200, "{}", issuer.base_url());
    }
    drop((first, second));
    assert!(ca.ca_path().exists(), "the file lives as long as the CA");
}

#[tokio::test]
async fn fresh_keys_are_served_and_verify() {
    let keys = mock_issuer::fresh_keys().unwrap();
    let embedded = mock_issuer::KeySet::embedded();
    assert_ne!(
        keys.primary.jwk()["n"],
        embedded.primary.jwk()["n"],
        "new key material"
    );
    assert_eq!(
        keys.primary.kid(),
        embedded.primary.kid(),
        "same fixed kids"
    );
    let issuer = MockIssuer::builder()
        .keys(keys.clone())
        .start()
        .await
        .unwrap();
    let (_, jwks) = get_json(&issuer.jwks_url()).await;
    assert_eq!(jwks["keys"][0]["n"], keys.primary.jwk()["n"]);
    let token = issuer.token(Profile::Github).sign().unwrap();
    assert_eq!(
        verify(token.as_str(), &github_expectation(issuer.issuer(), &jwks)),
        reasons([])
    );
    let embedded_jwks = json!({"keys": [embedded.primary.jwk()]});
    assert_eq!(
        verify(
            token.as_str(),
            &github_expectation(issuer.issuer(), &embedded_jwks)
        ),
        reasons([Reason::BadSignature]),
        "the embedded public key does not verify a fresh key's signature"
    );
}
