//! The specs' rule IDs and levels, and the error codes, read from the project's copies of
//! the specs (`docs/spec/`: PyPI's mint-token behaviour, and PEP 807's chapter), which are
//! compiled in so the binary works from any directory.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::spec::grading::{Aspect, Level};

pub const SPEC: &str = include_str!("../../embedded/spec/pypi-mint-token.md");
/// PEP 807's chapter (a Draft: its rules are `R-807-…`, at level `pep807`).
pub const PEP807_SPEC: &str =
    include_str!("../../embedded/spec/pep-807-index-trusted-publishing.md");

/// An error code of spec §4.1, the `errors[0].code` of a refusal; a core harness rejects
/// any other. The reference registry's type: one list of codes for the workspace.
pub use reference_registry::ErrorCode;

/// Every code's name, comma-separated: what an error message offers instead.
pub fn error_codes() -> String {
    let names: Vec<&str> = ErrorCode::known().map(ErrorCode::as_str).collect();
    names.join(", ")
}

/// What the spec says of one rule's level: `[core]`, `[pypi-exact]`, `[info]`, or
/// `[core; pypi-exact: X, Y]` (core, with the parts X and Y judged only at pypi-exact).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleLevel {
    /// The lowest level at which the rule demands anything.
    pub level: Level,
    /// The parts named after `pypi-exact:`, as written (`status`, `text`, `MUST`, ...).
    pub exact_parts: Vec<String>,
}

impl RuleLevel {
    /// Whether, at `core`, this rule demands nothing of `aspect`: it is not a core rule, or
    /// its pypi-exact parts name that aspect (`[core; pypi-exact: text]` leaves the wording
    /// free at core). A core check citing only such rules claims more than the spec does.
    pub fn free_at_core(&self, aspect: Aspect) -> bool {
        if self.level != Level::Core {
            return true;
        }
        let words: &[&str] = match aspect {
            Aspect::Decision => &[],
            Aspect::Status => &["status"],
            Aspect::Envelope => &["header", "body", "code", "success", "prefix", "strings"],
            Aspect::Wording => &[
                "text",
                "texts",
                "description",
                "descriptions",
                "reason",
                "body",
                "strings",
            ],
        };
        self.exact_parts
            .iter()
            .any(|part| words.contains(&part.as_str()))
    }
}

static RULES: LazyLock<BTreeMap<String, RuleLevel>> = LazyLock::new(|| {
    // A rule is defined where its ID stands in bold, its level in brackets after it:
    // **R-AREA-n** `[core; pypi-exact: text]`, **R-807-AREA-n** `[pep807]`.
    let definition =
        Regex::new(r"\*\*(R-(?:807-)?[A-Z]+-[0-9]+)\*\* `\[([^\]]*)\]`").expect("valid regex");
    [SPEC, PEP807_SPEC]
        .iter()
        .flat_map(|spec| definition.captures_iter(spec))
        .map(|c| (c[1].to_owned(), parse_level(&c[2])))
        .collect()
});

fn parse_level(tag: &str) -> RuleLevel {
    let (first, exact) = tag.split_once(';').unwrap_or((tag, ""));
    let level = first.trim().parse().unwrap_or(Level::Info);
    let exact_parts = exact
        .trim()
        .strip_prefix("pypi-exact:")
        .map(|parts| parts.split(',').map(|p| p.trim().to_owned()).collect())
        .unwrap_or_default();
    RuleLevel { level, exact_parts }
}

/// The specs' revisions as their opening lines state them: `pypi-mint-token.md version 2
/// (2026-12-04); pep-807-index-trusted-publishing.md version 1 (pep807-2026-01)`.
pub fn revision() -> String {
    format!(
        "pypi-mint-token.md {}; pep-807-index-trusted-publishing.md {}",
        stated(SPEC, dated),
        stated(PEP807_SPEC, tagged)
    )
}

/// `version N (WHAT)` from a spec's opening line, read without a regex: every command pays
/// for it, since clap builds the text of `--version` at start-up.
fn stated(spec: &str, what: fn(&str) -> Option<&str>) -> String {
    spec.split_once("Spec version ")
        .and_then(|(_, rest)| {
            let version: String = rest.chars().take_while(char::is_ascii_digit).collect();
            Some(format!("version {version} ({})", what(rest)?))
        })
        .unwrap_or_else(|| "(no version line)".to_owned())
}

/// The main spec's date: `2 (2026-12-04: …` → `2026-12-04`.
fn dated(rest: &str) -> Option<&str> {
    rest.split_once('(')?.1.split([':', ')']).next()
}

/// PEP 807's revision tag: the first `` `pep807-…` ``.
fn tagged(rest: &str) -> Option<&str> {
    let start = rest.find("`pep807-")? + 1;
    rest[start..].split('`').next()
}

/// Every rule ID the spec defines.
pub fn rule_ids() -> impl Iterator<Item = &'static String> {
    RULES.keys()
}

pub fn is_rule(id: &str) -> bool {
    RULES.contains_key(id)
}

/// The level the spec gives rule `id`.
pub fn level_of(id: &str) -> Option<&'static RuleLevel> {
    RULES.get(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revision_is_read_from_the_spec() {
        assert!(
            revision().starts_with("pypi-mint-token.md version 2 (20"),
            "{}",
            revision()
        );
        assert!(
            revision()
                .ends_with("; pep-807-index-trusted-publishing.md version 1 (pep807-2026-01)"),
            "{}",
            revision()
        );
    }

    #[test]
    fn the_spec_defines_the_rules_scenarios_cite() {
        for id in [
            "R-EP-1",
            "R-PAYLOAD-6",
            "R-GH-4",
            "R-JTI-5",
            "R-DEF-7",
            "R-UP-4",
            "R-TOK-3",
        ] {
            assert!(is_rule(id), "{id}");
        }
        assert!(!is_rule("R-GH-99"));
        assert!(rule_ids().count() > 80, "{}", rule_ids().count());
    }

    #[test]
    fn levels_and_pypi_exact_parts_are_read_from_the_spec() {
        let ep5 = level_of("R-EP-5").unwrap();
        assert_eq!(ep5.level, Level::Core);
        assert_eq!(ep5.exact_parts, ["status", "header"]);
        assert!(ep5.free_at_core(Aspect::Status));
        assert!(!ep5.free_at_core(Aspect::Decision));
        assert_eq!(level_of("R-GH-2").unwrap().level, Level::PypiExact);
        assert_eq!(level_of("R-DEF-1").unwrap().level, Level::Info);
        let order2 = level_of("R-ORDER-2").unwrap();
        assert!(order2.exact_parts.is_empty());
        assert!(!order2.free_at_core(Aspect::Wording));
        assert!(level_of("R-PUB-5").unwrap().free_at_core(Aspect::Wording));
        assert!(level_of("R-JTI-1").unwrap().free_at_core(Aspect::Envelope));
        assert!(level_of("R-GH-2").unwrap().free_at_core(Aspect::Decision));
        assert_eq!(level_of("R-807-URL-2").unwrap().level, Level::Pep807);
        assert_eq!(level_of("R-807-DISC-6").unwrap().level, Level::Info);
        assert_eq!(level_of("R-807-ACCEPT-2").unwrap().level, Level::Pep807);
        // Every rule defined in bold, in either spec, has its level read.
        let defined = Regex::new(r"\*\*R-(807-)?[A-Z]+-[0-9]+\*\*").unwrap();
        let count = |spec| defined.find_iter(spec).count();
        assert_eq!(RULES.len(), count(SPEC) + count(PEP807_SPEC));
        assert!(count(PEP807_SPEC) >= 20);
    }
}
