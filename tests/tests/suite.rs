//! The whole conformance suite, in process, against the embedded reference registry: every
//! scenario must pass at `pypi-exact` and at `pep807` where that level judges it (with `info`
//! judged), each in one of them at least, and the negatives' positive twins must mint.

use std::path::PathBuf;

use mintcheck::rig::targets::Target;
use mintcheck::scenario::{Level, load_dir};
use mintcheck::suite::outcome::{Outcome, Verdict};
use mintcheck::suite::runner::{self, RunOptions};

fn scenarios_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}

fn options(level: Level) -> RunOptions {
    RunOptions {
        level,
        judge_info: true,
        jobs: 4,
        ..RunOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_against_the_reference_registry() {
    let scenarios = load_dir(&scenarios_dir()).expect("the suite loads");
    let count = scenarios.len();
    assert!(count >= 30, "the suite has {count} scenarios");
    let mut passed = std::collections::BTreeSet::new();
    for level in [Level::PypiExact, Level::Pep807] {
        let outcomes = runner::run(
            scenarios.clone(),
            &Target::Reference,
            &options(level),
            |_| {},
        )
        .await;
        let failed: Vec<String> = outcomes
            .iter()
            .filter(|o| match &o.verdict {
                Verdict::Pass => false,
                Verdict::Skip { .. } => level.judges(o.level),
                _ => true,
            })
            .map(|o| format!("{}: {:?} {}", o.id, o.verdict, serde_json_steps(o)))
            .collect();
        assert!(
            failed.is_empty(),
            "{} of {count} scenarios did not pass at {level}:\n{}",
            failed.len(),
            failed.join("\n")
        );
        passed.extend(
            outcomes
                .into_iter()
                .filter(|o| o.verdict == Verdict::Pass)
                .map(|o| o.id),
        );
    }
    assert_eq!(
        passed.len(),
        count,
        "every scenario passes at one level at least"
    );
}

fn serde_json_steps(outcome: &Outcome) -> String {
    outcome
        .steps
        .iter()
        .flat_map(|s| {
            s.mismatches.iter().map(|m| {
                format!(
                    "[{} at {}: expected {} got {}]",
                    s.name, m.at, m.expected, m.actual
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_negative_whose_twin_cannot_mint_is_inconclusive_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(scenarios_dir().join("signature/expired.toml")).unwrap();
    // Without the publisher the refusal would happen for another reason.
    let start = original.find("[fixture]").unwrap();
    let end = original.find("[[step]]").unwrap();
    let broken = format!("{}{}", &original[..start], &original[end..]);
    std::fs::write(dir.path().join("no-publisher.toml"), broken).unwrap();
    let scenarios = load_dir(dir.path()).unwrap();
    let outcomes = runner::run(
        scenarios,
        &Target::Reference,
        &options(Level::PypiExact),
        |_| {},
    )
    .await;
    match &outcomes[0].verdict {
        Verdict::Inconclusive { reason } => assert!(reason.contains("positive twin"), "{reason}"),
        other => panic!("expected inconclusive, got {other:?}"),
    }
}
