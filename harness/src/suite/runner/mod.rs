//! Runs scenarios against a target: fresh mock issuers and fresh target state per
//! scenario, then the steps in order, each judged as soon as its answer arrives.
//!
//! One scenario's walk: [`run_one`] decides whether it runs at all (the expectations file,
//! the run's level); `steps` checks each refusal's positive twin (`twin`) on a stage of its
//! own, sets the steps' stage up (`setup`: issuers, then the target), and sends each step's
//! request (`request`) to be judged by [`crate::suite::check`]; the expectations file
//! settles the outcome.
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `request`, `setup` < `twin` < `steps`

mod request;
mod setup;
mod steps;
mod twin;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::rig::issuers::{IssuerSetup, Issuers};
use crate::rig::targets::Target;
use crate::scenario::model::{Level, Scenario};
use crate::suite::check::Judge;
use crate::suite::expectations::Expectations;
use crate::suite::outcome::{Outcome, Verdict};
use request::{Forging, token_seed};

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
    /// How each scenario's mock issuers start (http or https, the run's CA, the issuer
    /// proxy routed to them).
    pub issuers: IssuerSetup,
    /// How long one request may take before the step is a harness error.
    pub request_timeout: Duration,
    /// Known failures and unsupported scenarios (`--expectations`).
    pub expectations: Option<Arc<Expectations>>,
    /// Every forged token's random parts (`jti`, unknown `kid`s) derive from this, the
    /// scenario ID and the step, so `--seed` replays a run's tokens exactly.
    pub seed: u64,
    /// A missed SHOULD fails the scenario instead of being an advisory (`--strict`).
    pub strict: bool,
    /// Where failed scenarios leave their mock issuers running (`--keep-issuers`), so the
    /// report's `curl` lines of forged tokens still verify.
    pub kept_issuers: Option<Arc<KeptIssuers>>,
}

/// The mock issuers of failed scenarios (each scenario's steps' and its positive twins'),
/// kept up until this is dropped.
#[derive(Default)]
pub struct KeptIssuers(std::sync::Mutex<Vec<Vec<Issuers>>>);

impl std::fmt::Debug for KeptIssuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeptIssuers({})", self.len())
    }
}

impl KeptIssuers {
    fn keep(&self, issuers: Vec<Issuers>) {
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
            issuers: IssuerSetup::default(),
            request_timeout: REQUEST_TIMEOUT,
            expectations: None,
            seed: 0,
            strict: false,
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
    let run = ScenarioRun {
        scenario,
        target,
        options,
        http,
        judge: Judge {
            scenario_level: scenario.level,
            scenario_rules: scenario.rules.clone(),
            run_level: options.level,
            judge_info: options.judge_info,
        },
        now: mock_issuer::time::unix_now(),
    };
    let mut steps = Vec::new();
    let expectations = options.expectations.as_deref();
    let verdict = if let Some(verdict) = expectations.and_then(|e| e.skip(&scenario.id)) {
        verdict
    } else if run.judge.judges(scenario.level) {
        steps::execute(&run, &mut steps).await
    } else {
        Verdict::Skip {
            reason: format!(
                "a {} scenario is not judged in a {} run",
                scenario.level, options.level
            ),
        }
    };
    let mut outcome = Outcome {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        level: scenario.level,
        rules: scenario.rules.clone(),
        verdict,
        steps,
        millis: started.elapsed().as_millis() as u64,
    };
    if let Some(expectations) = expectations {
        expectations.settle(&mut outcome);
    }
    outcome
}

/// What every part of one scenario's run reads.
struct ScenarioRun<'a> {
    scenario: &'a Scenario,
    target: &'a Target,
    options: &'a RunOptions,
    http: &'a reqwest::Client,
    judge: Judge,
    /// The moment every token of the scenario is made at, so a token and its positive twin
    /// differ only where the defects say.
    now: f64,
}

impl ScenarioRun<'_> {
    /// How step `index`'s token (or its positive twin's) is made.
    fn forging(&self, index: usize, twin: bool) -> Forging {
        Forging {
            seed: token_seed(self.options.seed, &self.scenario.id, index, twin),
            now: self.now,
        }
    }
}
