//! The control endpoint: `PUT {control_url}/fixture` and `POST {control_url}/clock`, with a
//! bearer token. Each request is bounded by the client's timeout (`--timeout`), like every
//! other request of the run: a hung target costs that, not minutes.

use reference_registry::FixtureDocument;

use super::TargetError;
use crate::rig::transport::shorten;

pub(super) async fn put_fixture(
    http: &reqwest::Client,
    control_url: &str,
    token: &str,
    document: &FixtureDocument,
) -> Result<(), TargetError> {
    let url = format!("{}/fixture", control_url.trim_end_matches('/'));
    let response = http
        .put(&url)
        .bearer_auth(token)
        .json(document)
        .send()
        .await
        .map_err(|e| TargetError::Fault(format!("PUT {url}: {}", error_chain(&e))))?;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    match status {
        204 => Ok(()),
        200 => {
            let unsupported = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("unsupported").cloned())
                .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok());
            match unsupported {
                Some(list) if !list.is_empty() => Err(TargetError::Unsupported(list)),
                _ => Err(TargetError::Fault(format!(
                    "PUT {url}: 200 without a non-empty \"unsupported\" list of strings: {}",
                    shorten(&body)
                ))),
            }
        }
        _ => Err(TargetError::Fault(format!(
            "PUT {url}: HTTP {status}: {}",
            shorten(&body)
        ))),
    }
}

/// `POST {control_url}/clock` with `{"advance_seconds": N}`: 204 moved; 404 or 405 (a target
/// without a clock control) unsupported; anything else a fault.
pub(super) async fn advance_clock(
    http: &reqwest::Client,
    control_url: &str,
    token: &str,
    seconds: f64,
) -> Result<(), TargetError> {
    let url = format!("{}/clock", control_url.trim_end_matches('/'));
    let response = http
        .post(&url)
        .bearer_auth(token)
        .json(&serde_json::json!({ "advance_seconds": seconds }))
        .send()
        .await
        .map_err(|e| TargetError::Fault(format!("POST {url}: {}", error_chain(&e))))?;
    match response.status().as_u16() {
        204 => Ok(()),
        404 | 405 => Err(TargetError::Unsupported(vec![format!(
            "POST {url} answered HTTP {}",
            response.status().as_u16()
        )])),
        status => Err(TargetError::Fault(format!(
            "POST {url}: HTTP {status}: {}",
            shorten(&response.text().await.unwrap_or_default())
        ))),
    }
}

/// reqwest's own message says little ("error sending request"); its sources say why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
