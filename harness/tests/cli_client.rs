//! `mintcheck client` judges an uploading client's PEP 807 support: a client written for
//! these tests (`tests/clients/pep807_client.py`) passes every client scenario, each of its
//! broken variants fails the scenario meant for it, and a client that never asks for
//! discovery is unsupported, never failed.

use std::process::Output;

mod common;

use common::cli::{bin, show, text};

fn test_client() -> String {
    format!(
        "python3 {}/../tests/clients/pep807_client.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn client(command: &str, flaw: &str, args: &[&str]) -> Output {
    tokio::process::Command::new(bin())
        .args(["client", "--client-cmd", command])
        .args(args)
        .env("MINTCHECK_CLIENT_FLAW", flaw)
        .output()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_test_client_passes_every_client_scenario() {
    let output = client(&test_client(), "", &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(
        text(&output.stdout).contains("client scenarios: 7 pass, 0 fail, 1 unsupported, 0 error"),
        "{}",
        show(&output)
    );
}

#[tokio::test]
async fn each_broken_client_fails_the_scenario_meant_for_it() {
    for (flaw, scenario) in [
        ("wrong-key", "client/discovery"),
        ("guess-audience", "client/discovery"),
        ("any-host", "client/foreign-host"),
        ("http-ok", "client/plain-http-upload-url"),
        ("mint-after-404", "client/not-supported"),
        ("unadvertised-feature", "client/advertised-features-only"),
        ("reuse-single-use", "client/single-use"),
        ("hide-errors", "client/problem-details"),
        ("hide-errors", "client/pypi-envelope"),
        ("crash-on-problem", "client/problem-details"),
    ] {
        let output = client(&test_client(), flaw, &[scenario]).await;
        assert_eq!(output.status.code(), Some(1), "{flaw}: {}", show(&output));
        let stdout = text(&output.stdout);
        assert!(
            stdout.contains(&format!("FAIL         {scenario}\n")),
            "{flaw}: {stdout}"
        );
    }
}

#[tokio::test]
async fn a_client_without_discovery_is_unsupported_and_a_hung_one_an_error() {
    let output = client("echo uploading the PyPI way", "", &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(
        text(&output.stdout).contains("0 pass, 0 fail, 8 unsupported, 0 error"),
        "{}",
        show(&output)
    );
    let hung = client("sleep 30", "", &["--timeout", "1", "client/discovery"]).await;
    assert_eq!(hung.status.code(), Some(1), "{}", show(&hung));
    assert!(
        text(&hung.stdout).contains("did not end within 1 s"),
        "{}",
        show(&hung)
    );
    let unknown = client("true", "", &["client/nothing-like-this"]).await;
    assert_eq!(unknown.status.code(), Some(2), "{}", show(&unknown));
}
