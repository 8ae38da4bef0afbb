//! The `issuer` and `token` subcommands as a user runs them: real processes.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn mintcheck() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mintcheck"))
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_issuer(args: &[&str]) -> (Running, Value) {
    let mut child = mintcheck()
        .arg("issuer")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("ready line {line:?}: {e}"));
    (Running(child), ready)
}

#[tokio::test]
async fn issuer_prints_one_ready_line_and_serves() {
    let (_issuer, ready) = start_issuer(&[]);
    assert_eq!(ready["mintcheck"], "issuer");
    let base = ready["base_url"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert_eq!(ready["issuer"], base);
    assert!(ready["ca_file"].is_null());
    let discovery: Value = reqwest::get(ready["discovery_url"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], ready["issuer"]);
    let request = format!(
        "{}&audience=pypi",
        ready["github_request_url"].as_str().unwrap()
    );
    let response = reqwest::Client::new()
        .get(request)
        .bearer_auth(ready["request_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["value"].as_str().unwrap().split('.').count(), 3);

    let github_env = &ready["github_env"];
    assert_eq!(github_env["GITHUB_ACTIONS"], "true");
    assert_eq!(
        github_env["ACTIONS_ID_TOKEN_REQUEST_URL"],
        ready["github_request_url"]
    );
    assert_eq!(
        github_env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
        ready["request_token"]
    );
    let gitlab_token = ready["gitlab_env"]["PYPI_ID_TOKEN"].as_str().unwrap();
    let payload = gitlab_token.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (claims["aud"].as_str(), claims["iss"].as_str()),
        (Some("pypi"), ready["issuer"].as_str())
    );
    assert_eq!(claims["project_path"], "acme/python/widgetry");
}

#[tokio::test]
async fn issuer_with_tls_and_a_canonical_issuer() {
    let (_issuer, ready) =
        start_issuer(&["--tls", "--issuer-mode", "github", "--fault", "jwks-empty"]);
    assert_eq!(
        ready["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    let ca = std::fs::read(ready["ca_file"].as_str().unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .build()
        .unwrap();
    let jwks: Value = client
        .get(ready["jwks_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        jwks,
        serde_json::json!({"keys": []}),
        "the fault given on the command line is on"
    );
}

#[test]
fn issuer_refuses_a_public_address_without_allow_remote() {
    let output = mintcheck()
        .args(["issuer", "--addr", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");
    assert!(output.stdout.is_empty(), "no ready line");
}

#[test]
fn token_prints_a_jwt_with_the_requested_claims_and_defects() {
    let output = mintcheck()
        .args([
            "token",
            "--profile",
            "gitlab",
            "--claim",
            "environment=staging",
            "--claim-json",
            "runner_id=7",
        ])
        .args([
            "--time",
            "exp=now-29s",
            "--remove",
            "jti",
            "--defect",
            "no-kid",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(token["claims"]["environment"], "staging");
    assert_eq!(token["claims"]["runner_id"], 7);
    assert_eq!(token["claims"]["iss"], "https://gitlab.com");
    assert!(token["claims"].get("jti").is_none());
    assert!(token["header"].get("kid").is_none());
    let iat = token["claims"]["iat"].as_i64().expect("whole seconds");
    assert_eq!(token["claims"]["exp"].as_i64().unwrap(), iat + 5 - 29);
    assert_eq!(token["token"].as_str().unwrap().split('.').count(), 3);

    let bare = mintcheck()
        .args(["token", "--defect", "alg-none"])
        .output()
        .unwrap();
    let text = String::from_utf8(bare.stdout).unwrap();
    assert!(
        text.trim_end().ends_with('.') && text.ends_with('\n'),
        "{text:?}"
    );
}

#[test]
fn token_input_errors_exit_2_and_say_what_is_wrong() {
    let cases: [(&[&str], &str); 5] = [
        (&["--defect", "expird"], "unknown defect \"expird\""),
        (&["--profile", "gitlub"], "unknown profile \"gitlub\""),
        (&["--time", "exp=soon"], "invalid time \"soon\""),
        (&["--claim-json", "x={"], "x: \"{\" is not JSON"),
        (
            &["--defect", "alg-none", "--defect", "bad-signature"],
            "conflict",
        ),
    ];
    for (args, message) in cases {
        let output = mintcheck().arg("token").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn token_help_lists_every_defect_and_profile() {
    let output = mintcheck().args(["token", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for (name, _) in mock_issuer::defect::catalogue() {
        assert!(help.contains(&name), "{name} missing from --help");
    }
    for profile in mock_issuer::Profile::ALL {
        assert!(help.contains(profile.name()), "{profile}");
    }
}
