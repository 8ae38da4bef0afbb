//! GitLab CI/CD (spec §9).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::table::{Comparison, FieldCheck, one_per_line, row, shown};
use super::{
    Failure, NOT_FOUND, Token, eq_ignore_case, last_workflow_suffix, non_empty, optional,
    optional_field_matches, replay_check, required, select, string,
};
use crate::fixture::GitlabIdentity;
use crate::repr::{repr, reprlist};

/// R-GL-2.
pub fn lookup<'p>(
    token: &Token<'_>,
    candidates: &[(usize, &'p GitlabIdentity)],
) -> Result<(usize, &'p GitlabIdentity), String> {
    let claims = token.claims;
    // R-DEF-4, R-DEF-5.
    let (namespace, project) = string(claims, "project_path")
        .and_then(|p| p.rsplit_once('/'))
        .ok_or(NOT_FOUND)?;
    let workflow = string(claims, "ci_config_ref_uri")
        .and_then(workflow_filepath)
        .ok_or("Could not extract workflow filename from OIDC claims")?;
    let matching: Vec<(usize, &GitlabIdentity)> = candidates
        .iter()
        .filter(|(_, p)| {
            eq_ignore_case(&p.namespace, namespace)
                && eq_ignore_case(&p.project, project)
                && p.workflow_filepath == workflow
                // R-GL-5: self-managed instances stay apart.
                && p.issuer_url == token.issuer
        })
        .copied()
        .collect();
    select(&matching, string(claims, "environment"), |p| &p.environment)
        .ok_or_else(|| NOT_FOUND.to_owned())
}

/// R-GL-2 step 2: after the first `//`, everything up to the last `.yml`/`.yaml` followed by
/// `@` that is at offset 1 or later and not directly after a `/`.
fn workflow_filepath(ci_config_ref_uri: &str) -> Option<&str> {
    let (_, path) = ci_config_ref_uri.split_once("//")?;
    let end = last_workflow_suffix(path, |at| at >= 1 && !path[..at].ends_with('/'))?;
    Some(&path[..end])
}

/// R-GL-4.
pub fn verify(p: &GitlabIdentity, token: &Token<'_>) -> Result<(), Failure> {
    let claims = token.claims;
    let project_path = format!("{}/{}", p.namespace, p.project);
    required(sub_matches(p, claims), "sub")?;
    required(
        non_empty(claims, "project_path").is_some_and(|c| eq_ignore_case(c, &project_path)),
        "project_path",
    )?;

    let ci_config_ref_uri = string(claims, "ci_config_ref_uri").unwrap_or_default();
    if ci_config_ref_uri.is_empty() {
        return Err(Failure::NoMatch(
            "The ci_config_ref_uri claim is empty".to_owned(),
        ));
    }
    let Some(expected) = expected_ci_config_ref_uris(p, claims) else {
        return Err(Failure::NoMatch(
            "The ref_path and sha claims are empty".to_owned(),
        ));
    };
    if !expected.contains(ci_config_ref_uri) {
        return Err(Failure::NoMatch(format!(
            "The ci_config_ref_uri claim does not match, expecting one of {}, got {}",
            reprlist(expected.iter().map(String::as_str)),
            repr(ci_config_ref_uri)
        )));
    }

    replay_check(token)?;
    let environment = string(claims, "environment");
    optional(
        optional_field_matches(&p.environment, environment, |a, b| a == b),
        "environment",
    )
}

/// The `sub` check of R-GL-4: its first two `:`-parts are `project_path:<namespace>/<project>`,
/// ignoring case.
fn sub_matches(p: &GitlabIdentity, claims: &Map<String, Value>) -> bool {
    non_empty(claims, "sub").is_some_and(|sub| {
        let mut parts = sub.split(':');
        match (parts.next(), parts.next()) {
            (Some(kind), Some(value)) if !kind.is_empty() && !value.is_empty() => eq_ignore_case(
                &format!("{kind}:{value}"),
                &format!("project_path:{}/{}", p.namespace, p.project),
            ),
            _ => false,
        }
    })
}

/// R-GL-4's E, built from the publisher's fields, `ref_path` and `sha`; `None` unless both are
/// non-empty.
fn expected_ci_config_ref_uris(
    p: &GitlabIdentity,
    claims: &Map<String, Value>,
) -> Option<BTreeSet<String>> {
    let (ref_path, sha) = (non_empty(claims, "ref_path")?, non_empty(claims, "sha")?);
    let domain = p
        .issuer_url
        .strip_prefix("https://")
        .unwrap_or(&p.issuer_url);
    let project_path = format!("{}/{}", p.namespace, p.project);
    Some(
        [ref_path, sha]
            .iter()
            .map(|v| format!("{domain}/{project_path}//{}@{v}", p.workflow_filepath))
            .collect(),
    )
}

/// R-GL-2, R-GL-4 and R-GL-5 as rows, for `explain`; `issuer` is the token's `iss`.
pub fn fields(p: &GitlabIdentity, claims: &Map<String, Value>, issuer: &str) -> Vec<FieldCheck> {
    let split = string(claims, "project_path").and_then(|p| p.rsplit_once('/'));
    let part = |index: usize| {
        split
            .map(|(before, after)| [before, after][index].to_owned())
            .or_else(|| shown(claims, "project_path"))
    };
    let ci_config_ref_uri = string(claims, "ci_config_ref_uri");
    let workflow = ci_config_ref_uri.and_then(workflow_filepath);
    let expected = expected_ci_config_ref_uris(p, claims).unwrap_or_default();
    let sub_prefix: Option<String> =
        shown(claims, "sub").map(|sub| sub.splitn(3, ':').take(2).collect::<Vec<_>>().join(":"));
    vec![
        row(
            "namespace",
            "project_path, before the last /",
            &p.namespace,
            part(0),
            Comparison::CaseInsensitive,
            "R-GL-2",
            split.is_some_and(|(namespace, _)| eq_ignore_case(&p.namespace, namespace)),
        ),
        row(
            "project",
            "project_path, after the last /",
            &p.project,
            part(1),
            Comparison::CaseInsensitive,
            "R-GL-2",
            split.is_some_and(|(_, project)| eq_ignore_case(&p.project, project)),
        ),
        row(
            "workflow_filepath",
            "ci_config_ref_uri, the file path",
            &p.workflow_filepath,
            workflow
                .map(str::to_owned)
                .or_else(|| shown(claims, "ci_config_ref_uri")),
            Comparison::DerivedFrom("ci_config_ref_uri"),
            "R-GL-2",
            workflow == Some(p.workflow_filepath.as_str()),
        ),
        row(
            "issuer_url",
            "iss",
            &p.issuer_url,
            Some(issuer.to_owned()),
            Comparison::Exact,
            "R-GL-5",
            p.issuer_url == issuer,
        ),
        row(
            "environment",
            "environment",
            &p.environment,
            shown(claims, "environment"),
            Comparison::AnyOrExact,
            "R-PUB-6, R-GL-4",
            optional_field_matches(&p.environment, string(claims, "environment"), |a, b| a == b),
        ),
        row(
            "sub",
            "sub, its first two :-parts",
            format!("project_path:{}/{}", p.namespace, p.project),
            sub_prefix,
            Comparison::CaseInsensitive,
            "R-GL-4",
            sub_matches(p, claims),
        ),
        row(
            "ci_config_ref_uri",
            "ci_config_ref_uri",
            one_per_line(&expected),
            shown(claims, "ci_config_ref_uri"),
            Comparison::OneOf,
            "R-GL-4",
            ci_config_ref_uri.is_some_and(|c| !c.is_empty() && expected.contains(c)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::workflow_filepath;

    #[test]
    fn r_gl_2_workflow_filepath_table() {
        let table = [
            (
                "gitlab.com/foo/bar//.gitlab-ci.yml@refs/heads/main",
                Some(".gitlab-ci.yml"),
            ),
            (
                "gitlab.com/foo/bar//ci/release.yaml@refs/tags/v1",
                Some("ci/release.yaml"),
            ),
            (
                "gitlab.com/foo/bar//foo.yml@bar.yml@/some/ref",
                Some("foo.yml@bar.yml"),
            ),
            ("gitlab.com/foo/bar//ci/.yml@main", None),
            ("gitlab.com/foo/bar/.gitlab-ci.yml@main", None),
        ];
        for (claim, expected) in table {
            assert_eq!(workflow_filepath(claim), expected, "{claim}");
        }
    }
}
