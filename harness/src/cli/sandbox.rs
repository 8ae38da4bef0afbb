//! `mintcheck sandbox`: mock issuers and the reference registry together, for rehearsing a
//! release with real clients; prints the environment each CI job needs, then every mint
//! and upload it serves.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use mintcheck::sandbox::{Job, Sandbox, SandboxConfig, SandboxError};
use mintcheck::scenario::publisher;
use mock_issuer::{Profile, TokenSpec};
use reference_registry::Event;
use reference_registry::events::{MintEvent, UploadEvent};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::output::{out, outln};
use super::{UsageError, in_use_is_usage};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Everything serves https on 127.0.0.1 with certificates from one CA generated at start. A job's
SSL_CERT_FILE and REQUESTS_CA_BUNDLE name a bundle of the system's trust roots plus that CA (so
pip still reaches the real index in the same shell); NODE_EXTRA_CA_CERTS names the CA alone.
Both files are deleted when the sandbox stops. Each provider's mock
issuer signs with that provider's canonical iss (https://token.actions.githubusercontent.com,
https://gitlab.com, ...), and the registry trusts exactly those mocks.

Without --config, --project, --publisher or --pending the registry holds the spec §18 demo:
project widgetry with publishers acme-labs/widgetry (publish.yml, environment pypi) and
gitlab.com acme/python/widgetry (.gitlab-ci.yml, environment release). Without --job there is
one job per CI system, named github and gitlab, carrying those identities.

PUBLISHER is KEY=VALUE pairs separated by commas, with the fields of the fixture identities:
  provider=github,repository=acme-labs/widgetry,repository_owner_id=48213977,workflow_filename=publish.yml,environment=pypi
  provider=gitlab,namespace=acme/python,project=widgetry,workflow_filepath=.gitlab-ci.yml,issuer_url=https://gitlab.com
JOB is NAME:profile=PROFILE,CLAIM=VALUE,... e.g. release:profile=github,environment=staging
(claims override the profile's; a GitHub job's tokens are minted on request, a GitLab job's
single token is in <AUD>_ID_TOKEN, valid for an hour and, like GitLab's, good for one mint; the
job's environment says how to get a fresh one from MINTCHECK_ID_TOKEN_URL).

The config file is TOML: a [fixture] table as in scenario files (projects, publishers,
pending_publishers, flags, prohibited_names, audience) and [[job]] tables with a name and a
token spec (see `mintcheck issuer --help`). Tokens are never printed, only their claims.

Exit codes: 0 stopped by Ctrl-C or SIGTERM; 1 could not start; 2 usage error (a bad flag, a
missing or invalid --config, a bad --publisher, --pending or --job, an --addr or
--issuer-proxy-addr that another program holds).")]
pub struct SandboxArgs {
    /// A TOML file with [fixture] and [[job]] tables.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// An existing project (repeatable).
    #[arg(long = "project", value_name = "NAME")]
    projects: Vec<String>,
    /// An active publisher of PROJECT (created if missing), repeatable.
    #[arg(long = "publisher", value_name = "PROJECT:PUBLISHER")]
    publishers: Vec<String>,
    /// A pending publisher whose first mint creates PROJECT, repeatable.
    #[arg(long = "pending", value_name = "PROJECT:PUBLISHER")]
    pending: Vec<String>,
    /// A CI job (repeatable): NAME:profile=PROFILE,CLAIM=VALUE,...
    #[arg(long = "job", value_name = "JOB")]
    jobs: Vec<String>,
    /// The registry's address; the mock issuers take random loopback ports.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Print one JSON object (URLs, CA file, each job's environment) and then one JSON line
    /// per mint or upload, for scripts.
    #[arg(long)]
    json: bool,
    /// Also write each job's environment to DIR/<job>.env as `export` lines, for `source`.
    #[arg(long, value_name = "DIR")]
    env_dir: Option<PathBuf>,
    /// Also run an issuer proxy: a registry of your own that knows only the real issuer
    /// strings reaches the sandbox's issuers through it (give it the HTTPS_PROXY and
    /// SSL_CERT_FILE printed).
    #[arg(long)]
    issuer_proxy: bool,
    /// Where the issuer proxy listens.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        requires = "issuer_proxy"
    )]
    issuer_proxy_addr: String,
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    if !args.addr.ip().is_loopback() {
        return Err(UsageError(format!(
            "{}: the sandbox listens on loopback addresses only",
            args.addr
        ))
        .into());
    }
    let config = config(&args)?;
    let demo = config.is_empty();
    let config = if demo { config.demo() } else { config };
    let mut config = config.bind(args.addr);
    if args.issuer_proxy {
        config.issuer_proxy = Some(args.issuer_proxy_addr.clone());
    }
    let sandbox = config.start().await.map_err(|err| match err {
        SandboxError::Proxy(_) => {
            in_use_is_usage(err.into(), "--issuer-proxy-addr", &args.issuer_proxy_addr)
        }
        other => in_use_is_usage(
            anyhow::Error::new(other).context("starting the sandbox"),
            "--addr",
            &args.addr,
        ),
    })?;
    let mut events = sandbox.events();
    if let Some(dir) = &args.env_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for job in sandbox.jobs() {
            let path = dir.join(format!("{}.env", job.name));
            std::fs::write(&path, job_shell(job))
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    if sandbox.trust_bundle().system_roots().is_none() {
        eprintln!(
            "mintcheck sandbox: found no system trust roots (set SSL_CERT_FILE to your roots to \
             add them): the jobs' SSL_CERT_FILE trusts the sandbox's CA only"
        );
    }
    let mut stop = super::signals::interrupted();
    if args.json {
        outln!("{}", ready_json(&sandbox))?;
    } else {
        out!("{}", ready_text(&sandbox, demo))?;
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) if args.json => outln!("{}", serde_json::to_string(&event)?)?,
                Ok(event) => out!("{}", event_text(&event))?,
                Err(RecvError::Lagged(missed)) => eprintln!(
                    "mintcheck sandbox: {missed} events were not logged (the log fell behind)"
                ),
                Err(RecvError::Closed) => break,
            },
            _ = &mut stop => break,
        }
    }
    Ok(())
}

fn config(args: &SandboxArgs) -> anyhow::Result<SandboxConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text = super::read_input(path)?;
            SandboxConfig::from_toml(&text, &path.display().to_string())
                .map_err(|e| UsageError(e.to_string()))?
        }
        None => SandboxConfig::default(),
    }
    .source("command line");
    for project in &args.projects {
        config = config.project(project);
    }
    let split = |flag: &str,
                 text: &str|
     -> Result<(String, reference_registry::fixture::Identity), UsageError> {
        let (project, spec) = text.split_once(':').ok_or_else(|| {
            UsageError(format!("--{flag} {text:?}: expected PROJECT:KEY=VALUE,..."))
        })?;
        let identity = publisher::parse(spec).map_err(|e| UsageError(format!("--{flag}: {e}")))?;
        Ok((project.to_owned(), identity))
    };
    for text in &args.publishers {
        let (project, identity) = split("publisher", text)?;
        config = config.publisher(&project, identity);
    }
    for text in &args.pending {
        let (project, identity) = split("pending", text)?;
        config = config.pending_publisher(&project, "you", identity);
    }
    for text in &args.jobs {
        let (name, token) = job(text).map_err(|e| UsageError(format!("--job {text:?}: {e}")))?;
        config = config.job(&name, token);
    }
    config.check().map_err(|e| UsageError(e.to_string()))?;
    Ok(config)
}

fn job(text: &str) -> Result<(String, TokenSpec), String> {
    let (name, rest) = text.split_once(':').unwrap_or((text, ""));
    let mut token = TokenSpec::default();
    for (key, value) in publisher::pairs(rest)? {
        if key == "profile" {
            token.profile = Some(value.parse::<Profile>().map_err(|e| e.to_string())?);
        } else {
            token.claims.insert(key, Value::String(value));
        }
    }
    Ok((name.to_owned(), token))
}

fn ready_json(sandbox: &Sandbox) -> Value {
    let jobs: Vec<Value> = sandbox
        .jobs()
        .iter()
        .map(|job| {
            json!({"name": job.name, "profile": job.profile.name(), "env": job.env.to_json(),
                   "claims": job.claims, "refresh_token": job.refresh_token})
        })
        .collect();
    let issuers: serde_json::Map<String, Value> = mock_issuer::Provider::ALL
        .into_iter()
        .map(|provider| {
            let issuer = sandbox.issuer(provider);
            (
                provider.name().to_owned(),
                json!({"iss": issuer.issuer(), "base_url": issuer.base_url()}),
            )
        })
        .collect();
    json!({
        "mintcheck": "sandbox",
        "registry_url": sandbox.registry_url(),
        "upload_url": sandbox.upload_url(),
        "ca_file": sandbox.ca_path().display().to_string(),
        "trust_bundle": sandbox.trust_bundle().path().display().to_string(),
        "issuer_proxy": sandbox.issuer_proxy().map(|proxy| proxy.url()),
        "issuers": issuers,
        "jobs": jobs,
    })
}

fn ready_text(sandbox: &Sandbox, demo: bool) -> String {
    let mut out = format!(
        "mintcheck sandbox: registry {} (upload URL {}), CA {}, trust bundle {} (the system's \
         roots and the CA)\n",
        sandbox.registry_url(),
        sandbox.upload_url(),
        sandbox.ca_path().display(),
        sandbox.trust_bundle().path().display()
    );
    if demo {
        out.push_str(
            "No publishers given: seeded project widgetry with the spec §18 GitHub and GitLab publishers.\n",
        );
    }
    if let Some(proxy) = sandbox.issuer_proxy() {
        let env: Vec<String> = proxy
            .environment()
            .iter()
            .map(|(name, value)| format!("export {name}='{value}'"))
            .collect();
        out.push_str(&format!(
            "\n# a registry of your own reaches the sandbox's issuers as the real hosts with\n{}\nexport SSL_CERT_FILE='{}'\n",
            env.join("\n"),
            sandbox.ca_path().display()
        ));
    }
    for job in sandbox.jobs() {
        out.push_str(&format!(
            "\n# job {} ({}): run a client with this environment\n{}",
            job.name,
            identity(&job.claims),
            job_shell(job)
        ));
    }
    out.push_str("\nEvery mint and upload is logged below (Ctrl-C stops).\n");
    out
}

/// A job's `export` lines, and for a job handed a single token, how to get another.
fn job_shell(job: &Job) -> String {
    let mut text = job.env.to_shell();
    if let Some(refresh) = &job.refresh_token {
        text.push_str(&format!(
            "# each token mints once; for a fresh one (a second upload):\n# {refresh}\n"
        ));
    }
    text
}

/// Who a job's tokens say it is, in a few words.
fn identity(claims: &serde_json::Map<String, Value>) -> String {
    let claim = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or("-");
    // The workflow file: the last path segment of the workflow reference, before `@`.
    let file = |reference: &str| {
        let path = reference.split('@').next().unwrap_or(reference);
        path.rsplit('/').next().unwrap_or(path).to_owned()
    };
    let environment = match claim("environment") {
        "-" | "" => "no environment".to_owned(),
        environment => format!("environment {environment}"),
    };
    if claims.contains_key("job_workflow_ref") {
        format!(
            "GitHub Actions: {}, workflow {}, {environment}",
            claim("repository"),
            file(claim("job_workflow_ref"))
        )
    } else {
        format!(
            "GitLab CI: {}, {}, {environment}",
            claim("project_path"),
            file(claim("ci_config_ref_uri"))
        )
    }
}

/// The claims worth a look when a mint is refused, in this order, those present.
const SHOWN_CLAIMS: [&str; 20] = [
    "iss",
    "aud",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "workflow_ref",
    "job_workflow_ref",
    "ref",
    "sha",
    "event_name",
    "environment",
    "project_path",
    "ci_config_ref_uri",
    "ref_path",
    "email",
    "organization",
    "project",
    "actor_id",
    "builder",
    "jti",
];

fn event_text(event: &Event) -> String {
    match event {
        Event::Mint(MintEvent {
            claims,
            status,
            code,
            description,
            undisclosed,
            ..
        }) => {
            let verdict = match (code, description) {
                (Some(code), Some(description)) => format!("{code}: {description}"),
                _ => "minted an upload token".to_owned(),
            };
            let mut out = format!("mint   {status} {verdict}\n");
            if let Some(why) = undisclosed {
                out.push_str(&format!("       why (not told to the client): {why}\n"));
            }
            match claims {
                Some(claims) => {
                    let shown: Vec<String> = SHOWN_CLAIMS
                        .iter()
                        .filter_map(|name| Some(format!("{name}={}", claims.get(*name)?)))
                        .collect();
                    out.push_str(&format!("       claims: {}\n", shown.join(" ")));
                }
                None => out.push_str("       claims: (the token did not parse)\n"),
            }
            out
        }
        Event::Upload(UploadEvent {
            name,
            version,
            filename,
            status,
            message,
        }) => {
            let file = filename.as_deref().unwrap_or("(no file)");
            let message = message.as_deref().unwrap_or("OK");
            format!("upload {status} {name} {version} {file}: {message}\n")
        }
    }
}
