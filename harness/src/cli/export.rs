//! `mintcheck export`: the suite as JSON where the user says (`--out`), or, for those who
//! edit a scenarios folder, its generated files refreshed (`--check` only compares: CI).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use mintcheck::scenario::embedded;
use mintcheck::scenario::export::{self, ExportError, Freshness};

use super::UsageError;
use super::output::{outln, unread_is_fine};
use super::suite::SuiteArgs;

/// The files `--out` writes.
const OUT_FILES: [&str; 2] = ["scenarios.json", "scenario.schema.json"];

#[derive(Debug, clap::Args)]
#[command(
    after_help = "With --out DIR: writes DIR/scenarios.json (every scenario of the suite: \
built in, or --scenarios and --add-scenarios) and DIR/scenario.schema.json. With --scenarios DIR \
alone: refreshes that folder's dist/scenarios.json and the generated parts of its schema and \
README (this repository: mintcheck export --scenarios scenarios).

Exit codes: 0 written (or fresh); 1 --check found a stale file; 2 usage or scenario file error."
)]
pub struct ExportArgs {
    #[command(flatten)]
    suite: SuiteArgs,
    /// Write scenarios.json and scenario.schema.json into DIR (created if missing).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// With --scenarios: write nothing; exit 1 if a generated file differs from what would
    /// be written.
    #[arg(long)]
    check: bool,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.out {
        if args.check {
            return Err(UsageError(
                "--check compares a scenarios folder's generated files (--scenarios DIR); --out \
                 writes a fresh export"
                    .into(),
            )
            .into());
        }
        return write_to(&args.suite, out);
    }
    let root = match (&args.suite.scenarios, args.suite.add_scenarios.is_empty()) {
        (Some(root), true) => root.clone(),
        _ => {
            return Err(UsageError(
                "say where: --out DIR writes the suite as DIR/scenarios.json and its schema; \
                 --scenarios DIR alone refreshes the generated files of that scenarios folder"
                    .into(),
            )
            .into());
        }
    };
    let outputs = export::outputs(&root).map_err(usage_if_scenario)?;
    if !args.check {
        for output in &outputs {
            write(&output.path, &output.text)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut stale = false;
    for output in &outputs {
        let problem = match export::freshness(&output.path, &output.text)? {
            Freshness::Fresh => {
                unread_is_fine(outln!("{} is fresh", output.path.display()))?;
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
            "{} {problem}; run `mintcheck export --scenarios {}` and commit the result",
            output.path.display(),
            root.display()
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

/// `--out DIR`: the export of the chosen suite and the schema its files follow.
fn write_to(suite: &SuiteArgs, out: &Path) -> anyhow::Result<ExitCode> {
    let (files, _) = suite.sources()?;
    let document = export::export_sources(&files).map_err(usage_if_scenario)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let texts = [export::render(&document), embedded::SCHEMA.to_owned()];
    for (name, text) in OUT_FILES.iter().zip(texts) {
        write(&out.join(name), &text)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    outln!("wrote {}", path.display())?;
    Ok(())
}
