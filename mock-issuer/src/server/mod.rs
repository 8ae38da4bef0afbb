//! The issuer as an HTTP(S) server: discovery, JWKS, token minting, GitHub Actions'
//! token-request contract, key lifecycle and faults.

pub(crate) mod listen;
pub mod log;
mod routes;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::env::ClientEnv;
use crate::fault::JwksFault;
use crate::forge::{Forger, TokenBuilder};
use crate::keys::{KeySet, SigningKey};
use crate::profile::{Profile, Provider};
use crate::spec::TokenSpec;
use crate::tls::{TestCa, TlsError};
use log::{Endpoint, LoggedRequest};

/// Which `iss` the mock's tokens and discovery document carry.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum IssuerMode {
    /// The mock's own base URL (`http://127.0.0.1:PORT`), known only after binding.
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
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(
        "no key with kid {0:?} (known: mintcheck-primary, mintcheck-next, mintcheck-rogue, mintcheck-small)"
    )]
    UnknownKey(String),
    #[error("the rogue key is never published or used to sign valid tokens")]
    RogueKey,
}

/// A change to a published JWK: members set (any JSON), then members removed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwkEdit {
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub set: serde_json::Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl JwkEdit {
    fn applied_to(&self, jwk: &Value) -> Value {
        let mut jwk = jwk.clone();
        if let Some(members) = jwk.as_object_mut() {
            members.extend(self.set.clone());
            for name in &self.remove {
                members.remove(name);
            }
        }
        jwk
    }
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

    pub async fn start(self) -> Result<MockIssuer, IssuerError> {
        if !self.addr.ip().is_loopback() && !self.allow_remote {
            return Err(IssuerError::NotLoopback(self.addr));
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|source| IssuerError::Bind {
                addr: self.addr,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| IssuerError::Bind {
            addr: self.addr,
            source,
        })?;
        let ca = match self.ca {
            Some(ca) => Some(ca),
            None if self.tls => Some(Arc::new(TestCa::generate()?)),
            None => None,
        };
        let scheme = if ca.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{local}");
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
        let acceptor = ca
            .as_ref()
            .map(|ca| tokio_rustls::TlsAcceptor::from(ca.server_config()));
        let task = tokio::spawn(listen::serve(
            listener,
            acceptor,
            routes::router(shared.clone()),
            self.close_connections,
        ));
        Ok(MockIssuer {
            shared,
            addr: local,
            ca,
            default_job,
            task,
        })
    }
}

/// State shared between the handle and the request handlers.
pub(crate) struct Shared {
    base_url: String,
    issuer: String,
    audience: String,
    keys: KeySet,
    state: Mutex<KeyState>,
    log: Mutex<Vec<LoggedRequest>>,
    ca_pem: Option<String>,
}

struct KeyState {
    published: Vec<String>,
    signing: SigningKey,
    fault: Option<JwksFault>,
    /// Changes to published keys' JWKs, by `kid` (a JWK another verifier must refuse).
    jwk_edits: HashMap<String, JwkEdit>,
    /// Entries published after the keys (hostile or odd JWKS content).
    extra_jwks: Vec<Value>,
    /// Request token → the job's token spec (GitHub Actions' token-request contract).
    jobs: HashMap<String, TokenSpec>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked mid-update cannot leave this state half-written (every
    // update is a single assignment), so a poisoned lock is still safe to use.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn forger(&self) -> Forger {
        Forger::new(&self.keys)
            .with_signing_key(lock(&self.state).signing.clone())
            .with_issuer(self.issuer.clone())
            .with_audience(self.audience.clone())
            .with_attacker_base(self.base_url.clone())
    }

    fn fault(&self) -> Option<JwksFault> {
        lock(&self.state).fault
    }

    /// The JWKS as currently published, with the current fault applied.
    fn jwks(&self) -> Value {
        let state = lock(&self.state);
        let published = state
            .published
            .iter()
            .filter_map(|kid| self.keys.by_kid(kid));
        let mut keys: Vec<Value> = published
            .map(|key| match state.jwk_edits.get(key.kid()) {
                Some(edit) => edit.applied_to(key.jwk()),
                None => key.jwk().clone(),
            })
            .collect();
        keys.extend(state.extra_jwks.iter().cloned());
        match state.fault {
            Some(JwksFault::EmptyKeys) => keys.clear(),
            Some(JwksFault::MissingKid) => {
                for key in &mut keys {
                    key.as_object_mut().map(|key| key.remove("kid"));
                }
            }
            Some(JwksFault::DuplicateKid) => {
                let mut impostor = self.keys.rogue.jwk().clone();
                impostor["kid"] = json!(state.signing.kid());
                keys.insert(0, impostor);
            }
            _ => {}
        }
        json!({ "keys": keys })
    }

    fn record(&self, request: LoggedRequest) {
        lock(&self.log).push(request);
    }

    fn job(&self, request_token: &str) -> Option<TokenSpec> {
        lock(&self.state).jobs.get(request_token).cloned()
    }

    fn add_job(&self, spec: TokenSpec) -> String {
        let request_token = uuid::Uuid::new_v4().simple().to_string();
        lock(&self.state).jobs.insert(request_token.clone(), spec);
        request_token
    }

    fn edit_jwk(&self, kid: &str, edit: JwkEdit) -> Result<(), IssuerError> {
        let key = self.known_key(kid)?;
        lock(&self.state)
            .jwk_edits
            .insert(key.kid().to_owned(), edit);
        Ok(())
    }

    fn add_jwks_entry(&self, entry: Value) {
        lock(&self.state).extra_jwks.push(entry);
    }

    fn set_fault(&self, fault: Option<JwksFault>) {
        lock(&self.state).fault = fault;
    }

    fn known_key(&self, kid: &str) -> Result<SigningKey, IssuerError> {
        let key = self
            .keys
            .by_kid(kid)
            .ok_or_else(|| IssuerError::UnknownKey(kid.to_owned()))?;
        if key.kid() == self.keys.rogue.kid() {
            return Err(IssuerError::RogueKey);
        }
        Ok(key.clone())
    }

    fn publish_key(&self, kid: &str) -> Result<(), IssuerError> {
        let key = self.known_key(kid)?;
        let mut state = lock(&self.state);
        if !state
            .published
            .iter()
            .any(|published| published == key.kid())
        {
            state.published.push(key.kid().to_owned());
        }
        Ok(())
    }

    fn retire_key(&self, kid: &str) -> Result<(), IssuerError> {
        let key = self.known_key(kid)?;
        lock(&self.state)
            .published
            .retain(|published| published != key.kid());
        Ok(())
    }

    fn sign_with(&self, kid: &str) -> Result<(), IssuerError> {
        let key = self.known_key(kid)?;
        lock(&self.state).signing = key;
        Ok(())
    }
}

/// A running mock issuer. Dropping it stops the server and closes its connections.
pub struct MockIssuer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    ca: Option<Arc<TestCa>>,
    default_job: String,
    task: JoinHandle<()>,
}

impl Drop for MockIssuer {
    fn drop(&mut self) {
        self.task.abort();
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

    pub fn address(&self) -> SocketAddr {
        self.addr
    }

    /// `http(s)://127.0.0.1:PORT`, no trailing slash.
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
