//! The detail blocks of a human report: what was sent, what came back and what differed,
//! with the commands that reproduce it; scenarios that failed the same way grouped.

use std::fmt::Write as _;

use super::curl::curl_command;
use crate::rig::transport::{shorten, shorten_to};
use crate::suite::outcome::{Outcome, Verdict};

/// Whether an outcome gets a detail block: it failed, its refusal proved nothing, or it
/// missed a SHOULD.
fn detailed(outcome: &Outcome) -> bool {
    matches!(
        outcome.verdict,
        Verdict::Fail | Verdict::Inconclusive { .. } | Verdict::Advisory
    )
}

/// `SHOULD of R-RESP-4 not met at /expires`, for each advisory mismatch.
pub(super) fn advisory_summary(outcome: &Outcome) -> String {
    let notes: Vec<String> = outcome
        .mismatches()
        .filter(|m| m.is_advisory())
        .map(|m| format!("SHOULD of {} not met at {}", m.rules.join(", "), m.at))
        .collect();
    notes.join("; ")
}

/// How detail blocks tell a reader to reproduce a failure.
pub struct Reproducers<'a> {
    /// The `mintcheck` command that reruns one scenario.
    pub rerun: &'a dyn Fn(&str) -> String,
    /// Whether the run's mock issuers stay up after it (`--keep-issuers`), so the `curl`
    /// lines of forged tokens still work.
    pub issuers_kept: bool,
}

/// What was sent, what came back and what differed, for every failed (or inconclusive, or
/// advisory) scenario, each with a `curl` command that sends the failing request again and a
/// `mintcheck` command that reruns the scenario. Scenarios that failed the same way (the
/// same request, the same status and body shape, the same mismatches) form one group: the
/// first in full, then how many more and which.
pub fn failure_details(outcomes: &[Outcome], reproducers: &Reproducers<'_>) -> String {
    let mut groups: Vec<(Option<String>, Vec<&Outcome>)> = Vec::new();
    for outcome in outcomes.iter().filter(|o| detailed(o)) {
        let key = cause(outcome);
        match groups
            .iter_mut()
            .find(|(cause, _)| cause.is_some() && *cause == key)
        {
            Some((_, members)) => members.push(outcome),
            None => groups.push((key, vec![outcome])),
        }
    }
    let mut text = String::new();
    for (cause, members) in groups {
        let first = members[0];
        let label = first.verdict.label().to_ascii_uppercase();
        if let (Some(cause), true) = (&cause, members.len() > 1) {
            let _ = write!(
                text,
                "\n{label} ×{} with one cause: {cause}\n  scenarios: {}\n  the first in full:\n",
                members.len(),
                members
                    .iter()
                    .map(|o| o.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = write!(text, "\n{label} {} - {}\n", first.id, first.title);
        text.push_str(&detail_block(first, reproducers));
    }
    text
}

/// What makes failures "the same": the failing step's request (method and path), its
/// answer's status and body shape, and where it missed what.
fn cause(outcome: &Outcome) -> Option<String> {
    let step = outcome
        .steps
        .iter()
        .find(|s| s.mismatches.iter().any(|m| !m.is_advisory()))?;
    let response = step.response.as_ref()?;
    let path = step
        .url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(&step.url);
    let missed: Vec<String> = step
        .mismatches
        .iter()
        .filter(|m| !m.is_advisory() && m.at != "expectations")
        .map(|m| format!("{} {}", m.aspect, m.at))
        .collect();
    Some(format!(
        "{} {path} answered HTTP {} {}; wrong: {}",
        step.method,
        response.status,
        body_shape(&response.body),
        missed.join(", ")
    ))
}

/// A body's structure without its values: `{"errors":[{"code":string,...}],"message":string}`
/// for JSON, `text` otherwise.
fn body_shape(body: &str) -> String {
    fn shape(value: &serde_json::Value) -> String {
        use serde_json::Value;
        match value {
            Value::Null => "null".into(),
            Value::Bool(_) => "boolean".into(),
            Value::Number(_) => "number".into(),
            Value::String(_) => "string".into(),
            Value::Array(items) => match items.first() {
                Some(item) => format!("[{}…]", shape(item)),
                None => "[]".into(),
            },
            Value::Object(members) => format!(
                "{{{}}}",
                members
                    .iter()
                    .map(|(name, value)| format!("{name:?}:{}", shape(value)))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
    match serde_json::from_str(body) {
        Ok(value) => shape(&value),
        Err(_) if body.is_empty() => "(empty)".into(),
        Err(_) => "text".into(),
    }
}

/// The body of one detail block (everything after its `FAIL id - title` line).
pub(super) fn detail_block(outcome: &Outcome, reproducers: &Reproducers<'_>) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "  rules: {} ({})",
        outcome.rules.join(", "),
        outcome.level
    );
    if let Verdict::Inconclusive { reason } = &outcome.verdict {
        let _ = writeln!(text, "  {reason}");
    }
    let failing = failing_step(outcome);
    for (index, step) in outcome.steps.iter().enumerate() {
        let _ = writeln!(text, "  step {}: {} {}", step.name, step.method, step.url);
        let jwt = step
            .token
            .as_ref()
            .and_then(|t| t["jwt"].as_str())
            .unwrap_or_default();
        if let Some(token) = &step.token {
            let _ = writeln!(
                text,
                "    token: {} {}",
                token["header"],
                shorten_to(&token["claims"].to_string(), 240)
            );
        }
        if let Some(body) = &step.request_body {
            // The token is shown above; the body names it rather than repeating it.
            let body = match jwt.is_empty() {
                true => body.clone(),
                false => body.replace(jwt, &format!("<the token, {} bytes>", jwt.len())),
            };
            let _ = writeln!(text, "    sent: {}", shorten(&body));
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
            let _ = writeln!(
                text,
                "    at {} ({}, {} {} at {}):",
                mismatch.at,
                mismatch.aspect,
                mismatch.rules.join(", "),
                mismatch.strength.name().to_ascii_uppercase(),
                mismatch.level
            );
            let _ = writeln!(text, "      expected: {}", mismatch.expected);
            let _ = writeln!(text, "      actual:   {}", mismatch.actual);
        }
        if let Some(error) = &step.error {
            let _ = writeln!(text, "    error: {error}");
        }
        if Some(index) == failing
            && let Some(sent) = &step.sent
        {
            // A forged token verifies only while the mock issuers that signed it serve
            // their keys.
            let needs = match (jwt.is_empty(), reproducers.issuers_kept) {
                (true, _) => "",
                (false, true) => " (the run's mock issuers stay up until Ctrl-C)",
                (false, false) => {
                    " (needs the run's mock issuers: run with --keep-issuers to keep them up)"
                }
            };
            let _ = writeln!(text, "    reproduce{needs}: {}", curl_command(sent));
        }
    }
    let _ = writeln!(text, "  rerun: {}", (reproducers.rerun)(&outcome.id));
    text
}

/// The step whose request is worth reproducing: the last one with mismatches, else the last.
fn failing_step(outcome: &Outcome) -> Option<usize> {
    outcome
        .steps
        .iter()
        .rposition(|s| !s.mismatches.is_empty())
        .or_else(|| outcome.steps.len().checked_sub(1))
}
