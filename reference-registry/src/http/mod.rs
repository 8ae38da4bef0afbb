//! The HTTP surface: routes, method handling (R-EP-5, R-EP-6) and shared response helpers.

mod audience;
mod control;
mod discovery;
mod mint;
mod upload;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use crate::json_out;
use crate::pep807::{self, Accepted};
use crate::state::Registry;

/// The mint body limit; larger bodies get `invalid-payload` (spec §17 item 5).
pub const MINT_BODY_LIMIT: usize = 64 * 1024;
/// The upload body limit; larger bodies get 413.
pub const UPLOAD_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The reference registry's routes. The control endpoint exists only with a control token.
pub fn app(registry: Registry) -> Router {
    // Built once per process and given each registry's state: a suite run makes a registry
    // per scenario, and building the routes cost more than most of its requests.
    static PUBLIC: LazyLock<Router<Registry>> = LazyLock::new(|| routes(false));
    static CONTROLLED: LazyLock<Router<Registry>> = LazyLock::new(|| routes(true));
    let routes: &Router<Registry> = if registry.config().control_token.is_some() {
        &CONTROLLED
    } else {
        &PUBLIC
    };
    routes.clone().with_state(registry)
}

fn routes(controlled: bool) -> Router<Registry> {
    let router = Router::new()
        .route(pep807::DISCOVERY_PATH, any(discovery::handle))
        .route("/_/oidc/audience", any(audience::handle))
        .route("/_/oidc/mint-token", any(mint::handle))
        // R-EP-4: the legacy alias, for every issuer.
        .route("/_/oidc/github/mint-token", any(mint::handle))
        .route(
            "/legacy/",
            any(upload::handle).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        );
    if !controlled {
        return router;
    }
    router
        .route("/__mintcheck/fixture", any(control::handle))
        .route("/__mintcheck/clock", any(control::advance_clock))
}

/// A request to one of PEP 807's endpoints, checked: its `Accept` (what it asks for), then
/// its method. Only discovery, PEP 807's own endpoint, refuses an `Accept` it cannot serve
/// (406, R-807-ACCEPT-2: a SHOULD); PyPI's audience and mint endpoints never did, so they
/// serve it PyPI's answers, as PyPI would.
fn admit(
    headers: &HeaderMap,
    method: &Method,
    allow: &'static str,
    endpoint: Endpoint,
) -> Result<Accepted, Refusal> {
    // All `Accept` lines are one list (RFC 9110 §5.3); an empty one is as good as none.
    let lines: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .map(|value| value.to_str().unwrap_or("(not visible ASCII)"))
        .filter(|line| !line.trim().is_empty())
        .collect();
    let accept = (!lines.is_empty()).then(|| lines.join(","));
    let accepted = match (pep807::accepted(accept.as_deref()), endpoint) {
        (Accepted::Neither, Endpoint::Discovery) => return Err(Refusal::NotAcceptable),
        (Accepted::Neither, Endpoint::Pypi) => Accepted::Json,
        (accepted, _) => accepted,
    };
    if method.as_str() != allow {
        // Discovery is PEP 807's alone: its every error is problem details (R-807-ERR-1).
        let typed = match endpoint {
            Endpoint::Discovery => Accepted::Pep807,
            Endpoint::Pypi => accepted,
        };
        return Err(Refusal::MethodNotAllowed(typed, allow));
    }
    Ok(accepted)
}

/// Which endpoint [`admit`] checks a request for.
#[derive(Clone, Copy)]
enum Endpoint {
    /// PEP 807's discovery.
    Discovery,
    /// PyPI's audience and mint endpoints, which PEP 807 clients use too.
    Pypi,
}

/// Why [`admit`] turned a request away.
enum Refusal {
    /// An `Accept` that admits neither PEP 807's media type nor JSON: 406 (R-807-ACCEPT-2).
    NotAcceptable,
    /// 405, allowing the method named (R-EP-5).
    MethodNotAllowed(Accepted, &'static str),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::NotAcceptable => {
                let detail = format!(
                    "this endpoint answers {} or application/json",
                    pep807::MEDIA_TYPE
                );
                problem(Accepted::Json, StatusCode::NOT_ACCEPTABLE, &detail)
            }
            Refusal::MethodNotAllowed(accepted, allow) => method_not_allowed(accepted, allow),
        }
    }
}

/// A JSON answer in PyPI's serialization. A PEP 807 request gets the PEP's media type, or
/// RFC 9457's for an error (R-807-ERR-1); any other gets PyPI's `application/json`.
fn pep807_json(accepted: Accepted, status: StatusCode, value: &serde_json::Value) -> Response {
    let mut response = json_out::response(status, value);
    if accepted == Accepted::Pep807 {
        let media = if status.is_client_error() || status.is_server_error() {
            pep807::PROBLEM_MEDIA_TYPE
        } else {
            pep807::MEDIA_TYPE
        };
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    }
    response
}

/// A problem-details answer (R-807-ERR-1) of the PEP's own endpoint.
fn problem(accepted: Accepted, status: StatusCode, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or_default();
    pep807_json(
        accepted,
        status,
        &pep807::problem(status.as_u16(), title, detail),
    )
}

/// 405 with `Allow` (R-EP-5); the body is deliberately not the JSON envelope, except for a
/// PEP 807 request to one of its endpoints (discovery, audience, mint), whose every error is
/// problem details (R-807-ERR-1). The upload and control endpoints pass `Accepted::Json`.
fn method_not_allowed(accepted: Accepted, allow: &'static str) -> Response {
    let mut response = match accepted {
        Accepted::Pep807 => problem(
            accepted,
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("this endpoint takes {allow}"),
        ),
        _ => (StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed").into_response(),
    };
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
