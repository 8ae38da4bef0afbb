//! What a sandbox is seeded with: a scenario-style `[fixture]` (projects, publishers,
//! pending publishers, flags) and `[[job]]`s, from a TOML file, flags or the builder.
//!
//! ```toml
//! [fixture]
//! projects = ["widgetry"]
//! publishers = [{ projects = ["widgetry"], identity = { provider = "github",
//!   repository_owner = "acme-labs", repository_name = "widgetry",
//!   repository_owner_id = "48213977", workflow_filename = "publish.yml", environment = "pypi" } }]
//!
//! [[job]]
//! name = "release"
//! token = { profile = "github", claims = { environment = "pypi" } }
//! ```

use std::net::SocketAddr;

use mock_issuer::{Profile, Provider, TokenSpec};
use reference_registry::fixture::{Identity, PendingPublisher, Publisher};
use serde::Deserialize;

use crate::scenario::fixture::{Fixture, FixtureTable};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}: {key}: {message}")]
pub struct ConfigError {
    /// The file, or `flags` / `builder`.
    pub source_name: String,
    /// The offending key, e.g. `job[1].name`.
    pub key: String,
    pub message: String,
}

/// A CI job: a name and the token its identity gets (a mock-issuer token spec; the profile
/// decides the CI system: GitHub profiles use the token-request contract, `gitlab` gets its
/// token in `<AUD>_ID_TOKEN`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    pub name: String,
    #[serde(default)]
    pub token: TokenSpec,
}

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub fixture: Fixture,
    pub jobs: Vec<JobSpec>,
    /// Where the registry listens (default `127.0.0.1:0`); the issuers take random ports.
    pub addr: SocketAddr,
    /// Where an issuer proxy listens, if the sandbox runs one (`--issuer-proxy`): it sends
    /// the issuers' real hosts to the sandbox's mocks, for a registry of the user's own that
    /// knows only the real issuer strings.
    pub issuer_proxy: Option<String>,
    source_name: String,
}

/// A configuration file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    fixture: FixtureTable,
    #[serde(default, rename = "job")]
    jobs: Vec<JobSpec>,
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn builder() -> String {
    "builder".to_owned()
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            fixture: Fixture::default(),
            jobs: Vec::new(),
            addr: loopback(),
            issuer_proxy: None,
            source_name: builder(),
        }
    }
}

impl SandboxConfig {
    /// Reads a TOML file's text; errors name `path` and the line.
    pub fn from_toml(text: &str, path: &str) -> Result<SandboxConfig, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError {
            source_name: path.to_owned(),
            key: e
                .span()
                .map(|span| {
                    let line = text[..span.start].matches('\n').count() + 1;
                    format!("line {line}")
                })
                .unwrap_or_else(|| "(document)".to_owned()),
            message: e.message().to_owned(),
        })?;
        let fixture =
            crate::scenario::fixture(&file.fixture).map_err(|(key, message)| ConfigError {
                source_name: path.to_owned(),
                key: format!("fixture.{key}"),
                message,
            })?;
        let config = SandboxConfig {
            fixture,
            jobs: file.jobs,
            source_name: path.to_owned(),
            ..SandboxConfig::default()
        };
        config.check()?;
        Ok(config)
    }

    /// Names what the following additions come from, for error messages.
    pub fn source(mut self, name: &str) -> Self {
        self.source_name = name.to_owned();
        self
    }

    pub fn project(mut self, name: impl Into<String>) -> Self {
        self.fixture.projects.push(name.into());
        self
    }

    /// An active publisher of `project` (which is added to the projects if missing).
    pub fn publisher(mut self, project: &str, identity: Identity) -> Self {
        if !self.fixture.projects.iter().any(|p| p == project) {
            self.fixture.projects.push(project.to_owned());
        }
        self.fixture.publishers.push(Publisher {
            id: None,
            projects: vec![project.to_owned()],
            identity,
        });
        self
    }

    /// A pending publisher: its first mint creates `project`.
    pub fn pending_publisher(mut self, project: &str, added_by: &str, identity: Identity) -> Self {
        self.fixture.pending_publishers.push(PendingPublisher {
            project_name: project.to_owned(),
            added_by: added_by.to_owned(),
            identity,
            age_days: None,
        });
        self
    }

    pub fn job(mut self, name: &str, token: TokenSpec) -> Self {
        self.jobs.push(JobSpec {
            name: name.to_owned(),
            token,
        });
        self
    }

    /// Listen on `addr` instead of `127.0.0.1:0`.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Whether nothing is seeded: no project, publisher or pending publisher.
    pub fn is_empty(&self) -> bool {
        self.fixture.projects.is_empty()
            && self.fixture.publishers.is_empty()
            && self.fixture.pending_publishers.is_empty()
    }

    /// Project `widgetry` with the spec §18 GitHub and GitLab publishers, whose identities
    /// the default `github` and `gitlab` jobs carry.
    pub fn demo(self) -> Self {
        let github = serde_json::json!({"provider": "github", "repository_owner": "acme-labs",
            "repository_name": "widgetry", "repository_owner_id": "48213977",
            "workflow_filename": "publish.yml", "environment": "pypi"});
        let gitlab = serde_json::json!({"provider": "gitlab", "namespace": "acme/python",
            "project": "widgetry", "workflow_filepath": ".gitlab-ci.yml",
            "environment": "release", "issuer_url": "https://gitlab.com"});
        let identity = |v| serde_json::from_value(v).expect("the §18 identities are valid");
        self.publisher("widgetry", identity(github))
            .publisher("widgetry", identity(gitlab))
    }

    /// The jobs; without any, one `github` and one `gitlab` job with their profiles' default
    /// (spec §18) identities.
    pub fn jobs(&self) -> Vec<JobSpec> {
        if !self.jobs.is_empty() {
            return self.jobs.clone();
        }
        [Profile::Github, Profile::Gitlab]
            .into_iter()
            .map(|profile| JobSpec {
                name: profile.name().to_owned(),
                token: TokenSpec {
                    profile: Some(profile),
                    ..TokenSpec::default()
                },
            })
            .collect()
    }

    pub async fn start(self) -> Result<super::Sandbox, super::SandboxError> {
        super::Sandbox::start(self).await
    }

    /// Checks what serde cannot of the jobs: their names and providers.
    pub fn check(&self) -> Result<(), ConfigError> {
        let error = |key: String, message: String| ConfigError {
            source_name: self.source_name.clone(),
            key,
            message,
        };
        for (i, job) in self.jobs.iter().enumerate() {
            let key = |field: &str| format!("job[{i}].{field}");
            let name_ok = !job.name.is_empty()
                && job
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !name_ok {
                return Err(error(
                    key("name"),
                    format!("{:?}: use letters, digits, '-', '_' and '.'", job.name),
                ));
            }
            if self.jobs[..i].iter().any(|other| other.name == job.name) {
                return Err(error(
                    key("name"),
                    format!("two jobs are named {:?}", job.name),
                ));
            }
            let profile = job.token.profile();
            if !matches!(profile.provider(), Provider::Github | Provider::Gitlab) {
                return Err(error(
                    key("token.profile"),
                    format!(
                        "{profile}: the sandbox serves CI jobs of GitHub Actions and GitLab CI only; \
                         forge {profile} tokens with `mintcheck token --profile {profile}` (same keys, so the sandbox verifies them)"
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_name_the_file_and_line() {
        let err = SandboxConfig::from_toml("[fixture]\nprojects = 3\n", "sb.toml").unwrap_err();
        assert_eq!(
            (err.source_name.as_str(), err.key.as_str()),
            ("sb.toml", "line 2")
        );
        let err = SandboxConfig::from_toml("[[job]]\nname = \"a b\"\n", "sb.toml").unwrap_err();
        assert_eq!(err.key, "job[0].name");
        let text = "[[job]]\nname = \"g\"\ntoken = { profile = \"google\" }\n";
        let err = SandboxConfig::from_toml(text, "sb.toml").unwrap_err();
        assert!(
            err.message.contains("mintcheck token --profile google"),
            "{err}"
        );
        let err = SandboxConfig::from_toml("[fixture]\nflags = [\"x\"]\n", "sb.toml").unwrap_err();
        assert_eq!(err.key, "fixture.flags[0]");
    }

    #[test]
    fn default_jobs_carry_the_demo_identities() {
        let config = SandboxConfig::default().demo();
        let names: Vec<String> = config.jobs().into_iter().map(|j| j.name).collect();
        assert_eq!(names, ["github", "gitlab"]);
        assert_eq!(config.fixture.projects, ["widgetry"]);
        assert_eq!(config.fixture.publishers.len(), 2);
    }
}
