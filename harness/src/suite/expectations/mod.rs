//! The expectations file (`--expectations FILE`): scenarios a target is known to fail or
//! cannot support, each with a reason, so a run against it can pass while the gaps stay
//! visible (BoGo's config, design §3 outcomes).
//!
//! ```toml
//! [[expect]]
//! scenario = "pending/*"            # a scenario ID or glob (`*`, `?`)
//! outcome = "unsupported"           # not run; reported as unsupported with the reason
//! reason = "no pending publishers in this registry"
//!
//! [[expect]]
//! scenario = "github/*"
//! outcome = "xfail"                 # run; a failure is `xfail`, a pass is `xpass` (an error)
//! aspects = ["envelope", "wording"] # what the failure may be in (default: all but decision)
//! reason = "our error body is {\"message\": ...}, issue #12"
//! code = "invalid-payload"          # optional: the code the target answers today
//! ```
//!
//! An entry excuses only the aspects it names (`decision`, `status`, `envelope`,
//! `wording`); without `aspects` it excuses every aspect but the decision, so a known wrong
//! envelope can never hide a token minted that must be refused: a decision is excused only
//! by an entry that says `aspects = ["decision"]` (with the others it may also excuse).
//!
//! The file is checked before anything runs: unknown keys, a missing or empty `reason`, an
//! entry that matches no scenario (a stale entry), the same glob twice, and a scenario
//! listed by two entries are errors naming the file, the line and the key.

use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use std::collections::BTreeSet;

use crate::spec::grading::{Aspect, Level, Strength};
use crate::spec::rules::ErrorCode;
use crate::suite::outcome::{Mismatch, Outcome, Verdict};

/// A scenario glob as a regex: `*` any run of characters (`/` included), `?` one.
pub fn glob(pattern: &str) -> Regex {
    let escaped = regex::escape(pattern)
        .replace(r"\*", ".*")
        .replace(r"\?", ".");
    Regex::new(&format!("^{escaped}$")).expect("escaped globs are valid regexes")
}

#[derive(Debug, thiserror::Error)]
pub enum ExpectationsError {
    #[error("reading the expectations file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} problem(s) in the expectations file:\n{}", .problems.len(), list(.problems))]
    Invalid { problems: Vec<Problem> },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One thing wrong with the file, where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
    /// The key at fault, if one is (`scenario`, `reason`, ...).
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.path.display(), self.line)?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// What an entry says about its scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// Run; expected to fail.
    Xfail,
    /// Not run.
    Unsupported,
}

#[derive(Clone, Debug)]
pub struct Entry {
    /// The `scenario` glob as written.
    pub scenario: String,
    pub listed: Listed,
    pub reason: String,
    /// For `xfail`: the `errors[0].code` the failing step answers today.
    pub code: Option<String>,
    /// For `xfail`: the aspects a failure may be in.
    pub aspects: BTreeSet<Aspect>,
    /// Where the entry starts (1-based).
    pub line: usize,
    pattern: Regex,
}

impl Entry {
    /// Whether the entry names a group of scenarios rather than one.
    pub fn is_glob(&self) -> bool {
        self.scenario.contains(['*', '?'])
    }
}

/// A loaded, checked expectations file.
#[derive(Clone, Debug)]
pub struct Expectations {
    path: PathBuf,
    entries: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    expect: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    scenario: Option<Spanned<String>>,
    outcome: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    code: Option<Spanned<String>>,
    aspects: Option<Spanned<Vec<String>>>,
}

/// What an xfail entry excuses when it names no aspects: everything but the decision.
const DEFAULT_ASPECTS: [Aspect; 3] = [Aspect::Status, Aspect::Envelope, Aspect::Wording];

impl Expectations {
    /// Reads and checks `path` against the IDs of every scenario in the suite (not only
    /// the selected ones, so running a subset does not make entries look stale).
    pub fn load<I, S>(path: &Path, scenario_ids: I) -> Result<Expectations, ExpectationsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let text = std::fs::read_to_string(path).map_err(|source| ExpectationsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Expectations::parse(path, &text, scenario_ids)
    }

    /// Checks `text` as if read from `path`.
    pub fn parse<I, S>(
        path: &Path,
        text: &str,
        scenario_ids: I,
    ) -> Result<Expectations, ExpectationsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let ids: Vec<S> = scenario_ids.into_iter().collect();
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let mut problems = Vec::new();
        let mut problem = |line: usize, key: Option<&str>, message: String| {
            problems.push(Problem {
                path: path.to_owned(),
                line,
                key: key.map(str::to_owned),
                message,
            });
        };
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e.span().map_or(1, |span| line_of(span.start));
                let message = e.message().trim().to_owned();
                let key = message
                    .strip_prefix("unknown field `")
                    .and_then(|rest| rest.split('`').next())
                    .map(str::to_owned);
                problem(line, key.as_deref(), message);
                return Err(ExpectationsError::Invalid { problems });
            }
        };
        let mut entries: Vec<Entry> = Vec::new();
        for spanned in raw.expect {
            let entry_line = line_of(spanned.span().start);
            let raw = spanned.into_inner();
            let line = |value: &Option<Spanned<String>>| {
                value
                    .as_ref()
                    .map_or(entry_line, |v| line_of(v.span().start))
            };
            let nonempty = |value: &Option<Spanned<String>>| {
                value
                    .as_ref()
                    .map(|v| v.get_ref().trim().to_owned())
                    .filter(|v| !v.is_empty())
            };
            let Some(scenario) = nonempty(&raw.scenario) else {
                problem(
                    line(&raw.scenario),
                    Some("scenario"),
                    "required: the scenario ID or glob this entry is about".into(),
                );
                continue;
            };
            let scenario_line = line(&raw.scenario);
            let listed = match nonempty(&raw.outcome).as_deref() {
                Some("xfail") => Some(Listed::Xfail),
                Some("unsupported") => Some(Listed::Unsupported),
                Some(other) => {
                    problem(
                        line(&raw.outcome),
                        Some("outcome"),
                        format!(
                            "{other:?} is not an outcome: expected \"xfail\" or \"unsupported\""
                        ),
                    );
                    None
                }
                None => {
                    problem(
                        line(&raw.outcome),
                        Some("outcome"),
                        "required: \"xfail\" or \"unsupported\"".into(),
                    );
                    None
                }
            };
            let reason = nonempty(&raw.reason);
            if reason.is_none() {
                problem(
                    line(&raw.reason),
                    Some("reason"),
                    "required and not empty: say why (an issue link, a design decision)".into(),
                );
            }
            if let Some(code) = &raw.code {
                let value = code.get_ref();
                if listed == Some(Listed::Unsupported) {
                    problem(
                        line(&raw.code),
                        Some("code"),
                        "only an xfail entry has a code (an unsupported scenario is not run)"
                            .into(),
                    );
                } else if ErrorCode::named(value).is_none() {
                    problem(
                        line(&raw.code),
                        Some("code"),
                        format!(
                            "{value:?} is not an error code of the spec (§4.1): {}",
                            ErrorCode::list()
                        ),
                    );
                }
            }
            let mut aspects: BTreeSet<Aspect> = DEFAULT_ASPECTS.into_iter().collect();
            if let Some(named) = &raw.aspects {
                let at = line_of(named.span().start);
                if listed == Some(Listed::Unsupported) {
                    problem(
                        at,
                        Some("aspects"),
                        "only an xfail entry has aspects (an unsupported scenario is not run)"
                            .into(),
                    );
                } else if named.get_ref().is_empty() {
                    problem(
                        at,
                        Some("aspects"),
                        "name at least one of decision, status, envelope, wording".into(),
                    );
                }
                aspects.clear();
                for name in named.get_ref() {
                    match name.parse::<Aspect>() {
                        Ok(aspect) => {
                            aspects.insert(aspect);
                        }
                        Err(message) => problem(at, Some("aspects"), message),
                    }
                }
            }
            let pattern = glob(&scenario);
            let matched: Vec<&str> = ids
                .iter()
                .map(AsRef::as_ref)
                .filter(|id| pattern.is_match(id))
                .collect();
            if let Some(earlier) = entries.iter().find(|e| e.scenario == scenario) {
                problem(
                    scenario_line,
                    Some("scenario"),
                    format!(
                        "{scenario:?} is listed twice (first at line {})",
                        earlier.line
                    ),
                );
                continue;
            }
            if matched.is_empty() {
                problem(
                    scenario_line,
                    Some("scenario"),
                    format!("{scenario:?} matches no scenario: a stale entry? remove or fix it"),
                );
                continue;
            }
            if let Some((earlier, id)) = entries.iter().find_map(|e| {
                matched
                    .iter()
                    .find(|id| e.pattern.is_match(id))
                    .map(|id| (e, *id))
            }) {
                problem(
                    scenario_line,
                    Some("scenario"),
                    format!(
                        "{scenario:?} lists {id}, which the entry at line {} ({:?}) lists too",
                        earlier.line, earlier.scenario
                    ),
                );
                continue;
            }
            let (Some(listed), Some(reason)) = (listed, reason) else {
                continue;
            };
            entries.push(Entry {
                scenario,
                listed,
                reason,
                code: raw.code.map(Spanned::into_inner),
                aspects,
                line: entry_line,
                pattern,
            });
        }
        if problems.is_empty() {
            Ok(Expectations {
                path: path.to_owned(),
                entries,
            })
        } else {
            Err(ExpectationsError::Invalid { problems })
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The xfail entries with globs that excused no failure in `outcomes` although some of
    /// their scenarios ran: each is stale, with the place it is written.
    pub fn stale(&self, outcomes: &[Outcome]) -> Vec<String> {
        self.entries
            .iter()
            .filter(|entry| entry.listed == Listed::Xfail && entry.is_glob())
            .filter(|entry| {
                let mine = || outcomes.iter().filter(|o| entry.pattern.is_match(&o.id));
                let ran = mine().any(|o| matches!(o.verdict, Verdict::Pass | Verdict::Advisory));
                let excused = mine().any(|o| matches!(o.verdict, Verdict::Xfail { .. }));
                ran && !excused
            })
            .map(|entry| {
                format!(
                    "{}:{}: the xfail entry {:?} ({}) excused no failure: every scenario it lists passed; remove the entry",
                    self.path.display(),
                    entry.line,
                    entry.scenario,
                    entry.reason
                )
            })
            .collect()
    }

    /// The entry listing scenario `id`, if any (at most one does).
    pub fn entry_for(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.pattern.is_match(id))
    }

    /// The verdict of a scenario that is not to be run: `unsupported`, with the reason.
    pub fn skip(&self, id: &str) -> Option<Verdict> {
        let entry = self.entry_for(id)?;
        (entry.listed == Listed::Unsupported).then(|| Verdict::Unsupported {
            reason: format!(
                "{} (expectations {}:{})",
                entry.reason,
                self.path.display(),
                entry.line
            ),
        })
    }

    /// Turns the outcome of a scenario listed as `xfail`: a failure only in the aspects the
    /// entry excuses into `xfail` (or into a failure saying the failure mode changed, when
    /// the entry's `code` is not what the failing step answered), a pass into `xpass`. A
    /// failure in an aspect the entry does not name stays a failure, with a mismatch saying
    /// so. Other verdicts are left alone.
    pub fn settle(&self, outcome: &mut Outcome) {
        let Some(entry) = self
            .entry_for(&outcome.id)
            .filter(|e| e.listed == Listed::Xfail)
        else {
            return;
        };
        let place = format!("{}:{}", self.path.display(), entry.line);
        match outcome.verdict {
            // A glob lists a group whose members need not all fail (the successes of
            // `github/*` have no error envelope to get wrong); `stale` judges the entry as a
            // whole after the run.
            Verdict::Pass | Verdict::Advisory if entry.is_glob() => {}
            Verdict::Pass | Verdict::Advisory => {
                outcome.verdict = Verdict::Xpass {
                    reason: format!(
                        "listed as xfail ({}) at {place} but passed: remove the entry",
                        entry.reason
                    ),
                };
            }
            Verdict::Fail => {
                let unexcused: Vec<Aspect> = outcome
                    .wrong_aspects()
                    .into_iter()
                    .filter(|aspect| !entry.aspects.contains(aspect))
                    .collect();
                if let Some(first) = unexcused.first() {
                    let names = |aspects: &mut dyn Iterator<Item = &Aspect>| {
                        aspects.map(|a| a.name()).collect::<Vec<_>>().join(", ")
                    };
                    push_note(
                        outcome,
                        *first,
                        format!(
                            "the failure listed at {place} ({}), in: {}",
                            entry.reason,
                            names(&mut entry.aspects.iter())
                        ),
                        format!(
                            "a failure in {} too, which the entry does not excuse",
                            names(&mut unexcused.iter())
                        ),
                    );
                    return;
                }
                let Some(expected) = &entry.code else {
                    outcome.verdict = Verdict::Xfail {
                        reason: entry.reason.clone(),
                    };
                    return;
                };
                let actual = outcome
                    .steps
                    .iter()
                    .rev()
                    .find(|step| !step.mismatches.is_empty())
                    .and_then(|step| step.response.as_ref())
                    .and_then(|response| response.json())
                    .and_then(|json| {
                        json.pointer("/errors/0/code")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    });
                if actual.as_deref() == Some(expected.as_str()) {
                    outcome.verdict = Verdict::Xfail {
                        reason: entry.reason.clone(),
                    };
                } else {
                    push_note(
                        outcome,
                        Aspect::Envelope,
                        format!(
                            "the failure listed at {place}: errors[0].code {expected:?} ({})",
                            entry.reason
                        ),
                        format!(
                            "errors[0].code {}: the failure mode changed; update the entry",
                            actual.map_or("absent".to_owned(), |code| format!("{code:?}"))
                        ),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Adds a mismatch about the expectations entry itself to the last step that failed.
fn push_note(outcome: &mut Outcome, aspect: Aspect, expected: String, actual: String) {
    let rules = outcome.rules.clone();
    let level = outcome.level;
    if let Some(step) = outcome
        .steps
        .iter_mut()
        .rev()
        .find(|step| !step.mismatches.is_empty())
    {
        step.mismatches.push(Mismatch {
            at: "expectations".into(),
            expected,
            actual,
            aspect,
            rules,
            level: level.min(Level::PypiExact),
            strength: Strength::Must,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 4] = [
        "signature/expired",
        "signature/alg-none",
        "pending/creates-project",
        "payload/not-json",
    ];

    fn parse(text: &str) -> Result<Expectations, ExpectationsError> {
        Expectations::parse(Path::new("known.toml"), text, IDS)
    }

    fn problems(text: &str) -> Vec<String> {
        match parse(text) {
            Ok(_) => panic!("expected problems in:\n{text}"),
            Err(ExpectationsError::Invalid { problems }) => {
                problems.iter().map(ToString::to_string).collect()
            }
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn entries_load_and_find_their_scenarios() {
        let expectations = parse(
            r#"
[[expect]]
scenario = "signature/*"
outcome = "xfail"
reason = "keys are not checked yet"
code = "invalid-payload"

[[expect]]
scenario = "pending/creates-project"
outcome = "unsupported"
reason = "no pending publishers"
"#,
        )
        .unwrap();
        let entry = expectations.entry_for("signature/alg-none").unwrap();
        assert_eq!(entry.listed, Listed::Xfail);
        assert_eq!(entry.line, 2);
        assert_eq!(entry.code.as_deref(), Some("invalid-payload"));
        assert!(expectations.entry_for("payload/not-json").is_none());
        assert!(expectations.skip("signature/expired").is_none());
        assert_eq!(
            expectations.skip("pending/creates-project"),
            Some(Verdict::Unsupported {
                reason: "no pending publishers (expectations known.toml:8)".into()
            })
        );
        assert!(parse("").unwrap().entries().is_empty());
    }

    #[test]
    fn a_missing_or_empty_reason_is_named_with_its_line() {
        let found = problems(
            "[[expect]]\nscenario = \"payload/not-json\"\noutcome = \"xfail\"\n\n[[expect]]\nscenario = \"signature/expired\"\noutcome = \"xfail\"\nreason = \"  \"\n",
        );
        assert_eq!(
            found,
            [
                "known.toml:1: `reason`: required and not empty: say why (an issue link, a design decision)",
                "known.toml:8: `reason`: required and not empty: say why (an issue link, a design decision)",
            ]
        );
    }

    #[test]
    fn stale_duplicate_and_overlapping_entries_are_refused() {
        let found = problems(
            r#"[[expect]]
scenario = "signature/expired"
outcome = "xfail"
reason = "a"

[[expect]]
scenario = "signature/expired"
outcome = "xfail"
reason = "b"

[[expect]]
scenario = "signature/*"
outcome = "unsupported"
reason = "c"

[[expect]]
scenario = "github/gone"
outcome = "xfail"
reason = "d"
"#,
        );
        assert_eq!(
            found,
            [
                "known.toml:7: `scenario`: \"signature/expired\" is listed twice (first at line 1)",
                "known.toml:12: `scenario`: \"signature/*\" lists signature/expired, which the entry at line 1 (\"signature/expired\") lists too",
                "known.toml:17: `scenario`: \"github/gone\" matches no scenario: a stale entry? remove or fix it",
            ]
        );
    }

    #[test]
    fn bad_values_and_unknown_keys_are_named() {
        let found = problems(
            "[[expect]]\nscenario = \"payload/*\"\noutcome = \"flaky\"\nreason = \"r\"\ncode = \"nope\"\n",
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("known.toml:3: `outcome`: \"flaky\" is not an outcome"));
        assert!(found[1].starts_with("known.toml:5: `code`: \"nope\" is not an error code"));
        let found = problems(
            "[[expect]]\nscenario = \"payload/*\"\noutcome = \"unsupported\"\nreason = \"r\"\ncode = \"invalid-token\"\n",
        );
        assert!(
            found[0].starts_with("known.toml:5: `code`: only an xfail entry"),
            "{found:?}"
        );
        let found = problems(
            "[[expect]]\nscenario = \"payload/*\"\noutcome = \"xfail\"\nreasn = \"typo\"\n",
        );
        assert!(
            found[0].starts_with("known.toml:4: `reasn`: unknown field `reasn`"),
            "{found:?}"
        );
        let found = problems("[[expect]]\noutcome = \"xfail\"\nreason = \"r\"\n");
        assert!(
            found[0].starts_with("known.toml:1: `scenario`: required"),
            "{found:?}"
        );
        let found = problems("[[expect]]\nscenario = \"payload/*\n");
        assert!(found[0].starts_with("known.toml:2: "), "{found:?}");
    }

    #[test]
    fn globs_match_whole_ids() {
        assert!(glob("signature/*").is_match("signature/alg-none"));
        assert!(glob("*/expired").is_match("signature/expired"));
        assert!(glob("payload/not-jso?").is_match("payload/not-json"));
        assert!(!glob("signature").is_match("signature/expired"));
        assert!(!glob("a.b").is_match("axb"));
    }

    fn failed(id: &str, aspects: &[Aspect]) -> Outcome {
        use crate::suite::outcome::StepRecord;
        let mut step = StepRecord::note("step1".into(), "POST", "u".into(), None);
        step.judged = aspects.iter().copied().collect();
        step.mismatches = aspects
            .iter()
            .map(|aspect| Mismatch {
                at: "x".into(),
                expected: "e".into(),
                actual: "a".into(),
                aspect: *aspect,
                rules: vec!["R-TIME-1".into()],
                level: Level::Core,
                strength: Strength::Must,
            })
            .collect();
        Outcome {
            id: id.into(),
            title: "t".into(),
            level: Level::Core,
            rules: vec!["R-TIME-1".into()],
            verdict: if aspects.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            steps: vec![step],
            millis: 0,
        }
    }

    const ENVELOPE_ONLY: &str = "[[expect]]\nscenario = \"signature/*\"\noutcome = \"xfail\"\naspects = [\"envelope\"]\nreason = \"our own error body\"\n";

    #[test]
    fn an_entry_excuses_only_the_aspects_it_names() {
        let listed = parse(ENVELOPE_ONLY).unwrap();
        let mut envelope = failed("signature/expired", &[Aspect::Envelope]);
        listed.settle(&mut envelope);
        assert!(matches!(envelope.verdict, Verdict::Xfail { .. }));
        let mut minted = failed("signature/alg-none", &[Aspect::Decision]);
        listed.settle(&mut minted);
        assert_eq!(minted.verdict, Verdict::Fail);
        let note = minted.mismatches().last().unwrap();
        assert_eq!(note.at, "expectations");
        assert_eq!(note.aspect, Aspect::Decision);
        assert!(
            note.actual.contains("a failure in decision too"),
            "{note:?}"
        );
        // Without `aspects`, every aspect but the decision is excused.
        let default = parse(
            "[[expect]]\nscenario = \"signature/alg-none\"\noutcome = \"xfail\"\nreason = \"r\"\n",
        )
        .unwrap();
        let mut minted = failed("signature/alg-none", &[Aspect::Decision, Aspect::Status]);
        default.settle(&mut minted);
        assert_eq!(minted.verdict, Verdict::Fail);
        let mut wrong_status = failed("signature/alg-none", &[Aspect::Status, Aspect::Wording]);
        default.settle(&mut wrong_status);
        assert!(matches!(wrong_status.verdict, Verdict::Xfail { .. }));
    }

    #[test]
    fn a_glob_entry_is_stale_when_it_excused_nothing() {
        let listed = parse(ENVELOPE_ONLY).unwrap();
        let mut passed = failed("signature/expired", &[]);
        listed.settle(&mut passed);
        assert_eq!(
            passed.verdict,
            Verdict::Pass,
            "a glob's passing member passes"
        );
        let stale = listed.stale(std::slice::from_ref(&passed));
        assert_eq!(stale.len(), 1);
        assert!(stale[0].starts_with("known.toml:1: the xfail entry \"signature/*\""));
        let mut excused = failed("signature/alg-none", &[Aspect::Envelope]);
        listed.settle(&mut excused);
        assert!(listed.stale(&[passed, excused]).is_empty());
        assert!(listed.stale(&[]).is_empty(), "nothing of it ran");
    }

    #[test]
    fn aspects_are_checked() {
        let found = problems(
            "[[expect]]\nscenario = \"payload/*\"\noutcome = \"xfail\"\naspects = [\"envelop\"]\nreason = \"r\"\n",
        );
        assert!(
            found[0].starts_with("known.toml:4: `aspects`: unknown aspect \"envelop\""),
            "{found:?}"
        );
        let found = problems(
            "[[expect]]\nscenario = \"payload/*\"\noutcome = \"unsupported\"\naspects = [\"status\"]\nreason = \"r\"\n",
        );
        assert!(
            found[0].starts_with("known.toml:4: `aspects`: only an xfail entry"),
            "{found:?}"
        );
        let found = problems(
            "[[expect]]\nscenario = \"payload/*\"\noutcome = \"xfail\"\naspects = []\nreason = \"r\"\n",
        );
        assert!(found[0].contains("name at least one"), "{found:?}");
    }
}
