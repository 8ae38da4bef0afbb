//! What running a scenario yields: each step's request, answer and mismatches, the aspects
//! judged, and the verdict. The runner makes outcomes; the expectations file settles them;
//! the reports print them. None of those is needed to read one.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::rig::transport::{Outgoing, Response};
use crate::spec::grading::{Aspect, Level, Strength};

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// Every MUST met; a SHOULD was not (never fails a run unless `--strict`).
    Advisory,
    Fail,
    Skip {
        reason: String,
    },
    Unsupported {
        reason: String,
    },
    /// A refusal that proves nothing: the same token without its defects did not mint either.
    Inconclusive {
        reason: String,
    },
    Error {
        message: String,
    },
    /// Not run: the run stopped before it (a dead or hung target), and says why.
    NotRun {
        reason: String,
    },
    /// Failed, as the expectations file says it does (does not fail the run).
    Xfail {
        reason: String,
    },
    /// Listed as xfail but passed: an error, so the list does not go stale.
    Xpass {
        reason: String,
    },
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Advisory => "advisory",
            Verdict::Fail => "fail",
            Verdict::Skip { .. } => "skip",
            Verdict::Unsupported { .. } => "unsupported",
            Verdict::Inconclusive { .. } => "inconclusive",
            Verdict::Error { .. } => "error",
            Verdict::NotRun { .. } => "not-run",
            Verdict::Xfail { .. } => "xfail",
            Verdict::Xpass { .. } => "xpass",
        }
    }
}

/// One check an answer did not meet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mismatch {
    /// `decision`, `status`, `header <name>`, `body`, `reason phrase`, `successes`,
    /// `issuer requests: ENDPOINT`, `expectations`, or a JSON pointer into the body.
    pub at: String,
    pub expected: String,
    pub actual: String,
    pub aspect: Aspect,
    /// The rules that demand what was expected.
    pub rules: Vec<String>,
    /// The level at which they demand it.
    pub level: Level,
    pub strength: Strength,
}

impl Mismatch {
    /// A SHOULD not met: reported as an advisory, never a failure unless the run is strict.
    pub fn is_advisory(&self) -> bool {
        self.strength == Strength::Should
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    pub name: String,
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// The forged token's header and claims, when the step forged one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
    /// The aspects this step's answer was judged on.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub judged: BTreeSet<Aspect>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<Mismatch>,
    /// A harness or target fault that ended the scenario at this step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The request exactly as sent (for the report's `curl` line; not serialized).
    #[serde(skip)]
    pub sent: Option<Outgoing>,
}

impl StepRecord {
    /// A step that sent nothing of the suite's (an issuer change, a clock move).
    pub fn note(name: String, method: &str, url: String, request_body: Option<String>) -> Self {
        StepRecord {
            name,
            method: method.to_owned(),
            url,
            request_body,
            token: None,
            response: None,
            judged: BTreeSet::new(),
            mismatches: Vec::new(),
            error: None,
            sent: None,
        }
    }
}

/// How one aspect of a scenario's answers fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AspectResult {
    /// Judged, and every check met.
    Right,
    /// Judged, and only SHOULDs were missed.
    Advisory,
    /// A MUST was missed.
    Wrong,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub id: String,
    pub title: String,
    pub level: Level,
    pub rules: Vec<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub steps: Vec<StepRecord>,
    pub millis: u64,
    /// The instance of the target the scenario ran on, when a run spreads over several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl Outcome {
    /// Every mismatch of every step, in order.
    pub fn mismatches(&self) -> impl Iterator<Item = &Mismatch> {
        self.steps.iter().flat_map(|step| step.mismatches.iter())
    }

    /// Each judged aspect and how it fared.
    pub fn aspects(&self) -> BTreeMap<Aspect, AspectResult> {
        let mut results = BTreeMap::new();
        for aspect in self.steps.iter().flat_map(|step| step.judged.iter()) {
            results.insert(*aspect, AspectResult::Right);
        }
        for mismatch in self.mismatches() {
            let result = results
                .entry(mismatch.aspect)
                .or_insert(AspectResult::Right);
            let this = if mismatch.is_advisory() {
                AspectResult::Advisory
            } else {
                AspectResult::Wrong
            };
            if this == AspectResult::Wrong || *result == AspectResult::Right {
                *result = this;
            }
        }
        results
    }

    /// The aspects in which a MUST was missed.
    pub fn wrong_aspects(&self) -> BTreeSet<Aspect> {
        self.mismatches()
            .filter(|m| !m.is_advisory())
            .map(|m| m.aspect)
            .collect()
    }

    /// The verdict the recorded mismatches give once every step ran: a missed MUST fails,
    /// a missed SHOULD is an advisory (a failure when `strict`).
    pub fn judged_verdict(steps: &[StepRecord], strict: bool) -> Verdict {
        let mut mismatches = steps.iter().flat_map(|s| s.mismatches.iter()).peekable();
        if mismatches.peek().is_none() {
            Verdict::Pass
        } else if mismatches.any(|m| strict || !m.is_advisory()) {
            Verdict::Fail
        } else {
            Verdict::Advisory
        }
    }
}

/// The JSON form of an outcome's aspects, for reports: `{"decision": "right", ...}`.
pub fn aspects_json(outcome: &Outcome) -> Value {
    let map: serde_json::Map<String, Value> = outcome
        .aspects()
        .into_iter()
        .map(|(aspect, result)| {
            (
                aspect.name().to_owned(),
                serde_json::to_value(result).unwrap_or(Value::Null),
            )
        })
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mismatch(aspect: Aspect, strength: Strength) -> Mismatch {
        Mismatch {
            at: "x".into(),
            expected: "e".into(),
            actual: "a".into(),
            aspect,
            rules: vec!["R-EP-1".into()],
            level: Level::Core,
            strength,
        }
    }

    fn step(judged: &[Aspect], mismatches: Vec<Mismatch>) -> StepRecord {
        let mut record = StepRecord::note("s".into(), "GET", "u".into(), None);
        record.judged = judged.iter().copied().collect();
        record.mismatches = mismatches;
        record
    }

    #[test]
    fn a_missed_should_is_an_advisory_unless_strict() {
        let steps = [step(
            &[Aspect::Decision, Aspect::Wording],
            vec![mismatch(Aspect::Wording, Strength::Should)],
        )];
        assert_eq!(Outcome::judged_verdict(&steps, false), Verdict::Advisory);
        assert_eq!(Outcome::judged_verdict(&steps, true), Verdict::Fail);
        let failed = [
            steps[0].clone(),
            step(&[], vec![mismatch(Aspect::Status, Strength::Must)]),
        ];
        assert_eq!(Outcome::judged_verdict(&failed, false), Verdict::Fail);
        assert_eq!(Outcome::judged_verdict(&[], false), Verdict::Pass);
    }

    #[test]
    fn aspects_are_right_advisory_or_wrong() {
        let outcome = Outcome {
            id: "a".into(),
            title: "t".into(),
            level: Level::Core,
            rules: vec![],
            verdict: Verdict::Fail,
            steps: vec![
                step(
                    &[Aspect::Decision, Aspect::Envelope, Aspect::Wording],
                    vec![
                        mismatch(Aspect::Envelope, Strength::Must),
                        mismatch(Aspect::Wording, Strength::Should),
                    ],
                ),
                step(
                    &[Aspect::Envelope],
                    vec![mismatch(Aspect::Envelope, Strength::Should)],
                ),
            ],
            millis: 0,
            instance: None,
        };
        let aspects = outcome.aspects();
        assert_eq!(aspects[&Aspect::Decision], AspectResult::Right);
        assert_eq!(aspects[&Aspect::Envelope], AspectResult::Wrong);
        assert_eq!(aspects[&Aspect::Wording], AspectResult::Advisory);
        assert!(!aspects.contains_key(&Aspect::Status));
        assert_eq!(
            outcome.wrong_aspects().into_iter().collect::<Vec<_>>(),
            [Aspect::Envelope]
        );
        assert_eq!(
            aspects_json(&outcome),
            serde_json::json!({"decision": "right", "envelope": "wrong", "wording": "advisory"})
        );
    }
}
