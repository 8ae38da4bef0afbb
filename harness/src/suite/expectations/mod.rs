//! The expectations file (`--expectations FILE`): scenarios a target is known to fail or
//! cannot support, each with a reason, so a run against it can pass while the gaps stay
//! visible (like BoGo's config; the outcomes are those of `scenarios/README.md`).
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

mod parse;
mod settle;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::spec::grading::Aspect;
use crate::suite::outcome::{Outcome, Verdict};

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
        let ids: Vec<&str> = ids.iter().map(AsRef::as_ref).collect();
        let entries = parse::entries(path, text, &ids)?;
        Ok(Expectations {
            path: path.to_owned(),
            entries,
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::grading::{Level, Strength};
    use crate::suite::outcome::Mismatch;

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
            instance: None,
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
