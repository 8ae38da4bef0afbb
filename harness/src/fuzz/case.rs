//! One generated case: the target's state, one mint request, and what is tried with the
//! answer if it mints (the same token again, uploads with the API token).

use mock_issuer::TokenSpec;

use crate::scenario::model::Fixture;

/// The step names a case's requests get, in its report and its scenario file.
pub const MINT_STEP: &str = "mint";
pub const REPLAY_STEP: &str = "replay";
pub const DISCOVER_STEP: &str = "discover";

#[derive(Clone, Debug)]
pub struct Case {
    pub fixture: Fixture,
    pub mint: MintRequest,
    /// Tried in order after a successful mint, each with its own credential.
    pub uploads: Vec<UploadTry>,
    /// PEP 807 (`fuzz --pep807`): the upload path whose discovery is asked before the mint.
    pub discover: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MintRequest {
    pub body: MintBody,
    /// The request's `Content-Type`; `None` sends `application/json`. R-EP-3: it is ignored.
    pub content_type: Option<String>,
    /// PEP 807 features sent beside the token (`fuzz --pep807`); the request then asks for
    /// the PEP's media type, as a PEP 807 client does.
    pub features: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MintBody {
    /// `{"token": <the forged token>}`.
    Token(TokenSpec),
    /// A body sent verbatim: no token is forged.
    Raw(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct UploadTry {
    /// The distribution's metadata name: what decides the project (R-UP-2).
    pub name: String,
    pub version: String,
    pub credential: Credential,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// The API token the mint answered with.
    Minted,
    /// The OIDC token itself, as a confused client would send it.
    OidcToken,
    /// The API token with a character appended: its signature no longer fits.
    Tampered,
}

impl Credential {
    /// The upload password as a scenario file spells it.
    pub fn template(self) -> String {
        match self {
            Credential::Minted => format!("${{steps.{MINT_STEP}.token}}"),
            Credential::OidcToken => format!("${{steps.{MINT_STEP}.jwt}}"),
            Credential::Tampered => format!("${{steps.{MINT_STEP}.token}}A"),
        }
    }

    /// The password for an API token and the OIDC token that minted it.
    pub fn password(self, api_token: &str, jwt: &str) -> String {
        match self {
            Credential::Minted => api_token.to_owned(),
            Credential::OidcToken => jwt.to_owned(),
            Credential::Tampered => format!("{api_token}A"),
        }
    }
}

impl Case {
    pub fn token(&self) -> Option<&TokenSpec> {
        match &self.mint.body {
            MintBody::Token(spec) => Some(spec),
            MintBody::Raw(_) => None,
        }
    }

    /// Whether the mint asks for a single-use credential, and only that.
    pub fn asks_single_use(&self) -> bool {
        self.mint.features.as_deref() == Some(&["single-use-token".to_owned()][..])
    }

    /// The name of the `index`th upload step.
    pub fn upload_step(index: usize) -> String {
        format!("upload-{}", index + 1)
    }
}
