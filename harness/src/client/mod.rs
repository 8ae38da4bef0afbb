//! Client conformance for PEP 807 (`mintcheck client`): the harness plays an index (and a
//! foreign host beside it), runs the user's upload command once per client scenario with
//! the environment of a GitHub Actions job, and judges the client by what the index saw and
//! what the client printed. A client that never asks for discovery does not support PEP 807:
//! `unsupported`, never `fail`.

pub mod index;
pub mod scenarios;

use std::process::Stdio;
use std::time::Duration;

use mock_issuer::MockIssuer;

use crate::rig::targets::{Signal, shell, signal_group};
use crate::rig::upload::{sdist, sdist_filename};
use crate::suite::outcome::Verdict;
use index::PlayedIndex;
use scenarios::{ClientScenario, Observed};

/// Credentials a developer's shell may hold that would let a client upload without trusted
/// publishing, or as another CI system: the command gets the GitHub job's environment only.
const OTHER_CREDENTIALS: [&str; 7] = [
    "UV_PUBLISH_TOKEN",
    "UV_PUBLISH_USERNAME",
    "UV_PUBLISH_PASSWORD",
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "GITLAB_CI",
    "PYPI_ID_TOKEN",
];

/// Proxy settings of the user's shell, never passed on.
const PROXIES: [&str; 6] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The distributions the client is given to upload, in `dist/` of its working directory.
const DISTRIBUTIONS: [(&str, &str); 2] = [("widgetry", "1.0.0"), ("widgetry", "1.0.1")];

/// One client scenario's verdict, why, and what the client printed.
#[derive(Debug)]
pub struct ClientOutcome {
    pub id: &'static str,
    pub title: &'static str,
    pub rules: &'static [&'static str],
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub output: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("starting the mock issuer: {0}")]
    Issuer(#[from] mock_issuer::IssuerError),
    #[error(
        "starting the played index (it needs the loopback addresses 127.0.0.1 and 127.0.0.2): {0}"
    )]
    Index(#[from] index::BindError),
    #[error("preparing the client's folder: {0}")]
    Folder(#[from] std::io::Error),
}

/// Runs `command` (through `sh -c`) in `scenario`, each run given `timeout`.
pub async fn run(
    command: &str,
    scenario: &ClientScenario,
    timeout: Duration,
) -> Result<ClientOutcome, ClientError> {
    let issuer = MockIssuer::start().await?;
    let index = PlayedIndex::start((scenario.behaviour)()).await?;
    let folder = folder_with_distributions()?;
    let upload_url = index.upload_url();
    let mut child = shell(command);
    // The user's proxies would carry the identity token off the machine.
    for name in OTHER_CREDENTIALS.iter().chain(&PROXIES) {
        child.env_remove(name);
    }
    for name in ["NO_PROXY", "no_proxy"] {
        child.env(name, "127.0.0.1,127.0.0.2,localhost");
    }
    if let Some(proxy) = index.proxy() {
        for name in ["HTTP_PROXY", "http_proxy"] {
            child.env(name, proxy);
        }
    }
    child
        .current_dir(folder.path())
        .stdin(Stdio::null())
        .envs(issuer.github_env(issuer.request_token()).vars)
        .envs(
            [
                "MINTCHECK_UPLOAD_URL",
                "UV_PUBLISH_URL",
                "TWINE_REPOSITORY_URL",
            ]
            .map(|name| (name, upload_url.as_str())),
        );
    let (verdict, reasons, output) = match finish(child, command, timeout).await {
        Err(message) => (Verdict::Error { message }, Vec::new(), String::new()),
        Ok((output, exit_code)) => {
            let seen = Observed {
                log: index.log(),
                output,
                exit_code,
                files: DISTRIBUTIONS.len(),
            };
            let (verdict, reasons) = judge(scenario, &seen);
            (verdict, reasons, seen.output)
        }
    };
    Ok(ClientOutcome {
        id: scenario.id,
        title: scenario.title,
        rules: scenario.rules,
        verdict,
        reasons,
        output,
    })
}

/// A fresh folder whose `dist/` holds the distributions to upload.
fn folder_with_distributions() -> std::io::Result<tempfile::TempDir> {
    let folder = tempfile::tempdir()?;
    std::fs::create_dir(folder.path().join("dist"))?;
    for (name, version) in DISTRIBUTIONS {
        let file = folder
            .path()
            .join("dist")
            .join(sdist_filename(name, version));
        std::fs::write(file, sdist(name, version))?;
    }
    Ok(folder)
}

/// Runs the client to its end: what it printed (stdout, then stderr) and its exit code
/// (`None` when a signal ended it); an error when it could not start or did not end in time
/// (its whole process group is killed then).
async fn finish(
    mut child: tokio::process::Command,
    command: &str,
    timeout: Duration,
) -> Result<(String, Option<i32>), String> {
    let child = child
        .spawn()
        .map_err(|e| format!("starting `{command}`: {e}"))?;
    let group = child.id();
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(finished)) => Ok((
            format!(
                "{}{}",
                String::from_utf8_lossy(&finished.stdout),
                String::from_utf8_lossy(&finished.stderr)
            ),
            finished.status.code(),
        )),
        Ok(Err(e)) => Err(format!("waiting for `{command}`: {e}")),
        Err(_) => {
            if let Some(pid) = group {
                signal_group(pid, Signal::Kill);
            }
            Err(format!(
                "`{command}` did not end within {} s (--timeout)",
                timeout.as_secs_f64()
            ))
        }
    }
}

/// The verdict on what the client did, and why it failed.
fn judge(scenario: &ClientScenario, seen: &Observed) -> (Verdict, Vec<String>) {
    if !scenarios::discovered(seen) {
        let reason = scenario
            .without_discovery
            .unwrap_or(
                "the client never asked for discovery (GET /.well-known/pytp): it does not \
                 implement PEP 807",
            )
            .to_owned();
        return (Verdict::Unsupported { reason }, Vec::new());
    }
    let reasons = (scenario.judge)(seen);
    let verdict = if reasons.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    (verdict, reasons)
}
