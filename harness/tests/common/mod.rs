//! What the harness's tests against fake and started targets share: the suite, run
//! options, a control endpoint, canned answers and ways to look at outcomes.

// Each test file uses a part of these.
#![allow(dead_code)]

pub mod cli;
pub mod files;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, put};
use mintcheck::rig::targets::{FixtureCommand, Fixtures, Target};
use mintcheck::scenario::{Level, Scenario, load_dir};
use mintcheck::suite::outcome::{Outcome, Verdict};
use mintcheck::suite::report;
use mintcheck::suite::runner::{self, RunOptions};
use serde_json::{Value, json};
use wiremock::matchers::{header as has_header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const TOKEN: &str = "control-secret";

pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}

/// The named scenarios of the real suite, in the order given.
pub fn suite(ids: &[&str]) -> Vec<Scenario> {
    let all = load_dir(&scenarios_dir()).expect("the suite loads");
    ids.iter()
        .map(|id| {
            all.iter()
                .find(|s| s.id == *id)
                .unwrap_or_else(|| panic!("no scenario {id} in the suite"))
                .clone()
        })
        .collect()
}

pub fn core() -> RunOptions {
    RunOptions {
        level: Level::Core,
        jobs: 1,
        request_timeout: Duration::from_secs(5),
        ..RunOptions::default()
    }
}

pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A closed loopback port: connections are refused.
pub async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

pub fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"))
}

pub async fn control_applies(headers: HeaderMap) -> StatusCode {
    if authorized(&headers) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// A fake target: the control endpoint answers 204, the audience is right, and `mint` is
/// whatever the test breaks.
pub fn fake(mint: MethodRouter) -> Router {
    Router::new()
        .route("/__mintcheck/fixture", put(control_applies))
        .route(
            "/_/oidc/audience",
            get(|| async { axum::Json(json!({"audience": "pypi"})) }),
        )
        .route("/_/oidc/mint-token", mint)
}

pub fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub fn envelope(code: &str) -> Value {
    json!({"errors": [{"code": code, "description": "refused"}], "message": "Token request failed"})
}

pub fn success() -> Value {
    let expires = mock_issuer::time::unix_now() as i64 + 900;
    json!({"success": true, "token": "pypi-AgEIcHlwaS5vcmc", "expires": expires})
}

/// What a body of the suite's raw-body scenarios is, as a correct registry sees it.
pub fn looks_like_a_token(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|t| t.split('.').count() == 3)
}

pub async fn run(base_url: &str, ids: &[&str], options: &RunOptions) -> Vec<Outcome> {
    runner::run(
        suite(ids),
        &Target::remote(base_url, TOKEN),
        options,
        |_| {},
    )
    .await
}

pub fn pointers(outcome: &Outcome) -> Vec<&str> {
    outcome
        .steps
        .iter()
        .flat_map(|s| s.mismatches.iter().map(|m| m.at.as_str()))
        .collect()
}

pub fn by_id<'a>(outcomes: &'a [Outcome], id: &str) -> &'a Outcome {
    outcomes
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no outcome for {id}"))
}

pub fn error_message(outcome: &Outcome) -> &str {
    match &outcome.verdict {
        Verdict::Error { message } => message,
        other => panic!("{}: expected an error, got {other:?}", outcome.id),
    }
}

pub fn with_fixture_command(base_url: &str, command: String) -> Target {
    Target::Remote {
        base_url: base_url.to_owned(),
        fixtures: Fixtures::Command(FixtureCommand::new(command)),
    }
}

pub fn quoted(path: &Path) -> String {
    report::shell_quote(&path.display().to_string())
}

/// A fake target whose control endpoint applies fixtures given the token, whose audience is
/// right, and whose every mint gets `mint`.
pub async fn canned(mint: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/__mintcheck/fixture"))
        .and(has_header("authorization", format!("Bearer {TOKEN}")))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/__mintcheck/fixture"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/_/oidc/audience"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"audience": "pypi"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/_/oidc/mint-token"))
        .respond_with(mint)
        .mount(&server)
        .await;
    server
}

/// A canned JSON answer.
pub fn answer(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}
