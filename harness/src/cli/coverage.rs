//! `mintcheck coverage`: the rule → scenarios table; fails while a rule is uncovered.

use std::process::ExitCode;

use super::output::{out, unread_is_fine};
use mintcheck::scenario::coverage::Coverage;

#[derive(Debug, clap::Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    selection: super::run::Selection,
}

pub fn run(args: CoverageArgs) -> anyhow::Result<ExitCode> {
    let coverage = Coverage::of(&args.selection.load()?);
    unread_is_fine(out!("{}", coverage.table()))?;
    Ok(if coverage.uncovered().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
