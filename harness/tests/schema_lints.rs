//! The JSON Schema of scenario files (`scenarios/schema/`) against the real suite and the
//! loader: every file validates, and the schema accepts what the loader accepts.

use std::path::Path;

use mintcheck::scenario::export::{self};
use serde_json::Value;

mod common;

use common::files::*;

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
