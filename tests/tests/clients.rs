//! Real clients against `mintcheck sandbox`: `id`, uv and twine as users run them, as real
//! processes over real TLS, against the mock issuers and the reference registry.
//!
//! The clients come from the virtual environment `.ci/run` makes, named by
//! `MINTCHECK_CLIENTS_VENV`. In CI (`CI=true`) they must be there; on a developer's machine
//! without them these tests skip, and say so on the terminal.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mintcheck::sandbox::{Job, Sandbox, SandboxConfig};
use mock_issuer::{Profile, TokenSpec};
use reference_registry::fixture::Identity;
use reference_registry::{Event, NON_USER_CANNOT_CREATE};
use serde_json::{Map, Value, json};
use tokio::sync::broadcast::Receiver;

const VENV_VARIABLE: &str = "MINTCHECK_CLIENTS_VENV";

/// The refusal uv must show for a publisher that does not match, byte for byte.
const INVALID_PUBLISHER_BODY: &str = r#"{"errors":[{"code":"invalid-publisher","description":"valid token, but no corresponding publisher (Publisher with matching claims was not found)"}],"message":"Token request failed"}"#;

struct Clients {
    bin: PathBuf,
}

/// The clients, or `None` (after saying why on the terminal) on a machine without them.
fn clients() -> Option<Clients> {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(venv) = std::env::var_os(VENV_VARIABLE) else {
        assert!(
            !in_ci,
            "CI=true but {VENV_VARIABLE} is not set: .ci/run installs uv, twine and id and sets it"
        );
        // Written past the test harness's output capture, so it shows in a normal run.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED real-client test: {VENV_VARIABLE} is not set, so uv, twine and id are not \
             available. Make them with `python3 -m venv target/clients-venv && \
             target/clients-venv/bin/pip install -r tests/clients/requirements.txt` and set \
             {VENV_VARIABLE}=$PWD/target/clients-venv (bash .ci/run does both). ***\n"
        );
        return None;
    };
    let bin = PathBuf::from(venv).join("bin");
    for tool in ["python", "uv", "twine"] {
        assert!(
            bin.join(tool).is_file(),
            "{VENV_VARIABLE} is set but {} is missing: reinstall tests/clients/requirements.txt",
            bin.join(tool).display()
        );
    }
    Some(Clients { bin })
}

/// What a client printed (stdout then stderr) and whether it succeeded.
struct Run {
    success: bool,
    stdout: String,
    output: String,
}

/// Variables a developer's or CI's environment may hold that would change how the clients
/// authenticate or whom they trust; each run gets exactly the job's instead.
const SCRUBBED: [&str; 14] = [
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITLAB_CI",
    "PYPI_ID_TOKEN",
    "SSL_CERT_DIR",
    "UV_PUBLISH_URL",
    "UV_PUBLISH_TOKEN",
    "UV_PUBLISH_USERNAME",
    "UV_PUBLISH_PASSWORD",
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "TWINE_REPOSITORY",
    "TWINE_REPOSITORY_URL",
];

impl Clients {
    async fn run(&self, job: &Job, program: &str, args: &[&str], cwd: &Path) -> Run {
        let mut command = tokio::process::Command::new(self.bin.join(program));
        for name in SCRUBBED {
            command.env_remove(name);
        }
        command
            .args(args)
            .current_dir(cwd)
            .envs(job.env.vars.iter().map(|(n, v)| (n, v)))
            // No user configuration, keyring, colour or line wrapping in the way.
            .env("UV_NO_CONFIG", "1")
            .env("NO_COLOR", "1")
            .env("COLUMNS", "10000")
            .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let output = tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .unwrap_or_else(|_| panic!("{program} {args:?} ran for over a minute"))
            .unwrap_or_else(|e| panic!("running {program}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        Run {
            success: output.status.success(),
            output: format!("{stdout}{stderr}"),
            stdout,
        }
    }

    /// `uv publish --trusted-publishing always` of `wheel` to the sandbox's upload URL.
    async fn uv_publish(&self, sandbox: &Sandbox, job: &Job, wheel: &Path) -> Run {
        let url = sandbox.upload_url();
        let args = [
            "publish",
            "--trusted-publishing",
            "always",
            "--publish-url",
            &url,
            wheel.to_str().unwrap(),
        ];
        let dir = wheel.parent().unwrap();
        self.run(job, "uv", &args, dir).await
    }

    /// A pure-Python wheel of `name` `version`, written by the venv's Python with zipfile
    /// (no build backend, no network).
    async fn wheel(&self, dir: &Path, name: &str, version: &str) -> PathBuf {
        const SCRIPT: &str = r#"
import base64, hashlib, sys, zipfile
name, version, path = sys.argv[1:4]
module = name.replace("-", "_")
info = f"{module}-{version}.dist-info"
files = {
    f"{module}/__init__.py": b"",
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
    f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: mintcheck-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = "".join(
    f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
    for p, d in files.items()
) + f"{info}/RECORD,,\n"
files[f"{info}/RECORD"] = record.encode()
with zipfile.ZipFile(path, "w") as archive:
    for p, d in files.items():
        archive.writestr(p, d)
"#;
        let module = name.replace('-', "_");
        let path = dir.join(format!("{module}-{version}-py3-none-any.whl"));
        let status = tokio::process::Command::new(self.bin.join("python"))
            .args(["-c", SCRIPT, name, version])
            .arg(&path)
            .status()
            .await
            .expect("the venv's python runs");
        assert!(status.success(), "building {}", path.display());
        path
    }
}

fn github_publisher(workflow: &str) -> Identity {
    serde_json::from_value(
        json!({"provider": "github", "repository_owner": "acme-labs",
        "repository_name": "widgetry", "repository_owner_id": "48213977",
        "workflow_filename": workflow, "environment": "pypi"}),
    )
    .unwrap()
}

fn github_job() -> TokenSpec {
    TokenSpec {
        profile: Some(Profile::Github),
        ..TokenSpec::default()
    }
}

fn claims_of(jwt: &str) -> Map<String, Value> {
    let payload = jwt.trim().split('.').nth(1).expect("a compact JWT");
    let bytes = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("a JSON object payload")
}

async fn next_event(events: &mut Receiver<Event>) -> Event {
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .expect("the registry reports within 10 s")
        .expect("the event stream is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_prints_the_jobs_token_with_audience_pypi() {
    let Some(clients) = clients() else { return };
    let mut release = github_job();
    release
        .claims
        .insert("environment".into(), json!("staging"));
    release.claims.insert("run_id".into(), json!("4242"));
    let sandbox = SandboxConfig::default()
        .demo()
        .job("release", release)
        .job(
            "pipeline",
            TokenSpec {
                profile: Some(Profile::Gitlab),
                ..TokenSpec::default()
            },
        )
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let job = sandbox.job("release").unwrap();
    let run = clients
        .run(job, "python", &["-m", "id", "pypi"], dir.path())
        .await;
    assert!(run.success, "{}", run.output);
    let claims = claims_of(&run.stdout);
    assert_eq!(claims["aud"], "pypi");
    assert_eq!(claims["iss"], "https://token.actions.githubusercontent.com");
    assert_eq!(claims["environment"], "staging");
    assert_eq!(claims["run_id"], "4242");
    assert_eq!(claims["repository"], "acme-labs/widgetry");
    let request = sandbox
        .issuer(mock_issuer::Provider::Github)
        .requests()
        .into_iter()
        .find(|r| r.endpoint == mock_issuer::Endpoint::GithubTokenRequest)
        .expect("id asked the GitHub token endpoint");
    assert!(
        request
            .query
            .as_deref()
            .unwrap_or_default()
            .contains("audience=pypi"),
        "{:?}",
        request.query
    );

    let job = sandbox.job("pipeline").unwrap();
    let run = clients
        .run(job, "python", &["-m", "id", "pypi"], dir.path())
        .await;
    assert!(run.success, "{}", run.output);
    assert_eq!(Some(run.stdout.trim()), job.env.get("PYPI_ID_TOKEN"));
    let claims = claims_of(&run.stdout);
    assert_eq!(claims["project_path"], "acme/python/widgetry");
    assert_eq!(claims["aud"], "pypi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uv_publishes_through_a_matching_publisher() {
    let Some(clients) = clients() else { return };
    let sandbox = SandboxConfig::default().demo().start().await.unwrap();
    let mut events = sandbox.events();
    let dir = tempfile::tempdir().unwrap();
    let wheel = clients.wheel(dir.path(), "widgetry", "0.1.0").await;
    let job = sandbox.job("github").unwrap();
    let run = clients.uv_publish(&sandbox, job, &wheel).await;
    assert!(run.success, "uv publish failed:\n{}", run.output);
    assert!(
        run.output
            .contains("Uploading widgetry-0.1.0-py3-none-any.whl"),
        "{}",
        run.output
    );
    let Event::Mint(mint) = next_event(&mut events).await else {
        panic!("the first event is not the mint")
    };
    assert_eq!((mint.status, mint.code), (200, None));
    assert_eq!(mint.claims.unwrap()["aud"], "pypi");
    let Event::Upload(upload) = next_event(&mut events).await else {
        panic!("the second event is not the upload")
    };
    assert_eq!((upload.name.as_str(), upload.status), ("widgetry", 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uv_shows_invalid_publisher_when_the_workflow_differs() {
    let Some(clients) = clients() else { return };
    let sandbox = SandboxConfig::default()
        .publisher("widgetry", github_publisher("release.yml"))
        .job("ci", github_job())
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wheel = clients.wheel(dir.path(), "widgetry", "0.1.0").await;
    let job = sandbox.job("ci").unwrap();
    let run = clients.uv_publish(&sandbox, job, &wheel).await;
    assert!(
        !run.success,
        "uv published without a matching publisher:\n{}",
        run.output
    );
    assert!(
        run.output.contains("422 Unprocessable Entity"),
        "{}",
        run.output
    );
    assert!(
        run.output.contains(INVALID_PUBLISHER_BODY),
        "{}",
        run.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uv_through_a_pending_publisher_under_another_name_cannot_create_the_project() {
    let Some(clients) = clients() else { return };
    // The pending publisher was registered as widgetry-ng; the package is called widgetry.
    let sandbox = SandboxConfig::default()
        .pending_publisher("widgetry-ng", "alice", github_publisher("publish.yml"))
        .job("ci", github_job())
        .start()
        .await
        .unwrap();
    let mut events = sandbox.events();
    let dir = tempfile::tempdir().unwrap();
    let job = sandbox.job("ci").unwrap();
    let wheel = clients.wheel(dir.path(), "widgetry", "0.1.0").await;
    let run = clients.uv_publish(&sandbox, job, &wheel).await;
    assert!(!run.success, "{}", run.output);
    assert!(run.output.contains("400 Bad Request"), "{}", run.output);
    assert!(
        run.output.contains(NON_USER_CANNOT_CREATE),
        "{}",
        run.output
    );
    let Event::Mint(mint) = next_event(&mut events).await else {
        panic!("the first event is not the mint")
    };
    assert_eq!(
        mint.status, 200,
        "the pending publisher's first mint succeeds"
    );
    let Event::Upload(upload) = next_event(&mut events).await else {
        panic!("the second event is not the upload")
    };
    assert_eq!(upload.status, 400);
    assert_eq!(upload.message.as_deref(), Some(NON_USER_CANNOT_CREATE));

    // The first mint created widgetry-ng with the publisher attached: its upload works.
    let wheel = clients.wheel(dir.path(), "widgetry-ng", "0.1.0").await;
    let run = clients.uv_publish(&sandbox, job, &wheel).await;
    assert!(run.success, "{}", run.output);
}

/// An API token minted through the sandbox: the OIDC token fetched by `id`, exchanged at
/// the registry's mint endpoint over TLS trusting only the sandbox's CA.
async fn mint_with_id(clients: &Clients, sandbox: &Sandbox, job: &Job, dir: &Path) -> String {
    let run = clients.run(job, "python", &["-m", "id", "pypi"], dir).await;
    assert!(run.success, "{}", run.output);
    let ca = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .build()
        .unwrap();
    let response = client
        .post(format!("{}/_/oidc/mint-token", sandbox.registry_url()))
        .json(&json!({"token": run.stdout.trim()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twine_uploads_with_a_sandbox_token_and_shows_the_reason_phrase_otherwise() {
    let Some(clients) = clients() else { return };
    let sandbox = SandboxConfig::default().demo().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let job = sandbox.job("github").unwrap();
    let token = mint_with_id(&clients, &sandbox, job, dir.path()).await;
    let url = sandbox.upload_url();
    let twine = |wheel: PathBuf| {
        let (url, token, dir) = (url.clone(), token.clone(), dir.path().to_owned());
        let clients = &clients;
        async move {
            let args = [
                "upload",
                "--non-interactive",
                "--disable-progress-bar",
                "--repository-url",
                &url,
                "-u",
                "__token__",
                "-p",
                &token,
                wheel.to_str().unwrap(),
            ];
            clients.run(job, "twine", &args, &dir).await
        }
    };

    let run = twine(clients.wheel(dir.path(), "widgetry", "0.1.0").await).await;
    assert!(run.success, "twine upload failed:\n{}", run.output);

    let run = twine(clients.wheel(dir.path(), "widgetri", "0.1.0").await).await;
    assert!(!run.success, "{}", run.output);
    let shown = format!("HTTPError: 400 Bad Request from {url}");
    assert!(run.output.contains(&shown), "{}", run.output);
    // twine prints the reason phrase of the status line: the registry's message.
    assert!(
        run.output.contains(NON_USER_CANNOT_CREATE),
        "{}",
        run.output
    );
}

/// uv at the pinned version has no PEP 807 support: `mintcheck client` must judge it
/// unsupported, never failed. Two scenarios (uv takes about 8 s in each, retrying): the plain
/// one, and the one whose discovery answers 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uv_is_judged_unsupported_by_the_pep807_client_scenarios() {
    let Some(clients) = clients() else { return };
    let command = format!(
        "{} publish --trusted-publishing always",
        clients.bin.join("uv").display()
    );
    let judged = ["client/discovery", "client/not-supported"];
    for scenario in mintcheck::client::scenarios::SCENARIOS
        .iter()
        .filter(|s| judged.contains(&s.id))
    {
        let outcome = mintcheck::client::run(&command, scenario, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(
            matches!(
                outcome.verdict,
                mintcheck::suite::outcome::Verdict::Unsupported { .. }
            ),
            "{}: {:?} {:?}\n{}",
            scenario.id,
            outcome.verdict,
            outcome.reasons,
            outcome.output
        );
    }
}
