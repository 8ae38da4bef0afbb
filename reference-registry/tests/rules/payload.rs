//! Steps 1 and 2: the body (R-PAYLOAD-*) and the structural parse (R-JWT-*).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reference_registry::FixtureDocument;
use reference_registry::fixture::Provider;
use serde_json::{Value, json};

use crate::support::{Setup, Target};

async fn description(target: &Target, body: &[u8]) -> String {
    let reply = target
        .send("POST", "/_/oidc/mint-token", body.to_vec())
        .await;
    assert_eq!(reply.status, 422);
    let json = reply.json();
    assert_eq!(
        json["errors"][0]["code"], "invalid-payload",
        "{}",
        reply.body
    );
    json["errors"][0]["description"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn r_payload_1_5_6_pydantic_texts() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    let cases: [(&[u8], Option<&str>, &str, &str); 15] = [
        (b"", None, "Invalid JSON: ", "json_invalid"),
        (b"not json", None, "Invalid JSON: ", "json_invalid"),
        (
            b"{\"token\":\"\xff\"}",
            None,
            "Invalid JSON: ",
            "json_invalid",
        ),
        (
            b"{\"token\":\"x\"} x",
            None,
            "Invalid JSON: ",
            "json_invalid",
        ),
        (b"[]", None, "Input should be an object", "model_type"),
        (b"null", None, "Input should be an object", "model_type"),
        (b"\"s\"", None, "Input should be an object", "model_type"),
        (b"1", None, "Input should be an object", "model_type"),
        (b"{}", Some("token"), "Field required", "missing"),
        (
            b"{\"wrongkey\":\"\"}",
            Some("token"),
            "Field required",
            "missing",
        ),
        (
            b"{\"token\":null}",
            Some("token"),
            "Input should be a valid string",
            "string_type",
        ),
        (
            b"{\"token\":0}",
            Some("token"),
            "Input should be a valid string",
            "string_type",
        ),
        (
            b"{\"token\":true}",
            Some("token"),
            "Input should be a valid string",
            "string_type",
        ),
        (
            b"{\"token\":[\"\"]}",
            Some("token"),
            "Input should be a valid string",
            "string_type",
        ),
        (
            b"{\"token\":{}}",
            Some("token"),
            "Input should be a valid string",
            "string_type",
        ),
    ];
    for (body, location, message, kind) in cases {
        let text = description(&target, body).await;
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], "1 validation error for TokenPayload", "{text}");
        let rest = match location {
            Some(loc) => {
                assert_eq!(lines[1], loc, "{text}");
                &lines[2..]
            }
            None => &lines[1..],
        };
        assert!(rest[0].starts_with(&format!("  {message}")), "{text}");
        assert!(rest[0].contains(&format!(" [type={kind},")), "{text}");
        assert!(
            rest[1].starts_with("    For further information visit https://errors.pydantic.dev/"),
            "{text}"
        );
    }
    assert!(
        description(&target, b"{\"token\":3.14}")
            .await
            .contains("input_value=3.14, input_type=float")
    );
}

#[tokio::test]
async fn r_payload_6_baseline_strings_exact() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    assert_eq!(
        description(&target, b"").await,
        "1 validation error for TokenPayload\n  Invalid JSON: EOF while parsing a value at line 1 column 0 [type=json_invalid, input_value=b'', input_type=bytes]\n    For further information visit https://errors.pydantic.dev/2.13/v/json_invalid"
    );
    assert_eq!(
        description(&target, br#"{"token":null}"#).await,
        "1 validation error for TokenPayload\ntoken\n  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]\n    For further information visit https://errors.pydantic.dev/2.13/v/string_type"
    );
}

#[tokio::test]
async fn r_payload_2_duplicate_token_last_wins_and_extras_ignored() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.token().sign().unwrap();
    let body = format!(
        r#"{{"token":1,"extra":[1,2],"token":"{}"}}"#,
        token.as_str()
    );
    setup
        .target
        .send("POST", "/_/oidc/mint-token", body.into_bytes())
        .await
        .assert_minted();
}

#[tokio::test]
async fn r_payload_3_empty_token_is_malformed_jwt() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    target
        .mint("")
        .await
        .assert_error("invalid-payload", "malformed JWT");
}

#[tokio::test]
async fn r_payload_4_token_is_not_trimmed() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.token().sign().unwrap();
    let reply = setup.target.mint(&format!(" {} ", token.as_str())).await;
    assert_eq!(reply.status, 422);
    let code = reply.json()["errors"][0]["code"].clone();
    assert!(
        code == "invalid-payload" || code == "invalid-token",
        "{}",
        reply.body
    );
}

fn segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn compact(header: Value, claims: Value) -> String {
    format!("{}.{}.c2ln", segment(&header), segment(&claims))
}

#[tokio::test]
async fn r_jwt_1_2_structural_failures_are_malformed_jwt() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    let iss = json!({"iss": "https://token.actions.githubusercontent.com"});
    let ok_header = json!({"alg": "RS256", "kid": "k"});
    let cases = [
        "abc".to_owned(),
        "a.b".to_owned(),
        format!("{}.!!!.sig", segment(&ok_header)),
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(b"not json"),
            segment(&iss)
        ),
        compact(json!([1]), iss.clone()),
        compact(ok_header.clone(), json!("string")),
        compact(json!({"alg": "RS256", "kid": 7}), iss.clone()),
        compact(json!({"alg": "RS256", "kid": "k", "crit": []}), iss.clone()),
        compact(
            json!({"alg": "RS256", "kid": "k", "crit": "b64"}),
            iss.clone(),
        ),
        compact(
            json!({"alg": "RS256", "kid": "k", "crit": ["b64"]}),
            iss.clone(),
        ),
        compact(
            json!({"alg": "RS256", "kid": "k", "crit": ["exp"], "exp": 1}),
            iss.clone(),
        ),
        compact(
            json!({"alg": "RS256", "kid": "k", "b64": false}),
            iss.clone(),
        ),
        compact(ok_header.clone(), json!({"sub": "x"})),
    ];
    for token in cases {
        target
            .mint(&token)
            .await
            .assert_error("invalid-payload", "malformed JWT");
    }
}

#[tokio::test]
async fn r_jwt_3_parse_ignores_alg_typ_times_and_null_iss_goes_to_step_3() {
    let target = Target::with_fixture(&FixtureDocument::new()).await;
    let null_iss = compact(
        json!({"alg": "none", "typ": "weird"}),
        json!({"iss": null, "exp": "x"}),
    );
    target
        .mint(&null_iss)
        .await
        .assert_error("invalid-payload", "unknown trusted publishing issuer");
    let crit_ok = compact(
        json!({"alg": "none", "kid": "k", "crit": ["b64"], "b64": true}),
        json!({"iss": "https://token.actions.githubusercontent.com"}),
    );
    // Past step 2: no keys are reachable without a fixture, so step 5 fails.
    target
        .mint(&crit_ok)
        .await
        .assert_error("invalid-token", "malformed or invalid token");
}
