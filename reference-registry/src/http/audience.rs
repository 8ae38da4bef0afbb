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
    let accepted = match super::negotiate(&headers) {
        Ok(accepted) => accepted,
        Err(refused) => return refused.into_response(),
    };
    // HEAD too: R-EP-5 wants 405 for every method but GET.
    if method != Method::GET {
        return super::method_not_allowed(accepted, "GET");
    }
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
