//! Running the whole core suite against the independent registry.

// Each test file uses a part of these.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use mintcheck::rig::targets::Target;
use mintcheck::scenario::{Level, load_dir};
use mintcheck::suite::expectations::Expectations;
use mintcheck::suite::outcome::Outcome;
use mintcheck::suite::runner::{self, RunOptions};
use mintcheck_tests::independent::{self, Behaviour};

pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}

pub async fn core_run(behaviour: Behaviour) -> Vec<Outcome> {
    core_run_with(behaviour, None).await
}

/// The whole suite at core against the independent registry behaving as `behaviour` says.
pub async fn core_run_with(
    behaviour: Behaviour,
    expectations: Option<Arc<Expectations>>,
) -> Vec<Outcome> {
    let registry = independent::start(behaviour)
        .await
        .expect("a loopback port");
    let scenarios = load_dir(&scenarios_dir()).expect("the suite loads");
    let target = Target::remote(&registry.base_url, independent::CONTROL_TOKEN);
    let options = RunOptions {
        level: Level::Core,
        expectations,
        ..RunOptions::default()
    };
    runner::run(scenarios, &target, &options, |_| {}).await
}

pub fn describe(outcome: &Outcome) -> String {
    let mismatches: Vec<String> = outcome
        .mismatches()
        .map(|m| {
            format!(
                "[{} {}: expected {} got {}]",
                m.aspect, m.at, m.expected, m.actual
            )
        })
        .collect();
    format!(
        "{}: {:?} {}",
        outcome.id,
        outcome.verdict,
        mismatches.join(" ")
    )
}
