//! Publisher matching as a table, one row per comparison, for `explain`. Each provider module
//! builds its rows from the same helpers its lookup and verification use, and the crate's
//! tests check that every row passes exactly when matching succeeds.

use serde_json::{Map, Value};

/// How a row compares the publisher's value with the token's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Exact,
    CaseInsensitive,
    /// Exact, on a value extracted from this claim (R-GH-2, R-GL-2).
    DerivedFrom(&'static str),
    /// Exact, against any of the expected values (one per line in
    /// [`FieldCheck::expected`]), built from the publisher and the token's `ref`/`sha` or
    /// `ref_path`/`sha`.
    OneOf,
    /// The publisher's `""` matches anything, otherwise exact.
    AnyOrExact,
    /// The publisher's `""` matches anything, otherwise case-insensitive.
    AnyOrCaseInsensitive,
    /// The token's value must not be the expected one.
    MustDiffer,
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Comparison::Exact => f.write_str("exact"),
            Comparison::CaseInsensitive => f.write_str("case-insensitive"),
            Comparison::DerivedFrom(claim) => write!(f, "exact, derived from {claim}"),
            Comparison::OneOf => {
                f.write_str("exact, one of (built from the publisher and the token's versions)")
            }
            Comparison::AnyOrExact => f.write_str("exact; empty = any"),
            Comparison::AnyOrCaseInsensitive => f.write_str("case-insensitive; empty = any"),
            Comparison::MustDiffer => f.write_str("anything but one value"),
        }
    }
}

/// One comparison of publisher matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldCheck {
    /// The publisher field compared, or the claim compared with values built from the
    /// publisher's fields.
    pub field: String,
    /// The claim compared, and which part of it.
    pub claim: &'static str,
    pub expected: String,
    /// The compared value from the token; `None` if the claim is absent. A claim that is not
    /// a string is shown as JSON with a note.
    pub actual: Option<String>,
    pub comparison: Comparison,
    /// The spec rule that makes the comparison.
    pub rule: &'static str,
    pub ok: bool,
}

/// A row; `field` is usually a publisher field name.
pub(crate) fn row(
    field: impl Into<String>,
    claim: &'static str,
    expected: impl Into<String>,
    actual: Option<String>,
    comparison: Comparison,
    rule: &'static str,
    ok: bool,
) -> FieldCheck {
    FieldCheck {
        field: field.into(),
        claim,
        expected: expected.into(),
        actual,
        comparison,
        rule,
        ok,
    }
}

/// A claim as a row shows it: strings as they are, other values as JSON marked as such.
pub(crate) fn shown(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(format!("{other} (not a string)")),
    }
}

/// The expected values of a [`Comparison::OneOf`] row.
pub(crate) fn one_per_line(values: &std::collections::BTreeSet<String>) -> String {
    values
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}
