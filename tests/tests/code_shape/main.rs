//! The shape of the code, checked: no source file over 600 lines, no function over 80 lines
//! outside tests, and the harness's modules importing only downward (the layer order in
//! `harness/src/lib.rs`). Each check lists every offender, so one run says all there is to
//! fix.

mod layers;
mod lexer;

use std::path::{Path, PathBuf};

use lexer::code_only;

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 80;

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Every `.rs` file of the workspace's member crates (build output aside; the cargo-fuzz
/// workspace in `fuzz/` is not a member), relative to the workspace root.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if !matches!(name.to_str(), Some("target" | ".git")) {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = workspace();
    let mut files = Vec::new();
    for krate in ["harness", "mock-issuer", "reference-registry", "tests"] {
        walk(&root.join(krate), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|p| p.strip_prefix(&root).unwrap().to_owned())
        .collect()
}

/// Each function's name, first line and length in lines, outside `#[cfg(test)]` modules.
fn long_functions(file: &Path, text: &str) -> Vec<String> {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    let mut test_module_until: Option<usize> = None;
    let mut depth = 0usize;
    // (name, start line, depth its body opened at)
    let mut open: Vec<(String, usize, usize)> = Vec::new();
    let mut pending_fn: Option<(String, usize)> = None;
    let mut cfg_test = false;
    for (number, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if text
            .lines()
            .nth(number)
            .is_some_and(|raw| raw.trim() == "#[cfg(test)]")
        {
            cfg_test = true;
        }
        if cfg_test
            && trimmed.starts_with("mod ")
            && trimmed.ends_with('{')
            && test_module_until.is_none()
        {
            test_module_until = Some(depth);
        }
        if let Some(index) = find_fn(trimmed) {
            let name: String = trimmed[index + 3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            pending_fn = Some((name, number));
        }
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    if let Some((name, start)) = pending_fn.take() {
                        open.push((name, start, depth));
                    }
                }
                '}' => {
                    if let Some((_, _, at)) = open.last()
                        && *at == depth
                    {
                        let (name, start, _) = open.pop().unwrap();
                        let length = number - start + 1;
                        if length > MAX_FN_LINES && test_module_until.is_none() {
                            found.push(format!(
                                "{}:{}: fn {name} is {length} lines",
                                file.display(),
                                start + 1
                            ));
                        }
                    }
                    depth = depth.saturating_sub(1);
                    if test_module_until == Some(depth) {
                        test_module_until = None;
                        cfg_test = false;
                    }
                }
                // A declaration without a body (a trait method).
                ';' if pending_fn.is_some()
                    && open.last().is_none_or(|(_, _, at)| *at <= depth)
                    && !line.contains('{') =>
                {
                    pending_fn = None;
                }
                _ => {}
            }
        }
    }
    found
}

/// Where `fn ` starts a function item on this line, if it does.
fn find_fn(line: &str) -> Option<usize> {
    let starts = [
        "fn ",
        "pub fn ",
        "pub(crate) fn ",
        "pub(super) fn ",
        "async fn ",
        "pub async fn ",
        "pub(crate) async fn ",
        "pub(super) async fn ",
        "const fn ",
        "pub const fn ",
        "unsafe fn ",
        "pub unsafe fn ",
    ];
    starts
        .iter()
        .find(|s| line.starts_with(**s))
        .map(|s| s.len() - 3)
}

fn is_test_file(path: &Path) -> bool {
    path.components()
        .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "benches")
        && !path.starts_with("tests/src")
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = workspace();
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(root.join(&path))
                .ok()?
                .lines()
                .count();
            (lines > MAX_FILE_LINES).then(|| format!("{}: {lines} lines", path.display()))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "files over {MAX_FILE_LINES} lines:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn no_function_outside_tests_is_over_80_lines() {
    let root = workspace();
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|path| !is_test_file(path))
        .flat_map(|path| {
            let text = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
            long_functions(&path, &text)
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "functions over {MAX_FN_LINES} lines outside tests:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_function_counter_sees_through_strings_comments_and_test_modules() {
    let body = "    let x = 1;\n".repeat(85);
    let text = format!(
        "fn long() {{\n    let s = \"{{ not a brace\";\n    // }} nor this\n    let c = '{{';\n{body}}}\n\nfn short<'a>(x: &'a str) -> &'a str {{\n    x\n}}\n\n#[cfg(test)]\nmod tests {{\n    fn long_test() {{\n{body}    }}\n}}\n"
    );
    let found = long_functions(Path::new("x.rs"), &text);
    assert_eq!(found, ["x.rs:1: fn long is 90 lines"]);
}
