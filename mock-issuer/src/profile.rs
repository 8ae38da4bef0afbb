//! Complete, realistic claim sets for each CI provider (the spec's §18 examples), with the
//! times made relative to the moment of signing.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::time::seconds_to_json;

/// A trusted-publishing provider (the spec's `<svc>`) and what the spec says of its
/// tokens: the canonical issuer (R-ISS-1) and the claims a registry requires (R-PUB-2).
/// The one provider type of the workspace: the reference registry's fixtures and matching
/// and the harness's scenarios use it too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Github,
    Gitlab,
    Google,
    ActiveState,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Provider::Github,
        Provider::Gitlab,
        Provider::Google,
        Provider::ActiveState,
    ];

    /// The exact `iss` string the provider puts in its tokens.
    pub fn canonical_issuer(self) -> &'static str {
        match self {
            Provider::Github => "https://token.actions.githubusercontent.com",
            Provider::Gitlab => "https://gitlab.com",
            Provider::Google => "https://accounts.google.com",
            Provider::ActiveState => "https://platform.activestate.com/api/v1/oauth/oidc",
        }
    }

    /// The spec's `<svc>` name.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Google => "google",
            Provider::ActiveState => "activestate",
        }
    }

    /// The claims a registry requires in the provider's tokens (R-PUB-2), in the order the
    /// reference registry checks them.
    pub const fn required_claims(self) -> &'static [&'static str] {
        match self {
            Provider::Github => &[
                "repository",
                "repository_owner",
                "repository_owner_id",
                "job_workflow_ref",
                "jti",
                "event_name",
                "ref",
                "sha",
            ],
            Provider::Gitlab => &[
                "sub",
                "project_path",
                "ci_config_ref_uri",
                "jti",
                "ref_path",
                "sha",
            ],
            Provider::Google => &["email", "email_verified"],
            Provider::ActiveState => &["sub", "organization", "project", "actor_id", "builder"],
        }
    }
}

/// A name that is not a provider's.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0:?} is not github, gitlab, google or activestate")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|provider| provider.name() == name)
            .ok_or_else(|| UnknownProvider(name.to_owned()))
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The default identities: each matches the publisher the spec's §18 example describes.
pub mod identity {
    pub const GITHUB_OWNER: &str = "acme-labs";
    pub const GITHUB_REPOSITORY_NAME: &str = "widgetry";
    pub const GITHUB_OWNER_ID: &str = "48213977";
    pub const GITHUB_WORKFLOW: &str = "publish.yml";
    pub const GITHUB_ENVIRONMENT: &str = "pypi";
    pub const GITLAB_NAMESPACE: &str = "acme/python";
    pub const GITLAB_PROJECT: &str = "widgetry";
    pub const GITLAB_WORKFLOW_FILEPATH: &str = ".gitlab-ci.yml";
    pub const GITLAB_ENVIRONMENT: &str = "release";
    pub const GOOGLE_EMAIL: &str = "release-bot@acme-ci.iam.gserviceaccount.com";
    pub const GOOGLE_SUB: &str = "104729384756120394857";
    pub const ACTIVESTATE_ORGANIZATION: &str = "acme";
    pub const ACTIVESTATE_PROJECT: &str = "widgetry";
    pub const ACTIVESTATE_ACTOR: &str = "jdoe";
    pub const ACTIVESTATE_ACTOR_ID: &str = "5f0c2a9e-7d41-4b8e-a3c6-19e8d7b6c5a4";
    /// The GitHub Enterprise Cloud slug of the `github-enterprise` profile.
    pub const GITHUB_ENTERPRISE_SLUG: &str = "acme-enterprise";
    /// The issuer of the `ghes` profile (a GitHub Enterprise Server instance).
    pub const GHES_ISSUER: &str = "https://ghes.acme.example/_services/token";
    /// The repository holding the called workflow in the `github-reusable` profile.
    pub const REUSABLE_WORKFLOW_REF: &str =
        "acme-labs/release-tools/.github/workflows/pypi-publish.yml@refs/heads/main";
}

/// A named claim set. The `iss` a profile carries is decided by whoever signs
/// (see [`crate::IssuerMode`]); [`Profile::default_issuer`] is what real tokens carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    Github,
    GithubReusable,
    GithubEnterprise,
    Ghes,
    GithubCustomSub,
    Gitlab,
    Google,
    ActiveState,
}

impl Profile {
    pub const ALL: [Profile; 8] = [
        Profile::Github,
        Profile::GithubReusable,
        Profile::GithubEnterprise,
        Profile::Ghes,
        Profile::GithubCustomSub,
        Profile::Gitlab,
        Profile::Google,
        Profile::ActiveState,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Github => "github",
            Profile::GithubReusable => "github-reusable",
            Profile::GithubEnterprise => "github-enterprise",
            Profile::Ghes => "ghes",
            Profile::GithubCustomSub => "github-custom-sub",
            Profile::Gitlab => "gitlab",
            Profile::Google => "google",
            Profile::ActiveState => "activestate",
        }
    }

    /// One line for `--help`.
    pub fn summary(self) -> &'static str {
        match self {
            Profile::Github => {
                "GitHub Actions, tag push of acme-labs/widgetry, workflow publish.yml, environment pypi"
            }
            Profile::GithubReusable => {
                "GitHub Actions calling a reusable workflow in another repository (job_workflow_ref != workflow_ref)"
            }
            Profile::GithubEnterprise => {
                "GitHub Enterprise Cloud with an enterprise-slug issuer (…githubusercontent.com/acme-enterprise)"
            }
            Profile::Ghes => {
                "GitHub Enterprise Server (issuer https://ghes.acme.example/_services/token)"
            }
            Profile::GithubCustomSub => {
                "GitHub Actions with a customised `sub` (repository_owner_id:…:repository_id:…)"
            }
            Profile::Gitlab => {
                "GitLab CI/CD on gitlab.com, acme/python/widgetry, .gitlab-ci.yml, environment release"
            }
            Profile::Google => "Google service-account ID token (no jti)",
            Profile::ActiveState => "ActiveState platform build of acme/widgetry",
        }
    }

    pub fn provider(self) -> Provider {
        match self {
            Profile::Github
            | Profile::GithubReusable
            | Profile::GithubEnterprise
            | Profile::Ghes
            | Profile::GithubCustomSub => Provider::Github,
            Profile::Gitlab => Provider::Gitlab,
            Profile::Google => Provider::Google,
            Profile::ActiveState => Provider::ActiveState,
        }
    }

    /// The `iss` a real token of this kind carries.
    pub fn default_issuer(self) -> String {
        match self {
            Profile::GithubEnterprise => format!(
                "{}/{}",
                Provider::Github.canonical_issuer(),
                identity::GITHUB_ENTERPRISE_SLUG
            ),
            Profile::Ghes => identity::GHES_ISSUER.to_owned(),
            other => other.provider().canonical_issuer().to_owned(),
        }
    }

    /// The complete claim set at `now`, with the given issuer, audience and `jti`.
    /// Google tokens carry no `jti`, so `jti` is ignored for them.
    pub fn claims(self, now: f64, issuer: &str, audience: &str, jti: &str) -> Map<String, Value> {
        let at = |offset: f64| seconds_to_json(now + offset);
        let mut claims = match self.provider() {
            Provider::Github => self.github_claims(jti),
            Provider::Gitlab => gitlab_claims(jti),
            Provider::Google => google_claims(),
            Provider::ActiveState => activestate_claims(jti),
        };
        // Times stay inside the spec's R-TIME-1 "MUST pass" window (exp >= now+300, iat and
        // nbf <= now-5) when a registry checks them, which may be a while after "now" (the
        // moment of signing: a slow target takes seconds to apply a fixture). GitHub and
        // ActiveState tokens live 300 s in reality, so theirs get 60 s more than that;
        // GitLab's and Google's real hour is margin enough.
        let (nbf, exp) = match self.provider() {
            Provider::Github => (Some(-305.0), 360.0),
            Provider::Gitlab => (Some(-10.0), 3595.0),
            Provider::Google => (None, 3595.0),
            Provider::ActiveState => (Some(-605.0), 360.0),
        };
        claims.insert("iss".into(), json!(issuer));
        claims.insert("aud".into(), json!(audience));
        claims.insert("iat".into(), at(-5.0));
        if let Some(nbf) = nbf {
            claims.insert("nbf".into(), at(nbf));
        }
        claims.insert("exp".into(), at(exp));
        claims
    }

    fn github_claims(self, jti: &str) -> Map<String, Value> {
        use identity::*;
        let repository = format!("{GITHUB_OWNER}/{GITHUB_REPOSITORY_NAME}");
        let git_ref = "refs/tags/v2.0.1";
        let sha = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let workflow_ref = format!("{repository}/.github/workflows/{GITHUB_WORKFLOW}@{git_ref}");
        let (job_workflow_ref, job_workflow_sha) = match self {
            Profile::GithubReusable => (
                REUSABLE_WORKFLOW_REF.to_owned(),
                "e2c1d0b9a8f7e6d5c4b3a2918070605040302010",
            ),
            _ => (workflow_ref.clone(), sha),
        };
        let sub = match self {
            Profile::GithubCustomSub => {
                format!(
                    "repository_owner_id:{GITHUB_OWNER_ID}:repository_id:712340987:environment:{GITHUB_ENVIRONMENT}"
                )
            }
            _ => format!("repo:{repository}:environment:{GITHUB_ENVIRONMENT}"),
        };
        let mut claims = object(json!({
            "jti": jti,
            "sub": sub,
            "environment": GITHUB_ENVIRONMENT,
            "ref": git_ref,
            "sha": sha,
            "repository": repository,
            "repository_owner": GITHUB_OWNER,
            "repository_owner_id": GITHUB_OWNER_ID,
            "repository_id": "712340987",
            "repository_visibility": "public",
            "actor": "jdoe",
            "actor_id": "1029384",
            "run_id": "12873465091",
            "run_number": "87",
            "run_attempt": "1",
            "runner_environment": "github-hosted",
            "workflow": "Publish",
            "head_ref": "",
            "base_ref": "",
            "event_name": "push",
            "ref_type": "tag",
            "ref_protected": "true",
            "workflow_ref": workflow_ref,
            "workflow_sha": sha,
            "job_workflow_ref": job_workflow_ref,
            "job_workflow_sha": job_workflow_sha,
        }));
        if self == Profile::GithubEnterprise {
            claims.insert("enterprise".into(), json!(identity::GITHUB_ENTERPRISE_SLUG));
            claims.insert("enterprise_id".into(), json!("4821"));
        }
        claims
    }
}

fn gitlab_claims(jti: &str) -> Map<String, Value> {
    use identity::*;
    let project_path = format!("{GITLAB_NAMESPACE}/{GITLAB_PROJECT}");
    object(json!({
        "namespace_id": "61023",
        "namespace_path": GITLAB_NAMESPACE,
        "project_id": "50123987",
        "project_path": project_path,
        "user_id": "88231",
        "user_login": "jdoe",
        "user_email": "jdoe@acme.example",
        "user_access_level": "maintainer",
        "pipeline_id": "1598321044",
        "pipeline_source": "push",
        "job_id": "8823710455",
        "ref": "v2.0.1",
        "ref_type": "tag",
        "ref_path": "refs/tags/v2.0.1",
        "ref_protected": "true",
        "environment": GITLAB_ENVIRONMENT,
        "environment_protected": "true",
        "deployment_tier": "production",
        "runner_id": 12270857,
        "runner_environment": "gitlab-hosted",
        "sha": "9c1f0b7e3d2a4c5b6e7f8091a2b3c4d5e6f70812",
        "project_visibility": "public",
        "ci_config_ref_uri": format!("gitlab.com/{project_path}//{GITLAB_WORKFLOW_FILEPATH}@refs/tags/v2.0.1"),
        "ci_config_sha": "9c1f0b7e3d2a4c5b6e7f8091a2b3c4d5e6f70812",
        "jti": jti,
        "sub": format!("project_path:{project_path}:ref_type:tag:ref:v2.0.1"),
    }))
}

fn google_claims() -> Map<String, Value> {
    object(json!({
        "azp": identity::GOOGLE_SUB,
        "email": identity::GOOGLE_EMAIL,
        "email_verified": true,
        "sub": identity::GOOGLE_SUB,
    }))
}

fn activestate_claims(jti: &str) -> Map<String, Value> {
    use identity::*;
    object(json!({
        "jti": jti,
        "sub": format!("org:{ACTIVESTATE_ORGANIZATION}:project:{ACTIVESTATE_PROJECT}"),
        "actor_id": ACTIVESTATE_ACTOR_ID,
        "actor": ACTIVESTATE_ACTOR,
        "organization": ACTIVESTATE_ORGANIZATION,
        "organization_id": "c2b7e4f1-0a9d-4c36-8e15-7f3a2d1b9c60",
        "project": ACTIVESTATE_PROJECT,
        "project_path": format!("{ACTIVESTATE_ORGANIZATION}/{ACTIVESTATE_PROJECT}"),
        "project_id": "e81d4f2a-6c3b-4907-b5a8-2f9e1c7d3b04",
        "project_visibility": "public",
        "builder": "pypi-publisher",
        "artifact_id": "3c7a9e1f-5b2d-4f80-a6c4-8d1e0b9f7a25",
    }))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("claim templates are JSON objects"),
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("unknown profile {0:?}; known profiles: {known}", known = Profile::ALL.map(Profile::name).join(", "))]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|profile| profile.name() == name)
            .ok_or_else(|| UnknownProfile(name.to_owned()))
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_profile_matches_the_spec_example_identity() {
        let claims = Profile::Github.claims(1000.0, "https://iss", "pypi", "j-1");
        assert_eq!(claims["repository"], "acme-labs/widgetry");
        assert_eq!(claims["repository_owner_id"], "48213977");
        assert_eq!(
            claims["job_workflow_ref"],
            "acme-labs/widgetry/.github/workflows/publish.yml@refs/tags/v2.0.1"
        );
        assert_eq!(claims["jti"], "j-1");
        assert_eq!(claims["iat"], 995);
        assert_eq!(claims["exp"], 1360);
    }

    #[test]
    fn reusable_workflow_profile_calls_another_repository() {
        let claims = Profile::GithubReusable.claims(0.0, "i", "pypi", "j");
        assert_ne!(claims["job_workflow_ref"], claims["workflow_ref"]);
        assert_eq!(claims["job_workflow_ref"], identity::REUSABLE_WORKFLOW_REF);
    }

    #[test]
    fn google_tokens_carry_no_jti_and_no_nbf() {
        let claims = Profile::Google.claims(0.0, "i", "pypi", "j");
        assert!(!claims.contains_key("jti"));
        assert!(!claims.contains_key("nbf"));
        assert_eq!(claims["email_verified"], true);
    }

    #[test]
    fn every_profile_name_round_trips() {
        for profile in Profile::ALL {
            assert_eq!(profile.name().parse::<Profile>(), Ok(profile));
        }
        let err = "gitHub".parse::<Profile>().unwrap_err();
        assert!(
            err.to_string().contains("known profiles: github, "),
            "{err}"
        );
    }

    #[test]
    fn enterprise_issuers_differ_from_the_canonical_one() {
        assert_eq!(
            Profile::GithubEnterprise.default_issuer(),
            "https://token.actions.githubusercontent.com/acme-enterprise"
        );
        assert_eq!(Profile::Ghes.default_issuer(), identity::GHES_ISSUER);
        assert_eq!(
            Profile::Github.default_issuer(),
            Provider::Github.canonical_issuer()
        );
    }
}
