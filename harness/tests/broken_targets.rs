//! Deliberately broken targets must get the right verdicts: a wrong answer is a `fail` that
//! names where it differs, a target fault is an `error`, a fixture the target declines is
//! `unsupported`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use mintcheck::rig::targets::Target;
use mintcheck::scenario::Level;
use mintcheck::spec::grading::Aspect;
use mintcheck::suite::outcome::Verdict;
use mintcheck::suite::report::Tally;
use mintcheck::suite::runner::{self, RunOptions};
use serde_json::{Value, json};

mod common;

use common::*;

#[tokio::test]
async fn a_target_that_mints_for_every_token_fails_the_negatives() {
    let server = canned(answer(200, success())).await;
    let base = server.uri();
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
    let server = canned(answer(400, envelope("invalid-payload"))).await;
    let base = server.uri();
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
    let server = canned(answer(500, json!("boom"))).await;
    let base = server.uri();
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
    let server = canned(answer(422, envelope("invalid-token"))).await;
    let base = server.uri();
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
    let slow = answer(422, envelope("invalid-payload")).set_delay(Duration::from_secs(5));
    let server = canned(slow).await;
    let base = server.uri();
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
    let server = canned(answer(200, success())).await;
    let base = server.uri();
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
