//! Reading and checking an expectations file: every problem is collected, each naming the
//! line and the key.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{Entry, ExpectationsError, Listed, Problem, glob};
use crate::spec::grading::Aspect;
use crate::spec::rules::{self, ErrorCode};

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

/// Collects the problems of one file, each at a line (1-based) of its text.
struct Problems<'a> {
    path: &'a Path,
    text: &'a str,
    found: Vec<Problem>,
}

impl Problems<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn add(&mut self, line: usize, key: &str, message: impl Into<String>) {
        self.found.push(Problem {
            path: self.path.to_owned(),
            line,
            key: Some(key.to_owned()),
            message: message.into(),
        });
    }
}

/// The entries of `text` (read from `path`), checked against the suite's scenario IDs.
pub(super) fn entries(
    path: &Path,
    text: &str,
    ids: &[&str],
) -> Result<Vec<Entry>, ExpectationsError> {
    let mut problems = Problems {
        path,
        text,
        found: Vec::new(),
    };
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let line = e.span().map_or(1, |span| problems.line_of(span.start));
            let message = e.message().trim().to_owned();
            let key = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned);
            problems.found.push(Problem {
                path: path.to_owned(),
                line,
                key,
                message,
            });
            return Err(ExpectationsError::Invalid {
                problems: problems.found,
            });
        }
    };
    let mut entries: Vec<Entry> = Vec::new();
    for spanned in raw.expect {
        if let Some(entry) = entry(spanned, ids, &entries, &mut problems) {
            entries.push(entry);
        }
    }
    if problems.found.is_empty() {
        Ok(entries)
    } else {
        Err(ExpectationsError::Invalid {
            problems: problems.found,
        })
    }
}

/// One entry, if it has no problem; problems go to `problems`.
fn entry(
    spanned: Spanned<RawEntry>,
    ids: &[&str],
    earlier: &[Entry],
    problems: &mut Problems<'_>,
) -> Option<Entry> {
    let entry_line = problems.line_of(spanned.span().start);
    let raw = spanned.into_inner();
    let line = |problems: &Problems<'_>, value: &Option<Spanned<String>>| {
        value
            .as_ref()
            .map_or(entry_line, |v| problems.line_of(v.span().start))
    };
    let Some(scenario) = nonempty(&raw.scenario) else {
        let at = line(problems, &raw.scenario);
        problems.add(
            at,
            "scenario",
            "required: the scenario ID or glob this entry is about",
        );
        return None;
    };
    let scenario_line = line(problems, &raw.scenario);
    let listed = listed(&raw, line(problems, &raw.outcome), problems);
    let reason = nonempty(&raw.reason);
    if reason.is_none() {
        let at = line(problems, &raw.reason);
        problems.add(
            at,
            "reason",
            "required and not empty: say why (an issue link, a design decision)",
        );
    }
    check_code(&raw, listed, line(problems, &raw.code), problems);
    let aspects = aspects(&raw, listed, problems);
    let pattern = glob(&scenario);
    if !placed(&scenario, &pattern, scenario_line, ids, earlier, problems) {
        return None;
    }
    Some(Entry {
        scenario,
        listed: listed?,
        reason: reason?,
        code: raw.code.map(Spanned::into_inner),
        aspects,
        line: entry_line,
        pattern,
    })
}

fn nonempty(value: &Option<Spanned<String>>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.get_ref().trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn listed(raw: &RawEntry, line: usize, problems: &mut Problems<'_>) -> Option<Listed> {
    match nonempty(&raw.outcome).as_deref() {
        Some("xfail") => Some(Listed::Xfail),
        Some("unsupported") => Some(Listed::Unsupported),
        Some(other) => {
            problems.add(
                line,
                "outcome",
                format!("{other:?} is not an outcome: expected \"xfail\" or \"unsupported\""),
            );
            None
        }
        None => {
            problems.add(line, "outcome", "required: \"xfail\" or \"unsupported\"");
            None
        }
    }
}

fn check_code(raw: &RawEntry, listed: Option<Listed>, line: usize, problems: &mut Problems<'_>) {
    let Some(code) = &raw.code else {
        return;
    };
    let value = code.get_ref();
    if listed == Some(Listed::Unsupported) {
        problems.add(
            line,
            "code",
            "only an xfail entry has a code (an unsupported scenario is not run)",
        );
    } else if ErrorCode::named(value).is_none() {
        problems.add(
            line,
            "code",
            format!(
                "{value:?} is not an error code of the spec (§4.1): {}",
                rules::error_codes()
            ),
        );
    }
}

/// The aspects an xfail entry excuses: those it names, else all but the decision.
fn aspects(
    raw: &RawEntry,
    listed: Option<Listed>,
    problems: &mut Problems<'_>,
) -> BTreeSet<Aspect> {
    let Some(named) = &raw.aspects else {
        return DEFAULT_ASPECTS.into_iter().collect();
    };
    let at = problems.line_of(named.span().start);
    if listed == Some(Listed::Unsupported) {
        problems.add(
            at,
            "aspects",
            "only an xfail entry has aspects (an unsupported scenario is not run)",
        );
    } else if named.get_ref().is_empty() {
        problems.add(
            at,
            "aspects",
            "name at least one of decision, status, envelope, wording",
        );
    }
    let mut aspects = BTreeSet::new();
    for name in named.get_ref() {
        match name.parse::<Aspect>() {
            Ok(aspect) => {
                aspects.insert(aspect);
            }
            Err(message) => problems.add(at, "aspects", message),
        }
    }
    aspects
}

/// Whether the entry lists scenarios of the suite, and none an earlier entry lists.
fn placed(
    scenario: &str,
    pattern: &regex::Regex,
    line: usize,
    ids: &[&str],
    earlier: &[Entry],
    problems: &mut Problems<'_>,
) -> bool {
    let matched: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| pattern.is_match(id))
        .collect();
    if let Some(first) = earlier.iter().find(|e| e.scenario == scenario) {
        problems.add(
            line,
            "scenario",
            format!(
                "{scenario:?} is listed twice (first at line {})",
                first.line
            ),
        );
        return false;
    }
    if matched.is_empty() {
        problems.add(
            line,
            "scenario",
            format!("{scenario:?} matches no scenario: a stale entry? remove or fix it"),
        );
        return false;
    }
    let overlap = earlier.iter().find_map(|e| {
        matched
            .iter()
            .find(|id| e.pattern.is_match(id))
            .map(|id| (e, *id))
    });
    if let Some((other, id)) = overlap {
        problems.add(
            line,
            "scenario",
            format!(
                "{scenario:?} lists {id}, which the entry at line {} ({:?}) lists too",
                other.line, other.scenario
            ),
        );
        return false;
    }
    true
}
