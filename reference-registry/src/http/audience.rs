//! `GET /_/oidc/audience` (R-EP-1, R-EP-2).

use axum::extract::State;
use axum::response::Response;
use http::{Method, StatusCode};
use serde_json::json;

use crate::json_out;
use crate::state::Registry;

pub async fn handle(State(registry): State<Registry>, method: Method) -> Response {
    // HEAD too: R-EP-5 wants 405 for every method but GET.
    if method != Method::GET {
        return super::method_not_allowed("GET");
    }
    let state = registry.lock();
    if state.flags.disallow_oidc {
        let body = json!({"message": "Trusted publishing functionality not enabled"});
        return json_out::response(StatusCode::FORBIDDEN, &body);
    }
    json_out::response(StatusCode::OK, &json!({"audience": state.audience}))
}
