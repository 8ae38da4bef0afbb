//! `mintcheck run` as a user runs it: a real process, its output and its exit codes
//! (0 passed, 1 failed, 2 usage or file error, 3 target error or xpass).

use std::path::Path;

use mintcheck::suite::report::shell_quote;
use serde_json::{Value, json};

mod common;

use common::TOKEN;
use common::cli::{bin, mintcheck_run as mintcheck, show, text, wrong_code_target};
use common::scenarios_dir;

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_registry_passes_and_exits_0() {
    let output = mintcheck(&["github/success/*", "payload/*"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("running ")
            && stdout.contains("against the embedded reference registry at level pypi-exact"),
        "{stdout}"
    );
    assert!(
        stdout.contains("PASS         payload/not-json\n"),
        "{stdout}"
    );
    assert!(stdout.contains(" 0 fail, "), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_target_exits_1_with_details_a_curl_line_and_a_rerun_line() {
    let base = wrong_code_target().await;
    let output = mintcheck(&[
        "--target-url",
        &base,
        "--control-token",
        TOKEN,
        "--seed",
        "42",
        "payload/not-json",
        "github/success/mints",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let stdout = text(&output.stdout);
    for line in [
        "FAIL         payload/not-json\n",
        "PASS         github/success/mints\n",
        "\nFAIL payload/not-json - a body that is not JSON is an invalid payload\n",
        "    at /errors/0/code (envelope, R-PAYLOAD-1, R-PAYLOAD-5 MUST at core):\n      expected: invalid-payload\n      actual:   invalid-token\n",
        &format!(
            "    reproduce: curl -sS -i -H 'content-type: application/json' --data-raw 'not json' {base}/_/oidc/mint-token\n"
        ),
        &format!(
            "  rerun: mintcheck run payload/not-json --seed 42 --target-url {base} --control-token \"$MINTCHECK_CONTROL_TOKEN\" --scenarios {}\n",
            shell_quote(&scenarios_dir().display().to_string())
        ),
        "decisions: 2/2 right: the target refused what it must refuse and accepted what it must accept\naspects right: status 2/2, envelope 1/2, wording 0/0\n",
        "scenarios: 1 pass, 1 fail, 0 inconclusive, 0 skip, 0 unsupported, 0 error, 0 advisories\n",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }

    // The curl line, run by a shell, sends what the harness sent.
    let reproduce = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("reproduce: "))
        .unwrap()
        .to_owned();
    let sent = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&reproduce)
        .output()
        .await;
    if let Some(sent) = sent.ok().filter(|o| o.status.code() != Some(127)) {
        let answer = text(&sent.stdout);
        assert!(answer.starts_with("HTTP/1.1 422"), "{reproduce}\n{answer}");
        assert!(answer.contains(r#""code":"invalid-token""#), "{answer}");
    } else {
        // No curl here: a stand-in shows the shell splits the line into the intended words.
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "curl",
            "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n",
        );
        std::fs::set_permissions(
            dir.path().join("curl"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let words = std::process::Command::new("sh")
            .arg("-c")
            .arg(&reproduce)
            .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
            .output()
            .unwrap();
        assert!(
            text(&words.stdout).contains("[--data-raw]\n[not json]\n"),
            "{}",
            text(&words.stdout)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_and_file_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let stale = write(
        dir.path(),
        "stale.toml",
        "[[expect]]\nscenario = \"github/renamed-away\"\noutcome = \"xfail\"\nreason = \"r\"\n",
    );
    let reasonless = write(
        dir.path(),
        "reasonless.toml",
        "[[expect]]\nscenario = \"payload/not-json\"\noutcome = \"xfail\"\n",
    );
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["no/such/*"], "no scenario in".into()),
        (
            vec!["--fixture-cmd", "true", "payload/*"],
            "--fixture-cmd needs a target".into(),
        ),
        (
            vec!["--target-url", "http://127.0.0.1:9", "payload/*"],
            "needs a way to receive fixtures".into(),
        ),
        (
            vec!["--expectations", &stale, "payload/*"],
            format!("{stale}:2: `scenario`: \"github/renamed-away\" matches no scenario"),
        ),
        (
            vec!["--expectations", &reasonless, "payload/*"],
            format!("{reasonless}:1: `reason`: required and not empty"),
        ),
        (vec!["--timeout", "0", "payload/*"], "--timeout 0".into()),
        (vec!["--jobs", "0", "payload/*"], "--jobs 0".into()),
    ];
    for (args, wanted) in cases {
        let output = mintcheck(&args).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}\n{}", show(&output));
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(&wanted),
            "{args:?}: missing {wanted:?} in:\n{stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "{args:?}: nothing ran\n{}",
            show(&output)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_unstartable_target_exits_3() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let output = mintcheck(&[
        "--target-url",
        &dead,
        "--control-token",
        TOKEN,
        "payload/not-json",
    ])
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "ERROR        payload/not-json  (PUT {dead}/__mintcheck/fixture: "
        )),
        "{stdout}"
    );

    let output = mintcheck(&[
        "--target-cmd",
        "echo 'cannot open database' >&2; exit 1",
        "--control-token",
        TOKEN,
        "payload/not-json",
    ])
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: target command `echo 'cannot open database' >&2; exit 1` exited with code 1 before printing its ready line"),
        "{stderr}"
    );
    assert!(stderr.contains("cannot open database"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xfail_passes_a_run_xpass_is_an_error_and_a_failure_outranks_it() {
    let base = wrong_code_target().await;
    let dir = tempfile::tempdir().unwrap();
    let known = write(
        dir.path(),
        "known.toml",
        r#"[[expect]]
scenario = "payload/not-json"
outcome = "xfail"
reason = "every refusal says invalid-token"
code = "invalid-token"

[[expect]]
scenario = "github/success/mints"
outcome = "xfail"
reason = "stale: it mints now"
"#,
    );
    let remote = [
        "--target-url",
        &base,
        "--control-token",
        TOKEN,
        "--expectations",
        &known,
    ];
    let run = |ids: &'static [&'static str]| {
        let args: Vec<&str> = remote.iter().copied().chain(ids.iter().copied()).collect();
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            mintcheck(&args).await
        }
    };

    let output = run(&["payload/not-json"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("XFAIL        payload/not-json  (every refusal says invalid-token)"),
        "{stdout}"
    );
    assert!(stdout.contains(", 1 xfail, 0 xpass"), "{stdout}");

    let output = run(&["github/success/mints"]).await;
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    assert!(
        text(&output.stdout).contains(
            "XPASS        github/success/mints  (listed as xfail (stale: it mints now) at "
        ),
        "{}",
        show(&output)
    );

    let output = run(&["github/success/mints", "payload/empty-token"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_as_a_target_command_with_tls_issuers_and_a_junit_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    // The control token reaches `mintcheck registry` through MINTCHECK_CONTROL_TOKEN.
    let output = mintcheck(&[
        "--target-cmd",
        &format!("{} registry", shell_quote(bin())),
        "--control-token",
        TOKEN,
        "--issuer-tls",
        "--format",
        "junit",
        "--output",
        &report.display().to_string(),
        "*/success/*",
    ])
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stdout = text(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "only the summary: {stdout}");
    assert!(
        lines[0].starts_with("decisions: ")
            && lines[1].starts_with("aspects right: ")
            && lines[2].starts_with("scenarios: "),
        "only the summary: {stdout}"
    );
    let xml = std::fs::read_to_string(&report).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let suite = &parsed.test_suites[0];
    assert!(suite.tests >= 4, "{xml}");
    assert_eq!((suite.failures, suite.errors), (0, 0), "{xml}");
    let providers: Vec<&str> = suite
        .test_cases
        .iter()
        .filter_map(|c| c.classname.as_ref().map(|n| n.as_str()))
        .collect();
    for provider in ["activestate", "github", "gitlab", "google"] {
        assert!(providers.contains(&provider), "{providers:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_reports_parse_with_their_summary() {
    let base = wrong_code_target().await;
    let output = mintcheck(&[
        "--target-url",
        &base,
        "--control-token",
        TOKEN,
        "--format",
        "json",
        "payload/not-json",
        "endpoints/audience",
    ])
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["mintcheck_report"], 1);
    assert_eq!(report["target"], base);
    assert_eq!(report["level"], "core");
    assert_eq!(
        report["summary"],
        json!({"pass": 1, "advisory": 0, "fail": 1, "inconclusive": 0, "skip": 0, "unsupported": 0, "error": 0, "xfail": 0, "xpass": 0, "not_run": 0})
    );
    assert_eq!(report["advisories"], 0);
    assert_eq!(
        report["aspects"]["decision"],
        json!({"judged": 2, "right": 2, "advisory": 0})
    );
    assert_eq!(report["aspects"]["envelope"]["right"], 1);
    let outcomes: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["pass", "fail"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_should_is_an_advisory_that_exits_0_unless_strict() {
    let base = wrong_code_target().await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "unknown-issuer.toml",
        r#"title = "an unknown issuer is named as such"
requirement = "r"
rules = ["R-ORDER-2"]
level = "core"
[[step]]
action = "mint"
body = '{"token":"x"}'
expect = { status = 422, code = "invalid-token", description = { contains = "unknown trusted publishing issuer", rule = "R-ORDER-2", strength = "should" } }
"#,
    );
    let run = |extra: &'static [&'static str]| {
        let (dir, base) = (dir.path().to_owned(), base.clone());
        async move {
            tokio::process::Command::new(bin())
                .args(["run", "--scenarios"])
                .arg(&dir)
                .args(["--target-url", &base, "--control-token", TOKEN])
                .args(extra)
                .output()
                .await
                .unwrap()
        }
    };
    let output = run(&[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(
            "ADVISORY     unknown-issuer  (SHOULD of R-ORDER-2 not met at /errors/0/description)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("at /errors/0/description (wording, R-ORDER-2 SHOULD at core):"),
        "{stdout}"
    );
    assert!(stdout.contains(", 1 advisories\n"), "{stdout}");

    let output = run(&["--format", "json"]).await;
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["advisories"], 1);
    assert_eq!(report["scenarios"][0]["outcome"], "advisory");
    assert_eq!(
        report["scenarios"][0]["steps"][0]["mismatches"][0]["strength"],
        "should"
    );

    let output = run(&["--strict"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(text(&output.stdout).contains("FAIL         unknown-issuer"));
}
