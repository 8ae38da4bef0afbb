//! `mintcheck explain`: the verdict PyPI's rules give a token, step by step, with publisher
//! matching field by field. Never prints the token.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use mintcheck::explain::{self, At, Request};
use mintcheck::scenario::publisher;
use reference_registry::explain::Input;
use serde_json::Value;

use super::UsageError;
use super::output::{out, outln, unread_is_fine};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The verdict comes from the reference registry's own code: explain runs its mint procedure on
a registry holding just the publisher described, with every check but the signature (explain
has no issuer keys). Exit code 0 if a token would be minted, 1 if it is refused, 2 for bad
input.

PUBLISHER is KEY=VALUE pairs separated by commas (or the same keys in a TOML file):
  provider=github,repository=acme-labs/widgetry,repository_owner_id=48213977,workflow_filename=publish.yml,environment=pypi
  provider=gitlab,namespace=acme/python,project=widgetry,workflow_filepath=.gitlab-ci.yml,environment=release,issuer_url=https://gitlab.com
  provider=google,email=bot@proj.iam.gserviceaccount.com[,sub=...]
  provider=activestate,organization=acme,activestate_project_name=widgetry,actor=jdoe,actor_id=...
provider defaults to github; an empty environment (or sub) means any.

CI tokens live minutes: to judge one from a past run, use --at issued.")]
pub struct ExplainArgs {
    /// The token (a compact JWT). Prefer --token-file: command lines end up in histories.
    #[arg(long, value_name = "JWT", conflicts_with_all = ["token_file", "claims_file"])]
    token: Option<String>,
    /// A file holding the token; `-` reads standard input.
    #[arg(long, value_name = "FILE", conflicts_with = "claims_file")]
    token_file: Option<PathBuf>,
    /// A JSON file holding the token's claims (its decoded payload, or what `python -m id -d`
    /// prints); `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    claims_file: Option<PathBuf>,
    /// The publisher as registered on the registry: KEY=VALUE,... (see below).
    #[arg(long, value_name = "PUBLISHER", conflicts_with = "publisher_file")]
    publisher: Option<String>,
    /// The publisher as a TOML file with the same keys.
    #[arg(long, value_name = "FILE")]
    publisher_file: Option<PathBuf>,
    /// The publisher is a pending publisher that creates PROJECT (spec §13).
    #[arg(long, value_name = "PROJECT")]
    pending: Option<String>,
    /// An existing project (repeatable); an active publisher is attached to the first.
    #[arg(long = "project", value_name = "NAME")]
    projects: Vec<String>,
    /// The registry's audience.
    #[arg(long, default_value = "pypi")]
    audience: String,
    /// Trust this issuer URL as a custom issuer of the publisher's provider (a self-managed
    /// GitLab instance).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// When to judge the token's times: now, issued (the token's iat) or Unix seconds.
    #[arg(long, default_value = "now")]
    at: At,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let input = input(&args)?;
    let identity = match (&args.publisher, &args.publisher_file) {
        (Some(text), _) => publisher::parse(text).map_err(|e| UsageError(e.to_string()))?,
        (None, Some(path)) => {
            let text = super::read_input(path)?;
            publisher::from_toml(&text, &path.display().to_string())
                .map_err(|e| UsageError(e.to_string()))?
        }
        (None, None) => {
            return Err(UsageError(
                "say which publisher the token should match: --publisher KEY=VALUE,... or --publisher-file FILE"
                    .to_owned(),
            )
            .into());
        }
    };
    let request = Request {
        input,
        identity,
        pending: args.pending,
        projects: args.projects,
        audience: Some(args.audience),
        custom_issuer: args.issuer,
        at: args.at,
    };
    let report = explain::explain(&request)
        .await
        .map_err(|e| UsageError(e.to_string()))?;
    if args.json {
        unread_is_fine(outln!(
            "{}",
            serde_json::to_string_pretty(&explain::json(&report))?
        ))?;
    } else {
        unread_is_fine(out!("{}", explain::text(&report)))?;
    }
    Ok(if report.explanation.verdict.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn input(args: &ExplainArgs) -> anyhow::Result<Input> {
    if let Some(token) = &args.token {
        return Ok(Input::Token(token.trim().to_owned()));
    }
    if let Some(path) = &args.token_file {
        return Ok(Input::Token(read(path)?.trim().to_owned()));
    }
    if let Some(path) = &args.claims_file {
        let text = read(path)?;
        return claims(&text)
            .map(Input::Claims)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())).into());
    }
    Err(UsageError(
        "give the token: --token-file FILE, --token JWT or --claims-file FILE".to_owned(),
    )
    .into())
}

/// The claims in `text`: one JSON object, or among several JSON values (`id -d` prints the
/// header, then the payload) the one object with an `iss`.
fn claims(text: &str) -> Result<serde_json::Map<String, Value>, String> {
    let values = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut objects: Vec<_> = values
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .collect();
    if objects.len() > 1 {
        objects.retain(|o| o.contains_key("iss"));
    }
    match objects.len() {
        1 => Ok(objects.remove(0)),
        0 => Err("no JSON object with the token's claims".to_owned()),
        _ => Err("several JSON objects with an iss; give one".to_owned()),
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        Ok(super::read_input(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::claims;

    #[test]
    fn claims_are_the_object_with_an_iss() {
        let id_decoded = "{\"alg\":\"RS256\"}\n{\"iss\":\"https://x\",\"aud\":\"pypi\"}\n";
        assert_eq!(claims(id_decoded).unwrap()["aud"], "pypi");
        assert_eq!(claims("{\"aud\":\"pypi\"}").unwrap()["aud"], "pypi");
        assert!(claims("[1]").unwrap_err().contains("no JSON object"));
        assert!(claims("{").is_err());
    }
}
