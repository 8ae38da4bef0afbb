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
