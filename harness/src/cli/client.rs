//! `mintcheck client`: PEP 807 conformance of an uploading client.

use std::process::ExitCode;

use mintcheck::client::{self, ClientOutcome, scenarios::SCENARIOS};
use mintcheck::suite::expectations::glob;
use mintcheck::suite::outcome::Verdict;

use super::UsageError;
use super::output::{outln, unread_is_fine};
use super::run::EXIT_TARGET;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
For each client scenario the harness plays a PEP 807 index on 127.0.0.1 (and a foreign host on
127.0.0.2), starts a mock GitHub Actions token endpoint, and runs CMD through `sh -c` in a fresh
folder whose dist/ holds two source distributions, with the job's environment:
GITHUB_ACTIONS, ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN, and the upload URL in
MINTCHECK_UPLOAD_URL, UV_PUBLISH_URL and TWINE_REPOSITORY_URL (plain http on loopback, a
trustworthy origin for PEP 807; in client/plain-http-upload-url it is
http://pep807-index.test/legacy/ instead, an origin a client must refuse, reachable only
through HTTP_PROXY, the index itself). The client is judged by what the index received and what it
printed: the discovery URL, no identity token to a foreign host or after a 404, only advertised
features, a fresh mint per upload under single-use-token, and the refusal's text shown without
a crash. A client that never asks for discovery does not implement PEP 807: unsupported.

Example: mintcheck client --client-cmd 'uv publish --trusted-publishing always'

Exit codes: 0 no scenario failed (unsupported included); 1 a scenario failed or could not run
the command; 2 usage error; 3 the harness could not set up the played index.")]
pub struct ClientArgs {
    /// The upload command, run through `sh -c` once per scenario.
    #[arg(long, value_name = "CMD")]
    client_cmd: String,
    /// Client scenario IDs or globs (`client/*`); none = all.
    #[arg(value_name = "ID-GLOB")]
    globs: Vec<String>,
    /// Seconds one run of the command may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    timeout: f64,
}

pub async fn run(args: ClientArgs) -> anyhow::Result<ExitCode> {
    let timeout = super::target_args::timeout(args.timeout)?;
    let patterns: Vec<_> = args.globs.iter().map(|g| glob(g)).collect();
    let selected: Vec<_> = SCENARIOS
        .iter()
        .filter(|s| patterns.is_empty() || patterns.iter().any(|p| p.is_match(s.id)))
        .collect();
    if selected.is_empty() {
        let ids: Vec<&str> = SCENARIOS.iter().map(|s| s.id).collect();
        return Err(UsageError(format!(
            "no client scenario matches; they are: {}",
            ids.join(", ")
        ))
        .into());
    }
    let mut outcomes = Vec::new();
    for scenario in selected {
        match client::run(&args.client_cmd, scenario, timeout).await {
            Ok(outcome) => {
                unread_is_fine(outln!("{}", line(&outcome)))?;
                outcomes.push(outcome);
            }
            Err(err) => {
                eprintln!("error: {err}");
                return Ok(ExitCode::from(EXIT_TARGET));
            }
        }
    }
    for outcome in outcomes.iter().filter(|o| o.verdict == Verdict::Fail) {
        unread_is_fine(outln!("{}", details(outcome)))?;
    }
    let count = |label: &str| {
        outcomes
            .iter()
            .filter(|o| o.verdict.label() == label)
            .count()
    };
    unread_is_fine(outln!(
        "client scenarios: {} pass, {} fail, {} unsupported, {} error",
        count("pass"),
        count("fail"),
        count("unsupported"),
        count("error")
    ))?;
    let failed = outcomes
        .iter()
        .any(|o| matches!(o.verdict, Verdict::Fail | Verdict::Error { .. }));
    Ok(ExitCode::from(u8::from(failed)))
}

fn line(outcome: &ClientOutcome) -> String {
    let detail = match &outcome.verdict {
        Verdict::Unsupported { reason } => format!("  ({reason})"),
        Verdict::Error { message } => format!("  ({message})"),
        _ => String::new(),
    };
    format!(
        "{:<12} {}{detail}",
        outcome.verdict.label().to_ascii_uppercase(),
        outcome.id
    )
}

/// A failure: why, the rules behind the scenario, and the end of what the client printed.
fn details(outcome: &ClientOutcome) -> String {
    let mut text = format!(
        "\nFAIL {} - {}\n  rules: {}\n",
        outcome.id,
        outcome.title,
        outcome.rules.join(", ")
    );
    for reason in &outcome.reasons {
        text.push_str(&format!("  - {reason}\n"));
    }
    let lines: Vec<&str> = outcome.output.lines().collect();
    let tail = &lines[lines.len().saturating_sub(12)..];
    text.push_str("  the client's output (last lines):\n");
    for line in tail {
        text.push_str(&format!("    {line}\n"));
    }
    text
}
