//! The binary as an installed tool: run from any directory, it carries its suite and says
//! which; its output can be cut short; its servers' `--help` gives their exit codes, and a
//! taken address is one line naming the flag.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use mintcheck::scenario::load::read_folder;

mod common;

use common::cli::{bin, show, text, wrong_code_target};
use common::{TOKEN, scenarios_dir};

/// `mintcheck ARGS` run from `dir`, with nothing from the environment choosing the suite.
fn mintcheck_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .args(args)
        .env_remove("MINTCHECK_SCENARIOS")
        .output()
        .unwrap()
}

/// A directory holding a `scenarios/` folder that is not ours.
fn beside_an_unrelated_scenarios_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenarios")).unwrap();
    std::fs::write(
        dir.path().join("scenarios/build.toml"),
        "[tool.other]\nname = ",
    )
    .unwrap();
    dir
}

fn listed_ids(output: &Output) -> Vec<String> {
    text(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with(' '))
        .map(|line| line.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_built_in_suite_runs_whatever_scenarios_folder_is_nearby() {
    let dir = beside_an_unrelated_scenarios_folder();
    let listed = mintcheck_in(dir.path(), &["list"]);
    assert_eq!(listed.status.code(), Some(0), "{}", show(&listed));
    let ours: Vec<String> = read_folder(&scenarios_dir())
        .unwrap()
        .into_iter()
        .map(|file| file.id)
        .collect();
    assert_eq!(listed_ids(&listed), ours);
    let run = mintcheck_in(dir.path(), &["run", "github/success/*"]);
    assert_eq!(run.status.code(), Some(0), "{}", show(&run));
    // Named explicitly, the folder is read, and its bad file is reported.
    let explicit = mintcheck_in(dir.path(), &["list", "--scenarios", "scenarios"]);
    assert_eq!(explicit.status.code(), Some(2), "{}", show(&explicit));
    assert!(
        text(&explicit.stderr).contains("build.toml"),
        "{}",
        show(&explicit)
    );
}

#[test]
fn version_names_the_suite_and_the_spec_revision() {
    let dir = tempfile::tempdir().unwrap();
    let output = mintcheck_in(dir.path(), &["--version"]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let count = read_folder(&scenarios_dir()).unwrap().len();
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with(&format!("mintcheck {}\n", env!("CARGO_PKG_VERSION"))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("\nsuite: {count} scenarios, digest ")),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nspec: pypi-mint-token.md version 2 ("),
        "{stdout}"
    );
}

#[test]
fn export_writes_where_it_is_told_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let unplaced = mintcheck_in(dir.path(), &["export"]);
    assert_eq!(unplaced.status.code(), Some(2), "{}", show(&unplaced));
    assert!(
        text(&unplaced.stderr).contains("--out DIR"),
        "{}",
        show(&unplaced)
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    let written = mintcheck_in(dir.path(), &["export", "--out", "suite"]);
    assert_eq!(written.status.code(), Some(0), "{}", show(&written));
    let export = std::fs::read_to_string(dir.path().join("suite/scenarios.json")).unwrap();
    let committed = std::fs::read_to_string(scenarios_dir().join("dist/scenarios.json")).unwrap();
    assert_eq!(
        export, committed,
        "the built-in suite's export is the committed one"
    );
    let schema = std::fs::read_to_string(dir.path().join("suite/scenario.schema.json")).unwrap();
    let committed =
        std::fs::read_to_string(scenarios_dir().join("schema/scenario.schema.json")).unwrap();
    assert_eq!(schema, committed);
}

#[test]
fn added_scenarios_join_the_suite_and_may_not_take_an_id() {
    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("extra");
    std::fs::create_dir_all(extra.join("github")).unwrap();
    let success =
        std::fs::read_to_string(scenarios_dir().join("github/success/mints.toml")).unwrap();
    std::fs::write(extra.join("github/also-mints.toml"), &success).unwrap();
    let added = mintcheck_in(
        dir.path(),
        &["list", "--add-scenarios", "extra", "github/also-*"],
    );
    assert_eq!(added.status.code(), Some(0), "{}", show(&added));
    assert_eq!(listed_ids(&added), ["github/also-mints"]);

    std::fs::create_dir_all(extra.join("github/success")).unwrap();
    std::fs::write(extra.join("github/success/mints.toml"), &success).unwrap();
    let clash = mintcheck_in(dir.path(), &["list", "--add-scenarios", "extra"]);
    assert_eq!(clash.status.code(), Some(2), "{}", show(&clash));
    let stderr = text(&clash.stderr);
    assert!(
        stderr.contains("scenario ID `github/success/mints` is already (built in) scenarios/github/success/mints.toml"),
        "{stderr}"
    );
}

/// `mintcheck ARGS` with its stdout closed before it writes anything: what `| head -0`
/// does to it.
async fn with_stdout_closed(args: &[&str]) -> Output {
    let mut child = tokio::process::Command::new(bin())
        .args(args)
        .env_remove("MINTCHECK_SCENARIOS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_the_output_and_never_the_verdict() {
    for args in [
        &["list"][..],
        &["token", "--profile", "github"],
        &["coverage"],
    ] {
        let output = with_stdout_closed(args).await;
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", show(&output));
        assert_eq!(text(&output.stderr), "", "{args:?}");
    }
    // A run whose reader has gone still fails its failing target.
    let base = wrong_code_target().await;
    let output = with_stdout_closed(&[
        "run",
        "--target-url",
        &base,
        "--control-token",
        TOKEN,
        "payload/not-json",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        !text(&output.stderr).contains("panicked"),
        "{}",
        show(&output)
    );
}

#[test]
fn every_server_and_the_forger_give_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        "sandbox", "issuer", "registry", "token", "run", "fuzz", "export",
    ] {
        let output = mintcheck_in(dir.path(), &[command, "--help"]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{command}: {}",
            show(&output)
        );
        let help = text(&output.stdout);
        assert!(help.contains("\nExit codes: 0 "), "{command}: {help}");
        assert!(help.contains("2 usage"), "{command}: {help}");
    }
}

#[test]
fn a_taken_address_is_one_line_naming_the_flag() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    for (args, flag) in [
        (vec!["registry", "--addr", &addr], "--addr"),
        (vec!["issuer", "--addr", &addr], "--addr"),
        (vec!["sandbox", "--addr", &addr], "--addr"),
        (
            vec!["sandbox", "--issuer-proxy", "--issuer-proxy-addr", &addr],
            "--issuer-proxy-addr",
        ),
    ] {
        let output = mintcheck_in(dir.path(), &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", show(&output));
        let stderr = text(&output.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(
            errors,
            [format!(
                "error: {addr} is in use by another program: give another address with {flag} \
                 (port 0 takes any free one)"
            )],
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.matches("in use").count(), 1, "{stderr}");
    }
}
