//! Loading and checking scenario files. Every problem names the file and the key (and, for
//! syntax errors, the line and column); one bad file fails the whole load, before anything
//! is sent to a target.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::model::{
    Action, Expect, FixtureSpec, Grading, ISSUER_ENDPOINTS, IssuerChange, Level, Scenario,
    ScenarioFile, Step, TextMatch,
};
use crate::spec::grading::Aspect;
use crate::spec::rules;
use crate::spec::rules::ERROR_CODES;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("scenarios folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{count} invalid scenario file(s):\n{details}")]
    Invalid { count: usize, details: String },
}

/// Folders under the scenarios root that hold no scenarios.
const NOT_SCENARIOS: [&str; 2] = ["dist", "schema"];

pub fn load_dir(root: &Path) -> Result<Vec<Scenario>, LoadError> {
    let mut files = Vec::new();
    collect(root, root, &mut files)?;
    files.sort();
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        match load_file(root, &path) {
            Ok(scenario) => scenarios.push(scenario),
            Err(err) => problems.push(err.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(scenarios)
    } else {
        Err(LoadError::Invalid {
            count: problems.len(),
            details: problems_text(&problems),
        })
    }
}

fn problems_text(problems: &[String]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let folder_error = |source| LoadError::Folder {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path();
        if path.is_dir() {
            let top = path.parent() == Some(root);
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !(top && NOT_SCENARIOS.contains(&name)) {
                collect(root, &path, files)?;
            }
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    Ok(())
}

/// Loads one file; `root` decides its ID.
pub fn load_file(root: &Path, path: &Path) -> Result<Scenario, LoadError> {
    let fail = |message: String| LoadError::File {
        path: path.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let file: ScenarioFile =
        toml::from_str(&text).map_err(|e| fail(with_suggestion(&e.to_string())))?;
    let id = path
        .strip_prefix(root)
        .unwrap_or(path)
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    check(&file).map_err(|(key, message)| match position_of(&text, &key) {
        Some((line, column)) => fail(format!(
            "line {line}, column {column}, key `{key}`: {message}"
        )),
        None => fail(format!("key `{key}`: {message}")),
    })?;
    Ok(Scenario { id, file })
}

/// The line and column (1-based) where a checked key such as `step[2].expect.description` is written:
/// the table of its first segment (the Nth `[[step]]`), then the first line after it that
/// assigns the last segment's name. Good enough to point a reader at the right place.
fn position_of(text: &str, key: &str) -> Option<(usize, usize)> {
    let segments: Vec<&str> = key.split('.').collect();
    let lines: Vec<&str> = text.lines().collect();
    let (table, index) = match segments[0].split_once('[') {
        Some((table, rest)) => (table, rest.trim_end_matches(']').parse::<usize>().ok()?),
        None => (segments[0], 0),
    };
    let header = |line: &str| {
        let line = line.trim();
        line == format!("[[{table}]]")
            || line == format!("[{table}]")
            || line.starts_with(&format!("[{table}."))
    };
    let start = match lines
        .iter()
        .enumerate()
        .filter(|(_, l)| header(l))
        .nth(index)
    {
        Some((at, _)) => at,
        None if index == 0 => 0,
        None => return None,
    };
    let last = segments.last()?.split('[').next()?;
    let assigns = |line: &str| {
        let line = line.trim_start();
        line.starts_with(&format!("{last} ="))
            || line.contains(&format!(" {last} ="))
            || line.contains(&format!("{{{last} ="))
    };
    let end = lines
        .iter()
        .enumerate()
        .skip(start + 1)
        .find(|(_, l)| l.trim_start().starts_with('['))
        .map_or(lines.len(), |(at, _)| at);
    let at = (start..end).find(|&at| assigns(lines[at])).unwrap_or(start);
    let column = lines.get(at).and_then(|line| {
        let assignment = format!("{last} =");
        line.match_indices(&assignment)
            .map(|(offset, _)| offset)
            .find(|&offset| {
                !line[..offset].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
    });
    Some((
        at + 1,
        column.map_or(1, |offset| line_chars(lines[at], offset) + 1),
    ))
}

/// Columns count characters, not bytes.
fn line_chars(line: &str, byte_offset: usize) -> usize {
    line[..byte_offset].chars().count()
}

/// Adds "did you mean" to serde's unknown-field messages.
fn with_suggestion(message: &str) -> String {
    let unknown = Regex::new(r"unknown (?:field|variant) `([^`]*)`, expected (?:one of )?(.*)")
        .expect("regex");
    let Some(captures) = unknown.captures(message) else {
        return message.trim_end().to_owned();
    };
    let given = &captures[1];
    let candidates = Regex::new(r"`([^`]*)`").expect("regex");
    let nearest = candidates
        .captures_iter(&captures[2])
        .map(|c| c[1].to_owned())
        .min_by_key(|candidate| edit_distance(given, candidate));
    match nearest {
        Some(nearest) if edit_distance(given, &nearest) <= 3 => {
            format!("{}\n  did you mean `{nearest}`?", message.trim_end())
        }
        _ => message.trim_end().to_owned(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

pub const FLAGS: [&str; 6] = [
    "disallow-oidc",
    "disallow-github-oidc",
    "disallow-gitlab-oidc",
    "disallow-google-oidc",
    "disallow-activestate-oidc",
    "disallow-new-project-registration",
];

/// Checks a fixture for what serde cannot (flag names, custom issuers): returns the
/// offending key (relative to the fixture) and what is wrong.
pub fn check_fixture(fixture: &FixtureSpec) -> Result<(), (String, String)> {
    for (i, flag) in fixture.flags.iter().enumerate() {
        if !FLAGS.contains(&flag.as_str()) {
            return Err((
                format!("flags[{i}]"),
                format!("unknown flag {flag:?}; known: {}", FLAGS.join(", ")),
            ));
        }
    }
    for (i, provider) in fixture.substitute_issuers.iter().enumerate() {
        if provider.parse::<mock_issuer::Provider>().is_err() {
            return Err((
                format!("substitute_issuers[{i}]"),
                format!("{provider:?} is not github, gitlab, google or activestate"),
            ));
        }
    }
    for (i, custom) in fixture.custom_issuers.iter().enumerate() {
        let key = |field: &str| format!("custom_issuers[{i}].{field}");
        if custom.provider.parse::<mock_issuer::Provider>().is_err() {
            return Err((
                key("provider"),
                format!(
                    "{:?} is not github, gitlab, google or activestate",
                    custom.provider
                ),
            ));
        }
        let canonical = mock_issuer::Provider::ALL
            .iter()
            .any(|p| p.canonical_issuer() == custom.issuer);
        if custom.issuer.is_empty() || canonical {
            return Err((
                key("issuer"),
                format!(
                    "{:?}: a custom issuer is a non-empty string other than a canonical issuer",
                    custom.issuer
                ),
            ));
        }
    }
    Ok(())
}

/// Checks what serde cannot: returns the offending key and what is wrong.
fn check(file: &ScenarioFile) -> Result<(), (String, String)> {
    if file.rules.is_empty() {
        return Err(("rules".into(), "cite at least one rule ID".into()));
    }
    for (i, rule) in file.rules.iter().enumerate() {
        if !rules::is_rule(rule) {
            return Err((
                format!("rules[{i}]"),
                format!("{rule:?} is not a rule of docs/spec/pypi-mint-token.md"),
            ));
        }
    }
    if file.level == Level::Core
        && !file
            .rules
            .iter()
            .any(|rule| rules::level_of(rule).is_some_and(|l| l.level == Level::Core))
    {
        return Err((
            "level".into(),
            format!(
                "a core scenario cites a rule the spec has at core; {} are not",
                file.rules.join(", ")
            ),
        ));
    }
    check_fixture(&file.fixture).map_err(|(key, message)| (format!("fixture.{key}"), message))?;
    if file.steps.is_empty() {
        return Err((
            "step".into(),
            "a scenario needs at least one [[step]]".into(),
        ));
    }
    let mut names = BTreeSet::new();
    for (i, step) in file.steps.iter().enumerate() {
        let key = |field: &str| format!("step[{i}].{field}");
        let name = step
            .name
            .clone()
            .unwrap_or_else(|| format!("step{}", i + 1));
        let texts = [
            ("body", step.body.as_deref()),
            (
                "upload.token",
                step.upload.as_ref().map(|u| u.token.as_str()),
            ),
        ];
        for (field, text) in texts {
            for (reference, value) in references(text.unwrap_or_default()) {
                if !names.contains(&reference) {
                    return Err((
                        key(field),
                        format!("${{steps.{reference}.{value}}} names no earlier step"),
                    ));
                }
                if !["jwt", "token"].contains(&value.as_str()) {
                    return Err((
                        key(field),
                        format!("${{steps.{reference}.{value}}}: a step offers `jwt` and `token`"),
                    ));
                }
            }
        }
        check_keys_fit_action(step).map_err(|(field, message)| (key(field), message))?;
        if !names.insert(name.clone()) {
            return Err((key("name"), format!("two steps are named {name:?}")));
        }
        match step.action {
            Action::Mint | Action::MintConcurrent
                if step.token.is_some() == step.body.is_some() =>
            {
                return Err((
                    key("token"),
                    "a mint step has exactly one of `token` and `body`".into(),
                ));
            }
            Action::MintConcurrent if step.count.is_some_and(|n| !(2..=64).contains(&n)) => {
                return Err((key("count"), "count is 2 to 64".into()));
            }
            Action::MintConcurrent if step.expect.successes.is_none() => {
                return Err((
                    key("expect.successes"),
                    "a mint-concurrent step says how many may succeed".into(),
                ));
            }
            _ if step
                .no_twin
                .as_deref()
                .is_some_and(|reason| reason.trim().is_empty()) =>
            {
                return Err((
                    key("no_twin"),
                    "say why the step has no positive twin".into(),
                ));
            }
            _ if step.twin.is_some() && step.token.is_none() => {
                return Err((
                    key("twin"),
                    "a twin is the positive version of the step's `token`; this step has none"
                        .into(),
                ));
            }
            _ if step.twin.is_some() && step.no_twin.is_some() => {
                return Err((key("twin"), "give `twin` or `no_twin`, not both".into()));
            }
            _ if step
                .twin
                .as_ref()
                .is_some_and(|twin| !twin.defects.is_empty()) =>
            {
                return Err((
                    key("twin.defects"),
                    "a positive twin must mint, so it has no defects".into(),
                ));
            }
            _ if step
                .grade
                .as_ref()
                .is_some_and(|grade| grade.reason.trim().is_empty()) =>
            {
                return Err((
                    key("grade.reason"),
                    "say why more than one answer is right".into(),
                ));
            }
            Action::Upload if step.upload.is_none() => {
                return Err((
                    key("upload"),
                    "an upload step needs `upload = { name, token }`".into(),
                ));
            }
            Action::Request if step.path.is_none() => {
                return Err((key("path"), "a request step needs a path".into()));
            }
            Action::Audience if step.token.is_some() || step.body.is_some() => {
                return Err((
                    key("action"),
                    "an audience step sends no token or body".into(),
                ));
            }
            _ => {}
        }
        if step.action == Action::Clock {
            match step.advance_seconds {
                Some(seconds) if seconds.is_finite() && seconds >= 0.0 => {}
                _ => {
                    return Err((
                        key("advance_seconds"),
                        "a clock step moves the target's time on: advance_seconds = N, N >= 0"
                            .into(),
                    ));
                }
            }
            if !expects_nothing(&step.expect) {
                return Err((
                    key("expect"),
                    "a clock step sends no request of the suite's, so it expects nothing".into(),
                ));
            }
            continue;
        }
        if step.action == Action::Issuer {
            check_issuer_change(step.issuer.as_ref())
                .map_err(|(field, message)| (key(field), message))?;
            if !expects_nothing(&step.expect) {
                return Err((
                    key("expect"),
                    "an issuer step sends nothing to the target, so it expects nothing".into(),
                ));
            }
            continue;
        }
        // A grade for both levels decides the step at every level on its own.
        let fully_graded = step.grade.as_ref().is_some_and(|g| g.pypi_exact.is_some());
        check_expect(step, file, fully_graded)
            .map_err(|(field, message)| (key(&format!("expect.{field}")), message))?;
    }
    Ok(())
}

fn check_expect(
    step: &Step,
    file: &ScenarioFile,
    fully_graded: bool,
) -> Result<(), (String, String)> {
    let expect = &step.expect;
    if let Some(status) = &expect.status
        && let Some(bad) = [Some(status.value), status.core]
            .into_iter()
            .flatten()
            .find(|value| !(100..=599).contains(value))
    {
        return Err((
            "status".into(),
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
            return Err((
                format!("{field}.core"),
                "`core` is what a core run judges instead of `value`; a check graded above core has none".into(),
            ));
        }
    }
    let mut codes = expect.code.iter().flat_map(|c| {
        c.value
            .0
            .iter()
            .chain(c.core.iter().flat_map(|core| core.0.iter()))
    });
    if let Some(unknown) = codes.find(|c| !ERROR_CODES.contains(&c.as_str())) {
        return Err((
            "code".into(),
            format!(
                "{unknown:?} is not a code of the spec (§4.1): {}",
                ERROR_CODES.join(", ")
            ),
        ));
    }
    let refused_mint = matches!(step.action, Action::Mint | Action::MintConcurrent)
        && expect.status_value() == Some(422);
    if refused_mint && expect.code.is_none() && !fully_graded {
        return Err((
            "code".into(),
            "a refused mint names the code it expects (R-ORDER-1), or the codes any of which is right: code = [\"invalid-payload\", \"invalid-token\"]".into(),
        ));
    }
    if let Some(json) = &expect.json {
        check_json_matchers(&json.value).map_err(|message| ("json".to_owned(), message))?;
    }
    for (endpoint, range) in &expect.issuer_requests {
        let field = format!("issuer_requests.{endpoint}");
        if !ISSUER_ENDPOINTS.contains(&endpoint.as_str()) {
            return Err((
                field,
                format!("unknown endpoint; known: {}", ISSUER_ENDPOINTS.join(", ")),
            ));
        }
        if range.min.is_none() && range.max.is_none() {
            return Err((field, "give min, max or both".into()));
        }
    }
    if expects_nothing(expect) && !fully_graded {
        return Err((
            "status".into(),
            "expect something: status, code, description, json, body, reason, headers, successes, issuer_requests, or a grade for both levels".into(),
        ));
    }
    let texts = expect
        .description
        .iter()
        .map(|m| ("description".to_owned(), m));
    let texts = texts.chain(expect.body.iter().map(|m| ("body".to_owned(), m)));
    let texts = texts.chain(expect.reason.iter().map(|m| ("reason".to_owned(), m)));
    let texts = texts.chain(
        expect
            .headers
            .iter()
            .map(|(name, m)| (format!("headers.{name}"), m)),
    );
    for (field, matcher) in texts {
        check_text(matcher).map_err(|message| (field, message))?;
    }
    check_gradings(step, file)
}

/// A check made at core claims what the spec demands at core, no more: a text, JSON or
/// header check there cites the rule that demands it (wording is free at core unless a
/// rule says otherwise, §17 item 1), and no check at core rests only on rules whose part
/// at stake the spec leaves to pypi-exact (`[core; pypi-exact: status]` leaves the status
/// free at core).
fn check_gradings(step: &Step, file: &ScenarioFile) -> Result<(), (String, String)> {
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
        written.push((
            format!("headers.{name}"),
            Aspect::Envelope,
            matcher.grading(),
            true,
        ));
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
    for (field, aspect, grading, needs_rule) in written {
        if let Some(rule) = &grading.rule
            && !rules::is_rule(rule)
        {
            return Err((
                format!("{field}.rule"),
                format!("{rule:?} is not a rule of docs/spec/pypi-mint-token.md"),
            ));
        }
        // A grade decides a step at core on its own; `expect` is then judged above core.
        if grading.level.unwrap_or(file.level) != Level::Core || step.grade.is_some() {
            continue;
        }
        if needs_rule && grading.rule.is_none() {
            return Err((
                field,
                format!(
                    "{} {aspect} check at core cites the rule that demands it there (`rule = \"R-…\"`), or is judged at pypi-exact (`level = \"pypi-exact\"`)",
                    if aspect == Aspect::Envelope {
                        "an"
                    } else {
                        "a"
                    }
                ),
            ));
        }
        let cited = grading
            .rule
            .clone()
            .map_or_else(|| file.rules.clone(), |rule| vec![rule]);
        let demanded = cited
            .iter()
            .any(|rule| rules::level_of(rule).is_some_and(|level| !level.free_at_core(aspect)));
        if !demanded {
            return Err((
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

fn expects_nothing(expect: &Expect) -> bool {
    expect.status.is_none()
        && expect.code.is_none()
        && expect.description.is_empty()
        && expect.json.is_none()
        && expect.body.is_empty()
        && expect.reason.is_empty()
        && expect.successes.is_none()
        && expect.issuer_requests.is_empty()
        && expect.headers.is_empty()
}

const KIDS: [&str; 3] = [
    mock_issuer::keys::PRIMARY_KID,
    mock_issuer::keys::NEXT_KID,
    mock_issuer::keys::SMALL_KID,
];

fn check_issuer_change(change: Option<&IssuerChange>) -> Result<(), (&'static str, String)> {
    let Some(change) = change else {
        return Err(("issuer", "an issuer step needs `issuer = { provider, rotate | publish | retire | sign_with | jwk | add_jwk | fault }`".into()));
    };
    if !["github", "gitlab", "google", "activestate"].contains(&change.provider.as_str()) {
        return Err((
            "issuer.provider",
            format!(
                "{:?} is not github, gitlab, google or activestate",
                change.provider
            ),
        ));
    }
    for (field, kid) in [
        ("issuer.publish", &change.publish),
        ("issuer.retire", &change.retire),
        ("issuer.sign_with", &change.sign_with),
        (
            "issuer.jwk.kid",
            &change.jwk.as_ref().map(|jwk| jwk.kid.clone()),
        ),
    ] {
        if let Some(kid) = kid
            && !KIDS.contains(&kid.as_str())
        {
            return Err((field, format!("{kid:?}: the keys are {}", KIDS.join(", "))));
        }
    }
    if let Some(fault) = change.fault.as_deref().filter(|f| *f != "none") {
        fault
            .parse::<mock_issuer::JwksFault>()
            .map_err(|e| ("issuer.fault", e.to_string()))?;
    }
    let changes = [
        change.rotate,
        change.publish.is_some(),
        change.retire.is_some(),
        change.sign_with.is_some(),
        change.fault.is_some(),
        change.jwk.is_some(),
        change.add_jwk.is_some(),
    ];
    if !changes.contains(&true) {
        return Err((
            "issuer",
            "say what changes: rotate, publish, retire, sign_with, jwk, add_jwk or fault".into(),
        ));
    }
    if change
        .add_jwk
        .as_ref()
        .is_some_and(|entry| !entry.is_object())
    {
        return Err((
            "issuer.add_jwk",
            "a JWKS entry is a table (a JSON object)".into(),
        ));
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
                Regex::new(pattern).map_err(|e| format!("{text:?}: invalid regex: {e}"))?;
            }
            Ok(())
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(check_json_matchers),
        serde_json::Value::Object(fields) => fields.values().try_for_each(check_json_matchers),
        _ => Ok(()),
    }
}

fn check_text(matcher: &TextMatch) -> Result<(), String> {
    let given = [
        &matcher.exact,
        &matcher.prefix,
        &matcher.contains,
        &matcher.regex,
    ];
    if given.iter().filter(|m| m.is_some()).count() != 1 {
        return Err("give exactly one of exact, prefix, contains, regex".into());
    }
    if let Some(pattern) = &matcher.regex {
        Regex::new(pattern).map_err(|e| format!("invalid regex: {e}"))?;
    }
    Ok(())
}

/// `${steps.NAME.FIELD}`: the loader checks these references and the runner fills them in,
/// so both read them with this one pattern (compiled once).
pub static STEP_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{steps\.([A-Za-z0-9_-]+)\.([A-Za-z_]+)\}").expect("a valid pattern")
});

/// `(step name, field)` of every `${steps.NAME.FIELD}` in a text.
pub fn references(text: &str) -> Vec<(String, String)> {
    STEP_REFERENCE
        .captures_iter(text)
        .map(|c| (c[1].to_owned(), c[2].to_owned()))
        .collect()
}

/// Keys that mean nothing for a step's action are mistakes, not decoration.
fn check_keys_fit_action(step: &Step) -> Result<(), (&'static str, String)> {
    let given = [
        ("token", step.token.is_some()),
        ("body", step.body.is_some()),
        ("content_type", step.content_type.is_some()),
        ("method", step.method.is_some()),
        ("path", step.path.is_some()),
        ("upload", step.upload.is_some()),
        ("count", step.count.is_some()),
        ("expect.successes", step.expect.successes.is_some()),
        ("issuer", step.issuer.is_some()),
        ("twin", step.twin.is_some()),
        ("grade", step.grade.is_some()),
        ("advance_seconds", step.advance_seconds.is_some()),
    ];
    let allowed: &[&str] = match step.action {
        Action::Audience => &[],
        Action::Mint => &["token", "body", "content_type", "path", "twin", "grade"],
        Action::MintConcurrent => &[
            "token",
            "body",
            "content_type",
            "path",
            "count",
            "expect.successes",
        ],
        Action::Request => &["body", "content_type", "method", "path"],
        Action::Upload => &["upload"],
        Action::Issuer => &["issuer"],
        Action::Clock => &["advance_seconds"],
    };
    match given
        .iter()
        .find(|(key, present)| *present && !allowed.contains(key))
    {
        Some((key, _)) => Err((
            key,
            format!("`{key}` does not apply to {} steps", step.action.name()),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::test_support::MINIMAL;

    fn load(text: &str) -> Result<Scenario, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("area/case.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        load_file(dir.path(), &path).map_err(|e| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
    }

    #[test]
    fn the_path_is_the_id() {
        assert_eq!(load(MINIMAL).unwrap().id, "area/case");
    }

    #[test]
    fn unknown_keys_name_file_line_and_the_nearest_key() {
        let err = load(&MINIMAL.replace("title", "titel")).unwrap_err();
        assert!(err.starts_with("DIR/area/case.toml: "), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("unknown field `titel`"), "{err}");
        assert!(err.contains("did you mean `title`?"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let cases = [
            (
                MINIMAL.replace("R-EP-1", "R-EP-99"),
                "line 4, column 1, key `rules[0]`: \"R-EP-99\" is not a rule",
            ),
            (
                MINIMAL.replace(
                    "status = 200",
                    "status = 200, description = { exact = \"a\", prefix = \"b\" }",
                ),
                "line 8, column 26, key `step[0].expect.description`: give exactly one of",
            ),
            (
                MINIMAL.replace("status = 200", "status = 200, body = { regex = \"(\" }"),
                "key `step[0].expect.body`: invalid regex",
            ),
            (
                MINIMAL.replace("action = \"audience\"", "action = \"mint\""),
                "key `step[0].token`: a mint step has exactly one",
            ),
            (
                MINIMAL.replace("action = \"audience\"", "action = \"audience\"\ncount = 3"),
                "line 8, column 1, key `step[0].count`: `count` does not apply to audience steps",
            ),
            (
                MINIMAL.replace("status = 200", "status = 200, code = \"invalid-thing\""),
                "key `step[0].expect.code`: \"invalid-thing\" is not a code of the spec",
            ),
            (
                MINIMAL.replace(
                    "status = 200",
                    "status = 200, json = { value = { a = \"$type:int\" } }",
                ),
                "key `step[0].expect.json`: \"$type:int\": the types are",
            ),
            (
                MINIMAL.replace("action = \"audience\"", "action = \"audience\"\ntwin = {}"),
                "key `step[0].twin`: `twin` does not apply to audience steps",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint\"\nbody = \"{}\"\ntwin = {}",
                ),
                "key `step[0].twin`: a twin is the positive version of the step's `token`",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint\"\ntoken = {}\ntwin = { defects = [\"expired\"] }",
                ),
                "key `step[0].twin.defects`: a positive twin must mint",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint\"\ntoken = {}\ntwin = {}\nno_twin = \"x\"",
                ),
                "key `step[0].twin`: give `twin` or `no_twin`, not both",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint\"\ntoken = {}\ngrade = { core = \"either\", reason = \" \" }",
                ),
                "key `step[0].grade.reason`: say why more than one answer is right",
            ),
            (
                MINIMAL.replace("status = 200", "status = 200, successes = 1"),
                "key `step[0].expect.successes`: `expect.successes` does not apply to audience steps",
            ),
            (
                MINIMAL.replace("expect = { status = 200 }", "expect = {}"),
                "key `step[0].expect.status`: expect something",
            ),
            (
                MINIMAL.replace(
                    "status = 200",
                    "status = 200, issuer_requests = { jku = { max = 0 } }",
                ),
                "key `step[0].expect.issuer_requests.jku`: unknown endpoint",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint-concurrent\"\ntoken = {}",
                ),
                "key `step[0].expect.successes`: a mint-concurrent step says how many",
            ),
            (
                MINIMAL.replace("status = 200", "status = 200, body = { exact = \"a\" }"),
                "key `step[0].expect.body`: a wording check at core cites the rule that demands it there",
            ),
            (
                MINIMAL.replace(
                    "status = 200",
                    "status = 200, headers = { allow = { exact = \"GET\", rule = \"R-EP-5\" } }",
                ),
                "key `step[0].expect.headers.allow`: R-EP-5 leave(s) the envelope to pypi-exact",
            ),
            (
                MINIMAL
                    .replace("R-EP-1", "R-EP-5")
                    .replace("action = \"audience\"", "action = \"request\"\npath = \"/_/oidc/mint-token\"")
                    .replace("status = 200", "status = 405"),
                "key `step[0].expect.status`: R-EP-5 leave(s) the status to pypi-exact",
            ),
            (
                MINIMAL.replace("R-EP-1", "R-GH-2"),
                "key `level`: a core scenario cites a rule the spec has at core; R-GH-2 are not",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"\nexpect = { status = 200 }",
                    "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422 }",
                ),
                "key `step[0].expect.code`: a refused mint names the code it expects",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"\nexpect = { status = 200 }",
                    "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422, code = { value = \"invalid-token\", core = \"invalid-payload\", level = \"pypi-exact\" } }",
                ),
                "key `step[0].expect.code.core`: `core` is what a core run judges instead of `value`",
            ),
            (
                format!("{MINIMAL}\n[fixture]\nflags = [\"disallow-everything\"]\n"),
                "key `fixture.flags[0]`: unknown flag",
            ),
        ];
        for (text, expected) in cases {
            let err = load(&text).unwrap_err();
            assert!(err.contains(expected), "expected {expected:?} in {err}");
        }
    }

    #[test]
    fn references_must_name_earlier_steps() {
        let text = MINIMAL.replace(
            "[[step]]\naction = \"audience\"",
            "[[step]]\naction = \"mint\"\nbody = '{\"token\":\"${steps.later.token}\"}'",
        );
        let err = load(&text).unwrap_err();
        assert!(
            err.contains("${steps.later.token} names no earlier step"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_with_two_bad_files_reports_both() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "title = ").unwrap();
        std::fs::write(dir.path().join("b.toml"), MINIMAL.replace("core", "strict")).unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::write(dir.path().join("dist/ignored.toml"), "not = [valid").unwrap();
        let err = load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("2 invalid scenario file(s):"), "{err}");
        assert!(
            err.contains("a.toml") && err.contains("b.toml") && !err.contains("ignored"),
            "{err}"
        );
    }
}
