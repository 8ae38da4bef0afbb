//! The HTTP surface: routes, method handling (R-EP-5, R-EP-6) and shared response helpers.

mod audience;
mod control;
mod mint;
mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::state::Registry;

/// The mint body limit; larger bodies get `invalid-payload` (spec §17 item 5).
pub const MINT_BODY_LIMIT: usize = 64 * 1024;
/// The upload body limit; larger bodies get 413.
pub const UPLOAD_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The reference registry's routes. The control endpoint exists only with a control token.
pub fn app(registry: Registry) -> Router {
    let mut router = Router::new()
        .route("/_/oidc/audience", any(audience::handle))
        .route("/_/oidc/mint-token", any(mint::handle))
        // R-EP-4: the legacy alias, for every issuer.
        .route("/_/oidc/github/mint-token", any(mint::handle))
        .route(
            "/legacy/",
            any(upload::handle).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        );
    if registry.config().control_token.is_some() {
        router = router
            .route("/__mintcheck/fixture", any(control::handle))
            .route("/__mintcheck/clock", any(control::advance_clock));
    }
    router.with_state(registry)
}

/// 405 with `Allow` (R-EP-5); the body is deliberately not the JSON envelope.
fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed").into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// The request host without its port, as PyPI's `request.domain`.
fn request_host(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let domain = match host.strip_prefix('[') {
        Some(v6) => v6
            .split_once(']')
            .map(|(addr, _)| format!("[{addr}]"))
            .unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default().to_owned(),
    };
    if domain.is_empty() {
        "localhost".to_owned()
    } else {
        domain
    }
}
