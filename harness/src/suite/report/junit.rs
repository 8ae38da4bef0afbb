//! The `--format junit` report.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::detail::{Reproducers, advisory_summary, detail_block};
use super::tally::{Tally, aspect_tallies};
use crate::rig::transport::shorten;
use crate::spec::grading::Aspect;
use crate::suite::outcome::{AspectResult, Outcome, StepRecord, Verdict};

/// The `--format junit` report: one `<testsuite name="mintcheck">` with a `<testcase>` per
/// scenario (`name` = its ID, `classname` = its top-level folder). Failures and
/// inconclusive scenarios are `<failure>` with the detail block (expected / actual,
/// `curl`); harness or target faults and xpass are `<error>`; skip and unsupported are
/// `<skipped>` with the reason; xfail passes with a `<system-out>` note; an advisory
/// passes with the property `advisory` and the detail block in `<system-out>`. Every
/// judged aspect is a property `aspect.NAME` = `right`, `advisory` or `wrong`; the suite's
/// properties carry the run's `advisories` and `decisions` (right/judged).
pub fn junit_report(
    target: &str,
    level: &str,
    outcomes: &[Outcome],
    reproducers: &Reproducers<'_>,
) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new("mintcheck");
    let decisions = aspect_tallies(outcomes)[&Aspect::Decision];
    suite.add_properties([
        Property::new("target", target),
        Property::new("level", level),
        Property::new("advisories", Tally::of(outcomes).advisory.to_string()),
        Property::new(
            "decisions",
            format!(
                "{}/{}",
                decisions.right + decisions.advisory,
                decisions.judged
            ),
        ),
    ]);
    let mut total = Duration::ZERO;
    for outcome in outcomes {
        let case = test_case(outcome, reproducers);
        total += Duration::from_millis(outcome.millis);
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut report = Report::new("mintcheck");
    report.set_time(total).add_test_suite(suite);
    report.to_string()
}

/// One scenario's `<testcase>`.
fn test_case(outcome: &Outcome, reproducers: &Reproducers<'_>) -> TestCase {
    let mut case = TestCase::new(outcome.id.as_str(), status(outcome, reproducers));
    let classname = outcome.id.split('/').next().unwrap_or(&outcome.id);
    case.set_classname(classname)
        .set_time(Duration::from_millis(outcome.millis));
    if let Verdict::Xfail { reason } = &outcome.verdict {
        case.set_system_out(format!(
            "xfail: failed as the expectations file lists it ({reason})\n{}",
            first_mismatch(outcome)
        ));
    }
    if outcome.verdict == Verdict::Advisory {
        case.add_property(Property::new("advisory", advisory_summary(outcome)));
        case.set_system_out(format!(
            "advisory: every MUST met, a SHOULD missed\n{}",
            detail_block(outcome, reproducers)
        ));
    }
    for (aspect, result) in outcome.aspects() {
        let result = match result {
            AspectResult::Right => "right",
            AspectResult::Advisory => "advisory",
            AspectResult::Wrong => "wrong",
        };
        case.add_property(Property::new(format!("aspect.{aspect}"), result));
    }
    case
}

fn status(outcome: &Outcome, reproducers: &Reproducers<'_>) -> TestCaseStatus {
    let non_success = |kind, ty: &str, message: &str, description: Option<String>| {
        let mut status = TestCaseStatus::non_success(kind);
        status.set_type(ty).set_message(message);
        if let Some(description) = description {
            status.set_description(description);
        }
        status
    };
    let skipped = |ty: &str, reason: &str| {
        let mut status = TestCaseStatus::skipped();
        status.set_type(ty).set_message(reason);
        status
    };
    match &outcome.verdict {
        Verdict::Pass | Verdict::Xfail { .. } | Verdict::Advisory => TestCaseStatus::success(),
        Verdict::Fail => non_success(
            NonSuccessKind::Failure,
            "fail",
            &first_mismatch(outcome),
            Some(detail_block(outcome, reproducers)),
        ),
        Verdict::Inconclusive { reason } => non_success(
            NonSuccessKind::Failure,
            "inconclusive",
            reason,
            Some(detail_block(outcome, reproducers)),
        ),
        Verdict::Error { message } => non_success(NonSuccessKind::Error, "error", message, None),
        Verdict::Xpass { reason } => non_success(NonSuccessKind::Error, "xpass", reason, None),
        Verdict::Skip { reason } => skipped("skip", reason),
        Verdict::Unsupported { reason } => skipped("unsupported", reason),
        Verdict::NotRun { reason } => skipped("not-run", reason),
    }
}

/// `step NAME at POINTER: expected X, got Y` for the first mismatch, the failure message.
fn first_mismatch(outcome: &Outcome) -> String {
    outcome
        .steps
        .iter()
        .find_map(|step: &StepRecord| {
            step.mismatches.first().map(|m| {
                format!(
                    "step {} at {}: expected {}, got {}",
                    step.name,
                    m.at,
                    shorten(&m.expected),
                    shorten(&m.actual)
                )
            })
        })
        .unwrap_or_else(|| "failed".to_owned())
}
