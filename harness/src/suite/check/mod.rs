//! Judging one answer: every check a step implies, each graded by the rule that demands it.
//!
//! A step's expected *decision* (minted or refused, uploaded or not) follows from its
//! status (2xx or not) or its grade. From the decision follow the checks every answer of
//! that kind gets, the same for every scenario: a refused mint is a 422 with the error
//! envelope and one of the expected codes (R-RESP-6, R-ORDER-1 and the scenario's rules); a mint is a 200 whose
//! `token` is a non-empty string, with `expires` (a SHOULD at core) ending a lifetime of
//! 900 s to 6 h (R-RESP-3, R-RESP-4, R-TOK-2); PyPI's exact bodies only at pypi-exact. On
//! top come the matchers the scenario writes, each at its own level and strength.

mod envelope;
mod matchers;
mod pep807;

use std::collections::BTreeSet;

use serde_json::Value;

pub use envelope::{MintWindow, is_error_envelope, is_success_envelope, minted};
pub use matchers::{Miss, json_mismatches};

use crate::rig::transport::{Response, shorten};
use crate::scenario::model::{
    Answer, CountRange, Exchange, Expect, Grading, JsonMatch, Request, TextMatch, TextMatches,
};
use crate::spec::grading::{Aspect, Demand, Level, Strength};
use crate::spec::rules::{self, ErrorCode};
use crate::suite::outcome::Mismatch;

/// The media types a PEP 807 client may be answered in: JSON, the PEP's own, RFC 9457's.
const PEP807_MEDIA_TYPES: [&str; 3] = [
    "application/json",
    reference_registry::pep807::MEDIA_TYPE,
    reference_registry::pep807::PROBLEM_MEDIA_TYPE,
];

/// What one answer was judged on, and where it fell short.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Judgement {
    pub judged: BTreeSet<Aspect>,
    pub mismatches: Vec<Mismatch>,
}

/// Judges the answers of one scenario in a run at `run_level`.
#[derive(Clone, Debug)]
pub struct Judge {
    /// The scenario's level: the default level of its checks.
    pub scenario_level: Level,
    /// The scenario's rules: the default rules of its checks.
    pub scenario_rules: Vec<String>,
    /// The level of the run: `core`, `pypi-exact` or `pep807`.
    pub run_level: Level,
    /// Whether `info` checks are judged (only against the reference registry).
    pub judge_info: bool,
}

/// What a step expects of its answer's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    /// Minted, uploaded, answered: a 2xx.
    Accept,
    /// Refused.
    Refuse,
    /// Refused by a body-size limit (§17 item 5): 413, or a 422 envelope.
    RefuseTooLarge,
    /// Either is right (a graded divergence); the answer is judged as what it is.
    Either,
}

impl Judge {
    pub fn judges(&self, level: Level) -> bool {
        match level {
            Level::Info => self.judge_info,
            level => self.run_level.judges(level),
        }
    }

    /// The demand of a check the scenario wrote: its grading over the scenario's level and
    /// rules, a MUST unless it says otherwise.
    pub fn written(&self, aspect: Aspect, grading: &Grading) -> Demand {
        let level = grading.level.unwrap_or(self.scenario_level);
        Demand {
            aspect,
            rules: grading
                .rule
                .clone()
                .map_or_else(|| self.rules_at(level), |rule| vec![rule]),
            level,
            strength: grading.strength.unwrap_or_default(),
        }
    }

    /// The scenario's rules in force at `level` (a core check does not cite a pypi-exact
    /// rule), or all of them if none is.
    fn rules_at(&self, level: Level) -> Vec<String> {
        let in_force: Vec<String> = self
            .scenario_rules
            .iter()
            .filter(|rule| rules::level_of(rule).is_some_and(|r| level.judges(r.level)))
            .cloned()
            .collect();
        if in_force.is_empty() {
            self.scenario_rules.clone()
        } else {
            in_force
        }
    }

    /// Judges a step's answer: its decision first, then (if that was right) how the
    /// answer is put.
    pub fn step(&self, exchange: &Exchange, response: &Response, window: MintWindow) -> Judgement {
        let mut findings = Findings::new(self);
        findings.pep807_client = exchange.asks_pep807();
        let graded = self.graded(&exchange.request);
        let expected = match graded {
            Some(Answer::Accept) => Expected::Accept,
            Some(Answer::Reject) => Expected::Refuse,
            Some(Answer::TooLarge) => Expected::RefuseTooLarge,
            Some(Answer::Either) => Expected::Either,
            None => match exchange.expect.status_value() {
                Some(status) if (200..300).contains(&status) => Expected::Accept,
                Some(_) => Expected::Refuse,
                None => Expected::Either,
            },
        };
        let accepted = accepted(&exchange.request, response);
        if expected != Expected::Either {
            findings.decision(exchange, expected == Expected::Accept, accepted, response);
            // An answer that decided wrongly is not judged on how it is put: a minted
            // token has no error envelope to compare, and listing that would bury the
            // one mismatch that matters.
            if !findings.judgement.mismatches.is_empty() {
                return findings.judgement;
            }
        }
        let accept = match expected {
            Expected::Accept => true,
            Expected::Either => accepted,
            Expected::Refuse | Expected::RefuseTooLarge => false,
        };
        let expect = &exchange.expect;
        match &exchange.request {
            Request::Mint(_) | Request::MintConcurrent { .. } if accept => {
                findings.success(graded.is_some().then_some(200), expect, response, window);
            }
            Request::Mint(_) | Request::MintConcurrent { .. } => match (graded, expected) {
                (_, Expected::RefuseTooLarge) if response.status == 413 => {}
                (Some(_), _) => findings.refusal(None, None, response),
                (None, _) => findings.refusal(
                    expect
                        .status
                        .as_ref()
                        .map(|s| (*s.at(self.run_level), &s.grading)),
                    expect
                        .code
                        .as_ref()
                        .map(|c| (c.at(self.run_level).0.as_slice(), &c.grading)),
                    response,
                ),
            },
            Request::Upload(_) => {
                let default =
                    accept.then(|| Demand::must(Aspect::Status, "R-UP-2", Level::PypiExact));
                findings.status(expect, response, default);
            }
            Request::Audience => {
                if accept {
                    findings.media_type(response);
                }
                let default = accept.then(|| Demand::must(Aspect::Status, "R-EP-1", Level::Core));
                findings.status(expect, response, default);
            }
            Request::Http(_) | Request::Discover { .. } => {
                findings.status(expect, response, None);
            }
        }
        findings.problem_details(exchange, response);
        if graded.is_none() {
            findings.matchers(expect, response);
        }
        findings.judgement
    }

    /// The grade that decides the step at this run's level, if one does.
    fn graded(&self, request: &Request) -> Option<Answer> {
        let grade = request.grade()?;
        match self.run_level {
            // A pep807 run judges what core judges, as core does.
            Level::Core | Level::Pep807 => Some(grade.core),
            Level::PypiExact => grade.pypi_exact,
            Level::Info => None,
        }
    }

    /// `expect.successes`: how many of a `mint-concurrent` step's identical requests minted.
    pub fn successes(&self, expected: usize, minted: usize, count: usize) -> Judgement {
        let mut findings = Findings::new(self);
        let demand = self.written(Aspect::Decision, &Grading::default());
        findings.check(demand, || {
            (expected != minted).then(|| {
                Miss::new(
                    "successes",
                    format!("{expected} of {count} identical requests minted"),
                    format!("{minted} of {count}"),
                )
            })
        });
        findings.judgement
    }

    /// `expect.issuer_requests`: what the target fetched from the mock issuers. Fetching an
    /// attacker's URL is a decision (the target acted on a forged header), not a detail.
    pub fn issuer_requests(&self, expect: &Expect, count: impl Fn(&str) -> usize) -> Judgement {
        let mut findings = Findings::new(self);
        for (endpoint, range) in &expect.issuer_requests {
            let demand = self.written(Aspect::Decision, &Grading::default());
            findings.check(demand, || {
                request_count_miss(endpoint, *range, count(endpoint))
            });
        }
        findings.judgement
    }
}

fn request_count_miss(endpoint: &str, range: CountRange, seen: usize) -> Option<Miss> {
    let low = range.min.is_some_and(|min| seen < min);
    let high = range.max.is_some_and(|max| seen > max);
    if !(low || high) {
        return None;
    }
    let bound = match (range.min, range.max) {
        (Some(min), Some(max)) => format!("{min} to {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => String::new(),
    };
    Some(Miss::new(
        format!("issuer requests: {endpoint}"),
        format!("{bound} since the scenario began"),
        seen.to_string(),
    ))
}

/// Whether the target said yes: a mint answered with a token, any other request with a 2xx.
fn accepted(request: &Request, response: &Response) -> bool {
    if request.is_mint() {
        minted(response)
    } else {
        (200..300).contains(&response.status)
    }
}

fn decision_miss(request: &Request, want: bool, response: &Response) -> Miss {
    let (yes, no) = match request {
        Request::Mint(_) | Request::MintConcurrent { .. } => {
            ("minted a token", "refused: no token minted")
        }
        Request::Upload(_) => ("uploaded (2xx)", "refused the upload"),
        Request::Audience | Request::Http(_) | Request::Discover { .. } => {
            ("a 2xx", "refused (not a 2xx)")
        }
    };
    let (expected, actual) = if want { (yes, no) } else { (no, yes) };
    Miss::new(
        "decision",
        expected,
        format!(
            "{actual}: HTTP {} {}",
            response.status,
            shorten(&response.body)
        ),
    )
}

/// Collects the checks of one answer.
struct Findings<'j> {
    judge: &'j Judge,
    judgement: Judgement,
    /// The request asked for PEP 807's media type: the answer may carry it (or, for an
    /// error, RFC 9457's) where PyPI's clients get `application/json`.
    pep807_client: bool,
}

impl<'j> Findings<'j> {
    fn new(judge: &'j Judge) -> Self {
        Findings {
            judge,
            judgement: Judgement::default(),
            pep807_client: false,
        }
    }

    /// Minted or refused, uploaded or not: what the step is about, graded by the
    /// scenario's rules at its level (a SHOULD where the status says so).
    fn decision(&mut self, exchange: &Exchange, want: bool, accepted: bool, response: &Response) {
        let judge = self.judge;
        let strength = exchange
            .expect
            .status
            .as_ref()
            .and_then(|status| status.grading.strength)
            .unwrap_or_default();
        let demand = Demand {
            aspect: Aspect::Decision,
            rules: judge.rules_at(judge.scenario_level),
            level: judge.scenario_level,
            strength,
        };
        self.check(demand, || {
            (want != accepted).then(|| decision_miss(&exchange.request, want, response))
        });
    }

    /// Makes a check if the run judges its level: `misses` says where the answer falls
    /// short. At pypi-exact every check is a MUST (the reference registry meets them all).
    fn check<I: IntoIterator<Item = Miss>>(&mut self, demand: Demand, misses: impl FnOnce() -> I) {
        if !self.judge.judges(demand.level) {
            return;
        }
        self.judgement.judged.insert(demand.aspect);
        let strength = if self.judge.run_level == Level::PypiExact {
            Strength::Must
        } else {
            demand.strength
        };
        for miss in misses() {
            self.judgement.mismatches.push(Mismatch {
                at: miss.at,
                expected: miss.expected,
                actual: miss.actual,
                aspect: demand.aspect,
                rules: demand.rules.clone(),
                level: demand.level,
                strength,
            });
        }
    }

    /// The status the step expects, by `default` where the scenario does not grade it.
    fn status(&mut self, expect: &Expect, response: &Response, default: Option<Demand>) {
        let Some(status) = &expect.status else {
            return;
        };
        let demand = match default {
            Some(demand) if status.grading.is_default() => demand,
            _ => self.judge.written(Aspect::Status, &status.grading),
        };
        self.status_is(demand, *status.at(self.judge.run_level), response);
    }

    fn status_is(&mut self, demand: Demand, expected: u16, response: &Response) {
        self.check(demand, || {
            (response.status != expected)
                .then(|| Miss::new("status", expected.to_string(), response.status.to_string()))
        });
    }

    /// JSON with the media type of R-RESP-1; exactly `application/json` at pypi-exact.
    fn media_type(&mut self, response: &Response) {
        if self.pep807_client {
            // PEP 807 answers its clients in its own media types (R-807-ACCEPT-1,
            // R-807-ERR-1); PyPI's exact header is for PyPI's clients.
            self.check(
                Demand::must(Aspect::Envelope, "R-807-ACCEPT-1", Level::Pep807),
                || envelope::media_type_miss(response, &PEP807_MEDIA_TYPES),
            );
            return;
        }
        self.check(
            Demand::must(Aspect::Envelope, "R-RESP-1", Level::Core),
            || envelope::media_type_miss(response, &["application/json"]),
        );
        self.check(
            Demand::must(Aspect::Envelope, "R-RESP-2", Level::PypiExact),
            || envelope::exact_content_type_miss(response),
        );
    }

    /// A mint that succeeded, as each level demands it. `graded_status` is the status a
    /// grade implies; otherwise the step's own.
    fn success(
        &mut self,
        graded_status: Option<u16>,
        expect: &Expect,
        response: &Response,
        window: MintWindow,
    ) {
        let core = |rule| Demand::must(Aspect::Status, rule, Level::Core);
        match graded_status {
            Some(status) => self.status_is(core("R-RESP-3"), status, response),
            None => self.status(expect, response, Some(core("R-RESP-3"))),
        }
        self.media_type(response);
        let Some(json) = response.json() else {
            return;
        };
        let expires = envelope::expires_of(&json);
        self.check(
            Demand::should(Aspect::Envelope, "R-RESP-4", Level::Core),
            || match &expires {
                None => Some(Miss::new(
                    "/expires",
                    "an integer (the token's end)",
                    "(absent)",
                )),
                Some(Err(value)) => Some(Miss::new("/expires", "an integer", value.clone())),
                Some(Ok(_)) => None,
            },
        );
        if let Some(Ok(expires)) = expires {
            self.check(
                Demand::must(Aspect::Envelope, "R-TOK-2", Level::Core),
                || envelope::lifetime_miss(expires, window),
            );
            self.check(
                Demand::must(Aspect::Envelope, "R-TOK-2", Level::PypiExact),
                || envelope::exact_lifetime_miss(expires, window),
            );
        }
        self.check(
            Demand::must(Aspect::Envelope, "R-RESP-5", Level::PypiExact),
            || envelope::exact_success_misses(&json),
        );
    }

    /// A mint that was refused: the status, and for a 422 the envelope of R-RESP-6 with
    /// one of `codes` (any code of the spec when none are given).
    fn refusal(
        &mut self,
        status: Option<(u16, &Grading)>,
        codes: Option<(&[ErrorCode], &Grading)>,
        response: &Response,
    ) {
        let (expected_status, status_demand) = match status {
            Some((value, grading)) if !grading.is_default() => {
                (value, self.judge.written(Aspect::Status, grading))
            }
            Some((value, _)) if value != 422 => (
                value,
                self.judge.written(Aspect::Status, &Grading::default()),
            ),
            _ => (422, Demand::must(Aspect::Status, "R-RESP-6", Level::Core)),
        };
        self.status_is(status_demand, expected_status, response);
        if expected_status != 422 {
            return;
        }
        self.media_type(response);
        let json = response.json();
        let problem = envelope::error_envelope_problem(json.as_ref());
        let shaped = problem.is_none();
        self.check(
            Demand::must(Aspect::Envelope, "R-RESP-6", Level::Core),
            || problem.map(|problem| Miss::new("body", "the 422 error envelope", problem)),
        );
        // Without the envelope there is no code to compare.
        if let Some((codes, grading)) = codes.filter(|_| shaped) {
            let demand = self.judge.written(Aspect::Envelope, grading);
            self.check(demand, || envelope::code_miss(json.as_ref(), codes));
        }
        if let Some(json) = &json {
            self.check(
                Demand::must(Aspect::Envelope, "R-RESP-7", Level::PypiExact),
                || envelope::exact_envelope_miss(json),
            );
        }
    }

    /// The text, JSON and header matchers the scenario wrote.
    fn matchers(&mut self, expect: &Expect, response: &Response) {
        let json = response.json();
        let description = json
            .as_ref()
            .and_then(|j| j.pointer("/errors/0/description"))
            .and_then(Value::as_str);
        self.texts(&expect.description, "/errors/0/description", description);
        self.texts(&expect.reason, "reason phrase", response.reason.as_deref());
        self.texts(&expect.body, "body", Some(&response.body));
        if let Some(matcher) = &expect.json {
            self.json(matcher, json.as_ref(), &response.body);
        }
        for (name, matcher) in &expect.headers {
            let demand = self.judge.written(Aspect::Envelope, &matcher.grading());
            let at = format!("header {name}");
            self.check(demand, || text_miss(matcher, at, response.header(name)));
        }
    }

    fn texts(&mut self, matchers: &TextMatches, at: &str, actual: Option<&str>) {
        for matcher in matchers.iter() {
            let demand = self.judge.written(Aspect::Wording, &matcher.grading());
            self.check(demand, || text_miss(matcher, at.to_owned(), actual));
        }
    }

    fn json(&mut self, matcher: &JsonMatch, json: Option<&Value>, body: &str) {
        let demand = self.judge.written(Aspect::Envelope, &matcher.grading());
        self.check(demand, || match json {
            Some(actual) => json_mismatches(&matcher.value, actual, matcher.partial),
            None => vec![Miss::new(
                "body",
                matcher.value.to_string(),
                format!("not JSON: {}", shorten(body)),
            )],
        });
    }
}

fn text_miss(matcher: &TextMatch, at: String, actual: Option<&str>) -> Option<Miss> {
    match actual {
        Some(text) => matchers::text_mismatch(matcher, text)
            .map(|expected| Miss::new(at, expected, shorten(text))),
        None => Some(Miss::new(at, matchers::describe(matcher), "(absent)")),
    }
}

#[cfg(test)]
mod tests;
