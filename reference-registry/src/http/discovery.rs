//! `GET /.well-known/pytp?discover=<key>`: where a PEP 807 client finds the audience and
//! mint endpoints for an upload URL (R-807-DISC-1 to R-807-DISC-6).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, Uri};

use crate::pep807::{self, DiscoveryRefusal};
use crate::state::Registry;

pub async fn handle(
    State(registry): State<Registry>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let accepted = match super::admit(&headers, &method, "GET", super::Endpoint::Discovery) {
        Ok(accepted) => accepted,
        Err(refusal) => return refusal.into_response(),
    };
    let (status, detail) = match pep807::discovered_path(uri.query()) {
        Ok(()) => {
            let Some(authority) = headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
            else {
                let detail = "no Host header: the endpoints are on the host the client reached";
                return super::problem(accepted, StatusCode::BAD_REQUEST, detail);
            };
            let scheme = if registry.config().https {
                "https"
            } else {
                "http"
            };
            #[cfg(feature = "sabotage")]
            let authority = if registry.sabotaged().discovery_other_host {
                "registry.internal"
            } else {
                authority
            };
            let document = pep807::discovery_document(&format!("{scheme}://{authority}"));
            return super::pep807_json(accepted, StatusCode::OK, &document);
        }
        #[cfg(feature = "sabotage")]
        Err(DiscoveryRefusal::BadKey(why))
            if registry.sabotaged().discovery_error_not_an_object =>
        {
            return crate::json_out::response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &serde_json::Value::String(why),
            );
        }
        Err(DiscoveryRefusal::BadKey(why)) => (StatusCode::BAD_REQUEST, why),
        Err(DiscoveryRefusal::NotHere(why)) => (StatusCode::NOT_FOUND, why),
    };
    super::problem(accepted, status, &detail)
}
