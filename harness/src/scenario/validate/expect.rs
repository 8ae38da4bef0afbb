//! A request step's expectations: checked for what serde cannot (HTTP statuses, error
//! codes, matchers, issuer endpoints) and for claiming no more than the spec demands at
//! the level they are judged at.

use super::{Problem, Scope, problem};
use crate::scenario::expect::{ExpectTable, Grading, ISSUER_ENDPOINTS, TextMatch};
use crate::scenario::file::{Action, StepTable};
use crate::scenario::model::Expect;
use crate::scenario::pattern;
use crate::spec::grading::{Aspect, Level};
use crate::spec::rules::{self, ErrorCode};

/// A request step's expectations, checked and with their error codes typed; problems are
/// named relative to `expect`.
pub(super) fn expect(step: &StepTable, scope: &Scope<'_>) -> Result<Expect, Problem> {
    let expect = &step.expect;
    check_status(expect)?;
    let typed = expect.clone().try_map_codes(|code| {
        ErrorCode::named(&code).ok_or_else(|| {
            problem(
                "code",
                format!(
                    "{code:?} is not a code of the spec (§4.1): {}",
                    rules::error_codes()
                ),
            )
        })
    })?;
    // A grade for both levels decides the step at every level on its own.
    let fully_graded = step.grade.as_ref().is_some_and(|g| g.pypi_exact.is_some());
    let refused_mint = matches!(step.action, Action::Mint | Action::MintConcurrent)
        && expect.status_value() == Some(422);
    if refused_mint && expect.code.is_none() && !fully_graded {
        return Err(problem(
            "code",
            "a refused mint names the code it expects (R-ORDER-1), or the codes any of which is right: code = [\"invalid-payload\", \"invalid-token\"]",
        ));
    }
    if let Some(json) = &expect.json {
        check_json_matchers(&json.value).map_err(|message| problem("json", message))?;
    }
    check_issuer_requests(expect)?;
    if expect.is_empty() && !fully_graded {
        return Err(problem(
            "status",
            "expect something: status, code, description, json, body, reason, headers, successes, issuer_requests, or a grade for both levels",
        ));
    }
    check_texts(expect)?;
    check_gradings(step, scope)?;
    Ok(typed)
}

fn check_status(expect: &ExpectTable) -> Result<(), Problem> {
    if let Some(status) = &expect.status
        && let Some(bad) = [Some(status.value), status.core]
            .into_iter()
            .flatten()
            .find(|value| !(100..=599).contains(value))
    {
        return Err(problem(
            "status",
            format!("{bad} is not an HTTP status (100 to 599)"),
        ));
    }
    let core_values = [
        expect
            .status
            .as_ref()
            .map(|s| (s.core.is_some(), &s.grading, "status")),
        expect
            .code
            .as_ref()
            .map(|c| (c.core.is_some(), &c.grading, "code")),
    ];
    for (has_core, grading, field) in core_values.into_iter().flatten() {
        if has_core && grading.level.is_some_and(|level| level != Level::Core) {
            return Err(problem(
                format!("{field}.core"),
                "`core` is what a core run judges instead of `value`; a check graded above core has none",
            ));
        }
    }
    Ok(())
}

fn check_issuer_requests(expect: &ExpectTable) -> Result<(), Problem> {
    for (endpoint, range) in &expect.issuer_requests {
        let field = format!("issuer_requests.{endpoint}");
        if !ISSUER_ENDPOINTS.contains(&endpoint.as_str()) {
            return Err(problem(
                field,
                format!("unknown endpoint; known: {}", ISSUER_ENDPOINTS.join(", ")),
            ));
        }
        if range.min.is_none() && range.max.is_none() {
            return Err(problem(field, "give min, max or both"));
        }
    }
    Ok(())
}

/// Every text matcher of `expect`, with the key it is written under.
fn text_matchers(expect: &ExpectTable) -> Vec<(String, &TextMatch)> {
    let mut texts: Vec<(String, &TextMatch)> = Vec::new();
    for (field, matchers) in [
        ("description", &expect.description),
        ("body", &expect.body),
        ("reason", &expect.reason),
    ] {
        texts.extend(matchers.iter().map(|m| (field.to_owned(), m)));
    }
    texts.extend(
        expect
            .headers
            .iter()
            .map(|(name, m)| (format!("headers.{name}"), m)),
    );
    texts
}

fn check_texts(expect: &ExpectTable) -> Result<(), Problem> {
    for (field, matcher) in text_matchers(expect) {
        let given = [
            &matcher.exact,
            &matcher.prefix,
            &matcher.contains,
            &matcher.regex,
        ];
        if given.iter().filter(|m| m.is_some()).count() != 1 {
            return Err(problem(
                field,
                "give exactly one of exact, prefix, contains, regex",
            ));
        }
        if let Some(pattern) = &matcher.regex {
            pattern::compiled(pattern)
                .map_err(|e| problem(field, format!("invalid regex: {e}")))?;
        }
    }
    Ok(())
}

/// `$type:` names and `$matches:` patterns inside an expected JSON value.
fn check_json_matchers(value: &serde_json::Value) -> Result<(), String> {
    const TYPES: [&str; 7] = [
        "string", "integer", "number", "boolean", "array", "object", "null",
    ];
    match value {
        serde_json::Value::String(text) => {
            if let Some(name) = text.strip_prefix("$type:")
                && !TYPES.contains(&name)
            {
                return Err(format!("{text:?}: the types are {}", TYPES.join(", ")));
            }
            if let Some(pattern) = text.strip_prefix("$matches:") {
                pattern::compiled(pattern).map_err(|e| format!("{text:?}: invalid regex: {e}"))?;
            }
            Ok(())
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(check_json_matchers),
        serde_json::Value::Object(fields) => fields.values().try_for_each(check_json_matchers),
        _ => Ok(()),
    }
}

/// Every check a step writes, with its key, aspect and grading, and whether a check at
/// core must cite the rule demanding it (text, JSON and header checks must: wording is
/// free at core unless a rule says otherwise, §17 item 1).
fn written_checks(step: &StepTable) -> Vec<(String, Aspect, Grading, bool)> {
    let expect = &step.expect;
    let mut written: Vec<(String, Aspect, Grading, bool)> = Vec::new();
    for (field, matchers) in [
        ("description", &expect.description),
        ("reason", &expect.reason),
        ("body", &expect.body),
    ] {
        for matcher in matchers.iter() {
            written.push((field.to_owned(), Aspect::Wording, matcher.grading(), true));
        }
    }
    for (name, matcher) in &expect.headers {
        let field = format!("headers.{name}");
        written.push((field, Aspect::Envelope, matcher.grading(), true));
    }
    if let Some(json) = &expect.json {
        written.push(("json".into(), Aspect::Envelope, json.grading(), true));
    }
    if let Some(code) = &expect.code {
        written.push(("code".into(), Aspect::Envelope, code.grading.clone(), false));
    }
    // The harness grades the status of mints (R-RESP-3, R-RESP-6), of audience answers
    // (R-EP-1) and of successful uploads (R-UP-2, pypi-exact) itself; the rest as written.
    if let Some(status) = &expect.status {
        let built_in = match step.action {
            Action::Mint | Action::MintConcurrent => [200, 422].contains(&status.value),
            Action::Audience | Action::Upload => (200..300).contains(&status.value),
            _ => false,
        };
        if !built_in || !status.grading.is_default() {
            written.push((
                "status".into(),
                Aspect::Status,
                status.grading.clone(),
                false,
            ));
        }
    }
    written
}

/// A check made at core claims what the spec demands at core, no more: a text, JSON or
/// header check there cites the rule that demands it, and no check at core rests only on
/// rules whose part at stake the spec leaves to pypi-exact (`[core; pypi-exact: status]`
/// leaves the status free at core).
fn check_gradings(step: &StepTable, scope: &Scope<'_>) -> Result<(), Problem> {
    for (field, aspect, grading, needs_rule) in written_checks(step) {
        if let Some(rule) = &grading.rule
            && !rules::is_rule(rule)
        {
            return Err(problem(
                format!("{field}.rule"),
                format!("{rule:?} is not a rule of docs/spec/pypi-mint-token.md"),
            ));
        }
        // A grade decides a step at core on its own; `expect` is then judged above core.
        if grading.level.unwrap_or(scope.level) != Level::Core || step.grade.is_some() {
            continue;
        }
        if needs_rule && grading.rule.is_none() {
            let article = if aspect == Aspect::Envelope {
                "an"
            } else {
                "a"
            };
            return Err(problem(
                field,
                format!(
                    "{article} {aspect} check at core cites the rule that demands it there (`rule = \"R-…\"`), or is judged at pypi-exact (`level = \"pypi-exact\"`)"
                ),
            ));
        }
        let cited = grading
            .rule
            .clone()
            .map_or_else(|| scope.rules.to_vec(), |rule| vec![rule]);
        let demanded = cited
            .iter()
            .any(|rule| rules::level_of(rule).is_some_and(|level| !level.free_at_core(aspect)));
        if !demanded {
            return Err(problem(
                field,
                format!(
                    "{} leave(s) the {aspect} to pypi-exact (or info): judge it at `level = \"pypi-exact\"`, or cite the core rule that demands it",
                    cited.join(", ")
                ),
            ));
        }
    }
    Ok(())
}
