//! Google (spec §10). No `jti` is required (R-GOOG-4).

use serde_json::{Map, Value};

use super::table::{Comparison, FieldCheck, row, shown};
use super::{
    Failure, NOT_FOUND, Token, optional, optional_field_matches, required, select, string,
};
use crate::fixture::GoogleIdentity;

/// R-GOOG-2.
pub fn lookup<'p>(
    token: &Token<'_>,
    candidates: &[(usize, &'p GoogleIdentity)],
) -> Result<(usize, &'p GoogleIdentity), String> {
    let email = string(token.claims, "email").ok_or(NOT_FOUND)?;
    let matching: Vec<(usize, &GoogleIdentity)> = candidates
        .iter()
        .filter(|(_, p)| p.email == email)
        .copied()
        .collect();
    select(&matching, string(token.claims, "sub"), |p| &p.sub).ok_or_else(|| NOT_FOUND.to_owned())
}

/// R-GOOG-3.
pub fn verify(p: &GoogleIdentity, token: &Token<'_>) -> Result<(), Failure> {
    let claims = token.claims;
    required(string(claims, "email") == Some(&p.email), "email")?;
    required(
        claims.get("email_verified") == Some(&Value::Bool(true)),
        "email_verified",
    )?;
    optional(
        optional_field_matches(&p.sub, string(claims, "sub"), |a, b| a == b),
        "sub",
    )
}

/// R-GOOG-2 and R-GOOG-3 as rows, for `explain`.
pub fn fields(p: &GoogleIdentity, claims: &Map<String, Value>) -> Vec<FieldCheck> {
    vec![
        row(
            "email",
            "email",
            &p.email,
            shown(claims, "email"),
            Comparison::Exact,
            "R-GOOG-2",
            string(claims, "email") == Some(&p.email),
        ),
        row(
            "email_verified",
            "email_verified",
            "true",
            shown(claims, "email_verified"),
            Comparison::Exact,
            "R-GOOG-3",
            claims.get("email_verified") == Some(&Value::Bool(true)),
        ),
        row(
            "sub",
            "sub",
            &p.sub,
            shown(claims, "sub"),
            Comparison::AnyOrExact,
            "R-GOOG-3",
            optional_field_matches(&p.sub, string(claims, "sub"), |a, b| a == b),
        ),
    ]
}
