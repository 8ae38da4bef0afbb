//! A fuzz campaign: cases generated from one seed, each judged against the invariants and
//! (optionally) the reference registry, failures shrunk to their smallest form.
//!
//! Case `i` of seed `s` is generated from its own RNG, seeded from `(s, i)` alone, so a
//! shard (`i ≡ K-1 mod N`) or a single case (`--case i`) replays exactly what a whole run
//! would have generated for it.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mock_issuer::ForgedToken;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::case::Case;
use super::endpoint::{Endpoint, inline_keys};
use super::exchange::{self, Exchange};
use super::generate;
use super::invariant::{self, Invariant, Trust, Violation};
use crate::rig::issuers::{IssuerSetup, Issuers, with_fixture};
use crate::rig::targets::{Target, TargetError};
use crate::scenario::model::Fixture;
use reference_registry::FixtureDocument;

#[derive(Clone, Debug)]
pub struct FuzzOptions {
    pub seed: u64,
    /// Cases this shard runs; `None`: until `duration` is over or [`Stop`] is set.
    pub cases: Option<u64>,
    pub duration: Option<Duration>,
    pub shard: Shard,
    /// Run only this case (its index in the seed's sequence), as a report's rerun does.
    pub only_case: Option<u64>,
    /// How long one request may take: longer is a hang.
    pub timeout: Duration,
    /// Compare every answer with the reference registry's (the differential oracle).
    pub against_reference: bool,
    /// How many smaller cases shrinking tries, at most, for one failure.
    pub shrink_iterations: u32,
    /// How long shrinking one failure may take, at most.
    pub shrink_time: Duration,
    /// How the campaign's mock issuers start (https with the run's CA, the issuer proxy
    /// routed to them).
    pub issuers: IssuerSetup,
    /// Add PEP 807 to the cases: discovery before the mint, `features` in its body, and
    /// their invariants. Off, the cases of a seed are those of earlier versions.
    pub pep807: bool,
    pub stop: Stop,
}

/// How long one request may take by default before it counts as a hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How many smaller cases shrinking tries by default.
pub const DEFAULT_SHRINK_ITERATIONS: u32 = 512;

impl Default for FuzzOptions {
    /// Seed 0, 1000 cases, one shard, 5 s per request, no oracle, shrinking up to 512 tries
    /// or 60 s.
    fn default() -> Self {
        FuzzOptions {
            seed: 0,
            cases: Some(1000),
            duration: None,
            shard: Shard::WHOLE,
            only_case: None,
            timeout: DEFAULT_TIMEOUT,
            against_reference: false,
            shrink_iterations: DEFAULT_SHRINK_ITERATIONS,
            shrink_time: Duration::from_secs(60),
            issuers: IssuerSetup::default(),
            pep807: false,
            stop: Stop::default(),
        }
    }
}

/// Set from outside (Ctrl-C) to end a campaign after the current case, with its report.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    pub fn request(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Shard `index + 1` of `count`: the cases whose index is `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };
}

impl FromStr for Shard {
    type Err = String;

    /// `K/N` with 1 ≤ K ≤ N.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("shard {text:?}: expected K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n): (u64, u64) = (k.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// How a campaign is going, after each case.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub cases: u64,
    pub failures: usize,
    pub elapsed: Duration,
}

/// One case run against the target (and the reference), judged.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub token: Option<ForgedToken>,
    pub target: Vec<Exchange>,
    pub reference: Option<Vec<Exchange>>,
    pub violations: Vec<Violation>,
}

/// A fault, shrunk: the smallest case found that still shows it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub violation: Violation,
    /// Index of the case that first showed it (`--case` reruns it).
    pub case_index: u64,
    pub case: Case,
    /// How the smallest case went; `reference` is always filled in, for its scenario.
    pub evaluation: Evaluation,
    /// Smaller cases shrinking tried.
    pub shrink_tries: u32,
    /// Cases that showed the same fault (same invariant and rule), this one included.
    pub occurrences: u64,
}

#[derive(Clone, Debug)]
pub struct FuzzReport {
    pub seed: u64,
    pub shard: Shard,
    pub cases: u64,
    /// Cases not judged, by reason (the target could not set their fixture up).
    pub skipped: BTreeMap<String, u64>,
    pub failures: Vec<Failure>,
    /// Differences from the reference registry, by the spec rule behind them.
    pub differences: BTreeMap<String, u64>,
    /// The target's answers to the cases' mint requests (`200`, `422 invalid-token`, ...):
    /// the mix shows which checks the cases reached.
    pub mint_answers: BTreeMap<String, u64>,
    /// Cases that sent a forged (RS256-signed) token: the rest sent a raw body.
    pub forged: u64,
    pub elapsed: Duration,
    pub stopped: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("starting the mock issuers: {0}")]
    Issuers(String),
    /// The target cannot be reached or set up: nothing it answered is judged.
    #[error("{0}")]
    Target(String),
    #[error("generating case {index}: {reason}")]
    Generate { index: u64, reason: String },
}

/// Runs a campaign against `target`; `on_progress` sees every case.
pub async fn run(
    target: &Target,
    options: &FuzzOptions,
    mut on_progress: impl FnMut(&Progress),
) -> Result<FuzzReport, FuzzError> {
    let mut campaign = Campaign::start(target, options).await?;
    let strategy = if options.pep807 {
        generate::pep807::case()
    } else {
        generate::case()
    };
    let started = Instant::now();
    let mut report = FuzzReport {
        seed: options.seed,
        shard: options.shard,
        cases: 0,
        skipped: BTreeMap::new(),
        failures: Vec::new(),
        differences: BTreeMap::new(),
        mint_answers: BTreeMap::new(),
        forged: 0,
        elapsed: Duration::ZERO,
        stopped: false,
    };
    let mut index = options.only_case.unwrap_or(options.shard.index);
    loop {
        let budget_left = match options.only_case {
            Some(_) => report.cases == 0,
            None => {
                options.cases.is_none_or(|n| report.cases < n)
                    && options.duration.is_none_or(|d| started.elapsed() < d)
            }
        };
        if !budget_left {
            break;
        }
        if options.stop.requested() {
            report.stopped = true;
            break;
        }
        let mut tree = new_tree(&strategy, options.seed, index)?;
        let case = tree.current();
        match campaign.evaluate(&case, index).await? {
            Judged::Skipped(reason) => *report.skipped.entry(reason).or_default() += 1,
            Judged::Done(evaluation) => {
                report.forged += u64::from(evaluation.token.is_some());
                let mint = evaluation
                    .target
                    .iter()
                    .find(|e| e.kind == exchange::StepKind::Mint);
                if let Some(mint) = mint {
                    *report.mint_answers.entry(mint.summary()).or_default() += 1;
                }
                campaign
                    .record(&mut report, tree.as_mut(), case, evaluation, index)
                    .await?;
            }
        }
        report.cases += 1;
        on_progress(&Progress {
            cases: report.cases,
            failures: report.failures.len(),
            elapsed: started.elapsed(),
        });
        index += options.shard.count;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

fn new_tree(
    strategy: &BoxedStrategy<Case>,
    seed: u64,
    index: u64,
) -> Result<Box<dyn ValueTree<Value = Case>>, FuzzError> {
    let mut runner = TestRunner::new_with_rng(Config::default(), case_rng(seed, index));
    strategy
        .new_tree(&mut runner)
        .map_err(|reason| FuzzError::Generate {
            index,
            reason: reason.to_string(),
        })
}

/// SplitMix64: spreads `(seed, index)` over the 32 bytes ChaCha wants.
fn case_rng(seed: u64, index: u64) -> TestRng {
    let mut state = seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

enum Judged {
    Done(Evaluation),
    Skipped(String),
}

struct Campaign<'a> {
    options: &'a FuzzOptions,
    issuers: Issuers,
    /// The documents trusting the issuers, which every case's fixture document starts from:
    /// with discovery URLs for HTTP targets, with inline keys only for in-process ones.
    trusting: FixtureDocument,
    trusting_inline: FixtureDocument,
    trust: Trust,
    target: Endpoint,
    /// The oracle; also what a saved scenario's expectations come from.
    reference: Endpoint,
    /// Which faults were seen, and their failure's place in the report.
    seen: BTreeMap<(Invariant, String), usize>,
}

impl<'a> Campaign<'a> {
    async fn start(target: &Target, options: &'a FuzzOptions) -> Result<Campaign<'a>, FuzzError> {
        let issuers = options
            .issuers
            // Shared by both endpoints: an in-process oracle is given the keys inline.
            .start(&Fixture::default(), false)
            .await
            .map_err(|e| FuzzError::Issuers(e.to_string()))?;
        let trusting = issuers.trusting();
        let trust = Trust::of(&trusting);
        let endpoint = match target {
            Target::Reference => Endpoint::reference(false),
            Target::Remote { .. } => {
                Endpoint::http(target.clone(), options.timeout).map_err(FuzzError::Target)?
            }
        };
        let mut campaign = Campaign {
            options,
            issuers,
            trusting_inline: inline_keys(trusting.clone()),
            trusting,
            trust,
            target: endpoint,
            reference: Endpoint::reference(true),
            seen: BTreeMap::new(),
        };
        // Reachable and willing, before a case is blamed for anything.
        let empty = campaign.document_for(campaign.target.in_process(), &Fixture::default());
        campaign
            .target
            .reset(&empty)
            .await
            .map_err(|e| FuzzError::Target(format!("setting up the target: {e}")))?;
        Ok(campaign)
    }

    async fn evaluate(&mut self, case: &Case, index: u64) -> Result<Judged, FuzzError> {
        let now = mock_issuer::time::unix_now();
        let token = match case.token() {
            Some(spec) => {
                let audience = case.fixture.audience.as_deref().unwrap_or("pypi");
                let builder = self
                    .issuers
                    .token_for(spec.profile(), audience)
                    .seed(token_seed(self.options.seed, index))
                    .at(now);
                match spec.apply(builder).sign() {
                    Ok(token) => Some(token),
                    Err(e) => {
                        return Ok(Judged::Skipped(format!(
                            "the mock issuer cannot forge it: {e}"
                        )));
                    }
                }
            }
            None => None,
        };
        let timeout = self.options.timeout;
        let document = self.document_for(self.target.in_process(), &case.fixture);
        let target =
            match exchange::run(case, token.as_ref(), &mut self.target, &document, timeout).await {
                Ok(exchanges) => exchanges,
                Err(TargetError::Unsupported(what)) => {
                    return Ok(Judged::Skipped(format!(
                        "the target cannot set up: {}",
                        what.join(", ")
                    )));
                }
                Err(TargetError::Fault(message)) => return Err(FuzzError::Target(message)),
            };
        let doom = token
            .as_ref()
            .and_then(|t| invariant::doom(case, t, &self.trust, now));
        let origin = self.target.origin();
        let mut violations =
            invariant::check(case, token.as_ref(), doom.as_ref(), &target, &origin);
        let reference = if self.options.against_reference {
            let reference = self.run_reference(case, token.as_ref()).await?;
            violations.extend(invariant::compare(case, &target, &reference));
            Some(reference)
        } else {
            None
        };
        Ok(Judged::Done(Evaluation {
            token,
            target,
            reference,
            violations,
        }))
    }

    fn document_for(&self, in_process: bool, fixture: &Fixture) -> FixtureDocument {
        let trusting = if in_process {
            &self.trusting_inline
        } else {
            &self.trusting
        };
        with_fixture(trusting.clone(), fixture)
    }

    async fn run_reference(
        &mut self,
        case: &Case,
        token: Option<&ForgedToken>,
    ) -> Result<Vec<Exchange>, FuzzError> {
        let document = self.document_for(true, &case.fixture);
        exchange::run(
            case,
            token,
            &mut self.reference,
            &document,
            self.options.timeout,
        )
        .await
        .map_err(|e| FuzzError::Target(format!("the reference registry: {e}")))
    }

    /// Counts the case's faults; a fault seen for the first time is shrunk and reported.
    async fn record(
        &mut self,
        report: &mut FuzzReport,
        tree: &mut dyn ValueTree<Value = Case>,
        case: Case,
        evaluation: Evaluation,
        index: u64,
    ) -> Result<(), FuzzError> {
        for violation in &evaluation.violations {
            if violation.invariant == Invariant::SameAsReference {
                *report
                    .differences
                    .entry(violation.rule.clone())
                    .or_default() += 1;
            }
        }
        let mut new = None;
        for violation in &evaluation.violations {
            match self.seen.get(&violation.signature()) {
                Some(&place) => report.failures[place].occurrences += 1,
                None if new.is_none() => new = Some(violation.clone()),
                None => {}
            }
        }
        let Some(violation) = new else {
            return Ok(());
        };
        let signature = violation.signature();
        let (case, mut evaluation, shrink_tries) = self
            .shrink(tree, case, evaluation, &signature, index)
            .await?;
        if evaluation.reference.is_none() {
            let reference = self.run_reference(&case, evaluation.token.as_ref()).await?;
            evaluation.reference = Some(reference);
        }
        let violation = evaluation
            .violations
            .iter()
            .find(|v| v.signature() == signature)
            .cloned()
            .unwrap_or(violation);
        self.seen.insert(signature, report.failures.len());
        report.failures.push(Failure {
            violation,
            case_index: index,
            case,
            evaluation,
            shrink_tries,
            occurrences: 1,
        });
        Ok(())
    }

    /// proptest's shrinking, driven by hand: simplify while the fault stays, complicate when
    /// it goes, until neither is possible or the budget is spent.
    async fn shrink(
        &mut self,
        tree: &mut dyn ValueTree<Value = Case>,
        mut smallest: Case,
        mut evaluation: Evaluation,
        signature: &(Invariant, String),
        index: u64,
    ) -> Result<(Case, Evaluation, u32), FuzzError> {
        let started = Instant::now();
        let mut tries = 0;
        if !tree.simplify() {
            return Ok((smallest, evaluation, tries));
        }
        while tries < self.options.shrink_iterations && started.elapsed() < self.options.shrink_time
        {
            tries += 1;
            let candidate = tree.current();
            let still_fails = match self.evaluate(&candidate, index).await? {
                Judged::Done(found)
                    if found.violations.iter().any(|v| &v.signature() == signature) =>
                {
                    smallest = candidate;
                    evaluation = found;
                    true
                }
                _ => false,
            };
            let moved = if still_fails {
                tree.simplify()
            } else {
                tree.complicate()
            };
            if !moved {
                break;
            }
        }
        Ok((smallest, evaluation, tries))
    }
}

/// The seed of case `index`'s token (its `jti`, unknown `kid`s).
fn token_seed(seed: u64, index: u64) -> u64 {
    let mut state = seed.rotate_left(17) ^ index;
    splitmix64(&mut state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_say_what_is_wrong() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        assert_eq!("1/1".parse::<Shard>(), Ok(Shard::WHOLE));
        for bad in ["0/4", "5/4", "4", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().unwrap_err().contains("K/N"), "{bad}");
        }
        assert_eq!(Shard { index: 1, count: 4 }.to_string(), "2/4");
    }

    #[test]
    fn a_case_depends_only_on_the_seed_and_its_index() {
        let strategy = generate::case();
        let case =
            |seed, index| format!("{:?}", new_tree(&strategy, seed, index).unwrap().current());
        assert_eq!(case(7, 3), case(7, 3));
        let distinct: std::collections::BTreeSet<String> = (0..20).map(|i| case(7, i)).collect();
        assert!(distinct.len() > 15, "{}", distinct.len());
        assert_ne!(case(7, 3), case(8, 3));
    }
}
