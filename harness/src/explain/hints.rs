//! The usual reasons a publisher does not match, spotted in the table and the claims:
//! invisible and look-alike characters, stray spaces, `.yml` against `.yaml`, case, reusable
//! workflows, renamed repositories and owners, re-created owners, missing environments.
//! Hints only explain; the verdict is the registry's.

use reference_registry::explain::{Comparison, Explanation, FieldCheck, Outcome, Step};
use reference_registry::fixture::Identity;
use serde_json::{Map, Value};

use super::{At, Request};

pub fn find(request: &Request, explanation: &Explanation, rows: &[FieldCheck]) -> Vec<String> {
    let mut hints = Vec::new();
    if let Some(claims) = &explanation.claims {
        for row in rows.iter().filter(|row| !row.ok) {
            characters(row, &mut hints);
        }
        if let Identity::Github(p) = &request.identity {
            github(p, claims, rows, &mut hints);
        }
    }
    timing(request, explanation, &mut hints);
    hints
}

/// Characters that make equal-looking values differ, and case and extension slips.
fn characters(row: &FieldCheck, hints: &mut Vec<String>) {
    let Some(actual) = &row.actual else {
        return;
    };
    // A one-of row's expected values are one per line.
    let expected = if row.comparison == Comparison::OneOf {
        row.expected.lines().collect()
    } else {
        vec![row.expected.as_str()]
    };
    let values = expected
        .into_iter()
        .map(|value| ("the publisher's", value))
        .chain([("the token's", actual.as_str())]);
    for (whose, value) in values {
        for (at, c) in value.chars().enumerate() {
            if let Some(name) = invisible(c) {
                hints.push(format!(
                    "{}: {whose} value {value:?} contains an invisible {name} (U+{:04X}) at character {}",
                    row.field,
                    c as u32,
                    at + 1
                ));
            } else if let Some(looks_like) = confusable(c) {
                hints.push(format!(
                    "{}: {whose} value {value:?} contains U+{:04X} {c:?}, which looks like {looks_like:?} but is another character",
                    row.field, c as u32
                ));
            }
        }
        if value.trim() != value {
            hints.push(format!(
                "{}: {whose} value {value:?} has leading or trailing whitespace",
                row.field
            ));
        }
    }
    let exact = matches!(
        row.comparison,
        Comparison::Exact | Comparison::DerivedFrom(_) | Comparison::AnyOrExact
    );
    if exact && row.expected != *actual && row.expected.to_lowercase() == actual.to_lowercase() {
        hints.push(format!(
            "{}: {:?} and {:?} differ only in case, and this field is compared exactly",
            row.field, row.expected, actual
        ));
    }
    let stem = |v: &str| {
        v.strip_suffix(".yml")
            .or_else(|| v.strip_suffix(".yaml"))
            .map(str::to_owned)
    };
    if let (Some(a), Some(b)) = (stem(&row.expected), stem(actual))
        && a == b
        && row.expected != *actual
    {
        hints.push(format!(
            "{}: the publisher names {:?} but the workflow that ran is {:?}: .yml and .yaml are different files",
            row.field, row.expected, actual
        ));
    }
}

fn github(
    p: &reference_registry::fixture::GithubIdentity,
    claims: &Map<String, Value>,
    rows: &[FieldCheck],
    hints: &mut Vec<String>,
) {
    let claim = |name: &str| claims.get(name).and_then(Value::as_str);
    let failed = |field: &str, claim: &str| {
        rows.iter()
            .any(|r| !r.ok && r.field == field && r.claim.starts_with(claim))
    };
    let (workflow_ref, job_workflow_ref) = (claim("workflow_ref"), claim("job_workflow_ref"));
    if let (Some(caller), Some(called)) = (workflow_ref, job_workflow_ref)
        && caller != called
    {
        let called_repository = called.split("/.github/").next().unwrap_or(called);
        let mut hint = format!(
            "reusable workflow: the job ran {called:?}, called from {caller:?}. PyPI matches the called workflow (job_workflow_ref), not the caller (workflow_ref)"
        );
        if Some(called_repository) != claim("repository") {
            hint.push_str(&format!(
                "; it lives in another repository ({called_repository}), and PyPI builds the expected job_workflow_ref from the publisher's own repository, so it cannot publish: call the publishing step from a workflow of {}",
                claim("repository").unwrap_or("the repository")
            ));
        } else {
            hint.push_str(". Register the called workflow's file as workflow_filename");
        }
        hints.push(hint);
    }
    let owner_id_ok = claim("repository_owner_id") == Some(p.repository_owner_id.as_str());
    let split = claim("repository").and_then(|r| r.split_once('/'));
    if let Some((owner, name)) = split {
        let owner_ok = owner == p.repository_owner;
        if owner_id_ok && owner_ok && name != p.repository_name {
            hints.push(format!(
                "renamed repository? The owner and its id match, but the repository is {name:?} where the publisher names {:?}: after a rename, update the publisher's repository name",
                p.repository_name
            ));
        }
        if owner_id_ok && !owner_ok && !owner.eq_ignore_ascii_case(&p.repository_owner) {
            hints.push(format!(
                "renamed owner? The owner id {} matches, but the owner is {owner:?} where the publisher names {:?}: after renaming an account or organisation, update the publisher",
                p.repository_owner_id, p.repository_owner
            ));
        }
        if !owner_id_ok && owner_ok && name == p.repository_name {
            hints.push(format!(
                "changed owner id: the repository is {owner}/{name} as registered, but repository_owner_id is {} where the publisher has {:?}. The account or organisation was deleted and re-created (or the name passed to someone else); PyPI refuses this on purpose, against account resurrection. Re-create the publisher only if the new owner is really yours",
                claims.get("repository_owner_id").map_or_else(|| "absent".to_owned(), Value::to_string),
                p.repository_owner_id
            ));
        }
    }
    if failed("environment", "environment") {
        match claim("environment").filter(|e| !e.is_empty()) {
            None => hints.push(format!(
                "environment: the job declares no environment but the publisher requires {:?}: add `environment: {}` to the publishing job, or register the publisher without an environment",
                p.environment, p.environment
            )),
            Some(environment) => hints.push(format!(
                "environment: the job ran in {environment:?}, the publisher requires {:?}",
                p.environment
            )),
        }
    }
    if failed("(any event but this)", "event_name") {
        hints.push("event_name: workflows triggered by pull_request_target cannot publish (R-GH-5); trigger the release on push, release or workflow_dispatch".to_owned());
    }
}

fn timing(request: &Request, explanation: &Explanation, hints: &mut Vec<String>) {
    let expired = explanation.steps.iter().any(|(step, outcome)| {
        *step == Step::Verify
            && matches!(outcome, Outcome::Failed(e)
                if e.undisclosed.as_deref().is_some_and(|r| r.contains("`exp`")))
    });
    if expired && request.at == At::Now {
        hints.push("the token has expired (CI tokens live minutes): add `--at issued` to judge it as when its job ran".to_owned());
    }
}

/// The name of a character that shows as nothing.
fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00A0}' => "NO-BREAK SPACE",
        '\u{00AD}' => "SOFT HYPHEN",
        '\u{034F}' => "COMBINING GRAPHEME JOINER",
        '\u{180E}' => "MONGOLIAN VOWEL SEPARATOR",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{202A}'..='\u{202E}' => "bidirectional formatting character",
        '\u{2060}' => "WORD JOINER",
        '\u{2066}'..='\u{2069}' => "bidirectional isolate",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE (byte order mark)",
        c if c.is_control() => "control character",
        _ => return None,
    })
}

/// The ASCII character `c` is easily taken for.
fn confusable(c: char) -> Option<char> {
    let ascii = match c {
        // Cyrillic.
        'а' => 'a',
        'е' => 'e',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'А' => 'A',
        'В' => 'B',
        'Е' => 'E',
        'К' => 'K',
        'М' => 'M',
        'Н' => 'H',
        'О' => 'O',
        'Р' => 'P',
        'С' => 'C',
        'Т' => 'T',
        'Х' => 'X',
        // Greek.
        'ο' => 'o',
        'ν' => 'v',
        'α' => 'a',
        'Α' => 'A',
        'Β' => 'B',
        'Ε' => 'E',
        'Ι' => 'I',
        'Κ' => 'K',
        'Ο' => 'O',
        'Ρ' => 'P',
        'Τ' => 'T',
        // Dashes, dots and slashes.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => '-',
        '\u{2024}' | '\u{FF0E}' => '.',
        '\u{2044}' | '\u{2215}' | '\u{FF0F}' => '/',
        // Fullwidth forms of ASCII.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0)?,
        _ => return None,
    };
    Some(ascii)
}

#[cfg(test)]
mod tests {
    use reference_registry::explain::Input;
    use serde_json::json;

    use super::super::{At, Request, explain};

    const PUBLISHER: &str = "repository=acme-labs/widgetry,repository_owner_id=48213977,workflow_filename=publish.yml,environment=pypi";

    /// The hints for the §18 GitHub claims with `edits`, judged against [`PUBLISHER`].
    async fn hints_for(edits: serde_json::Value) -> Vec<String> {
        let mut claims = mock_issuer::Profile::Github.claims(
            1_767_225_600.0,
            "https://token.actions.githubusercontent.com",
            "pypi",
            "jti-1",
        );
        for (name, value) in edits.as_object().unwrap() {
            claims.insert(name.clone(), value.clone());
        }
        let request = Request {
            input: Input::Claims(claims),
            identity: crate::scenario::publisher::parse(PUBLISHER).unwrap(),
            pending: None,
            projects: Vec::new(),
            audience: None,
            custom_issuer: None,
            at: At::Issued,
        };
        let report = explain(&request).await.unwrap();
        assert!(report.explanation.verdict.is_err(), "{edits} mints");
        report.hints
    }

    fn one_containing<'a>(hints: &'a [String], text: &str) -> &'a str {
        let found: Vec<&String> = hints.iter().filter(|h| h.contains(text)).collect();
        assert_eq!(found.len(), 1, "{text:?} in {hints:#?}");
        found[0]
    }

    #[tokio::test]
    async fn a_recreated_owner_is_named_as_such() {
        let hints = hints_for(json!({"repository_owner_id": "99"})).await;
        let hint = one_containing(&hints, "changed owner id");
        assert!(hint.contains("account resurrection"), "{hint}");
    }

    #[tokio::test]
    async fn a_reusable_workflow_from_another_repository_cannot_publish() {
        let called = "acme-labs/release-tools/.github/workflows/publish.yml@refs/heads/main";
        let hints = hints_for(json!({"job_workflow_ref": called})).await;
        let hint = one_containing(&hints, "reusable workflow");
        assert!(
            hint.contains("another repository (acme-labs/release-tools)"),
            "{hint}"
        );
    }

    #[tokio::test]
    async fn a_yaml_workflow_gets_exactly_the_extension_hint() {
        let called = "acme-labs/widgetry/.github/workflows/publish.yaml@refs/tags/v2.0.1";
        let hints = hints_for(json!({"job_workflow_ref": called, "workflow_ref": called})).await;
        assert_eq!(hints.len(), 1, "{hints:#?}");
        one_containing(&hints, ".yml and .yaml are different files");
    }

    #[tokio::test]
    async fn a_missing_environment_says_what_to_add() {
        let hints = hints_for(json!({"environment": ""})).await;
        one_containing(&hints, "add `environment: pypi`");
    }

    #[tokio::test]
    async fn look_alikes_spaces_and_case_are_pointed_out() {
        // A Cyrillic "а" in the owner.
        let hints = hints_for(json!({"repository": "аcme-labs/widgetry"})).await;
        one_containing(&hints, "U+0430");
        let hints = hints_for(json!({"repository": "acme-labs/widgetry "})).await;
        one_containing(&hints, "leading or trailing whitespace");
        let hints = hints_for(json!({"repository": "acme-labs/Widgetry"})).await;
        one_containing(&hints, "differ only in case");
    }

    #[tokio::test]
    async fn an_expired_token_suggests_judging_it_when_issued() {
        let mut claims = serde_json::Map::new();
        claims.insert(
            "iss".into(),
            json!("https://token.actions.githubusercontent.com"),
        );
        claims.insert("aud".into(), json!("pypi"));
        claims.insert("iat".into(), json!(1_000));
        claims.insert("exp".into(), json!(1_300));
        let request = Request {
            input: Input::Claims(claims),
            identity: crate::scenario::publisher::parse(PUBLISHER).unwrap(),
            pending: None,
            projects: Vec::new(),
            audience: None,
            custom_issuer: None,
            at: At::Now,
        };
        let report = explain(&request).await.unwrap();
        one_containing(&report.hints, "--at issued");
    }
}
