//! PEP 807 (Draft, `pep807-2026-01`): discovery, the `Accept` negotiation, problem-details
//! errors and features, over HTTP (R-807-*).

use mock_issuer::Provider;
use reference_registry::RegistryConfig;
use reference_registry::pep807::{MEDIA_TYPE, PROBLEM_MEDIA_TYPE};
use serde_json::{Value, json};

use super::upload::upload;
use crate::support::{Reply, Setup, Target};

/// `GET path` with these headers.
async fn get(target: &Target, path: &str, headers: &[(&str, &str)]) -> Reply {
    request(target, reqwest::Method::GET, path, headers, Vec::new()).await
}

async fn request(
    target: &Target,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Reply {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", target.base_url))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// The member checks of RFC 9457 §3 that R-807-ERR-1 names.
#[track_caller]
fn assert_problem(reply: &Reply) {
    let body = reply.json();
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    if let Some(status) = object.get("status") {
        assert_eq!(status, &json!(reply.status), "{body}");
    }
    for member in ["type", "title", "detail", "instance"] {
        if let Some(value) = object.get(member) {
            assert!(value.is_string(), "{member} is not a string: {body}");
        }
    }
}

const PEP: [(&str, &str); 1] = [("Accept", MEDIA_TYPE)];

#[tokio::test]
async fn r_807_disc_3_the_upload_path_discovers_endpoints_on_the_same_host() {
    let setup = Setup::standard(Provider::Github).await;
    let reply = get(
        &setup.target,
        "/.well-known/pytp?discover=%2Flegacy%2F",
        &PEP,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some(MEDIA_TYPE));
    let base = &setup.target.base_url;
    assert_eq!(
        reply.json(),
        json!({
            "audience-endpoint": format!("{base}/_/oidc/audience"),
            "token-mint-endpoint": format!("{base}/_/oidc/mint-token"),
            "features": ["single-use-token", "multi-use-token"],
        })
    );
    // The advertised endpoints work as PyPI's: the audience, then a mint.
    let audience = get(&setup.target, "/_/oidc/audience", &PEP).await;
    assert_eq!(audience.json(), json!({"audience": "pypi"}));
    setup.mint(setup.token()).await.assert_minted();
}

#[tokio::test]
async fn r_807_disc_3_an_https_registry_answers_https_urls() {
    let config = RegistryConfig {
        https: true,
        ..RegistryConfig::default()
    };
    let target = Target::with_config(config, &reference_registry::FixtureDocument::new()).await;
    let reply = get(&target, "/.well-known/pytp?discover=%2Flegacy%2F", &[]).await;
    let host = target.base_url.strip_prefix("http://").unwrap();
    assert_eq!(
        reply.json()["token-mint-endpoint"],
        format!("https://{host}/_/oidc/mint-token")
    );
}

#[tokio::test]
async fn r_807_disc_4_and_6_other_paths_are_404_and_bad_keys_400() {
    let setup = Setup::standard(Provider::Github).await;
    for (query, status) in [
        ("discover=", 404),
        ("discover=%2F", 404),
        ("discover=%2Fa+b%2F", 404),
        ("discover=%2Fsimple%2F", 404),
        ("discover=%2flegacy%2f", 200),
        ("", 400),
        ("discover=%2", 400),
        ("discover=%2Flegacy%2F&discover=%2Flegacy%2F", 400),
    ] {
        let reply = get(&setup.target, &format!("/.well-known/pytp?{query}"), &PEP).await;
        assert_eq!(reply.status, status, "{query}: {}", reply.body);
        if status != 200 {
            assert_eq!(
                reply.header("content-type"),
                Some(PROBLEM_MEDIA_TYPE),
                "{query}"
            );
            assert_problem(&reply);
        }
    }
}

#[tokio::test]
async fn r_807_accept_1_and_2_absent_and_json_are_served_others_get_406() {
    let setup = Setup::standard(Provider::Github).await;
    for path in [
        "/.well-known/pytp?discover=%2Flegacy%2F",
        "/_/oidc/audience",
    ] {
        let absent = get(&setup.target, path, &[]).await;
        assert_eq!(absent.status, 200, "{path}");
        // A request that does not ask for the PEP's type gets PyPI's answer.
        assert_eq!(absent.header("content-type"), Some("application/json"));
        let json = get(&setup.target, path, &[("Accept", "application/json")]).await;
        assert_eq!(json.status, 200, "{path}");
    }
    // Only PEP 807's own endpoint refuses what it cannot serve; PyPI's audience endpoint
    // answers as PyPI does, whatever the Accept.
    let html = get(
        &setup.target,
        "/.well-known/pytp?discover=%2Flegacy%2F",
        &[("Accept", "text/html")],
    )
    .await;
    assert_eq!(html.status, 406, "{}", html.body);
    assert_problem(&html);
    let audience = get(
        &setup.target,
        "/_/oidc/audience",
        &[("Accept", "text/html")],
    )
    .await;
    assert_eq!(audience.body, r#"{"audience":"pypi"}"#);
    // Discovery's 405 is problem details for every client.
    let put = request(
        &setup.target,
        reqwest::Method::PUT,
        "/.well-known/pytp",
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(put.status, 405);
    assert_problem(&put);
}

#[tokio::test]
async fn r_807_err_1_every_error_of_a_pep_request_is_problem_details() {
    let setup = Setup::standard_with(Provider::Github, |f| f.flags.disallow_oidc = true).await;
    let disabled = get(&setup.target, "/_/oidc/audience", &PEP).await;
    assert_eq!(disabled.status, 403);
    assert_eq!(disabled.header("content-type"), Some(PROBLEM_MEDIA_TYPE));
    assert_problem(&disabled);
    let body = br#"{"token": "not a jwt"}"#.to_vec();
    let refused = request(
        &setup.target,
        reqwest::Method::POST,
        "/_/oidc/mint-token",
        &PEP,
        body,
    )
    .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.header("content-type"), Some(PROBLEM_MEDIA_TYPE));
    assert_problem(&refused);
    let wrong_method = request(
        &setup.target,
        reqwest::Method::PUT,
        "/_/oidc/mint-token",
        &PEP,
        Vec::new(),
    )
    .await;
    assert_eq!(wrong_method.status, 405);
    assert_problem(&wrong_method);
    // PyPI's clients keep PyPI's answer (R-EP-5's plain-text 405).
    let pypi = setup
        .target
        .send("PUT", "/_/oidc/mint-token", Vec::new())
        .await;
    assert_eq!(pypi.body, "405 Method Not Allowed");
}

/// Mints with `features` and returns the answer.
async fn mint_with(setup: &Setup, features: Value) -> Reply {
    let token = setup.token().sign().unwrap();
    let body = serde_json::to_vec(&json!({"token": token.as_str(), "features": features})).unwrap();
    setup.target.send("POST", "/_/oidc/mint-token", body).await
}

#[tokio::test]
async fn r_807_feat_1_a_single_use_credential_uploads_once() {
    let setup = Setup::standard(Provider::Github).await;
    let single = mint_with(&setup, json!(["single-use-token"]))
        .await
        .assert_minted();
    let first = upload(&setup.target, &single, "widgetry", "widgetry-1.0.tar.gz").await;
    assert!(
        first.status_line.ends_with("200 OK"),
        "{}",
        first.status_line
    );
    let second = upload(
        &setup.target,
        &single,
        "widgetry",
        "widgetry-1.0-py3-none-any.whl",
    )
    .await;
    assert!(
        second.status_line.contains(" 403 "),
        "{}",
        second.status_line
    );
    assert!(
        second.status_line.contains("single-use token already used"),
        "{}",
        second.status_line
    );
}

#[tokio::test]
async fn r_807_feat_2_and_mint_2_multi_use_is_the_default() {
    let setup = Setup::standard(Provider::Github).await;
    for features in [json!(["multi-use-token"]), Value::Null, json!([])] {
        let token = mint_with(&setup, features.clone()).await.assert_minted();
        for file in ["a", "b"] {
            let filename = format!("widgetry-1.0-{file}-{}.tar.gz", features.to_string().len());
            let reply = upload(&setup.target, &token, "widgetry", &filename).await;
            assert!(
                reply.status_line.ends_with("200 OK"),
                "{features}: {}",
                reply.status_line
            );
        }
    }
}

#[tokio::test]
async fn r_807_mint_6_unadvertised_and_contradictory_features_consume_nothing() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.token().sign().unwrap();
    for features in [
        json!(["forever-token"]),
        json!(["single-use-token", "multi-use-token"]),
    ] {
        let body =
            serde_json::to_vec(&json!({"token": token.as_str(), "features": features})).unwrap();
        let reply = setup.target.send("POST", "/_/oidc/mint-token", body).await;
        assert_eq!(reply.status, 422, "{features}: {}", reply.body);
        assert_eq!(reply.json()["errors"][0]["code"], "unsupported-feature");
    }
    // The refusals left the token's jti unused: it still mints, once.
    setup.target.mint(token.as_str()).await.assert_minted();
}

#[tokio::test]
async fn r_807_mint_4_the_credential_lives_between_900_s_and_6_h() {
    let setup = Setup::standard(Provider::Github).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let reply = mint_with(&setup, json!(["single-use-token"])).await;
    let expires = reply.json()["expires"].as_i64().unwrap();
    assert!(
        (now + 900 - 5..=now + 21_600 + 5).contains(&expires),
        "{expires} vs {now}"
    );
}
