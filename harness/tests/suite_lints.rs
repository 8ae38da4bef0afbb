//! The scenario suite linted as data (design §6): every file reads with Python's `tomllib`
//! and validates against the JSON Schema, the schema matches the serde types, IDs are unique
//! ignoring case, no two scenarios are the same, the export is fresh, and every cited rule
//! exists. Each lint runs on the real `scenarios/` folder and, to show it can fail, on a
//! temporary folder holding a bad file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use mintcheck::scenario::expect::{
    Answer, CountRange, ExpectTable, Grade, ISSUER_ENDPOINTS, JsonMatch, TextMatch,
};
use mintcheck::scenario::export::{self, Freshness};
use mintcheck::scenario::file::{Action, IssuerTable, JwkChange, StepTable, UploadSpec};
use mintcheck::scenario::fixture::{FixtureTable, Flag};
use mintcheck::scenario::load::load_dir_as_written;
use mintcheck::scenario::model::{Payload, Request, StepKind, Twin};
use mintcheck::scenario::{Level, Scenario, ScenarioFile, load_dir};
use mintcheck::spec::grading::Strength;
use mock_issuer::{Defect, Profile, RelativeTime, TokenSpec};
use reference_registry::fixture::{
    ActiveStateIdentity, GithubIdentity, GitlabIdentity, GoogleIdentity, PendingPublisher,
    Provider, Publisher, UsedJti,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn schema() -> Value {
    let path = suite().join("schema/scenario.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const MINIMAL: &str = r#"title = "t"
requirement = "r"
rules = ["R-EP-1"]
level = "core"

[[step]]
action = "audience"
expect = { status = 200 }
"#;

/// A temporary scenarios folder holding `files` (path, text).
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The `.toml` files the loader reads: everything but the top-level `dist/` and `schema/`.
fn scenario_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, top: bool, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() {
                if !(top && (name == "dist" || name == "schema")) {
                    walk(&path, false, files);
                }
            } else if name.ends_with(".toml") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, true, &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no scenario files under {}",
        root.display()
    );
    files
}

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

// --- the JSON Schema ---

fn validator() -> jsonschema::Validator {
    let schema = schema();
    jsonschema::draft202012::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("the schema is not valid JSON Schema 2020-12: {e}"));
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("the schema: {e}"))
}

/// `path: at POINTER: error` for every schema violation of every file under `root`.
fn schema_errors(root: &Path) -> Vec<String> {
    let validator = validator();
    let mut errors = Vec::new();
    for path in scenario_files(root) {
        let content = Value::Object(export::file_content(&path).unwrap());
        for error in validator.iter_errors(&content) {
            errors.push(format!(
                "{}: at {}: {error}",
                path.display(),
                error.instance_path()
            ));
        }
    }
    errors
}

#[test]
fn every_scenario_file_validates_against_the_schema() {
    let errors = schema_errors(&suite());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn schema_lint_catches_a_bad_file() {
    let text = MINIMAL.replace(
        "action = \"audience\"",
        "action = \"mint\"\ntoken = { defects = [\"expird\"] }",
    );
    let dir = folder(&[("area/typo.toml", &text)]);
    let errors = schema_errors(dir.path());
    assert!(
        errors
            .iter()
            .any(|e| e.contains("typo.toml: at /step/0/token/defects/0")),
        "{errors:?}"
    );
}

/// Whether the loader and the schema agree on a file: they must, except where the schema's
/// description says otherwise.
fn verdicts(text: &str) -> (Result<(), String>, Result<(), String>) {
    let dir = folder(&[("case.toml", text)]);
    let path = dir.path().join("case.toml");
    let loaded = mintcheck::scenario::load::load_file(dir.path(), &path)
        .map(drop)
        .map_err(|e| e.to_string());
    let validated = match export::file_content(&path) {
        Ok(content) => {
            let content = Value::Object(content);
            let errors: Vec<String> = validator()
                .iter_errors(&content)
                .map(|e| format!("at {}: {e}", e.instance_path()))
                .collect();
            if errors.is_empty() {
                Ok(())
            } else {
                Err(errors.join("; "))
            }
        }
        Err(err) => Err(err.to_string()),
    };
    (loaded, validated)
}

#[test]
fn the_schema_accepts_what_the_loader_accepts() {
    let github = r#"identity = { provider = "github", repository_owner = "o", repository_name = "r", repository_owner_id = "1", workflow_filename = "w.yml" }"#;
    let step =
        |lines: &str| MINIMAL.replace("action = \"audience\"\nexpect = { status = 200 }", lines);
    let cases: Vec<(String, bool)> = vec![
        (MINIMAL.into(), true),
        (MINIMAL.replace("title", "titel"), false),
        (MINIMAL.replace("title = \"t\"\n", ""), false),
        (MINIMAL.replace("[\"R-EP-1\"]", "[]"), false),
        (MINIMAL.replace("\"core\"", "\"strict\""), false),
        (
            MINIMAL.replace("level = \"core\"", "level = \"info\"\ntags = [\"x\"]"),
            true,
        ),
        (
            format!("{MINIMAL}\n[fixture]\nflags = [\"disallow-oidc\"]\naudience = \"testpypi\"\n"),
            true,
        ),
        (
            format!("{MINIMAL}\n[fixture]\nflags = [\"disallow-everything\"]\n"),
            false,
        ),
        (
            format!(
                "{MINIMAL}\n[fixture]\nprojects = [\"a\"]\n[[fixture.publishers]]\nprojects = [\"a\"]\n{github}\n"
            ),
            true,
        ),
        (
            format!(
                "{MINIMAL}\n[fixture]\n[[fixture.publishers]]\nprojects = []\n{}\n",
                github.replace("workflow_filename = \"w.yml\" ", "")
            ),
            false,
        ),
        (
            format!(
                "{MINIMAL}\n[fixture]\n[[fixture.publishers]]\nprojects = []\n{}\n",
                github.replace("\"github\"", "\"bitbucket\"")
            ),
            false,
        ),
        (
            format!(
                "{MINIMAL}\n[fixture]\n[[fixture.pending_publishers]]\nproject_name = \"p\"\nadded_by = \"u\"\nidentity = {{ provider = \"google\", email = \"e\" }}\n"
            ),
            true,
        ),
        (
            format!(
                "{MINIMAL}\n[fixture]\n[[fixture.pending_publishers]]\nproject_name = \"p\"\nidentity = {{ provider = \"google\", email = \"e\" }}\n"
            ),
            false,
        ),
        (
            format!(
                "{MINIMAL}\n[fixture]\nused_jtis = [{{ provider = \"gitlab\", jti = \"j\", expires = 5 }}]\n"
            ),
            true,
        ),
        (
            format!("{MINIMAL}\n[fixture]\nused_jtis = [{{ provider = \"gitlab\" }}]\n"),
            false,
        ),
        (
            MINIMAL.replace(
                "[[step]]\naction = \"audience\"\nexpect = { status = 200 }\n",
                "step = []\n",
            ),
            false,
        ),
        (step("action = \"mint\"\nexpect = { status = 422 }"), false),
        (
            step("action = \"mint\"\nbody = \"{}\"\ntoken = {}\nexpect = { status = 422 }"),
            false,
        ),
        (
            step(
                "action = \"mint\"\nbody = \"{}\"\npath = \"/x\"\ncontent_type = \"text/plain\"\nexpect = { status = 422, code = \"invalid-token\" }",
            ),
            true,
        ),
        (
            step(
                "action = \"mint\"\ntoken = { profile = \"ghes\", claims = { a = [1, { b = true }] }, times = { exp = \"now-1h\", iat = 5 }, remove = [\"jti\"], header = { kid = \"k\" }, remove_header = [\"typ\"], defects = [\"expired\", \"missing-claim:sub\", \"alg-none:None\"] }\nno_twin = \"why\"\nexpect = { status = 422, code = \"invalid-token\" }",
            ),
            true,
        ),
        (
            step(
                "action = \"mint\"\ntoken = { profile = \"bitbucket\" }\nexpect = { status = 422 }",
            ),
            false,
        ),
        (
            step(
                "action = \"mint\"\ntoken = { times = { exp = \"soon\" } }\nexpect = { status = 422 }",
            ),
            false,
        ),
        (
            step("action = \"mint\"\ntoken = { claim = {} }\nexpect = { status = 422 }"),
            false,
        ),
        (
            step("action = \"mint\"\ntoken = {}\nno_twin = \" \"\nexpect = { status = 422 }"),
            false,
        ),
        (
            step(
                "action = \"mint\"\ntoken = { claims = { environment = \"x\" } }\ntwin = {}\ngrade = { core = \"either\", pypi-exact = \"reject\", reason = \"why\" }\nexpect = { status = 422, code = \"invalid-token\" }",
            ),
            true,
        ),
        (
            step(
                "action = \"mint\"\ntoken = {}\ntwin = { defects = [\"expired\"] }\nexpect = { status = 422 }",
            ),
            false,
        ),
        (
            step(
                "action = \"mint\"\ntoken = {}\ntwin = {}\nno_twin = \"x\"\nexpect = { status = 422 }",
            ),
            false,
        ),
        (
            step("action = \"mint\"\nbody = \"{}\"\ntwin = {}\nexpect = { status = 422 }"),
            false,
        ),
        (
            step(
                "action = \"audience\"\ngrade = { core = \"either\", reason = \"why\" }\nexpect = { status = 200 }",
            ),
            false,
        ),
        (
            step(
                "action = \"mint\"\ntoken = {}\ngrade = { core = \"maybe\", reason = \"why\" }\nexpect = { status = 422 }",
            ),
            false,
        ),
        (
            step(
                "action = \"mint\"\ntoken = {}\ngrade = { core = \"accept\" }\nexpect = { status = 422 }",
            ),
            false,
        ),
        (
            step("action = \"mint-concurrent\"\ntoken = {}\ncount = 8\nexpect = { successes = 1 }"),
            true,
        ),
        (
            step("action = \"mint-concurrent\"\ntoken = {}\nexpect = { status = 422 }"),
            false,
        ),
        (
            step("action = \"mint-concurrent\"\ntoken = {}\ncount = 1\nexpect = { successes = 1 }"),
            false,
        ),
        (
            step(
                "action = \"upload\"\nupload = { name = \"n\", version = \"2\", token = \"t\" }\nexpect = { status = 200 }",
            ),
            true,
        ),
        (
            step("action = \"upload\"\nexpect = { status = 200 }"),
            false,
        ),
        (
            step("action = \"upload\"\nupload = { token = \"t\" }\nexpect = { status = 200 }"),
            false,
        ),
        (
            step(
                "action = \"request\"\nmethod = \"PUT\"\npath = \"/\"\nbody = \"x\"\nexpect = { status = 405 }",
            ),
            true,
        ),
        (
            step("action = \"request\"\nexpect = { status = 405 }"),
            false,
        ),
        (
            step("action = \"audience\"\ntoken = {}\nexpect = { status = 200 }"),
            false,
        ),
        (step("action = \"dance\"\nexpect = { status = 200 }"), false),
        (
            step("name = \"a\"\naction = \"audience\"\nexpect = { status = 200 }\nextra = 1"),
            false,
        ),
        (step("action = \"audience\"\nexpect = {}"), false),
        (
            step(
                "action = \"audience\"\nexpect = { headers = { allow = { exact = \"GET\", level = \"pypi-exact\" } } }",
            ),
            true,
        ),
        (
            step("action = \"audience\"\nexpect = { issuer_requests = {} }"),
            false,
        ),
        (
            step(
                "action = \"audience\"\nexpect = { issuer_requests = { jwks = { max = 1 }, attacker-jku = { min = 0, max = 0 } } }",
            ),
            true,
        ),
        (
            step("action = \"audience\"\nexpect = { issuer_requests = { jku = { max = 1 } } }"),
            false,
        ),
        (
            step("action = \"audience\"\nexpect = { issuer_requests = { jwks = {} } }"),
            false,
        ),
        (
            step(
                "action = \"audience\"\nexpect = { status = 200, body = { exact = \"a\", level = \"pypi-exact\" }, reason = { prefix = \"b\", rule = \"R-EP-1\" }, headers = { allow = { contains = \"c\", rule = \"R-EP-1\", strength = \"should\" } }, description = [{ regex = \"d\", rule = \"R-EP-1\" }, { exact = \"d\", level = \"pypi-exact\" }] }",
            ),
            true,
        ),
        (
            step(
                "action = \"audience\"\nexpect = { status = 200, body = { exact = \"a\", prefix = \"b\" } }",
            ),
            false,
        ),
        (
            step("action = \"audience\"\nexpect = { status = 200, body = { level = \"core\" } }"),
            false,
        ),
        (
            step(
                "action = \"audience\"\nexpect = { status = 200, body = { exact = \"a\", level = \"strict\" } }",
            ),
            false,
        ),
        (
            step(
                "action = \"audience\"\nexpect = { json = { value = { a = \"$type:integer\", b = \"$matches:^x\" }, level = \"info\" } }",
            ),
            true,
        ),
        (
            step("action = \"audience\"\nexpect = { json = { level = \"info\" } }"),
            false,
        ),
        (
            step(
                "action = \"mint\"\nbody = \"{}\"\nexpect = { status = { value = 422, level = \"core\", rule = \"R-RESP-6\", strength = \"must\" }, code = [\"invalid-payload\", \"invalid-token\"] }",
            ),
            true,
        ),
        (
            step(
                "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422, code = { value = \"invalid-reuse-token\", level = \"pypi-exact\" } }",
            ),
            true,
        ),
        (
            step("action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422, code = [] }"),
            false,
        ),
        (
            step(
                "action = \"mint\"\nbody = \"{}\"\nexpect = { status = { value = 422, lvl = \"core\" }, code = \"invalid-token\" }",
            ),
            false,
        ),
        (
            step("action = \"mint\"\nbody = \"{}\"\nexpect = { status = { level = \"core\" } }"),
            false,
        ),
        (
            step(
                "action = \"audience\"\nexpect = { status = 200, body = { exact = \"a\", rule = \"R-EP-1\", strength = \"may\" } }",
            ),
            false,
        ),
        (
            step(
                "action = \"audience\"\nexpect = { status = 200, body = { exact = \"a\", rule = \"EP-1\" } }",
            ),
            false,
        ),
        (
            step(
                "action = \"audience\"\nexpect = { status = 200, json = { value = { audience = \"pypi\" }, partial = true, rule = \"R-EP-1\" } }",
            ),
            true,
        ),
        (
            step(
                "action = \"mint\"\ntoken = {}\nno_twin = \"why\"\ngrade = { core = \"too-large\", reason = \"why\" }\nexpect = { status = 422, code = \"invalid-payload\" }",
            ),
            true,
        ),
    ];
    let mut disagreements = Vec::new();
    for (text, valid) in &cases {
        let (loaded, validated) = verdicts(text);
        if loaded.is_ok() != *valid || validated.is_ok() != *valid {
            disagreements.push(format!(
                "expected {}:\n{text}\n  loader: {loaded:?}\n  schema: {validated:?}",
                if *valid { "valid" } else { "invalid" }
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n\n"));
}

#[test]
fn loader_and_schema_both_refuse_values_that_could_never_pass() {
    let step = |expect: &str| MINIMAL.replace("{ status = 200 }", expect);
    for text in [
        step("{ status = 4220 }"),
        step("{ status = 422, code = \"invalid-tokens\" }"),
        step("{ json = { value = { a = \"$type:int\" } } }"),
    ] {
        let (loaded, validated) = verdicts(&text);
        assert!(
            loaded.is_err() && validated.is_err(),
            "{text}\n{loaded:?}\n{validated:?}"
        );
    }
}

/// Field names a serde type accepts, from its `deny_unknown_fields` error message.
fn serde_fields<T: DeserializeOwned>() -> BTreeSet<String> {
    let err = serde_json::from_str::<T>(r#"{"\u0001": 0}"#)
        .err()
        .expect("unknown field refused");
    names_after_expected(&err.to_string())
}

/// Variant names a serde enum accepts, from its unknown-variant error message.
fn serde_variants<T: DeserializeOwned>() -> BTreeSet<String> {
    let err = serde_json::from_str::<T>(r#""\u0001""#)
        .err()
        .expect("unknown variant refused");
    names_after_expected(&err.to_string())
}

fn names_after_expected(message: &str) -> BTreeSet<String> {
    let (_, expected) = message
        .split_once("expected")
        .unwrap_or_else(|| panic!("{message}"));
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn schema_keys(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(&format!("{pointer}/properties"))
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no properties at {pointer}"))
        .keys()
        // An identity's `provider` is serde's enum tag, not a field of the variant's struct.
        .filter(|key| !(pointer.starts_with("/$defs/identity/") && *key == "provider"))
        .cloned()
        .collect()
}

fn schema_enum(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no enum at {pointer}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn strings<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names.into_iter().map(str::to_owned).collect()
}

#[test]
fn the_schema_names_the_same_keys_and_values_as_the_serde_types() {
    let schema = schema();
    let structs: [(&str, BTreeSet<String>); 19] = [
        ("", serde_fields::<ScenarioFile>()),
        ("/$defs/fixture", serde_fields::<FixtureTable>()),
        ("/$defs/publisher", serde_fields::<Publisher>()),
        (
            "/$defs/pending_publisher",
            serde_fields::<PendingPublisher>(),
        ),
        ("/$defs/used_jti", serde_fields::<UsedJti>()),
        ("/$defs/identity/oneOf/0", serde_fields::<GithubIdentity>()),
        ("/$defs/identity/oneOf/1", serde_fields::<GitlabIdentity>()),
        ("/$defs/identity/oneOf/2", serde_fields::<GoogleIdentity>()),
        (
            "/$defs/identity/oneOf/3",
            serde_fields::<ActiveStateIdentity>(),
        ),
        ("/$defs/step", serde_fields::<StepTable>()),
        ("/$defs/token", serde_fields::<TokenSpec>()),
        ("/$defs/upload", serde_fields::<UploadSpec>()),
        ("/$defs/expect", serde_fields::<ExpectTable>()),
        ("/$defs/count_range", serde_fields::<CountRange>()),
        ("/$defs/text_match", serde_fields::<TextMatch>()),
        ("/$defs/json_match", serde_fields::<JsonMatch>()),
        ("/$defs/grade", serde_fields::<Grade>()),
        ("/$defs/issuer_change", serde_fields::<IssuerTable>()),
        (
            "/$defs/issuer_change/properties/jwk",
            serde_fields::<JwkChange>(),
        ),
    ];
    for (pointer, fields) in structs {
        assert_eq!(schema_keys(&schema, pointer), fields, "keys of {pointer:?}");
    }
    let providers = strings(Provider::ALL.map(Provider::name));
    let identity_providers: BTreeSet<String> = (0..4)
        .map(|i| {
            schema["$defs"]["identity"]["oneOf"][i]["properties"]["provider"]["const"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let enums = [
        (
            "/$defs/step/properties/action/enum",
            serde_variants::<Action>(),
        ),
        ("/$defs/level/enum", serde_variants::<Level>()),
        ("/$defs/answer/enum", serde_variants::<Answer>()),
        ("/$defs/provider/enum", providers.clone()),
        (
            "/$defs/fixture/properties/flags/items/enum",
            strings(Flag::ALL.map(Flag::name)),
        ),
        (
            "/$defs/token/properties/profile/enum",
            strings(Profile::ALL.map(Profile::name)),
        ),
        (
            "/$defs/expect/properties/issuer_requests/propertyNames/enum",
            strings(ISSUER_ENDPOINTS),
        ),
        (
            "/$defs/code/enum",
            strings(mintcheck::spec::rules::ErrorCode::ALL.map(|c| c.name())),
        ),
        ("/$defs/strength/enum", serde_variants::<Strength>()),
    ];
    for (pointer, values) in enums {
        assert_eq!(
            schema_enum(&schema, pointer),
            values,
            "values at {pointer:?}"
        );
    }
    assert_eq!(identity_providers, providers);
}

/// A validator for one `$defs` entry of the scenario schema.
fn definition(name: &str) -> jsonschema::Validator {
    let schema = schema();
    jsonschema::draft202012::new(
        &json!({"$defs": schema["$defs"], "$ref": format!("#/$defs/{name}")}),
    )
    .unwrap()
}

#[test]
fn the_schema_accepts_exactly_the_defect_names_the_mock_issuer_parses() {
    let mut candidates: Vec<String> = mock_issuer::defect::every_defect()
        .iter()
        .map(ToString::to_string)
        .collect();
    candidates.extend(
        mock_issuer::defect::catalogue()
            .iter()
            .map(|(syntax, _)| syntax.to_string()),
    );
    candidates.extend(
        [
            "alg-none:NoNe",
            "alg-none:",
            "duplicate-claim:repository",
            "missing-claim:sub",
            "missing-claim:a:b",
            "wrong-type-claim:exp",
            "hs256-public-key:der",
            "malformed:bad-base64",
            "expird",
            "Expired",
            "expired:1",
            "no-kid:",
            "missing-claim",
            "missing-claim:",
            "malformed",
            "malformed:",
            "malformed:three-segments",
            "hs256-public-key:",
            "hs256-public-key:pkcs1",
            "oversized:2",
            " expired",
            "other-issuer-key:gitlab",
            "other-issuer-key:bitbucket",
            "other-rsa-alg:RS512",
            "other-rsa-alg:RS256",
            "other-rsa-alg:ps256",
            "malformed:whitespace-around",
        ]
        .map(str::to_owned),
    );
    let validator = definition("defect");
    for candidate in candidates {
        let parses = candidate.parse::<Defect>().is_ok();
        assert_eq!(
            validator.is_valid(&json!(candidate)),
            parses,
            "{candidate:?} parses: {parses}"
        );
    }
}

#[test]
fn the_schema_accepts_exactly_the_times_the_mock_issuer_parses() {
    let candidates = [
        json!("now"),
        json!("now-1h"),
        json!("now+30s"),
        json!("now-29.5s"),
        json!(" now-1d "),
        json!("now+.5m"),
        json!("now+5.s"),
        json!("1767225000"),
        json!("-5"),
        json!("1e9"),
        json!(".5"),
        json!(1767225000),
        json!(1.5),
        json!("soon"),
        json!("now-1"),
        json!("now+-1s"),
        json!("now++1s"),
        json!("now+1x"),
        json!("now 1s"),
        json!("now+s"),
        json!("inf"),
        json!("NaN"),
        json!("1767225000s"),
        json!(true),
        json!(""),
    ];
    let validator = definition("time");
    for candidate in candidates {
        let parses = serde_json::from_value::<RelativeTime>(candidate.clone()).is_ok();
        assert_eq!(
            validator.is_valid(&candidate),
            parses,
            "{candidate} parses: {parses}"
        );
    }
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

fn freshness(root: &Path) -> Freshness {
    let document = export::export(root).unwrap_or_else(|e| panic!("{e}"));
    export::freshness(root, &export::render(&document)).unwrap()
}

#[test]
fn the_export_is_fresh() {
    assert_eq!(
        freshness(&suite()),
        Freshness::Fresh,
        "scenarios/dist/scenarios.json is out of date: run `cargo run -- export` and commit it"
    );
}

#[test]
fn export_lint_catches_a_missing_or_stale_export() {
    let dir = folder(&[("area/case.toml", MINIMAL)]);
    assert_eq!(freshness(dir.path()), Freshness::Missing);
    let rendered = export::render(&export::export(dir.path()).unwrap());
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    std::fs::write(export::dist_path(dir.path()), &rendered).unwrap();
    assert_eq!(freshness(dir.path()), Freshness::Fresh);
    std::fs::write(
        dir.path().join("area/case.toml"),
        MINIMAL.replace("\"t\"", "\"new title\""),
    )
    .unwrap();
    assert!(matches!(freshness(dir.path()), Freshness::Stale { .. }));
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
        stderr.contains("dist/scenarios.json is missing; run `mintcheck export`"),
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
