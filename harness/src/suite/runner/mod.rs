//! Runs scenarios against a target: fresh mock issuers and fresh target state per
//! scenario, then the steps in order, each judged as soon as its answer arrives.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use mock_issuer::{ForgedToken, TokenSpec};

use crate::rig::issuers::Issuers;
use crate::rig::proxy::IssuerProxy;
use crate::rig::targets::{Target, TargetError};
use crate::rig::transport::{self, Outgoing, Response};
use crate::rig::upload;
use crate::scenario::load::STEP_REFERENCE;
use crate::scenario::model::{Action, Level, Scenario, Step};
use crate::spec::grading::{Aspect, Strength};
use crate::suite::check::{Judge, Judgement, MintWindow, minted};
use crate::suite::expectations::Expectations;
use crate::suite::outcome::{Outcome, StepRecord, Verdict};

/// How long one request may take before the step is a harness error (the default of
/// [`RunOptions::request_timeout`]).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// `core` or `pypi-exact`.
    pub level: Level,
    /// Judge `info` scenarios and checks too (the reference registry must meet them).
    pub judge_info: bool,
    /// Scenarios in flight at once (embedded target only; a remote target gets one).
    pub jobs: usize,
    /// Mock issuers serve https: with certificates from `issuer_ca`, else from a CA
    /// generated per scenario.
    pub issuer_tls: bool,
    /// The one CA all mock issuers of the run use with `issuer_tls`, so a target started
    /// once per run can be told to trust it.
    pub issuer_ca: Option<Arc<mock_issuer::tls::TestCa>>,
    /// How long one request may take before the step is a harness error.
    pub request_timeout: Duration,
    /// Known failures and unsupported scenarios (`--expectations`).
    pub expectations: Option<Arc<Expectations>>,
    /// Every forged token's random parts (`jti`, unknown `kid`s) derive from this, the
    /// scenario ID and the step, so `--seed` replays a run's tokens exactly.
    pub seed: u64,
    /// A missed SHOULD fails the scenario instead of being an advisory (`--strict`).
    pub strict: bool,
    /// The issuer proxy of the run (`--issuer-proxy`): each scenario's mocks are routed
    /// through it before the target applies the fixture that trusts them.
    pub issuer_proxy: Option<Arc<IssuerProxy>>,
    /// Where failed scenarios leave their mock issuers running (`--keep-issuers`), so the
    /// report's `curl` lines of forged tokens still verify.
    pub kept_issuers: Option<Arc<KeptIssuers>>,
}

/// The mock issuers of failed scenarios, kept up until this is dropped.
#[derive(Default)]
pub struct KeptIssuers(std::sync::Mutex<Vec<Issuers>>);

impl std::fmt::Debug for KeptIssuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeptIssuers({})", self.len())
    }
}

impl KeptIssuers {
    fn keep(&self, issuers: Issuers) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(issuers);
    }

    /// How many scenarios' issuers are kept.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for RunOptions {
    /// `pypi-exact`, `info` not judged, 4 jobs, plain-http issuers, [`REQUEST_TIMEOUT`],
    /// advisories not failures.
    fn default() -> Self {
        RunOptions {
            level: Level::PypiExact,
            judge_info: false,
            jobs: 4,
            issuer_tls: false,
            issuer_ca: None,
            request_timeout: REQUEST_TIMEOUT,
            expectations: None,
            seed: 0,
            strict: false,
            issuer_proxy: None,
            kept_issuers: None,
        }
    }
}

/// Runs every scenario; `on_outcome` sees each outcome as it is decided. Returns the
/// outcomes in scenario order.
pub async fn run(
    scenarios: Vec<Scenario>,
    target: &Target,
    options: &RunOptions,
    mut on_outcome: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let jobs = if target.is_reference() {
        options.jobs.max(1)
    } else {
        1
    };
    let limit = Arc::new(Semaphore::new(jobs));
    let http = reqwest::Client::builder()
        .timeout(options.request_timeout)
        .build()
        .expect("HTTP client builds");
    let mut running = JoinSet::new();
    let count = scenarios.len();
    for (index, scenario) in scenarios.into_iter().enumerate() {
        let (limit, target, options, http) =
            (limit.clone(), target.clone(), options.clone(), http.clone());
        running.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore stays open");
            (index, run_one(&scenario, &target, &options, &http).await)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; count];
    while let Some(joined) = running.join_next().await {
        let (index, outcome) = joined.expect("scenario tasks do not panic");
        on_outcome(&outcome);
        outcomes[index] = Some(outcome);
    }
    outcomes
        .into_iter()
        .map(|o| o.expect("every scenario ran"))
        .collect()
}

pub async fn run_one(
    scenario: &Scenario,
    target: &Target,
    options: &RunOptions,
    http: &reqwest::Client,
) -> Outcome {
    let started = Instant::now();
    let judge = Judge {
        scenario_level: scenario.file.level,
        scenario_rules: scenario.file.rules.clone(),
        run_level: options.level,
        judge_info: options.judge_info,
    };
    let mut steps = Vec::new();
    let expectations = options.expectations.as_deref();
    let verdict = if let Some(verdict) = expectations.and_then(|e| e.skip(&scenario.id)) {
        verdict
    } else if judge.judges(scenario.file.level) {
        execute(scenario, target, options, http, &judge, &mut steps).await
    } else {
        Verdict::Skip {
            reason: format!(
                "a {} scenario is not judged in a {} run",
                scenario.file.level, options.level
            ),
        }
    };
    let mut outcome = Outcome {
        id: scenario.id.clone(),
        title: scenario.file.title.clone(),
        level: scenario.file.level,
        rules: scenario.file.rules.clone(),
        verdict,
        steps,
        millis: started.elapsed().as_millis() as u64,
    };
    if let Some(expectations) = expectations {
        expectations.settle(&mut outcome);
    }
    outcome
}

/// What later steps may refer to: `${steps.NAME.jwt}` (the token sent) and
/// `${steps.NAME.token}` (the API token the target minted).
#[derive(Default)]
struct Results(HashMap<String, HashMap<&'static str, String>>);

impl Results {
    fn substitute(&self, text: &str) -> Result<String, String> {
        let mut missing = None;
        let replaced = STEP_REFERENCE.replace_all(text, |c: &regex::Captures| {
            let value = self.0.get(&c[1]).and_then(|fields| fields.get(&c[2]));
            value.cloned().unwrap_or_else(|| {
                missing = Some(format!("{} has no value (fields: jwt, token)", &c[0]));
                String::new()
            })
        });
        match missing {
            Some(message) => Err(message),
            None => Ok(replaced.into_owned()),
        }
    }
}

async fn execute(
    scenario: &Scenario,
    target: &Target,
    options: &RunOptions,
    http: &reqwest::Client,
    judge: &Judge,
    records: &mut Vec<StepRecord>,
) -> Verdict {
    // A scenario that needs the clock is unsupported before anything is sent, not failed
    // half-way when its clock step comes.
    let needs_clock = scenario
        .file
        .steps
        .iter()
        .any(|s| s.action == Action::Clock);
    if needs_clock {
        match target.probe_clock(http).await {
            Ok(()) => {}
            Err(TargetError::Unsupported(why)) => {
                return Verdict::Unsupported {
                    reason: format!("the target cannot move its clock: {}", why.join(", ")),
                };
            }
            Err(TargetError::Fault(message)) => return Verdict::Error { message },
        }
    }
    let issuers = match Issuers::start(
        options.issuer_tls,
        options.issuer_ca.as_ref(),
        &scenario.file.fixture,
    )
    .await
    {
        Ok(issuers) => issuers,
        Err(err) => {
            return Verdict::Error {
                message: format!("starting the mock issuers: {err}"),
            };
        }
    };
    let verdict = run_steps(scenario, target, options, http, judge, records, &issuers).await;
    if let Some(kept) = &options.kept_issuers
        && matches!(verdict, Verdict::Fail | Verdict::Inconclusive { .. })
    {
        kept.keep(issuers);
    }
    verdict
}

/// The scenario's twins, its fixture and its steps, against `issuers`.
async fn run_steps(
    scenario: &Scenario,
    target: &Target,
    options: &RunOptions,
    http: &reqwest::Client,
    judge: &Judge,
    records: &mut Vec<StepRecord>,
    issuers: &Issuers,
) -> Verdict {
    let now = mock_issuer::time::unix_now();
    for index in 0..scenario.file.steps.len() {
        if let Some(verdict) =
            check_twin(scenario, index, target, options, http, now, records).await
        {
            return verdict;
        }
    }
    let document = issuers.document(&scenario.file.fixture);
    route(options, issuers);
    let prepared = match target.prepare(&document, http).await {
        Ok(prepared) => prepared,
        Err(TargetError::Unsupported(features)) => {
            return Verdict::Unsupported {
                reason: format!("the target cannot set up: {}", features.join(", ")),
            };
        }
        Err(TargetError::Fault(message)) => return Verdict::Error { message },
    };
    let mut results = Results::default();
    // How far the scenario moved the target's clock: minted tokens' lifetimes are judged
    // on the target's time.
    let mut clock_offset = 0.0;
    for (index, step) in scenario.file.steps.iter().enumerate() {
        let name = scenario.step_name(index);
        if let Some(change) = &step.issuer {
            let body = serde_json::to_string(change).unwrap_or_default();
            let url = format!("{} mock issuer", change.provider);
            records.push(StepRecord::note(name.clone(), "ISSUER", url, Some(body)));
            if let Err(message) = issuers.change(change) {
                return step_error(records, message);
            }
            continue;
        }
        if let Some(seconds) = step.advance_seconds {
            let url = format!("the target's clock, {seconds} s on");
            records.push(StepRecord::note(name.clone(), "CLOCK", url, None));
            match target.advance_clock(&prepared, seconds, http).await {
                Ok(()) => clock_offset += seconds,
                Err(TargetError::Unsupported(why)) => {
                    return Verdict::Unsupported {
                        reason: format!("the target cannot move its clock: {}", why.join(", ")),
                    };
                }
                Err(TargetError::Fault(message)) => return step_error(records, message),
            }
            continue;
        }
        let forging = Forging {
            seed: token_seed(options.seed, &scenario.id, index, false),
            now,
        };
        let (mut record, outgoing) =
            match build_request(step, &prepared.base_url, issuers, &results, forging) {
                Ok(built) => built,
                Err(message) => {
                    records.push(StepRecord::note(name, "-", String::new(), None));
                    return step_error(records, message);
                }
            };
        record.name = name.clone();
        let sent_at = mock_issuer::time::unix_now();
        let sent = match step.action {
            Action::MintConcurrent => {
                let count = step.count.unwrap_or(8);
                send_concurrently(http, &outgoing, count, options.request_timeout).await
            }
            _ => transport::send(http, &outgoing, options.request_timeout)
                .await
                .map(|response| vec![response]),
        };
        let window = MintWindow {
            earliest: sent_at + clock_offset,
            latest: mock_issuer::time::unix_now() + clock_offset,
        };
        let responses = match sent {
            Ok(responses) => responses,
            Err(message) => {
                records.push(record);
                return step_error(records, message);
            }
        };
        let (response, mut judgement) = match step.action {
            Action::MintConcurrent => judge_concurrent(judge, step, responses, window),
            _ => {
                let response = responses.into_iter().next().unwrap_or_else(no_response);
                let judgement = judge.step(step, &response, window);
                (response, judgement)
            }
        };
        let mut fields = HashMap::new();
        if let Some(jwt) = record
            .token
            .as_ref()
            .and_then(|t| t.get("jwt"))
            .and_then(Value::as_str)
        {
            fields.insert("jwt", jwt.to_owned());
        }
        if let Some(token) = response
            .json()
            .and_then(|j| j.get("token").and_then(Value::as_str).map(str::to_owned))
        {
            fields.insert("token", token);
        }
        results.0.insert(name, fields);
        let fetched = judge.issuer_requests(&step.expect, |endpoint| issuers.hits(endpoint));
        judgement.judged.extend(fetched.judged);
        judgement.mismatches.extend(fetched.mismatches);
        record.judged = judgement.judged;
        record.mismatches = judgement.mismatches;
        record.response = Some(response);
        // A wrong decision changes what later steps would test (a token minted that must
        // not be, an upload refused that should pass), so the scenario ends there; any
        // other mismatch is recorded and the steps go on, so a wrong envelope cannot hide
        // a wrong decision later.
        let wrong_decision = record.mismatches.iter().any(|m| {
            m.aspect == Aspect::Decision && (m.strength == Strength::Must || options.strict)
        });
        records.push(record);
        if wrong_decision {
            break;
        }
    }
    Outcome::judged_verdict(records, options.strict)
}

/// Sends the issuer proxy's traffic to `issuers`: the target is about to apply the fixture
/// that trusts them.
fn route(options: &RunOptions, issuers: &Issuers) {
    if let Some(proxy) = &options.issuer_proxy {
        proxy.route(issuers.routes());
    }
}

/// Ends a scenario on a harness or target fault at its last recorded step. A failure found
/// before the fault stands: the fault is kept with the step, and the verdict is the failure.
fn step_error(records: &mut [StepRecord], message: String) -> Verdict {
    let failed = Outcome::judged_verdict(records, false) == Verdict::Fail;
    if let Some(last) = records.last_mut() {
        last.error = Some(message.clone());
    }
    if failed {
        Verdict::Fail
    } else {
        Verdict::Error {
            message: match records.last() {
                Some(last) => format!("step {}: {message}", last.name),
                None => message,
            },
        }
    }
}

fn no_response() -> Response {
    Response {
        status: 0,
        reason: None,
        headers: Vec::new(),
        body: String::new(),
    }
}

/// A refusal step whose token names defects has a positive twin: the same token without
/// the defects, sent to a fresh copy of the fixture, must mint. Otherwise the refusal may
/// have another cause and proves nothing. Returns the verdict that ends the scenario early.
async fn check_twin(
    scenario: &Scenario,
    index: usize,
    target: &Target,
    options: &RunOptions,
    http: &reqwest::Client,
    now: f64,
    records: &mut Vec<StepRecord>,
) -> Option<Verdict> {
    let step = &scenario.file.steps[index];
    let (spec, twin_spec) = positive_twin(step)?;
    let name = format!("{} (positive twin)", scenario.step_name(index));
    let error = |message: String| {
        Some(Verdict::Error {
            message: format!("step {name}: {message}"),
        })
    };
    let issuers = match Issuers::start(
        options.issuer_tls,
        options.issuer_ca.as_ref(),
        &scenario.file.fixture,
    )
    .await
    {
        Ok(issuers) => issuers,
        Err(err) => return error(format!("starting the mock issuers: {err}")),
    };
    route(options, &issuers);
    let prepared = match target
        .prepare(&issuers.document(&scenario.file.fixture), http)
        .await
    {
        Ok(prepared) => prepared,
        Err(TargetError::Unsupported(features)) => {
            return Some(Verdict::Unsupported {
                reason: format!("the target cannot set up: {}", features.join(", ")),
            });
        }
        Err(TargetError::Fault(message)) => return error(message),
    };
    let mut twin = step.clone();
    twin.token = Some(twin_spec.clone());
    let (mut record, outgoing) = match build_request(
        &twin,
        &prepared.base_url,
        &issuers,
        &Results::default(),
        Forging {
            seed: token_seed(options.seed, &scenario.id, index, true),
            now,
        },
    ) {
        Ok(built) => built,
        Err(message) => return error(message),
    };
    // The step's own token (the same one the step sends later): compared with the twin just
    // forged for the request above. Their `jti`s differ by design and are not compared.
    let real = Forging {
        seed: token_seed(options.seed, &scenario.id, index, false),
        now,
    };
    let compared = forge(spec, &issuers, real).map(|token| {
        let sent = record.token.as_ref().expect("a twin step forges a token");
        let twin = ForgedToken {
            compact: String::new(),
            header: sent["header"].clone(),
            claims: sent["claims"].clone(),
        };
        undeclared_difference(&token, &twin, &Declared::of(spec, &twin_spec))
    });
    match compared {
        Ok(None) => {}
        Ok(Some(difference)) => {
            return error(format!(
                "the token differs from its positive twin in {difference}, which none of its defects changes, so the refusal would not isolate the defect"
            ));
        }
        Err(message) => return error(message),
    }
    record.name = name.clone();
    let response = match transport::send(http, &outgoing, options.request_timeout).await {
        Ok(response) => response,
        Err(message) => return error(message),
    };
    let status = response.status;
    record.response = Some(response);
    // Kept either way, so a failure report shows the token beside its twin.
    records.push(record);
    if status == 200 {
        return None;
    }
    let twin_described = if step.twin.is_some() {
        "the step's `twin` token".to_owned()
    } else {
        format!(
            "the same token without {}",
            spec.defects
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut reason = format!(
        "step {}'s refusal proves nothing: its positive twin ({twin_described}) got HTTP {status} instead of 200",
        scenario.step_name(index),
    );
    if status >= 500 {
        // A server error on a sound token is most often a failed key fetch: say whether the
        // target reached the mock issuers at all.
        reason.push_str(&format!(
            "; the target's requests to the mock issuers meanwhile: {}",
            issuers.fetches()
        ));
    }
    Some(Verdict::Inconclusive { reason })
}

/// Sends the same request `count` times at once.
async fn send_concurrently(
    http: &reqwest::Client,
    outgoing: &Outgoing,
    count: usize,
    timeout: Duration,
) -> Result<Vec<Response>, String> {
    let mut running = JoinSet::new();
    for _ in 0..count {
        let (http, outgoing) = (http.clone(), outgoing.clone());
        running.spawn(async move { transport::send(&http, &outgoing, timeout).await });
    }
    let mut responses = Vec::new();
    while let Some(joined) = running.join_next().await {
        responses.push(joined.map_err(|e| format!("a concurrent request failed: {e}"))??);
    }
    Ok(responses)
}

/// Judges a `mint-concurrent` step: how many minted against `expect.successes`, and every
/// refusal as the step's refusal. The answer kept is the first refusal that broke a check,
/// else the first refusal, else the first answer.
fn judge_concurrent(
    judge: &Judge,
    step: &Step,
    responses: Vec<Response>,
    window: MintWindow,
) -> (Response, Judgement) {
    let count = responses.len();
    let minted_count = responses.iter().filter(|r| minted(r)).count();
    let mut judgement = step
        .expect
        .successes
        .map(|expected| judge.successes(expected, minted_count, count))
        .unwrap_or_default();
    let mut shown: Option<(Response, Judgement)> = None;
    for response in responses.iter().filter(|r| !minted(r)) {
        let found = judge.step(step, response, window);
        let broke = !found.mismatches.is_empty();
        if shown.is_none() || broke {
            shown = Some((response.clone(), found));
            if broke {
                break;
            }
        }
    }
    let (response, found) = shown.unwrap_or_else(|| {
        let first = responses.into_iter().next().unwrap_or_else(no_response);
        (first, Judgement::default())
    });
    judgement.judged.extend(found.judged);
    judgement.mismatches.extend(found.mismatches);
    (response, judgement)
}

/// How a step's token is made: its seed, and the moment it is made at. One moment per
/// scenario, so a token and its positive twin differ only where the defects say.
#[derive(Clone, Copy)]
struct Forging {
    seed: u64,
    now: f64,
}

fn forge(
    spec: &mock_issuer::TokenSpec,
    issuers: &Issuers,
    forging: Forging,
) -> Result<ForgedToken, String> {
    let profile = spec.profile();
    spec.apply(issuers.token(profile).seed(forging.seed).at(forging.now))
        .sign()
        .map_err(|e| format!("forging the token: {e}"))
}

/// A refusal step's token and the positive twin it is compared with: the step's `twin`,
/// else its token without defects. None when the step needs no twin.
fn positive_twin(step: &Step) -> Option<(&TokenSpec, TokenSpec)> {
    if step.expect.status_value() == Some(200)
        || step.expect.successes.is_some()
        || step.no_twin.is_some()
    {
        return None;
    }
    let spec = step.token.as_ref()?;
    match &step.twin {
        Some(twin) => Some((spec, twin.clone())),
        None if !spec.defects.is_empty() => Some((
            spec,
            TokenSpec {
                defects: Vec::new(),
                ..spec.clone()
            },
        )),
        None => None,
    }
}

/// The claims and header parameters a token may differ from its twin in: those its defects
/// touch and those either spec sets or removes by name.
#[derive(Default)]
struct Declared {
    claims: BTreeSet<String>,
    header: BTreeSet<String>,
}

impl Declared {
    fn of(token: &TokenSpec, twin: &TokenSpec) -> Declared {
        let mut declared = Declared::default();
        for spec in [token, twin] {
            for touched in spec.defects.iter().map(mock_issuer::Defect::touches) {
                declared
                    .claims
                    .extend(touched.claims.iter().map(|c| c.to_string()));
                declared
                    .header
                    .extend(touched.header.iter().map(|h| h.to_string()));
            }
            declared.claims.extend(spec.claims.keys().cloned());
            declared.claims.extend(spec.times.keys().cloned());
            declared.claims.extend(spec.remove.iter().cloned());
            declared.header.extend(spec.header.keys().cloned());
            declared.header.extend(spec.remove_header.iter().cloned());
        }
        declared
    }
}

/// The token differs from its twin only where declared (plus `jti`, which each token has
/// its own); anything else would make the refusal prove something other than its cause.
/// Returns the first undeclared difference.
fn undeclared_difference(
    token: &ForgedToken,
    twin: &ForgedToken,
    declared: &Declared,
) -> Option<String> {
    let parts = [
        ("claim", &token.claims, &twin.claims, &declared.claims),
        (
            "header parameter",
            &token.header,
            &twin.header,
            &declared.header,
        ),
    ];
    for (what, mine, theirs, names) in parts {
        let (mine, theirs) = (mine.as_object()?, theirs.as_object()?);
        for key in mine.keys().chain(theirs.keys()) {
            let exempt = names.contains(key) || (what == "claim" && key == "jti");
            if mine.get(key) != theirs.get(key) && !exempt {
                return Some(format!("{what} {key}"));
            }
        }
    }
    None
}

/// The seed of one step's token: the run seed mixed with the scenario ID (FNV-1a), the step
/// index and whether it is the positive twin (which needs its own `jti`).
fn token_seed(run_seed: u64, scenario_id: &str, step: usize, twin: bool) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ run_seed;
    for byte in scenario_id
        .bytes()
        .chain((step as u64).to_le_bytes())
        .chain([u8::from(twin)])
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn build_request(
    step: &Step,
    base_url: &str,
    issuers: &Issuers,
    results: &Results,
    forging: Forging,
) -> Result<(StepRecord, Outgoing), String> {
    let mut record = StepRecord::note(String::new(), "GET", String::new(), None);
    let json_type = || {
        vec![(
            "content-type".to_owned(),
            step.content_type
                .clone()
                .unwrap_or_else(|| "application/json".into()),
        )]
    };
    let outgoing = match step.action {
        Action::Audience => Outgoing {
            method: "GET".into(),
            url: format!("{base_url}/_/oidc/audience"),
            headers: Vec::new(),
            body: None,
        },
        Action::Mint | Action::MintConcurrent => {
            let body = match (&step.token, &step.body) {
                (Some(spec), _) => {
                    let forged = forge(spec, issuers, forging)?;
                    record.token = Some(
                        json!({"jwt": forged.compact, "header": forged.header, "claims": forged.claims}),
                    );
                    json!({ "token": forged.compact }).to_string()
                }
                (None, Some(body)) => results.substitute(body)?,
                (None, None) => unreachable!("the loader requires a token or a body"),
            };
            let path = step.path.as_deref().unwrap_or("/_/oidc/mint-token");
            Outgoing {
                method: "POST".into(),
                url: format!("{base_url}{path}"),
                headers: json_type(),
                body: Some(body.into_bytes()),
            }
        }
        Action::Request => {
            let body = step
                .body
                .as_deref()
                .map(|b| results.substitute(b))
                .transpose()?;
            Outgoing {
                method: step
                    .method
                    .clone()
                    .unwrap_or_else(|| "GET".into())
                    .to_ascii_uppercase(),
                url: format!("{base_url}{}", step.path.as_deref().unwrap_or("/")),
                headers: if body.is_some() {
                    json_type()
                } else {
                    Vec::new()
                },
                body: body.map(String::into_bytes),
            }
        }
        Action::Issuer | Action::Clock => {
            unreachable!("issuer and clock steps send no request of the suite's")
        }
        Action::Upload => {
            let spec = step
                .upload
                .as_ref()
                .expect("the loader requires `upload` on upload steps");
            let token = results.substitute(&spec.token)?;
            let request = upload::request(base_url, spec, &token);
            record.request_body = Some(format!(
                "multipart form: name={:?} version={:?} file={:?}",
                spec.name,
                spec.version,
                upload::sdist_filename(&spec.name, &spec.version)
            ));
            request
        }
    };
    record.method = outgoing.method.clone();
    record.url = outgoing.url.clone();
    record.sent = Some(outgoing.clone());
    if record.request_body.is_none() {
        record.request_body = outgoing
            .body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned());
    }
    Ok((record, outgoing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mock_issuer::Defect;

    fn token(claims: Value, header: Value) -> ForgedToken {
        ForgedToken {
            compact: String::new(),
            header,
            claims,
        }
    }

    fn declared(defects: &[Defect]) -> Declared {
        let spec = TokenSpec {
            defects: defects.to_vec(),
            ..TokenSpec::default()
        };
        Declared::of(&spec, &TokenSpec::default())
    }

    #[test]
    fn a_token_may_differ_from_its_twin_only_where_its_defects_say() {
        let twin = token(
            json!({"jti": "a", "repository": "o/r", "exp": 10}),
            json!({"kid": "k"}),
        );
        let expired = token(
            json!({"jti": "b", "repository": "o/r", "exp": 1}),
            json!({"kid": "k"}),
        );
        assert_eq!(
            undeclared_difference(&expired, &twin, &declared(&[Defect::Expired])),
            None,
            "exp is declared, jti is the token's own"
        );
        let renamed = token(
            json!({"jti": "a", "repository": "o/x", "exp": 10}),
            json!({"kid": "k"}),
        );
        assert_eq!(
            undeclared_difference(&renamed, &twin, &declared(&[Defect::Expired])),
            Some("claim repository".into())
        );
        assert_eq!(
            undeclared_difference(&renamed, &twin, &declared(&[Defect::RenamedRepository])),
            None
        );
        let no_kid = token(
            json!({"jti": "a", "repository": "o/r", "exp": 10}),
            json!({}),
        );
        assert_eq!(
            undeclared_difference(&no_kid, &twin, &declared(&[Defect::BadSignature])),
            Some("header parameter kid".into())
        );
        assert_eq!(
            undeclared_difference(&no_kid, &twin, &declared(&[Defect::NoKid])),
            None
        );
    }

    #[test]
    fn an_explicit_twin_may_differ_where_either_spec_names_a_claim() {
        let step: TokenSpec =
            serde_json::from_value(json!({"claims": {"environment": "staging"}})).unwrap();
        let twin: TokenSpec = serde_json::from_value(json!({"remove": ["repository"]})).unwrap();
        let names = Declared::of(&step, &twin);
        let base = token(
            json!({"environment": "pypi", "repository": "o/r"}),
            json!({}),
        );
        let other_env = token(
            json!({"environment": "staging", "repository": "o/r"}),
            json!({}),
        );
        assert_eq!(undeclared_difference(&other_env, &base, &names), None);
        let other_repo = token(
            json!({"environment": "pypi", "repository": "o/x"}),
            json!({}),
        );
        assert_eq!(undeclared_difference(&other_repo, &base, &names), None);
        let other_sha = token(
            json!({"environment": "pypi", "repository": "o/r", "sha": "1"}),
            json!({}),
        );
        assert_eq!(
            undeclared_difference(&other_sha, &base, &names),
            Some("claim sha".into())
        );
    }

    #[test]
    fn token_seeds_differ_per_scenario_step_and_twin() {
        let seeds = [
            token_seed(1, "a/b", 0, false),
            token_seed(1, "a/b", 0, true),
            token_seed(1, "a/b", 1, false),
            token_seed(1, "a/c", 0, false),
            token_seed(2, "a/b", 0, false),
        ];
        let distinct: std::collections::BTreeSet<_> = seeds.iter().collect();
        assert_eq!(distinct.len(), seeds.len());
        assert_eq!(token_seed(1, "a/b", 0, false), seeds[0], "deterministic");
    }
}
