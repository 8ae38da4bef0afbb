//! `mintcheck explain`: the verdict PyPI's rules give a token, step by step, with publisher
//! matching field by field. Never prints the token.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use mintcheck::explain::{self, At, Request};
use mintcheck::publisher_spec;
use reference_registry::explain::Input;
use serde_json::Value;

use super::UsageError;

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
    /// A JSON file holding the token's claims (its decoded payload); `-` reads standard input.
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
        (Some(text), _) => publisher_spec::parse(text).map_err(|e| UsageError(e.to_string()))?,
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            publisher_spec::from_toml(&text, &path.display().to_string())
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
        println!("{}", serde_json::to_string_pretty(&explain::json(&report))?);
    } else {
        print!("{}", explain::text(&report));
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
        return match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(claims)) => Ok(Input::Claims(claims)),
            Ok(_) => Err(UsageError(format!("{}: not a JSON object", path.display())).into()),
            Err(e) => Err(UsageError(format!("{}: {e}", path.display())).into()),
        };
    }
    Err(UsageError(
        "give the token: --token-file FILE, --token JWT or --claims-file FILE".to_owned(),
    )
    .into())
}

fn read(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}
