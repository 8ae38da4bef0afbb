//! The control endpoint: `PUT {control_url}/fixture` and `POST {control_url}/clock`, with a
//! bearer token. Each request is bounded by the client's timeout (`--timeout`), like every
//! other request of the run: a hung target costs that, not minutes.

use reference_registry::FixtureDocument;

use super::TargetError;
use crate::rig::transport::{Client, error_chain, shorten};

/// What the control endpoint answered.
struct ControlAnswer {
    status: u16,
    body: String,
}

pub(super) async fn put_fixture(
    http: &Client,
    control_url: &str,
    token: &str,
    document: &FixtureDocument,
) -> Result<(), TargetError> {
    let url = format!("{}/fixture", control_url.trim_end_matches('/'));
    let response = send_control(http, reqwest::Method::PUT, &url, token, document).await?;
    match response.status {
        204 => Ok(()),
        200 => {
            let unsupported = serde_json::from_str::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|v| v.get("unsupported").cloned())
                .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok());
            match unsupported {
                Some(list) if !list.is_empty() => Err(TargetError::Unsupported(list)),
                _ => Err(TargetError::Fault(format!(
                    "PUT {url}: 200 without a non-empty \"unsupported\" list of strings: {}",
                    shorten(&response.body)
                ))),
            }
        }
        status => Err(TargetError::Fault(format!(
            "PUT {url}: HTTP {status}: {}",
            shorten(&response.body)
        ))),
    }
}

/// `POST {control_url}/clock` with `{"advance_seconds": N}`: 204 moved; 404 or 405 (a target
/// without a clock control) unsupported; anything else a fault.
pub(super) async fn advance_clock(
    http: &Client,
    control_url: &str,
    token: &str,
    seconds: f64,
) -> Result<(), TargetError> {
    let url = format!("{}/clock", control_url.trim_end_matches('/'));
    let body = serde_json::json!({ "advance_seconds": seconds });
    let response = send_control(http, reqwest::Method::POST, &url, token, &body).await?;
    match response.status {
        204 => Ok(()),
        status @ (404 | 405) => Err(TargetError::Unsupported(vec![format!(
            "POST {url} answered HTTP {status}"
        )])),
        status => Err(TargetError::Fault(format!(
            "POST {url}: HTTP {status}: {}",
            shorten(&response.body)
        ))),
    }
}

/// One JSON request to the control endpoint with the bearer token, bounded by the client's
/// timeout like every other request of the run.
async fn send_control(
    http: &Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: &impl serde::Serialize,
) -> Result<ControlAnswer, TargetError> {
    let fault = |e: String| TargetError::Fault(format!("{method} {url}: {e}"));
    let response = http
        .control(url)
        .map_err(fault)?
        .request(method.clone(), url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| fault(error_chain(&e)))?;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Ok(ControlAnswer { status, body })
}
