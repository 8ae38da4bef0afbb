//! Running the `mintcheck` binary as a user does, and reading what it printed.

use std::process::Output;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde_json::{Value, json};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mintcheck")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn show(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// Runs `mintcheck run --scenarios <suite> ARGS`, the control token taken from the
/// arguments only.
pub async fn mintcheck_run(args: &[&str]) -> Output {
    tokio::process::Command::new(bin())
        .arg("run")
        .arg("--scenarios")
        .arg(super::scenarios_dir())
        .args(args)
        .env_remove("MINTCHECK_CONTROL_TOKEN")
        .output()
        .await
        .unwrap()
}

/// A target whose every refusal says `invalid-token`, and which mints for anything that
/// looks like a JWT.
pub async fn wrong_code_target() -> String {
    async fn control(headers: HeaderMap) -> StatusCode {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if bearer == Some(&format!("Bearer {}", super::TOKEN)) {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::UNAUTHORIZED
        }
    }
    let mint = post(|body: axum::body::Bytes| async move {
        let token = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["token"].as_str().map(|t| t.split('.').count() == 3));
        let (status, body) = if token == Some(true) {
            (
                StatusCode::OK,
                json!({"success": true, "token": "pypi-AgEI", "expires": mock_issuer::time::unix_now() as i64 + 900}),
            )
        } else {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"errors": [{"code": "invalid-token", "description": "no"}], "message": "Token request failed"}),
            )
        };
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    });
    let app = Router::new()
        .route("/__mintcheck/fixture", put(control))
        .route(
            "/_/oidc/audience",
            get(|| async { axum::Json(json!({"audience": "pypi"})) }),
        )
        .route("/_/oidc/mint-token", mint);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
