//! Counting a run: outcomes by verdict, aspects by how they fared.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::spec::grading::Aspect;
use crate::suite::outcome::{AspectResult, Outcome, Verdict};

/// How many scenarios ended each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub pass: usize,
    pub advisory: usize,
    pub fail: usize,
    pub inconclusive: usize,
    pub skip: usize,
    pub unsupported: usize,
    pub error: usize,
    pub xfail: usize,
    pub xpass: usize,
    pub not_run: usize,
}

impl Tally {
    pub fn of(outcomes: &[Outcome]) -> Tally {
        let mut tally = Tally::default();
        for outcome in outcomes {
            match outcome.verdict {
                Verdict::Pass => tally.pass += 1,
                Verdict::Advisory => tally.advisory += 1,
                Verdict::Fail => tally.fail += 1,
                Verdict::Skip { .. } => tally.skip += 1,
                Verdict::Unsupported { .. } => tally.unsupported += 1,
                Verdict::Inconclusive { .. } => tally.inconclusive += 1,
                Verdict::Error { .. } => tally.error += 1,
                Verdict::Xfail { .. } => tally.xfail += 1,
                Verdict::Xpass { .. } => tally.xpass += 1,
                Verdict::NotRun { .. } => tally.not_run += 1,
            }
        }
        tally
    }

    /// 0 all judged scenarios passed (advisories, and failures listed as xfail, included);
    /// 1 some failed or were inconclusive (a target that refuses everything must not pass
    /// the negatives); 3 the target or harness failed, or a scenario listed as xfail passed
    /// (xpass), and nothing failed; 3 also, failures or not, when the run stopped before
    /// some scenarios (not run): what it found is not the target's verdict.
    pub fn exit_code(&self) -> u8 {
        if self.not_run > 0 {
            3
        } else if self.fail > 0 || self.inconclusive > 0 {
            1
        } else if self.error > 0 || self.xpass > 0 {
            3
        } else {
            0
        }
    }

    /// [`Tally::exit_code`], with `stale` expectations entries counting as xpass does.
    pub fn exit_code_with_stale(&self, stale: usize) -> u8 {
        match self.exit_code() {
            0 if stale > 0 => 3,
            code => code,
        }
    }

    pub fn summary(&self) -> String {
        let mut text = format!(
            "scenarios: {} pass, {} fail, {} inconclusive, {} skip, {} unsupported, {} error, {} advisories",
            self.pass,
            self.fail,
            self.inconclusive,
            self.skip,
            self.unsupported,
            self.error,
            self.advisory
        );
        if self.xfail > 0 || self.xpass > 0 {
            let _ = write!(text, ", {} xfail, {} xpass", self.xfail, self.xpass);
        }
        if self.not_run > 0 {
            let _ = write!(text, ", {} not run", self.not_run);
        }
        text
    }
}

/// How each aspect fared over a run: in how many scenarios it was judged, and in how many
/// of those every MUST was met (`right`) or only SHOULDs were missed (`advisory`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AspectTally {
    pub judged: usize,
    pub right: usize,
    pub advisory: usize,
}

/// The aspect tallies of a run, every aspect present.
pub fn aspect_tallies(outcomes: &[Outcome]) -> BTreeMap<Aspect, AspectTally> {
    let mut tallies: BTreeMap<Aspect, AspectTally> = Aspect::ALL
        .into_iter()
        .map(|aspect| (aspect, AspectTally::default()))
        .collect();
    for outcome in outcomes {
        for (aspect, result) in outcome.aspects() {
            let tally = tallies.entry(aspect).or_default();
            tally.judged += 1;
            match result {
                AspectResult::Right => tally.right += 1,
                AspectResult::Advisory => tally.advisory += 1,
                AspectResult::Wrong => {}
            }
        }
    }
    tallies
}

/// The security verdict first, then every aspect: `decisions: 151/154 right (...)` and
/// `aspects: status 154/154, envelope 0/122, wording 3/3`. A wrong decision names its
/// scenarios: they are what a registry developer must read first.
pub fn aspects_summary(outcomes: &[Outcome]) -> String {
    let tallies = aspect_tallies(outcomes);
    let decision = tallies[&Aspect::Decision];
    let wrong: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.aspects().get(&Aspect::Decision) == Some(&AspectResult::Wrong))
        .map(|o| o.id.as_str())
        .collect();
    let mut text = format!(
        "decisions: {}/{} right",
        decision.right + decision.advisory,
        decision.judged
    );
    if decision.judged > 0 && wrong.is_empty() {
        text.push_str(": the target refused what it must refuse and accepted what it must accept");
    } else if !wrong.is_empty() {
        let _ = write!(text, "; WRONG in: {}", wrong.join(", "));
    }
    let others: Vec<String> = Aspect::ALL[1..]
        .iter()
        .map(|aspect| {
            let tally = tallies[aspect];
            format!("{aspect} {}/{}", tally.right + tally.advisory, tally.judged)
        })
        .collect();
    let _ = write!(text, "\naspects right: {}", others.join(", "));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpass_is_an_error_unless_something_failed() {
        let tally = |fail, xpass, error, xfail| Tally {
            fail,
            xpass,
            error,
            xfail,
            ..Tally::default()
        };
        assert_eq!(tally(0, 0, 0, 3).exit_code(), 0);
        assert_eq!(tally(0, 1, 0, 0).exit_code(), 3);
        assert_eq!(tally(1, 1, 0, 0).exit_code(), 1);
        assert_eq!(tally(0, 0, 1, 0).exit_code(), 3);
        assert!(tally(0, 1, 0, 2).summary().ends_with(", 2 xfail, 1 xpass"));
        assert!(!tally(1, 0, 0, 0).summary().contains("xfail"));
    }
}
