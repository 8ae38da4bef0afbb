//! Settling the outcome of a scenario an xfail entry lists.

use super::{Entry, Expectations, Listed};
use crate::spec::grading::{Aspect, Level, Strength};
use crate::suite::outcome::{Mismatch, Outcome, Verdict};

impl Expectations {
    /// Turns the outcome of a scenario listed as `xfail`: a failure only in the aspects the
    /// entry excuses into `xfail` (or into a failure saying the failure mode changed, when
    /// the entry's `code` is not what the failing step answered), a pass into `xpass`. A
    /// failure in an aspect the entry does not name stays a failure, with a mismatch saying
    /// so. Other verdicts are left alone.
    pub fn settle(&self, outcome: &mut Outcome) {
        let Some(entry) = self
            .entry_for(&outcome.id)
            .filter(|e| e.listed == Listed::Xfail)
        else {
            return;
        };
        let place = format!("{}:{}", self.path.display(), entry.line);
        match outcome.verdict {
            // A glob lists a group whose members need not all fail (the successes of
            // `github/*` have no error envelope to get wrong); `stale` judges the entry as a
            // whole after the run.
            Verdict::Pass | Verdict::Advisory if entry.is_glob() => {}
            Verdict::Pass | Verdict::Advisory => {
                outcome.verdict = Verdict::Xpass {
                    reason: format!(
                        "listed as xfail ({}) at {place} but passed: remove the entry",
                        entry.reason
                    ),
                };
            }
            Verdict::Fail => settle_failure(entry, &place, outcome),
            _ => {}
        }
    }
}

/// A listed scenario failed: `xfail` if the failure is the one listed.
fn settle_failure(entry: &Entry, place: &str, outcome: &mut Outcome) {
    let unexcused: Vec<Aspect> = outcome
        .wrong_aspects()
        .into_iter()
        .filter(|aspect| !entry.aspects.contains(aspect))
        .collect();
    if let Some(first) = unexcused.first() {
        let names = |aspects: &mut dyn Iterator<Item = &Aspect>| {
            aspects.map(|a| a.name()).collect::<Vec<_>>().join(", ")
        };
        let expected = format!(
            "the failure listed at {place} ({}), in: {}",
            entry.reason,
            names(&mut entry.aspects.iter())
        );
        let actual = format!(
            "a failure in {} too, which the entry does not excuse",
            names(&mut unexcused.iter())
        );
        push_note(outcome, *first, expected, actual);
        return;
    }
    let actual = failing_code(outcome);
    match &entry.code {
        Some(expected) if actual.as_deref() != Some(expected.as_str()) => {
            let listed = format!(
                "the failure listed at {place}: errors[0].code {expected:?} ({})",
                entry.reason
            );
            let now = format!(
                "errors[0].code {}: the failure mode changed; update the entry",
                actual.map_or("absent".to_owned(), |code| format!("{code:?}"))
            );
            push_note(outcome, Aspect::Envelope, listed, now);
        }
        _ => {
            outcome.verdict = Verdict::Xfail {
                reason: entry.reason.clone(),
            };
        }
    }
}

/// The `errors[0].code` of the last step that failed, if it answered one.
fn failing_code(outcome: &Outcome) -> Option<String> {
    let response = outcome
        .steps
        .iter()
        .rev()
        .find(|step| !step.mismatches.is_empty())?
        .response
        .as_ref()?;
    let json = response.json()?;
    json.pointer("/errors/0/code")?.as_str().map(str::to_owned)
}

/// Adds a mismatch about the expectations entry itself to the last step that failed.
fn push_note(outcome: &mut Outcome, aspect: Aspect, expected: String, actual: String) {
    let rules = outcome.rules.clone();
    let level = outcome.level;
    if let Some(step) = outcome
        .steps
        .iter_mut()
        .rev()
        .find(|step| !step.mismatches.is_empty())
    {
        step.mismatches.push(Mismatch {
            at: "expectations".into(),
            expected,
            actual,
            aspect,
            rules,
            // An info scenario's note is judged as the reference registry is: exactly.
            level: if level == Level::Info {
                Level::PypiExact
            } else {
                level
            },
            strength: Strength::Must,
        });
    }
}
