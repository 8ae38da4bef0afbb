//! The command line. Each subcommand lives in its own module; only this layer prints.

mod client;
mod coverage;
mod explain;
mod export;
mod fuzz;
mod issuer;
pub(crate) mod output;
mod registry;
mod run;
mod sandbox;
mod signals;
mod suite;
mod target_args;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for bad input (usage, scenario or token description errors).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "mintcheck",
    version,
    long_version = suite::LONG_VERSION.as_str(),
    about = "Conformance harness, mock OIDC issuer and reference registry for trusted publishing (PyPI's POST /_/oidc/mint-token)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the conformance suite (no target given: the embedded reference registry).
    Run(run::RunArgs),
    /// List scenarios with their level, rules and requirement.
    List(run::ListArgs),
    /// Generate cases against a target without end, check invariants (and the reference
    /// registry's answers), shrink each fault to a scenario file.
    Fuzz(fuzz::FuzzArgs),
    /// Print which spec rules the scenarios cite; exit 1 while any rule is uncovered.
    Coverage(coverage::CoverageArgs),
    /// Write the suite as JSON for runners in other languages (--out DIR), or refresh the
    /// generated files of a scenarios folder (--scenarios DIR; --check: exit 1 if stale).
    Export(export::ExportArgs),
    /// Run the mock OIDC issuer as a server (discovery, JWKS, token API, GitHub Actions' token-request contract).
    Issuer(issuer::IssuerArgs),
    /// Forge one token (any profile, claims and defects) and print it.
    Token(token::TokenArgs),
    /// Run the reference registry as a server.
    Registry(registry::RegistryArgs),
    /// Rehearse a release: mock issuers and the reference registry over https, seeded with
    /// publishers, printing the environment real clients (uv, twine, id) need.
    Sandbox(sandbox::SandboxArgs),
    /// Explain why a registry following PyPI's rules mints for a token or refuses it.
    Explain(explain::ExplainArgs),
    /// Judge an uploading client's PEP 807 support: play an index, run the client command
    /// once per client scenario, judge what it sent.
    Client(client::ClientArgs),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Run(args) => return run::run(args).await,
            Command::List(args) => return run::list(args),
            Command::Fuzz(args) => return fuzz::run(args).await,
            Command::Coverage(args) => return coverage::run(args),
            Command::Export(args) => return export::run(args),
            Command::Issuer(args) => issuer::run(args).await?,
            Command::Token(args) => token::run(args)?,
            Command::Registry(args) => registry::run(args).await?,
            Command::Sandbox(args) => sandbox::run(args).await?,
            Command::Explain(args) => return explain::run(args).await,
            Command::Client(args) => return client::run(args).await,
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// An error caused by what the user asked for rather than by the environment.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The text of a file the user named: one that is missing or unreadable is a usage error
/// (exit 2), never the exit 1 that means a refusal or a failed scenario.
pub(crate) fn read_input(path: &std::path::Path) -> Result<String, UsageError> {
    std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("reading {}: {e}", path.display())))
}

/// A listening address (a flag's value or its default) that another program holds is the
/// user's to change: one line naming the flag, exit 2, instead of the error and its cause.
pub(crate) fn in_use_is_usage(
    err: anyhow::Error,
    flag: &str,
    addr: &dyn std::fmt::Display,
) -> anyhow::Error {
    let in_use = err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse)
    });
    if in_use {
        UsageError(format!(
            "{addr} is in use by another program: give another address with {flag} (port 0 \
             takes any free one)"
        ))
        .into()
    } else {
        err
    }
}

pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else {
        1
    }
}
