//! The control endpoint: `PUT {control_url}/fixture` with a bearer token.

use std::time::Duration;

use reference_registry::FixtureDocument;

use super::TargetError;
use crate::check::shorten;

/// How long a target may take to apply a fixture through its control endpoint.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(30);

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
        .timeout(CONTROL_TIMEOUT)
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
