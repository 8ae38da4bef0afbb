//! `mintcheck run` with the run's issuers in the user's hands: the issuer proxy given to the
//! target and fixture commands, and `--keep-issuers` keeping failed scenarios' issuers up
//! for the report's reproducers.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{post, put};
use mintcheck::suite::report::shell_quote;
use serde_json::{Value, json};

mod common;

use common::cli::{bin, show, text};
use common::{TOKEN, scenarios_dir};

/// A fixture command body: PUT stdin to the control endpoint (CI machines have Python, not
/// necessarily curl).
const PUT_FIXTURE: &str = r#"import os, sys, urllib.request
request = urllib.request.Request(os.environ["MINTCHECK_BASE_URL"] + "/__mintcheck/fixture", sys.stdin.buffer.read(), method="PUT", headers={"Authorization": "Bearer " + os.environ["MINTCHECK_CONTROL_TOKEN"]})
urllib.request.urlopen(request)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_proxy_reaches_target_and_fixture_commands() {
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("target.env");
    let applied = dir.path().join("fixture.env");
    let env = "HTTPS_PROXY=$HTTPS_PROXY https_proxy=$https_proxy NO_PROXY=$NO_PROXY SSL_CERT_FILE=$SSL_CERT_FILE REQUESTS_CA_BUNDLE=$REQUESTS_CA_BUNDLE MINTCHECK_CA_FILE=$MINTCHECK_CA_FILE";
    // The reference registry, started by a command that notes what it was given; fixtures
    // reach it through a command that notes the same and then PUTs them.
    // The CA file lives as long as the run: each command keeps a copy.
    let target = format!(
        "echo \"{env}\" > {0}; cp \"$SSL_CERT_FILE\" {0}.ca; exec {1} registry",
        shell_quote(&seen.display().to_string()),
        shell_quote(bin())
    );
    let fixture = format!(
        "echo \"{env}\" > {0}; cp \"$SSL_CERT_FILE\" {0}.ca; python3 -c {1}",
        shell_quote(&applied.display().to_string()),
        shell_quote(PUT_FIXTURE),
    );
    let output = tokio::process::Command::new(bin())
        .args(["run", "--scenarios"])
        .arg(scenarios_dir())
        .args(["--target-cmd", &target, "--fixture-cmd", &fixture])
        .args(["--issuer-proxy", "github/success/mints"])
        .env("MINTCHECK_CONTROL_TOKEN", TOKEN)
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("issuer proxy: the target reaches the mock issuers as the real issuers' hosts with\n  HTTPS_PROXY=http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains(" REQUESTS_CA_BUNDLE=/"), "{stdout}");
    for file in [&seen, &applied] {
        let given = std::fs::read_to_string(file).unwrap();
        let value = |name: &str| {
            given
                .split_whitespace()
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            value("HTTPS_PROXY").starts_with("http://127.0.0.1:"),
            "{given}"
        );
        assert_eq!(value("https_proxy"), value("HTTPS_PROXY"));
        assert_eq!(value("NO_PROXY"), "localhost,127.0.0.1,::1");
        assert!(value("SSL_CERT_FILE").starts_with(&std::env::temp_dir().display().to_string()));
        assert_eq!(
            value("REQUESTS_CA_BUNDLE"),
            value("SSL_CERT_FILE"),
            "{given}"
        );
        assert_eq!(
            value("MINTCHECK_CA_FILE"),
            value("SSL_CERT_FILE"),
            "{given}"
        );
        let ca = std::fs::read_to_string(format!("{}.ca", file.display())).unwrap_or_default();
        assert!(
            ca.starts_with("-----BEGIN CERTIFICATE-----"),
            "the run's CA ({}): {given}",
            file.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_issuers_serve_the_reproducers_until_ctrl_c() {
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncBufReadExt, BufReader};
    // A target that mints for every JWT (so the expired token fails) and keeps the last
    // fixture it was given, which names the mock issuers' discovery URLs.
    let fixture: Arc<Mutex<Value>> = Arc::default();
    let kept = fixture.clone();
    let app = Router::new()
        .route(
            "/__mintcheck/fixture",
            put(move |body: axum::body::Bytes| {
                *kept.lock().unwrap() = serde_json::from_slice(&body).unwrap_or_default();
                async { StatusCode::NO_CONTENT }
            }),
        )
        .route(
            "/_/oidc/mint-token",
            post(|| async {
                axum::Json(
                    json!({"token": "t", "expires": mock_issuer::time::unix_now() as i64 + 900}),
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut child = tokio::process::Command::new(bin())
        .args(["run", "--scenarios"])
        .arg(scenarios_dir())
        .args(["--target-url", &base, "--control-token", TOKEN])
        .args(["--keep-issuers", "signature/expired"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), stderr.next_line())
        .await
        .expect("the run reports")
        .unwrap()
        .unwrap_or_default();
    assert!(
        line.starts_with("the mock issuers of 1 failed scenarios (and the target) stay up"),
        "{line}"
    );
    // The report is out, and the failed scenario's issuers still answer.
    let discovery = fixture.lock().unwrap()["issuers"][0]["discovery_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(&discovery)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{discovery}");
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().unwrap().to_string()])
        .status();
    let output = child.wait_with_output().await.unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    assert!(
        text(&output.stdout)
            .contains("    reproduce (the run's mock issuers stay up until Ctrl-C): curl "),
        "{}",
        text(&output.stdout)
    );
}
