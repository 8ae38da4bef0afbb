//! A scenario's fixture: what the target is told before the scenario. The harness adds the
//! trusted issuers (its mock issuers) and turns this into a fixture document.
//!
//! One shape serves the file and the run: [`FixtureTable`] holds flags and providers as
//! written, [`Fixture`] as checked (see `validate`), and both serialize alike.

use mock_issuer::Provider;
use reference_registry::fixture::{PendingPublisher, Publisher, UsedJti};
use serde::{Deserialize, Serialize};

/// A fixture with flags of type `F` and providers of type `P`: strings as written in a
/// file ([`FixtureTable`]), enums once checked ([`Fixture`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixtureOf<F, P> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Admin flags that are on, e.g. `["disallow-github-oidc"]`.
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<F>,
    /// Names of existing projects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prohibited_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<Publisher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_publishers: Vec<PendingPublisher>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used_jtis: Vec<UsedJti>,
    /// Issuers an organisation registered (a self-managed GitLab, say): each is served by a
    /// mock of its own and trusted as a custom issuer of its provider type (R-ISS-4).
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub custom_issuers: Vec<CustomIssuerOf<P>>,
    /// Providers whose canonical issuer string the fixture replaces by their mock's own URL
    /// (R-ISS-5: a test deployment may), e.g. `["github"]`.
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub substitute_issuers: Vec<P>,
}

/// A fixture as written.
pub type FixtureTable = FixtureOf<String, String>;
/// A fixture as checked.
pub type Fixture = FixtureOf<Flag, Provider>;

impl<F, P> Default for FixtureOf<F, P> {
    fn default() -> Self {
        FixtureOf {
            audience: None,
            flags: Vec::new(),
            projects: Vec::new(),
            prohibited_names: Vec::new(),
            publishers: Vec::new(),
            pending_publishers: Vec::new(),
            used_jtis: Vec::new(),
            custom_issuers: Vec::new(),
            substitute_issuers: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomIssuerOf<P> {
    /// `github`, `gitlab`, `google` or `activestate`: how its tokens are matched.
    pub provider: P,
    /// The exact `iss` its tokens carry, e.g. `https://gitlab.acme.example`; tokens name it
    /// with `claims = { iss = "..." }`.
    pub issuer: String,
}

pub type CustomIssuer = CustomIssuerOf<Provider>;

impl Fixture {
    /// The audience forged tokens carry and the target is told: the fixture's, else `pypi`.
    pub fn audience(&self) -> &str {
        self.audience.as_deref().unwrap_or("pypi")
    }

    /// The fixture as a file writes it.
    pub fn to_table(&self) -> FixtureTable {
        FixtureOf {
            audience: self.audience.clone(),
            flags: self.flags.iter().map(|f| f.name().to_owned()).collect(),
            projects: self.projects.clone(),
            prohibited_names: self.prohibited_names.clone(),
            publishers: self.publishers.clone(),
            pending_publishers: self.pending_publishers.clone(),
            used_jtis: self.used_jtis.clone(),
            custom_issuers: self
                .custom_issuers
                .iter()
                .map(|c| CustomIssuerOf {
                    provider: c.provider.name().to_owned(),
                    issuer: c.issuer.clone(),
                })
                .collect(),
            substitute_issuers: self
                .substitute_issuers
                .iter()
                .map(|p| p.name().to_owned())
                .collect(),
        }
    }
}

/// An admin flag of the registry (R-FLAG-1, R-FLAG-2, R-NEW-4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    DisallowOidc,
    DisallowGithubOidc,
    DisallowGitlabOidc,
    DisallowGoogleOidc,
    DisallowActivestateOidc,
    DisallowNewProjectRegistration,
}

impl Flag {
    pub const ALL: [Flag; 6] = [
        Flag::DisallowOidc,
        Flag::DisallowGithubOidc,
        Flag::DisallowGitlabOidc,
        Flag::DisallowGoogleOidc,
        Flag::DisallowActivestateOidc,
        Flag::DisallowNewProjectRegistration,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Flag::DisallowOidc => "disallow-oidc",
            Flag::DisallowGithubOidc => "disallow-github-oidc",
            Flag::DisallowGitlabOidc => "disallow-gitlab-oidc",
            Flag::DisallowGoogleOidc => "disallow-google-oidc",
            Flag::DisallowActivestateOidc => "disallow-activestate-oidc",
            Flag::DisallowNewProjectRegistration => "disallow-new-project-registration",
        }
    }

    pub fn named(name: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|flag| flag.name() == name)
    }

    /// The flag that turns trusted publishing off for `provider` alone (R-FLAG-2).
    pub fn disallowing(provider: Provider) -> Flag {
        match provider {
            Provider::Github => Flag::DisallowGithubOidc,
            Provider::Gitlab => Flag::DisallowGitlabOidc,
            Provider::Google => Flag::DisallowGoogleOidc,
            Provider::ActiveState => Flag::DisallowActivestateOidc,
        }
    }
}

impl Serialize for Flag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}
