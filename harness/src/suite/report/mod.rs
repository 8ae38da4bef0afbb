//! Reports: a line per scenario while running, then the failures in detail and a summary
//! (human); one JSON document (`--format json`); JUnit XML (`--format junit`).
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `curl`, `tally` < `detail` < `json`, `junit`

mod curl;
mod detail;
mod json;
mod junit;
mod tally;

pub use curl::{curl_command, shell_quote};
pub use detail::{Reproducers, failure_details};
pub use json::json_report;
pub use junit::junit_report;
pub use tally::{AspectTally, Tally, aspect_tallies, aspects_summary};

use crate::suite::outcome::{Outcome, Verdict};
use detail::advisory_summary;

/// One line, printed as soon as the scenario's outcome is known.
pub fn progress_line(outcome: &Outcome) -> String {
    let detail = match &outcome.verdict {
        Verdict::Skip { reason }
        | Verdict::Unsupported { reason }
        | Verdict::Inconclusive { reason }
        | Verdict::Xfail { reason }
        | Verdict::Xpass { reason }
        | Verdict::NotRun { reason } => format!("  ({reason})"),
        Verdict::Error { message } => format!("  ({message})"),
        Verdict::Advisory => format!("  ({})", advisory_summary(outcome)),
        Verdict::Pass | Verdict::Fail => String::new(),
    };
    let instance = match &outcome.instance {
        Some(instance) => format!(" on {instance}"),
        None => String::new(),
    };
    format!(
        "{:<12} {}{instance}{detail}",
        outcome.verdict.label().to_ascii_uppercase(),
        outcome.id
    )
}
