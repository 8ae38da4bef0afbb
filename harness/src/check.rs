//! Judging a response against a step's expectations, at a conformance level.

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use std::sync::LazyLock;

use crate::scenario::model::{Answer, Expect, JsonMatch, Level, Step, TextMatch};

/// The codes of spec §4.1; a core harness rejects any other.
pub const ERROR_CODES: [&str; 6] = [
    "invalid-payload",
    "not-enabled",
    "invalid-token",
    "invalid-pending-publisher",
    "invalid-publisher",
    "invalid-reuse-token",
];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mismatch {
    /// `status`, `header <name>`, `body`, or a JSON pointer into the body.
    pub at: String,
    pub expected: String,
    pub actual: String,
}

/// What came back, as the checks need it.
#[derive(Clone, Debug, Serialize)]
pub struct Response {
    pub status: u16,
    /// The reason phrase of the status line (HTTP/1.1 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Judge {
    /// The level of the scenario: the default for its checks.
    pub scenario_level: Level,
    /// The level of the run: `core` or `pypi-exact`.
    pub run_level: Level,
    /// Whether `info` checks are judged (only against the reference registry).
    pub judge_info: bool,
}

impl Judge {
    pub fn judges(&self, level: Level) -> bool {
        match level {
            Level::Info => self.judge_info,
            level => level <= self.run_level,
        }
    }

    fn judged(&self, level: Option<Level>) -> bool {
        self.judges(level.unwrap_or(self.scenario_level))
    }

    /// Judges a step's answer: by its grade where the run's level has one, else by `expect`.
    pub fn check_step(&self, step: &Step, response: &Response) -> Vec<Mismatch> {
        let graded = step.grade.as_ref().and_then(|grade| match self.run_level {
            Level::Core => Some(grade.core),
            Level::PypiExact => grade.pypi_exact,
            Level::Info => None,
        });
        match graded {
            Some(answer) => answer_mismatches(answer, response),
            None => self.check(&step.expect, response),
        }
    }

    pub fn check(&self, expect: &Expect, response: &Response) -> Vec<Mismatch> {
        let mut mismatches = Vec::new();
        let mut miss = |at: &str, expected: String, actual: String| {
            mismatches.push(Mismatch {
                at: at.to_owned(),
                expected,
                actual,
            });
        };
        if let Some(status) = expect.status
            && status != response.status
        {
            miss("status", status.to_string(), response.status.to_string());
        }
        if let Some(matcher) = &expect.reason
            && self.judged(matcher.level)
        {
            let actual = response.reason.as_deref().unwrap_or("(none)");
            if let Some(expected) = text_mismatch(matcher, actual) {
                miss("reason phrase", expected, actual.to_owned());
            }
        }
        let json = response.json();
        if let Some(code) = &expect.code {
            match envelope_problem(json.as_ref()) {
                Some(problem) => miss("body", "the 422 error envelope (R-RESP-6)".into(), problem),
                None => {
                    let actual = json
                        .as_ref()
                        .and_then(|j| j.pointer("/errors/0/code"))
                        .and_then(Value::as_str);
                    if actual != Some(code.as_str()) {
                        miss(
                            "/errors/0/code",
                            code.clone(),
                            actual.unwrap_or_default().to_owned(),
                        );
                    }
                    if self.judges(Level::PypiExact)
                        && let Some((at, expected, actual)) =
                            json.as_ref().and_then(exact_envelope_problem)
                    {
                        miss(at, expected, actual);
                    }
                }
            }
        }
        if let Some(matcher) = &expect.description
            && self.judged(matcher.level)
        {
            let actual = json
                .as_ref()
                .and_then(|j| j.pointer("/errors/0/description"))
                .and_then(Value::as_str);
            match actual {
                Some(text) => {
                    if let Some(expected) = text_mismatch(matcher, text) {
                        miss("/errors/0/description", expected, text.to_owned());
                    }
                }
                None => miss(
                    "/errors/0/description",
                    describe(matcher),
                    "(absent)".into(),
                ),
            }
        }
        if let Some(JsonMatch { value, level }) = &expect.json
            && self.judged(*level)
        {
            match &json {
                Some(actual) => json_mismatches(value, actual, String::new(), &mut mismatches),
                None => mismatches.push(Mismatch {
                    at: "body".into(),
                    expected: value.to_string(),
                    actual: format!("not JSON: {}", shorten(&response.body)),
                }),
            }
        }
        if let Some(matcher) = &expect.body
            && self.judged(matcher.level)
            && let Some(expected) = text_mismatch(matcher, &response.body)
        {
            mismatches.push(Mismatch {
                at: "body".into(),
                expected,
                actual: shorten(&response.body),
            });
        }
        for (name, matcher) in &expect.headers {
            if !self.judged(matcher.level) {
                continue;
            }
            let at = format!("header {name}");
            match response.header(name) {
                Some(value) => {
                    if let Some(expected) = text_mismatch(matcher, value) {
                        mismatches.push(Mismatch {
                            at,
                            expected,
                            actual: value.to_owned(),
                        });
                    }
                }
                None => mismatches.push(Mismatch {
                    at,
                    expected: describe(matcher),
                    actual: "(absent)".into(),
                }),
            }
        }
        mismatches
    }
}

/// Checks the request counts the mock issuers logged; `count` gives the count for an
/// endpoint name of [`crate::scenario::model::ISSUER_ENDPOINTS`].
pub fn check_issuer_requests(expect: &Expect, count: impl Fn(&str) -> usize) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    for (endpoint, range) in &expect.issuer_requests {
        let seen = count(endpoint);
        let low = range.min.is_some_and(|min| seen < min);
        let high = range.max.is_some_and(|max| seen > max);
        if low || high {
            let bound = match (range.min, range.max) {
                (Some(min), Some(max)) => format!("{min} to {max}"),
                (Some(min), None) => format!("at least {min}"),
                (None, Some(max)) => format!("at most {max}"),
                (None, None) => unreachable!("the loader requires a bound"),
            };
            mismatches.push(Mismatch {
                at: format!("issuer requests: {endpoint}"),
                expected: format!("{bound} since the scenario began"),
                actual: seen.to_string(),
            });
        }
    }
    mismatches
}

/// 200 with `"success": true` and a `token` of R-RESP-3's pattern.
pub fn is_success_envelope(response: &Response) -> bool {
    let json = response.json();
    let token = json
        .as_ref()
        .and_then(|j| j.get("token"))
        .and_then(Value::as_str);
    response.status == 200
        && json.as_ref().and_then(|j| j.get("success")) == Some(&Value::Bool(true))
        && token.is_some_and(|t| SUCCESS_TOKEN.is_match(t))
}

/// The R-RESP-6 error envelope, every code one of §4.1's (the status is not looked at).
pub fn is_error_envelope(response: &Response) -> bool {
    envelope_problem(response.json().as_ref()).is_none()
}

/// Whether a response is one of the answers a grade allows; see [`Answer`].
fn answer_mismatches(answer: Answer, response: &Response) -> Vec<Mismatch> {
    let accepted = || is_success_envelope(response);
    let rejected = || match response.status {
        422 => is_error_envelope(response),
        400..=499 => true,
        _ => false,
    };
    let ok = match answer {
        Answer::Accept => accepted(),
        Answer::Reject => rejected(),
        Answer::Either => accepted() || rejected(),
    };
    if ok {
        return Vec::new();
    }
    let accept = "200 with the success envelope (R-RESP-3)";
    let reject = "a 4xx refusal (a 422 being the error envelope of R-RESP-6)";
    let expected = match answer {
        Answer::Accept => accept.to_owned(),
        Answer::Reject => reject.to_owned(),
        Answer::Either => format!("{accept} or {reject}"),
    };
    vec![Mismatch {
        at: format!("answer (graded {})", answer.name()),
        expected,
        actual: format!("HTTP {}: {}", response.status, shorten(&response.body)),
    }]
}

/// R-RESP-3's pattern for a minted token.
static SUCCESS_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^pypi-[A-Za-z0-9_-]+$").expect("the pattern compiles"));

/// R-RESP-7: at pypi-exact the envelope is exactly `{"errors":[{"code","description"}],
/// "message":"Token request failed"}`. Returns where it differs.
fn exact_envelope_problem(json: &Value) -> Option<(&'static str, String, String)> {
    let keys = |v: &Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    if keys(json) != "errors, message" {
        return Some(("/", "members errors, message (R-RESP-7)".into(), keys(json)));
    }
    if json["message"] != "Token request failed" {
        return Some((
            "/message",
            "Token request failed".into(),
            json["message"].to_string(),
        ));
    }
    let errors = json["errors"].as_array().map_or(0, Vec::len);
    if errors != 1 {
        return Some((
            "/errors",
            "exactly one error (R-RESP-7)".into(),
            format!("{errors} errors"),
        ));
    }
    if keys(&json["errors"][0]) != "code, description" {
        return Some((
            "/errors/0",
            "members code, description (R-RESP-7)".into(),
            keys(&json["errors"][0]),
        ));
    }
    None
}

/// What is wrong with a body that should be the 422 envelope, if anything.
fn envelope_problem(json: Option<&Value>) -> Option<String> {
    let Some(json) = json else {
        return Some("a body that is not JSON".into());
    };
    if !json.get("message").is_some_and(Value::is_string) {
        return Some(format!(
            "no string `message`: {}",
            shorten(&json.to_string())
        ));
    }
    let Some(errors) = json
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    else {
        return Some(format!(
            "no non-empty `errors` array: {}",
            shorten(&json.to_string())
        ));
    };
    for (i, error) in errors.iter().enumerate() {
        let code = error.get("code").and_then(Value::as_str);
        if !error.get("description").is_some_and(Value::is_string) {
            return Some(format!("errors[{i}] has no string `description`"));
        }
        match code {
            Some(code) if ERROR_CODES.contains(&code) => {}
            Some(code) => {
                return Some(format!(
                    "errors[{i}].code {code:?} is not a code of the spec (§4.1)"
                ));
            }
            None => return Some(format!("errors[{i}] has no string `code`")),
        }
    }
    None
}

fn describe(matcher: &TextMatch) -> String {
    match (
        &matcher.exact,
        &matcher.prefix,
        &matcher.contains,
        &matcher.regex,
    ) {
        (Some(exact), ..) => exact.clone(),
        (_, Some(prefix), ..) => format!("starts with {prefix:?}"),
        (_, _, Some(part), _) => format!("contains {part:?}"),
        (.., Some(pattern)) => format!("matches /{pattern}/"),
        _ => String::new(),
    }
}

/// `Some(expected)` when `text` does not satisfy the matcher.
fn text_mismatch(matcher: &TextMatch, text: &str) -> Option<String> {
    let ok = if let Some(exact) = &matcher.exact {
        text == exact
    } else if let Some(prefix) = &matcher.prefix {
        text.starts_with(prefix.as_str())
    } else if let Some(part) = &matcher.contains {
        text.contains(part.as_str())
    } else if let Some(pattern) = &matcher.regex {
        Regex::new(pattern).is_ok_and(|re| re.is_match(text))
    } else {
        true
    };
    (!ok).then(|| describe(matcher))
}

fn json_mismatches(expected: &Value, actual: &Value, pointer: String, out: &mut Vec<Mismatch>) {
    let mut miss = |expected: String| {
        out.push(Mismatch {
            at: if pointer.is_empty() {
                "/".into()
            } else {
                pointer.clone()
            },
            expected,
            actual: shorten(&actual.to_string()),
        });
    };
    match expected {
        Value::String(text) if text.starts_with("$type:") => {
            let wanted = &text["$type:".len()..];
            let fits = match wanted {
                "string" => actual.is_string(),
                "integer" => actual.is_i64() || actual.is_u64(),
                "number" => actual.is_number(),
                "boolean" => actual.is_boolean(),
                "array" => actual.is_array(),
                "object" => actual.is_object(),
                "null" => actual.is_null(),
                _ => false,
            };
            if !fits {
                miss(format!("a JSON {wanted}"));
            }
        }
        Value::String(text) if text.starts_with("$matches:") => {
            let pattern = &text["$matches:".len()..];
            let fits = actual
                .as_str()
                .is_some_and(|s| Regex::new(pattern).is_ok_and(|re| re.is_match(s)));
            if !fits {
                miss(format!("a string matching /{pattern}/"));
            }
        }
        Value::Object(fields) => {
            let Some(actual_fields) = actual.as_object() else {
                return miss(expected.to_string());
            };
            for (key, value) in fields {
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match actual_fields.get(key) {
                    Some(actual) => json_mismatches(value, actual, child, out),
                    None => out.push(Mismatch {
                        at: child,
                        expected: value.to_string(),
                        actual: "(absent)".into(),
                    }),
                }
            }
            for key in actual_fields.keys().filter(|k| !fields.contains_key(*k)) {
                let child = format!("{pointer}/{key}");
                out.push(Mismatch {
                    at: child,
                    expected: "(absent)".into(),
                    actual: shorten(&actual_fields[key].to_string()),
                });
            }
        }
        Value::Array(items) => {
            let Some(actual_items) = actual.as_array().filter(|a| a.len() == items.len()) else {
                return miss(expected.to_string());
            };
            for (i, (e, a)) in items.iter().zip(actual_items).enumerate() {
                json_mismatches(e, a, format!("{pointer}/{i}"), out);
            }
        }
        _ if expected != actual => miss(expected.to_string()),
        _ => {}
    }
}

pub fn shorten(text: &str) -> String {
    const LIMIT: usize = 400;
    if text.len() <= LIMIT {
        return text.to_owned();
    }
    let cut = (0..=LIMIT)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}... ({} bytes)", &text[..cut], text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(status: u16, body: Value) -> Response {
        Response {
            status,
            reason: None,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    fn judge(run_level: Level) -> Judge {
        Judge {
            scenario_level: Level::Core,
            run_level,
            judge_info: false,
        }
    }

    fn expect(toml_text: &str) -> Expect {
        toml::from_str(toml_text).unwrap()
    }

    const ENVELOPE: &str = r#"{"errors":[{"code":"invalid-token","description":"malformed or invalid token"}],"message":"Token request failed"}"#;

    fn graded_step(grade: &str) -> Step {
        toml::from_str(&format!(
            "action = \"mint\"\nbody = \"{{}}\"\ngrade = {grade}\nexpect = {{ status = 422, code = \"invalid-token\" }}"
        ))
        .unwrap()
    }

    #[test]
    fn a_grade_replaces_expect_only_at_its_levels() {
        let minted = response(
            200,
            json!({"success": true, "token": "pypi-AgE", "expires": 1}),
        );
        let refused = response(422, serde_json::from_str(ENVELOPE).unwrap());
        let core_only = graded_step("{ core = \"either\", reason = \"r\" }");
        assert!(
            judge(Level::Core)
                .check_step(&core_only, &minted)
                .is_empty()
        );
        assert!(
            judge(Level::Core)
                .check_step(&core_only, &refused)
                .is_empty()
        );
        assert_eq!(
            judge(Level::PypiExact).check_step(&core_only, &minted)[0].at,
            "status",
            "pypi-exact judges expect"
        );
        let both = graded_step("{ core = \"accept\", pypi-exact = \"reject\", reason = \"r\" }");
        assert!(judge(Level::Core).check_step(&both, &minted).is_empty());
        assert!(!judge(Level::Core).check_step(&both, &refused).is_empty());
        assert!(
            judge(Level::PypiExact)
                .check_step(&both, &refused)
                .is_empty()
        );
        assert!(
            !judge(Level::PypiExact)
                .check_step(&both, &minted)
                .is_empty()
        );
    }

    #[test]
    fn graded_answers_must_still_be_well_formed() {
        let cases = [
            (Answer::Either, response(500, json!({})), false),
            (
                Answer::Either,
                response(422, json!({"detail": "no"})),
                false,
            ),
            (
                Answer::Either,
                response(200, json!({"success": true, "token": "abc"})),
                false,
            ),
            (Answer::Either, response(413, json!({})), true),
            (
                Answer::Reject,
                response(
                    422,
                    json!({"message": "m", "errors": [{"code": "invalid-token", "description": "d"}]}),
                ),
                true,
            ),
            (
                Answer::Reject,
                response(200, json!({"success": true, "token": "pypi-x"})),
                false,
            ),
            (
                Answer::Accept,
                response(200, json!({"success": true, "token": "pypi-x"})),
                true,
            ),
            (
                Answer::Accept,
                response(200, json!({"success": false, "token": "pypi-x"})),
                false,
            ),
            (Answer::Accept, response(403, json!({})), false),
        ];
        for (answer, response, ok) in cases {
            let found = answer_mismatches(answer, &response);
            assert_eq!(
                found.is_empty(),
                ok,
                "{answer:?} {} {}",
                response.status,
                response.body
            );
        }
    }

    #[test]
    fn status_code_and_description_are_compared() {
        let body: Value = serde_json::from_str(ENVELOPE).unwrap();
        let wanted = expect(
            "status = 422\ncode = \"invalid-token\"\ndescription = { exact = \"malformed or invalid token\" }",
        );
        assert!(
            judge(Level::Core)
                .check(&wanted, &response(422, body.clone()))
                .is_empty()
        );
        let wrong = expect("status = 400\ncode = \"invalid-payload\"");
        let found = judge(Level::Core).check(&wrong, &response(422, body));
        let at: Vec<_> = found.iter().map(|m| m.at.as_str()).collect();
        assert_eq!(at, ["status", "/errors/0/code"]);
        assert_eq!(found[1].actual, "invalid-token");
    }

    #[test]
    fn pypi_exact_runs_require_the_exact_envelope() {
        let wanted = expect("code = \"invalid-token\"");
        let extra = json!({"errors": [{"code": "invalid-token", "description": "d"}], "message": "Token request failed", "success": false});
        assert!(
            judge(Level::Core)
                .check(&wanted, &response(422, extra.clone()))
                .is_empty(),
            "free at core"
        );
        assert_eq!(
            judge(Level::PypiExact).check(&wanted, &response(422, extra))[0].at,
            "/"
        );
        let two = json!({"errors": [{"code": "invalid-token", "description": "d"}, {"code": "invalid-token", "description": "e"}], "message": "Token request failed"});
        assert_eq!(
            judge(Level::PypiExact).check(&wanted, &response(422, two))[0].at,
            "/errors"
        );
        let message =
            json!({"errors": [{"code": "invalid-token", "description": "d"}], "message": "Failed"});
        assert_eq!(
            judge(Level::PypiExact).check(&wanted, &response(422, message))[0].at,
            "/message"
        );
    }

    #[test]
    fn a_pypi_exact_description_is_not_judged_at_core() {
        let body: Value = serde_json::from_str(ENVELOPE).unwrap();
        let wanted = expect(
            "code = \"invalid-token\"\ndescription = { exact = \"other\", level = \"pypi-exact\" }",
        );
        assert!(
            judge(Level::Core)
                .check(&wanted, &response(422, body.clone()))
                .is_empty()
        );
        assert_eq!(
            judge(Level::PypiExact)
                .check(&wanted, &response(422, body))
                .len(),
            1
        );
    }

    #[test]
    fn the_envelope_shape_and_code_set_are_enforced() {
        let wanted = expect("code = \"invalid-token\"");
        for body in [
            json!({"errors": [], "message": "x"}),
            json!({"errors": [{"code": "invalid-token"}], "message": "x"}),
            json!({"errors": [{"code": "made-up", "description": "d"}], "message": "x"}),
            json!({"error": "invalid-token"}),
        ] {
            let found = judge(Level::Core).check(&wanted, &response(422, body.clone()));
            assert_eq!(found.len(), 1, "{body}");
            assert_eq!(found[0].at, "body");
        }
        let text = Response {
            status: 422,
            reason: None,
            headers: vec![],
            body: "<html>".into(),
        };
        assert_eq!(
            judge(Level::Core).check(&wanted, &text)[0].actual,
            "a body that is not JSON"
        );
    }

    #[test]
    fn json_matchers_report_the_pointer_that_differs() {
        let wanted = expect(
            "json = { value = { success = true, token = \"$matches:^pypi-[A-Za-z0-9_-]+$\", expires = \"$type:integer\" } }",
        );
        let good = json!({"success": true, "token": "pypi-AgEIcHlwaS5vcmc", "expires": 1767226500});
        assert!(
            judge(Level::Core)
                .check(&wanted, &response(200, good))
                .is_empty()
        );
        let bad = json!({"success": true, "token": "pypi-a b", "expires": 1.5, "extra": 1});
        let found = judge(Level::Core).check(&wanted, &response(200, bad));
        let at: Vec<_> = found.iter().map(|m| m.at.as_str()).collect();
        assert_eq!(at, ["/expires", "/token", "/extra"]);
    }

    #[test]
    fn headers_are_case_insensitive() {
        let wanted = expect("headers = { Content-Type = { exact = \"application/json\" } }");
        assert!(
            judge(Level::Core)
                .check(&wanted, &response(200, json!({})))
                .is_empty()
        );
        let wanted = expect("headers = { allow = { exact = \"POST\" } }");
        assert_eq!(
            judge(Level::Core).check(&wanted, &response(405, json!({})))[0].actual,
            "(absent)"
        );
    }
}
