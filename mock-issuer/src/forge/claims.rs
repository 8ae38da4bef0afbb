//! Claim edits the defects make that take more than a line.

use serde_json::{Map, Value, json};

/// The claims `renamed-repository` may rewrite: the repository (or project) and the
/// claims derived from it.
pub const RENAMED: [&str; 7] = [
    "repository",
    "sub",
    "workflow_ref",
    "job_workflow_ref",
    "project_path",
    "ci_config_ref_uri",
    "project",
];

/// The claim an `oversized` token carries its padding in.
pub const PADDING: &str = "mintcheck_padding";

/// A value of another JSON type that no lax parser would coerce back.
pub fn retyped(value: &Value) -> Value {
    match value {
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse::<u64>().map_or(json!(true), |n| json!(n))
        }
        Value::String(_) => json!(true),
        Value::Number(n) => json!([n]),
        Value::Bool(b) => json!(b.to_string()),
        Value::Array(_) => json!({}),
        Value::Object(_) => json!([]),
        Value::Null => json!(0),
    }
}

/// The value a duplicated claim shows first: of the real value's kind where that is a
/// string, so a parser keeping the first member reads a plausible but wrong value.
pub fn decoy(real: &Value) -> Value {
    match real {
        Value::String(_) => json!("mintcheck-decoy"),
        _ => Value::Null,
    }
}

/// GitHub's `repository_owner_id` as a re-created owner account would carry it; `None`
/// where the token has no string owner ID.
pub fn drifted_owner_id(claims: &Map<String, Value>) -> Option<String> {
    let id = claims.get("repository_owner_id")?.as_str()?;
    Some(
        id.parse::<u64>()
            .map_or_else(|_| "1".to_owned(), |n| (n + 1).to_string()),
    )
}

/// Renames the repository (GitHub), project path (GitLab) or project (ActiveState) and
/// rewrites the claims derived from it, as a real token from the renamed project would be.
pub fn rename_repository(claims: &mut Map<String, Value>) -> Option<()> {
    let text =
        |claims: &Map<String, Value>, name: &str| claims.get(name)?.as_str().map(str::to_owned);
    let replace_in = |claims: &mut Map<String, Value>, name: &str, from: &str, to: &str| {
        if let Some(old) = text(claims, name) {
            claims.insert(name.to_owned(), json!(old.replacen(from, to, 1)));
        }
    };
    if let Some(repository) = text(claims, "repository") {
        let renamed = format!("{repository}-renamed");
        claims.insert("repository".into(), json!(renamed));
        for name in ["sub", "workflow_ref", "job_workflow_ref"] {
            replace_in(
                claims,
                name,
                &format!("{repository}/"),
                &format!("{renamed}/"),
            );
        }
        replace_in(
            claims,
            "sub",
            &format!("repo:{repository}:"),
            &format!("repo:{renamed}:"),
        );
    } else if let Some(path) = text(claims, "ci_config_ref_uri").and(text(claims, "project_path")) {
        let renamed = format!("{path}-renamed");
        claims.insert("project_path".into(), json!(renamed));
        replace_in(claims, "sub", &format!(":{path}:"), &format!(":{renamed}:"));
        replace_in(
            claims,
            "ci_config_ref_uri",
            &format!("/{path}//"),
            &format!("/{renamed}//"),
        );
    } else {
        let project = text(claims, "project")?;
        let organization = text(claims, "organization")?;
        let renamed = format!("{project}-renamed");
        claims.insert("project".into(), json!(renamed));
        replace_in(
            claims,
            "sub",
            &format!(":project:{project}"),
            &format!(":project:{renamed}"),
        );
        replace_in(
            claims,
            "project_path",
            &format!("{organization}/{project}"),
            &format!("{organization}/{renamed}"),
        );
    }
    Some(())
}
