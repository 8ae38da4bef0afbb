//! GitHub Actions (spec §8).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::table::{Comparison, FieldCheck, one_per_line, row, shown};
use super::{
    Failure, NOT_FOUND, Token, eq_ignore_case, last_workflow_suffix, non_empty, optional,
    optional_field_matches, replay_check, required, select, string,
};
use crate::fixture::GithubIdentity;
use crate::repr::{repr, reprlist};

/// R-GH-2.
pub fn lookup<'p>(
    token: &Token<'_>,
    candidates: &[(usize, &'p GithubIdentity)],
) -> Result<(usize, &'p GithubIdentity), String> {
    let claims = token.claims;
    // R-DEF-4, R-DEF-5: a non-string `repository` or one without `/` finds nothing.
    let (owner, name) = string(claims, "repository")
        .and_then(|r| r.split_once('/'))
        .ok_or(NOT_FOUND)?;
    let workflow = string(claims, "job_workflow_ref")
        .and_then(workflow_filename)
        .ok_or("Could not job extract workflow filename from OIDC claims")?;
    let owner_id = string(claims, "repository_owner_id").ok_or(NOT_FOUND)?;
    let repository_ok =
        |p: &GithubIdentity| p.repository_owner == owner && p.repository_name == name;
    #[cfg(feature = "sabotage")]
    let repository_ok = |p: &GithubIdentity| {
        repository_ok(p)
            || (token.sabotage.repository_case_insensitive
                && eq_ignore_case(&p.repository_owner, owner)
                && eq_ignore_case(&p.repository_name, name))
    };
    let owner_id_ok = |p: &GithubIdentity| p.repository_owner_id == owner_id;
    #[cfg(feature = "sabotage")]
    let owner_id_ok = |p: &GithubIdentity| token.sabotage.skip_owner_id || owner_id_ok(p);
    let matching: Vec<(usize, &GithubIdentity)> = candidates
        .iter()
        .filter(|(_, p)| repository_ok(p) && owner_id_ok(p) && p.workflow_filename == workflow)
        .copied()
        .collect();
    let environment = string(claims, "environment").map(str::to_lowercase);
    select(&matching, environment.as_deref(), |p| &p.environment)
        .ok_or_else(|| NOT_FOUND.to_owned())
}

/// R-GH-2 step 2: in the first `/`-segment holding `.yml@`/`.yaml@` at offset 1 or later,
/// everything up to the last such `.yml`/`.yaml`.
fn workflow_filename(job_workflow_ref: &str) -> Option<&str> {
    job_workflow_ref
        .split('/')
        .find_map(|segment| last_workflow_suffix(segment, |at| at >= 1).map(|end| &segment[..end]))
}

/// R-GH-4.
pub fn verify(p: &GithubIdentity, token: &Token<'_>) -> Result<(), Failure> {
    let claims = token.claims;
    let slug = format!("{}/{}", p.repository_owner, p.repository_name);
    required(
        non_empty(claims, "repository").is_some_and(|r| eq_ignore_case(r, &slug)),
        "repository",
    )?;
    required(
        string(claims, "repository_owner") == Some(&p.repository_owner),
        "repository_owner",
    )?;
    let owner_id_ok = string(claims, "repository_owner_id") == Some(&p.repository_owner_id);
    #[cfg(feature = "sabotage")]
    let owner_id_ok = owner_id_ok || token.sabotage.skip_owner_id;
    required(owner_id_ok, "repository_owner_id")?;

    let job_workflow_ref = string(claims, "job_workflow_ref").unwrap_or_default();
    if job_workflow_ref.is_empty() {
        return Err(Failure::NoMatch(
            "The job_workflow_ref claim is empty".to_owned(),
        ));
    }
    let expected = expected_job_workflow_refs(p, claims);
    if expected.is_empty() {
        return Err(Failure::NoMatch(
            "The ref and sha claims are empty".to_owned(),
        ));
    }
    if !expected.contains(job_workflow_ref) {
        return Err(Failure::NoMatch(format!(
            "The job_workflow_ref claim does not match, expecting one of {}, got {}",
            reprlist(expected.iter().map(String::as_str)),
            repr(job_workflow_ref)
        )));
    }

    replay_check(token)?;
    if string(claims, "event_name") == Some(PULL_REQUEST_TARGET) {
        return Err(Failure::NoMatch(
            "Publishing from a workflow invoked via 'pull_request_target' is not supported."
                .to_owned(),
        ));
    }
    let environment = string(claims, "environment");
    optional(
        optional_field_matches(&p.environment, environment, eq_ignore_case),
        "environment",
    )
}

const PULL_REQUEST_TARGET: &str = "pull_request_target";

/// R-GH-4 step 4's E: the `job_workflow_ref`s the publisher accepts, built from its fields and
/// each non-empty `ref`/`sha`. Non-string `ref`/`sha` count as empty (spec §17 item 7).
fn expected_job_workflow_refs(p: &GithubIdentity, claims: &Map<String, Value>) -> BTreeSet<String> {
    ["ref", "sha"]
        .iter()
        .filter_map(|n| non_empty(claims, n))
        .map(|v| {
            format!(
                "{}/{}/.github/workflows/{}@{v}",
                p.repository_owner, p.repository_name, p.workflow_filename
            )
        })
        .collect()
}

/// R-GH-2 and R-GH-4 as rows, for `explain`.
pub fn fields(p: &GithubIdentity, claims: &Map<String, Value>) -> Vec<FieldCheck> {
    let repository = string(claims, "repository");
    let split = repository.and_then(|r| r.split_once('/'));
    let part = |index: usize| {
        split
            .map(|(before, after)| [before, after][index].to_owned())
            .or_else(|| shown(claims, "repository"))
    };
    let workflow = string(claims, "job_workflow_ref").and_then(workflow_filename);
    let mut rows = vec![
        row(
            "repository_owner",
            "repository, before the first /",
            &p.repository_owner,
            part(0),
            Comparison::Exact,
            "R-GH-2",
            split.is_some_and(|(owner, _)| owner == p.repository_owner),
        ),
        row(
            "repository_name",
            "repository, after the first /",
            &p.repository_name,
            part(1),
            Comparison::Exact,
            "R-GH-2",
            split.is_some_and(|(_, name)| name == p.repository_name),
        ),
        row(
            "repository_owner_id",
            "repository_owner_id",
            &p.repository_owner_id,
            shown(claims, "repository_owner_id"),
            Comparison::Exact,
            "R-GH-2",
            string(claims, "repository_owner_id") == Some(&p.repository_owner_id),
        ),
        row(
            "workflow_filename",
            "job_workflow_ref, the workflow file",
            &p.workflow_filename,
            workflow
                .map(str::to_owned)
                .or_else(|| shown(claims, "job_workflow_ref")),
            Comparison::DerivedFrom("job_workflow_ref"),
            "R-GH-2",
            workflow == Some(p.workflow_filename.as_str()),
        ),
    ];
    rows.extend(verification_fields(p, claims));
    rows
}

/// R-GH-4 and R-GH-5 as rows: what the matched publisher's token must also carry.
fn verification_fields(p: &GithubIdentity, claims: &Map<String, Value>) -> Vec<FieldCheck> {
    let job_workflow_ref = string(claims, "job_workflow_ref");
    let expected = expected_job_workflow_refs(p, claims);
    let event = string(claims, "event_name");
    vec![
        row(
            "environment",
            "environment",
            &p.environment,
            shown(claims, "environment"),
            Comparison::AnyOrCaseInsensitive,
            "R-PUB-6, R-GH-4",
            optional_field_matches(
                &p.environment,
                string(claims, "environment"),
                eq_ignore_case,
            ),
        ),
        row(
            "repository_owner",
            "repository_owner",
            &p.repository_owner,
            shown(claims, "repository_owner"),
            Comparison::Exact,
            "R-GH-4",
            string(claims, "repository_owner") == Some(&p.repository_owner),
        ),
        row(
            "job_workflow_ref",
            "job_workflow_ref",
            one_per_line(&expected),
            shown(claims, "job_workflow_ref"),
            Comparison::OneOf,
            "R-GH-4",
            job_workflow_ref.is_some_and(|j| !j.is_empty() && expected.contains(j)),
        ),
        row(
            "event_name",
            "event_name",
            PULL_REQUEST_TARGET,
            shown(claims, "event_name"),
            Comparison::MustDiffer,
            "R-GH-5",
            event != Some(PULL_REQUEST_TARGET),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::workflow_filename;

    #[test]
    fn r_gh_2_workflow_filename_table() {
        let table = [
            (
                "o/r/.github/workflows/release.yml@refs/tags/v1",
                Some("release.yml"),
            ),
            (
                "o/r/.github/workflows/nested@evil.yml@refs/heads/main",
                Some("nested@evil.yml"),
            ),
            (
                "o/r/.github/workflows/basic.yml@refs/heads/misleading@branch.yml",
                Some("basic.yml"),
            ),
            (
                "o/r/.github/workflows/a.yml@b.yaml@refs/heads/x",
                Some("a.yml@b.yaml"),
            ),
            ("o/r/.github/workflows/.yml@main", None),
        ];
        for (claim, expected) in table {
            assert_eq!(workflow_filename(claim), expected, "{claim}");
        }
    }
}
