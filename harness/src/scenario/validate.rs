//! The checks serde cannot make, turning a scenario file as written into the typed model:
//! each problem is the offending key (`step[2].expect.code`) and what is wrong with it; the
//! loader adds the file, line and column.

use std::collections::BTreeSet;

use mock_issuer::{JwksFault, Provider};
use regex::Regex;

use super::expect::{ExpectTable, Grading, ISSUER_ENDPOINTS, TextMatch};
use super::file::{Action, IssuerTable, ScenarioFile, StepTable, references};
use super::fixture::{CustomIssuerOf, Fixture, FixtureOf, FixtureTable, Flag};
use super::model::{
    Exchange, Expect, FaultChange, HttpRequest, IssuerChange, Mint, MintSend, Payload, Request,
    Scenario, Step, StepKind, Twin,
};
use crate::spec::grading::{Aspect, Level};
use crate::spec::rules::{self, ErrorCode};

/// The offending key and what is wrong.
pub type Problem = (String, String);

fn problem(key: impl Into<String>, message: impl Into<String>) -> Problem {
    (key.into(), message.into())
}

/// A problem found under `prefix` (`fixture`, `step[2]`), named from the file's top.
fn under(prefix: &str) -> impl Fn(Problem) -> Problem + '_ {
    move |(key, message)| (format!("{prefix}.{key}"), message)
}

/// The scenario's level and rules: what its checks default to.
struct Scope<'a> {
    level: Level,
    rules: &'a [String],
}

pub fn scenario(id: String, file: ScenarioFile) -> Result<Scenario, Problem> {
    check_rules(&file)?;
    let fixture = fixture(&file.fixture).map_err(under("fixture"))?;
    if file.steps.is_empty() {
        return Err(problem("step", "a scenario needs at least one [[step]]"));
    }
    let scope = Scope {
        level: file.level,
        rules: &file.rules,
    };
    let mut names = BTreeSet::new();
    let mut steps = Vec::new();
    for (index, raw) in file.steps.iter().enumerate() {
        let step =
            step(raw, index, &scope, &mut names).map_err(under(&format!("step[{index}]")))?;
        steps.push(step);
    }
    Ok(Scenario {
        id,
        title: file.title,
        requirement: file.requirement,
        rules: file.rules,
        level: file.level,
        tags: file.tags,
        fixture,
        steps,
    })
}

fn check_rules(file: &ScenarioFile) -> Result<(), Problem> {
    if file.rules.is_empty() {
        return Err(problem("rules", "cite at least one rule ID"));
    }
    for (i, rule) in file.rules.iter().enumerate() {
        if !rules::is_rule(rule) {
            return Err(problem(
                format!("rules[{i}]"),
                format!("{rule:?} is not a rule of docs/spec/pypi-mint-token.md"),
            ));
        }
    }
    let cites_core = file
        .rules
        .iter()
        .any(|rule| rules::level_of(rule).is_some_and(|l| l.level == Level::Core));
    if file.level == Level::Core && !cites_core {
        return Err(problem(
            "level",
            format!(
                "a core scenario cites a rule the spec has at core; {} are not",
                file.rules.join(", ")
            ),
        ));
    }
    Ok(())
}

/// A fixture as written, checked for what serde cannot (flag names, providers, custom
/// issuers): problems are named relative to the fixture.
pub fn fixture(table: &FixtureTable) -> Result<Fixture, Problem> {
    let flags = table
        .flags
        .iter()
        .enumerate()
        .map(|(i, flag)| {
            Flag::named(flag).ok_or_else(|| {
                let known = Flag::ALL.map(Flag::name).join(", ");
                problem(
                    format!("flags[{i}]"),
                    format!("unknown flag {flag:?}; known: {known}"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let provider = |key: String, name: &str| {
        name.parse::<Provider>()
            .map_err(|e| problem(key, e.to_string()))
    };
    let substitute_issuers = table
        .substitute_issuers
        .iter()
        .enumerate()
        .map(|(i, name)| provider(format!("substitute_issuers[{i}]"), name))
        .collect::<Result<_, _>>()?;
    let mut custom_issuers = Vec::new();
    for (i, custom) in table.custom_issuers.iter().enumerate() {
        let key = |field: &str| format!("custom_issuers[{i}].{field}");
        let provider = provider(key("provider"), &custom.provider)?;
        let canonical = Provider::ALL
            .iter()
            .any(|p| p.canonical_issuer() == custom.issuer);
        if custom.issuer.is_empty() || canonical {
            return Err(problem(
                key("issuer"),
                format!(
                    "{:?}: a custom issuer is a non-empty string other than a canonical issuer",
                    custom.issuer
                ),
            ));
        }
        custom_issuers.push(CustomIssuerOf {
            provider,
            issuer: custom.issuer.clone(),
        });
    }
    Ok(FixtureOf {
        audience: table.audience.clone(),
        flags,
        projects: table.projects.clone(),
        prohibited_names: table.prohibited_names.clone(),
        publishers: table.publishers.clone(),
        pending_publishers: table.pending_publishers.clone(),
        used_jtis: table.used_jtis.clone(),
        custom_issuers,
        substitute_issuers,
    })
}

/// One step; problems are named relative to it.
fn step(
    raw: &StepTable,
    index: usize,
    scope: &Scope<'_>,
    names: &mut BTreeSet<String>,
) -> Result<Step, Problem> {
    let name = raw
        .name
        .clone()
        .unwrap_or_else(|| format!("step{}", index + 1));
    check_references(raw, names)?;
    check_keys_fit_action(raw)?;
    if !names.insert(name.clone()) {
        return Err(problem("name", format!("two steps are named {name:?}")));
    }
    check_twin_and_grade(raw)?;
    let kind = match raw.action {
        Action::Clock => StepKind::Clock(clock(raw)?),
        Action::Issuer => StepKind::Issuer(issuer_change(raw)?),
        Action::Audience => exchange(raw, scope, |_| Ok(Request::Audience))?,
        Action::Mint => exchange(raw, scope, mint)?,
        Action::MintConcurrent => exchange(raw, scope, mint_concurrent)?,
        Action::Request => exchange(raw, scope, http)?,
        Action::Upload => exchange(raw, scope, upload)?,
    };
    Ok(Step { name, kind })
}

/// `${steps.NAME.FIELD}` names an earlier step and a field steps offer.
fn check_references(raw: &StepTable, earlier: &BTreeSet<String>) -> Result<(), Problem> {
    let texts = [
        ("body", raw.body.as_deref()),
        (
            "upload.token",
            raw.upload.as_ref().map(|u| u.token.as_str()),
        ),
    ];
    for (field, text) in texts {
        for (reference, value) in references(text.unwrap_or_default()) {
            if !earlier.contains(&reference) {
                return Err(problem(
                    field,
                    format!("${{steps.{reference}.{value}}} names no earlier step"),
                ));
            }
            if !["jwt", "token"].contains(&value.as_str()) {
                return Err(problem(
                    field,
                    format!("${{steps.{reference}.{value}}}: a step offers `jwt` and `token`"),
                ));
            }
        }
    }
    Ok(())
}

/// Keys that mean nothing for a step's action are mistakes, not decoration.
fn check_keys_fit_action(step: &StepTable) -> Result<(), Problem> {
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
        Some((key, _)) => Err(problem(
            *key,
            format!("`{key}` does not apply to {} steps", step.action.name()),
        )),
        None => Ok(()),
    }
}

/// `no_twin`, `twin` and `grade` say why.
fn check_twin_and_grade(raw: &StepTable) -> Result<(), Problem> {
    if raw.no_twin.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(problem("no_twin", "say why the step has no positive twin"));
    }
    if let Some(twin) = &raw.twin {
        if raw.token.is_none() {
            return Err(problem(
                "twin",
                "a twin is the positive version of the step's `token`; this step has none",
            ));
        }
        if raw.no_twin.is_some() {
            return Err(problem("twin", "give `twin` or `no_twin`, not both"));
        }
        if !twin.defects.is_empty() {
            return Err(problem(
                "twin.defects",
                "a positive twin must mint, so it has no defects",
            ));
        }
    }
    if raw
        .grade
        .as_ref()
        .is_some_and(|g| g.reason.trim().is_empty())
    {
        return Err(problem(
            "grade.reason",
            "say why more than one answer is right",
        ));
    }
    Ok(())
}

/// A request step: its request (built by `request`, which may refuse the step), then its
/// expectations.
fn exchange(
    raw: &StepTable,
    scope: &Scope<'_>,
    request: impl FnOnce(&StepTable) -> Result<Request, Problem>,
) -> Result<StepKind, Problem> {
    let request = request(raw)?;
    let expect = expect(raw, scope).map_err(under("expect"))?;
    Ok(StepKind::Exchange(Exchange { request, expect }))
}

fn mint_send(raw: &StepTable) -> Result<MintSend, Problem> {
    let payload = match (&raw.token, &raw.body) {
        (Some(token), None) => Payload::Token(token.clone()),
        (None, Some(body)) => Payload::Body(body.clone()),
        _ => {
            return Err(problem(
                "token",
                "a mint step has exactly one of `token` and `body`",
            ));
        }
    };
    Ok(MintSend {
        payload,
        path: raw
            .path
            .clone()
            .unwrap_or_else(|| "/_/oidc/mint-token".to_owned()),
        content_type: raw.content_type.clone(),
    })
}

fn mint(raw: &StepTable) -> Result<Request, Problem> {
    let twin = match (&raw.twin, &raw.no_twin) {
        (Some(twin), _) => Twin::Given(twin.clone()),
        (None, Some(_)) => Twin::Waived,
        (None, None) => Twin::WithoutDefects,
    };
    Ok(Request::Mint(Mint {
        send: mint_send(raw)?,
        twin,
        grade: raw.grade.clone(),
    }))
}

fn mint_concurrent(raw: &StepTable) -> Result<Request, Problem> {
    let send = mint_send(raw)?;
    let count = raw.count.unwrap_or(8);
    if !(2..=64).contains(&count) {
        return Err(problem("count", "count is 2 to 64"));
    }
    let successes = raw.expect.successes.ok_or_else(|| {
        problem(
            "expect.successes",
            "a mint-concurrent step says how many may succeed",
        )
    })?;
    Ok(Request::MintConcurrent {
        send,
        count,
        successes,
    })
}

fn http(raw: &StepTable) -> Result<Request, Problem> {
    let path = raw
        .path
        .clone()
        .ok_or_else(|| problem("path", "a request step needs a path"))?;
    Ok(Request::Http(HttpRequest {
        method: raw.method.as_deref().unwrap_or("GET").to_ascii_uppercase(),
        path,
        body: raw.body.clone(),
        content_type: raw.content_type.clone(),
    }))
}

fn upload(raw: &StepTable) -> Result<Request, Problem> {
    raw.upload
        .clone()
        .map(Request::Upload)
        .ok_or_else(|| problem("upload", "an upload step needs `upload = { name, token }`"))
}

fn clock(raw: &StepTable) -> Result<f64, Problem> {
    let seconds = raw
        .advance_seconds
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| {
            problem(
                "advance_seconds",
                "a clock step moves the target's time on: advance_seconds = N, N >= 0",
            )
        })?;
    if !raw.expect.is_empty() {
        return Err(problem(
            "expect",
            "a clock step sends no request of the suite's, so it expects nothing",
        ));
    }
    Ok(seconds)
}

const KIDS: [&str; 3] = [
    mock_issuer::keys::PRIMARY_KID,
    mock_issuer::keys::NEXT_KID,
    mock_issuer::keys::SMALL_KID,
];

fn issuer_change(raw: &StepTable) -> Result<IssuerChange, Problem> {
    let Some(change) = &raw.issuer else {
        return Err(problem(
            "issuer",
            "an issuer step needs `issuer = { provider, rotate | publish | retire | sign_with | jwk | add_jwk | fault }`",
        ));
    };
    let provider = change
        .provider
        .parse::<Provider>()
        .map_err(|e| problem("issuer.provider", e.to_string()))?;
    check_kids(change)?;
    let fault = match change.fault.as_deref() {
        None => None,
        Some("none") => Some(FaultChange::Clear),
        Some(name) => Some(FaultChange::Set(
            name.parse::<JwksFault>()
                .map_err(|e| problem("issuer.fault", e.to_string()))?,
        )),
    };
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
        return Err(problem(
            "issuer",
            "say what changes: rotate, publish, retire, sign_with, jwk, add_jwk or fault",
        ));
    }
    if change
        .add_jwk
        .as_ref()
        .is_some_and(|entry| !entry.is_object())
    {
        return Err(problem(
            "issuer.add_jwk",
            "a JWKS entry is a table (a JSON object)",
        ));
    }
    if !raw.expect.is_empty() {
        return Err(problem(
            "expect",
            "an issuer step sends nothing to the target, so it expects nothing",
        ));
    }
    Ok(IssuerChange {
        provider,
        rotate: change.rotate,
        publish: change.publish.clone(),
        retire: change.retire.clone(),
        sign_with: change.sign_with.clone(),
        fault,
        jwk: change.jwk.clone(),
        add_jwk: change.add_jwk.clone(),
        written: serde_json::to_string(change).unwrap_or_default(),
    })
}

fn check_kids(change: &IssuerTable) -> Result<(), Problem> {
    let named = [
        ("issuer.publish", change.publish.as_deref()),
        ("issuer.retire", change.retire.as_deref()),
        ("issuer.sign_with", change.sign_with.as_deref()),
        (
            "issuer.jwk.kid",
            change.jwk.as_ref().map(|jwk| jwk.kid.as_str()),
        ),
    ];
    for (field, kid) in named {
        if let Some(kid) = kid
            && !KIDS.contains(&kid)
        {
            return Err(problem(
                field,
                format!("{kid:?}: the keys are {}", KIDS.join(", ")),
            ));
        }
    }
    Ok(())
}

/// A request step's expectations, checked and with their error codes typed; problems are
/// named relative to `expect`.
fn expect(step: &StepTable, scope: &Scope<'_>) -> Result<Expect, Problem> {
    let expect = &step.expect;
    check_status(expect)?;
    let typed = expect.clone().try_map_codes(|code| {
        ErrorCode::named(&code).ok_or_else(|| {
            problem(
                "code",
                format!(
                    "{code:?} is not a code of the spec (§4.1): {}",
                    ErrorCode::list()
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
            Regex::new(pattern).map_err(|e| problem(field, format!("invalid regex: {e}")))?;
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
                Regex::new(pattern).map_err(|e| format!("{text:?}: invalid regex: {e}"))?;
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

/// A request step as written, typed without the loader's other checks: for tests of the
/// judge, which write steps no scenario file would.
#[cfg(test)]
pub(crate) fn exchange_unchecked(raw: &StepTable) -> Exchange {
    let request = match raw.action {
        Action::Audience => Ok(Request::Audience),
        Action::Mint => mint(raw),
        Action::MintConcurrent => mint_concurrent(raw),
        Action::Request => http(raw),
        Action::Upload => upload(raw),
        Action::Issuer | Action::Clock => panic!("{} steps send no request", raw.action.name()),
    };
    Exchange {
        request: request.unwrap_or_else(|(key, message)| panic!("{key}: {message}")),
        expect: expect_unchecked(raw.expect.clone()),
    }
}

/// Expectations as written, with their codes typed and nothing else checked.
#[cfg(test)]
pub(crate) fn expect_unchecked(expect: ExpectTable) -> Expect {
    expect
        .try_map_codes(|code| ErrorCode::named(&code).ok_or(code))
        .unwrap_or_else(|code| panic!("{code:?} is not an error code"))
}
