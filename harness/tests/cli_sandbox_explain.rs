//! `registry --tls`, `sandbox` and `explain` as a user runs them: real processes.

use std::io::{BufRead, BufReader, Lines, Write as _};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use mock_issuer::{Forger, KeySet, Profile};
use serde_json::{Value, json};

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

/// Starts `mintcheck ARGS`, returns it with its stdout lines and the first one as JSON.
fn start(args: &[&str]) -> (Running, Lines<BufReader<ChildStdout>>, Value) {
    start_with(args, &[])
}

/// [`start`] with environment variables.
fn start_with(
    args: &[&str],
    env: &[(&str, &str)],
) -> (Running, Lines<BufReader<ChildStdout>>, Value) {
    let mut child = mintcheck()
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().expect("a ready line").unwrap();
    let ready = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    (Running(child), lines, ready)
}

/// A client trusting every certificate in `ca_file` (a CA, or a bundle).
fn client_trusting(ca_file: &str) -> reqwest::Client {
    let ca = std::fs::read(ca_file).unwrap();
    reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
        .no_proxy()
        .build()
        .unwrap()
}

async fn json_of(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

async fn text_of(request: reqwest::RequestBuilder) -> String {
    request.send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn registry_with_tls_names_its_ca_and_serves_https() {
    let (_registry, _, ready) = start(&["registry", "--tls"]);
    let base = ready["base_url"].as_str().unwrap();
    assert!(base.starts_with("https://127.0.0.1:"), "{ready}");
    let client = client_trusting(ready["ca_file"].as_str().unwrap());
    let audience = text_of(client.get(format!("{base}/_/oidc/audience"))).await;
    assert_eq!(audience, r#"{"audience":"pypi"}"#);
    // A client without the CA refuses the certificate.
    let untrusted = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(untrusted.get(base).send().await.is_err());
}

#[tokio::test]
async fn sandbox_prints_each_jobs_environment_and_logs_mints_without_tokens() {
    let env_dir = tempfile::tempdir().unwrap();
    let (_sandbox, mut lines, ready) = start(&[
        "sandbox",
        "--json",
        "--env-dir",
        env_dir.path().to_str().unwrap(),
        "--job",
        "release:profile=github,environment=pypi",
    ]);
    assert_eq!(ready["mintcheck"], "sandbox");
    let registry = ready["registry_url"].as_str().unwrap();
    assert_eq!(ready["upload_url"], format!("{registry}/legacy/"));
    let job = &ready["jobs"][0];
    assert_eq!(job["name"], "release");
    let env = &job["env"];
    for name in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
        assert_eq!(env[name], ready["trust_bundle"], "{name}");
    }
    assert_eq!(env["NODE_EXTRA_CA_CERTS"], ready["ca_file"]);
    assert_eq!(env["GITHUB_ACTIONS"], "true");
    assert_eq!(env["UV_PUBLISH_URL"], ready["upload_url"]);
    let shell = std::fs::read_to_string(env_dir.path().join("release.env")).unwrap();
    assert!(shell.contains("export GITHUB_ACTIONS='true'\n"), "{shell}");

    // What a GitHub Actions client does: fetch the job's token, then mint with it.
    let client = client_trusting(env["SSL_CERT_FILE"].as_str().unwrap());
    let url = format!(
        "{}&audience=pypi",
        env["ACTIONS_ID_TOKEN_REQUEST_URL"].as_str().unwrap()
    );
    let request_token = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"].as_str().unwrap();
    let reply = json_of(client.get(url).bearer_auth(request_token)).await;
    let oidc = reply["value"].as_str().unwrap().to_owned();
    let minted = json_of(
        client
            .post(format!("{registry}/_/oidc/mint-token"))
            .json(&json!({"token": oidc})),
    )
    .await;
    let api_token = minted["token"].as_str().unwrap();
    // The demo's publisher wants environment pypi, which the job's claims carry.
    assert!(api_token.starts_with("pypi-"), "{minted}");

    let line = lines.next().unwrap().unwrap();
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        (event["event"].as_str(), event["status"].as_u64()),
        (Some("mint"), Some(200))
    );
    assert_eq!(event["claims"]["repository"], "acme-labs/widgetry");
    assert!(
        !line.contains(&oidc) && !line.contains(api_token),
        "a token in the log: {line}"
    );
}

#[test]
fn sandbox_refuses_a_bad_publisher_naming_the_field() {
    let output = mintcheck()
        .args(["sandbox", "--publisher", "widgetry:repo_owner=acme"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown field `repo_owner`"), "{stderr}");
    assert!(output.stdout.is_empty());
}

const PUBLISHER: &str = "repository=acme-labs/widgetry,repository_owner_id=48213977,workflow_filename=publish.yml,environment=pypi";

/// A GitHub token of the default profile with `edits`, as the canonical issuer signs it.
fn github_token(edits: &[(&str, Value)]) -> String {
    let mut builder = Forger::new(&KeySet::embedded()).token(Profile::Github);
    for (name, value) in edits {
        builder = builder.claim(*name, value.clone());
    }
    builder.sign().unwrap().compact
}

fn explain(token: &str, args: &[&str]) -> Output {
    let mut child = mintcheck()
        .args(["explain", "--token-file", "-"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn explain_a_renamed_repository() {
    let token = github_token(&[("repository", json!("acme-labs/widgetry-ng"))]);
    let output = explain(&token, &["--publisher", PUBLISHER]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(
        "Verdict: 422 invalid-publisher\n  valid token, but no corresponding publisher (Publisher with matching claims was not found)\n"
    ), "{text}");
    assert!(text.contains("7  publishers (§7-§11)"), "{text}");
    let block = "  DIFFERS  repository_name      exact (R-GH-2)\n             expected  \"widgetry\"\n             actual    \"widgetry-ng\"  <- repository, after the first /\n";
    assert!(text.contains(block), "{text}");
    assert!(text.contains("renamed repository?"), "{text}");
    assert!(!text.contains(&token) && !text.contains(token.split('.').nth(2).unwrap()));
}

#[test]
fn explain_flags_an_invisible_character_and_a_yaml_workflow() {
    let token = github_token(&[
        (
            "job_workflow_ref",
            json!("acme-labs/widgetry/.github/workflows/publish.yaml@refs/tags/v2.0.1"),
        ),
        ("environment", json!("pypi\u{200b}")),
    ]);
    let output = explain(&token, &["--publisher", PUBLISHER, "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"]["code"], "invalid-publisher");
    let hints = report["hints"].to_string();
    assert!(hints.contains("ZERO WIDTH SPACE"), "{hints}");
    assert!(
        hints.contains(".yml and .yaml are different files"),
        "{hints}"
    );
    let workflow = report["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "workflow_filename")
        .unwrap();
    assert_eq!(
        workflow["comparison"],
        "exact, derived from job_workflow_ref"
    );
    assert_eq!(workflow["actual"], "publish.yaml");
    assert_eq!(workflow["ok"], false);
}

#[test]
fn explain_judges_an_old_token_as_when_it_was_issued() {
    let token = {
        let builder = Forger::new(&KeySet::embedded())
            .token(Profile::Github)
            .at(1_767_225_600.0);
        builder.sign().unwrap().compact
    };
    let now = explain(&token, &["--publisher", PUBLISHER]);
    let text = String::from_utf8_lossy(&now.stdout);
    assert!(text.contains("Verdict: 422 invalid-token"), "{text}");
    assert!(text.contains("--at issued"), "{text}");
    let then = explain(&token, &["--publisher", PUBLISHER, "--at", "issued"]);
    let text = String::from_utf8_lossy(&then.stdout);
    assert_eq!(then.status.code(), Some(0), "{text}");
    assert!(text.contains("Verdict: 200"), "{text}");
    assert!(text.contains("Judged at Unix time 1767225595"), "{text}");
}

#[test]
fn explain_without_a_publisher_is_a_usage_error() {
    let output = explain("a.b.c", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--publisher"));
}

#[test]
fn a_missing_input_file_is_a_usage_error_naming_it() {
    let missing = "/nonexistent/mintcheck-input";
    let check = |what: &str, output: Output| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(&format!("reading {missing}: ")),
            "{what}: {stderr}"
        );
    };
    let run = |args: &[&str]| mintcheck().args(args).output().unwrap();
    check(
        "the claims",
        run(&["explain", "--claims-file", missing, "--publisher", "x"]),
    );
    check(
        "the publisher",
        explain(&github_token(&[]), &["--publisher-file", missing]),
    );
    check("the fixture", run(&["registry", "--fixture", missing]));
    check(
        "the sandbox's config",
        run(&["sandbox", "--config", missing]),
    );
}

#[tokio::test]
async fn the_sandbox_issuer_proxy_serves_the_real_issuer_hosts() {
    let (_sandbox, _, ready) = start(&["sandbox", "--json", "--issuer-proxy"]);
    let proxy = ready["issuer_proxy"].as_str().expect("the proxy's URL");
    assert!(proxy.starts_with("http://127.0.0.1:"), "{ready}");
    // A client that knows only the real issuer string, as PyPI does, with the sandbox's CA.
    let ca = std::fs::read(ready["ca_file"].as_str().unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .proxy(reqwest::Proxy::https(proxy).unwrap())
        .build()
        .unwrap();
    let discovery = json_of(
        client.get("https://token.actions.githubusercontent.com/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(
        discovery["issuer"],
        "https://token.actions.githubusercontent.com"
    );
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    assert!(
        jwks_uri.starts_with("https://token.actions.githubusercontent.com/"),
        "{jwks_uri}"
    );
    let keys = json_of(client.get(jwks_uri)).await;
    assert_eq!(keys["keys"][0]["kid"], "mintcheck-primary");
    // Nothing else leaves through it.
    assert!(client.get("https://pypi.org/simple/").send().await.is_err());
}

#[tokio::test]
async fn the_jobs_keep_the_system_roots_and_sigterm_deletes_the_ca_and_the_bundle() {
    // Stands for the system's roots: OpenSSL's SSL_CERT_FILE, where the sandbox reads them.
    let roots_ca = mock_issuer::tls::TestCa::generate().unwrap();
    let roots = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(roots.path(), roots_ca.ca_pem()).unwrap();
    let (mut sandbox, _, ready) = start_with(
        &["sandbox", "--json"],
        &[("SSL_CERT_FILE", roots.path().to_str().unwrap())],
    );
    let ca_file = ready["ca_file"].as_str().unwrap().to_owned();
    let bundle_file = ready["trust_bundle"].as_str().unwrap().to_owned();
    let bundle = std::fs::read_to_string(&bundle_file).unwrap();
    let ca = std::fs::read_to_string(&ca_file).unwrap();
    assert_eq!(bundle, format!("{}{ca}", roots_ca.ca_pem()));
    for job in ready["jobs"].as_array().unwrap() {
        assert_eq!(job["env"]["SSL_CERT_FILE"], ready["trust_bundle"], "{job}");
        assert_eq!(
            job["env"]["REQUESTS_CA_BUNDLE"], ready["trust_bundle"],
            "{job}"
        );
    }
    let registry = ready["registry_url"].as_str().unwrap();
    let audience = client_trusting(&bundle_file)
        .get(format!("{registry}/_/oidc/audience"))
        .send()
        .await
        .unwrap();
    assert_eq!(audience.status(), 200);

    let pid = i32::try_from(sandbox.0.id()).unwrap();
    // SAFETY: a plain signal to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = sandbox.0.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    for file in [&ca_file, &bundle_file] {
        assert!(
            !std::path::Path::new(file).exists(),
            "{file} is left behind"
        );
    }
}

#[tokio::test]
async fn a_gitlab_job_gets_a_fresh_token_for_each_upload() {
    let env_dir = tempfile::tempdir().unwrap();
    // The event log is kept open: a sandbox whose stdout closes stops.
    let (_sandbox, _events, ready) = start(&[
        "sandbox",
        "--json",
        "--env-dir",
        env_dir.path().to_str().unwrap(),
    ]);
    let job = ready["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|job| job["name"] == "gitlab")
        .expect("the demo's GitLab job");
    let env = &job["env"];
    let client = client_trusting(env["SSL_CERT_FILE"].as_str().unwrap());
    let mint_url = format!(
        "{}/_/oidc/mint-token",
        ready["registry_url"].as_str().unwrap()
    );
    let mint = |token: String| {
        let request = client.post(&mint_url).json(&json!({ "token": token }));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let handed = env["PYPI_ID_TOKEN"].as_str().unwrap().to_owned();
    assert_eq!(mint(handed.clone()).await, 200);
    assert_ne!(mint(handed.clone()).await, 200, "a GitLab token mints once");

    let fresh = text_of(
        client
            .get(env["MINTCHECK_ID_TOKEN_URL"].as_str().unwrap())
            .bearer_auth(env["MINTCHECK_ID_TOKEN_REQUEST_TOKEN"].as_str().unwrap()),
    )
    .await;
    assert_ne!(fresh, handed);
    assert_eq!(mint(fresh).await, 200);

    let refresh = job["refresh_token"].as_str().unwrap();
    assert!(
        refresh.starts_with("export PYPI_ID_TOKEN=\"$(curl "),
        "{refresh}"
    );
    let shell = std::fs::read_to_string(env_dir.path().join("gitlab.env")).unwrap();
    assert!(shell.contains(&format!("\n# {refresh}\n")), "{shell}");
}

#[tokio::test]
async fn the_sandbox_serves_pep807_discovery_for_its_upload_url() {
    let (_sandbox, _events, ready) = start(&["sandbox", "--json"]);
    let registry = ready["registry_url"].as_str().unwrap();
    let client = client_trusting(ready["ca_file"].as_str().unwrap());
    let document = json_of(
        client
            .get(format!("{registry}/.well-known/pytp?discover=%2Flegacy%2F"))
            .header("accept", "application/vnd.pypi.pytp.v1+json"),
    )
    .await;
    assert_eq!(
        document["token-mint-endpoint"],
        format!("{registry}/_/oidc/mint-token"),
        "{document}"
    );
    assert!(registry.starts_with("https://"), "{registry}");
}
