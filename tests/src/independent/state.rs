//! What the registry knows and the two things it does with it: minting (the spec's steps
//! in order) and accepting uploads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::Behaviour;
use super::fixture::{Fixture, Identity, Issuer};
use super::identity::{matches, required_claims};
use super::keys::{KeyStore, client};
use super::token::Jws;

/// Why a mint was refused: each maps to one code of the spec's catalogue (§4.1).
#[derive(Debug, PartialEq)]
pub enum Refusal {
    Payload(String),
    NotEnabled(String),
    Token(String),
    PendingProjectExists,
    Publisher(String),
    Reused,
}

impl Refusal {
    pub fn code(&self, behaviour: &Behaviour) -> &'static str {
        match self {
            Refusal::Payload(_) => "invalid-payload",
            Refusal::NotEnabled(_) => "not-enabled",
            Refusal::Token(_) => "invalid-token",
            Refusal::PendingProjectExists => "invalid-pending-publisher",
            Refusal::Publisher(_) => "invalid-publisher",
            Refusal::Reused => behaviour.replay_code,
        }
    }

    pub fn description(&self) -> String {
        match self {
            Refusal::Payload(why)
            | Refusal::NotEnabled(why)
            | Refusal::Token(why)
            | Refusal::Publisher(why) => why.clone(),
            Refusal::PendingProjectExists => {
                "the project a pending publisher would create already exists".into()
            }
            Refusal::Reused => "this identity token was already used".into(),
        }
    }
}

pub struct Minted {
    pub token: String,
    pub expires: i64,
}

/// What an upload form carried.
#[derive(Debug, Default)]
pub struct Upload {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub content: Vec<u8>,
}

/// How an upload went: the status, and the message (reason phrase).
pub struct UploadAnswer {
    pub status: u16,
    pub message: String,
}

struct Publisher {
    projects: Vec<String>,
    identity: Identity,
}

struct Pending {
    project_name: String,
    identity: Identity,
}

struct Credential {
    projects: Vec<String>,
    expires: f64,
}

#[derive(Default)]
struct State {
    audience: String,
    flags: BTreeMap<String, bool>,
    issuers: Vec<Issuer>,
    projects: Vec<String>,
    publishers: Vec<Publisher>,
    pending: Vec<Pending>,
    used_jtis: HashSet<(String, String)>,
    credentials: HashMap<String, Credential>,
    clock_offset: f64,
}

pub struct Registry {
    pub behaviour: Behaviour,
    /// `Bearer <token>` of the control endpoint, if it has one.
    pub control_bearer: Option<String>,
    state: Mutex<State>,
    keys: Mutex<Arc<KeyStore>>,
    /// The client for key fetches and the CA it was built for: building one costs more
    /// than a scenario, so it is kept while the fixtures name the same CA.
    http: Mutex<(Option<String>, reqwest::Client)>,
}

/// PEP 503: lowercase, runs of `.`, `_`, `-` become one `-`.
pub(super) fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if matches!(c, '.' | '_' | '-') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Names a person could mistake for each other: separators dropped, l/i/1 and o/0 alike.
fn confusable(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '.' | '_' | '-'))
        .map(|c| match c {
            'l' | 'i' => '1',
            'o' => '0',
            c => c,
        })
        .collect()
}

fn canonical_of(provider: &str) -> &'static str {
    match provider {
        "github" => "https://token.actions.githubusercontent.com",
        "gitlab" => "https://gitlab.com",
        "google" => "https://accounts.google.com",
        _ => "https://platform.activestate.com/api/v1/oauth/oidc",
    }
}

impl Registry {
    pub fn new(behaviour: Behaviour, control_bearer: Option<String>) -> Registry {
        let http = client(behaviour.extra_root_pem.as_deref());
        let keys = KeyStore::new(
            http.clone(),
            behaviour.key_refresh_cooldown,
            behaviour.discovery_from_iss,
        );
        Registry {
            behaviour,
            control_bearer,
            state: Mutex::new(State {
                audience: "pypi".into(),
                ..State::default()
            }),
            keys: Mutex::new(Arc::new(keys)),
            http: Mutex::new((None, http)),
        }
    }

    fn client_for(&self, ca_pem: Option<&str>) -> reqwest::Client {
        let mut cached = self.http.lock().unwrap_or_else(|p| p.into_inner());
        if cached.0.as_deref() != ca_pem {
            *cached = (ca_pem.map(str::to_owned), client(ca_pem));
        }
        cached.1.clone()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> f64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        wall + self.state().clock_offset
    }

    pub fn audience(&self) -> String {
        self.state().audience.clone()
    }

    pub fn globally_disabled(&self) -> bool {
        self.state().flags.get("disallow-oidc") == Some(&true)
    }

    pub fn advance_clock(&self, seconds: f64) {
        self.state().clock_offset += seconds;
    }

    /// Replaces everything with the fixture's state; key caches start empty (or seeded).
    pub async fn apply(&self, fixture: Fixture) -> Result<(), String> {
        if fixture.mintcheck_fixture != 1 {
            return Err(format!(
                "fixture version {} is not 1",
                fixture.mintcheck_fixture
            ));
        }
        // Keys fetched from the real issuer URLs trust the system's roots and the extra
        // ones; the fixture's CA is for its own URLs.
        let ca_pem = match self.behaviour.discovery_from_iss {
            true => self.behaviour.extra_root_pem.as_deref(),
            false => fixture.ca_pem.as_deref(),
        };
        let http = self.client_for(ca_pem);
        let keys = Arc::new(KeyStore::new(
            http,
            self.behaviour.key_refresh_cooldown,
            self.behaviour.discovery_from_iss,
        ));
        if self.behaviour.seed_keys_from_fixture {
            for issuer in &fixture.issuers {
                keys.seed(issuer).await;
            }
        }
        *self.keys.lock().unwrap_or_else(|p| p.into_inner()) = keys;
        let mut used_jtis = HashSet::new();
        for used in &fixture.used_jtis {
            used_jtis.insert((canonical_of(&used.provider).to_owned(), used.jti.clone()));
        }
        *self.state() = State {
            audience: fixture.audience.unwrap_or_else(|| "pypi".into()),
            flags: fixture.flags,
            issuers: fixture.issuers,
            projects: fixture.projects.into_iter().map(|p| p.name).collect(),
            publishers: fixture
                .publishers
                .into_iter()
                .map(|p| Publisher {
                    projects: p.projects,
                    identity: p.identity,
                })
                .collect(),
            pending: fixture
                .pending_publishers
                .into_iter()
                .map(|p| Pending {
                    project_name: p.project_name,
                    identity: p.identity,
                })
                .collect(),
            used_jtis,
            credentials: HashMap::new(),
            clock_offset: 0.0,
        };
        Ok(())
    }

    /// The mint-token flow, in the spec's order (R-ORDER-1).
    pub async fn mint(&self, body: &[u8]) -> Result<Minted, Refusal> {
        let token = parse_body(body)?;
        let jws =
            Jws::parse(&token).ok_or_else(|| Refusal::Payload("the token is not a JWT".into()))?;
        let iss = jws.claim_str("iss").unwrap_or_default().to_owned();
        let (issuer, audience, provider_of_canonical) = self.trusted(&iss)?;
        self.verify(&jws, &issuer, &audience).await?;
        let provider = issuer.provider.as_str();
        // Only GitLab issuers may be custom (self-managed instances); others must be the
        // provider's canonical issuer (R-PUB-1).
        if provider != "gitlab" && provider_of_canonical.as_deref() != Some(iss.as_str()) {
            return Err(Refusal::Publisher(
                "only the provider's own issuer can publish".into(),
            ));
        }
        if let Some(missing) = required_claims(provider)
            .iter()
            .find(|claim| matches!(jws.claims.get(**claim), None | Some(Value::Null)))
        {
            return Err(Refusal::Publisher(format!("the token has no {missing}")));
        }
        let jti = jws
            .claim_str("jti")
            .filter(|jti| !jti.is_empty() && matches!(provider, "github" | "gitlab"))
            .map(|jti| (canonical_of(provider).to_owned(), jti.to_owned()));
        self.create_from_pending(&jws, &iss)?;
        let projects = {
            let state = self.state();
            let publisher = state
                .publishers
                .iter()
                .find(|p| matches(&p.identity, &jws.claims, &iss, &self.behaviour))
                .ok_or_else(|| Refusal::Publisher("no publisher matches this token".into()))?;
            publisher.projects.clone()
        };
        if let Some(jti) = jti {
            self.claim_jti(jti).await?;
        }
        let now = self.now();
        let expires = now.floor() + self.behaviour.lifetime_seconds;
        let token = format!(
            "{}{}",
            self.behaviour.token_prefix,
            uuid::Uuid::new_v4().simple()
        );
        self.state().credentials.insert(
            token.clone(),
            Credential {
                projects: projects.iter().map(|p| normalize(p)).collect(),
                expires,
            },
        );
        Ok(Minted {
            token,
            expires: expires as i64,
        })
    }

    /// The issuer named `iss`, if trusted and enabled, with the audience and the provider's
    /// canonical issuer.
    fn trusted(&self, iss: &str) -> Result<(Issuer, String, Option<String>), Refusal> {
        let state = self.state();
        let issuer = state.issuers.iter().find(|i| i.issuer == iss).cloned();
        let issuer = match issuer {
            Some(issuer) => issuer,
            None if self.behaviour.own_unknown_issuer_wording => {
                return Err(Refusal::Payload("this issuer is not trusted here".into()));
            }
            None => {
                return Err(Refusal::Payload("unknown trusted publishing issuer".into()));
            }
        };
        let flag = format!("disallow-{}-oidc", issuer.provider);
        let disabled = |name: &str| state.flags.get(name) == Some(&true);
        if disabled("disallow-oidc") || disabled(&flag) {
            return Err(Refusal::NotEnabled(format!(
                "publishing from {} is switched off",
                issuer.provider
            )));
        }
        let canonical = state
            .issuers
            .iter()
            .find(|i| i.canonical && i.provider == issuer.provider)
            .map(|i| i.issuer.clone());
        Ok((issuer, state.audience.clone(), canonical))
    }

    async fn verify(&self, jws: &Jws, issuer: &Issuer, audience: &str) -> Result<(), Refusal> {
        let invalid = |why: &str| Refusal::Token(why.to_owned());
        match jws.header_str("alg") {
            None | Some("none") | Some("") => return Err(invalid("the token is not signed")),
            Some(_) => {}
        }
        let flaws = &self.behaviour.flaws;
        let unsigned = flaws.unsigned_unless_exactly_none
            && jws
                .header_str("alg")
                .is_some_and(|alg| alg.eq_ignore_ascii_case("none"));
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let kid = jws.header_str("kid");
        if kid.is_none() && jws.header.contains_key("kid") {
            return Err(invalid("the kid is not a string"));
        }
        let key = match jws.header_str("jku").filter(|_| flaws.keys_from_jku) {
            Some(jku) => keys.find_at(jku, kid).await,
            None => keys.find(issuer, kid, !self.behaviour.kid_required).await,
        };
        let key = key.ok_or_else(|| invalid("no key of the issuer has this kid"))?;
        if key.bits() < self.behaviour.min_key_bits {
            return Err(invalid("the issuer's key is too short"));
        }
        if !unsigned && !jws.signature_verifies(&key, &self.behaviour) {
            return Err(invalid("the signature does not verify"));
        }
        match jws.claims_problem(audience, self.now(), &self.behaviour) {
            Some(problem) => Err(Refusal::Token(problem)),
            None => Ok(()),
        }
    }

    /// A pending publisher matching the token creates its project (R-PEND-2, R-PEND-3).
    fn create_from_pending(&self, jws: &Jws, iss: &str) -> Result<(), Refusal> {
        let mut state = self.state();
        let Some(index) = state
            .pending
            .iter()
            .position(|p| matches(&p.identity, &jws.claims, iss, &self.behaviour))
        else {
            return Ok(());
        };
        let name = state.pending[index].project_name.clone();
        if state
            .projects
            .iter()
            .any(|p| normalize(p) == normalize(&name))
        {
            state.pending.remove(index);
            return Err(Refusal::PendingProjectExists);
        }
        if state.flags.get("disallow-new-project-registration") == Some(&true) {
            return Err(Refusal::Payload(
                "new projects cannot be registered now".into(),
            ));
        }
        if state
            .projects
            .iter()
            .any(|p| confusable(p) == confusable(&name))
        {
            return Err(Refusal::Payload(format!(
                "{name} looks too much like an existing project"
            )));
        }
        let pending = state.pending.remove(index);
        state.projects.push(name.clone());
        match state
            .publishers
            .iter_mut()
            .find(|p| p.identity == pending.identity)
        {
            Some(publisher) => publisher.projects.push(name),
            None => state.publishers.push(Publisher {
                projects: vec![name],
                identity: pending.identity,
            }),
        }
        Ok(())
    }

    /// Records the token's `jti`, refusing it if it was recorded before (R-JTI-1, R-JTI-4).
    async fn claim_jti(&self, jti: (String, String)) -> Result<(), Refusal> {
        if self.behaviour.flaws.replay_check_then_set {
            // Check, then set later: as a registry that reads its replay table and writes it
            // in a second query. Concurrent copies all pass the check.
            if self.state().used_jtis.contains(&jti) {
                return Err(Refusal::Reused);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.state().used_jtis.insert(jti);
            return Ok(());
        }
        if self.state().used_jtis.insert(jti) {
            Ok(())
        } else {
            Err(Refusal::Reused)
        }
    }

    /// An upload with `password` as `__token__`'s password (R-UP-1..4, R-TOK-4).
    pub fn upload(&self, password: Option<&str>, upload: &Upload) -> UploadAnswer {
        let name = upload.name.as_str();
        let refuse = |status, message: &str| UploadAnswer {
            status,
            message: message.to_owned(),
        };
        let now = self.now();
        let state = self.state();
        let Some(credential) = password.and_then(|p| state.credentials.get(p)) else {
            return refuse(403, "Invalid or non-existent authentication information.");
        };
        if !self.behaviour.flaws.tokens_never_expire && now >= credential.expires {
            return refuse(403, "Invalid API Token: the token has expired");
        }
        if self.behaviour.check_archives
            && let Err(problem) = super::archive::check(upload)
        {
            return refuse(400, &format!("Invalid distribution file: {problem}"));
        }
        let wanted = normalize(name);
        if !state.projects.iter().any(|p| normalize(p) == wanted) {
            return refuse(400, NON_USER_MESSAGE);
        }
        if !self.behaviour.flaws.upload_to_any_project && !credential.projects.contains(&wanted) {
            return refuse(
                403,
                "Invalid API Token: this token may not upload to that project",
            );
        }
        UploadAnswer {
            status: self.behaviour.upload_status,
            message: "OK".into(),
        }
    }
}

/// The start of the message R-UP-1 fixes, and this registry's own help after it.
pub const NON_USER_MESSAGE: &str = "Non-user identities cannot create new projects. Register the project first, or fix the name in your metadata.";

/// Step 1: one JSON object whose `token` is a string (R-PAYLOAD-1).
fn parse_body(body: &[u8]) -> Result<String, Refusal> {
    let bad = |why: &str| Refusal::Payload(why.to_owned());
    let value: Value = serde_json::from_slice(body).map_err(|_| bad("the body is not JSON"))?;
    let object = value
        .as_object()
        .ok_or_else(|| bad("the body is not a JSON object"))?;
    match object.get("token") {
        Some(Value::String(token)) if token.is_empty() => Err(bad("the token is empty")),
        Some(Value::String(token)) => Ok(token.clone()),
        _ => Err(bad("the body has no string token")),
    }
}
