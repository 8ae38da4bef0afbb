//! Right decisions in a wrong envelope, told apart: a registry that refuses everything it
//! must with a bare error body fails the envelope aspect only; an expectations entry for the
//! envelope excuses that and never a mint; failures of one cause are reported as one group.

use std::path::Path;
use std::sync::Arc;

use mintcheck::scenario::load_dir;
use mintcheck::spec::grading::Aspect;
use mintcheck::suite::expectations::Expectations;
use mintcheck::suite::outcome::{Outcome, Verdict};
use mintcheck::suite::report::{self, Tally};
use mintcheck_tests::independent::{Behaviour, ErrorBody};

mod common;

use common::{core_run, core_run_with, describe, scenarios_dir};

/// The registry of issue 12's report: it refuses everything it must, but answers
/// `422 {"message": "identity token rejected"}` without `errors`.
fn bare_envelope() -> Behaviour {
    Behaviour {
        error_body: ErrorBody::Bare,
        ..Behaviour::default()
    }
}

const ENVELOPE_ONLY: &str = r#"[[expect]]
scenario = "*"
outcome = "xfail"
aspects = ["envelope"]
reason = "our error body is {\"message\": ...} without errors[], issue #12"
"#;

fn envelope_only() -> Arc<Expectations> {
    let ids: Vec<String> = load_dir(&scenarios_dir())
        .expect("the suite loads")
        .into_iter()
        .map(|s| s.id)
        .collect();
    Arc::new(Expectations::parse(Path::new("known.toml"), ENVELOPE_ONLY, &ids).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_decisions_in_the_wrong_envelope_are_told_apart() {
    let outcomes = core_run(bare_envelope()).await;
    let tallies = report::aspect_tallies(&outcomes);
    let decision = tallies[&Aspect::Decision];
    assert!(decision.judged > 100, "{decision:?}");
    assert_eq!(decision.right, decision.judged, "every decision right");
    let envelope = tallies[&Aspect::Envelope];
    assert!(
        envelope.right < envelope.judged / 2,
        "the envelope wrong: {envelope:?}"
    );
    let summary = report::aspects_summary(&outcomes);
    assert!(
        summary.starts_with(&format!(
            "decisions: {0}/{0} right: the target refused what it must refuse",
            decision.judged
        )),
        "{summary}"
    );
    let failed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Fail)
        .collect();
    assert!(failed.len() > 50, "{}", failed.len());
    for outcome in failed {
        assert_eq!(
            outcome.wrong_aspects().into_iter().collect::<Vec<_>>(),
            [Aspect::Envelope],
            "{}",
            describe(outcome)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_envelope_only_entry_excuses_the_envelope_and_never_a_mint() {
    let expectations = envelope_only();
    let outcomes = core_run_with(bare_envelope(), Some(expectations.clone())).await;
    let tally = Tally::of(&outcomes);
    assert!(tally.xfail > 50, "{}", tally.summary());
    assert!(expectations.stale(&outcomes).is_empty());
    assert_eq!(
        tally.exit_code(),
        0,
        "{}\n{}",
        tally.summary(),
        outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Fail)
            .map(describe)
            .collect::<Vec<_>>()
            .join("\n")
    );

    // The same registry with 600 s of leeway mints tokens it must refuse: the entry does
    // not excuse that, and the run fails on exactly those scenarios.
    let minting = Behaviour {
        leeway_seconds: 600.0,
        ..bare_envelope()
    };
    let outcomes = core_run_with(minting, Some(expectations)).await;
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Fail)
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "time/exp-beyond-core-leeway",
            "time/iat-beyond-core-leeway",
            "time/nbf-beyond-core-leeway"
        ]
    );
    for outcome in outcomes.iter().filter(|o| o.verdict == Verdict::Fail) {
        let note = outcome
            .mismatches()
            .find(|m| m.at == "expectations")
            .expect("the entry says what it does not excuse");
        assert!(
            note.actual.contains("a failure in decision too"),
            "{note:?}"
        );
    }
    assert_eq!(Tally::of(&outcomes).exit_code(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_of_one_cause_are_reported_as_one_group() {
    let outcomes = core_run(bare_envelope()).await;
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Fail)
        .map(|o| o.id.as_str())
        .collect();
    let rerun = |id: &str| format!("mintcheck run {id}");
    let text = report::failure_details(
        &outcomes,
        &report::Reproducers {
            rerun: &rerun,
            issuers_kept: false,
        },
    );
    let cause =
        "POST /_/oidc/mint-token answered HTTP 422 {\"message\":string}; wrong: envelope body";
    let header = text
        .lines()
        .find(|line| line.starts_with("FAIL ×") && line.ends_with(cause))
        .unwrap_or_else(|| panic!("no group for {cause:?} in:\n{text}"));
    let count: usize = header["FAIL ×".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 50, "{header}");
    if std::env::var_os("MINTCHECK_SHOW").is_some() {
        eprintln!("{text}");
    }
    // Every failure is in some group, and each is shown in full once per group only.
    let blocks = text.matches("\nFAIL ").count();
    assert!(
        blocks < 10,
        "{blocks} detail blocks for {} failures:\n{text}",
        failed.len()
    );
    let listed = text
        .lines()
        .filter(|line| line.starts_with("  scenarios: "))
        .flat_map(|line| line["  scenarios: ".len()..].split(", "))
        .count();
    let alone = text
        .lines()
        .filter(|l| l.starts_with("FAIL ") && !l.starts_with("FAIL ×"))
        .count()
        - text.lines().filter(|l| l.starts_with("FAIL ×")).count();
    assert_eq!(listed + alone, failed.len(), "{text}");
    assert!(
        text.contains("(needs the run's mock issuers: run with --keep-issuers to keep them up)")
    );
    assert!(
        text.contains("<the token, "),
        "the body names the token instead of repeating it"
    );
}
