//! The mint-token error catalogue (spec §4.1), and the one code PEP 807 adds here.

use serde_json::{Value, json};

/// The six codes of spec §4.1 ([`ErrorCode::ALL`]), and `unsupported-feature`, this
/// registry's refusal of a PEP 807 feature it does not offer (R-807-MINT-6, our choice: the
/// PEP names no code). Only a mint that asks for features can get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidPayload,
    NotEnabled,
    InvalidToken,
    InvalidPendingPublisher,
    InvalidPublisher,
    InvalidReuseToken,
    UnsupportedFeature,
}

impl ErrorCode {
    /// The codes of spec §4.1: what any registry's refusal may carry.
    pub const ALL: [ErrorCode; 6] = [
        ErrorCode::InvalidPayload,
        ErrorCode::NotEnabled,
        ErrorCode::InvalidToken,
        ErrorCode::InvalidPendingPublisher,
        ErrorCode::InvalidPublisher,
        ErrorCode::InvalidReuseToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidPayload => "invalid-payload",
            ErrorCode::NotEnabled => "not-enabled",
            ErrorCode::InvalidToken => "invalid-token",
            ErrorCode::InvalidPendingPublisher => "invalid-pending-publisher",
            ErrorCode::InvalidPublisher => "invalid-publisher",
            ErrorCode::InvalidReuseToken => "invalid-reuse-token",
            ErrorCode::UnsupportedFeature => "unsupported-feature",
        }
    }

    /// Every code a refusal may carry: §4.1's, and PEP 807's `unsupported-feature`.
    pub fn known() -> impl Iterator<Item = ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .chain([ErrorCode::UnsupportedFeature])
    }

    /// The code spelled `name`, if it is one of [`ErrorCode::known`].
    pub fn named(name: &str) -> Option<ErrorCode> {
        ErrorCode::known().find(|code| code.as_str() == name)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed mint: one entry of the 422 envelope (R-RESP-6, R-RESP-7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct MintError {
    pub code: ErrorCode,
    pub description: String,
    /// Why, where the spec forbids telling the client (step 5 never discloses its reason):
    /// never in the envelope, only for `explain` and logs.
    pub undisclosed: Option<String>,
}

impl MintError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            undisclosed: None,
        }
    }

    /// Records the undisclosed reason.
    pub fn because(mut self, reason: impl std::fmt::Display) -> Self {
        self.undisclosed = Some(reason.to_string());
        self
    }

    /// Step 5's only description: the reason is never disclosed (spec §6).
    pub fn invalid_token() -> Self {
        Self::new(ErrorCode::InvalidToken, "malformed or invalid token")
    }

    /// R-JTI-1.
    pub fn reused_token() -> Self {
        Self::new(ErrorCode::InvalidReuseToken, "invalid token: already used")
    }

    /// R-PUB-5.
    pub fn no_publisher(reason: &str) -> Self {
        Self::new(
            ErrorCode::InvalidPublisher,
            format!("valid token, but no corresponding publisher ({reason})"),
        )
    }

    /// The R-RESP-7 body.
    pub fn envelope(&self) -> Value {
        json!({
            "message": "Token request failed",
            "errors": [{"code": self.code.as_str(), "description": self.description}],
        })
    }
}
