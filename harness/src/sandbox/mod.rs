//! A local trusted-publishing rehearsal: one mock issuer per provider and the reference
//! registry, all serving https with certificates from one generated CA, the registry seeded
//! with projects and publishers, and CI "jobs" whose environment real clients (uv, twine,
//! `id`, gh-action-pypi-publish) read as if they ran in GitHub Actions or GitLab CI.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mintcheck::sandbox::Sandbox;
//!
//! let sandbox = Sandbox::builder().demo().start().await?; // stops on drop
//! let job = sandbox.job("github").unwrap();
//! println!("upload to {} with:\n{}", sandbox.upload_url(), job.env.to_shell());
//! # Ok(()) }
//! ```

mod config;
mod trust;

use std::path::Path;
use std::sync::Arc;

use mock_issuer::tls::{TestCa, TlsError};
use mock_issuer::{ClientEnv, IssuerError, Profile, Provider};
use reference_registry::{Event, FixtureError, Registry, RegistryConfig};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use crate::rig::issuers::{Issuers, custom_hosts};
use crate::rig::proxy::IssuerProxy;

pub use config::{ConfigError, JobSpec, SandboxConfig};
pub use trust::{TrustBundle, TrustError};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("starting the mock issuers: {0}")]
    Issuer(#[from] IssuerError),
    #[error("generating the sandbox's certificate authority: {0}")]
    Tls(#[from] TlsError),
    #[error("the reference registry refused the fixture: {0}")]
    Fixture(#[from] FixtureError),
    #[error("binding {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("job {job:?}: forging its token: {message}")]
    Job { job: String, message: String },
    #[error(transparent)]
    Proxy(#[from] crate::rig::proxy::ProxyError),
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// One CI job: the identity its tokens carry and the environment a client needs.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub profile: Profile,
    /// `GITHUB_ACTIONS` and `ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN` (GitHub profiles) or
    /// `GITLAB_CI` and `<AUD>_ID_TOKEN` (GitLab), the CA variables, and the upload URL as
    /// `UV_PUBLISH_URL` and `TWINE_REPOSITORY_URL`.
    pub env: ClientEnv,
    /// The claims its tokens carry (times and `jti` differ from token to token).
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// A shell command that puts a fresh ID token in the job's token variable, for jobs
    /// handed one token (GitLab's, which mints once): `export PYPI_ID_TOKEN="$(curl …)"`.
    pub refresh_token: Option<String>,
}

/// A running sandbox. Dropping it stops every server and deletes the CA and trust bundle
/// files.
pub struct Sandbox {
    issuers: Issuers,
    proxy: Option<IssuerProxy>,
    registry: Registry,
    ca: Arc<TestCa>,
    trust: TrustBundle,
    base_url: String,
    jobs: Vec<Job>,
    server: JoinHandle<()>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Sandbox {
    /// An empty configuration to build on; [`SandboxConfig::start`] starts it.
    pub fn builder() -> SandboxConfig {
        SandboxConfig::default()
    }

    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        config.check()?;
        let ca = Arc::new(TestCa::generate_for(&custom_hosts([&config.fixture]))?);
        let trust = TrustBundle::write(ca.ca_pem())?;
        let issuers = Issuers::start(true, Some(&ca), &config.fixture).await?;
        let proxy = match &config.issuer_proxy {
            Some(addr) => {
                let proxy = IssuerProxy::start(addr).await?;
                proxy.route(issuers.routes());
                Some(proxy)
            }
            None => None,
        };
        let document = issuers.document(&config.fixture);
        let registry = Registry::new(RegistryConfig {
            https: true,
            ..RegistryConfig::default()
        });
        registry.apply(&document)?;
        let addr = config.addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let base_url = format!("https://{local}");
        let server = tokio::spawn(ca.serve(listener, reference_registry::app(registry.clone())));
        let upload_url = format!("{base_url}/legacy/");
        let audience = document.audience.as_deref().unwrap_or("pypi");
        let jobs = config
            .jobs()
            .iter()
            .map(|spec| job(spec, &issuers, audience, ca.ca_path(), &upload_url))
            .map(|job| {
                job.map(|mut job| {
                    job.env = job.env.trusting_bundle(trust.path());
                    job
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Sandbox {
            issuers,
            proxy,
            registry,
            ca,
            trust,
            base_url,
            jobs,
            server,
        })
    }

    /// The registry's base URL, `https://127.0.0.1:PORT`.
    pub fn registry_url(&self) -> &str {
        &self.base_url
    }

    /// The legacy upload endpoint, for `uv publish --publish-url` and
    /// `twine upload --repository-url`.
    pub fn upload_url(&self) -> String {
        format!("{}/legacy/", self.base_url)
    }

    /// The issuer proxy, if the sandbox runs one: what a registry of the user's own needs
    /// (`HTTPS_PROXY`, `NO_PROXY`) to reach the sandbox's issuers as the real hosts.
    pub fn issuer_proxy(&self) -> Option<&IssuerProxy> {
        self.proxy.as_ref()
    }

    /// The CA every sandbox server's certificate chains to (PEM file).
    pub fn ca_path(&self) -> &Path {
        self.ca.ca_path()
    }

    /// The system's trust roots plus the CA: what the jobs' `SSL_CERT_FILE` and
    /// `REQUESTS_CA_BUNDLE` name.
    pub fn trust_bundle(&self) -> &TrustBundle {
        &self.trust
    }

    pub fn ca_pem(&self) -> &str {
        self.ca.ca_pem()
    }

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|job| job.name == name)
    }

    /// The mock issuer standing in for `provider` (its `iss` is the provider's canonical one).
    pub fn issuer(&self, provider: Provider) -> &mock_issuer::MockIssuer {
        self.issuers.for_provider(provider)
    }

    /// Every mint and upload the registry answers from now on, with claims and verdict.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.registry.subscribe()
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

fn job(
    spec: &JobSpec,
    issuers: &Issuers,
    audience: &str,
    ca: &Path,
    upload_url: &str,
) -> Result<Job, SandboxError> {
    let profile = spec.token.profile();
    // For GitLab the job's one token; for GitHub a sample of what its request token gets.
    let token = spec
        .token
        .apply(issuers.token(profile))
        .sign()
        .map_err(|e| SandboxError::Job {
            job: spec.name.clone(),
            message: e.to_string(),
        })?;
    let issuer = issuers.for_provider(profile.provider());
    let request_token = issuer.add_job(spec.token.clone());
    let (mut env, refresh_token) = match profile.provider() {
        Provider::Github => (issuer.github_env(&request_token), None),
        Provider::Gitlab => {
            let mut env = ClientEnv::gitlab(audience, token.as_str(), Some(ca));
            env.set(
                "MINTCHECK_ID_TOKEN_URL",
                &issuer.gitlab_job_token_url(audience),
            );
            env.set("MINTCHECK_ID_TOKEN_REQUEST_TOKEN", &request_token);
            let refresh = format!(
                "export {}=\"$(curl -fsS --cacert \"$SSL_CERT_FILE\" -H \"Authorization: bearer \
                 $MINTCHECK_ID_TOKEN_REQUEST_TOKEN\" \"$MINTCHECK_ID_TOKEN_URL\")\"",
                mock_issuer::env::gitlab_token_variable(audience)
            );
            (env, Some(refresh))
        }
        Provider::Google | Provider::ActiveState => {
            unreachable!("SandboxConfig::check refuses jobs of other providers")
        }
    };
    for name in ["UV_PUBLISH_URL", "TWINE_REPOSITORY_URL"] {
        env.set(name, upload_url);
    }
    Ok(Job {
        name: spec.name.clone(),
        profile,
        env,
        claims: token.claims.as_object().cloned().unwrap_or_default(),
        refresh_token,
    })
}
