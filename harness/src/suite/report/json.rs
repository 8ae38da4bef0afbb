//! The `--format json` report.

use super::tally::{Tally, aspect_tallies};
use crate::suite::outcome::{Outcome, aspects_json};

/// The `--format json` report: one object whose keys are stable (new keys may be added;
/// none is renamed or removed without bumping `mintcheck_report`).
///
/// - `mintcheck_report`: `1`, the format version.
/// - `target`: the base URL (the instances' base URLs, `, `-separated, when the run spread
///   over several), or `the embedded reference registry`.
/// - `level`: `core` or `pypi-exact`.
/// - `summary`: counts by outcome: `pass`, `advisory`, `fail`, `inconclusive`, `skip`,
///   `unsupported`, `error`, `xfail`, `xpass`, `not_run` (every key always present).
/// - `advisories`: how many scenarios met every MUST but missed a SHOULD (as
///   `summary.advisory`).
/// - `aspects`: for each of `decision`, `status`, `envelope`, `wording`: in how many
///   scenarios it was `judged`, and in how many of those it was `right` or `advisory`.
/// - `scenarios`: one object per scenario, in ID order:
///   - `id`, `title`, `level`, `rules` (rule IDs), `millis` (wall time), and `instance`
///     (the base URL it ran on) when the run spread over several instances;
///   - `outcome`: `pass`, `advisory`, `fail`, `inconclusive`, `skip`, `unsupported`,
///     `error`, `xfail`, `xpass`, `not-run` (the run stopped before it); with `reason`
///     (skip, unsupported, inconclusive, xfail, xpass, not-run) or `message` (error);
///   - `aspects`: each judged aspect and how it fared: `right`, `advisory` or `wrong`;
///   - `steps`: what was sent and received, in order: `name`, `method`, `url`, and when
///     present `request_body` (text), `token` (`jwt`, `header`, `claims` of a forged
///     token), `response` (`status`, `reason` phrase over HTTP/1.1, `headers` as
///     `[name, value]` pairs, `body` text), `judged` (the aspects judged), `error` (a
///     fault that ended the scenario there) and `mismatches` (`at`: `decision`, `status`,
///     `reason phrase`, `header NAME`, `body`, `successes`, `issuer requests: ENDPOINT`,
///     `expectations` or a JSON pointer into the body; `expected`; `actual`; `aspect`;
///     `rules`; `level`; `strength`: `must` or `should`, an advisory). A step that changed
///     a mock issuer has `method` `ISSUER`, one that moved the clock `CLOCK`.
pub fn json_report(target: &str, level: &str, outcomes: &[Outcome]) -> serde_json::Value {
    let tally = Tally::of(outcomes);
    let scenarios: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|outcome| {
            let mut value = serde_json::to_value(outcome).unwrap_or_default();
            value["aspects"] = aspects_json(outcome);
            value
        })
        .collect();
    let aspects: serde_json::Map<String, serde_json::Value> = aspect_tallies(outcomes)
        .into_iter()
        .map(|(aspect, tally)| {
            (
                aspect.name().to_owned(),
                serde_json::to_value(tally).unwrap_or_default(),
            )
        })
        .collect();
    serde_json::json!({
        "mintcheck_report": 1,
        "target": target,
        "level": level,
        "summary": tally,
        "advisories": tally.advisory,
        "aspects": aspects,
        "scenarios": scenarios,
    })
}
