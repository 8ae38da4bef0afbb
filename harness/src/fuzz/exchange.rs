//! Running one case against one endpoint: the mint request, and after a successful mint the
//! same token again and the uploads.

use std::time::Duration;

use mock_issuer::ForgedToken;
use reference_registry::FixtureDocument;
use serde_json::{Value, json};

use super::case::{Case, DISCOVER_STEP, MINT_STEP, MintBody, REPLAY_STEP};
use super::endpoint::{Answer, Endpoint, NoAnswer};
use crate::rig::targets::TargetError;
use crate::rig::transport::Outgoing;
use crate::rig::upload;
use crate::scenario::model::UploadSpec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// PEP 807 discovery, before the mint.
    Discover,
    Mint,
    /// The mint request again, after it minted.
    Replay,
    /// The `n`th upload of the case.
    Upload(usize),
}

/// One request of a case and what came of it.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub kind: StepKind,
    pub request: Outgoing,
    pub result: Result<Answer, NoAnswer>,
}

impl Exchange {
    pub fn step_name(&self) -> String {
        match self.kind {
            StepKind::Discover => DISCOVER_STEP.to_owned(),
            StepKind::Mint => MINT_STEP.to_owned(),
            StepKind::Replay => REPLAY_STEP.to_owned(),
            StepKind::Upload(index) => Case::upload_step(index),
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.result.as_ref().ok().map(|a| a.response.status)
    }

    /// `errors[0].code` of a 422 answer.
    pub fn code(&self) -> Option<String> {
        let answer = self.result.as_ref().ok()?;
        if answer.response.status != 422 {
            return None;
        }
        let json = answer.response.json()?;
        Some(json.pointer("/errors/0/code")?.as_str()?.to_owned())
    }

    /// `status` or `status code`, as reports show an answer.
    pub fn summary(&self) -> String {
        match (&self.result, self.code()) {
            (Err(no_answer), _) => format!("no answer ({no_answer})"),
            (Ok(answer), Some(code)) => format!("{} {code}", answer.response.status),
            (Ok(answer), None) => answer.response.status.to_string(),
        }
    }

    fn minted_token(&self) -> Option<String> {
        let answer = self.result.as_ref().ok()?;
        if answer.response.status != 200 {
            return None;
        }
        let json: Value = answer.response.json()?;
        Some(json.get("token")?.as_str()?.to_owned())
    }
}

/// The mint request of a case (a forged token goes in as `{"token": ...}`).
pub fn mint_request(case: &Case, forged: Option<&ForgedToken>) -> Outgoing {
    let body = match (&case.mint.body, forged, &case.mint.features) {
        (MintBody::Raw(body), ..) => body.clone(),
        (MintBody::Token(_), Some(token), None) => json!({ "token": token.compact }).to_string(),
        (MintBody::Token(_), Some(token), Some(features)) => {
            json!({ "token": token.compact, "features": features }).to_string()
        }
        (MintBody::Token(_), None, _) => {
            unreachable!("a token case is run with its forged token")
        }
    };
    let mut headers = vec![(
        "content-type".into(),
        case.mint
            .content_type
            .clone()
            .unwrap_or_else(|| "application/json".into()),
    )];
    if case.mint.features.is_some() {
        headers.push(pep807_accept());
    }
    Outgoing {
        method: "POST".into(),
        url: "/_/oidc/mint-token".into(),
        headers,
        body: Some(body.into_bytes()),
    }
}

/// A PEP 807 client's `Accept`.
fn pep807_accept() -> (String, String) {
    let media = reference_registry::pep807::MEDIA_TYPE;
    ("accept".to_owned(), media.to_owned())
}

/// The discovery request for `upload_path` (R-807-DISC-1, R-807-DISC-2).
pub fn discovery_request(upload_path: &str) -> Outgoing {
    Outgoing {
        method: "GET".into(),
        url: format!(
            "{}?discover={}",
            reference_registry::pep807::DISCOVERY_PATH,
            crate::rig::discovery::key(upload_path)
        ),
        headers: vec![pep807_accept()],
        body: None,
    }
}

/// Runs `case` on a freshly reset `endpoint`. Follow-ups run only after a mint succeeds.
/// An `Err` is the endpoint failing to take the fixture: no request was judged.
pub async fn run(
    case: &Case,
    forged: Option<&ForgedToken>,
    endpoint: &mut Endpoint,
    document: &FixtureDocument,
    timeout: Duration,
) -> Result<Vec<Exchange>, TargetError> {
    endpoint.reset(document).await?;
    let mut exchanges = Vec::new();
    if let Some(path) = &case.discover {
        let request = discovery_request(path);
        exchanges.push(send(endpoint, StepKind::Discover, request, timeout).await);
    }
    let mint = mint_request(case, forged);
    let first = send(endpoint, StepKind::Mint, mint.clone(), timeout).await;
    let api_token = first.minted_token();
    exchanges.push(first);
    let (Some(api_token), Some(forged)) = (api_token, forged) else {
        return Ok(exchanges);
    };
    exchanges.push(send(endpoint, StepKind::Replay, mint, timeout).await);
    for (index, attempt) in case.uploads.iter().enumerate() {
        let spec = UploadSpec {
            name: attempt.name.clone(),
            version: attempt.version.clone(),
            token: attempt.credential.template(),
        };
        let password = attempt.credential.password(&api_token, &forged.compact);
        let request = upload::request("", &spec, &password);
        exchanges.push(send(endpoint, StepKind::Upload(index), request, timeout).await);
    }
    Ok(exchanges)
}

async fn send(
    endpoint: &mut Endpoint,
    kind: StepKind,
    request: Outgoing,
    timeout: Duration,
) -> Exchange {
    let result = endpoint.send(&request, timeout).await;
    Exchange {
        kind,
        request,
        result,
    }
}
