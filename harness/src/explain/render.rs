//! The report as text for people and JSON for scripts. Neither ever contains the token.

use reference_registry::MintError;
use reference_registry::explain::{Comparison, FieldCheck, Outcome};
use reference_registry::fixture::Provider;
use serde_json::{Value, json};

use super::{At, Report};

pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let explanation = &report.explanation;
    match &explanation.verdict {
        Ok(()) => out.push_str(
            "Verdict: 200, a token is minted (provided the signature verifies: explain has no issuer keys to check it)\n",
        ),
        Err(error) => {
            out.push_str(&format!(
                "Verdict: 422 {}\n  {}\n",
                error.code.as_str(),
                error.description.replace('\n', "\n  ")
            ));
            if let Some(why) = &error.undisclosed {
                out.push_str(&format!("  why (PyPI does not tell the client): {why}\n"));
            }
        }
    }
    let when = match report.at {
        At::Now => "now".to_owned(),
        At::Issued => "at the token's iat, as when its job ran".to_owned(),
        At::Unix(_) => "as asked".to_owned(),
    };
    out.push_str(&format!(
        "Judged at Unix time {} ({when}). The token itself is never shown.\n",
        report.judged_at
    ));
    if let Some(header) = &explanation.header {
        let field = |name: &str| {
            header
                .get(name)
                .map_or_else(|| "absent".to_owned(), Value::to_string)
        };
        out.push_str(&format!(
            "Header: alg {}, kid {}\n",
            field("alg"),
            field("kid")
        ));
    }

    out.push_str("\nSteps, in the spec's order (docs/spec/pypi-mint-token.md, R-ORDER-1):\n");
    let mut lines = Vec::new();
    for (step, outcome) in &explanation.steps {
        let number = format!("{}", step.number());
        let name = format!("{} ({})", step.name(), step.section());
        let (result, detail) = match outcome {
            Outcome::Passed(notes) => ("pass", notes.join("; ")),
            Outcome::Failed(error) => ("FAIL", failure(error)),
            Outcome::NotReached => ("-", "not reached".to_owned()),
        };
        lines.push(vec![number, name, result.to_owned(), detail]);
    }
    out.push_str(&table(&lines));

    if !report.rows.is_empty() {
        out.push_str(&format!(
            "\nPublisher matching, field by field ({}):\n",
            provider_section(report.identity.provider())
        ));
        out.push_str(&fields(&report.rows));
    }
    if !report.hints.is_empty() {
        out.push_str("\nHints:\n");
        for hint in &report.hints {
            out.push_str(&format!("  - {hint}\n"));
        }
    }
    out
}

/// One block per row: the verdict, field and comparison, then the publisher's value(s) and
/// the token's, quoted so that spaces and invisible characters show.
fn fields(rows: &[FieldCheck]) -> String {
    let width = rows
        .iter()
        .map(|r| r.field.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for row in rows {
        let verdict = if row.ok { "ok" } else { "DIFFERS" };
        out.push_str(&format!(
            "  {verdict:<7}  {:<width$}  {} ({})\n",
            row.field, row.comparison, row.rule
        ));
        let expected: Vec<String> =
            if row.expected.is_empty() && row.comparison == Comparison::OneOf {
                vec!["(none: the token's versions are empty)".to_owned()]
            } else if row.comparison == Comparison::OneOf {
                row.expected.lines().map(|v| format!("{v:?}")).collect()
            } else {
                vec![format!("{:?}", row.expected)]
            };
        for (i, value) in expected.iter().enumerate() {
            let label = match (i, row.comparison) {
                (0, Comparison::MustDiffer) => "not",
                (0, _) => "expected",
                _ => "",
            };
            out.push_str(&format!("             {label:<8}  {value}\n"));
        }
        let actual = row
            .actual
            .as_ref()
            .map_or_else(|| "(absent)".to_owned(), |a| format!("{a:?}"));
        out.push_str(&format!(
            "             actual    {actual}  <- {}\n",
            row.claim
        ));
    }
    out
}

fn failure(error: &MintError) -> String {
    let mut text = format!(
        "{}: {}",
        error.code.as_str(),
        error.description.replace('\n', " | ")
    );
    if let Some(why) = &error.undisclosed {
        text.push_str(&format!(" [{why}]"));
    }
    text
}

fn provider_section(provider: Provider) -> &'static str {
    match provider {
        Provider::Github => "GitHub Actions, spec §8",
        Provider::Gitlab => "GitLab CI/CD, spec §9",
        Provider::Google => "Google, spec §10",
        Provider::ActiveState => "ActiveState, spec §11",
    }
}

/// Columns padded to their widest cell, two spaces apart, indented by two.
fn table(lines: &[Vec<String>]) -> String {
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines
                .iter()
                .filter_map(|l| l.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let mut text = String::from(" ");
        for (cell, width) in line.iter().zip(&widths) {
            text.push(' ');
            text.push_str(cell);
            text.push_str(&" ".repeat(width - cell.chars().count()));
            text.push(' ');
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

/// The report as one JSON document.
pub fn json(report: &Report) -> Value {
    let explanation = &report.explanation;
    let error_json = |e: &MintError| json!({"code": e.code.as_str(), "description": e.description, "undisclosed": e.undisclosed});
    let verdict = match &explanation.verdict {
        Ok(()) => json!({"status": 200}),
        Err(e) => {
            let mut v = error_json(e);
            v["status"] = json!(422);
            v
        }
    };
    let steps: Vec<Value> = explanation
        .steps
        .iter()
        .map(|(step, outcome)| {
            let mut v =
                json!({"step": step.number(), "name": step.name(), "section": step.section()});
            match outcome {
                Outcome::Passed(notes) => {
                    v["outcome"] = json!("pass");
                    v["notes"] = json!(notes);
                }
                Outcome::Failed(e) => {
                    v["outcome"] = json!("fail");
                    v["error"] = error_json(e);
                }
                Outcome::NotReached => v["outcome"] = json!("not-reached"),
            }
            v
        })
        .collect();
    let fields: Vec<Value> = report
        .rows
        .iter()
        .map(|row| {
            let expected = if row.comparison == Comparison::OneOf {
                json!(row.expected.lines().collect::<Vec<_>>())
            } else {
                json!(row.expected)
            };
            json!({"field": row.field, "expected": expected, "actual": row.actual,
                   "claim": row.claim, "comparison": row.comparison.to_string(),
                   "rule": row.rule, "ok": row.ok})
        })
        .collect();
    json!({
        "verdict": verdict,
        "judged_at": report.judged_at,
        "steps": steps,
        "fields": fields,
        "hints": report.hints,
        "header": explanation.header,
        "claims": explanation.claims,
    })
}
