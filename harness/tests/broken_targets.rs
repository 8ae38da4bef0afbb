//! Deliberately broken targets must get the right verdicts: a wrong answer is a `fail` that
//! names where it differs, a target fault is an `error`, a fixture the target declines is
//! `unsupported`. Also: fixture and target commands, the expectations file, and the JSON
//! and JUnit reports of a real run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use mintcheck::rig::issuers::IssuerSetup;
use mintcheck::rig::targets::{FixtureCommand, Fixtures, Target, TargetCommand};
use mintcheck::scenario::{Level, Scenario, load_dir};
use mintcheck::spec::grading::Aspect;
use mintcheck::suite::expectations::Expectations;
use mintcheck::suite::outcome::{Outcome, Verdict};
use mintcheck::suite::report::{self, Tally};
use mintcheck::suite::runner::{self, RunOptions};
use mock_issuer::tls::TestCa;
use regex::Regex;
use serde_json::{Value, json};

const TOKEN: &str = "control-secret";

fn scenarios_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}

/// The named scenarios of the real suite, in the order given.
fn suite(ids: &[&str]) -> Vec<Scenario> {
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

fn core() -> RunOptions {
    RunOptions {
        level: Level::Core,
        jobs: 1,
        request_timeout: Duration::from_secs(5),
        ..RunOptions::default()
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A closed loopback port: connections are refused.
async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"))
}

async fn control_applies(headers: HeaderMap) -> StatusCode {
    if authorized(&headers) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}

/// A fake target: the control endpoint answers 204, the audience is right, and `mint` is
/// whatever the test breaks.
fn fake(mint: MethodRouter) -> Router {
    Router::new()
        .route("/__mintcheck/fixture", put(control_applies))
        .route(
            "/_/oidc/audience",
            get(|| async { axum::Json(json!({"audience": "pypi"})) }),
        )
        .route("/_/oidc/mint-token", mint)
}

fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn envelope(code: &str) -> Value {
    json!({"errors": [{"code": code, "description": "refused"}], "message": "Token request failed"})
}

fn success() -> Value {
    let expires = mock_issuer::time::unix_now() as i64 + 900;
    json!({"success": true, "token": "pypi-AgEIcHlwaS5vcmc", "expires": expires})
}

/// What a body of the suite's raw-body scenarios is, as a correct registry sees it.
fn looks_like_a_token(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|t| t.split('.').count() == 3)
}

async fn run(base_url: &str, ids: &[&str], options: &RunOptions) -> Vec<Outcome> {
    runner::run(
        suite(ids),
        &Target::remote(base_url, TOKEN),
        options,
        |_| {},
    )
    .await
}

fn pointers(outcome: &Outcome) -> Vec<&str> {
    outcome
        .steps
        .iter()
        .flat_map(|s| s.mismatches.iter().map(|m| m.at.as_str()))
        .collect()
}

fn by_id<'a>(outcomes: &'a [Outcome], id: &str) -> &'a Outcome {
    outcomes
        .iter()
        .find(|o| o.id == id)
        .unwrap_or_else(|| panic!("no outcome for {id}"))
}

fn error_message(outcome: &Outcome) -> &str {
    match &outcome.verdict {
        Verdict::Error { message } => message,
        other => panic!("{}: expected an error, got {other:?}", outcome.id),
    }
}

#[tokio::test]
async fn a_target_that_mints_for_every_token_fails_the_negatives() {
    let base = serve(fake(post(|| async { json_response(200, success()) }))).await;
    let outcomes = run(
        &base,
        &[
            "signature/expired",
            "github/success/mints",
            "payload/not-json",
        ],
        &core(),
    )
    .await;
    let expired = by_id(&outcomes, "signature/expired");
    assert_eq!(expired.verdict, Verdict::Fail);
    assert_eq!(
        pointers(expired),
        ["decision"],
        "a wrong decision is not also judged on its envelope"
    );
    assert_eq!(
        expired.steps[0].name, "step1 (positive twin)",
        "the twin is reported beside the step"
    );
    let decision = &expired.steps[1].mismatches[0];
    assert_eq!(decision.expected, "refused: no token minted");
    assert!(
        decision.actual.starts_with("minted a token: HTTP 200 "),
        "{decision:?}"
    );
    assert_eq!(decision.aspect, Aspect::Decision);
    assert_eq!(decision.rules, ["R-TIME-1"]);
    assert_eq!(
        by_id(&outcomes, "github/success/mints").verdict,
        Verdict::Pass
    );
    assert_eq!(by_id(&outcomes, "payload/not-json").verdict, Verdict::Fail);
}

#[tokio::test]
async fn a_wrong_status_is_a_failure_at_status_and_leaves_the_negatives_inconclusive() {
    let base = serve(fake(post(|| async {
        json_response(400, envelope("invalid-payload"))
    })))
    .await;
    let outcomes = run(&base, &["payload/not-json", "signature/expired"], &core()).await;
    let not_json = by_id(&outcomes, "payload/not-json");
    assert_eq!(not_json.verdict, Verdict::Fail);
    assert_eq!(pointers(not_json), ["status"]);
    let mismatch = &not_json.steps[0].mismatches[0];
    assert_eq!(
        (mismatch.expected.as_str(), mismatch.actual.as_str()),
        ("422", "400")
    );
    // The expired token's twin (no defect) is refused too, so the refusal proves nothing.
    match &by_id(&outcomes, "signature/expired").verdict {
        Verdict::Inconclusive { reason } => {
            assert!(
                reason.contains("positive twin") && reason.contains("HTTP 400"),
                "{reason}"
            )
        }
        other => panic!("expected inconclusive, got {other:?}"),
    }
}

#[tokio::test]
async fn a_twin_answered_with_a_server_error_says_what_the_target_fetched() {
    let base = serve(fake(post(|| async { json_response(500, json!("boom")) }))).await;
    let outcomes = run(&base, &["signature/expired"], &core()).await;
    match &outcomes[0].verdict {
        Verdict::Inconclusive { reason } => assert!(
            reason.contains("got HTTP 500 instead of 200; the target's requests to the mock issuers meanwhile: https://token.actions.githubusercontent.com: discovery 0, jwks 0; https://gitlab.com: discovery 0, jwks 0"),
            "{reason}"
        ),
        other => panic!("expected inconclusive, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_code_is_a_failure_at_its_pointer() {
    let base = serve(fake(post(|| async {
        json_response(422, envelope("invalid-token"))
    })))
    .await;
    let outcomes = run(&base, &["payload/not-json"], &core()).await;
    assert_eq!(outcomes[0].verdict, Verdict::Fail);
    assert_eq!(pointers(&outcomes[0]), ["/errors/0/code"]);
    let mismatch = &outcomes[0].steps[0].mismatches[0];
    assert_eq!(
        (mismatch.expected.as_str(), mismatch.actual.as_str()),
        ("invalid-payload", "invalid-token")
    );
    // At pypi-exact the description is judged too.
    let exact = RunOptions {
        level: Level::PypiExact,
        ..core()
    };
    let outcomes = run(&base, &["payload/not-json"], &exact).await;
    assert_eq!(
        pointers(&outcomes[0]),
        ["/errors/0/code", "/errors/0/description"]
    );
}

#[tokio::test]
async fn extra_members_fail_exact_bodies_and_unknown_codes_fail_the_envelope() {
    let mint = post(|body: Bytes| async move {
        if looks_like_a_token(&body) {
            let mut answer = success();
            answer["warnings"] = json!([]);
            return json_response(200, answer);
        }
        let extra_code = if body.as_ref() == br#"{"token":""}"# {
            "rate-limited"
        } else {
            "invalid-token"
        };
        json_response(
            422,
            json!({
                "errors": [
                    {"code": "invalid-payload", "description": "refused", "hint": "extra member"},
                    {"code": extra_code, "description": "an extra element"},
                ],
                "message": "Token request failed",
                "success": false,
            }),
        )
    });
    let app = Router::new()
        .route("/__mintcheck/fixture", put(control_applies))
        .route(
            "/_/oidc/audience",
            get(|| async { axum::Json(json!({"audience": "pypi", "extra": true})) }),
        )
        .route("/_/oidc/mint-token", mint);
    let base = serve(app).await;
    let outcomes = run(
        &base,
        &[
            "payload/not-json",
            "payload/empty-token",
            "github/success/mints",
            "endpoints/audience",
        ],
        &core(),
    )
    .await;
    // Core allows more elements and members in the envelope (R-RESP-6) ...
    assert_eq!(by_id(&outcomes, "payload/not-json").verdict, Verdict::Pass);
    // ... but every code must be one of the spec's.
    let empty = by_id(&outcomes, "payload/empty-token");
    assert_eq!(empty.verdict, Verdict::Fail);
    assert_eq!(pointers(empty), ["body"]);
    let actual = &empty.steps[0].mismatches[0].actual;
    assert!(
        actual.contains(r#"errors[1].code "rate-limited""#),
        "{actual}"
    );
    // A success body and an audience body may carry more members at core (R-RESP-5 and
    // the exact bytes of R-RESP-2 are pypi-exact) ...
    assert_eq!(
        by_id(&outcomes, "github/success/mints").verdict,
        Verdict::Pass
    );
    assert_eq!(
        by_id(&outcomes, "endpoints/audience").verdict,
        Verdict::Pass
    );
    // ... and not at pypi-exact, where the member that should not be there is named.
    let exact = RunOptions {
        level: Level::PypiExact,
        ..core()
    };
    let outcomes = run(
        &base,
        &["github/success/mints", "endpoints/audience"],
        &exact,
    )
    .await;
    let mints = by_id(&outcomes, "github/success/mints");
    assert_eq!(mints.verdict, Verdict::Fail);
    assert_eq!(pointers(mints), ["/"]);
    assert_eq!(
        mints.steps[0].mismatches[0].actual,
        "expires, success, token, warnings"
    );
    assert_eq!(pointers(by_id(&outcomes, "endpoints/audience")), ["body"]);
}

#[tokio::test]
async fn a_body_that_is_not_json_fails_the_envelope_and_the_json_match() {
    let base = serve(fake(post(|body: Bytes| async move {
        let status = if looks_like_a_token(&body) {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/html")],
            "<html>no</html>",
        )
            .into_response()
    })))
    .await;
    let outcomes = run(
        &base,
        &["payload/not-json", "github/success/mints"],
        &core(),
    )
    .await;
    let not_json = by_id(&outcomes, "payload/not-json");
    assert_eq!(not_json.verdict, Verdict::Fail);
    assert_eq!(pointers(not_json), ["header content-type", "body"]);
    assert_eq!(
        not_json.steps[0].mismatches[1].actual,
        "a body that is not JSON"
    );
    let mints = by_id(&outcomes, "github/success/mints");
    assert_eq!(pointers(mints), ["decision"], "no token, so nothing minted");
    assert_eq!(
        mints.steps[0].mismatches[0].actual,
        "refused: no token minted: HTTP 200 <html>no</html>"
    );
}

#[tokio::test]
async fn a_slow_target_is_an_error_after_the_request_timeout() {
    let base = serve(fake(post(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        json_response(422, envelope("invalid-payload"))
    })))
    .await;
    let options = RunOptions {
        request_timeout: Duration::from_millis(300),
        ..core()
    };
    let started = Instant::now();
    let outcomes = run(&base, &["payload/not-json"], &options).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let message = error_message(&outcomes[0]);
    assert_eq!(
        message,
        format!("step step1: POST {base}/_/oidc/mint-token: no answer within 0.3 s")
    );
    assert_eq!(Tally::of(&outcomes).exit_code(), 3);
}

#[tokio::test]
async fn a_dead_target_is_an_error_naming_the_fixture_request() {
    let base = dead_url().await;
    let outcomes = run(
        &base,
        &["payload/not-json", "github/success/mints"],
        &core(),
    )
    .await;
    for outcome in &outcomes {
        let message = error_message(outcome);
        assert!(
            message.starts_with(&format!("PUT {base}/__mintcheck/fixture: ")),
            "{message}"
        );
        assert!(message.to_lowercase().contains("refused"), "{message}");
    }
    assert_eq!(Tally::of(&outcomes).exit_code(), 3);
}

#[tokio::test]
async fn a_control_endpoint_that_refuses_the_token_is_an_error() {
    let base = serve(fake(post(|| async { json_response(200, success()) }))).await;
    let target = Target::remote(&base, "wrong");
    let outcomes = runner::run(suite(&["payload/not-json"]), &target, &core(), |_| {}).await;
    assert_eq!(
        error_message(&outcomes[0]),
        format!("PUT {base}/__mintcheck/fixture: HTTP 401: ")
    );
}

#[tokio::test]
async fn a_target_that_declines_pending_publishers_leaves_them_unsupported() {
    let seen = Arc::new(AtomicUsize::new(0));
    let mints = seen.clone();
    let app = Router::new()
        .route(
            "/__mintcheck/fixture",
            put(|body: Bytes| async move {
                let document: Value = serde_json::from_slice(&body).unwrap_or_default();
                let pending = document["pending_publishers"]
                    .as_array()
                    .is_some_and(|p| !p.is_empty());
                if pending {
                    json_response(200, json!({"unsupported": ["pending publishers"]}))
                } else {
                    StatusCode::NO_CONTENT.into_response()
                }
            }),
        )
        .route(
            "/_/oidc/mint-token",
            post(move || async move {
                mints.fetch_add(1, Ordering::SeqCst);
                json_response(422, envelope("invalid-payload"))
            }),
        );
    let base = serve(app).await;
    let outcomes = run(
        &base,
        &["pending/creates-project", "payload/not-json"],
        &core(),
    )
    .await;
    assert_eq!(
        outcomes[0].verdict,
        Verdict::Unsupported {
            reason: "the target cannot set up: pending publishers".into()
        }
    );
    assert_eq!(outcomes[1].verdict, Verdict::Pass);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "only the supported scenario minted"
    );
    assert_eq!(Tally::of(&outcomes).exit_code(), 0);
}

#[tokio::test]
async fn a_target_without_a_clock_control_leaves_aging_scenarios_unsupported() {
    let mints = Arc::new(AtomicUsize::new(0));
    let counted = mints.clone();
    let app = Router::new()
        .route(
            "/__mintcheck/fixture",
            put(|| async { StatusCode::NO_CONTENT }),
        )
        .route(
            "/_/oidc/mint-token",
            post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { json_response(200, success()) }
            }),
        )
        .route("/legacy/", post(|| async { StatusCode::OK }));
    let base = serve(app).await;
    let outcomes = run(&base, &["upload/minted-token-dies-within-6-hours"], &core()).await;
    match &outcomes[0].verdict {
        Verdict::Unsupported { reason } => assert!(
            reason.starts_with("the target cannot move its clock: POST ")
                && reason.ends_with("/__mintcheck/clock answered HTTP 404"),
            "{reason}"
        ),
        other => panic!("expected unsupported, got {other:?}"),
    }
    assert!(
        outcomes[0].steps.is_empty(),
        "unsupported before its first step"
    );
    assert_eq!(mints.load(Ordering::SeqCst), 0, "nothing was sent");
    assert_eq!(Tally::of(&outcomes).exit_code(), 0);
}

// --- fixture commands -------------------------------------------------------------------

fn with_fixture_command(base_url: &str, command: String) -> Target {
    Target::Remote {
        base_url: base_url.to_owned(),
        fixtures: Fixtures::Command(FixtureCommand::new(command)),
    }
}

fn quoted(path: &Path) -> String {
    report::shell_quote(&path.display().to_string())
}

#[tokio::test]
async fn a_fixture_command_gets_the_document_on_stdin_and_the_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let document = dir.path().join("fixture.json");
    let base_file = dir.path().join("base");
    let base = serve(fake(post(|| async {
        json_response(422, envelope("invalid-payload"))
    })))
    .await;
    let command = format!(
        "cat > {} && printf %s \"$MINTCHECK_BASE_URL\" > {}",
        quoted(&document),
        quoted(&base_file)
    );
    let target = with_fixture_command(&base, command);
    let outcomes = runner::run(suite(&["signature/expired"]), &target, &core(), |_| {}).await;
    assert_eq!(outcomes[0].verdict, Verdict::Inconclusive {
        reason: "step step1's refusal proves nothing: its positive twin (the same token without expired) got HTTP 422 instead of 200".into()
    });
    let applied: Value = serde_json::from_slice(&std::fs::read(&document).unwrap()).unwrap();
    assert_eq!(applied["mintcheck_fixture"], 1);
    assert_eq!(applied["projects"][0]["name"], "widgetry");
    assert_eq!(std::fs::read_to_string(&base_file).unwrap(), base);
}

#[tokio::test]
async fn a_fixture_command_exiting_89_declares_what_it_cannot_set_up() {
    let base = serve(fake(post(|| async { json_response(200, success()) }))).await;
    let target = with_fixture_command(
        &base,
        "cat > /dev/null; printf 'pending publishers\\n\\nupload\\n'; exit 89".into(),
    );
    let outcomes = runner::run(
        suite(&["pending/creates-project"]),
        &target,
        &core(),
        |_| {},
    )
    .await;
    assert_eq!(
        outcomes[0].verdict,
        Verdict::Unsupported {
            reason: "the target cannot set up: pending publishers, upload".into()
        }
    );
}

#[tokio::test]
async fn a_failing_fixture_command_is_an_error_with_its_exit_code_and_stderr() {
    let base = serve(fake(post(|| async { json_response(200, success()) }))).await;
    let target = with_fixture_command(&base, "echo 'database is locked' >&2; exit 3".into());
    let outcomes = runner::run(suite(&["github/success/mints"]), &target, &core(), |_| {}).await;
    let message = error_message(&outcomes[0]);
    assert!(
        message.starts_with(
            "fixture command `echo 'database is locked' >&2; exit 3` exited with code 3"
        ),
        "{message}"
    );
    assert!(
        message.contains("its stderr:\n    database is locked"),
        "{message}"
    );
}

#[tokio::test]
async fn with_issuer_tls_commands_get_the_runs_one_ca_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_copy, ssl_copy, fixture) = (
        dir.path().join("ca.pem"),
        dir.path().join("ssl.pem"),
        dir.path().join("fixture.json"),
    );
    let base = serve(fake(post(|| async { json_response(200, success()) }))).await;
    let command = format!(
        "cat > {} && cp \"$MINTCHECK_CA_FILE\" {} && cp \"$SSL_CERT_FILE\" {}",
        quoted(&fixture),
        quoted(&ca_copy),
        quoted(&ssl_copy)
    );
    let ca = Arc::new(TestCa::generate().unwrap());
    let options = RunOptions {
        issuers: IssuerSetup {
            tls: true,
            ca: Some(ca.clone()),
            proxy: None,
        },
        ..core()
    };
    let target = with_fixture_command(&base, command);
    let outcomes = runner::run(suite(&["github/success/mints"]), &target, &options, |_| {}).await;
    assert_eq!(outcomes[0].verdict, Verdict::Pass);
    assert_eq!(std::fs::read_to_string(&ca_copy).unwrap(), ca.ca_pem());
    assert_eq!(std::fs::read_to_string(&ssl_copy).unwrap(), ca.ca_pem());
    let document: Value = serde_json::from_slice(&std::fs::read(&fixture).unwrap()).unwrap();
    assert_eq!(document["ca_pem"], ca.ca_pem());
    for issuer in document["issuers"].as_array().unwrap() {
        assert!(
            issuer["discovery_url"]
                .as_str()
                .unwrap()
                .starts_with("https://127.0.0.1:"),
            "{issuer}"
        );
    }
}

// --- target commands --------------------------------------------------------------------

fn registry_command() -> String {
    format!(
        "{} registry --control-token {TOKEN}",
        report::shell_quote(env!("CARGO_BIN_EXE_mintcheck"))
    )
}

/// Whether the server at `base_url` is gone: a killed process closes its sockets as it
/// exits, a moment after the signal, so this waits up to 2 s for the refusal.
async fn refuses_connections(base_url: &str) -> bool {
    let addr = base_url.trim_start_matches("http://");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn the_reference_registry_started_as_a_command_passes_its_scenarios() {
    let process = TargetCommand::new(registry_command())
        .start()
        .await
        .unwrap();
    let base = process.base_url().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let exact = RunOptions {
        level: Level::PypiExact,
        ..core()
    };
    let scenarios: Vec<Scenario> = load_dir(&scenarios_dir())
        .unwrap()
        .into_iter()
        .filter(|s| {
            ["github/", "signature/", "pending/", "payload/"]
                .iter()
                .any(|p| s.id.starts_with(p))
        })
        .collect();
    assert!(scenarios.len() > 10);
    let outcomes = runner::run(scenarios, &Target::remote(&base, TOKEN), &exact, |_| {}).await;
    let not_passed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::Pass && !matches!(o.verdict, Verdict::Skip { .. }))
        .map(|o| format!("{}: {:?} {:?}", o.id, o.verdict, pointers(o)))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    process.stop().await;
    assert!(refuses_connections(&base).await, "stopped");
}

#[tokio::test]
async fn a_started_registry_verifies_https_issuers_through_the_runs_ca() {
    let ca = Arc::new(TestCa::generate().unwrap());
    let process = TargetCommand::new(registry_command())
        .env("SSL_CERT_FILE", ca.ca_path().display().to_string())
        .start()
        .await
        .unwrap();
    let options = RunOptions {
        issuers: IssuerSetup {
            tls: true,
            ca: Some(ca),
            proxy: None,
        },
        ..core()
    };
    let ids = [
        "github/success/mints",
        "gitlab/success/mints",
        "google/success/mints",
        "activestate/success/mints",
        "signature/bad-signature",
    ];
    let outcomes = run(process.base_url(), &ids, &options).await;
    for outcome in &outcomes {
        assert_eq!(
            outcome.verdict,
            Verdict::Pass,
            "{}: {:?}",
            outcome.id,
            pointers(outcome)
        );
    }
}

#[tokio::test]
async fn a_target_command_without_a_ready_line_is_stopped_and_shown() {
    let started = Instant::now();
    let error = TargetCommand::new("echo starting up; echo 'port in use' >&2; sleep 30")
        .ready_timeout(Duration::from_millis(500))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.starts_with(
            "target command `echo starting up; echo 'port in use' >&2; sleep 30` printed no ready line within 0.5 s"
        ),
        "{error}"
    );
    assert!(error.contains("its stdout:\n    starting up"), "{error}");
    assert!(error.contains("its stderr:\n    port in use"), "{error}");
}

#[tokio::test]
async fn a_target_command_that_exits_or_prints_a_bad_ready_line_is_an_error() {
    let error = TargetCommand::new("echo 'no such option' >&2; exit 7")
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("exited with code 7 before printing its ready line"),
        "{error}"
    );
    assert!(error.contains("no such option"), "{error}");
    let error =
        TargetCommand::new(r#"echo '{"mintcheck":"ready","base_url":"127.0.0.1:80"}'; sleep 30"#)
            .start()
            .await
            .unwrap_err()
            .to_string();
    assert!(
        error.contains("printed a ready line without an http(s) base_url"),
        "{error}"
    );
}

#[tokio::test]
async fn log_lines_before_the_ready_line_are_allowed_and_the_address_is_passed() {
    let process = TargetCommand::new(
        r#"echo "listening on $MINTCHECK_ADDR"; echo '{"mintcheck":"ready","base_url":"http://127.0.0.1:9/"}'; sleep 30"#,
    )
    .start()
    .await
    .unwrap();
    assert_eq!(process.base_url(), "http://127.0.0.1:9");
    assert!(
        process.output().contains("listening on 127.0.0.1:0"),
        "{}",
        process.output()
    );
}

/// Whether a process is gone (a zombie no one reaps counts as gone).
#[cfg(target_os = "linux")]
async fn gone(pid: &str) -> bool {
    for _ in 0..50 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    false
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn stopping_or_dropping_a_target_ends_what_it_started() {
    for stop in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let command = format!(
            r#"sleep 300 & echo $! > {}; echo '{{"mintcheck":"ready","base_url":"http://127.0.0.1:9"}}'; wait"#,
            quoted(&pid_file)
        );
        let process = TargetCommand::new(command).start().await.unwrap();
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_owned();
        assert!(!gone(&pid).await || pid.is_empty(), "the grandchild runs");
        if stop {
            process.stop().await;
        } else {
            drop(process);
        }
        assert!(
            gone(&pid).await,
            "stop={stop}: the grandchild {pid} survived"
        );
    }
}

// --- the expectations file --------------------------------------------------------------

fn expectations(text: &str) -> (tempfile::TempDir, Arc<Expectations>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known.toml");
    std::fs::write(&path, text).unwrap();
    let ids: Vec<String> = load_dir(&scenarios_dir())
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let loaded = Expectations::load(&path, &ids).unwrap();
    (dir, Arc::new(loaded))
}

#[tokio::test]
async fn listed_failures_are_xfail_listed_passes_are_xpass() {
    let base = serve(fake(post(|body: Bytes| async move {
        if looks_like_a_token(&body) {
            json_response(200, success())
        } else {
            json_response(422, envelope("invalid-token"))
        }
    })))
    .await;
    let (_dir, listed) = expectations(
        r#"
[[expect]]
scenario = "payload/not-json"
outcome = "xfail"
reason = "every refusal says invalid-token, issue #7"

[[expect]]
scenario = "payload/token-*"
outcome = "xfail"
reason = "issue #7 again"
code = "invalid-token"

[[expect]]
scenario = "payload/empty-token"
outcome = "xfail"
reason = "listed with the code it used to answer"
code = "invalid-payload"

[[expect]]
scenario = "github/success/mints"
outcome = "xfail"
reason = "was broken last month"

[[expect]]
scenario = "pending/*"
outcome = "unsupported"
reason = "no pending publishers here"
"#,
    );
    let options = RunOptions {
        expectations: Some(listed),
        ..core()
    };
    let outcomes = run(
        &base,
        &[
            "payload/not-json",
            "payload/token-null",
            "payload/empty-token",
            "github/success/mints",
            "pending/creates-project",
        ],
        &options,
    )
    .await;
    assert_eq!(
        outcomes[0].verdict,
        Verdict::Xfail {
            reason: "every refusal says invalid-token, issue #7".into()
        }
    );
    assert_eq!(
        outcomes[1].verdict,
        Verdict::Xfail {
            reason: "issue #7 again".into()
        }
    );
    let changed = &outcomes[2];
    assert_eq!(changed.verdict, Verdict::Fail);
    assert_eq!(pointers(changed), ["/errors/0/code", "expectations"]);
    let note = &changed.steps[0].mismatches[1];
    assert!(
        note.expected
            .contains("known.toml:13: errors[0].code \"invalid-payload\""),
        "{note:?}"
    );
    assert!(
        note.actual
            .contains("\"invalid-token\": the failure mode changed"),
        "{note:?}"
    );
    match &outcomes[3].verdict {
        Verdict::Xpass { reason } => assert!(
            reason.starts_with("listed as xfail (was broken last month) at ")
                && reason.ends_with("known.toml:19 but passed: remove the entry"),
            "{reason}"
        ),
        other => panic!("expected xpass, got {other:?}"),
    }
    match &outcomes[4].verdict {
        Verdict::Unsupported { reason } => {
            assert!(
                reason.starts_with("no pending publishers here (expectations "),
                "{reason}"
            );
            assert!(outcomes[4].steps.is_empty(), "not run");
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    let tally = Tally::of(&outcomes);
    assert_eq!(
        (tally.xfail, tally.xpass, tally.fail, tally.unsupported),
        (2, 1, 1, 1)
    );
    assert_eq!(
        tally.exit_code(),
        1,
        "the changed failure mode fails the run"
    );
    assert_eq!(
        Tally::of(&outcomes[..2]).exit_code(),
        0,
        "xfail alone passes"
    );
    assert_eq!(
        Tally::of(&outcomes[3..4]).exit_code(),
        3,
        "xpass is an error"
    );
}

// --- reports of a real run --------------------------------------------------------------

const REPORT_SCENARIOS: [(&str, &str); 7] = [
    (
        "audience/ok",
        "title = \"the audience is served\"\nrequirement = \"r\"\nrules = [\"R-EP-1\"]\nlevel = \"core\"\n[[step]]\naction = \"audience\"\nexpect = { status = 200, json = { value = { audience = \"pypi\" }, rule = \"R-EP-1\" } }\n",
    ),
    (
        "audience/listed",
        "title = \"listed but passing\"\nrequirement = \"r\"\nrules = [\"R-EP-1\"]\nlevel = \"core\"\n[[step]]\naction = \"audience\"\nexpect = { status = 200 }\n",
    ),
    (
        "mint/wrong-code",
        "title = \"a bad body is an invalid payload\"\nrequirement = \"r\"\nrules = [\"R-PAYLOAD-1\"]\nlevel = \"core\"\n[[step]]\naction = \"mint\"\nbody = \"it's not json\"\nexpect = { status = 422, code = \"invalid-payload\" }\n",
    ),
    (
        "mint/listed",
        "title = \"a known failure\"\nrequirement = \"r\"\nrules = [\"R-PAYLOAD-1\"]\nlevel = \"core\"\n[[step]]\naction = \"mint\"\nbody = '{\"token\":null}'\nexpect = { status = 422, code = \"invalid-payload\" }\n",
    ),
    (
        "mint/advisory",
        "title = \"a SHOULD not met\"\nrequirement = \"r\"\nrules = [\"R-ISS-3\"]\nlevel = \"core\"\n[[step]]\naction = \"mint\"\nbody = '{\"token\":\"x.y.z\"}'\nexpect = { status = 422, code = \"invalid-token\", description = { contains = \"unknown trusted publishing issuer\", rule = \"R-ORDER-2\", strength = \"should\" } }\n",
    ),
    (
        "mint/slow",
        "title = \"a slow answer\"\nrequirement = \"r\"\nrules = [\"R-PAYLOAD-1\"]\nlevel = \"core\"\n[[step]]\naction = \"mint\"\nbody = \"slow\"\nexpect = { status = 422, code = \"invalid-payload\" }\n",
    ),
    (
        "exact/skipped",
        "title = \"judged at pypi-exact only\"\nrequirement = \"r\"\nrules = [\"R-EP-1\"]\nlevel = \"pypi-exact\"\n[[step]]\naction = \"audience\"\nexpect = { status = 200 }\n",
    ),
];

const REPORT_EXPECTATIONS: &str = r#"[[expect]]
scenario = "mint/listed"
outcome = "xfail"
reason = "wrong code, issue #1"
code = "invalid-token"

[[expect]]
scenario = "audience/listed"
outcome = "xfail"
reason = "fixed already?"
"#;

/// A run over every kind of verdict with deterministic requests, and a function that
/// redacts what changes between runs (times, ports, the temporary folder, dates).
async fn report_run() -> (Vec<Outcome>, impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().unwrap();
    for (id, text) in REPORT_SCENARIOS {
        let path = dir.path().join(format!("{id}.toml"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let scenarios = load_dir(dir.path()).unwrap();
    let ids: Vec<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
    let listed = Expectations::parse(Path::new("known.toml"), REPORT_EXPECTATIONS, &ids).unwrap();
    let base = serve(fake(post(|body: Bytes| async move {
        if body.as_ref() == b"slow" {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        json_response(422, envelope("invalid-token"))
    })))
    .await;
    let options = RunOptions {
        request_timeout: Duration::from_millis(300),
        expectations: Some(Arc::new(listed)),
        ..core()
    };
    let outcomes = runner::run(scenarios, &Target::remote(&base, TOKEN), &options, |_| {}).await;
    let port = Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let millis = Regex::new(r#""millis": \d+"#).unwrap();
    let time = Regex::new(r#"time="[0-9.]+""#).unwrap();
    let date = Regex::new(r#""date",\s*"[^"]+""#).unwrap();
    let redact = move |text: &str| {
        let text = port.replace_all(text, "127.0.0.1:[port]");
        let text = millis.replace_all(&text, "\"millis\": \"[millis]\"");
        let text = time.replace_all(&text, "time=\"[time]\"");
        date.replace_all(&text, "\"date\", \"[date]\"").into_owned()
    };
    (outcomes, redact)
}

#[tokio::test]
async fn the_json_report_keeps_its_keys() {
    let (outcomes, redact) = report_run().await;
    let report = report::json_report("http://127.0.0.1:1", "core", &outcomes);
    let text = redact(&serde_json::to_string_pretty(&report).unwrap());
    let expected = r#"{
  "advisories": 1,
  "aspects": {
    "decision": {
      "advisory": 0,
      "judged": 5,
      "right": 5
    },
    "envelope": {
      "advisory": 0,
      "judged": 5,
      "right": 3
    },
    "status": {
      "advisory": 0,
      "judged": 5,
      "right": 5
    },
    "wording": {
      "advisory": 1,
      "judged": 1,
      "right": 0
    }
  },
  "level": "core",
  "mintcheck_report": 1,
  "scenarios": [
    {
      "aspects": {
        "decision": "right",
        "envelope": "right",
        "status": "right"
      },
      "id": "audience/listed",
      "level": "core",
      "millis": "[millis]",
      "outcome": "xpass",
      "reason": "listed as xfail (fixed already?) at known.toml:7 but passed: remove the entry",
      "rules": [
        "R-EP-1"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope"
          ],
          "method": "GET",
          "name": "step1",
          "response": {
            "body": "{\"audience\":\"pypi\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "19"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "OK",
            "status": 200
          },
          "url": "http://127.0.0.1:[port]/_/oidc/audience"
        }
      ],
      "title": "listed but passing"
    },
    {
      "aspects": {
        "decision": "right",
        "envelope": "right",
        "status": "right"
      },
      "id": "audience/ok",
      "level": "core",
      "millis": "[millis]",
      "outcome": "pass",
      "rules": [
        "R-EP-1"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope"
          ],
          "method": "GET",
          "name": "step1",
          "response": {
            "body": "{\"audience\":\"pypi\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "19"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "OK",
            "status": 200
          },
          "url": "http://127.0.0.1:[port]/_/oidc/audience"
        }
      ],
      "title": "the audience is served"
    },
    {
      "aspects": {},
      "id": "exact/skipped",
      "level": "pypi-exact",
      "millis": "[millis]",
      "outcome": "skip",
      "reason": "a pypi-exact scenario is not judged in a core run",
      "rules": [
        "R-EP-1"
      ],
      "steps": [],
      "title": "judged at pypi-exact only"
    },
    {
      "aspects": {
        "decision": "right",
        "envelope": "right",
        "status": "right",
        "wording": "advisory"
      },
      "id": "mint/advisory",
      "level": "core",
      "millis": "[millis]",
      "outcome": "advisory",
      "rules": [
        "R-ISS-3"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope",
            "wording"
          ],
          "method": "POST",
          "mismatches": [
            {
              "actual": "refused",
              "aspect": "wording",
              "at": "/errors/0/description",
              "expected": "contains \"unknown trusted publishing issuer\"",
              "level": "core",
              "rules": [
                "R-ORDER-2"
              ],
              "strength": "should"
            }
          ],
          "name": "step1",
          "request_body": "{\"token\":\"x.y.z\"}",
          "response": {
            "body": "{\"errors\":[{\"code\":\"invalid-token\",\"description\":\"refused\"}],\"message\":\"Token request failed\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "94"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "Unprocessable Entity",
            "status": 422
          },
          "url": "http://127.0.0.1:[port]/_/oidc/mint-token"
        }
      ],
      "title": "a SHOULD not met"
    },
    {
      "aspects": {
        "decision": "right",
        "envelope": "wrong",
        "status": "right"
      },
      "id": "mint/listed",
      "level": "core",
      "millis": "[millis]",
      "outcome": "xfail",
      "reason": "wrong code, issue #1",
      "rules": [
        "R-PAYLOAD-1"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope"
          ],
          "method": "POST",
          "mismatches": [
            {
              "actual": "invalid-token",
              "aspect": "envelope",
              "at": "/errors/0/code",
              "expected": "invalid-payload",
              "level": "core",
              "rules": [
                "R-PAYLOAD-1"
              ],
              "strength": "must"
            }
          ],
          "name": "step1",
          "request_body": "{\"token\":null}",
          "response": {
            "body": "{\"errors\":[{\"code\":\"invalid-token\",\"description\":\"refused\"}],\"message\":\"Token request failed\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "94"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "Unprocessable Entity",
            "status": 422
          },
          "url": "http://127.0.0.1:[port]/_/oidc/mint-token"
        }
      ],
      "title": "a known failure"
    },
    {
      "aspects": {},
      "id": "mint/slow",
      "level": "core",
      "message": "step step1: POST http://127.0.0.1:[port]/_/oidc/mint-token: no answer within 0.3 s",
      "millis": "[millis]",
      "outcome": "error",
      "rules": [
        "R-PAYLOAD-1"
      ],
      "steps": [
        {
          "error": "POST http://127.0.0.1:[port]/_/oidc/mint-token: no answer within 0.3 s",
          "method": "POST",
          "name": "step1",
          "request_body": "slow",
          "url": "http://127.0.0.1:[port]/_/oidc/mint-token"
        }
      ],
      "title": "a slow answer"
    },
    {
      "aspects": {
        "decision": "right",
        "envelope": "wrong",
        "status": "right"
      },
      "id": "mint/wrong-code",
      "level": "core",
      "millis": "[millis]",
      "outcome": "fail",
      "rules": [
        "R-PAYLOAD-1"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope"
          ],
          "method": "POST",
          "mismatches": [
            {
              "actual": "invalid-token",
              "aspect": "envelope",
              "at": "/errors/0/code",
              "expected": "invalid-payload",
              "level": "core",
              "rules": [
                "R-PAYLOAD-1"
              ],
              "strength": "must"
            }
          ],
          "name": "step1",
          "request_body": "it's not json",
          "response": {
            "body": "{\"errors\":[{\"code\":\"invalid-token\",\"description\":\"refused\"}],\"message\":\"Token request failed\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "94"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "Unprocessable Entity",
            "status": 422
          },
          "url": "http://127.0.0.1:[port]/_/oidc/mint-token"
        }
      ],
      "title": "a bad body is an invalid payload"
    }
  ],
  "summary": {
    "advisory": 1,
    "error": 1,
    "fail": 1,
    "inconclusive": 0,
    "pass": 1,
    "skip": 1,
    "unsupported": 0,
    "xfail": 1,
    "xpass": 1
  },
  "target": "http://127.0.0.1:[port]"
}"#;
    // Compared as JSON values: the keys, not their order, are the contract.
    let (actual, wanted): (Value, Value) = (
        serde_json::from_str(&text).unwrap(),
        serde_json::from_str(expected).unwrap(),
    );
    assert_eq!(actual, wanted, "actual:\n{text}");
}

#[tokio::test]
async fn the_junit_report_has_a_testcase_per_scenario() {
    let (outcomes, redact) = report_run().await;
    let rerun = |id: &str| format!("mintcheck run {id}");
    let reproducers = report::Reproducers {
        rerun: &rerun,
        issuers_kept: false,
    };
    let xml = report::junit_report("http://127.0.0.1:1", "core", &outcomes, &reproducers).unwrap();

    // Parsed back: the structure.
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(parsed.test_suites.len(), 1);
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.name.as_str(), "mintcheck");
    assert_eq!(
        (suite.tests, suite.failures, suite.errors, suite.skipped),
        (7, 1, 2, 1)
    );
    let kinds: Vec<(String, String, String)> = suite
        .test_cases
        .iter()
        .map(|case| {
            let kind = match &case.status {
                quick_junit::TestCaseStatus::Success { .. } => "success".to_owned(),
                quick_junit::TestCaseStatus::NonSuccess { kind, ty, .. } => format!(
                    "{kind:?}:{}",
                    ty.as_ref().map(|t| t.as_str()).unwrap_or_default()
                ),
                quick_junit::TestCaseStatus::Skipped { ty, .. } => format!(
                    "skipped:{}",
                    ty.as_ref().map(|t| t.as_str()).unwrap_or_default()
                ),
            };
            let classname = case
                .classname
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default();
            (case.name.as_str().to_owned(), classname, kind)
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("audience/listed", "audience", "Error:xpass"),
        ("audience/ok", "audience", "success"),
        ("exact/skipped", "exact", "skipped:skip"),
        ("mint/advisory", "mint", "success"),
        ("mint/listed", "mint", "success"),
        ("mint/slow", "mint", "Error:error"),
        ("mint/wrong-code", "mint", "Failure:fail"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(kinds, expected);

    // As text: the messages, the failure's detail block with its curl line, the xfail note.
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="mintcheck" tests="7" skipped="1" failures="1" errors="2" time="[time]">
    <testsuite name="mintcheck" tests="7" skipped="1" errors="2" failures="1" time="[time]">
        <properties>
            <property name="target" value="http://127.0.0.1:[port]"/>
            <property name="level" value="core"/>
            <property name="advisories" value="1"/>
            <property name="decisions" value="5/5"/>
        </properties>
        <testcase name="audience/listed" classname="audience" time="[time]">
            <properties>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="right"/>
            </properties>
            <error message="listed as xfail (fixed already?) at known.toml:7 but passed: remove the entry" type="xpass"/>
        </testcase>
        <testcase name="audience/ok" classname="audience" time="[time]">
            <properties>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="right"/>
            </properties>
        </testcase>
        <testcase name="exact/skipped" classname="exact" time="[time]">
            <skipped message="a pypi-exact scenario is not judged in a core run" type="skip"/>
        </testcase>
        <testcase name="mint/advisory" classname="mint" time="[time]">
            <properties>
                <property name="advisory" value="SHOULD of R-ORDER-2 not met at /errors/0/description"/>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="right"/>
                <property name="aspect.wording" value="advisory"/>
            </properties>
            <system-out>advisory: every MUST met, a SHOULD missed
  rules: R-ISS-3 (core)
  step step1: POST http://127.0.0.1:[port]/_/oidc/mint-token
    sent: {&quot;token&quot;:&quot;x.y.z&quot;}
    got:  HTTP 422 {&quot;errors&quot;:[{&quot;code&quot;:&quot;invalid-token&quot;,&quot;description&quot;:&quot;refused&quot;}],&quot;message&quot;:&quot;Token request failed&quot;}
    at /errors/0/description (wording, R-ORDER-2 SHOULD at core):
      expected: contains &quot;unknown trusted publishing issuer&quot;
      actual:   refused
    reproduce: curl -sS -i -H &apos;content-type: application/json&apos; --data-raw &apos;{&quot;token&quot;:&quot;x.y.z&quot;}&apos; http://127.0.0.1:[port]/_/oidc/mint-token
  rerun: mintcheck run mint/advisory
</system-out>
        </testcase>
        <testcase name="mint/listed" classname="mint" time="[time]">
            <properties>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="wrong"/>
            </properties>
            <system-out>xfail: failed as the expectations file lists it (wrong code, issue #1)
step step1 at /errors/0/code: expected invalid-payload, got invalid-token</system-out>
        </testcase>
        <testcase name="mint/slow" classname="mint" time="[time]">
            <error message="step step1: POST http://127.0.0.1:[port]/_/oidc/mint-token: no answer within 0.3 s" type="error"/>
        </testcase>
        <testcase name="mint/wrong-code" classname="mint" time="[time]">
            <properties>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="wrong"/>
            </properties>
            <failure message="step step1 at /errors/0/code: expected invalid-payload, got invalid-token" type="fail">  rules: R-PAYLOAD-1 (core)
  step step1: POST http://127.0.0.1:[port]/_/oidc/mint-token
    sent: it&apos;s not json
    got:  HTTP 422 {&quot;errors&quot;:[{&quot;code&quot;:&quot;invalid-token&quot;,&quot;description&quot;:&quot;refused&quot;}],&quot;message&quot;:&quot;Token request failed&quot;}
    at /errors/0/code (envelope, R-PAYLOAD-1 MUST at core):
      expected: invalid-payload
      actual:   invalid-token
    reproduce: curl -sS -i -H &apos;content-type: application/json&apos; --data-raw &apos;it&apos;\&apos;&apos;s not json&apos; http://127.0.0.1:[port]/_/oidc/mint-token
  rerun: mintcheck run mint/wrong-code
</failure>
        </testcase>
    </testsuite>
</testsuites>
"#;
    assert_eq!(redact(&xml), expected, "actual:\n{}", redact(&xml));
}
