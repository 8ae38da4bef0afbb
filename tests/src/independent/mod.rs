//! A small trusted-publishing registry written from `docs/spec/pypi-mint-token.md` at level
//! core, sharing no verification code with the reference registry: its own JWS parsing, the
//! RustCrypto `rsa` crate for signatures, its own matching and state. It speaks the harness's
//! target protocol (control endpoint and clock), so the suite runs against it unmodified.
//!
//! It exists to test the suite itself. Each field of [`Behaviour`] is either a *freedom* (a
//! choice the spec leaves open at core; the whole core suite must pass whatever is chosen)
//! or, under [`Flaws`], a *vulnerability* modelled on a real verifier or registry bug (some
//! core scenario must catch it). `docs/verdict-truth.md` lists both with their rules.

mod archive;
mod fixture;
mod identity;
mod keys;
mod state;
mod token;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use state::{Refusal, Registry};

/// How this registry behaves where the spec leaves a choice at core, and which bugs it has.
/// The default is a plain core implementation in its own words.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// The success body: every member PyPI sends, or fewer, or more (R-RESP-3..5).
    pub success_body: SuccessBody,
    /// The minted token's prefix (R-TOK-1: `pypi-` only at pypi-exact).
    pub token_prefix: &'static str,
    /// How long a minted token lives (R-TOK-2: 900 s to 6 h at core).
    pub lifetime_seconds: f64,
    /// The error body: PyPI's envelope, or one with more in it (R-RESP-6, R-RESP-7).
    pub error_body: ErrorBody,
    /// An unknown issuer worded without `unknown trusted publishing issuer` (R-ORDER-2
    /// says SHOULD).
    pub own_unknown_issuer_wording: bool,
    /// The status for other methods on the mint path (R-EP-5: not 2xx; 405 at pypi-exact).
    pub other_methods: StatusCode,
    /// The audience endpoint's status while trusted publishing is off (R-EP-2: SHOULD be
    /// 403).
    pub audience_when_disabled: StatusCode,
    /// A successful upload's status (R-UP-2: 200 at pypi-exact).
    pub upload_status: u16,
    /// A refused upload's body carries the message too (R-UP-1: SHOULD over HTTP/1.1).
    pub upload_message_in_body: bool,
    /// Clock leeway on `exp`, `iat`, `nbf` (R-TIME-1: at most 60 s).
    pub leeway_seconds: f64,
    /// `aud` arrays holding the audience are accepted (R-CLAIM-2: refused at pypi-exact).
    pub audience_arrays: bool,
    /// RS384, RS512 and PS* are accepted besides RS256 (R-SIG-3: RS256 only at
    /// pypi-exact).
    pub other_rsa_algorithms: bool,
    /// Keys shorter than this are refused (R-SIG-4: accepted at pypi-exact).
    pub min_key_bits: usize,
    /// A token without `kid` is refused; otherwise the issuer's only key verifies it (R-SIG-1
    /// is pypi-exact).
    pub kid_required: bool,
    /// The code of a replayed token (R-JTI-1: `invalid-reuse-token` at pypi-exact).
    pub replay_code: &'static str,
    /// Repository names compared ignoring case (R-GH-3 is pypi-exact).
    pub repository_case_insensitive: bool,
    /// The reason phrase of a 422 (§17 item 10).
    pub unprocessable_reason: &'static str,
    /// `Content-Type: application/json; charset=utf-8` (R-RESP-2's exact header is
    /// pypi-exact).
    pub charset: bool,
    /// Issuer keys come from the fixture's inline JWKS until a `kid` is missing (§17 item 9,
    /// and the target contract allows it); otherwise they are fetched on first use.
    pub seed_keys_from_fixture: bool,
    /// At most one key refresh per issuer in this time (R-JWKS-6: bounded; 60 s at
    /// pypi-exact).
    pub key_refresh_cooldown: Duration,
    /// Keys come from `<iss>/.well-known/openid-configuration`, as PyPI fetches them, not
    /// from the fixture's URLs: the registry knows only the real issuer strings (it reaches
    /// the mocks through the harness's issuer proxy, `HTTPS_PROXY`).
    pub discovery_from_iss: bool,
    /// Certificates trusted besides the system's roots (`SSL_CERT_FILE`'s); with
    /// `discovery_from_iss` the fixture's `ca_pem` is ignored.
    pub extra_root_pem: Option<String>,
    /// Uploads must carry a real sdist whose `PKG-INFO` names the form's project and version
    /// and whose SHA-256 is the form's, or get 400, before the project is looked at.
    pub check_archives: bool,
    pub flaws: Flaws,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuccessBody {
    /// `{"expires", "success", "token"}` as PyPI sends it.
    Pypi,
    /// `{"token"}` alone: what clients read (R-RESP-3); `expires` is a SHOULD (R-RESP-4).
    TokenOnly,
    /// PyPI's members and more (R-RESP-5's exact set is pypi-exact).
    Extra,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorBody {
    /// `{"errors": [{"code", "description"}], "message": "Token request failed"}`.
    Pypi,
    /// Its own message, two errors, extra members (R-RESP-6 allows all of it).
    Richer,
    /// `{"message": "identity token rejected"}` and nothing else: no `errors`, which R-RESP-6
    /// demands and clients read unguarded. Not a freedom: a registry that refuses rightly in
    /// its own words, for the tests of the envelope aspect.
    Bare,
}

/// Bugs of real verifiers and registries. Each must make some core scenario fail.
#[derive(Clone, Debug, Default)]
pub struct Flaws {
    /// HS256 accepted with the issuer's public key, as its PEM file holds it, as the HMAC
    /// secret (node-jsonwebtoken before 4.2.2, CVE-2015-9235; PyJWT before 1.5.1,
    /// CVE-2017-11424).
    pub hs256_keyed_with_pem: bool,
    /// `nbf` not checked (many hand-written verifiers check only `exp`).
    pub ignore_nbf: bool,
    /// The publisher's `repository_owner_id` not compared: a re-created account of the same
    /// name publishes (the "resurrected owner" attack the owner id exists for).
    pub ignore_owner_id: bool,
    /// The workflow file not compared: any workflow of the repository publishes.
    pub ignore_workflow: bool,
    /// The replay table read and written in two steps: concurrent copies all mint.
    pub replay_check_then_set: bool,
    /// Uploads authorised to any existing project, not only the token's.
    pub upload_to_any_project: bool,
    /// Minted tokens never expire at upload.
    pub tokens_never_expire: bool,
    /// Keys fetched from the token's own `jku` header when it has one (RFC 7515 §4.1.2
    /// taken at its word).
    pub keys_from_jku: bool,
    /// Only the exact string `none` blocked, but any other spelling of it (`None`, `NONE`)
    /// looked up ignoring case as "no signature".
    pub unsigned_unless_exactly_none: bool,
    /// The publisher's environment not compared.
    pub ignore_environment: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            success_body: SuccessBody::Pypi,
            token_prefix: "indep_",
            lifetime_seconds: 900.0,
            error_body: ErrorBody::Pypi,
            own_unknown_issuer_wording: false,
            other_methods: StatusCode::METHOD_NOT_ALLOWED,
            audience_when_disabled: StatusCode::FORBIDDEN,
            upload_status: 200,
            upload_message_in_body: true,
            leeway_seconds: 30.0,
            audience_arrays: false,
            other_rsa_algorithms: false,
            min_key_bits: 0,
            kid_required: true,
            replay_code: "invalid-reuse-token",
            repository_case_insensitive: false,
            unprocessable_reason: "Unprocessable Entity",
            charset: false,
            seed_keys_from_fixture: false,
            key_refresh_cooldown: Duration::from_secs(10),
            discovery_from_iss: false,
            extra_root_pem: None,
            check_archives: false,
            flaws: Flaws::default(),
        }
    }
}

/// The control token of registries started with [`start`].
pub const CONTROL_TOKEN: &str = "independent-control-token";

/// A registry serving on a loopback port until dropped.
pub struct Running {
    pub base_url: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts a registry that behaves as `behaviour` says, on a loopback port, with the control
/// endpoint behind [`CONTROL_TOKEN`].
pub async fn start(behaviour: Behaviour) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    serve(listener, behaviour, Some(CONTROL_TOKEN), None).await
}

/// Serves on `listener`: the control endpoint only with `control_token`, the state of the
/// fixture document `fixture` from the start (a registry configured by a file).
pub async fn serve(
    listener: tokio::net::TcpListener,
    behaviour: Behaviour,
    control_token: Option<&str>,
    fixture: Option<&[u8]>,
) -> std::io::Result<Running> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let base_url = format!("http://{}", listener.local_addr()?);
    let registry = Registry::new(behaviour, control_token.map(|t| format!("Bearer {t}")));
    if let Some(document) = fixture {
        let fixture = serde_json::from_slice(document).map_err(|e| invalid(e.to_string()))?;
        registry.apply(fixture).await.map_err(invalid)?;
    }
    let app = app(Arc::new(registry), control_token.is_some());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Running { base_url, server })
}

impl Running {
    /// Serves until the process is stopped.
    pub async fn wait(mut self) {
        let _ = (&mut self.server).await;
    }
}

type Shared = Arc<Registry>;

fn app(registry: Shared, control: bool) -> Router {
    let other_methods = registry.behaviour.other_methods;
    let refuse_others = move || async move { other_methods };
    let router = Router::new()
        .route("/_/oidc/audience", get(audience))
        .route(
            "/_/oidc/mint-token",
            MethodRouter::new()
                .post(mint)
                .fallback(refuse_others)
                .layer(DefaultBodyLimit::max(64 * 1024)),
        )
        .route("/legacy/", post(upload));
    let router = match control {
        true => router
            .route("/__mintcheck/fixture", put(apply_fixture))
            .route("/__mintcheck/clock", post(advance_clock)),
        false => router,
    };
    router.with_state(registry)
}

fn json_answer(registry: &Registry, status: StatusCode, body: Value) -> Response {
    let media = if registry.behaviour.charset {
        "application/json; charset=utf-8"
    } else {
        "application/json"
    };
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}

async fn audience(State(registry): State<Shared>) -> Response {
    if registry.globally_disabled() {
        let status = registry.behaviour.audience_when_disabled;
        if status != StatusCode::OK {
            return json_answer(
                &registry,
                status,
                json!({"message": "trusted publishing is off"}),
            );
        }
    }
    json_answer(
        &registry,
        StatusCode::OK,
        json!({"audience": registry.audience()}),
    )
}

async fn mint(State(registry): State<Shared>, body: Bytes) -> Response {
    let behaviour = &registry.behaviour;
    match registry.mint(&body).await {
        Ok(minted) => {
            let body = match behaviour.success_body {
                SuccessBody::Pypi => {
                    json!({"success": true, "token": minted.token, "expires": minted.expires})
                }
                SuccessBody::TokenOnly => json!({"token": minted.token}),
                SuccessBody::Extra => json!({
                    "success": true, "token": minted.token, "expires": minted.expires,
                    "token_type": "upload", "scope": "project"
                }),
            };
            json_answer(&registry, StatusCode::OK, body)
        }
        Err(refusal) => refused(&registry, &refusal),
    }
}

fn refused(registry: &Registry, refusal: &Refusal) -> Response {
    let behaviour = &registry.behaviour;
    let error = json!({"code": refusal.code(behaviour), "description": refusal.description()});
    let body = match behaviour.error_body {
        ErrorBody::Pypi => json!({"errors": [error], "message": "Token request failed"}),
        ErrorBody::Richer => json!({
            "message": "We could not exchange your identity token.",
            "success": false,
            "errors": [error, {"code": refusal.code(behaviour), "description": "see the registry's documentation", "help": "https://registry.example/help"}],
        }),
        ErrorBody::Bare => json!({"message": "identity token rejected"}),
    };
    let mut response = json_answer(registry, StatusCode::UNPROCESSABLE_ENTITY, body);
    if let Ok(phrase) =
        hyper::ext::ReasonPhrase::try_from(behaviour.unprocessable_reason.as_bytes().to_vec())
    {
        response.extensions_mut().insert(phrase);
    }
    response
}

async fn upload(
    State(registry): State<Shared>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let password = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| pair.strip_prefix("__token__:").map(str::to_owned));
    let mut upload = state::Upload::default();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let Ok(value) = field.bytes().await else {
            return (StatusCode::BAD_REQUEST, "unreadable form").into_response();
        };
        let text = || String::from_utf8_lossy(&value).into_owned();
        match name.as_str() {
            "name" => upload.name = text(),
            "version" => upload.version = text(),
            "sha256_digest" => upload.sha256 = text(),
            "content" => upload.content = value.to_vec(),
            _ => {}
        }
    }
    if upload.name.is_empty() {
        return (StatusCode::BAD_REQUEST, "no name in the form").into_response();
    }
    let answer = registry.upload(password.as_deref(), &upload);
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if registry.behaviour.upload_message_in_body || status.is_success() {
        answer.message.clone()
    } else {
        String::new()
    };
    let mut response = (status, body).into_response();
    if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(answer.message.into_bytes()) {
        response.extensions_mut().insert(phrase);
    }
    response
}

fn authorised(registry: &Registry, headers: &HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    given.is_some() && given == registry.control_bearer.as_deref()
}

async fn apply_fixture(
    State(registry): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorised(&registry, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let fixture = match serde_json::from_slice(&body) {
        Ok(fixture) => fixture,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    match registry.apply(fixture).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

async fn advance_clock(
    State(registry): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorised(&registry, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let seconds = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("advance_seconds").and_then(Value::as_f64));
    match seconds {
        Some(seconds) if seconds >= 0.0 => {
            registry.advance_clock(seconds);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "advance_seconds: a number >= 0").into_response(),
    }
}
