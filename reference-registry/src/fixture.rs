//! The fixture document (`docs/target-contract.md`): everything a target is told before a scenario. Applying
//! one replaces the registry's whole state and drops its key caches. Its JSON Schema is
//! `docs/fixture.schema.json`.
//!
//! ```json
//! {"mintcheck_fixture": 1, "audience": "pypi",
//!  "flags": {"disallow-github-oidc": false},
//!  "issuers": [{"provider": "github", "issuer": "http://127.0.0.1:4000", "canonical": true,
//!               "discovery_url": "http://127.0.0.1:4000/.well-known/openid-configuration"}],
//!  "projects": [{"name": "widgetry"}],
//!  "publishers": [{"projects": ["widgetry"], "identity": {"provider": "github",
//!      "repository_owner": "acme-labs", "repository_name": "widgetry",
//!      "repository_owner_id": "48213977", "workflow_filename": "publish.yml", "environment": "pypi"}}]}
//! ```

pub use mock_issuer::Provider;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The only fixture version this crate reads.
pub const FIXTURE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureDocument {
    /// Format version: `1`.
    pub mintcheck_fixture: u32,
    /// The audience tokens must carry (R-CLAIM-2), e.g. `pypi` or `testpypi`. Absent: keep the
    /// target's configured audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Admin flags; all off unless set (spec §1.3).
    #[serde(default)]
    pub flags: Flags,
    /// Trusted issuer strings. A provider with no `canonical: true` entry keeps its real
    /// canonical issuer (R-ISS-1), whose keys are fetched from the real discovery URL only by
    /// a target that may contact remote hosts.
    #[serde(default)]
    pub issuers: Vec<Issuer>,
    /// PEM CA certificate(s) that sign the issuers' https certificates, trusted in addition
    /// to the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Existing projects.
    #[serde(default)]
    pub projects: Vec<Project>,
    /// Names (`normalize`d on apply) no one may create (R-NAME-1 row 5).
    #[serde(default)]
    pub prohibited_names: Vec<String>,
    /// Active trusted publishers.
    #[serde(default)]
    pub publishers: Vec<Publisher>,
    /// Pending trusted publishers (spec §13).
    #[serde(default)]
    pub pending_publishers: Vec<PendingPublisher>,
    /// `jti`s already recorded in the replay store (R-JTI-3), e.g. to set up R-DEF-3.
    #[serde(default)]
    pub used_jtis: Vec<UsedJti>,
}

impl FixtureDocument {
    /// An empty version-1 document: no projects, no publishers, flags off, real issuers.
    pub fn new() -> Self {
        Self {
            mintcheck_fixture: FIXTURE_VERSION,
            audience: None,
            flags: Flags::default(),
            issuers: Vec::new(),
            ca_pem: None,
            projects: Vec::new(),
            prohibited_names: Vec::new(),
            publishers: Vec::new(),
            pending_publishers: Vec::new(),
            used_jtis: Vec::new(),
        }
    }

    /// Parses a document, naming the offending field on error (e.g. `publishers[0].identity`).
    pub fn from_json(bytes: &[u8]) -> Result<Self, FixtureError> {
        let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
        let document: Self = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let field = e.path().to_string();
            FixtureError::new(
                if field == "." { "(document)" } else { &field },
                e.into_inner().to_string(),
            )
        })?;
        if document.mintcheck_fixture != FIXTURE_VERSION {
            return Err(FixtureError::new(
                "mintcheck_fixture",
                format!(
                    "version {} is not supported; this target reads version {FIXTURE_VERSION}",
                    document.mintcheck_fixture
                ),
            ));
        }
        Ok(document)
    }
}

impl Default for FixtureDocument {
    fn default() -> Self {
        Self::new()
    }
}

/// The admin flags of spec §1.3, named as PyPI names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Flags {
    #[serde(default)]
    pub disallow_oidc: bool,
    #[serde(default)]
    pub disallow_github_oidc: bool,
    #[serde(default)]
    pub disallow_gitlab_oidc: bool,
    #[serde(default)]
    pub disallow_google_oidc: bool,
    #[serde(default)]
    pub disallow_activestate_oidc: bool,
    #[serde(default)]
    pub disallow_new_project_registration: bool,
}

impl Flags {
    /// The per-provider flag (R-ISS-1 table).
    pub fn disallows(&self, provider: Provider) -> bool {
        match provider {
            Provider::Github => self.disallow_github_oidc,
            Provider::Gitlab => self.disallow_gitlab_oidc,
            Provider::Google => self.disallow_google_oidc,
            Provider::ActiveState => self.disallow_activestate_oidc,
        }
    }
}

/// One trusted issuer string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// The provider type: how its tokens are matched.
    pub provider: Provider,
    /// The exact `iss` string (R-ISS-2: compared byte for byte).
    pub issuer: String,
    /// `true`: the provider's canonical issuer, possibly a substitute such as a mock's URL
    /// (R-ISS-5); it is the issuer of R-PUB-1 and the replay namespace of R-JTI-3.
    /// `false`: an organisation's custom issuer (R-ISS-4, R-FLAG-3, R-GL-5).
    pub canonical: bool,
    /// Where `<iss>/.well-known/openid-configuration` is read from (R-JWKS-3). Absent and no
    /// `jwks`: `<issuer>/.well-known/openid-configuration` itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery_url: Option<String>,
    /// The JWKS URL the discovery document names, for targets that cannot do discovery. The
    /// reference registry follows `discovery_url` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// The issuer's JWK Set inline, for targets that cannot fetch. The reference registry
    /// seeds its cache from it only when `discovery_url` is absent (then it never refreshes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Display name; the project's identity is its `normalize`d form.
    pub name: String,
    /// Project id as minted tokens name it (R-TOK-3); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publisher {
    /// Publisher id as minted tokens name it (R-TOK-3); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Names of the projects it may publish (each must be in `projects`).
    pub projects: Vec<String>,
    pub identity: Identity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingPublisher {
    /// The project the first mint creates, verbatim (R-PEND-4).
    pub project_name: String,
    /// The user who registered it. When one pending publisher creates its project, other
    /// users' pending publishers for the same `ultranormalize`d name are deleted (R-PEND-4).
    pub added_by: String,
    pub identity: Identity,
    /// How many days ago it was registered (default 0). PyPI deletes pending publishers
    /// older than 30 days (R-PEND-5), so an older one is as good as absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_days: Option<u32>,
}

/// A publisher's provider and identity fields (spec §8–§11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider")]
pub enum Identity {
    #[serde(rename = "github")]
    Github(GithubIdentity),
    #[serde(rename = "gitlab")]
    Gitlab(GitlabIdentity),
    #[serde(rename = "google")]
    Google(GoogleIdentity),
    #[serde(rename = "activestate")]
    ActiveState(ActiveStateIdentity),
}

impl Identity {
    pub fn provider(&self) -> Provider {
        match self {
            Identity::Github(_) => Provider::Github,
            Identity::Gitlab(_) => Provider::Gitlab,
            Identity::Google(_) => Provider::Google,
            Identity::ActiveState(_) => Provider::ActiveState,
        }
    }
}

/// Spec §8. Compared exactly, except `environment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubIdentity {
    pub repository_owner: String,
    pub repository_name: String,
    pub repository_owner_id: String,
    /// A file name such as `publish.yml`.
    pub workflow_filename: String,
    /// `""`: any environment. Stored lowercase: lowercased on apply.
    #[serde(default)]
    pub environment: String,
}

/// Spec §9.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitlabIdentity {
    /// May contain `/`, e.g. `acme/python`.
    pub namespace: String,
    pub project: String,
    /// A path in the repository, e.g. `.gitlab-ci.yml` or `ci/release.yml`.
    pub workflow_filepath: String,
    /// `""`: any environment. Compared exactly.
    #[serde(default)]
    pub environment: String,
    /// The exact `iss` of its tokens: the canonical GitLab issuer or a custom one (R-GL-5).
    pub issuer_url: String,
}

/// Spec §10.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleIdentity {
    pub email: String,
    /// `""`: any subject.
    #[serde(default)]
    pub sub: String,
}

/// Spec §11.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveStateIdentity {
    pub organization: String,
    pub activestate_project_name: String,
    /// The ActiveState username; not matched against tokens (only `actor_id` is).
    pub actor: String,
    pub actor_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsedJti {
    /// Recorded under this provider's canonical issuer (R-JTI-3).
    pub provider: Provider,
    pub jti: String,
    /// Unix time the record lapses; absent: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
}

/// A document the target could not apply, and which field is at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FixtureError {
    /// A path such as `publishers[0].projects[1]`.
    pub field: String,
    pub message: String,
}

impl FixtureError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The result of handing a target a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// The target cannot set this fixture up; the scenario is `unsupported`, not failed.
    Unsupported(Vec<String>),
}

/// How the harness hands a fixture to an in-process target (`docs/target-contract.md`).
pub trait FixtureTarget {
    fn apply_fixture(&self, document: &FixtureDocument) -> Result<Applied, FixtureError>;
}
