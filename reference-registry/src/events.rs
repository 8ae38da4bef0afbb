//! What the registry answered, for observers such as `mintcheck sandbox`: every mint and
//! upload with its verdict. Events never carry a token, neither the OIDC token presented
//! nor the API token minted: only the claims the presented token carried.

use serde::Serialize;
use serde_json::{Map, Value};

/// How many events a slow observer may fall behind before it misses some (it is told how
/// many by `tokio::sync::broadcast::error::RecvError::Lagged`).
pub const BACKLOG: usize = 1024;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    Mint(MintEvent),
    Upload(UploadEvent),
}

/// One `POST /_/oidc/mint-token` (or its alias).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MintEvent {
    /// The presented token's claims as decoded before verification; `None` when the body or
    /// the token did not parse.
    pub claims: Option<Map<String, Value>>,
    pub status: u16,
    /// The error code and description; `None` on success.
    pub code: Option<&'static str>,
    pub description: Option<String>,
    /// What the spec keeps from the client (why step 5 failed).
    pub undisclosed: Option<String>,
    /// The minted token's expiry; `None` on failure.
    pub expires: Option<i64>,
}

/// One `POST /legacy/`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadEvent {
    /// The form's `name` and `version` (empty when absent or unreadable).
    pub name: String,
    pub version: String,
    pub filename: Option<String>,
    pub status: u16,
    /// The refusal's reason phrase; `None` on success.
    pub message: Option<String>,
}
