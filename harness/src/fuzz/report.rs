//! A campaign's report as text: each fault with the invariant and rule it broke, what was
//! sent and answered, the minimal case as a scenario, and the commands that rerun it.

use std::fmt::Write as _;

use serde_json::Value;

use super::campaign::{Failure, FuzzReport};
use super::exchange::Exchange;
use super::invariant::Invariant;
use super::save;
use crate::rig::transport::shorten;

/// How a failure is rerun: `run` gets a saved scenario's path (none if it was not saved),
/// `fuzz` regenerates it from its seed and case.
pub struct Rerun<'a> {
    pub run: &'a dyn Fn(&Failure) -> Option<String>,
    pub fuzz: &'a dyn Fn(&Failure) -> String,
}

pub fn failure_text(failure: &Failure, seed: u64, rerun: &Rerun<'_>) -> String {
    let violation = &failure.violation;
    let mut text = format!(
        "FAIL {} ({}) at step {}: {}\n",
        violation.invariant, violation.rule, violation.step, violation.message
    );
    let _ = writeln!(
        text,
        "  case {} of seed {seed}, shrunk in {} tries; {} case(s) showed this fault",
        failure.case_index, failure.shrink_tries, failure.occurrences
    );
    if let Some(token) = &failure.evaluation.token {
        let _ = writeln!(text, "  token header: {}", token.header);
        let _ = writeln!(
            text,
            "  token claims: {}",
            shorten(&token.claims.to_string())
        );
    }
    let reference = failure.evaluation.reference.as_deref().unwrap_or_default();
    for exchange in &failure.evaluation.target {
        let theirs = reference.iter().find(|r| r.kind == exchange.kind);
        let _ = writeln!(text, "  {}", exchange_line(exchange, theirs));
        if exchange.step_name() == violation.step {
            break;
        }
    }
    match save::toml_text(failure, seed) {
        Ok(toml) => {
            text.push_str("  minimal case, as a scenario:\n");
            for line in toml.lines() {
                let _ = writeln!(text, "    {line}");
            }
        }
        Err(e) => {
            let _ = writeln!(
                text,
                "  (the minimal case cannot be shown as a scenario: {e})"
            );
        }
    }
    if let Some(command) = (rerun.run)(failure) {
        let _ = writeln!(text, "  rerun the scenario: {command}");
    }
    let _ = writeln!(text, "  rerun the case:     {}", (rerun.fuzz)(failure));
    text
}

fn exchange_line(exchange: &Exchange, reference: Option<&Exchange>) -> String {
    let request = &exchange.request;
    let sent = match request.body.as_deref() {
        Some(body) if exchange.step_name().starts_with("upload") => {
            format!(
                "{} {} ({} bytes of form)",
                request.method,
                request.url,
                body.len()
            )
        }
        Some(body) => format!(
            "{} {} {}",
            request.method,
            request.url,
            shorten(&String::from_utf8_lossy(body))
        ),
        None => format!("{} {}", request.method, request.url),
    };
    let answered = match &exchange.result {
        Ok(answer) => {
            let body = answer.response.json().map_or_else(
                || shorten(&answer.response.body),
                |json: Value| shorten(&json.to_string()),
            );
            format!("HTTP {} {body}", answer.response.status)
        }
        Err(no_answer) => format!("no answer: {no_answer}"),
    };
    let reference = reference.map_or_else(String::new, |r| {
        format!("\n      the reference registry: {}", r.summary())
    });
    format!(
        "{}: {sent}\n      answered: {answered}{reference}",
        exchange.step_name()
    )
}

/// The closing lines: counts, rate, skips and differences by rule.
pub fn summary(report: &FuzzReport) -> String {
    let mut text = String::new();
    let seconds = report.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        report.cases as f64 / seconds
    } else {
        0.0
    };
    if !report.mint_answers.is_empty() {
        let mix: Vec<String> = report
            .mint_answers
            .iter()
            .map(|(answer, count)| format!("{answer}: {count}"))
            .collect();
        let _ = writeln!(text, "mint answers: {}", mix.join(", "));
    }
    if !report.differences.is_empty() {
        text.push_str("differences from the reference registry, by rule:\n");
        for (rule, count) in &report.differences {
            let _ = writeln!(text, "  {rule:<12} {count} case(s)");
        }
    }
    for (reason, count) in &report.skipped {
        let _ = writeln!(text, "skipped {count} case(s): {reason}");
    }
    let faults = report.failures.len();
    let by_invariant: Vec<String> = Invariant::ALL
        .iter()
        .filter_map(|invariant| {
            let n = report
                .failures
                .iter()
                .filter(|f| f.violation.invariant == *invariant)
                .count();
            (n > 0).then(|| format!("{n} {invariant}"))
        })
        .collect();
    let _ = writeln!(
        text,
        "{}{} cases in {seconds:.1} s ({rate:.0} cases/s), seed {}, shard {}: {}",
        if report.stopped { "stopped: " } else { "" },
        report.cases,
        report.seed,
        report.shard,
        if faults == 0 {
            "no failures".to_owned()
        } else {
            format!("{faults} distinct failure(s): {}", by_invariant.join(", "))
        }
    );
    text
}
