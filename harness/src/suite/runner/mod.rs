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
use crate::rig::transport;
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
    /// Scenarios in flight at once against the embedded target ([`run_on`] runs one per
    /// instance on others).
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
    /// After this many scenarios in a row end in an error, the rest are not run: a dead or
    /// hung target costs seconds, not a timeout per scenario. `None` runs everything
    /// (`--keep-going`).
    pub stop_after_errors: Option<usize>,
}

/// How many scenarios in a row may end in an error before a run stops (the default of
/// [`RunOptions::stop_after_errors`]).
pub const STOP_AFTER_ERRORS: usize = 3;

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
    /// advisories not failures, stopped after [`STOP_AFTER_ERRORS`] errors in a row.
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
            stop_after_errors: Some(STOP_AFTER_ERRORS),
        }
    }
}

/// Runs every scenario against `target` (the embedded one `options.jobs` at a time, any
/// other one at a time); `on_outcome` sees each outcome as it is decided. Returns the
/// outcomes in scenario order.
pub async fn run(
    scenarios: Vec<Scenario>,
    target: &Target,
    options: &RunOptions,
    on_outcome: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    let instances = if target.is_reference() {
        options.jobs.max(1)
    } else {
        1
    };
    run_on(
        scenarios,
        &vec![target.clone(); instances],
        options,
        on_outcome,
    )
    .await
}

/// Runs every scenario, each on whichever of `instances` is free, one scenario per instance
/// at a time (each instance holds one fixture state). With several instances of a remote
/// target, each outcome names the instance it ran on. Returns the outcomes in scenario
/// order; after [`RunOptions::stop_after_errors`] errors in a row, the scenarios not yet
/// decided are [`Verdict::NotRun`].
pub async fn run_on(
    scenarios: Vec<Scenario>,
    instances: &[Target],
    options: &RunOptions,
    mut on_outcome: impl FnMut(&Outcome),
) -> Vec<Outcome> {
    assert!(!instances.is_empty(), "a run needs a target");
    let named = instances.len() > 1 && !instances[0].is_reference();
    let free = Arc::new(InstancePool::new(instances));
    let http = transport::Client::new(options.request_timeout);
    let mut running = JoinSet::new();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; scenarios.len()];
    let mut not_run = Vec::new();
    for (index, scenario) in scenarios.into_iter().enumerate() {
        not_run.push(NotRun::of(&scenario));
        let (free, options, http) = (free.clone(), options.clone(), http.clone());
        running.spawn(async move {
            let (target, _taken) = free.take().await;
            let mut outcome = run_one(&scenario, &target, &options, &http).await;
            if named {
                outcome.instance = Some(target.describe());
            }
            (index, outcome)
        });
    }
    let mut errors_in_a_row = 0;
    while let Some(joined) = running.join_next().await {
        let (index, outcome) = joined.expect("scenario tasks do not panic");
        // A scenario decided without the target (skipped by level, listed as unsupported)
        // says nothing about whether it is alive.
        errors_in_a_row = match outcome.verdict {
            Verdict::Error { .. } => errors_in_a_row + 1,
            Verdict::Skip { .. } | Verdict::Unsupported { .. } => errors_in_a_row,
            _ => 0,
        };
        on_outcome(&outcome);
        outcomes[index] = Some(outcome);
        if options
            .stop_after_errors
            .is_some_and(|limit| errors_in_a_row >= limit)
        {
            running.abort_all();
            let reason = format!(
                "the run stopped after {errors_in_a_row} scenarios in a row ended in an error"
            );
            for (index, slot) in outcomes.iter_mut().enumerate() {
                if slot.is_none() {
                    let outcome = not_run[index].outcome(&reason);
                    on_outcome(&outcome);
                    *slot = Some(outcome);
                }
            }
            break;
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.expect("every scenario ran or is marked not run"))
        .collect()
}

/// The instances of a run's target not running a scenario now.
struct InstancePool {
    targets: Vec<Target>,
    free: std::sync::Mutex<Vec<usize>>,
    available: Semaphore,
}

/// An instance taken from the pool; it is free again when this is dropped.
struct Taken(Arc<InstancePool>, usize);

impl Drop for Taken {
    fn drop(&mut self) {
        let Taken(pool, index) = self;
        pool.free
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(*index);
        pool.available.add_permits(1);
    }
}

impl InstancePool {
    fn new(targets: &[Target]) -> Self {
        InstancePool {
            targets: targets.to_vec(),
            // Popped from the end: the first instance is taken first.
            free: std::sync::Mutex::new((0..targets.len()).rev().collect()),
            available: Semaphore::new(targets.len()),
        }
    }

    /// Waits for a free instance.
    async fn take(self: &Arc<Self>) -> (Target, Taken) {
        self.available
            .acquire()
            .await
            .expect("the pool's semaphore stays open")
            .forget();
        let index = self
            .free
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .expect("a permit means a free instance");
        (self.targets[index].clone(), Taken(self.clone(), index))
    }
}

/// What a scenario's outcome says if the run stops before it is decided.
struct NotRun {
    id: String,
    title: String,
    level: Level,
    rules: Vec<String>,
}

impl NotRun {
    fn of(scenario: &Scenario) -> Self {
        NotRun {
            id: scenario.id.clone(),
            title: scenario.title.clone(),
            level: scenario.level,
            rules: scenario.rules.clone(),
        }
    }

    fn outcome(&self, reason: &str) -> Outcome {
        Outcome {
            id: self.id.clone(),
            title: self.title.clone(),
            level: self.level,
            rules: self.rules.clone(),
            verdict: Verdict::NotRun {
                reason: reason.to_owned(),
            },
            steps: Vec::new(),
            millis: 0,
            instance: None,
        }
    }
}

pub async fn run_one(
    scenario: &Scenario,
    target: &Target,
    options: &RunOptions,
    http: &transport::Client,
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
        instance: None,
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
    http: &'a transport::Client,
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
