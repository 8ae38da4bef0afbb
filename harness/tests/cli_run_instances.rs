//! How `mintcheck run` treats its target's instances: a hung one stops the run in seconds
//! (exit 3, the scenarios not run named), `--jobs N` starts N of a `--target-cmd`, several
//! `--target-url` share the scenarios, and each outcome names the instance it ran on.

use mintcheck::suite::report::shell_quote;
use serde_json::Value;

mod common;

use common::TOKEN;
use common::cli::{bin, mintcheck_run as mintcheck, show, text, wrong_code_target};

/// A target that prints its ready line and then answers nothing: its port accepts
/// connections (the kernel's backlog) but no request ever gets a response.
const HUNG_TARGET: &str = r#"python3 -c 'import json, socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(json.dumps({"mintcheck": "ready", "base_url": "http://127.0.0.1:%d" % s.getsockname()[1]}), flush=True)
time.sleep(600)'"#;

/// `mintcheck run` against [`HUNG_TARGET`], one second per request, and `extra` arguments.
async fn against_a_hung_target(extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "--target-cmd",
        HUNG_TARGET,
        "--control-token",
        TOKEN,
        "--timeout",
        "1",
    ];
    args.extend_from_slice(extra);
    mintcheck(&args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_target_stops_the_run_within_three_timeouts_naming_what_was_not_run() {
    let started = std::time::Instant::now();
    let output = against_a_hung_target(&[]).await;
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    assert!(
        took <= std::time::Duration::from_secs(3 + 5),
        "took {took:?}\n{}",
        show(&output)
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(stdout.matches("\nERROR ").count(), 3, "{stdout}");
    let not_run = stdout.matches("\nNOT-RUN ").count();
    assert!(not_run > 100, "{stdout}");
    assert!(
        stdout.contains(&format!(", {not_run} not run")),
        "the summary counts them: {stdout}"
    );
    assert!(
        stderr.contains(
            "error: the run stopped after 3 scenarios in a row ended in an error against http://127.0.0.1:"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("timed out"), "the errors say why: {stderr}");
    assert!(
        stderr.contains(&format!(
            "{not_run} scenarios not run (--keep-going runs them): "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("signature/expired"), "lists them: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_going_runs_every_scenario_of_a_hung_target() {
    let output = against_a_hung_target(&[
        "--keep-going",
        "payload/not-json",
        "payload/empty-body",
        "signature/expired",
        "signature/alg-none",
    ])
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.matches("ERROR ").count(), 4, "{stdout}");
    assert!(!stdout.contains("NOT-RUN"), "{stdout}");
    assert!(
        !text(&output.stderr).contains("stopped"),
        "{}",
        show(&output)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_start_that_many_target_instances_and_each_outcome_names_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let started = dir.path().join("instances");
    let output = mintcheck(&[
        "--target-cmd",
        &format!(
            "echo $MINTCHECK_INSTANCE >> {}; exec {} registry",
            shell_quote(&started.display().to_string()),
            shell_quote(bin())
        ),
        "--control-token",
        TOKEN,
        "--jobs",
        "2",
        "--format",
        "json",
        "github/*",
        "signature/*",
    ])
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let mut numbers: Vec<String> = std::fs::read_to_string(&started)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["0", "1"]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let targets: Vec<&str> = report["target"].as_str().unwrap().split(", ").collect();
    assert_eq!(targets.len(), 2, "{}", report["target"]);
    let scenarios = report["scenarios"].as_array().unwrap();
    for target in &targets {
        let ran = scenarios
            .iter()
            .filter(|s| s["instance"].as_str() == Some(*target))
            .count();
        assert!(ran > 5, "{target} ran {ran} scenarios");
    }
    assert!(
        scenarios.iter().all(|s| s["instance"].is_string()),
        "every outcome names its instance"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_target_urls_share_the_scenarios_and_failures_name_their_instance() {
    let (first, second) = (wrong_code_target().await, wrong_code_target().await);
    let output = mintcheck(&[
        "--target-url",
        &first,
        "--target-url",
        &second,
        "--control-token",
        TOKEN,
        "signature/*",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stdout = text(&output.stdout);
    for base in [&first, &second] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("FAIL ") && l.contains(&format!(" on {base}"))),
            "a failure on {base}: {stdout}"
        );
    }
    let output = mintcheck(&[
        "--target-url",
        &first,
        "--control-token",
        TOKEN,
        "--jobs",
        "2",
    ])
    .await;
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert!(
        text(&output.stderr).contains("give one --target-url per instance"),
        "{}",
        show(&output)
    );
}
