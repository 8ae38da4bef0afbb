//! HTTP handlers. Every answer is JSON except the attacker's certificate.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Query, Request};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::log::{Endpoint, LoggedRequest};
use super::{IssuerError, Shared};
use crate::fault::JwksFault;
use crate::forge::ForgeError;
use crate::forge::header::{ATTACKER_CERTIFICATE, ATTACKER_JWKS};
use crate::profile::identity;
use crate::spec::TokenSpec;

/// Each mock's state rides on its requests, so one set of routes serves every mock.
type AppState = Extension<Arc<Shared>>;

const DISCOVERY_SUFFIX: &str = "/.well-known/openid-configuration";
const JWKS_SUFFIX: &str = "/.well-known/jwks";
/// Where a GitLab job gets a fresh ID token ([`gitlab_job_token`]).
pub(super) const GITLAB_JOB_TOKEN: &str = "/gitlab/id_token";
/// The query of the URL the `jwks-redirect` fault sends key fetches on to.
const REDIRECTED: &str = "redirected";

/// The routes, built once per process (building them per mock was a twentieth of a suite
/// run): each request must carry its mock's `Arc<Shared>` as an extension.
pub(super) fn router() -> Router {
    static ROUTES: LazyLock<Router> = LazyLock::new(routes);
    ROUTES.clone()
}

fn routes() -> Router {
    Router::new()
        .route("/token", post(mint_token))
        .route("/github/idtoken", get(github_token_request))
        .route(GITLAB_JOB_TOKEN, get(gitlab_job_token))
        .route(ATTACKER_JWKS, get(attacker_jwks))
        .route(ATTACKER_CERTIFICATE, get(attacker_certificate))
        .route("/admin/keys", post(admin_keys))
        .route("/admin/fault", post(admin_fault))
        .route("/admin/jobs", post(admin_jobs))
        .route("/admin/log", get(admin_log))
        .fallback(well_known)
        .layer(middleware::from_fn(record))
}

async fn record(Extension(shared): AppState, request: Request, next: Next) -> Response {
    let uri = request.uri();
    shared.record(LoggedRequest {
        at: SystemTime::now(),
        endpoint: Endpoint::classify(uri.path()),
        method: request.method().to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
    });
    next.run(request).await
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, axum::Json(json!({ "error": message.to_string() }))).into_response()
}

fn forge_error(err: ForgeError) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, err)
}

/// Discovery and JWKS, under any path prefix (issuers such as ActiveState's have one).
///
/// On a loopback `Host` the documents describe the configured issuer. On any other `Host`
/// (a hosts entry pointing e.g. `token.actions.githubusercontent.com` at the mock) they
/// describe `https://<host><prefix>`, so one mock can stand in for several issuers.
async fn well_known(
    Extension(shared): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return error(StatusCode::METHOD_NOT_ALLOWED, "only GET is served here");
    }
    let path = uri.path();
    if let Some(prefix) = path.strip_suffix(DISCOVERY_SUFFIX) {
        return discovery(&shared, &headers, prefix);
    }
    if path.ends_with(JWKS_SUFFIX) {
        if shared.fault() == Some(JwksFault::Redirect) && uri.query() != Some(REDIRECTED) {
            let location = format!("{path}?{REDIRECTED}");
            return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
        }
        return jwks(&shared).await;
    }
    error(StatusCode::NOT_FOUND, format!("no such endpoint: {path}"))
}

fn discovery(shared: &Shared, headers: &HeaderMap, prefix: &str) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let hostname = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let loopback = matches!(hostname, "" | "localhost" | "127.0.0.1" | "[::1]")
        || hostname
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    // Asked by its own name (an in-process mock's), it is itself; by any other name it
    // stands behind the issuer proxy as the issuer of that host.
    let own_name = shared
        .base_url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest));
    let (issuer, origin) = if loopback || own_name == Some(host) {
        (shared.issuer.clone(), shared.base_url.clone())
    } else {
        let scheme = if shared.base_url.starts_with("https:") {
            "https"
        } else {
            "http"
        };
        (
            format!("https://{hostname}{prefix}"),
            format!("{scheme}://{host}"),
        )
    };
    let mut document = json!({
        "issuer": issuer,
        "jwks_uri": format!("{origin}{prefix}{JWKS_SUFFIX}"),
        "subject_types_supported": ["public", "pairwise"],
        "response_types_supported": ["id_token"],
        "claims_supported": ["sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository",
            "repository_owner", "repository_owner_id", "job_workflow_ref", "environment"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid"],
    });
    if shared.fault() == Some(JwksFault::DiscoveryWithoutJwksUri) {
        document.as_object_mut().map(|d| d.remove("jwks_uri"));
    }
    axum::Json(document).into_response()
}

async fn jwks(shared: &Shared) -> Response {
    match shared.fault() {
        Some(JwksFault::Outage) => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "simulated JWKS outage");
        }
        Some(JwksFault::Malformed) => {
            return ([(header::CONTENT_TYPE, "application/json")], "{\"keys\": [").into_response();
        }
        Some(JwksFault::Slow(delay)) => tokio::time::sleep(delay).await,
        _ => {}
    }
    axum::Json(shared.jwks()).into_response()
}

async fn mint_token(Extension(shared): AppState, body: Bytes) -> Response {
    let spec: TokenSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(err) => return error(StatusCode::BAD_REQUEST, format!("token request: {err}")),
    };
    match spec.apply(shared.forger().token(spec.profile())).sign() {
        Ok(token) => axum::Json(json!({
            "token": token.compact,
            "header": token.header,
            "claims": token.claims,
        }))
        .into_response(),
        Err(err) => forge_error(err),
    }
}

/// GitHub Actions' contract: `GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=A` with
/// `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` answers `{"value": "<jwt>"}`.
/// The job whose request token the request carries (`Authorization: bearer T`), or why
/// the request is refused (see [`unauthorized`]).
fn requesting_job(
    shared: &Shared,
    headers: &HeaderMap,
    variable: &str,
) -> Result<TokenSpec, String> {
    let Some(authorization) = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
    else {
        return Err(format!("missing Authorization header (bearer {variable})"));
    };
    let Some((scheme, request_token)) = authorization.split_once(' ') else {
        return Err("Authorization header is not `bearer <token>`".into());
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("Authorization scheme must be bearer".into());
    }
    shared
        .job(request_token.trim())
        .ok_or_else(|| "unknown request token".into())
}

fn unauthorized(message: String) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({ "message": message })),
    )
        .into_response()
}

async fn github_token_request(
    Extension(shared): AppState,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let spec = match requesting_job(&shared, &headers, "ACTIONS_ID_TOKEN_REQUEST_TOKEN") {
        Ok(spec) => spec,
        Err(message) => return unauthorized(message),
    };
    let audience = query.get("audience").cloned().unwrap_or_else(|| {
        // Without an audience GitHub defaults to the URL of the repository owner.
        let owner = spec.claims.get("repository_owner").and_then(Value::as_str);
        format!(
            "https://github.com/{}",
            owner.unwrap_or(identity::GITHUB_OWNER)
        )
    });
    let builder = spec
        .apply(shared.forger().token(spec.profile()))
        .claim("aud", audience);
    match builder.sign() {
        Ok(token) => axum::Json(json!({ "value": token.compact })).into_response(),
        Err(err) => forge_error(err),
    }
}

/// A fresh ID token for a GitLab job, as plain text for `$(curl …)`: GitLab hands a job its
/// token once, in `<AUD>_ID_TOKEN`, and each token mints once, so rehearsing a second upload
/// needs a new one. Not a GitLab API (GitLab has none); the audience is the `audience`
/// query parameter, else the job's own.
async fn gitlab_job_token(
    Extension(shared): AppState,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let spec = match requesting_job(&shared, &headers, "MINTCHECK_ID_TOKEN_REQUEST_TOKEN") {
        Ok(spec) => spec,
        Err(message) => return unauthorized(message),
    };
    let mut builder = spec.apply(shared.forger().token(spec.profile()));
    if let Some(audience) = query.get("audience") {
        builder = builder.claim("aud", audience.as_str());
    }
    match builder.sign() {
        Ok(token) => ([(header::CONTENT_TYPE, "text/plain")], token.compact).into_response(),
        Err(err) => forge_error(err),
    }
}

async fn attacker_jwks(Extension(shared): AppState) -> Response {
    axum::Json(json!({ "keys": [shared.keys.rogue.jwk()] })).into_response()
}

async fn attacker_certificate(Extension(shared): AppState) -> Response {
    // Never meant to be fetched; serving something lets a test prove it was (or was not).
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        shared.keys.rogue.public_pem(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum KeyAction {
    Publish(String),
    Retire(String),
    SignWith(String),
    Rotate,
    EditJwk {
        kid: String,
        #[serde(flatten)]
        edit: super::JwkEdit,
    },
    AddEntry(Value),
}

async fn admin_keys(Extension(shared): AppState, body: Bytes) -> Response {
    let action: KeyAction = match serde_json::from_slice(&body) {
        Ok(action) => action,
        Err(err) => {
            let hint = r#"expected {"publish": KID}, {"retire": KID}, {"sign_with": KID}, "rotate", {"edit_jwk": {"kid": KID, "set": {...}, "remove": [...]}} or {"add_entry": {...}}"#;
            return error(StatusCode::BAD_REQUEST, format!("{err}; {hint}"));
        }
    };
    let result: Result<(), IssuerError> = match &action {
        KeyAction::Publish(kid) => shared.publish_key(kid),
        KeyAction::Retire(kid) => shared.retire_key(kid),
        KeyAction::SignWith(kid) => shared.sign_with(kid),
        KeyAction::EditJwk { kid, edit } => shared.edit_jwk(kid, edit.clone()),
        KeyAction::AddEntry(entry) => {
            shared.add_jwks_entry(entry.clone());
            Ok(())
        }
        KeyAction::Rotate => {
            let next = shared.keys.next.kid().to_owned();
            shared
                .publish_key(&next)
                .and_then(|()| shared.sign_with(&next))
        }
    };
    match result {
        Ok(()) => axum::Json(json!({ "jwks": shared.jwks() })).into_response(),
        Err(err) => error(StatusCode::BAD_REQUEST, err),
    }
}

async fn admin_fault(Extension(shared): AppState, body: Bytes) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct FaultRequest {
        fault: Option<String>,
    }
    let request: FaultRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("{err}; expected {{\"fault\": NAME|null}}"),
            );
        }
    };
    match request
        .fault
        .as_deref()
        .map(str::parse::<JwksFault>)
        .transpose()
    {
        Ok(fault) => {
            shared.set_fault(fault);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(err) => error(StatusCode::BAD_REQUEST, err),
    }
}

async fn admin_jobs(Extension(shared): AppState, body: Bytes) -> Response {
    match serde_json::from_slice::<TokenSpec>(&body) {
        Ok(spec) => axum::Json(json!({ "request_token": shared.add_job(spec) })).into_response(),
        Err(err) => error(StatusCode::BAD_REQUEST, format!("job: {err}")),
    }
}

async fn admin_log(Extension(shared): AppState) -> Response {
    axum::Json(super::lock(&shared.log).clone()).into_response()
}
