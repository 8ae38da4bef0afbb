//! `mintcheck fuzz` as a user runs it: against the reference registry it finds nothing;
//! against deliberately broken targets (the reference registry behind a proxy that breaks
//! one thing) it finds the fault, shrinks it, and saves a scenario that `mintcheck run`
//! fails on the broken target and passes on the reference registry.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt;
use reference_registry::{Registry, RegistryConfig};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const TOKEN: &str = "fuzz-control-secret";

async fn mintcheck(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_mintcheck"))
        .args(args)
        .env_remove("MINTCHECK_CONTROL_TOKEN")
        .output()
        .await
        .unwrap()
}

fn show(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What the proxy breaks.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// A body that is not `{"token": "<string>"}` gets 500 (a parser that panics).
    ServerErrorOnBadBody,
    /// A token that expired more than a minute ago mints.
    AcceptsExpired,
    /// A replayed token mints again.
    ReplayMints,
    /// A mint request sent as `text/plain` never gets an answer.
    HangsOnTextPlain,
}

/// The reference registry (with its control endpoint) behind a proxy that breaks `fault`.
async fn broken(fault: Fault) -> String {
    let registry = Registry::new(RegistryConfig {
        control_token: Some(TOKEN.to_owned()),
        ..RegistryConfig::default()
    });
    let inner = reference_registry::app(registry);
    let app = Router::new().fallback(proxy).with_state((inner, fault));
    serve(app).await
}

/// The unbroken reference registry over HTTP.
async fn reference_over_http() -> String {
    let registry = Registry::new(RegistryConfig {
        control_token: Some(TOKEN.to_owned()),
        ..RegistryConfig::default()
    });
    serve(reference_registry::app(registry)).await
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

async fn proxy(State((inner, fault)): State<(Router, Fault)>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let mint = parts.uri.path() == "/_/oidc/mint-token";
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if mint && matches!(fault, Fault::HangsOnTextPlain) && content_type == "text/plain" {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if mint && matches!(fault, Fault::AcceptsExpired) && expired_long_ago(&bytes) {
        return success();
    }
    let response = inner
        .oneshot(Request::from_parts(parts, Body::from(bytes)))
        .await
        .unwrap();
    if !mint {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let description = json
        .pointer("/errors/0/description")
        .and_then(Value::as_str);
    let code = json.pointer("/errors/0/code").and_then(Value::as_str);
    match fault {
        Fault::ServerErrorOnBadBody
            if description.is_some_and(|d| d.starts_with("1 validation error")) =>
        {
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
        Fault::ReplayMints if code == Some("invalid-reuse-token") => success(),
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}

fn success() -> Response {
    let body = json!({"expires": 1_767_226_500, "success": true, "token": "pypi-AgEIcHlwaS5vcmc"});
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn expired_long_ago(body: &Bytes) -> bool {
    let exp = || -> Option<f64> {
        let token: Value = serde_json::from_slice(body).ok()?;
        let payload = token.get("token")?.as_str()?.split('.').nth(1)?;
        let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        claims.get("exp")?.as_f64()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    exp().is_some_and(|exp| exp < now - 60.0)
}

/// Fuzzes the broken target, expects `invariant (rule)` among the faults, and returns the
/// saved scenario of that fault as TOML, after checking that `mintcheck run` reproduces it
/// on the broken target (exit `reproduced`) and passes it on the reference registry.
async fn finds(
    fault: Fault,
    invariant: &str,
    rule: &str,
    extra: &[&str],
    reproduced: i32,
) -> toml::Table {
    let url = broken(fault).await;
    let saved = tempfile::tempdir().unwrap();
    let folder = saved.path().to_str().unwrap();
    let mut args = vec![
        "fuzz",
        "--target-url",
        &url,
        "--control-token",
        TOKEN,
        "--seed",
        "7",
        "--cases",
        "400",
        "--save-failures",
        folder,
    ];
    args.extend(extra);
    let output = mintcheck(&args).await;
    let out = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{fault:?}: {}",
        show(&output)
    );
    assert!(out.contains("mintcheck fuzz: seed 7"), "{}", show(&output));
    let heading = format!("FAIL {invariant} ({rule})");
    assert!(
        out.contains(&heading),
        "{fault:?} should break {heading}: {}",
        show(&output)
    );
    let file = std::fs::read_dir(saved.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let prefix = format!("{invariant}-{}-seed7-", rule.to_ascii_lowercase());
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&prefix)
        })
        .unwrap_or_else(|| panic!("no saved scenario for {invariant}: {}", show(&output)));
    let id = file.file_stem().unwrap().to_str().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        out.contains(&format!(
            "rerun the scenario: mintcheck run --scenarios {folder} {id}"
        )),
        "{out}"
    );

    let mut on_broken = vec![
        "run",
        "--scenarios",
        folder,
        id,
        "--target-url",
        &url,
        "--control-token",
        TOKEN,
    ];
    if invariant == "same-as-reference" {
        on_broken.extend(["--level", "pypi-exact"]);
    }
    on_broken.extend(["--timeout", "2"]);
    let rerun = mintcheck(&on_broken).await;
    assert_eq!(
        rerun.status.code(),
        Some(reproduced),
        "{text}\n{}",
        show(&rerun)
    );
    // Every scenario the run saved passes on the reference registry and fails (or, for a
    // hang, errors) on the broken target.
    let on_reference = mintcheck(&["run", "--scenarios", folder]).await;
    assert_eq!(
        on_reference.status.code(),
        Some(0),
        "{text}\n{}",
        show(&on_reference)
    );
    let json = mintcheck(&[
        "run",
        "--scenarios",
        folder,
        "--target-url",
        &url,
        "--control-token",
        TOKEN,
        "--level",
        "pypi-exact",
        "--timeout",
        "2",
        "--format",
        "json",
    ])
    .await;
    let report: Value =
        serde_json::from_slice(&json.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&json)));
    for outcome in report["scenarios"].as_array().unwrap() {
        assert!(
            ["fail", "error"].contains(&outcome["outcome"].as_str().unwrap()),
            "{outcome:#}"
        );
    }

    let rerun_case = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("rerun the case:"))
        .map(str::trim)
        .expect("a rerun line for the case");
    assert!(
        rerun_case.starts_with("mintcheck fuzz --seed 7 --case "),
        "{rerun_case}"
    );
    let again = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(rerun_case.replacen("mintcheck", env!("CARGO_BIN_EXE_mintcheck"), 1))
        .env("MINTCHECK_CONTROL_TOKEN", TOKEN)
        .output()
        .await
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "{}", show(&again));
    assert!(
        stdout(&again).contains(&heading),
        "the case alone shows the fault again: {}",
        show(&again)
    );
    text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn steps(scenario: &toml::Table) -> &Vec<toml::Value> {
    scenario["step"].as_array().unwrap()
}

#[tokio::test]
async fn the_embedded_reference_registry_passes_2000_cases() {
    let output = mintcheck(&["fuzz", "--cases", "2000", "--seed", "12345"]).await;
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(out.contains("2000 cases in"), "{out}");
    assert!(out.contains("seed 12345, shard 1/1: no failures"), "{out}");
    // The cases reach every stage: successful mints and each kind of refusal.
    for answer in [
        "200: ",
        "422 invalid-payload",
        "422 invalid-token",
        "422 invalid-publisher",
        "422 not-enabled",
    ] {
        assert!(
            out.contains(answer),
            "no {answer:?} among the answers: {out}"
        );
    }
}

#[tokio::test]
async fn the_reference_over_http_agrees_with_the_reference_in_process() {
    let url = reference_over_http().await;
    let output = mintcheck(&[
        "fuzz",
        "--target-url",
        &url,
        "--control-token",
        TOKEN,
        "--seed",
        "99",
        "--cases",
        "300",
        "--shard",
        "2/3",
    ])
    .await;
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(
        out.contains(", compared with the reference registry"),
        "{out}"
    );
    assert!(out.contains("seed 99, shard 2/3: no failures"), "{out}");
    assert!(
        !out.contains("differences from the reference registry"),
        "{out}"
    );
}

#[tokio::test]
async fn the_registry_as_a_target_command_with_tls_issuers_passes() {
    // The registry fetches every case's keys over https from the mock issuers, trusting the
    // CA the fixture carries.
    let command = format!("'{}' registry", env!("CARGO_BIN_EXE_mintcheck"));
    let output = mintcheck(&[
        "fuzz",
        "--target-cmd",
        &command,
        "--control-token",
        TOKEN,
        "--issuer-tls",
        "--seed",
        "5",
        "--cases",
        "150",
    ])
    .await;
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    assert!(out.contains("against http://127.0.0.1:"), "{out}");
    assert!(
        out.contains(", compared with the reference registry"),
        "{out}"
    );
    assert!(out.contains("seed 5, shard 1/1: no failures"), "{out}");
    assert!(out.contains("200: "), "some cases minted: {out}");
}

#[tokio::test]
async fn a_server_error_is_found_and_shrunk_to_the_smallest_body() {
    let scenario = finds(
        Fault::ServerErrorOnBadBody,
        "no-server-error",
        "R-RESP-6",
        &[],
        1,
    )
    .await;
    let steps = steps(&scenario);
    assert_eq!(steps.len(), 1);
    assert_eq!(
        steps[0]["body"].as_str(),
        Some(""),
        "the empty body is the simplest bad body"
    );
    assert_eq!(steps[0]["expect"]["code"].as_str(), Some("invalid-payload"));
    assert_eq!(scenario["level"].as_str(), Some("core"));
}

#[tokio::test]
async fn an_expired_token_that_mints_is_found_and_shrunk() {
    let scenario = finds(
        Fault::AcceptsExpired,
        "refuses-invalid-tokens",
        "R-TIME-1",
        &[],
        1,
    )
    .await;
    let steps = steps(&scenario);
    assert_eq!(steps.len(), 1, "{scenario}");
    let token = steps[0]["token"].as_table().unwrap();
    let times = token["times"].as_table().unwrap();
    assert_eq!(times.keys().collect::<Vec<_>>(), ["exp"], "{scenario}");
    assert!(
        !token.contains_key("claims") && !token.contains_key("defects"),
        "{scenario}"
    );
    assert_eq!(steps[0]["grade"]["core"].as_str(), Some("reject"));
    assert_eq!(steps[0]["expect"]["code"].as_str(), Some("invalid-token"));
}

#[tokio::test]
async fn a_replay_that_mints_is_found_and_shrunk() {
    let scenario = finds(Fault::ReplayMints, "single-use", "R-JTI-1", &[], 1).await;
    let steps = steps(&scenario);
    let names: Vec<_> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["mint", "replay"], "{scenario}");
    let token = steps[0]["token"].as_table().unwrap();
    assert!(
        token.keys().all(|k| k == "profile"),
        "nothing but the profile is left: {scenario}"
    );
    assert!(
        !scenario["fixture"]
            .as_table()
            .unwrap()
            .contains_key("pending_publishers")
    );
    assert_eq!(
        steps[1]["expect"]["code"].as_str(),
        Some("invalid-reuse-token")
    );
}

#[tokio::test]
async fn a_hang_is_found_and_its_scenario_errors_on_the_target() {
    let extra = [
        "--timeout",
        "0.5",
        "--shrink-iterations",
        "8",
        "--invariants-only",
    ];
    // A hang is a harness error in `mintcheck run` (exit 3), not a failed expectation.
    let scenario = finds(Fault::HangsOnTextPlain, "answered", "R-RESP-6", &extra, 3).await;
    assert_eq!(
        steps(&scenario)[0]["content_type"].as_str(),
        Some("text/plain")
    );
}

#[tokio::test]
async fn bad_flags_exit_2_and_an_unreachable_target_exits_3() {
    let output = mintcheck(&["fuzz", "--shard", "3/2"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("K/N"),
        "{}",
        show(&output)
    );
    let output = mintcheck(&["fuzz", "--duration", "soon"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    let file = tempfile::NamedTempFile::new().unwrap();
    let inside_a_file = file.path().join("failures");
    let output = mintcheck(&["fuzz", "--save-failures", inside_a_file.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--save-failures"),
        "{}",
        show(&output)
    );
    let output = mintcheck(&["fuzz", "--target-url", "http://127.0.0.1:9"]).await;
    assert_eq!(
        output.status.code(),
        Some(2),
        "a target needs --control-token: {}",
        show(&output)
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let output = mintcheck(&["fuzz", "--target-url", &dead, "--control-token", TOKEN]).await;
    assert_eq!(output.status.code(), Some(3), "{}", show(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("setting up the target"),
        "{}",
        show(&output)
    );
}

#[test]
fn saved_scenarios_are_toml_1_0_when_python_is_here() {
    // The suite lint holds scenarios to what Python's tomllib reads; fuzz output must be
    // committable to a suite, so it is held to the same.
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let output = runtime.block_on(async {
        let url = broken(Fault::AcceptsExpired).await;
        mintcheck(&[
            "fuzz",
            "--target-url",
            &url,
            "--control-token",
            TOKEN,
            "--seed",
            "3",
            "--cases",
            "300",
            "--save-failures",
            dir.path().to_str().unwrap(),
        ])
        .await
    });
    assert_eq!(output.status.code(), Some(1), "{}", show(&output));
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty());
    if !python_has_tomllib() {
        eprintln!("*** SKIPPED the tomllib check: no python3 with tomllib (3.11+) on PATH ***");
        return;
    }
    for file in files {
        assert_parses_with_tomllib(&file);
    }
}

fn python_has_tomllib() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import tomllib"])
        .status()
        .is_ok_and(|s| s.success())
}

fn assert_parses_with_tomllib(file: &Path) {
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, tomllib; tomllib.load(open(sys.argv[1], 'rb'))",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}: {}\n{}",
        file.display(),
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(file).unwrap()
    );
}

#[tokio::test]
async fn a_duration_alone_bounds_the_campaign_by_time_not_by_the_default_count() {
    let output = mintcheck(&["fuzz", "--seed", "7", "--duration", "1s"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains(", cases for 1 s against "),
        "{}",
        show(&output)
    );
    let output = mintcheck(&["fuzz", "--seed", "7", "--cases", "3"]).await;
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(", 3 cases against "),
        "{}",
        show(&output)
    );
}
