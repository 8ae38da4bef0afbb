//! Builds the scenario suite into the binary, so a copied or installed `mintcheck` carries
//! the suite it was built with and never picks up a `scenarios/` folder it happens to run
//! beside. `embedded/scenarios` is a link to the repository's `scenarios/`; `cargo package`
//! follows it, so the packaged crate carries the files themselves.
//!
//! Written by hand rather than with an include-a-folder macro: those cannot tell cargo to
//! rebuild when a scenario file is added or edited, and a stale built-in suite would run
//! scenarios that are no longer in the tree.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Top-level folders that hold no scenarios (the loader's `NOT_SCENARIOS`).
const NOT_SCENARIOS: [&str; 2] = ["dist", "schema"];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest.join("embedded/scenarios");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut digest = Sha256::new();
    let mut code = String::from("pub static FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        let id = path
            .strip_prefix(&root)
            .expect("under the root")
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_str().expect("scenario paths are UTF-8"))
            .collect::<Vec<_>>()
            .join("/");
        let text = std::fs::read(path).expect("a readable scenario file");
        digest.update(id.as_bytes());
        digest.update([0]);
        digest.update(&text);
        digest.update([0]);
        writeln!(
            code,
            "    ({id:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    let hex: String = digest.finalize()[..6]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    writeln!(code, "pub const DIGEST: &str = {hex:?};").expect("writing to a String");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    std::fs::write(out.join("embedded_scenarios.rs"), code).expect("writing OUT_DIR");
}

/// Every `.toml` file under `dir`; each folder and file is watched, so adding, removing or
/// editing a scenario rebuilds the suite.
fn collect(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    println!("cargo::rerun-if-changed={}", dir.display());
    for entry in std::fs::read_dir(dir).expect("a readable scenarios folder") {
        let path = entry.expect("a readable folder entry").path();
        if path.is_dir() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !(dir == root && NOT_SCENARIOS.contains(&name)) {
                collect(root, &path, files);
            }
        } else if path.extension().is_some_and(|e| e == "toml") {
            println!("cargo::rerun-if-changed={}", path.display());
            files.push(path);
        }
    }
}
