//! `mintcheck export`: writes `scenarios/dist/scenarios.json`; `--check` only compares (CI).

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
    let document = export::export(&root).map_err(usage_if_scenario)?;
    let text = export::render(&document);
    let path = export::dist_path(&root);
    let count = document.scenarios.len();
    if !args.check {
        let folder = path.parent().expect("the export file is inside dist/");
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} ({count} scenarios)", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let problem = match export::freshness(&root, &text).map_err(usage_if_scenario)? {
        Freshness::Fresh => {
            println!("{} is fresh ({count} scenarios)", path.display());
            return Ok(ExitCode::SUCCESS);
        }
        Freshness::Missing => "is missing".to_owned(),
        Freshness::Stale { line } => {
            format!("is stale: it differs from the scenario files from line {line} on")
        }
    };
    eprintln!(
        "{} {problem}; run `mintcheck export` (cargo run -- export) and commit the result",
        path.display()
    );
    Ok(ExitCode::from(1))
}

/// A bad scenario file is a usage error (exit 2); a file-system failure is not.
fn usage_if_scenario(err: ExportError) -> anyhow::Error {
    if err.is_scenario_error() {
        UsageError(err.to_string()).into()
    } else {
        err.into()
    }
}
