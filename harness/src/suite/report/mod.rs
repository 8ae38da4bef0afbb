//! Reports: a line per scenario while running, then the failures in detail and a summary
//! (human); one JSON document (`--format json`); JUnit XML (`--format junit`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

use crate::rig::transport::{Outgoing, shorten, shorten_to};
use crate::spec::grading::Aspect;
use crate::suite::outcome::{AspectResult, Outcome, StepRecord, Verdict, aspects_json};

/// One line, printed as soon as the scenario's outcome is known.
pub fn progress_line(outcome: &Outcome) -> String {
    let detail = match &outcome.verdict {
        Verdict::Skip { reason }
        | Verdict::Unsupported { reason }
        | Verdict::Inconclusive { reason }
        | Verdict::Xfail { reason }
        | Verdict::Xpass { reason } => format!("  ({reason})"),
        Verdict::Error { message } => format!("  ({message})"),
        Verdict::Advisory => format!("  ({})", advisory_summary(outcome)),
        Verdict::Pass | Verdict::Fail => String::new(),
    };
    format!(
        "{:<12} {}{detail}",
        outcome.verdict.label().to_ascii_uppercase(),
        outcome.id
    )
}

/// Whether an outcome gets a detail block: it failed, its refusal proved nothing, or it
/// missed a SHOULD.
fn detailed(outcome: &Outcome) -> bool {
    matches!(
        outcome.verdict,
        Verdict::Fail | Verdict::Inconclusive { .. } | Verdict::Advisory
    )
}

/// `SHOULD of R-RESP-4 not met at /expires`, for each advisory mismatch.
fn advisory_summary(outcome: &Outcome) -> String {
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
fn detail_block(outcome: &Outcome, reproducers: &Reproducers<'_>) -> String {
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

/// A `curl` command line (POSIX shell) that sends `request` as the harness sent it: the
/// method, every header, and the body byte for byte (`--data-raw` for printable text,
/// else `printf '%b' ... | curl --data-binary @-`).
pub fn curl_command(request: &Outgoing) -> String {
    let mut words: Vec<String> = vec!["curl".into(), "-sS".into(), "-i".into()];
    let has_body = request.body.is_some();
    match (request.method.as_str(), has_body) {
        ("GET", false) | ("POST", true) => {}
        ("HEAD", false) => words.push("--head".into()),
        (method, _) => {
            words.push("-X".into());
            words.push(shell_quote(method));
        }
    }
    for (name, value) in &request.headers {
        words.push("-H".into());
        words.push(shell_quote(&format!("{name}: {value}")));
    }
    let typed = request
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    let mut pipe = String::new();
    if let Some(body) = &request.body {
        if !typed {
            // curl would add `application/x-www-form-urlencoded`; the harness sent none.
            words.push("-H".into());
            words.push(shell_quote("Content-Type:"));
        }
        match std::str::from_utf8(body) {
            Ok(text)
                if text
                    .chars()
                    .all(|c| !c.is_control() || c == '\n' || c == '\t') =>
            {
                words.push("--data-raw".into());
                words.push(shell_quote(text));
            }
            _ => {
                pipe = format!("printf '%b' {} | ", shell_quote(&printf_escape(body)));
                words.push("--data-binary".into());
                words.push("@-".into());
            }
        }
    }
    words.push(shell_quote(&request.url));
    format!("{pipe}{}", words.join(" "))
}

/// Quotes a word for a POSIX shell (single quotes unless it is plainly safe).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Bytes as a `printf '%b'` argument: printable ASCII as is, the rest as `\0NNN`.
fn printf_escape(bytes: &[u8]) -> String {
    let mut text = String::new();
    for &byte in bytes {
        match byte {
            b'\\' => text.push_str(r"\\"),
            b'\n' => text.push_str(r"\n"),
            b'\r' => text.push_str(r"\r"),
            0x20..=0x7e => text.push(byte as char),
            _ => {
                let _ = write!(text, "\\0{byte:03o}");
            }
        }
    }
    text
}

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
            }
        }
        tally
    }

    /// 0 all judged scenarios passed (advisories, and failures listed as xfail, included);
    /// 1 some failed or were inconclusive (a target that refuses everything must not pass
    /// the negatives); 3 the target or harness failed, or a scenario listed as xfail passed
    /// (xpass), and nothing failed.
    pub fn exit_code(&self) -> u8 {
        if self.fail > 0 || self.inconclusive > 0 {
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

/// The `--format json` report: one object whose keys are stable (new keys may be added;
/// none is renamed or removed without bumping `mintcheck_report`).
///
/// - `mintcheck_report`: `1`, the format version.
/// - `target`: the base URL, or `the embedded reference registry`.
/// - `level`: `core` or `pypi-exact`.
/// - `summary`: counts by outcome: `pass`, `advisory`, `fail`, `inconclusive`, `skip`,
///   `unsupported`, `error`, `xfail`, `xpass` (every key always present).
/// - `advisories`: how many scenarios met every MUST but missed a SHOULD (as
///   `summary.advisory`).
/// - `aspects`: for each of `decision`, `status`, `envelope`, `wording`: in how many
///   scenarios it was `judged`, and in how many of those it was `right` or `advisory`.
/// - `scenarios`: one object per scenario, in ID order:
///   - `id`, `title`, `level`, `rules` (rule IDs), `millis` (wall time);
///   - `outcome`: `pass`, `advisory`, `fail`, `inconclusive`, `skip`, `unsupported`,
///     `error`, `xfail`, `xpass`; with `reason` (skip, unsupported, inconclusive, xfail,
///     xpass) or `message` (error);
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
        let status = match &outcome.verdict {
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
            Verdict::Error { message } => {
                non_success(NonSuccessKind::Error, "error", message, None)
            }
            Verdict::Xpass { reason } => non_success(NonSuccessKind::Error, "xpass", reason, None),
            Verdict::Skip { reason } => skipped("skip", reason),
            Verdict::Unsupported { reason } => skipped("unsupported", reason),
        };
        let mut case = TestCase::new(outcome.id.as_str(), status);
        let classname = outcome.id.split('/').next().unwrap_or(&outcome.id);
        let time = Duration::from_millis(outcome.millis);
        total += time;
        case.set_classname(classname).set_time(time);
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
        suite.add_test_case(case);
    }
    suite.set_time(total);
    let mut report = Report::new("mintcheck");
    report.set_time(total).add_test_suite(suite);
    report.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Outgoing {
        Outgoing {
            method: method.into(),
            url: "http://127.0.0.1:8000/_/oidc/mint-token".into(),
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn curl_sends_the_json_body_raw_and_quoted() {
        let sent = request(
            "POST",
            &[("content-type", "application/json")],
            Some(br#"{"token":"it's"}"#),
        );
        assert_eq!(
            curl_command(&sent),
            r#"curl -sS -i -H 'content-type: application/json' --data-raw '{"token":"it'\''s"}' http://127.0.0.1:8000/_/oidc/mint-token"#
        );
    }

    #[test]
    fn curl_pipes_bodies_with_control_bytes_through_printf() {
        let sent = request(
            "POST",
            &[("content-type", "multipart/form-data; boundary=b")],
            Some(b"--b\r\nx\\y\x01%\n"),
        );
        assert_eq!(
            curl_command(&sent),
            r#"printf '%b' '--b\r\nx\\y\0001%\n' | curl -sS -i -H 'content-type: multipart/form-data; boundary=b' --data-binary @- http://127.0.0.1:8000/_/oidc/mint-token"#
        );
    }

    #[test]
    fn curl_names_unusual_methods_and_suppresses_its_default_content_type() {
        assert_eq!(
            curl_command(&request("GET", &[], None)),
            "curl -sS -i http://127.0.0.1:8000/_/oidc/mint-token"
        );
        assert_eq!(
            curl_command(&request("DELETE", &[], Some(b""))),
            "curl -sS -i -X DELETE -H Content-Type: --data-raw '' http://127.0.0.1:8000/_/oidc/mint-token"
        );
        assert_eq!(
            curl_command(&request("HEAD", &[], None)),
            "curl -sS -i --head http://127.0.0.1:8000/_/oidc/mint-token"
        );
    }

    #[test]
    fn quoted_words_and_escaped_bodies_survive_a_real_shell() {
        let run = |script: &str| {
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .output()
                .unwrap();
            output.stdout
        };
        let text = "{\"token\": \"a'b\"}\n$HOME `x` \\";
        assert_eq!(
            run(&format!("printf '%s' {}", shell_quote(text))),
            text.as_bytes()
        );
        let bytes = b"\r\n\x00\xff%s\\n done";
        let sent = request("POST", &[], Some(bytes));
        let command = curl_command(&sent);
        let (pipe, _) = command.split_once(" | curl").unwrap();
        assert_eq!(run(pipe), bytes, "{pipe}");
    }

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
