//! Loading and checking scenario files. Every problem names the file and the key (and, for
//! syntax errors, the line and column); one bad file fails the whole load, before anything
//! is sent to a target.
//!
//! Files come from a folder ([`read_folder`]) or from the suite built into the binary
//! (`super::embedded`); both are [`SourceFile`]s, loaded the same way.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::file::ScenarioFile;
use super::model::Scenario;
use super::validate;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("scenarios folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{count} invalid scenario file(s):\n{details}")]
    Invalid { count: usize, details: String },
}

/// Folders under the scenarios root that hold no scenarios (`harness/build.rs` skips the
/// same ones when it builds the suite in).
const NOT_SCENARIOS: [&str; 2] = ["dist", "schema"];

/// One scenario file before parsing.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path under the scenarios root, without `.toml`: `github/expired`.
    pub id: String,
    /// What errors name: the file on disk, or where a built-in file came from.
    pub path: PathBuf,
    pub text: Cow<'static, str>,
}

pub fn load_dir(root: &Path) -> Result<Vec<Scenario>, LoadError> {
    load_sources(&read_folder(root)?)
}

/// Every file checked, in the order given; every bad file is reported, not only the first.
pub fn load_sources(files: &[SourceFile]) -> Result<Vec<Scenario>, LoadError> {
    load_each(files, |source| {
        let file = parse(source)?;
        checked(source, file)
    })
}

/// Every scenario under `root`, checked, beside its file as written (for tools that look
/// at how a scenario is written rather than at what it does).
pub fn load_dir_as_written(root: &Path) -> Result<Vec<(Scenario, ScenarioFile)>, LoadError> {
    load_each(&read_folder(root)?, |source| {
        let file = parse(source)?;
        let scenario = checked(source, file.clone())?;
        Ok((scenario, file))
    })
}

fn load_each<T>(
    files: &[SourceFile],
    load: impl Fn(&SourceFile) -> Result<T, LoadError>,
) -> Result<Vec<T>, LoadError> {
    let mut scenarios = Vec::new();
    let mut problems = Vec::new();
    for source in files {
        match load(source) {
            Ok(scenario) => scenarios.push(scenario),
            Err(err) => problems.push(err.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(scenarios)
    } else {
        Err(LoadError::Invalid {
            count: problems.len(),
            details: problems_text(&problems),
        })
    }
}

fn problems_text(problems: &[String]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `.toml` file under `root`, in path order, read.
pub fn read_folder(root: &Path) -> Result<Vec<SourceFile>, LoadError> {
    let mut paths = Vec::new();
    collect(root, root, &mut paths)?;
    paths.sort();
    paths
        .into_iter()
        .map(|path| read_file(root, path))
        .collect()
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let folder_error = |source| LoadError::Folder {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(folder_error)? {
        let path = entry.map_err(folder_error)?.path();
        if path.is_dir() {
            let top = path.parent() == Some(root);
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !(top && NOT_SCENARIOS.contains(&name)) {
                collect(root, &path, files)?;
            }
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    Ok(())
}

/// Loads one file; `root` decides its ID.
pub fn load_file(root: &Path, path: &Path) -> Result<Scenario, LoadError> {
    let source = read_file(root, path.to_owned())?;
    checked(&source, parse(&source)?)
}

fn file_error(path: &Path, message: String) -> LoadError {
    LoadError::File {
        path: path.to_owned(),
        message,
    }
}

fn read_file(root: &Path, path: PathBuf) -> Result<SourceFile, LoadError> {
    let text = std::fs::read_to_string(&path).map_err(|e| file_error(&path, e.to_string()))?;
    let id = path
        .strip_prefix(root)
        .unwrap_or(&path)
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    Ok(SourceFile {
        id,
        path,
        text: Cow::Owned(text),
    })
}

fn parse(source: &SourceFile) -> Result<ScenarioFile, LoadError> {
    toml::from_str(&source.text)
        .map_err(|e| file_error(&source.path, with_suggestion(&e.to_string())))
}

/// The file checked; a problem names the line and column of its key in its text.
fn checked(source: &SourceFile, file: ScenarioFile) -> Result<Scenario, LoadError> {
    let path = &source.path;
    validate::scenario(source.id.clone(), file).map_err(|(key, message)| {
        match position_of(&source.text, &key) {
            Some((line, column)) => file_error(
                path,
                format!("line {line}, column {column}, key `{key}`: {message}"),
            ),
            None => file_error(path, format!("key `{key}`: {message}")),
        }
    })
}

/// The line and column (1-based) where a checked key such as `step[2].expect.description` is written:
/// the table of its first segment (the Nth `[[step]]`), then the first line after it that
/// assigns the last segment's name. Good enough to point a reader at the right place.
fn position_of(text: &str, key: &str) -> Option<(usize, usize)> {
    let segments: Vec<&str> = key.split('.').collect();
    let lines: Vec<&str> = text.lines().collect();
    let (table, index) = match segments[0].split_once('[') {
        Some((table, rest)) => (table, rest.trim_end_matches(']').parse::<usize>().ok()?),
        None => (segments[0], 0),
    };
    let header = |line: &str| {
        let line = line.trim();
        line == format!("[[{table}]]")
            || line == format!("[{table}]")
            || line.starts_with(&format!("[{table}."))
    };
    let start = match lines
        .iter()
        .enumerate()
        .filter(|(_, l)| header(l))
        .nth(index)
    {
        Some((at, _)) => at,
        None if index == 0 => 0,
        None => return None,
    };
    let last = segments.last()?.split('[').next()?;
    let assigns = |line: &str| {
        let line = line.trim_start();
        line.starts_with(&format!("{last} ="))
            || line.contains(&format!(" {last} ="))
            || line.contains(&format!("{{{last} ="))
    };
    let end = lines
        .iter()
        .enumerate()
        .skip(start + 1)
        .find(|(_, l)| l.trim_start().starts_with('['))
        .map_or(lines.len(), |(at, _)| at);
    let at = (start..end).find(|&at| assigns(lines[at])).unwrap_or(start);
    let column = lines.get(at).and_then(|line| {
        let assignment = format!("{last} =");
        line.match_indices(&assignment)
            .map(|(offset, _)| offset)
            .find(|&offset| {
                !line[..offset].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
    });
    Some((
        at + 1,
        column.map_or(1, |offset| line_chars(lines[at], offset) + 1),
    ))
}

/// Columns count characters, not bytes.
fn line_chars(line: &str, byte_offset: usize) -> usize {
    line[..byte_offset].chars().count()
}

/// Adds "did you mean" to serde's unknown-field messages.
fn with_suggestion(message: &str) -> String {
    let unknown = Regex::new(r"unknown (?:field|variant) `([^`]*)`, expected (?:one of )?(.*)")
        .expect("regex");
    let Some(captures) = unknown.captures(message) else {
        return message.trim_end().to_owned();
    };
    let given = &captures[1];
    let candidates = Regex::new(r"`([^`]*)`").expect("regex");
    let nearest = candidates
        .captures_iter(&captures[2])
        .map(|c| c[1].to_owned())
        .min_by_key(|candidate| edit_distance(given, candidate));
    match nearest {
        Some(nearest) if edit_distance(given, &nearest) <= 3 => {
            format!("{}\n  did you mean `{nearest}`?", message.trim_end())
        }
        _ => message.trim_end().to_owned(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::test_support::MINIMAL;

    fn load(text: &str) -> Result<Scenario, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("area/case.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        load_file(dir.path(), &path).map_err(|e| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
    }

    #[test]
    fn the_path_is_the_id() {
        assert_eq!(load(MINIMAL).unwrap().id, "area/case");
    }

    #[test]
    fn unknown_keys_name_file_line_and_the_nearest_key() {
        let err = load(&MINIMAL.replace("title", "titel")).unwrap_err();
        assert!(err.starts_with("DIR/area/case.toml: "), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("unknown field `titel`"), "{err}");
        assert!(err.contains("did you mean `title`?"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_key() {
        let cases = [
            (
                MINIMAL.replace("R-EP-1", "R-EP-99"),
                "line 4, column 1, key `rules[0]`: \"R-EP-99\" is not a rule",
            ),
            (
                MINIMAL.replace(
                    "status = 200",
                    "status = 200, description = { exact = \"a\", prefix = \"b\" }",
                ),
                "line 8, column 26, key `step[0].expect.description`: give exactly one of",
            ),
            (
                MINIMAL.replace("status = 200", "status = 200, body = { regex = \"(\" }"),
                "key `step[0].expect.body`: invalid regex",
            ),
            (
                MINIMAL.replace("action = \"audience\"", "action = \"mint\""),
                "key `step[0].token`: a mint step has exactly one",
            ),
            (
                MINIMAL.replace("action = \"audience\"", "action = \"audience\"\ncount = 3"),
                "line 8, column 1, key `step[0].count`: `count` does not apply to audience steps",
            ),
            (
                MINIMAL.replace("status = 200", "status = 200, code = \"invalid-thing\""),
                "key `step[0].expect.code`: \"invalid-thing\" is not a code of the spec",
            ),
            (
                MINIMAL.replace(
                    "status = 200",
                    "status = 200, json = { value = { a = \"$type:int\" } }",
                ),
                "key `step[0].expect.json`: \"$type:int\": the types are",
            ),
            (
                MINIMAL.replace("action = \"audience\"", "action = \"audience\"\ntwin = {}"),
                "key `step[0].twin`: `twin` does not apply to audience steps",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint\"\nbody = \"{}\"\ntwin = {}",
                ),
                "key `step[0].twin`: a twin is the positive version of the step's `token`",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint\"\ntoken = {}\ntwin = { defects = [\"expired\"] }",
                ),
                "key `step[0].twin.defects`: a positive twin must mint",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint\"\ntoken = {}\ntwin = {}\nno_twin = \"x\"",
                ),
                "key `step[0].twin`: give `twin` or `no_twin`, not both",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint\"\ntoken = {}\ngrade = { core = \"either\", reason = \" \" }",
                ),
                "key `step[0].grade.reason`: say why more than one answer is right",
            ),
            (
                MINIMAL.replace("status = 200", "status = 200, successes = 1"),
                "key `step[0].expect.successes`: `expect.successes` does not apply to audience steps",
            ),
            (
                MINIMAL.replace("expect = { status = 200 }", "expect = {}"),
                "key `step[0].expect.status`: expect something",
            ),
            (
                MINIMAL.replace(
                    "status = 200",
                    "status = 200, issuer_requests = { jku = { max = 0 } }",
                ),
                "key `step[0].expect.issuer_requests.jku`: unknown endpoint",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"",
                    "action = \"mint-concurrent\"\ntoken = {}",
                ),
                "key `step[0].expect.successes`: a mint-concurrent step says how many",
            ),
            (
                MINIMAL.replace("status = 200", "status = 200, body = { exact = \"a\" }"),
                "key `step[0].expect.body`: a wording check at core cites the rule that demands it there",
            ),
            (
                MINIMAL.replace(
                    "status = 200",
                    "status = 200, headers = { allow = { exact = \"GET\", rule = \"R-EP-5\" } }",
                ),
                "key `step[0].expect.headers.allow`: R-EP-5 leave(s) the envelope to pypi-exact",
            ),
            (
                MINIMAL
                    .replace("R-EP-1", "R-EP-5")
                    .replace("action = \"audience\"", "action = \"request\"\npath = \"/_/oidc/mint-token\"")
                    .replace("status = 200", "status = 405"),
                "key `step[0].expect.status`: R-EP-5 leave(s) the status to pypi-exact",
            ),
            (
                MINIMAL.replace("R-EP-1", "R-GH-2"),
                "key `level`: a core scenario cites a rule the spec has at core; R-GH-2 are not",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"\nexpect = { status = 200 }",
                    "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422 }",
                ),
                "key `step[0].expect.code`: a refused mint names the code it expects",
            ),
            (
                MINIMAL.replace(
                    "action = \"audience\"\nexpect = { status = 200 }",
                    "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422, code = { value = \"invalid-token\", core = \"invalid-payload\", level = \"pypi-exact\" } }",
                ),
                "key `step[0].expect.code.core`: `core` is what a core run judges instead of `value`",
            ),
            (
                format!("{MINIMAL}\n[fixture]\nflags = [\"disallow-everything\"]\n"),
                "key `fixture.flags[0]`: unknown flag",
            ),
        ];
        for (text, expected) in cases {
            let err = load(&text).unwrap_err();
            assert!(err.contains(expected), "expected {expected:?} in {err}");
        }
    }

    #[test]
    fn references_must_name_earlier_steps() {
        let text = MINIMAL.replace(
            "[[step]]\naction = \"audience\"",
            "[[step]]\naction = \"mint\"\nbody = '{\"token\":\"${steps.later.token}\"}'",
        );
        let err = load(&text).unwrap_err();
        assert!(
            err.contains("${steps.later.token} names no earlier step"),
            "{err}"
        );
    }

    #[test]
    fn a_folder_with_two_bad_files_reports_both() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "title = ").unwrap();
        std::fs::write(dir.path().join("b.toml"), MINIMAL.replace("core", "strict")).unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::write(dir.path().join("dist/ignored.toml"), "not = [valid").unwrap();
        let err = load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("2 invalid scenario file(s):"), "{err}");
        assert!(
            err.contains("a.toml") && err.contains("b.toml") && !err.contains("ignored"),
            "{err}"
        );
    }
}
