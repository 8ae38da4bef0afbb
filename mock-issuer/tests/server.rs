//! The issuer as a real server on loopback: discovery, JWKS, the token API, GitHub's
//! token-request contract, TLS with the generated CA and the log. Key lifecycle and
//! faults are in `keys_and_faults.rs`.

mod common;

use std::time::Duration;

use common::http::{get_json, github_expectation, split, tls_client};
use common::{Reason, fetch_json, reasons, verify};
use mock_issuer::{Endpoint, IssuerMode, MockIssuer, Profile, Provider, TokenSpec};
use serde_json::{Value, json};

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

    let addr = issuer.address().expect("a started mock is bound");
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

#[tokio::test]
async fn an_in_process_mock_binds_nothing_and_answers_through_its_service() {
    let issuer = MockIssuer::builder()
        .issuer_mode(IssuerMode::Own)
        .in_process("http://own.mock.invalid")
        .start()
        .await
        .unwrap();
    assert_eq!(issuer.address(), None);
    assert_eq!(issuer.issuer(), "http://own.mock.invalid");
    let request = axum::http::Request::get("/.well-known/openid-configuration")
        .header("host", "own.mock.invalid")
        .body(axum::body::Body::empty())
        .unwrap();
    let answer = issuer.service().call(request).await;
    assert_eq!(answer.status(), 200);
    let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
        .await
        .unwrap();
    let discovery: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(discovery["issuer"], "http://own.mock.invalid");
    assert_eq!(discovery["jwks_uri"], issuer.jwks_url());
    assert_eq!(issuer.hits(Endpoint::Discovery), 1, "logged as over HTTP");
    let tls = MockIssuer::builder()
        .tls(true)
        .in_process("http://tls.mock.invalid")
        .start()
        .await;
    assert!(matches!(tls, Err(mock_issuer::IssuerError::InProcessTls)));
}
