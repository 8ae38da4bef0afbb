//! Fixtures shared by the unit tests.

/// The smallest valid scenario file; tests derive broken ones from it.
pub const MINIMAL: &str = r#"
title = "t"
requirement = "r"
rules = ["R-EP-1"]
level = "core"
[[step]]
action = "audience"
expect = { status = 200 }
"#;

/// A temporary scenarios folder holding `files` (path, text).
pub fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// A request step, written as a `[[step]]` table's keys, typed without the loader's other
/// checks.
pub fn exchange(step_toml: &str) -> super::model::Exchange {
    let raw: super::file::StepTable = toml::from_str(step_toml).unwrap();
    super::validate::exchange_unchecked(&raw)
}

/// An `expect` table's keys, typed.
pub fn expect(expect_toml: &str) -> super::model::Expect {
    super::validate::expect_unchecked(toml::from_str(expect_toml).unwrap())
}

/// The exchange of a request step.
pub fn exchange_of(step: &super::model::Step) -> &super::model::Exchange {
    match &step.kind {
        super::model::StepKind::Exchange(exchange) => exchange,
        other => panic!("step {} is no request step: {other:?}", step.name),
    }
}
