//! A shrunk failure as a scenario file, ready to commit to a suite and rerun with
//! `mintcheck run`.
//!
//! The scenario holds the smallest case's steps up to the one that failed (or up to where
//! the reference registry stopped). Each expects the reference registry's answer (status,
//! and the code of a 422), judged exactly at `pypi-exact`. A scenario with a step that broke
//! an invariant is a `core` one: there each mint step is graded by what the invariants
//! demand of it (`reject` where the target minted what must not mint, `either` elsewhere),
//! so a core target is held only to the invariants. A bare difference from the reference
//! is a `pypi-exact` scenario.

use std::path::{Path, PathBuf};

use reference_registry::normalize;

use super::campaign::Failure;
use super::case::{Case, MINT_STEP, MintBody};
use super::exchange::{Exchange, StepKind};
use super::invariant::Invariant;
use crate::scenario::expect::{Answer, Checked, Codes, ExpectTable, Grade};
use crate::scenario::file::{Action, ScenarioFile, StepTable, UploadSpec};
use crate::spec::grading::Level;

/// The file name (and so the scenario ID) of a failure: invariant, rule, seed and case.
pub fn file_name(failure: &Failure, seed: u64) -> String {
    format!(
        "{}-{}-seed{seed}-case{}.toml",
        failure.violation.invariant,
        failure.violation.rule.to_ascii_lowercase(),
        failure.case_index
    )
}

/// Writes the failure's scenario into `folder` (created if needed); returns its path.
pub fn write(folder: &Path, failure: &Failure, seed: u64) -> Result<PathBuf, SaveError> {
    let text = toml_text(failure, seed)?;
    std::fs::create_dir_all(folder).map_err(|e| SaveError::Io(folder.to_owned(), e))?;
    let path = folder.join(file_name(failure, seed));
    std::fs::write(&path, text).map_err(|e| SaveError::Io(path.clone(), e))?;
    Ok(path)
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("writing {}: {}", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
    #[error("the scenario cannot be written as TOML: {0}")]
    Toml(#[from] toml::ser::Error),
}

pub fn toml_text(failure: &Failure, seed: u64) -> Result<String, SaveError> {
    let scenario = scenario(failure);
    let mut header = format!(
        "# Found by `mintcheck fuzz --seed {seed} --case {}` and shrunk ({} smaller cases tried).\n# {} at step {}: {}\n",
        failure.case_index,
        failure.shrink_tries,
        failure.violation.invariant,
        failure.violation.step,
        // A TOML comment holds no control characters; the message quotes a target's body.
        failure
            .violation
            .message
            .replace(|c: char| c.is_control(), " "),
    );
    let kept = scenario.steps.last().and_then(|s| s.name.as_deref());
    if let Some(last) = kept.filter(|last| *last != failure.violation.step) {
        header.push_str(&format!(
            "# The reference registry answered differently at step {last} already, so the scenario ends there.\n"
        ));
    }
    Ok(header + "\n" + &toml::to_string(&scenario)?)
}

pub fn scenario(failure: &Failure) -> ScenarioFile {
    let violation = &failure.violation;
    let case = &failure.case;
    let evaluation = &failure.evaluation;
    let target = &evaluation.target;
    let reference = evaluation.reference.as_deref().unwrap_or_default();
    let failed = target
        .iter()
        .position(|e| e.step_name() == violation.step)
        .unwrap_or(target.len().saturating_sub(1));
    // Past the steps the reference registry took there is nothing to expect: a case the
    // target minted and the reference refused ends at that mint.
    let last = failed.min(reference.len().max(1) - 1);
    let kept = &target[..=last];
    // The invariants each kept step broke; a core scenario needs one to fail at core.
    let broken_at = |exchange: &Exchange| -> Vec<Invariant> {
        evaluation
            .violations
            .iter()
            .filter(|v| v.step == exchange.step_name() && v.invariant != Invariant::SameAsReference)
            .map(|v| v.invariant)
            .collect()
    };
    let level = if case.discover.is_some() || case.mint.features.is_some() {
        // Only a pep807 run judges discovery and features; a core registry without PEP 807
        // need not answer them as the reference does.
        Level::Pep807
    } else if kept.iter().any(|e| !broken_at(e).is_empty()) {
        Level::Core
    } else {
        Level::PypiExact
    };
    let steps = kept
        .iter()
        .map(|exchange| {
            let theirs = reference.iter().find(|r| r.kind == exchange.kind);
            step(case, exchange, theirs, &broken_at(exchange), level)
        })
        .collect();
    ScenarioFile {
        title: format!("fuzz: {} ({})", violation.message, violation.invariant),
        requirement: violation.invariant.requirement().to_owned(),
        rules: vec![violation.rule.clone()],
        level,
        tags: vec!["fuzz".into(), violation.invariant.name().into()],
        fixture: case.fixture.to_table(),
        steps,
    }
}

/// One step, expecting the reference's answer; `broken` are the invariants the target broke
/// there, which decide what a core run demands of it.
fn step(
    case: &Case,
    exchange: &Exchange,
    reference: Option<&Exchange>,
    broken: &[Invariant],
    level: Level,
) -> StepTable {
    let mut step = StepTable {
        name: Some(exchange.step_name()),
        action: Action::Mint,
        token: None,
        body: None,
        content_type: case.mint.content_type.clone(),
        method: None,
        path: None,
        upload: None,
        no_twin: None,
        twin: None,
        grade: None,
        count: None,
        issuer: None,
        advance_seconds: None,
        upload_path: None,
        accept: None,
        features: None,
        expect: ExpectTable::default(),
    };
    // The reference's answer, unless it breaks the same invariant (the reference is the
    // target that was fuzzed).
    let expected = reference.filter(|r| !broken.iter().any(|i| breaks(*i, r)));
    let pep807_client = case.mint.features.is_some();
    match exchange.kind {
        StepKind::Discover => {
            step.action = Action::Discover;
            step.content_type = None;
            step.upload_path = case.discover.clone();
            step.expect.status = expected.and_then(Exchange::status).map(Checked::from);
            return step;
        }
        StepKind::Upload(index) => {
            upload_step(&mut step, case, index, expected);
            return step;
        }
        StepKind::Mint => match &case.mint.body {
            MintBody::Token(spec) => {
                step.token = Some(spec.clone());
                step.features = case.mint.features.clone();
            }
            MintBody::Raw(body) => step.body = Some(body.clone()),
        },
        StepKind::Replay => {
            let features = match &case.mint.features {
                Some(features) => format!(
                    r#","features":{}"#,
                    serde_json::to_string(features).unwrap_or_default()
                ),
                None => String::new(),
            };
            step.body = Some(format!(
                r#"{{"token":"${{steps.{MINT_STEP}.jwt}}"{features}}}"#
            ));
        }
    }
    if pep807_client {
        step.accept = Some(reference_registry::pep807::MEDIA_TYPE.to_owned());
    }
    expect_mint(&mut step, expected, broken, level);
    step
}

/// An upload step expecting the reference's status, else what R-UP-1 and R-UP-3 say.
fn upload_step(step: &mut StepTable, case: &Case, index: usize, expected: Option<&Exchange>) {
    let attempt = &case.uploads[index];
    step.action = Action::Upload;
    step.content_type = None;
    step.upload = Some(UploadSpec {
        name: attempt.name.clone(),
        version: attempt.version.clone(),
        token: attempt.credential.template(),
    });
    let existing = case
        .fixture
        .projects
        .iter()
        .any(|p| normalize(p) == normalize(&attempt.name));
    let status = match expected.and_then(Exchange::status) {
        Some(status) => status,
        // R-UP-3: an existing project not attached is 403; R-UP-1: none is 400.
        None if existing => 403,
        None => 400,
    };
    step.expect.status = Some(Checked::from(status));
}

/// What a mint step expects: the reference's answer, graded at core by the invariants.
fn expect_mint(
    step: &mut StepTable,
    expected: Option<&Exchange>,
    broken: &[Invariant],
    level: Level,
) {
    let must_refuse = broken
        .iter()
        .any(|i| matches!(i, Invariant::RefusesInvalidTokens | Invariant::SingleUse));
    let core_answer = if must_refuse {
        Answer::Reject
    } else {
        Answer::Either
    };
    let grade = |pypi_exact| Grade {
        core: core_answer,
        pypi_exact,
        reason: GRADE_REASON.into(),
    };
    match expected.and_then(Exchange::status) {
        Some(status) => {
            step.expect.status = Some(Checked::from(status));
            step.expect.code = expected
                .and_then(Exchange::code)
                .map(|code| Checked::from(Codes(vec![code])));
            // A refusal of a generated token has no positive twin to compare with.
            if status != 200 && step.token.is_some() {
                step.no_twin = Some(NO_TWIN.into());
            }
            // Below pypi-exact the exact answer is not required, only the invariants'. A
            // non-422 refusal breaks the envelope invariant, which `either` would let pass.
            if level != Level::PypiExact && !broken.contains(&Invariant::MintEnvelope) {
                step.grade = Some(grade(None));
            }
        }
        None => {
            step.no_twin = step.token.is_some().then(|| NO_TWIN.into());
            step.grade = Some(grade(Some(core_answer)));
        }
    }
}

const NO_TWIN: &str =
    "a generated case: the expectation is the reference registry's answer to this input";
const GRADE_REASON: &str = "found by mintcheck fuzz: at core only the invariant is required; pypi-exact expects the reference registry's answer";

/// Whether the reference's own answer breaks `invariant` (the reference is the target).
fn breaks(invariant: Invariant, reference: &Exchange) -> bool {
    let status = reference.status();
    match invariant {
        Invariant::Answered => status.is_none(),
        Invariant::NoServerError => status.is_none_or(|s| s >= 500),
        Invariant::MintEnvelope => !matches!(status, Some(200 | 422)),
        Invariant::RefusesInvalidTokens
        | Invariant::SingleUse
        | Invariant::UploadScope
        | Invariant::SingleUseCredential => status == Some(200),
        Invariant::SameAsReference | Invariant::DiscoverySameHost => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::campaign::Evaluation;
    use crate::fuzz::invariant::Violation;
    use crate::fuzz::invariant::tests::{case, exchange, forged, minted, refused};
    use crate::scenario::load::load_dir;
    use crate::scenario::model::{Fixture, Payload, Request, Twin};
    use crate::scenario::test_support::exchange_of;
    use crate::spec::rules::ErrorCode;
    use serde_json::json;

    fn failure(
        invariant: Invariant,
        step: &str,
        target: Vec<Exchange>,
        reference: Vec<Exchange>,
    ) -> Failure {
        let case = case(json!({"times": {"exp": "now-1h"}}), Fixture::default());
        let violation = Violation {
            invariant,
            rule: "R-TIME-1".into(),
            step: step.into(),
            message: "minted, but exp was 3600.0 s ago".into(),
        };
        Failure {
            evaluation: Evaluation {
                token: Some(forged(&case)),
                target,
                reference: Some(reference),
                violations: vec![violation.clone()],
            },
            violation,
            case_index: 17,
            case,
            shrink_tries: 3,
            occurrences: 1,
        }
    }

    /// Writes the failure's scenario and loads it back as the harness does.
    fn saved(failure: &Failure) -> crate::scenario::Scenario {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), failure, 5).unwrap();
        assert_eq!(path.file_name().unwrap(), file_name(failure, 5).as_str());
        let mut loaded = load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.len(), 1);
        loaded.remove(0)
    }

    #[test]
    fn a_doomed_mint_becomes_a_core_scenario_graded_reject_with_the_reference_answer() {
        let failure = failure(
            Invariant::RefusesInvalidTokens,
            "mint",
            vec![exchange(StepKind::Mint, 200, minted())],
            vec![exchange(StepKind::Mint, 422, refused("invalid-token", "x"))],
        );
        let scenario = saved(&failure);
        assert_eq!(scenario.id, "refuses-invalid-tokens-r-time-1-seed5-case17");
        assert_eq!(
            (scenario.level, scenario.rules.as_slice()),
            (Level::Core, ["R-TIME-1".to_owned()].as_slice())
        );
        let step = exchange_of(&scenario.steps[0]);
        assert_eq!(step.expect.status_value(), Some(422));
        assert_eq!(step.expect.codes(), Some(&[ErrorCode::InvalidToken][..]));
        assert_eq!(
            step.request.grade().map(|g| (g.core, g.pypi_exact)),
            Some((Answer::Reject, None))
        );
        let Request::Mint(mint) = &step.request else {
            panic!("a mint step: {:?}", step.request);
        };
        assert_eq!(
            mint.twin,
            Twin::Waived,
            "a generated refusal has no positive twin"
        );
        let Payload::Token(token) = &mint.send.payload else {
            panic!("a forged token: {:?}", mint.send.payload);
        };
        assert_eq!(token.times.len(), 1);
    }

    #[test]
    fn a_difference_from_the_reference_becomes_a_pypi_exact_scenario_without_grades() {
        let failure = failure(
            Invariant::SameAsReference,
            "replay",
            vec![
                exchange(StepKind::Mint, 200, minted()),
                exchange(StepKind::Replay, 200, minted()),
            ],
            vec![
                exchange(StepKind::Mint, 200, minted()),
                exchange(StepKind::Replay, 422, refused("invalid-reuse-token", "x")),
            ],
        );
        let scenario = saved(&failure);
        assert_eq!(scenario.level, Level::PypiExact);
        let names: Vec<_> = scenario.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["mint", "replay"]);
        let steps: Vec<_> = scenario.steps.iter().map(exchange_of).collect();
        assert!(steps.iter().all(|s| s.request.grade().is_none()));
        let Request::Mint(replay) = &steps[1].request else {
            panic!("a mint step: {:?}", steps[1].request);
        };
        assert!(
            matches!(&replay.send.payload, Payload::Body(body) if body == r#"{"token":"${steps.mint.jwt}"}"#),
            "{:?}",
            replay.send.payload
        );
        assert_eq!(
            steps[1].expect.codes().and_then(|c| c.first()),
            Some(&ErrorCode::InvalidReuseToken)
        );
    }

    #[test]
    fn where_the_reference_stopped_early_the_scenario_ends_and_says_why() {
        let mut failure = failure(
            Invariant::SingleUse,
            "replay",
            vec![
                exchange(StepKind::Mint, 200, minted()),
                exchange(StepKind::Replay, 200, minted()),
            ],
            vec![exchange(StepKind::Mint, 422, refused("invalid-token", "x"))],
        );
        failure.evaluation.violations.push(Violation {
            invariant: Invariant::RefusesInvalidTokens,
            rule: "R-TIME-1".into(),
            step: "mint".into(),
            message: "minted".into(),
        });
        let text = toml_text(&failure, 5).unwrap();
        assert!(
            text.contains("answered differently at step mint already"),
            "{text}"
        );
        let scenario = saved(&failure);
        assert_eq!(scenario.steps.len(), 1);
        assert_eq!(
            scenario.level,
            Level::Core,
            "the mint itself broke an invariant"
        );
        let grade = exchange_of(&scenario.steps[0]).request.grade();
        assert_eq!(grade.unwrap().core, Answer::Reject);
    }

    #[test]
    fn a_message_with_control_characters_still_makes_a_valid_file() {
        let mut failure = failure(
            Invariant::NoServerError,
            "mint",
            vec![exchange(StepKind::Mint, 500, json!("boom"))],
            vec![exchange(
                StepKind::Mint,
                422,
                refused("invalid-payload", "x"),
            )],
        );
        failure.violation.message = "HTTP 500: a\u{0}b\rc\nd\u{1b}[31m".into();
        let scenario = saved(&failure);
        assert!(
            scenario.title.contains("a\u{0}b"),
            "the title keeps the text, escaped by TOML"
        );
    }

    #[test]
    fn a_reference_that_breaks_the_invariant_itself_leaves_only_the_grades() {
        let failure = failure(
            Invariant::NoServerError,
            "mint",
            vec![exchange(StepKind::Mint, 500, json!("boom"))],
            vec![exchange(StepKind::Mint, 500, json!("boom"))],
        );
        let scenario = saved(&failure);
        let step = exchange_of(&scenario.steps[0]);
        assert_eq!(step.expect.status, None);
        let grade = step.request.grade().unwrap();
        assert_eq!(
            (grade.core, grade.pypi_exact),
            (Answer::Either, Some(Answer::Either))
        );
    }
}
