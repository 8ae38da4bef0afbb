//! The issuer as an HTTP(S) server: discovery, JWKS, token minting, GitHub Actions'
//! token-request contract, key lifecycle and faults.

pub(crate) mod listen;
pub mod log;
mod routes;
mod shared;

pub use shared::JwkEdit;
use shared::{KeyState, Shared, lock};

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::Layer as _;

use crate::env::ClientEnv;
use crate::fault::JwksFault;
use crate::forge::{Forger, TokenBuilder};
use crate::keys::KeySet;
use crate::profile::{Profile, Provider};
use crate::spec::TokenSpec;
use crate::tls::{TestCa, TlsError};
use log::{Endpoint, LoggedRequest};

/// Which `iss` the mock's tokens and discovery document carry.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum IssuerMode {
    /// The mock's own base URL (`http://127.0.0.1:PORT` once bound, or as given to
    /// [`MockIssuerBuilder::in_process`]).
    #[default]
    Own,
    /// A provider's canonical issuer string, while the keys are served by the mock.
    Canonical(Provider),
    /// Any other issuer string (a self-managed GitLab, a GHES host, ...).
    Custom(String),
}

impl FromStr for IssuerMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "own" {
            return Ok(IssuerMode::Own);
        }
        if let Some(provider) = Provider::ALL.into_iter().find(|p| p.name() == text) {
            return Ok(IssuerMode::Canonical(provider));
        }
        if text.starts_with("https://") || text.starts_with("http://") {
            return Ok(IssuerMode::Custom(text.to_owned()));
        }
        Err(format!(
            "unknown issuer mode {text:?}: expected own, github, gitlab, google, activestate or an http(s) URL"
        ))
    }
}

impl fmt::Display for IssuerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssuerMode::Own => f.write_str("own"),
            IssuerMode::Canonical(provider) => f.write_str(provider.name()),
            IssuerMode::Custom(url) => f.write_str(url),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("binding {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("refusing to bind non-loopback address {0} without allow_remote (--allow-remote)")]
    NotLoopback(SocketAddr),
    #[error("an in-process mock issuer has no socket to serve https on")]
    InProcessTls,
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(
        "no key with kid {0:?} (known: mintcheck-primary, mintcheck-next, mintcheck-rogue, mintcheck-small)"
    )]
    UnknownKey(String),
    #[error("the rogue key is never published or used to sign valid tokens")]
    RogueKey,
}

/// Builds a [`MockIssuer`]; every setting has a default.
#[derive(Debug)]
#[must_use]
pub struct MockIssuerBuilder {
    addr: SocketAddr,
    allow_remote: bool,
    tls: bool,
    ca: Option<Arc<TestCa>>,
    mode: IssuerMode,
    keys: Option<KeySet>,
    fault: Option<JwksFault>,
    audience: String,
    close_connections: bool,
    in_process: Option<String>,
}

impl Default for MockIssuerBuilder {
    fn default() -> Self {
        MockIssuerBuilder {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_remote: false,
            tls: false,
            ca: None,
            mode: IssuerMode::Own,
            keys: None,
            fault: None,
            audience: "pypi".to_owned(),
            close_connections: false,
            in_process: None,
        }
    }
}

impl MockIssuerBuilder {
    /// The address to bind (default `127.0.0.1:0`).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Allows a non-loopback bind address.
    pub fn allow_remote(mut self, allow: bool) -> Self {
        self.allow_remote = allow;
        self
    }

    /// Serve https with a CA generated at start (see [`MockIssuer::ca_path`]).
    pub fn tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// Serve https with a certificate from this CA instead of a generated one (implies
    /// [`Self::tls`]), so several mocks can be trusted through one CA file.
    pub fn ca(mut self, ca: Arc<TestCa>) -> Self {
        self.tls = true;
        self.ca = Some(ca);
        self
    }

    pub fn issuer_mode(mut self, mode: IssuerMode) -> Self {
        self.mode = mode;
        self
    }

    /// Keys other than the embedded test keys, e.g. [`crate::fresh_keys`].
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.keys = Some(keys);
        self
    }

    pub fn jwks_fault(mut self, fault: JwksFault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// The audience tokens carry by default (default `pypi`).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Close every connection after its response (`connection: close`; default: keep
    /// them alive), for mocks that come and go at one address: behind an issuer proxy,
    /// a client's pooled connection would otherwise carry a request to a mock that has
    /// since been replaced.
    pub fn close_connections(mut self, close: bool) -> Self {
        self.close_connections = close;
        self
    }

    /// Serve no socket: the mock's base URL is `base_url` (no trailing `/`), and requests
    /// reach it only through [`MockIssuer::service`], delivered by whoever serves that URL
    /// (the harness: to its embedded registry in process, or through one listener for all
    /// of a run's mocks). Nothing is bound, so nothing waits in the kernel's tables after
    /// the mock is gone. Use a host no resolver answers (`.invalid`) for a mock only the
    /// program itself reaches.
    pub fn in_process(mut self, base_url: impl Into<String>) -> Self {
        self.in_process = Some(base_url.into());
        self
    }

    pub async fn start(self) -> Result<MockIssuer, IssuerError> {
        let (listener, base_url, ca) = match &self.in_process {
            Some(_) if self.tls => return Err(IssuerError::InProcessTls),
            Some(base_url) => (None, base_url.trim_end_matches('/').to_owned(), None),
            None => {
                let (listener, base_url, ca) = self.listen().await?;
                (Some(listener), base_url, ca)
            }
        };
        let issuer = match &self.mode {
            IssuerMode::Own => base_url.clone(),
            IssuerMode::Canonical(provider) => provider.canonical_issuer().to_owned(),
            IssuerMode::Custom(url) => url.clone(),
        };
        // A mock impersonating a provider has that provider's own keys, as the real one does.
        let keys = self.keys.unwrap_or_else(|| match &self.mode {
            IssuerMode::Canonical(provider) => KeySet::embedded_for(*provider),
            IssuerMode::Own | IssuerMode::Custom(_) => KeySet::embedded(),
        });
        let default_job = uuid::Uuid::new_v4().simple().to_string();
        let shared = Arc::new(Shared {
            base_url,
            issuer,
            audience: self.audience,
            state: Mutex::new(KeyState {
                published: vec![keys.primary.kid().to_owned()],
                signing: keys.primary.clone(),
                fault: self.fault,
                jwk_edits: HashMap::new(),
                extra_jwks: Vec::new(),
                jobs: HashMap::from([(default_job.clone(), TokenSpec::default())]),
            }),
            keys,
            log: Mutex::new(Vec::new()),
            ca_pem: ca.as_ref().map(|ca| ca.ca_pem().to_owned()),
        });
        let service = MockService {
            shared: shared.clone(),
        };
        let (addr, task) = match listener {
            Some(listener) => {
                let addr = listener.local_addr().ok();
                let acceptor = ca
                    .as_ref()
                    .map(|ca| tokio_rustls::TlsAcceptor::from(ca.server_config()));
                let app = axum::Extension(shared.clone()).layer(routes::router());
                let serving = listen::serve(listener, acceptor, app, self.close_connections);
                (addr, Some(tokio::spawn(serving)))
            }
            None => (None, None),
        };
        Ok(MockIssuer {
            shared,
            addr,
            ca,
            default_job,
            task,
            service,
        })
    }

    /// The bound listener, the base URL it serves and the CA of its certificate (https).
    async fn listen(&self) -> Result<(TcpListener, String, Option<Arc<TestCa>>), IssuerError> {
        if !self.addr.ip().is_loopback() && !self.allow_remote {
            return Err(IssuerError::NotLoopback(self.addr));
        }
        let bind_error = |source| IssuerError::Bind {
            addr: self.addr,
            source,
        };
        let listener = TcpListener::bind(self.addr).await.map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;
        let ca = match &self.ca {
            Some(ca) => Some(ca.clone()),
            None if self.tls => Some(Arc::new(TestCa::generate()?)),
            None => None,
        };
        let scheme = if ca.is_some() { "https" } else { "http" };
        Ok((listener, format!("{scheme}://{local}"), ca))
    }
}

/// A running mock issuer. Dropping it stops the server and closes its connections.
pub struct MockIssuer {
    shared: Arc<Shared>,
    /// `None` in process ([`MockIssuerBuilder::in_process`]).
    addr: Option<SocketAddr>,
    ca: Option<Arc<TestCa>>,
    default_job: String,
    task: Option<JoinHandle<()>>,
    service: MockService,
}

/// A mock issuer's request handlers, for requests delivered without a socket
/// ([`MockIssuer::service`]). Cheap to clone; clones share the mock's state and log.
#[derive(Clone)]
pub struct MockService {
    shared: Arc<Shared>,
}

impl fmt::Debug for MockService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockService")
            .field("base_url", &self.shared.base_url)
            .finish_non_exhaustive()
    }
}

impl MockService {
    /// The mock's answer to `request` (logged and counted as over HTTP).
    pub async fn call(
        &self,
        mut request: axum::http::Request<axum::body::Body>,
    ) -> axum::http::Response<axum::body::Body> {
        use tower::ServiceExt as _;
        request.extensions_mut().insert(self.shared.clone());
        let answer = routes::router().oneshot(request).await;
        answer.unwrap_or_else(|never| match never {})
    }
}

impl Drop for MockIssuer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl fmt::Debug for MockIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockIssuer")
            .field("base_url", &self.shared.base_url)
            .field("issuer", &self.shared.issuer)
            .finish_non_exhaustive()
    }
}

impl MockIssuer {
    /// Plain http on `127.0.0.1:0`, own-URL issuer, embedded keys.
    pub async fn start() -> Result<MockIssuer, IssuerError> {
        MockIssuer::builder().start().await
    }

    pub fn builder() -> MockIssuerBuilder {
        MockIssuerBuilder::default()
    }

    /// The bound address; `None` in process ([`MockIssuerBuilder::in_process`]).
    pub fn address(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The mock's request handlers, for requests delivered without a socket. Requests
    /// served here are logged and counted as any other.
    pub fn service(&self) -> MockService {
        self.service.clone()
    }

    /// `http(s)://127.0.0.1:PORT` (in process: as given), no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The `iss` its tokens carry and its discovery document names.
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.shared.base_url)
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks", self.shared.base_url)
    }

    /// `POST` a [`TokenSpec`] here (JSON) to get a token over HTTP.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.shared.base_url)
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL`: clients append `&audience=...`.
    pub fn github_request_url(&self) -> String {
        format!("{}/github/idtoken?api-version=2.0", self.shared.base_url)
    }

    /// Where a GitLab job registered with [`Self::add_job`] gets a fresh ID token with
    /// audience `audience`, as plain text: `GET` with `Authorization: bearer <request token>`.
    pub fn gitlab_job_token_url(&self, audience: &str) -> String {
        format!(
            "{}{}?audience={audience}",
            self.shared.base_url,
            routes::GITLAB_JOB_TOKEN
        )
    }

    /// The request token of the default job (a plain `github` profile token).
    pub fn request_token(&self) -> &str {
        &self.default_job
    }

    /// Registers another CI job: its request token gets tokens built from `spec`.
    pub fn add_job(&self, spec: TokenSpec) -> String {
        self.shared.add_job(spec)
    }

    /// The JWKS as currently published (faults applied), for inline fixture use.
    pub fn jwks(&self) -> Value {
        self.shared.jwks()
    }

    /// A token from this issuer: its `iss`, audience and current signing key.
    pub fn token(&self, profile: Profile) -> TokenBuilder {
        self.shared.forger().token(profile)
    }

    /// The forger behind [`Self::token`], for callers that sign many tokens.
    pub fn forger(&self) -> Forger {
        self.shared.forger()
    }

    pub fn keys(&self) -> &KeySet {
        &self.shared.keys
    }

    /// Adds a key to the JWKS (the signing key does not change).
    pub fn publish_key(&self, kid: &str) -> Result<(), IssuerError> {
        self.shared.publish_key(kid)
    }

    /// Removes a key from the JWKS (tokens it signed stop verifying after a refresh).
    pub fn retire_key(&self, kid: &str) -> Result<(), IssuerError> {
        self.shared.retire_key(kid)
    }

    /// Signs new tokens with another known key (publish it first, or it is an unknown kid).
    pub fn sign_with(&self, kid: &str) -> Result<(), IssuerError> {
        self.shared.sign_with(kid)
    }

    /// Publishes the next key and signs with it; the old key stays published.
    pub fn rotate(&self) -> Result<(), IssuerError> {
        let next = self.shared.keys.next.kid().to_owned();
        self.publish_key(&next)?;
        self.sign_with(&next)
    }

    /// Publishes a key's JWK changed: members set and removed (e.g. `alg: PS256`, no `kid`).
    /// The key still signs as before.
    pub fn edit_jwk(&self, kid: &str, edit: JwkEdit) -> Result<(), IssuerError> {
        self.shared.edit_jwk(kid, edit)
    }

    /// Publishes `entry` in the JWKS after the keys, verbatim.
    pub fn add_jwks_entry(&self, entry: Value) {
        self.shared.add_jwks_entry(entry);
    }

    pub fn set_jwks_fault(&self, fault: Option<JwksFault>) {
        self.shared.set_fault(fault);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// How many requests hit `endpoint` so far.
    pub fn hits(&self, endpoint: Endpoint) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.endpoint == endpoint)
            .count()
    }

    /// The CA that signed the server certificate (TLS mode only), PEM.
    pub fn ca_pem(&self) -> Option<&str> {
        self.shared.ca_pem.as_deref()
    }

    /// A file holding [`Self::ca_pem`], removed when the CA is dropped (with the last issuer
    /// holding it).
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca.as_ref().map(|ca| ca.ca_path())
    }

    /// The environment a GitHub Actions client needs to fetch tokens for `request_token`.
    pub fn github_env(&self, request_token: &str) -> ClientEnv {
        ClientEnv::github(&self.github_request_url(), request_token, self.ca_path())
    }

    /// The environment a GitLab CI client needs: `<AUD>_ID_TOKEN` holding `token`.
    pub fn gitlab_env(&self, audience: &str, token: &str) -> ClientEnv {
        ClientEnv::gitlab(audience, token, self.ca_path())
    }
}
