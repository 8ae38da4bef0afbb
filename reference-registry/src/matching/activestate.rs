//! ActiveState (spec §11). No `jti` is required; a present one is still claimed at step 8
//! (R-AS-4).

use serde_json::{Map, Value};

use super::table::{Comparison, FieldCheck, row, shown};
use super::{Failure, NOT_FOUND, Token, required, string};
use crate::fixture::ActiveStateIdentity;

/// R-AS-2.
pub fn lookup<'p>(
    token: &Token<'_>,
    candidates: &[(usize, &'p ActiveStateIdentity)],
) -> Result<(usize, &'p ActiveStateIdentity), String> {
    let claims = token.claims;
    let (Some(organization), Some(project), Some(actor_id)) = (
        string(claims, "organization"),
        string(claims, "project"),
        string(claims, "actor_id"),
    ) else {
        return Err(NOT_FOUND.to_owned());
    };
    candidates
        .iter()
        .find(|(_, p)| {
            p.organization == organization
                && p.activestate_project_name == project
                && p.actor_id == actor_id
        })
        .copied()
        .ok_or_else(|| NOT_FOUND.to_owned())
}

/// R-AS-3.
pub fn verify(p: &ActiveStateIdentity, token: &Token<'_>) -> Result<(), Failure> {
    let claims = token.claims;
    let failure = |reason: &str| Err(Failure::NoMatch(reason.to_owned()));
    match string(claims, "sub") {
        Some("") => return failure("Missing 'subject' claim"),
        Some(sub) => {
            let parts: Vec<&str> = sub.split(':').collect();
            if parts.len() < 4 {
                return failure("Invalid 'subject' claim. Wrong format");
            }
            if parts[..4].join(":") != expected_subject(p) {
                return failure("Invalid 'subject' claim");
            }
        }
        // R-DEF-5 (unreachable after step 5's R-CLAIM-3, kept for the rule's sake).
        None => return failure("Invalid 'subject' claim. Wrong format"),
    }
    required(
        string(claims, "organization") == Some(&p.organization),
        "organization",
    )?;
    required(
        string(claims, "project") == Some(&p.activestate_project_name),
        "project",
    )?;
    required(string(claims, "actor_id") == Some(&p.actor_id), "actor_id")?;
    required(string(claims, "builder") == Some(BUILDER), "builder")
}

const BUILDER: &str = "pypi-publisher";

fn expected_subject(p: &ActiveStateIdentity) -> String {
    format!(
        "org:{}:project:{}",
        p.organization, p.activestate_project_name
    )
}

/// R-AS-2 and R-AS-3 as rows, for `explain`.
pub fn fields(p: &ActiveStateIdentity, claims: &Map<String, Value>) -> Vec<FieldCheck> {
    let exact = |field: &'static str, claim: &'static str, expected: &str, rule| {
        row(
            field,
            claim,
            expected,
            shown(claims, claim),
            Comparison::Exact,
            rule,
            string(claims, claim) == Some(expected),
        )
    };
    let subject =
        shown(claims, "sub").map(|sub| sub.split(':').take(4).collect::<Vec<_>>().join(":"));
    let expected = expected_subject(p);
    let subject_ok = string(claims, "sub").is_some_and(|sub| {
        let parts: Vec<&str> = sub.split(':').collect();
        parts.len() >= 4 && parts[..4].join(":") == expected
    });
    vec![
        exact("organization", "organization", &p.organization, "R-AS-2"),
        exact(
            "activestate_project_name",
            "project",
            &p.activestate_project_name,
            "R-AS-2",
        ),
        exact("actor_id", "actor_id", &p.actor_id, "R-AS-2"),
        row(
            "sub",
            "sub, its first four :-parts",
            expected.clone(),
            subject,
            Comparison::Exact,
            "R-AS-3",
            subject_ok,
        ),
        exact("builder", "builder", BUILDER, "R-AS-3"),
    ]
}
