//! Reports: a line per scenario while running, then the failures in detail and a summary.

use std::fmt::Write as _;

use serde::Serialize;

use crate::check::shorten;
use crate::runner::{Outcome, Verdict};

/// One line, printed as soon as the scenario's outcome is known.
pub fn progress_line(outcome: &Outcome) -> String {
    let detail = match &outcome.verdict {
        Verdict::Skip { reason }
        | Verdict::Unsupported { reason }
        | Verdict::Inconclusive { reason } => {
            format!("  ({reason})")
        }
        Verdict::Error { message } => format!("  ({message})"),
        Verdict::Pass | Verdict::Fail => String::new(),
    };
    format!(
        "{:<11} {}{detail}",
        outcome.verdict.label().to_ascii_uppercase(),
        outcome.id
    )
}

/// What was sent, what came back and what differed, for every failed scenario.
pub fn failure_details(outcomes: &[Outcome], rerun: &dyn Fn(&str) -> String) -> String {
    let mut text = String::new();
    for outcome in outcomes.iter().filter(|o| o.verdict == Verdict::Fail) {
        let _ = writeln!(text, "\nFAIL {} - {}", outcome.id, outcome.title);
        let _ = writeln!(
            text,
            "  rules: {} ({})",
            outcome.rules.join(", "),
            outcome.level
        );
        for step in &outcome.steps {
            let _ = writeln!(text, "  step {}: {} {}", step.name, step.method, step.url);
            if let Some(token) = &step.token {
                let _ = writeln!(text, "    token header: {}", token["header"]);
                let _ = writeln!(
                    text,
                    "    token claims: {}",
                    shorten(&token["claims"].to_string())
                );
            }
            if let Some(body) = &step.request_body {
                let _ = writeln!(text, "    sent: {}", shorten(body));
            }
            if let Some(response) = &step.response {
                let _ = writeln!(
                    text,
                    "    got:  HTTP {} {}",
                    response.status,
                    shorten(&response.body)
                );
            }
            for mismatch in &step.mismatches {
                let _ = writeln!(text, "    at {}:", mismatch.at);
                let _ = writeln!(text, "      expected: {}", mismatch.expected);
                let _ = writeln!(text, "      actual:   {}", mismatch.actual);
            }
        }
        let _ = writeln!(text, "  rerun: {}", rerun(&outcome.id));
    }
    text
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
    pub unsupported: usize,
    pub inconclusive: usize,
    pub error: usize,
}

impl Tally {
    pub fn of(outcomes: &[Outcome]) -> Tally {
        let mut tally = Tally::default();
        for outcome in outcomes {
            match outcome.verdict {
                Verdict::Pass => tally.pass += 1,
                Verdict::Fail => tally.fail += 1,
                Verdict::Skip { .. } => tally.skip += 1,
                Verdict::Unsupported { .. } => tally.unsupported += 1,
                Verdict::Inconclusive { .. } => tally.inconclusive += 1,
                Verdict::Error { .. } => tally.error += 1,
            }
        }
        tally
    }

    /// 0 all judged scenarios passed; 1 some failed or were inconclusive (a target that
    /// refuses everything must not pass the negatives); 3 the target or harness failed.
    pub fn exit_code(&self) -> u8 {
        if self.fail > 0 || self.inconclusive > 0 {
            1
        } else if self.error > 0 {
            3
        } else {
            0
        }
    }

    pub fn summary(&self) -> String {
        format!(
            "scenarios: {} pass, {} fail, {} inconclusive, {} skip, {} unsupported, {} error",
            self.pass, self.fail, self.inconclusive, self.skip, self.unsupported, self.error
        )
    }
}

/// The `--format json` report: stable keys, one object.
pub fn json_report(target: &str, level: &str, outcomes: &[Outcome]) -> serde_json::Value {
    serde_json::json!({
        "mintcheck_report": 1,
        "target": target,
        "level": level,
        "summary": Tally::of(outcomes),
        "scenarios": outcomes,
    })
}
