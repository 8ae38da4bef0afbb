//! The independent registry as a process, for the tests that adapt a foreign registry the
//! way users do: through `--target-cmd`, the issuer proxy, or a config file and a restart.
//!
//! ```text
//! independent-registry [--discovery-from-iss] [--check-archives] [--config FILE]
//! ```
//!
//! It listens on `MINTCHECK_ADDR` (default `127.0.0.1:0`) and prints the ready line
//! `{"mintcheck":"ready","base_url":…}`. `MINTCHECK_CONTROL_TOKEN` enables the control
//! endpoint; `--config FILE` applies that fixture document at start instead (a registry
//! configured by file and restarted per scenario). `--discovery-from-iss` fetches keys from
//! `<iss>/.well-known/openid-configuration` through `HTTPS_PROXY`, trusting the system's
//! roots and `SSL_CERT_FILE`; `--check-archives` refuses uploads whose archive does not match
//! the form.

use std::process::ExitCode;

use mintcheck_tests::independent::{self, Behaviour};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("independent-registry: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let mut behaviour = Behaviour::default();
    let mut config = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--discovery-from-iss" => behaviour.discovery_from_iss = true,
            "--check-archives" => behaviour.check_archives = true,
            "--config" => config = Some(args.next().ok_or("--config needs a file")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if behaviour.discovery_from_iss
        && let Ok(path) = std::env::var("SSL_CERT_FILE")
    {
        let pem =
            std::fs::read_to_string(&path).map_err(|e| format!("SSL_CERT_FILE {path}: {e}"))?;
        behaviour.extra_root_pem = Some(pem);
    }
    let fixture = match &config {
        Some(path) => Some(std::fs::read(path).map_err(|e| format!("--config {path}: {e}"))?),
        None => None,
    };
    let addr = std::env::var("MINTCHECK_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("listening on {addr}: {e}"))?;
    let token = std::env::var("MINTCHECK_CONTROL_TOKEN").ok();
    let running = independent::serve(listener, behaviour, token.as_deref(), fixture.as_deref())
        .await
        .map_err(|e| format!("starting: {e}"))?;
    println!(
        "{}",
        serde_json::json!({"mintcheck": "ready", "base_url": running.base_url})
    );
    running.wait().await;
    Ok(())
}
