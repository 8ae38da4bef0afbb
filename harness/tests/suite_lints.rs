//! The scenario suite linted as data: every file reads with Python's `tomllib`, IDs are
//! unique ignoring case, no two scenarios are the same, every refusal has a positive twin,
//! the export is fresh, every cited rule exists and the format's README keeps up. Each lint
//! runs on the real `scenarios/` folder and, to show it can fail, on a temporary folder
//! holding a bad file. The JSON Schema has lints of its own (`schema_lints.rs`,
//! `schema_types.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use mintcheck::scenario::expect::ISSUER_ENDPOINTS;
use mintcheck::scenario::export::{self, Freshness};
use mintcheck::scenario::fixture::Flag;
use mintcheck::scenario::load::load_dir_as_written;
use mintcheck::scenario::model::{Payload, Request, StepKind, Twin};
use mintcheck::scenario::{Scenario, ScenarioFile, load_dir};
use mock_issuer::Profile;
use serde_json::json;

mod common;

use common::files::*;

// --- Python's tomllib reads every file (TOML 1.0; the Rust loader also reads TOML 1.1) ---

/// `path: error` for every file `tomllib` refuses.
fn tomllib_failures(root: &Path) -> Vec<String> {
    const SCRIPT: &str = "\
import sys, tomllib
for path in sys.argv[1:]:
    try:
        with open(path, 'rb') as f:
            tomllib.load(f)
    except Exception as e:
        print(f'{path}: {e}')
";
    let output = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .args(scenario_files(root))
        .output()
        .unwrap_or_else(|e| {
            panic!("this lint runs python3 (3.11 or later, for tomllib; CI has 3.11): {e}")
        });
    assert!(
        output.status.success(),
        "python3 could not run the tomllib check (tomllib needs Python 3.11 or later):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_scenario_file_reads_with_python_tomllib() {
    let failures = tomllib_failures(&suite());
    assert!(
        failures.is_empty(),
        "Python's tomllib (TOML 1.0) refuses:\n{}",
        failures.join("\n")
    );
}

#[test]
fn tomllib_lint_catches_toml_1_1_syntax() {
    // A trailing comma in an inline table is TOML 1.1: the Rust loader reads it, tomllib does not.
    let text = MINIMAL.replace("{ status = 200 }", "{ status = 200, }");
    let dir = folder(&[("area/toml-1-1.toml", &text)]);
    load_dir(dir.path()).expect("the Rust loader reads TOML 1.1");
    let failures = tomllib_failures(dir.path());
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("toml-1-1.toml: "), "{failures:?}");
}

// --- IDs unique ignoring case (the suite must check out on macOS and Windows) ---

/// Groups of IDs that differ only in case.
fn case_clashes(scenarios: &[Scenario]) -> Vec<Vec<String>> {
    let mut by_folded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for scenario in scenarios {
        by_folded
            .entry(scenario.id.to_lowercase())
            .or_default()
            .push(scenario.id.clone());
    }
    by_folded
        .into_values()
        .filter(|ids| ids.len() > 1)
        .collect()
}

#[test]
fn scenario_ids_are_unique_ignoring_case() {
    let clashes = case_clashes(&load_dir(&suite()).unwrap());
    assert!(
        clashes.is_empty(),
        "IDs that differ only in case: {clashes:?}"
    );
}

#[test]
fn id_lint_catches_ids_differing_in_case() {
    let dir = folder(&[("Area/Case.toml", MINIMAL), ("area/case.toml", MINIMAL)]);
    let clashes = case_clashes(&load_dir(dir.path()).unwrap());
    assert_eq!(
        clashes,
        [vec!["Area/Case".to_owned(), "area/case".to_owned()]]
    );
}

// --- no two scenarios do the same thing ---

/// Pairs of IDs with the same fixture and steps (titles, rules and levels aside). Compared
/// as loaded, so `now-1h` and `now-3600s` are the same time.
fn duplicates(scenarios: &[(Scenario, ScenarioFile)]) -> Vec<(String, String)> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut pairs = Vec::new();
    for (scenario, file) in scenarios {
        let key = json!([file.fixture, file.steps]).to_string();
        match seen.get(&key) {
            Some(first) => pairs.push((first.clone(), scenario.id.clone())),
            None => {
                seen.insert(key, scenario.id.clone());
            }
        }
    }
    pairs
}

#[test]
fn no_two_scenarios_have_the_same_fixture_and_steps() {
    let pairs = duplicates(&load_dir_as_written(&suite()).unwrap());
    assert!(pairs.is_empty(), "the same fixture and steps: {pairs:?}");
}

#[test]
fn duplicate_lint_catches_a_copy_under_another_title() {
    let timed = |time: &str| {
        MINIMAL.replace(
            "action = \"audience\"",
            &format!("action = \"mint\"\ntoken = {{ times = {{ exp = \"{time}\" }} }}"),
        )
    };
    let dir = folder(&[
        ("a.toml", &timed("now-1h")),
        (
            "b.toml",
            &timed("now-3600s").replace("title = \"t\"", "title = \"copy\""),
        ),
        ("c.toml", &timed("now-1m")),
    ]);
    assert_eq!(
        duplicates(&load_dir_as_written(dir.path()).unwrap()),
        [("a".to_owned(), "b".to_owned())]
    );
}

// --- every refusal of a forged token has a positive twin ---

/// `ID step N` of each mint step that refuses a forged token without saying what would have
/// minted instead: no defects (whose removal is the twin), no `twin`, no `no_twin`.
fn refusals_without_twin(scenarios: &[Scenario]) -> Vec<String> {
    let mut missing = Vec::new();
    for scenario in scenarios {
        for (index, step) in scenario.steps.iter().enumerate() {
            let StepKind::Exchange(exchange) = &step.kind else {
                continue;
            };
            let Request::Mint(mint) = &exchange.request else {
                continue;
            };
            let refusal = exchange.expect.status_value() != Some(200);
            let twinned = match &mint.send.payload {
                Payload::Token(token) => {
                    !token.defects.is_empty() || mint.twin != Twin::WithoutDefects
                }
                Payload::Body(_) => true,
            };
            if refusal && !twinned {
                missing.push(format!("{} step {}", scenario.id, index + 1));
            }
        }
    }
    missing
}

#[test]
fn every_refusal_of_a_forged_token_has_a_positive_twin() {
    let missing = refusals_without_twin(&load_dir(&suite()).unwrap());
    assert!(
        missing.is_empty(),
        "refusals with no defects, `twin` or `no_twin` (a refusal proves something only next to what would have minted): {missing:?}"
    );
}

#[test]
fn twin_lint_catches_a_refusal_with_nothing_to_compare() {
    let refusal = |extra: &str| {
        MINIMAL.replace(
            "action = \"audience\"\nexpect = { status = 200 }",
            &format!(
                "action = \"mint\"\ntoken = {{ claims = {{ environment = \"x\" }} }}\n{extra}expect = {{ status = 422, code = \"invalid-publisher\" }}"
            ),
        )
    };
    let dir = folder(&[
        ("bare.toml", &refusal("")),
        ("twin.toml", &refusal("twin = {}\n")),
        (
            "reason.toml",
            &refusal("no_twin = \"the fixture refuses\"\n"),
        ),
        (
            "graded.toml",
            &refusal("grade = { core = \"accept\", reason = \"r\" }\n"),
        ),
    ]);
    assert_eq!(
        refusals_without_twin(&load_dir(dir.path()).unwrap()),
        ["bare step 1", "graded step 1"]
    );
}

// --- the export is fresh ---

/// Each file `mintcheck export` writes under `root`, with how it compares.
fn freshness(root: &Path) -> Vec<(String, Freshness)> {
    let outputs = export::outputs(root).unwrap_or_else(|e| panic!("{e}"));
    outputs
        .iter()
        .map(|output| {
            let relative = output.path.strip_prefix(root).unwrap();
            let found = export::freshness(&output.path, &output.text).unwrap();
            (relative.display().to_string(), found)
        })
        .collect()
}

#[test]
fn the_export_and_the_generated_documentation_are_fresh() {
    let found = freshness(&suite());
    let names: Vec<&str> = found.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "dist/scenarios.json",
            "schema/scenario.schema.json",
            "README.md"
        ]
    );
    let stale: Vec<_> = found
        .iter()
        .filter(|(_, freshness)| *freshness != Freshness::Fresh)
        .collect();
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}: run `cargo run -- export --scenarios scenarios` and commit the result"
    );
}

#[test]
fn export_lint_catches_a_missing_or_stale_export() {
    let dir = folder(&[("area/case.toml", MINIMAL)]);
    let dist = || freshness(dir.path()).remove(0);
    assert_eq!(dist(), ("dist/scenarios.json".into(), Freshness::Missing));
    let rendered = export::render(&export::export(dir.path()).unwrap());
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::write(export::dist_path(dir.path()), &rendered).unwrap();
    assert_eq!(dist().1, Freshness::Fresh);
    std::fs::write(
        dir.path().join("area/case.toml"),
        MINIMAL.replace("\"t\"", "\"new title\""),
    )
    .unwrap();
    assert!(matches!(dist().1, Freshness::Stale { .. }));
}

#[test]
fn a_defect_table_edited_by_hand_is_stale() {
    let readme = std::fs::read_to_string(suite().join("README.md")).unwrap();
    let edited = readme.replacen("| `expired` |", "| `expired-by-hand` |", 1);
    let dir = folder(&[("area/case.toml", MINIMAL), ("README.md", &edited)]);
    let found = freshness(dir.path());
    assert_eq!(found[1].0, "README.md");
    assert!(matches!(found[1].1, Freshness::Stale { .. }), "{found:?}");
    let unmarked = folder(&[("area/case.toml", MINIMAL), ("README.md", "no table here")]);
    let err = export::outputs(unmarked.path()).unwrap_err().to_string();
    assert!(
        err.contains("README.md: no line `<!-- the defect table"),
        "{err}"
    );
}

#[test]
fn export_check_exits_1_while_stale_and_0_once_written() {
    let dir = folder(&[("area/case.toml", MINIMAL)]);
    let mintcheck = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mintcheck"))
            .arg("export")
            .arg("--scenarios")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let check = mintcheck(&["--check"]);
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "dist/scenarios.json is missing; run `mintcheck export --scenarios {}`",
            dir.path().display()
        )),
        "{stderr}"
    );
    assert!(mintcheck(&[]).status.success());
    let check = mintcheck(&["--check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    std::fs::write(dir.path().join("area/bad.toml"), "title = ").unwrap();
    assert_eq!(
        mintcheck(&["--check"]).status.code(),
        Some(2),
        "a bad scenario file is a usage error"
    );
}

// --- every cited rule exists in the spec ---

#[test]
fn every_cited_rule_exists_in_the_spec() {
    let scenarios = load_dir(&suite()).unwrap_or_else(|e| panic!("{e}"));
    let unknown: Vec<String> = scenarios
        .iter()
        .flat_map(|s| s.rules.iter().map(move |rule| (s, rule)))
        .filter(|(_, rule)| !mintcheck::spec::rules::is_rule(rule))
        .map(|(s, rule)| format!("{}: {rule}", s.id))
        .collect();
    assert!(
        unknown.is_empty(),
        "rules not in docs/spec/pypi-mint-token.md: {unknown:?}"
    );
}

#[test]
fn rule_lint_catches_a_rule_the_spec_lacks() {
    let dir = folder(&[("area/case.toml", &MINIMAL.replace("R-EP-1", "R-EP-99"))]);
    let err = load_dir(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("case.toml") && err.contains("key `rules[0]`: \"R-EP-99\" is not a rule"),
        "{err}"
    );
}

// --- the format's README keeps up with the code ---

/// What `readme` fails to mention: defect syntaxes and profiles (as table rows), flags,
/// issuer endpoints, error codes, and the areas of `scenarios` (as table rows).
fn readme_misses(readme: &str, scenarios: &[Scenario]) -> Vec<String> {
    let mut names: Vec<String> = mock_issuer::defect::catalogue()
        .iter()
        .map(|(syntax, _)| format!("| `{syntax}` |"))
        .collect();
    names.extend(Profile::ALL.map(|p| format!("| `{}` |", p.name())));
    names.extend(Flag::ALL.map(|flag| format!("`{}`", flag.name())));
    names.extend(ISSUER_ENDPOINTS.map(|endpoint| format!("`{endpoint}`")));
    names.extend(mintcheck::spec::rules::ErrorCode::ALL.map(|code| format!("`{code}`")));
    let areas: BTreeSet<&str> = scenarios
        .iter()
        .map(|s| s.id.split('/').next().unwrap())
        .collect();
    names.extend(areas.iter().map(|area| format!("| `{area}` |")));
    names.retain(|name| !readme.contains(name.as_str()));
    names
}

#[test]
fn the_readme_names_every_defect_profile_flag_endpoint_code_and_area() {
    let readme = std::fs::read_to_string(suite().join("README.md")).unwrap();
    let missing = readme_misses(&readme, &load_dir(&suite()).unwrap());
    assert!(
        missing.is_empty(),
        "scenarios/README.md does not mention: {missing:?}"
    );
}

#[test]
fn readme_lint_catches_a_missing_defect_and_a_new_area() {
    let readme = std::fs::read_to_string(suite().join("README.md")).unwrap();
    let readme = readme.replace("| `oversized` |", "| oversized |");
    let dir = folder(&[("brand-new-area/case.toml", MINIMAL)]);
    let missing = readme_misses(&readme, &load_dir(dir.path()).unwrap());
    assert_eq!(missing, ["| `oversized` |", "| `brand-new-area` |"]);
}
