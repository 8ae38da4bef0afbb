//! The control endpoint (`docs/target-contract.md`), behind a bearer token: `PUT /__mintcheck/fixture` and
//! `POST /__mintcheck/clock`.

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::json;

use crate::fixture::{Applied, FixtureDocument, FixtureTarget};
use crate::json_out;
use crate::pep807::Accepted;
use crate::state::Registry;

const FIXTURE_BODY_LIMIT: usize = 4 * 1024 * 1024;

pub async fn handle(
    State(registry): State<Registry>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(refusal) = refusal(&registry, &method, &headers, "PUT") {
        return refusal;
    }
    let Ok(bytes) = to_bytes(body, FIXTURE_BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "fixture document too large").into_response();
    };
    let applied =
        FixtureDocument::from_json(&bytes).and_then(|document| registry.apply_fixture(&document));
    match applied {
        Ok(Applied::Applied) => StatusCode::NO_CONTENT.into_response(),
        Ok(Applied::Unsupported(features)) => {
            json_out::response(StatusCode::OK, &json!({"unsupported": features}))
        }
        Err(error) => json_out::response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"error": error.to_string(), "field": error.field}),
        ),
    }
}

/// `POST /__mintcheck/clock` with `{"advance_seconds": N}` (N ≥ 0): the registry's time
/// moves N seconds on, until the next fixture resets it.
pub async fn advance_clock(
    State(registry): State<Registry>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(refusal) = refusal(&registry, &method, &headers, "POST") {
        return refusal;
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Advance {
        advance_seconds: f64,
    }
    let bytes = to_bytes(body, 1024).await.unwrap_or_default();
    let by = serde_json::from_slice::<Advance>(&bytes)
        .ok()
        .and_then(|a| std::time::Duration::try_from_secs_f64(a.advance_seconds).ok());
    match by {
        Some(by) => {
            registry.advance_clock(by);
            StatusCode::NO_CONTENT.into_response()
        }
        None => json_out::response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"error": "expected {\"advance_seconds\": N} with N a number >= 0", "field": "advance_seconds"}),
        ),
    }
}

/// The answer to a request with the wrong method (405) or bearer token (401), if it has one.
fn refusal(
    registry: &Registry,
    method: &Method,
    headers: &HeaderMap,
    allowed: &'static str,
) -> Option<Response> {
    if method.as_str() != allowed {
        return Some(super::method_not_allowed(Accepted::Json, allowed));
    }
    if authorized(registry, headers) {
        return None;
    }
    let mut response = (StatusCode::UNAUTHORIZED, "wrong or missing bearer token").into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Bearer"),
    );
    Some(response)
}

fn authorized(registry: &Registry, headers: &HeaderMap) -> bool {
    let Some(expected) = registry.config().control_token.as_deref() else {
        return false;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    aws_lc_rs::constant_time::verify_slices_are_equal(given.as_bytes(), expected.as_bytes()).is_ok()
}
