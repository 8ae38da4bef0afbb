//! Does a token's claims match a publisher? The identity fields of each provider (spec
//! R-GH-1, R-GL-1, R-GOOG-1, R-AS-1), compared as this registry chose to, and the claims each
//! provider's tokens must carry (R-PUB-2).

use serde_json::{Map, Value};

use super::Behaviour;
use super::fixture::Identity;

/// The claims a provider's token must carry before any matching (R-PUB-2).
pub fn required_claims(provider: &str) -> &'static [&'static str] {
    match provider {
        "github" => &[
            "repository",
            "repository_owner",
            "repository_owner_id",
            "job_workflow_ref",
            "jti",
            "event_name",
            "ref",
            "sha",
        ],
        "gitlab" => &[
            "sub",
            "project_path",
            "ci_config_ref_uri",
            "jti",
            "ref_path",
            "sha",
        ],
        "google" => &["email", "email_verified"],
        _ => &["sub", "organization", "project", "actor_id", "builder"],
    }
}

/// Whether `identity` (a publisher's) matches the token's `claims` issued by `iss`.
pub fn matches(
    identity: &Identity,
    claims: &Map<String, Value>,
    iss: &str,
    behaviour: &Behaviour,
) -> bool {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
    match identity {
        Identity::Github {
            repository_owner,
            repository_name,
            repository_owner_id,
            workflow_filename,
            environment,
        } => {
            let same = |a: &str, b: &str| {
                if behaviour.repository_case_insensitive {
                    a.eq_ignore_ascii_case(b)
                } else {
                    a == b
                }
            };
            let repository = format!("{repository_owner}/{repository_name}");
            // The workflow that ran is the called one; it lives in the publisher's repository.
            let workflow = format!("{repository}/.github/workflows/{workflow_filename}");
            let called = text("job_workflow_ref")
                .split('@')
                .next()
                .unwrap_or_default();
            same(text("repository"), &repository)
                && same(text("repository_owner"), repository_owner)
                && (behaviour.flaws.ignore_owner_id
                    || text("repository_owner_id") == repository_owner_id)
                && (behaviour.flaws.ignore_workflow || same(called, &workflow))
                && (behaviour.flaws.ignore_environment
                    || environment_matches(environment, text("environment"), true))
        }
        Identity::Gitlab {
            namespace,
            project,
            workflow_filepath,
            environment,
            issuer_url,
        } => {
            let path = format!("{namespace}/{project}");
            let host = issuer_url.trim_start_matches("https://");
            let uri = text("ci_config_ref_uri");
            let config = uri.rsplit_once('@').map_or(uri, |(before, _)| before);
            let expected_config = format!("{host}/{path}//{workflow_filepath}");
            iss == issuer_url
                && text("project_path").eq_ignore_ascii_case(&path)
                && config.eq_ignore_ascii_case(&expected_config)
                && environment_matches(environment, text("environment"), false)
        }
        Identity::Google { email, sub } => {
            text("email") == email
                && claims.get("email_verified") == Some(&Value::Bool(true))
                && (sub.is_empty() || text("sub") == sub)
        }
        Identity::Activestate {
            organization,
            activestate_project_name,
            actor_id,
        } => {
            text("organization") == organization
                && text("project") == activestate_project_name
                && text("actor_id") == actor_id
        }
    }
}

/// A publisher bound to no environment (`""`) takes any; otherwise the claim must name it.
fn environment_matches(stored: &str, claim: &str, ignore_case: bool) -> bool {
    stored.is_empty()
        || (!claim.is_empty()
            && if ignore_case {
                claim.eq_ignore_ascii_case(stored)
            } else {
                claim == stored
            })
}
