//! ActiveState (spec §11). No `jti` is required; a present one is still claimed at step 8
//! (R-AS-4).

use super::{Failure, NOT_FOUND, Token, required, string};
use crate::fixture::ActiveStateIdentity;

pub const REQUIRED: &[&str] = &["sub", "organization", "project", "actor_id", "builder"];

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
            let expected = format!(
                "org:{}:project:{}",
                p.organization, p.activestate_project_name
            );
            if parts[..4].join(":") != expected {
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
    required(
        string(claims, "builder") == Some("pypi-publisher"),
        "builder",
    )
}
