//! Publishers described on the command line or in a small TOML file, for `mintcheck sandbox`
//! and `mintcheck explain`: the fields of the reference registry's fixture identities
//! (`reference_registry::fixture::Identity`), so there is one vocabulary everywhere.
//!
//! On the command line, `KEY=VALUE` pairs separated by commas:
//! `provider=github,repository=acme-labs/widgetry,repository_owner_id=48213977,workflow_filename=publish.yml,environment=pypi`.
//! `provider` defaults to `github`; `repository=OWNER/NAME` stands for `repository_owner`
//! and `repository_name`.

use reference_registry::fixture::Identity;
use serde_json::{Map, Value};

/// The keys each provider's identity takes, for messages.
const FIELDS: &str = "github: repository (or repository_owner, repository_name), repository_owner_id, workflow_filename, environment; \
gitlab: namespace, project, workflow_filepath, environment, issuer_url; \
google: email, sub; activestate: organization, activestate_project_name, actor, actor_id";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("publisher {what}: {problem} (fields: {FIELDS})")]
pub struct PublisherSpecError {
    /// The description as given, or the file it came from.
    pub what: String,
    pub problem: String,
}

/// `KEY=VALUE,KEY=VALUE` pairs in order; values may contain `=` but not `,`.
pub fn pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| match part.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_owned(), value.to_owned()))
            }
            _ => Err(format!("{part:?} is not KEY=VALUE")),
        })
        .collect()
}

/// An identity from `KEY=VALUE,...` (see the module documentation).
pub fn parse(text: &str) -> Result<Identity, PublisherSpecError> {
    let error = |problem: String| PublisherSpecError {
        what: format!("{text:?}"),
        problem,
    };
    let pairs = pairs(text).map_err(error)?;
    let fields = pairs
        .into_iter()
        .map(|(key, value)| (key, Value::String(value)))
        .collect();
    from_fields(fields).map_err(error)
}

/// An identity from a TOML document whose top-level keys are the fields.
pub fn from_toml(text: &str, path: &str) -> Result<Identity, PublisherSpecError> {
    let error = |problem: String| PublisherSpecError {
        what: path.to_owned(),
        problem,
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| error(e.to_string()))?;
    let fields = serde_json::to_value(table)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    from_fields(fields).map_err(error)
}

fn from_fields(mut fields: Map<String, Value>) -> Result<Identity, String> {
    fields
        .entry("provider")
        .or_insert_with(|| Value::from("github"));
    if let Some(repository) = fields.remove("repository") {
        let text = repository.as_str().unwrap_or_default();
        let (owner, name) = text
            .split_once('/')
            .ok_or_else(|| format!("repository {text:?} is not OWNER/NAME"))?;
        for (key, value) in [("repository_owner", owner), ("repository_name", name)] {
            if fields.insert(key.to_owned(), Value::from(value)).is_some() {
                return Err(format!("both repository and {key} given"));
            }
        }
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reference_registry::fixture::GithubIdentity;

    #[test]
    fn github_by_repository_slug() {
        let identity = parse(
            "repository=acme-labs/widgetry,repository_owner_id=48213977,workflow_filename=publish.yml",
        )
        .unwrap();
        assert_eq!(
            identity,
            Identity::Github(GithubIdentity {
                repository_owner: "acme-labs".into(),
                repository_name: "widgetry".into(),
                repository_owner_id: "48213977".into(),
                workflow_filename: "publish.yml".into(),
                environment: String::new(),
            })
        );
    }

    #[test]
    fn mistakes_name_the_field() {
        let err = parse("provider=gitlab,namespace=acme").unwrap_err();
        assert!(err.problem.contains("missing field `project`"), "{err}");
        let err = parse("repository=widgetry").unwrap_err();
        assert!(err.problem.contains("not OWNER/NAME"), "{err}");
        let err = parse("repo_owner=x").unwrap_err();
        assert!(err.problem.contains("unknown field `repo_owner`"), "{err}");
        assert!(parse("nonsense").unwrap_err().problem.contains("KEY=VALUE"));
    }

    #[test]
    fn toml_files_take_the_same_keys() {
        let text = "provider = \"google\"\nemail = \"bot@example.iam.gserviceaccount.com\"\n";
        let identity = from_toml(text, "publisher.toml").unwrap();
        assert!(matches!(identity, Identity::Google(g) if g.sub.is_empty()));
        let err = from_toml("email = 3", "p.toml").unwrap_err();
        assert_eq!(err.what, "p.toml");
    }
}
