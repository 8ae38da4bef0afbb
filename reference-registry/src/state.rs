//! The registry's state behind one type, [`Registry`]: configuration, the clock, and the
//! mutable state a fixture replaces (issuers, flags, projects, publishers, pending
//! publishers, the replay store, minted tokens, uploaded files).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::clock::{Clock, Now, ShiftedClock, SystemClock};
use crate::events::Event;
use crate::fixture::{
    Applied, FixtureDocument, FixtureError, FixtureTarget, Flags, Identity, PendingPublisher,
    Provider,
};
use crate::jwks::{self, KeySource, KeyStore};
use crate::key_fetch::{HttpFetcher, IssuerNetwork, KeyFetcher};
use crate::names::normalize;

/// Pending publishers older than this many days are gone (R-PEND-5).
const PENDING_LIFETIME_DAYS: u32 = 30;

/// How the registry runs, independent of any fixture.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// The audience when the fixture names none (R-EP-1).
    pub audience: String,
    pub clock: Arc<dyn Clock>,
    /// Lets key refreshes contact non-loopback hosts. Off: only loopback is ever contacted.
    pub allow_remote_issuers: bool,
    /// Enables `PUT /__mintcheck/fixture` with this bearer token.
    pub control_token: Option<String>,
    /// Clients reach it over https: the scheme of the URLs PEP 807 discovery answers with
    /// (their host is the one the client asked).
    pub https: bool,
    /// Where key fetches go instead of the network (a fixture's `ca_pem` is then unused).
    pub issuer_network: Option<Arc<dyn IssuerNetwork>>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            audience: "pypi".to_owned(),
            clock: Arc::new(SystemClock),
            allow_remote_issuers: false,
            control_token: None,
            https: false,
            issuer_network: None,
        }
    }
}

/// The reference registry. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    config: RegistryConfig,
    state: Mutex<State>,
    /// The configured clock plus how far [`Registry::advance_clock`] moved it.
    clock: Arc<ShiftedClock>,
    /// Made at the first subscription: its backlog is a thousand slots, and most
    /// registries (one per scenario in a suite run) are never observed.
    events: std::sync::OnceLock<tokio::sync::broadcast::Sender<Event>>,
    #[cfg(feature = "sabotage")]
    sabotage: Mutex<crate::sabotage::Sabotage>,
}

impl Registry {
    /// A registry with no fixture: the real canonical issuers, whose keys it fetches only if
    /// remote issuers are allowed; no projects, no publishers.
    pub fn new(mut config: RegistryConfig) -> Self {
        let clock = Arc::new(ShiftedClock::new(config.clock.clone()));
        config.clock = clock.clone();
        let state =
            State::build(&FixtureDocument::new(), &config).expect("the empty fixture is valid");
        let inner = Inner {
            config,
            state: Mutex::new(state),
            clock,
            events: std::sync::OnceLock::new(),
            #[cfg(feature = "sabotage")]
            sabotage: Mutex::default(),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Replaces the whole state with `document`'s, drops the key caches and undoes any
    /// [`Self::advance_clock`].
    pub fn apply(&self, document: &FixtureDocument) -> Result<(), FixtureError> {
        let state = State::build(document, &self.inner.config)?;
        *self.lock() = state;
        self.inner.clock.reset();
        Ok(())
    }

    /// Moves this registry's time forward (minted tokens age, caches cool down): how the
    /// harness checks behaviour that takes minutes without waiting for it.
    pub fn advance_clock(&self, by: std::time::Duration) {
        self.inner.clock.advance(by);
    }

    /// Breaks the checks `sabotage` names, from the next request on: for testing test suites
    /// only (see [`crate::sabotage`]).
    #[cfg(feature = "sabotage")]
    pub fn sabotage(&self, sabotage: crate::sabotage::Sabotage) {
        *self
            .inner
            .sabotage
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = sabotage;
    }

    #[cfg(feature = "sabotage")]
    pub(crate) fn sabotaged(&self) -> crate::sabotage::Sabotage {
        *self
            .inner
            .sabotage
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Every mint and upload answered from now on (see [`Event`]).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        self.inner
            .events
            .get_or_init(|| tokio::sync::broadcast::Sender::new(crate::events::BACKLOG))
            .subscribe()
    }

    /// Sends the event `make` builds, if anyone listens.
    pub(crate) fn emit(&self, make: impl FnOnce() -> Event) {
        if let Some(events) = self.inner.events.get()
            && events.receiver_count() > 0
        {
            // A receiver that went away in between is no error.
            let _ = events.send(make());
        }
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    pub fn now(&self) -> Now {
        self.inner.config.clock.now()
    }

    /// The state. Held only for synchronous work, never across an `.await`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FixtureTarget for Registry {
    fn apply_fixture(&self, document: &FixtureDocument) -> Result<Applied, FixtureError> {
        self.apply(document).map(|()| Applied::Applied)
    }
}

/// How key refreshes reach the issuers: the configured issuer network, else HTTP with
/// `ca_pem` trusted besides the system's roots.
fn key_fetcher(config: &RegistryConfig, ca_pem: Option<&str>) -> Result<KeyFetcher, FixtureError> {
    match &config.issuer_network {
        Some(network) => Ok(KeyFetcher::Network(network.clone())),
        None => HttpFetcher::trusting(ca_pem).map(KeyFetcher::Http),
    }
}

/// A trusted issuer string's provider type and role (step 3).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrustedIssuer {
    pub provider: Provider,
    pub canonical: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct ProjectRecord {
    pub id: String,
    /// Display name (R-PEND-4, R-UP-2).
    pub name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct PublisherRecord {
    pub id: String,
    pub identity: Identity,
    /// Project ids.
    pub projects: Vec<String>,
}

/// A minted API token, looked up by its macaroon identifier (R-TOK-3).
#[derive(Debug, Clone)]
pub(crate) struct TokenRecord {
    /// The macaroon's root key.
    pub key: [u8; 32],
    /// When it expires; kept to forget expired tokens.
    pub expires: i64,
    /// Uploads it may still make: `None`, any number until it expires; `Some(n)`, `n` more
    /// (a PEP 807 single-use token starts at 1, R-807-FEAT-1).
    pub uploads_left: Option<u32>,
}

#[derive(Debug, Clone)]
pub(crate) struct FileRecord {
    pub sha256: String,
}

pub(crate) struct State {
    pub audience: String,
    pub flags: Flags,
    pub issuers: HashMap<String, TrustedIssuer>,
    pub canonical: HashMap<Provider, String>,
    pub keys: Arc<KeyStore>,
    pub projects: Vec<ProjectRecord>,
    /// `normalize`d.
    pub prohibited: HashSet<String>,
    pub publishers: Vec<PublisherRecord>,
    pub pending: Vec<PendingPublisher>,
    /// The replay store (R-JTI-3): (provider, jti) → Unix time the record lapses.
    pub used_jtis: HashMap<(Provider, String), Option<i64>>,
    pub tokens: HashMap<String, TokenRecord>,
    pub files: HashMap<String, FileRecord>,
}

impl State {
    fn build(document: &FixtureDocument, config: &RegistryConfig) -> Result<Self, FixtureError> {
        let fetcher = key_fetcher(config, document.ca_pem.as_deref())?;
        let TrustedIssuers {
            issuers,
            canonical,
            keys,
        } = trusted_issuers(document, config, fetcher)?;
        let projects = project_records(document)?;
        let publishers = publisher_records(document, &projects)?;
        let pending = document
            .pending_publishers
            .iter()
            // R-PEND-5: PyPI's periodic clean-up deletes them; the fixture's moment is taken
            // to be after it ran.
            .filter(|p| p.age_days.unwrap_or(0) <= PENDING_LIFETIME_DAYS)
            .map(|p| PendingPublisher {
                identity: stored_identity(&p.identity),
                ..p.clone()
            })
            .collect();
        let used_jtis = document
            .used_jtis
            .iter()
            .map(|u| ((u.provider, u.jti.clone()), u.expires))
            .collect();
        Ok(State {
            audience: document
                .audience
                .clone()
                .unwrap_or_else(|| config.audience.clone()),
            flags: document.flags,
            issuers,
            canonical,
            keys: Arc::new(keys),
            projects,
            prohibited: document
                .prohibited_names
                .iter()
                .map(|n| normalize(n))
                .collect(),
            publishers,
            pending,
            used_jtis,
            tokens: HashMap::new(),
            files: HashMap::new(),
        })
    }

    pub fn project_by_name(&self, name: &str) -> Option<usize> {
        let wanted = normalize(name);
        self.projects
            .iter()
            .position(|p| normalize(&p.name) == wanted)
    }

    /// Is `jti` recorded for `provider` at `now` (R-JTI-2)?
    pub fn jti_recorded(&self, provider: Provider, jti: &str, now: Now) -> bool {
        self.used_jtis
            .get(&(provider, jti.to_owned()))
            .is_some_and(|lapses| lapses.is_none_or(|at| now.seconds() < at as f64))
    }

    /// Step 8: records `jti` unless it is recorded already (R-JTI-3). Atomic because the
    /// caller holds the state lock.
    pub fn claim_jti(&mut self, provider: Provider, jti: &str, lapses: i64, now: Now) -> bool {
        if self.jti_recorded(provider, jti, now) {
            return false;
        }
        if self.used_jtis.len() >= 100_000 {
            self.used_jtis
                .retain(|_, lapses| lapses.is_none_or(|at| now.seconds() < at as f64));
        }
        self.used_jtis
            .insert((provider, jti.to_owned()), Some(lapses));
        true
    }
}

/// GitHub environments are stored lowercase (spec §8), as PyPI's form stores them.
pub(crate) fn stored_identity(identity: &Identity) -> Identity {
    match identity {
        Identity::Github(github) => {
            let mut github = github.clone();
            github.environment = github.environment.to_lowercase();
            Identity::Github(github)
        }
        other => other.clone(),
    }
}

fn default_discovery_url(issuer: &str) -> String {
    format!("{issuer}/.well-known/openid-configuration")
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The fixture's issuers, each provider's canonical one (the real one where the fixture
/// names none, R-ISS-1), and where each one's keys come from.
fn trusted_issuers(
    document: &FixtureDocument,
    config: &RegistryConfig,
    fetcher: KeyFetcher,
) -> Result<TrustedIssuers, FixtureError> {
    let mut keys = KeyStore::new(fetcher, config.clock.clone(), config.allow_remote_issuers);
    let mut issuers = HashMap::new();
    let mut canonical = HashMap::new();
    for (i, issuer) in document.issuers.iter().enumerate() {
        let field = |name: &str| format!("issuers[{i}].{name}");
        let trusted = TrustedIssuer {
            provider: issuer.provider,
            canonical: issuer.canonical,
        };
        if issuers.insert(issuer.issuer.clone(), trusted).is_some() {
            return Err(FixtureError::new(field("issuer"), "listed twice"));
        }
        if issuer.canonical
            && canonical
                .insert(issuer.provider, issuer.issuer.clone())
                .is_some()
        {
            let provider = issuer.provider.name();
            return Err(FixtureError::new(
                field("canonical"),
                format!("a second canonical {provider} issuer"),
            ));
        }
        let (source, seed) =
            key_source(issuer).map_err(|problem| FixtureError::new(field("jwks"), problem))?;
        keys.add_issuer(&issuer.issuer, source, seed);
    }
    // A provider without a canonical entry keeps its real issuer (R-ISS-1), known at
    // step 3 but with keys only from the real discovery document.
    for provider in Provider::ALL {
        if canonical.contains_key(&provider) {
            continue;
        }
        let real = provider.canonical_issuer();
        canonical.insert(provider, real.to_owned());
        if !issuers.contains_key(real) {
            let trusted = TrustedIssuer {
                provider,
                canonical: true,
            };
            issuers.insert(real.to_owned(), trusted);
            let source = KeySource::Discovery(default_discovery_url(real));
            keys.add_issuer(real, source, HashMap::new());
        }
    }
    Ok(TrustedIssuers {
        issuers,
        canonical,
        keys,
    })
}

/// What the fixture's issuers make of a registry's trust.
struct TrustedIssuers {
    /// Every trusted issuer string.
    issuers: HashMap<String, TrustedIssuer>,
    /// Each provider's canonical issuer.
    canonical: HashMap<Provider, String>,
    keys: KeyStore,
}

/// Where an issuer's keys come from, and the keys known from the start.
fn key_source(
    issuer: &crate::fixture::Issuer,
) -> Result<(KeySource, HashMap<String, jwks::CachedKey>), &'static str> {
    let seed = match (&issuer.discovery_url, &issuer.jwks) {
        (None, Some(Value::Object(jwks))) => jwks::parse_jwks(jwks)?,
        (None, Some(_)) => return Err("not a JWK Set object"),
        _ => HashMap::new(),
    };
    let source = match (&issuer.discovery_url, &issuer.jwks) {
        (Some(url), _) => KeySource::Discovery(url.clone()),
        (None, Some(_)) => KeySource::InlineOnly,
        (None, None) => KeySource::Discovery(default_discovery_url(&issuer.issuer)),
    };
    Ok((source, seed))
}

/// The fixture's projects; no two with the same normalized name.
fn project_records(document: &FixtureDocument) -> Result<Vec<ProjectRecord>, FixtureError> {
    let mut projects: Vec<ProjectRecord> = Vec::new();
    for (i, project) in document.projects.iter().enumerate() {
        if projects
            .iter()
            .any(|p| normalize(&p.name) == normalize(&project.name))
        {
            return Err(FixtureError::new(
                format!("projects[{i}].name"),
                "a project with this normalized name is already listed",
            ));
        }
        let id = project.id.clone().unwrap_or_else(new_id);
        projects.push(ProjectRecord {
            id,
            name: project.name.clone(),
        });
    }
    Ok(projects)
}

/// The fixture's publishers, each attached to projects of the fixture.
fn publisher_records(
    document: &FixtureDocument,
    projects: &[ProjectRecord],
) -> Result<Vec<PublisherRecord>, FixtureError> {
    let mut publishers = Vec::new();
    for (i, publisher) in document.publishers.iter().enumerate() {
        let mut project_ids = Vec::new();
        for (j, name) in publisher.projects.iter().enumerate() {
            let project = projects
                .iter()
                .find(|p| normalize(&p.name) == normalize(name))
                .ok_or_else(|| {
                    FixtureError::new(
                        format!("publishers[{i}].projects[{j}]"),
                        format!("no project named {name:?} in projects"),
                    )
                })?;
            project_ids.push(project.id.clone());
        }
        publishers.push(PublisherRecord {
            id: publisher.id.clone().unwrap_or_else(new_id),
            identity: stored_identity(&publisher.identity),
            projects: project_ids,
        });
    }
    Ok(publishers)
}
