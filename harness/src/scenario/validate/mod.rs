//! The checks serde cannot make, turning a scenario file as written into the typed model:
//! each problem is the offending key (`step[2].expect.code`) and what is wrong with it; the
//! loader adds the file, line and column.

use std::collections::BTreeSet;

mod expect;

use mock_issuer::{JwksFault, Provider};

use super::file::{Action, IssuerTable, ScenarioFile, StepTable, references};
use super::fixture::{CustomIssuerOf, Fixture, FixtureOf, FixtureTable, Flag};
use super::model::{
    Exchange, FaultChange, HttpRequest, IssuerChange, Mint, MintSend, Payload, Request, Scenario,
    Step, StepKind, Twin,
};
use crate::spec::grading::Level;
use crate::spec::rules;
use expect::expect;

/// The offending key and what is wrong.
pub type Problem = (String, String);

pub(super) fn problem(key: impl Into<String>, message: impl Into<String>) -> Problem {
    (key.into(), message.into())
}

/// A problem found under `prefix` (`fixture`, `step[2]`), named from the file's top.
fn under(prefix: &str) -> impl Fn(Problem) -> Problem + '_ {
    move |(key, message)| (format!("{prefix}.{key}"), message)
}

/// The scenario's level and rules: what its checks default to.
pub(super) struct Scope<'a> {
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
                format!(
                    "{rule:?} is not a rule of docs/spec/pypi-mint-token.md or \
                     docs/spec/pep-807-index-trusted-publishing.md"
                ),
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
        Action::Issuer => StepKind::Issuer(Box::new(issuer_change(raw)?)),
        Action::Audience => exchange(raw, scope, |_| Ok(Request::Audience))?,
        Action::Mint => exchange(raw, scope, mint)?,
        Action::MintConcurrent => exchange(raw, scope, mint_concurrent)?,
        Action::Request => exchange(raw, scope, http)?,
        Action::Upload => exchange(raw, scope, upload)?,
        Action::Discover => exchange(raw, scope, discover)?,
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
        ("upload_path", step.upload_path.is_some()),
        ("accept", step.accept.is_some()),
        ("features", step.features.is_some()),
    ];
    let allowed: &[&str] = match step.action {
        Action::Audience => &["accept"],
        Action::Mint => &[
            "token",
            "body",
            "content_type",
            "path",
            "twin",
            "grade",
            "accept",
            "features",
        ],
        Action::MintConcurrent => &[
            "token",
            "body",
            "content_type",
            "path",
            "count",
            "expect.successes",
            "accept",
        ],
        Action::Request => &["body", "content_type", "method", "path", "accept"],
        Action::Upload => &["upload"],
        Action::Issuer => &["issuer"],
        Action::Clock => &["advance_seconds"],
        Action::Discover => &["upload_path", "accept"],
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
    Ok(StepKind::Exchange(Box::new(Exchange {
        accept: accept(raw),
        request,
        expect,
    })))
}

/// The `Accept` header a step sends: as written (`""`: none); a PEP 807 client's for
/// `discover` (R-807-ACCEPT-1), none for the others.
fn accept(raw: &StepTable) -> Option<String> {
    match (&raw.accept, raw.action) {
        (Some(accept), _) => Some(accept.clone()).filter(|a| !a.is_empty()),
        (None, Action::Discover) => Some(reference_registry::pep807::MEDIA_TYPE.to_owned()),
        (None, _) => None,
    }
}

fn discover(raw: &StepTable) -> Result<Request, Problem> {
    let upload_path = raw
        .upload_path
        .clone()
        .unwrap_or_else(|| "/legacy/".to_owned());
    if !upload_path.is_empty() && !upload_path.starts_with('/') {
        return Err(problem(
            "upload_path",
            format!("{upload_path:?}: an upload URL's path is empty or starts with /"),
        ));
    }
    Ok(Request::Discover { upload_path })
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
        features: raw.features.clone(),
    })
}

fn mint(raw: &StepTable) -> Result<Request, Problem> {
    if raw.features.is_some() && raw.token.is_none() {
        return Err(problem(
            "features",
            "features are sent beside a forged `token`; a raw `body` says them itself",
        ));
    }
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
        Action::Discover => discover(raw),
        Action::Issuer | Action::Clock => panic!("{} steps send no request", raw.action.name()),
    };
    Exchange {
        accept: accept(raw),
        request: request.unwrap_or_else(|(key, message)| panic!("{key}: {message}")),
        expect: expect_unchecked(raw.expect.clone()),
    }
}

/// Expectations as written, with their codes typed and nothing else checked.
#[cfg(test)]
pub(crate) fn expect_unchecked(
    expect: crate::scenario::expect::ExpectTable,
) -> crate::scenario::model::Expect {
    expect
        .try_map_codes(|code| rules::ErrorCode::named(&code).ok_or(code))
        .unwrap_or_else(|code| panic!("{code:?} is not an error code"))
}
