//! The scenario suite and scenario files, for the lints.

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

pub fn schema() -> Value {
    let path = suite().join("schema/scenario.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub const MINIMAL: &str = r#"title = "t"
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

/// The `.toml` files the loader reads: everything but the top-level `dist/` and `schema/`.
pub fn scenario_files(root: &Path) -> Vec<PathBuf> {
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
