//! The suite as one JSON document (`scenarios/dist/scenarios.json`), for runners in other
//! languages: each scenario is its file's content as JSON plus its `id`. Tokens stay
//! described (token specs), never pre-signed: every runner forges its own, signed by its
//! own mock issuers, whose URLs and keys no file could know in advance.
//!
//! Keys are sorted at every depth and the text is pretty-printed with a trailing newline,
//! so the output depends only on the scenario files and a stale copy shows in `git diff`.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Number, Value};

use super::generated;
use crate::scenario::LoadError;
use crate::scenario::load::{SourceFile, load_sources, read_folder};

/// Version of the export document's format.
pub const FORMAT_VERSION: u32 = 1;

/// The spec every `rules` entry refers to, relative to the repository root.
pub const SPEC_PATH: &str = "docs/spec/pypi-mint-token.md";

/// Where the export is written, relative to the scenarios folder.
pub const DIST_FILE: &str = "dist/scenarios.json";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A value TOML has and JSON lacks (a date-time, a non-finite float).
    #[error("{path}: key `{key}`: {message}")]
    Value {
        path: PathBuf,
        key: String,
        message: String,
    },
    /// A document with a generated part lacks the place for it.
    #[error("{path}: {message}")]
    Generated { path: PathBuf, message: String },
}

impl ExportError {
    /// Whether a scenario file is at fault (rather than the file system).
    pub fn is_scenario_error(&self) -> bool {
        matches!(self, ExportError::Load(_) | ExportError::Value { .. })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportDocument {
    pub mintcheck_scenarios: u32,
    pub spec: &'static str,
    /// Sorted by `id`.
    pub scenarios: Vec<ExportedScenario>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExportedScenario {
    pub id: String,
    /// The file's top-level keys, as written (defaults are not filled in).
    #[serde(flatten)]
    pub content: Map<String, Value>,
}

/// Loads and checks every scenario under `root` (one bad file fails the export, as it fails
/// a run) and returns the export document.
pub fn export(root: &Path) -> Result<ExportDocument, ExportError> {
    export_sources(&read_folder(root)?)
}

/// The export document of these files (from a folder or built in), each checked first.
pub fn export_sources(files: &[SourceFile]) -> Result<ExportDocument, ExportError> {
    load_sources(files)?;
    let mut scenarios = files
        .iter()
        .map(|source| {
            Ok(ExportedScenario {
                content: text_content(&source.path, &source.text)?,
                id: source.id.clone(),
            })
        })
        .collect::<Result<Vec<_>, ExportError>>()?;
    // Path order puts `a/b` before `a-c`; byte order of the IDs is what other tools sort by.
    scenarios.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(ExportDocument {
        mintcheck_scenarios: FORMAT_VERSION,
        spec: SPEC_PATH,
        scenarios,
    })
}

/// The exact text of `dist/scenarios.json`.
pub fn render(document: &ExportDocument) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("JSON values serialize");
    text.push('\n');
    text
}

pub fn dist_path(root: &Path) -> PathBuf {
    root.join(DIST_FILE)
}

/// A file `mintcheck export` writes, with the text it gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub path: PathBuf,
    pub text: String,
}

/// Everything `mintcheck export` writes under `root`: the export, and, where `root` holds
/// them, the schema's and the README's generated parts (`generated`).
pub fn outputs(root: &Path) -> Result<Vec<Output>, ExportError> {
    let mut outputs = vec![Output {
        path: dist_path(root),
        text: render(&export(root)?),
    }];
    type Generate = fn(&str) -> Result<String, String>;
    let documents: [(&str, Generate); 2] = [
        (generated::SCHEMA_FILE, generated::schema),
        (generated::README_FILE, generated::readme),
    ];
    for (file, generate) in documents {
        let path = root.join(file);
        let current = match std::fs::read_to_string(&path) {
            Ok(current) => current,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ExportError::Io { path, source }),
        };
        let text = generate(&current).map_err(|message| ExportError::Generated {
            path: path.clone(),
            message,
        })?;
        outputs.push(Output { path, text });
    }
    Ok(outputs)
}

/// How the export on disk compares with what would be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Missing,
    /// `line` is the first line (1-based) that differs.
    Stale {
        line: usize,
    },
}

/// Compares the file at `path` with `expected` (an [`Output`]'s text).
pub fn freshness(path: &Path, expected: &str) -> Result<Freshness, ExportError> {
    let path = path.to_owned();
    let actual = match std::fs::read_to_string(&path) {
        Ok(actual) => actual,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Freshness::Missing),
        Err(source) => return Err(ExportError::Io { path, source }),
    };
    if actual == expected {
        return Ok(Freshness::Fresh);
    }
    let mut actual_lines = actual.split_inclusive('\n');
    let mut expected_lines = expected.split_inclusive('\n');
    let mut line = 1;
    while actual_lines.next() == expected_lines.next() {
        line += 1;
    }
    Ok(Freshness::Stale { line })
}

/// One scenario file's content as a JSON object with sorted keys (the form the JSON Schema
/// `scenarios/schema/scenario.schema.json` describes). Only parses: see [`export`] for checks.
pub fn file_content(path: &Path) -> Result<Map<String, Value>, ExportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ExportError::Io {
        path: path.to_owned(),
        source,
    })?;
    text_content(path, &text)
}

/// [`file_content`] of a text already read; `path` is what errors name.
fn text_content(path: &Path, text: &str) -> Result<Map<String, Value>, ExportError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ExportError::Value {
        path: path.to_owned(),
        key: "(file)".into(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    table_to_json(&table, "").map_err(|(key, message)| ExportError::Value {
        path: path.to_owned(),
        key,
        message,
    })
}

/// On failure: the key (`step[0].token.claims.iat`) and what is wrong with its value.
fn table_to_json(table: &toml::Table, key: &str) -> Result<Map<String, Value>, (String, String)> {
    let mut entries: Vec<_> = table.iter().collect();
    // Sorted whatever map type serde_json was built with (`preserve_order` keeps insertion
    // order), so the output does not depend on another crate's features.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
        .into_iter()
        .map(|(name, value)| {
            let child = if key.is_empty() {
                name.clone()
            } else {
                format!("{key}.{name}")
            };
            Ok((name.clone(), to_json(value, &child)?))
        })
        .collect()
}

fn to_json(value: &toml::Value, key: &str) -> Result<Value, (String, String)> {
    Ok(match value {
        toml::Value::String(text) => Value::String(text.clone()),
        toml::Value::Integer(number) => Value::from(*number),
        toml::Value::Boolean(flag) => Value::Bool(*flag),
        toml::Value::Float(number) => {
            Value::Number(Number::from_f64(*number).ok_or_else(|| {
                (
                    key.to_owned(),
                    format!("{number} has no JSON form; write a finite number"),
                )
            })?)
        }
        toml::Value::Datetime(at) => {
            return Err((
                key.to_owned(),
                format!("the TOML date-time {at} has no JSON form; write Unix seconds or a string"),
            ));
        }
        toml::Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(item, &format!("{key}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => Value::Object(table_to_json(table, key)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::test_support::{MINIMAL, folder};

    #[test]
    fn scenarios_are_sorted_by_id_with_their_content_as_written() {
        let other = MINIMAL.replace(
            "status = 200",
            "status = 200, json = { value = { b = 1, a = [true, 1.5] }, level = \"pypi-exact\" }",
        );
        let dir = folder(&[("a/b.toml", MINIMAL), ("a-c.toml", &other)]);
        let document = export(dir.path()).unwrap();
        let ids: Vec<_> = document.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a-c", "a/b"]);
        let text = render(&document);
        assert!(text.ends_with("}\n"), "{text}");
        // Keys sorted at every depth, whatever order the file wrote them in.
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle} in {text}"))
        };
        assert!(at("\"a\": [\n") < at("\"b\": 1\n"), "{text}");
        assert!(at("\"id\": \"a-c\"") < at("\"level\": \"core\""), "{text}");
        // Defaults stay out: the file did not write `fixture` or `tags`.
        assert!(
            !text.contains("fixture") && !text.contains("tags"),
            "{text}"
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["scenarios"][1]["id"], "a/b");
        assert_eq!(value["scenarios"][1]["step"][0]["action"], "audience");
        assert_eq!(value["spec"], SPEC_PATH);
    }

    #[test]
    fn a_date_time_is_refused_with_file_and_key() {
        let text = MINIMAL.replace(
            "action = \"audience\"",
            "action = \"mint\"\ntoken = { claims = { iat = 2026-01-01T00:00:00Z } }",
        );
        let dir = folder(&[("case.toml", &text)]);
        let err = export(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("case.toml: key `step[0].token.claims.iat`: the TOML date-time"),
            "{err}"
        );
    }

    #[test]
    fn freshness_names_the_first_differing_line() {
        let dir = folder(&[("case.toml", MINIMAL)]);
        let expected = render(&export(dir.path()).unwrap());
        assert_eq!(
            freshness(&dist_path(dir.path()), &expected).unwrap(),
            Freshness::Missing
        );
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::write(dist_path(dir.path()), &expected).unwrap();
        assert_eq!(
            freshness(&dist_path(dir.path()), &expected).unwrap(),
            Freshness::Fresh
        );
        std::fs::write(
            dist_path(dir.path()),
            expected.replacen("\"t\"", "\"old\"", 1),
        )
        .unwrap();
        let line = expected.lines().position(|l| l.contains("\"t\"")).unwrap() + 1;
        assert_eq!(
            freshness(&dist_path(dir.path()), &expected).unwrap(),
            Freshness::Stale { line }
        );
        std::fs::write(dist_path(dir.path()), expected.trim_end()).unwrap();
        let last = expected.lines().count();
        assert_eq!(
            freshness(&dist_path(dir.path()), &expected).unwrap(),
            Freshness::Stale { line: last }
        );
    }
}
