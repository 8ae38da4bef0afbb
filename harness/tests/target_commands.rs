//! Target commands: a registry the harness starts itself, waits for, passes the run's CA to
//! and stops with everything it started.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mintcheck::rig::issuers::IssuerSetup;
use mintcheck::rig::targets::{Target, TargetCommand};
use mintcheck::scenario::{Level, Scenario, load_dir};
use mintcheck::suite::outcome::Verdict;
use mintcheck::suite::report::{self};
use mintcheck::suite::runner::{self, RunOptions};
use mock_issuer::tls::TestCa;

mod common;

use common::*;

fn registry_command() -> String {
    format!(
        "{} registry --control-token {TOKEN}",
        report::shell_quote(env!("CARGO_BIN_EXE_mintcheck"))
    )
}

/// Whether the server at `base_url` is gone: a killed process closes its sockets as it
/// exits, a moment after the signal, so this waits up to 2 s for the refusal.
async fn refuses_connections(base_url: &str) -> bool {
    let addr = base_url.trim_start_matches("http://");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn the_reference_registry_started_as_a_command_passes_its_scenarios() {
    let process = TargetCommand::new(registry_command())
        .start()
        .await
        .unwrap();
    let base = process.base_url().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let exact = RunOptions {
        level: Level::PypiExact,
        ..core()
    };
    let scenarios: Vec<Scenario> = load_dir(&scenarios_dir())
        .unwrap()
        .into_iter()
        .filter(|s| {
            ["github/", "signature/", "pending/", "payload/"]
                .iter()
                .any(|p| s.id.starts_with(p))
        })
        .collect();
    assert!(scenarios.len() > 10);
    let outcomes = runner::run(scenarios, &Target::remote(&base, TOKEN), &exact, |_| {}).await;
    let not_passed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::Pass && !matches!(o.verdict, Verdict::Skip { .. }))
        .map(|o| format!("{}: {:?} {:?}", o.id, o.verdict, pointers(o)))
        .collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    process.stop().await;
    assert!(refuses_connections(&base).await, "stopped");
}

#[tokio::test]
async fn a_started_registry_verifies_https_issuers_through_the_runs_ca() {
    let ca = Arc::new(TestCa::generate().unwrap());
    let process = TargetCommand::new(registry_command())
        .env("SSL_CERT_FILE", ca.ca_path().display().to_string())
        .start()
        .await
        .unwrap();
    let options = RunOptions {
        issuers: IssuerSetup {
            tls: true,
            ca: Some(ca),
            proxy: None,
            gateway: None,
        },
        ..core()
    };
    let ids = [
        "github/success/mints",
        "gitlab/success/mints",
        "google/success/mints",
        "activestate/success/mints",
        "signature/bad-signature",
    ];
    let outcomes = run(process.base_url(), &ids, &options).await;
    for outcome in &outcomes {
        assert_eq!(
            outcome.verdict,
            Verdict::Pass,
            "{}: {:?}",
            outcome.id,
            pointers(outcome)
        );
    }
}

#[tokio::test]
async fn a_target_command_without_a_ready_line_is_stopped_and_shown() {
    let started = Instant::now();
    let error = TargetCommand::new("echo starting up; echo 'port in use' >&2; sleep 30")
        .ready_timeout(Duration::from_millis(500))
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        error.starts_with(
            "target command `echo starting up; echo 'port in use' >&2; sleep 30` printed no ready line within 0.5 s"
        ),
        "{error}"
    );
    assert!(error.contains("its stdout:\n    starting up"), "{error}");
    assert!(error.contains("its stderr:\n    port in use"), "{error}");
}

#[tokio::test]
async fn a_target_command_that_exits_or_prints_a_bad_ready_line_is_an_error() {
    let error = TargetCommand::new("echo 'no such option' >&2; exit 7")
        .start()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("exited with code 7 before printing its ready line"),
        "{error}"
    );
    assert!(error.contains("no such option"), "{error}");
    let error =
        TargetCommand::new(r#"echo '{"mintcheck":"ready","base_url":"127.0.0.1:80"}'; sleep 30"#)
            .start()
            .await
            .unwrap_err()
            .to_string();
    assert!(
        error.contains("printed a ready line without an http(s) base_url"),
        "{error}"
    );
}

#[tokio::test]
async fn log_lines_before_the_ready_line_are_allowed_and_the_address_is_passed() {
    let process = TargetCommand::new(
        r#"echo "listening on $MINTCHECK_ADDR"; echo '{"mintcheck":"ready","base_url":"http://127.0.0.1:9/"}'; sleep 30"#,
    )
    .start()
    .await
    .unwrap();
    assert_eq!(process.base_url(), "http://127.0.0.1:9");
    assert!(
        process.output().contains("listening on 127.0.0.1:0"),
        "{}",
        process.output()
    );
}

/// Whether a process is gone (a zombie no one reaps counts as gone).
#[cfg(target_os = "linux")]
async fn gone(pid: &str) -> bool {
    for _ in 0..50 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                return true;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    false
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn stopping_or_dropping_a_target_ends_what_it_started() {
    for stop in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let command = format!(
            r#"sleep 300 & echo $! > {}; echo '{{"mintcheck":"ready","base_url":"http://127.0.0.1:9"}}'; wait"#,
            quoted(&pid_file)
        );
        let process = TargetCommand::new(command).start().await.unwrap();
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_owned();
        assert!(!gone(&pid).await || pid.is_empty(), "the grandchild runs");
        if stop {
            process.stop().await;
        } else {
            drop(process);
        }
        assert!(
            gone(&pid).await,
            "stop={stop}: the grandchild {pid} survived"
        );
    }
}

/// The target starts while the scenarios load; when they, or the expectations file, turn
/// out unusable, the run ends with that error (exit 2) and stops the target with what it
/// started.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_target_started_for_a_run_that_cannot_go_on_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken");
    std::fs::create_dir_all(broken.join("bad")).unwrap();
    std::fs::write(broken.join("bad/case.toml"), "title = \n").unwrap();
    let expectations = dir.path().join("expect.toml");
    std::fs::write(&expectations, "[[expect]]\nscenario = 1\n").unwrap();
    let cases = [
        (
            vec!["--scenarios".to_owned(), broken.display().to_string()],
            "bad/case.toml",
        ),
        (
            vec![
                "--scenarios".to_owned(),
                scenarios_dir().display().to_string(),
                "--expectations".to_owned(),
                expectations.display().to_string(),
            ],
            "expect.toml",
        ),
    ];
    for (case, (args, named)) in cases.into_iter().enumerate() {
        let pid_file = dir.path().join(format!("pid-{case}"));
        let command = format!(
            r#"sleep 300 & echo $! > {}; echo '{{"mintcheck":"ready","base_url":"http://127.0.0.1:9"}}'; wait"#,
            quoted(&pid_file)
        );
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_mintcheck"))
            .args(["run", "--control-token", TOKEN, "--target-cmd", &command])
            .args(&args)
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(named), "{stderr}");
        let pid = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .to_owned();
        assert!(!pid.is_empty());
        assert!(
            gone(&pid).await,
            "{named}: the target's child {pid} survived"
        );
    }
}
