//! One scenario's steps against its stage: issuer changes, clock moves and requests, each
//! answer judged as it arrives. A wrong decision ends the walk; so does a fault, which
//! keeps any failure found before it.

use std::time::Duration;

use tokio::task::JoinSet;

use super::request::{self, Results};
use super::setup::{self, Stage};
use super::{ScenarioRun, twin};
use crate::rig::in_process::Route;
use crate::rig::issuers::Issuers;
use crate::rig::targets::TargetError;
use crate::rig::transport::{Outgoing, Response};
use crate::scenario::model::{Exchange, IssuerChange, Request, Step, StepKind};
use crate::spec::grading::{Aspect, Strength};
use crate::suite::check::{Judgement, MintWindow, minted};
use crate::suite::outcome::{Outcome, StepRecord, Verdict};

/// Runs the scenario: the clock probe, the positive twins, then the steps on their stage.
/// The issuers of a scenario that fails or is inconclusive are kept if the run keeps them.
pub(super) async fn execute(run: &ScenarioRun<'_>, records: &mut Vec<StepRecord>) -> Verdict {
    // A scenario that needs the clock is unsupported before anything is sent, not failed
    // half-way when its clock step comes.
    let needs_clock = run
        .scenario
        .steps
        .iter()
        .any(|s| matches!(s.kind, StepKind::Clock(_)));
    if needs_clock && let Err(err) = run.target.probe_clock(run.http).await {
        return clock_verdict(err);
    }
    let mut used = Vec::new();
    let verdict = walk(run, records, &mut used).await;
    if let Some(kept) = &run.options.kept_issuers
        && matches!(verdict, Verdict::Fail | Verdict::Inconclusive { .. })
    {
        kept.keep(used);
    }
    verdict
}

fn clock_verdict(err: TargetError) -> Verdict {
    match err {
        TargetError::Unsupported(why) => Verdict::Unsupported {
            reason: format!("the target cannot move its clock: {}", why.join(", ")),
        },
        TargetError::Fault(message) => Verdict::Error { message },
    }
}

/// What the walk does after a step.
enum Flow {
    Next,
    /// A wrong decision: later steps would test something else.
    Stop,
    /// A fault or an unsupported feature ends the scenario with this verdict.
    End(Verdict),
}

async fn walk(
    run: &ScenarioRun<'_>,
    records: &mut Vec<StepRecord>,
    used: &mut Vec<Issuers>,
) -> Verdict {
    for index in 0..run.scenario.steps.len() {
        if let Some(verdict) = twin::check(run, index, records, used).await {
            return verdict;
        }
    }
    let stage = match setup::stage(run).await {
        Ok(stage) => stage,
        Err(err) => return err.verdict(None),
    };
    let mut walker = Walker {
        run,
        stage: &stage,
        results: Results::default(),
        clock_offset: 0.0,
    };
    let mut end = None;
    for (index, step) in run.scenario.steps.iter().enumerate() {
        let flow = match &step.kind {
            StepKind::Issuer(change) => walker.change_issuer(step, change, records),
            StepKind::Clock(seconds) => walker.move_clock(step, *seconds, records).await,
            StepKind::Exchange(exchange) => walker.exchange(index, step, exchange, records).await,
        };
        match flow {
            Flow::Next => {}
            Flow::Stop => break,
            Flow::End(verdict) => {
                end = Some(verdict);
                break;
            }
        }
    }
    used.push(stage.issuers);
    end.unwrap_or_else(|| Outcome::judged_verdict(records, run.options.strict))
}

struct Walker<'a> {
    run: &'a ScenarioRun<'a>,
    stage: &'a Stage,
    results: Results,
    /// How far the scenario moved the target's clock: minted tokens' lifetimes are judged
    /// on the target's time.
    clock_offset: f64,
}

impl Walker<'_> {
    fn change_issuer(
        &self,
        step: &Step,
        change: &IssuerChange,
        records: &mut Vec<StepRecord>,
    ) -> Flow {
        let url = format!("{} mock issuer", change.provider);
        let body = Some(change.written.clone());
        records.push(StepRecord::note(step.name.clone(), "ISSUER", url, body));
        match self.stage.issuers.change(change) {
            Ok(()) => Flow::Next,
            Err(message) => Flow::End(step_error(records, message)),
        }
    }

    async fn move_clock(
        &mut self,
        step: &Step,
        seconds: f64,
        records: &mut Vec<StepRecord>,
    ) -> Flow {
        let url = format!("the target's clock, {seconds} s on");
        records.push(StepRecord::note(step.name.clone(), "CLOCK", url, None));
        let run = self.run;
        let moved = run
            .target
            .advance_clock(&self.stage.prepared, seconds, run.http)
            .await;
        match moved {
            Ok(()) => {
                self.clock_offset += seconds;
                Flow::Next
            }
            Err(TargetError::Fault(message)) => Flow::End(step_error(records, message)),
            Err(unsupported) => Flow::End(clock_verdict(unsupported)),
        }
    }

    async fn exchange(
        &mut self,
        index: usize,
        step: &Step,
        exchange: &Exchange,
        records: &mut Vec<StepRecord>,
    ) -> Flow {
        let run = self.run;
        let built = request::build(
            &exchange.request,
            exchange.accept.as_deref(),
            &self.stage.prepared.base_url,
            &self.stage.issuers,
            &self.results,
            run.forging(index, false),
        );
        let (mut record, outgoing) = match built {
            Ok(built) => built,
            Err(message) => {
                records.push(StepRecord::note(
                    step.name.clone(),
                    "-",
                    String::new(),
                    None,
                ));
                return Flow::End(step_error(records, message));
            }
        };
        record.name = step.name.clone();
        let sent_at = mock_issuer::time::unix_now();
        let sent = self.send(&exchange.request, &outgoing).await;
        let window = MintWindow {
            earliest: sent_at + self.clock_offset,
            latest: mock_issuer::time::unix_now() + self.clock_offset,
        };
        let responses = match sent {
            Ok(responses) => responses,
            Err(message) => {
                records.push(record);
                return Flow::End(step_error(records, message));
            }
        };
        let (response, mut judgement) = self.judge(exchange, responses, window);
        self.results.record(&step.name, &record, &response);
        let judge = &run.judge;
        let fetched = judge.issuer_requests(&exchange.expect, |e| self.stage.issuers.hits(e));
        let discovered = judge.discovery(exchange, &response, &outgoing.url);
        for found in [fetched, discovered] {
            judgement.judged.extend(found.judged);
            judgement.mismatches.extend(found.mismatches);
        }
        record.judged = judgement.judged;
        record.mismatches = judgement.mismatches;
        record.response = Some(response);
        // A wrong decision changes what later steps would test (a token minted that must
        // not be, an upload refused that should pass), so the scenario ends there; any
        // other mismatch is recorded and the steps go on, so a wrong envelope cannot hide
        // a wrong decision later.
        let strict = run.options.strict;
        let wrong_decision = record
            .mismatches
            .iter()
            .any(|m| m.aspect == Aspect::Decision && (m.strength == Strength::Must || strict));
        records.push(record);
        if wrong_decision {
            Flow::Stop
        } else {
            Flow::Next
        }
    }

    /// Sends the request, `count` times at once for a `mint-concurrent` step.
    async fn send(&self, request: &Request, outgoing: &Outgoing) -> Result<Vec<Response>, String> {
        let route = self.stage.prepared.route(self.run.http);
        let timeout = self.run.options.request_timeout;
        match request {
            Request::MintConcurrent { count, .. } => {
                send_concurrently(&route, outgoing, *count, timeout).await
            }
            _ => route
                .send(outgoing, timeout)
                .await
                .map(|response| vec![response]),
        }
    }

    /// The answer to keep and its judgement.
    fn judge(
        &self,
        exchange: &Exchange,
        responses: Vec<Response>,
        window: MintWindow,
    ) -> (Response, Judgement) {
        let judge = &self.run.judge;
        match exchange.request {
            Request::MintConcurrent { successes, .. } => {
                judge_concurrent(judge, exchange, successes, responses, window)
            }
            _ => {
                let response = responses.into_iter().next().unwrap_or_else(no_response);
                let judgement = judge.step(exchange, &response, window);
                (response, judgement)
            }
        }
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

/// Sends the same request `count` times at once.
async fn send_concurrently(
    route: &Route,
    outgoing: &Outgoing,
    count: usize,
    timeout: Duration,
) -> Result<Vec<Response>, String> {
    let mut running = JoinSet::new();
    for _ in 0..count {
        let (route, outgoing) = (route.clone(), outgoing.clone());
        running.spawn(async move { route.send(&outgoing, timeout).await });
    }
    let mut responses = Vec::new();
    while let Some(joined) = running.join_next().await {
        responses.push(joined.map_err(|e| format!("a concurrent request failed: {e}"))??);
    }
    Ok(responses)
}

/// Judges a `mint-concurrent` step: how many minted against `successes`, and every refusal
/// as the step's refusal. The answer kept is the first refusal that broke a check, else the
/// first refusal, else the first answer.
fn judge_concurrent(
    judge: &crate::suite::check::Judge,
    exchange: &Exchange,
    successes: usize,
    responses: Vec<Response>,
    window: MintWindow,
) -> (Response, Judgement) {
    let count = responses.len();
    let minted_count = responses.iter().filter(|r| minted(r)).count();
    let mut judgement = judge.successes(successes, minted_count, count);
    let mut shown: Option<(Response, Judgement)> = None;
    for response in responses.iter().filter(|r| !minted(r)) {
        let found = judge.step(exchange, response, window);
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
