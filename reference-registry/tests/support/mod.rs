//! Shared by the test binaries: a registry on a real loopback listener, mock issuers serving
//! the canonical issuer strings, the spec §18 publishers, and small HTTP clients.
#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::sync::Arc;

use mock_issuer::{IssuerMode, MockIssuer, Profile, Provider as MockProvider, TokenBuilder};
use reference_registry::fixture::{
    ActiveStateIdentity, GithubIdentity, GitlabIdentity, GoogleIdentity, Identity, Issuer,
    PendingPublisher, Project, Provider, Publisher,
};
use reference_registry::{Clock, FixtureDocument, Registry, RegistryConfig, app};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The reference registry served on `127.0.0.1:0`.
pub struct Target {
    pub registry: Registry,
    pub addr: SocketAddr,
    pub base_url: String,
    http: reqwest::Client,
}

impl Target {
    pub async fn start(registry: Registry) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(axum::serve(listener, app(registry.clone())).into_future());
        Self {
            registry,
            addr,
            base_url: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    pub async fn with_fixture(fixture: &FixtureDocument) -> Self {
        Self::with_config(RegistryConfig::default(), fixture).await
    }

    pub async fn with_config(config: RegistryConfig, fixture: &FixtureDocument) -> Self {
        let registry = Registry::new(config);
        registry.apply(fixture).unwrap();
        Self::start(registry).await
    }

    pub async fn mint(&self, token: &str) -> Reply {
        let body = serde_json::to_vec(&serde_json::json!({"token": token})).unwrap();
        self.send("POST", "/_/oidc/mint-token", body).await
    }

    pub async fn send(&self, method: &str, path: &str, body: Vec<u8>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends raw HTTP/1.1 bytes and returns the raw response, status line included.
    pub async fn raw(&self, request: &[u8]) -> RawReply {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).await.unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status_line = head.lines().next().unwrap_or_default().to_owned();
        RawReply {
            status_line,
            head: head.to_owned(),
            body: body.to_owned(),
        }
    }

    /// `POST path` with `Connection: close` over a raw socket.
    pub async fn raw_post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawReply {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: pypi.org\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body);
        self.raw(&bytes).await
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the exact R-RESP-7 envelope.
    #[track_caller]
    pub fn assert_error(&self, code: &str, description: &str) {
        assert_eq!(self.status, 422, "{}", self.body);
        let expected = serde_json::json!({"errors": [{"code": code, "description": description}], "message": "Token request failed"});
        assert_eq!(self.json(), expected);
    }

    #[track_caller]
    pub fn assert_no_publisher(&self, reason: &str) {
        self.assert_error(
            "invalid-publisher",
            &format!("valid token, but no corresponding publisher ({reason})"),
        );
    }

    #[track_caller]
    pub fn assert_minted(&self) -> String {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()["token"].as_str().unwrap().to_owned()
    }
}

#[derive(Debug)]
pub struct RawReply {
    pub status_line: String,
    pub head: String,
    pub body: String,
}

pub fn mock_provider(provider: Provider) -> MockProvider {
    match provider {
        Provider::Github => MockProvider::Github,
        Provider::Gitlab => MockProvider::Gitlab,
        Provider::Google => MockProvider::Google,
        Provider::ActiveState => MockProvider::ActiveState,
    }
}

pub fn profile(provider: Provider) -> Profile {
    match provider {
        Provider::Github => Profile::Github,
        Provider::Gitlab => Profile::Gitlab,
        Provider::Google => Profile::Google,
        Provider::ActiveState => Profile::ActiveState,
    }
}

/// A mock issuer whose tokens carry `provider`'s real canonical `iss` (keys served by the
/// mock on loopback).
pub async fn canonical_issuer(provider: Provider) -> MockIssuer {
    MockIssuer::builder()
        .issuer_mode(IssuerMode::Canonical(mock_provider(provider)))
        .start()
        .await
        .unwrap()
}

/// The fixture entry that trusts `issuer`'s `iss` and fetches its keys through discovery.
pub fn trust(issuer: &MockIssuer, provider: Provider, canonical: bool) -> Issuer {
    Issuer {
        provider,
        issuer: issuer.issuer().to_owned(),
        canonical,
        discovery_url: Some(issuer.discovery_url()),
        jwks_url: Some(issuer.jwks_url()),
        jwks: None,
    }
}

/// `issuer` trusted as `provider`'s canonical issuer through discovery, and project
/// `widgetry` with the §18 publisher of `provider` attached.
pub fn standard_fixture(issuer: &MockIssuer, provider: Provider) -> FixtureDocument {
    let mut fixture = FixtureDocument::new();
    fixture.issuers.push(trust(issuer, provider, true));
    fixture.projects.push(project("widgetry"));
    fixture
        .publishers
        .push(publisher(identity(provider), &["widgetry"]));
    fixture
}

pub fn github() -> GithubIdentity {
    GithubIdentity {
        repository_owner: "acme-labs".into(),
        repository_name: "widgetry".into(),
        repository_owner_id: "48213977".into(),
        workflow_filename: "publish.yml".into(),
        environment: "pypi".into(),
    }
}

pub fn gitlab() -> GitlabIdentity {
    GitlabIdentity {
        namespace: "acme/python".into(),
        project: "widgetry".into(),
        workflow_filepath: ".gitlab-ci.yml".into(),
        environment: "release".into(),
        issuer_url: "https://gitlab.com".into(),
    }
}

pub fn google() -> GoogleIdentity {
    GoogleIdentity {
        email: "release-bot@acme-ci.iam.gserviceaccount.com".into(),
        sub: String::new(),
    }
}

pub fn activestate() -> ActiveStateIdentity {
    ActiveStateIdentity {
        organization: "acme".into(),
        activestate_project_name: "widgetry".into(),
        actor: "jdoe".into(),
        actor_id: "5f0c2a9e-7d41-4b8e-a3c6-19e8d7b6c5a4".into(),
    }
}

/// The §18 publisher identity of `provider`.
pub fn identity(provider: Provider) -> Identity {
    match provider {
        Provider::Github => Identity::Github(github()),
        Provider::Gitlab => Identity::Gitlab(gitlab()),
        Provider::Google => Identity::Google(google()),
        Provider::ActiveState => Identity::ActiveState(activestate()),
    }
}

pub fn publisher(identity: Identity, projects: &[&str]) -> Publisher {
    Publisher {
        id: None,
        projects: projects.iter().map(|p| p.to_string()).collect(),
        identity,
    }
}

pub fn pending(identity: Identity, project_name: &str, added_by: &str) -> PendingPublisher {
    PendingPublisher {
        project_name: project_name.into(),
        added_by: added_by.into(),
        identity,
        age_days: None,
    }
}

pub fn project(name: &str) -> Project {
    Project {
        name: name.into(),
        id: None,
    }
}

/// Awaits a mint whose key refresh must time out (R-DEF-1): refused as `invalid-token`
/// after the 5 s fetch timeout, neither before it nor long after.
pub async fn assert_refused_at_the_fetch_timeout(mint: impl std::future::Future<Output = Reply>) {
    let started = std::time::Instant::now();
    mint.await
        .assert_error("invalid-token", "malformed or invalid token");
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(4900) && took < std::time::Duration::from_secs(7),
        "{took:?}"
    );
}

/// One provider's mock issuer and a registry trusting it.
pub struct Setup {
    pub issuer: MockIssuer,
    pub target: Target,
    pub provider: Provider,
}

impl Setup {
    /// No project and no publisher; `edit` fills the fixture in.
    pub async fn bare(provider: Provider, edit: impl FnOnce(&mut FixtureDocument)) -> Self {
        Self::bare_with_clock(provider, None, edit).await
    }

    pub async fn bare_with_clock(
        provider: Provider,
        clock: Option<Arc<dyn Clock>>,
        edit: impl FnOnce(&mut FixtureDocument),
    ) -> Self {
        let issuer = canonical_issuer(provider).await;
        let mut fixture = FixtureDocument::new();
        fixture.issuers.push(trust(&issuer, provider, true));
        edit(&mut fixture);
        let mut config = RegistryConfig::default();
        if let Some(clock) = clock {
            config.clock = clock;
        }
        let target = Target::with_config(config, &fixture).await;
        Self {
            issuer,
            target,
            provider,
        }
    }

    /// Project `widgetry` with the §18 publisher of `provider` attached.
    pub async fn standard(provider: Provider) -> Self {
        Self::standard_with(provider, |_| {}).await
    }

    pub async fn standard_with(
        provider: Provider,
        edit: impl FnOnce(&mut FixtureDocument),
    ) -> Self {
        Self::bare(provider, |f| {
            f.projects.push(project("widgetry"));
            f.publishers
                .push(publisher(identity(provider), &["widgetry"]));
            edit(f);
        })
        .await
    }

    /// A token of the §18 profile, valid now.
    pub fn token(&self) -> TokenBuilder {
        self.issuer.token(profile(self.provider))
    }

    pub async fn mint(&self, token: TokenBuilder) -> Reply {
        self.target.mint(token.sign().unwrap().as_str()).await
    }
}
