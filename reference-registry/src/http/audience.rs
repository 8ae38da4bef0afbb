//! `GET /_/oidc/audience` (R-EP-1, R-EP-2).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode};
use serde_json::json;

use crate::state::Registry;

pub async fn handle(
    State(registry): State<Registry>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    // HEAD too: R-EP-5 wants 405 for every method but GET.
    let accepted = match super::admit(&headers, &method, "GET", super::Endpoint::Pypi) {
        Ok(accepted) => accepted,
        Err(refusal) => return refusal.into_response(),
    };
    let state = registry.lock();
    if state.flags.disallow_oidc {
        // An object: problem details with an extension member (R-807-ERR-1).
        let body = json!({"message": "Trusted publishing functionality not enabled"});
        return super::pep807_json(accepted, StatusCode::FORBIDDEN, &body);
    }
    super::pep807_json(
        accepted,
        StatusCode::OK,
        &json!({"audience": state.audience}),
    )
}
