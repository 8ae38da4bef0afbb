//! The spec's rule IDs, read from the project's copy of the spec (`docs/spec/`), which is
//! compiled in so the binary works from any directory.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

pub const SPEC: &str = include_str!("../../docs/spec/pypi-mint-token.md");

static RULE_IDS: LazyLock<BTreeSet<String>> = LazyLock::new(|| {
    // A rule is defined where its ID stands in bold: **R-AREA-n**.
    let definition = Regex::new(r"\*\*(R-[A-Z]+-[0-9]+)\*\*").expect("valid regex");
    definition
        .captures_iter(SPEC)
        .map(|c| c[1].to_owned())
        .collect()
});

/// Every rule ID the spec defines.
pub fn rule_ids() -> &'static BTreeSet<String> {
    &RULE_IDS
}

pub fn is_rule(id: &str) -> bool {
    RULE_IDS.contains(id)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(rule_ids().len() > 80, "{}", rule_ids().len());
    }
}
