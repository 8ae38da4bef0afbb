//! The vocabulary every verdict is made of: the conformance levels of the spec (§2), the
//! strength of a rule (MUST or SHOULD), and the aspects of an answer a check looks at.
//!
//! A verdict is only worth its agreement with the spec, so each check the harness makes
//! carries the rule that demands it, the level at which that rule demands it and how
//! strongly ([`Demand`]). A check at a level the run does not judge is not made; a SHOULD that
//! fails below `pypi-exact` is an advisory, never a failure (unless `--strict`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which rules are judged: `core` (every registry), and beside it either `pypi-exact`
/// (PyPI's exact choices) or `pep807` (PEP 807, which a registry opts in to); `info` is
/// recorded, never judged against foreign targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Core,
    PypiExact,
    #[serde(rename = "pep807")]
    Pep807,
    Info,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Core => "core",
            Level::PypiExact => "pypi-exact",
            Level::Pep807 => "pep807",
            Level::Info => "info",
        }
    }

    /// Whether a run at this level judges what `demanded` demands: every run judges core,
    /// and `pypi-exact` and `pep807` each their own rules (neither includes the other).
    /// `info` is no run's level: it is judged only against the reference registry.
    pub fn judges(self, demanded: Level) -> bool {
        match demanded {
            Level::Core => self != Level::Info,
            Level::Info => false,
            own => own == self,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "core" => Ok(Level::Core),
            "pypi-exact" => Ok(Level::PypiExact),
            "pep807" => Ok(Level::Pep807),
            "info" => Ok(Level::Info),
            _ => Err(format!(
                "unknown level {text:?}: expected core, pypi-exact, pep807 or info"
            )),
        }
    }
}

/// How strongly a rule demands what a check looks for (RFC 2119).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Strength {
    #[default]
    Must,
    Should,
}

impl Strength {
    pub fn name(self) -> &'static str {
        match self {
            Strength::Must => "must",
            Strength::Should => "should",
        }
    }
}

/// What part of an answer a check looks at. The decision is the one that matters for
/// security; the others are how the answer is put.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Aspect {
    /// Minted or refused, uploaded or not, how many concurrent mints succeeded, and which
    /// URLs the target fetched (an attacker's `jku` must never be).
    Decision,
    /// The HTTP status code.
    Status,
    /// The shape of the answer: the success or error envelope, the error code, the media
    /// type, headers and JSON members.
    Envelope,
    /// Human-readable text: descriptions, messages, reason phrases.
    Wording,
}

impl Aspect {
    pub const ALL: [Aspect; 4] = [
        Aspect::Decision,
        Aspect::Status,
        Aspect::Envelope,
        Aspect::Wording,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Aspect::Decision => "decision",
            Aspect::Status => "status",
            Aspect::Envelope => "envelope",
            Aspect::Wording => "wording",
        }
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Aspect {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Aspect::ALL
            .into_iter()
            .find(|aspect| aspect.name() == text)
            .ok_or_else(|| {
                format!("unknown aspect {text:?}: expected decision, status, envelope or wording")
            })
    }
}

/// Why a check is made: the aspect it looks at, the rules that demand it, the level at
/// which they do and how strongly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Demand {
    pub aspect: Aspect,
    pub rules: Vec<String>,
    pub level: Level,
    pub strength: Strength,
}

impl Demand {
    /// A MUST of `rule` at `level`.
    pub fn must(aspect: Aspect, rule: &str, level: Level) -> Demand {
        Demand {
            aspect,
            rules: vec![rule.to_owned()],
            level,
            strength: Strength::Must,
        }
    }

    /// A SHOULD of `rule` at `level`.
    pub fn should(aspect: Aspect, rule: &str, level: Level) -> Demand {
        Demand {
            strength: Strength::Should,
            ..Demand::must(aspect, rule, level)
        }
    }
}
