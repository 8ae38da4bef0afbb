//! `mintcheck`: conformance harness, mock OIDC issuer and reference registry for
//! trusted publishing.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// A suite run allocates and frees small objects at a high rate from two threads (tokens,
/// JSON values, requests); with glibc's allocator the run took a tenth more CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.run().await {
        Ok(code) => code,
        Err(err) if cli::output::stdout_closed(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(cli::exit_code_for(&err))
        }
    }
}
