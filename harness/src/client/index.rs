//! The PEP 807 index `mintcheck client` plays for one client scenario: discovery for its
//! upload path `/legacy/`, the audience and mint endpoints it advertises (not PyPI's paths,
//! so a client that guesses them instead of discovering finds nothing), and the upload. A
//! second server on another loopback address (`127.0.0.2`, another host to a client) stands
//! for a foreign host. Every request either server receives is logged.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reference_registry::pep807::{self, MEDIA_TYPE, PROBLEM_MEDIA_TYPE};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// Where the played index advertises its token exchange.
pub const AUDIENCE_PATH: &str = "/pep807/audience";
pub const MINT_PATH: &str = "/pep807/mint-token";
/// The audience it answers: not PyPI's, so a client that assumes `pypi` instead of asking
/// the discovered endpoint shows it in its identity token.
pub const AUDIENCE: &str = "mintcheck-pep807";

/// How the index answers, per scenario.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Discovery answers 404: no trusted publishing for this upload URL.
    pub discovery_not_found: bool,
    /// The advertised endpoints are on the foreign host.
    pub endpoints_on_foreign_host: bool,
    /// `features` and `default-features` of the discovery answer (absent when `None`).
    pub features: Option<Vec<&'static str>>,
    pub default_features: Option<Vec<&'static str>>,
    /// Every mint is refused with this status and body (and its media type).
    pub mint_refusal: Option<(u16, Value, &'static str)>,
    /// The origin the client is given instead of the loopback one, a plain-http name that is
    /// no trustworthy origin (R-807-URL-1). The client reaches it only through the index
    /// itself acting as its HTTP proxy: nothing leaves the machine.
    pub public_origin: Option<&'static str>,
}

/// Which server a request reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// The index the client was given (`127.0.0.1`).
    Index,
    /// The other loopback address, a foreign host.
    Foreign,
}

/// One request the played index received.
#[derive(Clone, Debug)]
pub struct Logged {
    pub host: Host,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub body: String,
    pub authorization: Option<String>,
    /// The status the index answered.
    pub status: u16,
}

impl Logged {
    pub fn is_discovery(&self) -> bool {
        self.method == "GET" && self.path == pep807::DISCOVERY_PATH
    }

    /// A mint request, at the advertised endpoint or a guessed one (PyPI's).
    pub fn is_mint(&self) -> bool {
        self.method == "POST" && self.path.ends_with("mint-token")
    }

    /// A mint at the endpoint the index advertised.
    pub fn is_advertised_mint(&self) -> bool {
        self.method == "POST" && self.path == MINT_PATH
    }

    pub fn is_upload(&self) -> bool {
        self.method == "POST" && self.path == pep807::UPLOAD_PATH
    }

    /// The `aud` of the identity token a mint request carried.
    pub fn token_audience(&self) -> Option<String> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let body: Value = serde_json::from_str(&self.body).ok()?;
        let payload = body["token"].as_str()?.split('.').nth(1)?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        claims["aud"].as_str().map(str::to_owned)
    }

    /// The mint body's `features`, if it names any.
    pub fn features(&self) -> Vec<String> {
        let body: Value = serde_json::from_str(&self.body).unwrap_or_default();
        body["features"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|f| f.as_str().map_or_else(|| f.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The password of `Authorization: Basic` (`__token__:<credential>`).
    pub fn credential(&self) -> Option<String> {
        let encoded = self.authorization.as_deref()?.strip_prefix("Basic ")?;
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        decoded
            .split_once(':')
            .map(|(_, password)| password.to_owned())
    }
}

#[derive(Default)]
struct Ledger {
    log: Vec<Logged>,
    /// Minted credentials: whether each is single-use, and the uploads it made.
    credentials: HashMap<String, (bool, u32)>,
}

struct Shared {
    behaviour: Behaviour,
    index_url: String,
    foreign_url: String,
    ledger: Mutex<Ledger>,
}

/// Both servers, serving until dropped.
pub struct PlayedIndex {
    shared: Arc<Shared>,
    servers: Vec<JoinHandle<()>>,
}

impl Drop for PlayedIndex {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("binding {addr}: {source}")]
pub struct BindError {
    addr: String,
    #[source]
    source: std::io::Error,
}

impl PlayedIndex {
    pub async fn start(behaviour: Behaviour) -> Result<PlayedIndex, BindError> {
        let index = bind("127.0.0.1:0").await?;
        let foreign = bind("127.0.0.2:0").await?;
        let url = |listener: &tokio::net::TcpListener| -> Result<String, BindError> {
            let addr: SocketAddr = listener.local_addr().map_err(|source| BindError {
                addr: "a bound listener".into(),
                source,
            })?;
            Ok(format!("http://{addr}"))
        };
        let shared = Arc::new(Shared {
            behaviour,
            index_url: url(&index)?,
            foreign_url: url(&foreign)?,
            ledger: Mutex::default(),
        });
        let servers = [(index, Host::Index), (foreign, Host::Foreign)]
            .into_iter()
            .map(|(listener, host)| {
                let app = router(shared.clone(), host);
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                })
            })
            .collect();
        Ok(PlayedIndex { shared, servers })
    }

    /// The upload URL the client is given.
    pub fn upload_url(&self) -> String {
        format!("{}{}", self.shared.origin(), pep807::UPLOAD_PATH)
    }

    /// With a public origin, the HTTP proxy the client must be told of: the index itself.
    pub fn proxy(&self) -> Option<&str> {
        self.shared
            .behaviour
            .public_origin
            .map(|_| self.shared.index_url.as_str())
    }

    /// Every request so far, in arrival order.
    pub fn log(&self) -> Vec<Logged> {
        lock(&self.shared).log.clone()
    }
}

async fn bind(addr: &str) -> Result<tokio::net::TcpListener, BindError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| BindError {
            addr: addr.to_owned(),
            source,
        })
}

impl Shared {
    /// Where the client is told the index is.
    fn origin(&self) -> &str {
        self.behaviour.public_origin.unwrap_or(&self.index_url)
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Ledger> {
    shared.ledger.lock().unwrap_or_else(|e| e.into_inner())
}

fn router(shared: Arc<Shared>, host: Host) -> Router {
    Router::new().fallback(answer).with_state((shared, host))
}

async fn answer(State((shared, host)): State<(Arc<Shared>, Host)>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let logged = Logged {
        host,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        body: String::from_utf8_lossy(&body).chars().take(4096).collect(),
        authorization: header_text(&parts.headers, header::AUTHORIZATION),
        status: 0,
    };
    let path = logged.path.as_str();
    let response = match (logged.method.as_str(), path) {
        ("GET", pep807::DISCOVERY_PATH) if host == Host::Index => discovery(&shared, &logged),
        ("GET", AUDIENCE_PATH) => typed(StatusCode::OK, &json!({"audience": AUDIENCE}), MEDIA_TYPE),
        ("POST", MINT_PATH) => mint(&shared, &body),
        ("POST", pep807::UPLOAD_PATH) if host == Host::Index => upload(&shared, &logged),
        _ => problem(StatusCode::NOT_FOUND, "nothing here"),
    };
    lock(&shared).log.push(Logged {
        status: response.status().as_u16(),
        ..logged
    });
    response
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

fn discovery(shared: &Shared, logged: &Logged) -> Response {
    let behaviour = &shared.behaviour;
    if behaviour.discovery_not_found || pep807::discovered_path(logged.query.as_deref()).is_err() {
        return problem(
            StatusCode::NOT_FOUND,
            "no trusted publishing for this upload URL",
        );
    }
    let origin = if behaviour.endpoints_on_foreign_host {
        &shared.foreign_url
    } else {
        shared.origin()
    };
    let mut document = json!({
        "audience-endpoint": format!("{origin}{AUDIENCE_PATH}"),
        "token-mint-endpoint": format!("{origin}{MINT_PATH}"),
    });
    if let Some(features) = &behaviour.features {
        document["features"] = json!(features);
    }
    if let Some(defaults) = &behaviour.default_features {
        document["default-features"] = json!(defaults);
    }
    typed(StatusCode::OK, &document, MEDIA_TYPE)
}

fn mint(shared: &Shared, body: &Bytes) -> Response {
    if let Some((status, refusal, media)) = &shared.behaviour.mint_refusal {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        return typed(status, refusal, media);
    }
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    if request["token"].as_str().is_none_or(str::is_empty) {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, "no identity token");
    }
    let asked: Vec<&str> = request["features"]
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let defaults = shared
        .behaviour
        .default_features
        .clone()
        .unwrap_or_else(|| vec!["multi-use-token"]);
    let single_use = if asked.is_empty() {
        defaults.contains(&"single-use-token")
    } else {
        asked.contains(&"single-use-token")
    };
    let mut ledger = lock(shared);
    let credential = format!("mintcheck-credential-{}", ledger.credentials.len() + 1);
    ledger
        .credentials
        .insert(credential.clone(), (single_use, 0));
    typed(
        StatusCode::OK,
        &json!({"token": credential, "expires": mock_issuer::time::unix_now() as i64 + 900}),
        MEDIA_TYPE,
    )
}

fn upload(shared: &Shared, logged: &Logged) -> Response {
    let mut ledger = lock(shared);
    let Some((single_use, uploads)) = logged
        .credential()
        .and_then(|credential| ledger.credentials.get_mut(&credential))
    else {
        return (
            StatusCode::FORBIDDEN,
            "Invalid or non-existent authentication information.",
        )
            .into_response();
    };
    if *single_use && *uploads > 0 {
        return (StatusCode::FORBIDDEN, "single-use credential already used").into_response();
    }
    *uploads += 1;
    StatusCode::OK.into_response()
}

fn problem(status: StatusCode, detail: &str) -> Response {
    let title = status.canonical_reason().unwrap_or_default();
    typed(
        status,
        &pep807::problem(status.as_u16(), title, detail),
        PROBLEM_MEDIA_TYPE,
    )
}

fn typed(status: StatusCode, body: &Value, media: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, media)], body.to_string()).into_response()
}
