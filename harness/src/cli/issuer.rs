//! `mintcheck issuer`: the mock issuer as a long-running server.

use std::net::SocketAddr;

use anyhow::Context as _;
use mock_issuer::fault::FAULT_CATALOGUE;
use mock_issuer::{IssuerMode, JwksFault, MockIssuer, Profile};
use serde_json::json;

use super::output::outln;
use super::{UsageError, in_use_is_usage};

#[derive(Debug, clap::Args)]
#[command(after_help = fault_help())]
pub struct IssuerArgs {
    /// Address to listen on. Non-loopback addresses also need --allow-remote.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Allow listening on a non-loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Serve https with a CA generated at start; its PEM file is printed as ca_file.
    #[arg(long)]
    tls: bool,
    /// The iss of tokens and discovery: own (the server's URL), github, gitlab, google,
    /// activestate (canonical strings, keys served here) or any http(s) URL.
    #[arg(long, default_value = "own")]
    issuer_mode: IssuerMode,
    /// Start with a JWKS fault on (see below); change it later with POST /admin/fault.
    #[arg(long)]
    fault: Option<JwksFault>,
}

fn fault_help() -> String {
    let mut help = String::from("JWKS faults:\n");
    for (name, what) in FAULT_CATALOGUE {
        help.push_str(&format!("  {name:<28} {what}\n"));
    }
    help.push_str(
        "\nThe ready line is one JSON object on stdout; github_env and gitlab_env hold the\n\
         variables a CI client reads (gitlab_env's PYPI_ID_TOKEN is valid for an hour). HTTP API: POST /token (a token spec as JSON),\n\
         GET <github_request_url>&audience=A with `Authorization: bearer <request_token>`,\n\
         GET /gitlab/id_token?audience=A with a job's request token (the bare token, as text),\n\
         POST /admin/keys {\"publish\"|\"retire\"|\"sign_with\": KID} or \"rotate\", POST /admin/fault,\n\
         POST /admin/jobs (a token spec: returns a new request token), GET /admin/log.\n\n\
         Exit codes: 0 stopped by Ctrl-C or SIGTERM; 1 could not start; 2 usage error (a bad\n\
         flag, a non-loopback --addr without --allow-remote, an --addr another program holds).",
    );
    help
}

pub async fn run(args: IssuerArgs) -> anyhow::Result<()> {
    mock_issuer::prepare_random_generator();
    let mut builder = MockIssuer::builder()
        .bind(args.addr)
        .allow_remote(args.allow_remote)
        .tls(args.tls)
        .issuer_mode(args.issuer_mode);
    if let Some(fault) = args.fault {
        builder = builder.jwks_fault(fault);
    }
    let issuer = builder.start().await.map_err(|err| match err {
        mock_issuer::IssuerError::NotLoopback(_) => anyhow::Error::new(UsageError(err.to_string())),
        other => in_use_is_usage(
            anyhow::Error::new(other).context("starting the mock issuer"),
            "--addr",
            &args.addr,
        ),
    })?;
    let gitlab_token = issuer
        .token(Profile::Gitlab)
        .sign()
        .context("forging the GitLab job's token")?;
    let ready = json!({
        "mintcheck": "issuer",
        "issuer": issuer.issuer(),
        "base_url": issuer.base_url(),
        "discovery_url": issuer.discovery_url(),
        "jwks_url": issuer.jwks_url(),
        "token_url": issuer.token_url(),
        "github_request_url": issuer.github_request_url(),
        "request_token": issuer.request_token(),
        "ca_file": issuer.ca_path().map(|p| p.display().to_string()),
        "github_env": issuer.github_env(issuer.request_token()).to_json(),
        "gitlab_env": issuer.gitlab_env("pypi", gitlab_token.as_str()).to_json(),
    });
    // SIGTERM too: the CA file of --tls is deleted on the way out.
    let stop = super::signals::interrupted();
    outln!("{ready}")?;
    stop.await;
    Ok(())
}
