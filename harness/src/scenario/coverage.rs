//! Which spec rules the suite cites, and which it leaves uncovered.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::scenario::Scenario;
use crate::spec::rules;

pub struct Coverage {
    /// Every rule of the spec, with the IDs of the scenarios citing it.
    pub by_rule: BTreeMap<String, Vec<String>>,
}

impl Coverage {
    pub fn of(scenarios: &[Scenario]) -> Coverage {
        let mut by_rule: BTreeMap<String, Vec<String>> = rules::rule_ids()
            .map(|id| (id.clone(), Vec::new()))
            .collect();
        for scenario in scenarios {
            for rule in &scenario.rules {
                // The loader rejects unknown rule IDs, so every cited rule has a row.
                if let Some(ids) = by_rule.get_mut(rule) {
                    ids.push(scenario.id.clone());
                }
            }
        }
        Coverage { by_rule }
    }

    pub fn uncovered(&self) -> Vec<&str> {
        self.by_rule
            .iter()
            .filter(|(_, ids)| ids.is_empty())
            .map(|(rule, _)| rule.as_str())
            .collect()
    }

    /// A table: rule, number of scenarios, the first few IDs; then the uncovered rules.
    pub fn table(&self) -> String {
        let mut text = String::new();
        for (rule, ids) in &self.by_rule {
            let shown: Vec<&str> = ids.iter().take(3).map(String::as_str).collect();
            let more = if ids.len() > 3 {
                format!(" (+{} more)", ids.len() - 3)
            } else {
                String::new()
            };
            let _ = writeln!(
                text,
                "{rule:<12} {:>3}  {}{more}",
                ids.len(),
                shown.join(", ")
            );
        }
        let uncovered = self.uncovered();
        let _ = writeln!(
            text,
            "\n{} of {} rules covered; uncovered: {}",
            self.by_rule.len() - uncovered.len(),
            self.by_rule.len(),
            if uncovered.is_empty() {
                "none".to_owned()
            } else {
                uncovered.join(", ")
            }
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::file::ScenarioFile;

    fn scenario(id: &str, rules: &[&str]) -> Scenario {
        let file: ScenarioFile = toml::from_str(&format!(
            "title = \"t\"\nrequirement = \"r\"\nrules = {rules:?}\nlevel = \"core\"\n[[step]]\naction = \"audience\"\nexpect = {{ status = 200 }}\n"
        ))
        .unwrap();
        super::super::validate::scenario(id.to_owned(), file).unwrap()
    }

    #[test]
    fn every_rule_has_a_row_and_uncovered_ones_are_listed() {
        let coverage = Coverage::of(&[
            scenario("a", &["R-EP-1", "R-EP-2"]),
            scenario("b", &["R-EP-1"]),
        ]);
        assert_eq!(coverage.by_rule["R-EP-1"], ["a", "b"]);
        assert_eq!(coverage.by_rule.len(), rules::rule_ids().count());
        let uncovered = coverage.uncovered();
        assert!(!uncovered.contains(&"R-EP-1") && uncovered.contains(&"R-EP-3"));
        assert!(coverage.table().contains("uncovered: "));
    }
}
