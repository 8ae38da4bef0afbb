//! The harness's modules as a graph: who uses whom, checked against the layer order each
//! module's doc states, and for circles.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::lexer::{code_only, without_test_modules};
use super::{sources, workspace};

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
