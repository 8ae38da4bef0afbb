//! The shape of the code, checked: no source file over 600 lines, no function over 80 lines
//! outside tests, and the harness's modules importing only downward (the layer order in
//! `harness/src/lib.rs`). Each check lists every offender, so one run says all there is to
//! fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// The text with comments, string and char literals blanked out (newlines kept), so braces
/// and keywords can be counted.
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, b: u8| out.push(if b == b'\n' { b'\n' } else { b' ' });
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(rest) {
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let open = if rest[0] == b'b' { 3 } else { 2 } + hashes;
            out.extend(std::iter::repeat_n(b' ', open));
            i += open;
            while i < bytes.len() && !bytes[i..].starts_with(&close) {
                blank(&mut out, bytes[i]);
                i += 1;
            }
            out.extend(std::iter::repeat_n(b' ', close.len()));
            i += close.len();
        } else if bytes[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
                if i < bytes.len() {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
        } else if bytes[i] == b'\'' && is_char_literal(rest) {
            let len = char_literal_len(rest);
            out.extend(std::iter::repeat_n(b' ', len));
            i += len;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `r"`, `r#"`, `br"`, ...: the number of `#`s, if a raw string starts here.
fn raw_string_start(rest: &[u8]) -> Option<usize> {
    let after = match rest {
        [b'r', ..] => &rest[1..],
        [b'b', b'r', ..] => &rest[2..],
        _ => return None,
    };
    let hashes = after.iter().take_while(|&&b| b == b'#').count();
    (after.get(hashes) == Some(&b'"')).then_some(hashes)
}

/// `'x'`, `'\n'`, `'\u{..}'`, `'{'` — but not a lifetime `'a`.
fn is_char_literal(rest: &[u8]) -> bool {
    match rest {
        [b'\'', b'\\', ..] => true,
        [b'\'', _, b'\'', ..] => true,
        [b'\'', first, ..] if *first >= 0x80 => true,
        _ => false,
    }
}

fn char_literal_len(rest: &[u8]) -> usize {
    let mut j = 1;
    if rest.get(j) == Some(&b'\\') {
        j += 2;
    } else {
        j += 1;
    }
    while j < rest.len() && rest[j] != b'\'' {
        j += 1;
    }
    j + 1
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
                ';' if pending_fn.is_some()
                    && open.last().is_none_or(|(_, _, at)| *at <= depth) =>
                {
                    // A declaration without a body (a trait method).
                    if !line.contains('{') {
                        pending_fn = None;
                    }
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

/// A module of `harness/src` as its path from the crate root (`[]` is `lib.rs`).
type ModulePath = Vec<String>;

/// The module a file of `harness/src` defines; `None` for the binary (`main.rs`, `cli/`),
/// which sits above every module of the library.
fn module_of(relative: &Path) -> Option<ModulePath> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "main.rs" || p == "cli") {
        return None;
    }
    let file = parts.pop()?;
    match file.trim_end_matches(".rs") {
        "lib" | "mod" => {}
        name => parts.push(name.to_owned()),
    }
    Some(parts)
}

/// Every `crate::…` and `super::…` path in `code` (comments and strings already blanked),
/// resolved to segments from the crate root; `use a::{b, c::d}` gives one path per item.
fn referenced_paths(module: &ModulePath, code: &str) -> Vec<Vec<String>> {
    let ident_at = |at: usize| {
        let rest = &code[at..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        &rest[..end]
    };
    let mut found = Vec::new();
    let mut at = 0;
    while at < code.len() {
        let word = ident_at(at);
        let joined = code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
        let anchored = (word == "crate" || word == "super")
            && !joined
            && code[at + word.len()..].starts_with("::");
        if !anchored {
            at += word
                .len()
                .max(code[at..].chars().next().map_or(1, char::len_utf8));
            continue;
        }
        let mut base: ModulePath = if word == "crate" {
            Vec::new()
        } else {
            module.clone()
        };
        let mut cursor = at;
        while let w @ ("crate" | "super") = ident_at(cursor) {
            if w == "super" {
                base.pop();
            }
            cursor += w.len();
            match code[cursor..].strip_prefix("::") {
                Some(_) => cursor += 2,
                None => break,
            }
        }
        for tail in path_tails(&code[cursor..]) {
            found.push(base.iter().cloned().chain(tail).collect());
        }
        at = cursor;
    }
    found
}

/// `code` without its `#[cfg(test)]` modules: tests may reach anywhere.
fn without_test_modules(text: &str, code: &str) -> String {
    let raw: Vec<&str> = text.lines().collect();
    let mut kept = Vec::new();
    let mut skipping: Option<i64> = None;
    let mut cfg_test = false;
    for (number, line) in code.lines().enumerate() {
        if raw.get(number).is_some_and(|r| r.trim() == "#[cfg(test)]") {
            cfg_test = true;
        }
        let trimmed = line.trim();
        if skipping.is_none() && cfg_test && trimmed.starts_with("mod ") {
            cfg_test = false;
            if trimmed.ends_with(';') {
                continue;
            }
            skipping = Some(0);
        }
        match &mut skipping {
            Some(depth) => {
                *depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
                if *depth <= 0 && line.contains('}') {
                    skipping = None;
                }
            }
            None => kept.push(line),
        }
    }
    kept.join("\n")
}

/// The paths a `use` tail names: `a::b::C` → one, `{a::b, c}` → two (nested groups too).
fn path_tails(text: &str) -> Vec<Vec<String>> {
    let text = text.trim_start();
    if let Some(inner) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut end = inner.len();
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = i;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let mut items = Vec::new();
        let (mut depth, mut start) = (0, 0);
        let group = &inner[..end];
        for (i, c) in group.char_indices().chain([(group.len(), ',')]) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.extend(path_tails(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
        return items;
    }
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if word.is_empty() {
            if rest.starts_with('{') {
                return path_tails(rest)
                    .into_iter()
                    .map(|tail| segments.iter().cloned().chain(tail).collect())
                    .collect();
            }
            break;
        }
        rest = &rest[word.len()..];
        segments.push(word);
        match rest.strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    if segments.is_empty() || segments == ["self"] {
        return Vec::new();
    }
    vec![segments]
}

/// The layer order a module's doc states, lowest first: a line `Layers, lowest first` and,
/// on the doc lines after it, groups of backticked module names separated by `<`.
fn stated_layers(doc_text: &str) -> Option<Vec<BTreeSet<String>>> {
    let mut lines = doc_text
        .lines()
        .map_while(|l| l.trim_start().strip_prefix("//!"))
        .skip_while(|l| !l.contains("Layers, lowest first"));
    lines.next()?;
    let statement: String = lines
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let layers = statement
        .split('<')
        .map(|group| {
            group
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<BTreeSet<_>>()
        })
        .collect();
    Some(layers)
}

struct ModuleGraph {
    /// Every module, with the text of the file defining it.
    modules: BTreeMap<ModulePath, String>,
    /// Under each parent: child → siblings it uses, with a file that does.
    edges: BTreeMap<ModulePath, BTreeMap<String, BTreeMap<String, String>>>,
}

fn harness_modules() -> ModuleGraph {
    let root = workspace().join("harness/src");
    let mut modules = BTreeMap::new();
    let mut files = Vec::new();
    for path in sources()
        .into_iter()
        .filter(|p| p.starts_with("harness/src"))
    {
        let relative = path.strip_prefix("harness/src").unwrap().to_owned();
        let test_file = matches!(
            relative.file_name().and_then(|n| n.to_str()),
            Some("tests.rs" | "test_support.rs")
        );
        if let Some(module) = module_of(&relative).filter(|_| !test_file) {
            let text = std::fs::read_to_string(root.join(&relative)).unwrap();
            modules.insert(module.clone(), text.clone());
            files.push((module, relative, text));
        }
    }
    let mut edges: BTreeMap<ModulePath, BTreeMap<String, BTreeMap<String, String>>> =
        BTreeMap::new();
    for (module, relative, text) in files {
        let code = without_test_modules(&text, &code_only(&text));
        for path in referenced_paths(&module, &code) {
            // The module the path reaches: its longest prefix that is a module.
            let to: ModulePath = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains_key(prefix))
                .unwrap_or_default();
            if module.starts_with(&to) {
                // Its own items or an ancestor's: a parent module holds its children.
                continue;
            }
            let common = module.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == module.len() {
                // A descendant: a module uses what it contains.
                continue;
            }
            edges
                .entry(module[..common].to_vec())
                .or_default()
                .entry(module[common].clone())
                .or_default()
                .entry(to[common].clone())
                .or_insert_with(|| relative.display().to_string());
        }
    }
    ModuleGraph { modules, edges }
}

fn display(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.join("::")
    }
}

#[test]
fn harness_modules_import_only_down_their_stated_layers_and_never_in_a_circle() {
    let graph = harness_modules();
    let mut problems = Vec::new();
    let top = stated_layers(&graph.modules[&Vec::new()]);
    assert!(
        top.is_some(),
        "harness/src/lib.rs states no layer order (`Layers, lowest first:`)"
    );
    for (parent, text) in &graph.modules {
        let Some(layers) = stated_layers(text) else {
            continue;
        };
        let rank = |name: &str| layers.iter().position(|group| group.contains(name));
        let children: BTreeSet<&String> = graph
            .modules
            .keys()
            .filter(|m| m.len() == parent.len() + 1 && m.starts_with(parent))
            .map(|m| m.last().unwrap())
            .collect();
        for child in children {
            if rank(child).is_none() {
                problems.push(format!(
                    "{}: module `{child}` is missing from the stated layers",
                    display(parent)
                ));
            }
        }
        let Some(uses) = graph.edges.get(parent) else {
            continue;
        };
        for (from, targets) in uses {
            for (to, file) in targets {
                let (Some(a), Some(b)) = (rank(from), rank(to)) else {
                    continue;
                };
                if a <= b {
                    problems.push(format!(
                        "{file}: `{from}` uses `{to}`, which is not in a layer below it ({})",
                        display(parent)
                    ));
                }
            }
        }
    }
    for (parent, uses) in &graph.edges {
        if let Some(circle) = find_circle(uses) {
            problems.push(format!(
                "{}: import circle {}",
                display(parent),
                circle.join(" -> ")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A cycle among sibling modules, if there is one, as the names along it.
fn find_circle(uses: &BTreeMap<String, BTreeMap<String, String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        uses: &BTreeMap<String, BTreeMap<String, String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in uses.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(circle) = visit(next, uses, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    uses.keys()
        .find_map(|start| visit(start, uses, &mut Vec::new(), &mut done))
}

#[test]
fn the_import_reader_resolves_crate_super_and_groups() {
    let module: ModulePath = vec!["suite".into(), "runner".into(), "steps".into()];
    let code = "use crate::rig::{issuers::Issuers, targets};\nuse super::super::check::Judge;\nlet x = super::twin::run();\nfn f() { mycrate::x(); }";
    let paths = referenced_paths(&module, code);
    let want: Vec<Vec<String>> = [
        "rig issuers Issuers",
        "rig targets",
        "suite check Judge",
        "suite runner twin run",
    ]
    .iter()
    .map(|p| p.split(' ').map(str::to_owned).collect())
    .collect();
    assert_eq!(paths, want);
    assert_eq!(
        stated_layers(
            "//! Guide.\n//!\n//! Layers, lowest first:\n//! `a` < `b`, `c`\n//! < `d`\n//!\n//! More."
        ),
        Some(vec![
            BTreeSet::from(["a".to_owned()]),
            BTreeSet::from(["b".to_owned(), "c".to_owned()]),
            BTreeSet::from(["d".to_owned()]),
        ])
    );
    let circle = BTreeMap::from([
        (
            "a".to_owned(),
            BTreeMap::from([("b".to_owned(), String::new())]),
        ),
        (
            "b".to_owned(),
            BTreeMap::from([("a".to_owned(), String::new())]),
        ),
    ]);
    assert_eq!(
        find_circle(&circle),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
}
