//! `mintcheck export`: writes `scenarios/dist/scenarios.json` and the generated parts of the
//! schema and the format README; `--check` only compares (CI).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use mintcheck::scenario::export::{self, ExportError, Freshness};

use super::UsageError;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The scenarios folder (default: ./scenarios, else the one this binary was built with).
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// Write nothing; exit 1 if the file on disk differs from what would be written.
    #[arg(long)]
    check: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let root = args
        .scenarios
        .unwrap_or_else(super::default_scenarios_folder);
    let outputs = export::outputs(&root).map_err(usage_if_scenario)?;
    if !args.check {
        for output in &outputs {
            let folder = output.path.parent().expect("every output is in a folder");
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating {}", folder.display()))?;
            std::fs::write(&output.path, &output.text)
                .with_context(|| format!("writing {}", output.path.display()))?;
            println!("wrote {}", output.path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut stale = false;
    for output in &outputs {
        let problem = match export::freshness(&output.path, &output.text)? {
            Freshness::Fresh => {
                println!("{} is fresh", output.path.display());
                continue;
            }
            Freshness::Missing => "is missing".to_owned(),
            Freshness::Stale { line } => {
                format!(
                    "is stale: it differs from what the code and the scenario files make from line {line} on"
                )
            }
        };
        eprintln!(
            "{} {problem}; run `mintcheck export` (cargo run -- export) and commit the result",
            output.path.display()
        );
        stale = true;
    }
    Ok(ExitCode::from(u8::from(stale)))
}

/// A bad scenario file is a usage error (exit 2); a file-system failure is not.
fn usage_if_scenario(err: ExportError) -> anyhow::Error {
    if err.is_scenario_error() {
        UsageError(err.to_string()).into()
    } else {
        err.into()
    }
}
