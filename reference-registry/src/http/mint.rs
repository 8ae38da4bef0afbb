//! `POST /_/oidc/mint-token` and its alias (R-EP-3, R-EP-4; spec §3–§4).

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode};

use crate::error::{ErrorCode, MintError};
use crate::events::{Event, MintEvent};
use crate::pep807::Accepted;
use crate::state::Registry;

use super::MINT_BODY_LIMIT;

pub async fn handle(
    State(registry): State<Registry>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let accepted = match super::admit(&headers, &method, "POST", super::Endpoint::Pypi) {
        Ok(accepted) => accepted,
        Err(refusal) => return refusal.into_response(),
    };
    // R-EP-3: no authentication, and the Content-Type is ignored.
    let bytes = to_bytes(body, MINT_BODY_LIMIT).await;
    let outcome = match &bytes {
        Ok(bytes) => crate::mint::mint(&registry, bytes, &super::request_host(&headers)).await,
        Err(_) => Err(MintError::new(
            ErrorCode::InvalidPayload,
            format!("request body unreadable or larger than {MINT_BODY_LIMIT} bytes"),
        )),
    };
    let response = respond(&registry, accepted, &outcome);
    registry.emit(|| {
        let claims = bytes.ok().and_then(|bytes| {
            let token = crate::payload::parse(&bytes).ok()?;
            Some(crate::jwt::parse(&token).ok()?.claims)
        });
        let error = outcome.as_ref().err();
        Event::Mint(MintEvent {
            claims,
            status: response.status().as_u16(),
            code: error.map(|e| e.code.as_str()),
            description: error.map(|e| e.description.clone()),
            undisclosed: error.and_then(|e| e.undisclosed.clone()),
            expires: outcome.as_ref().ok().map(|minted| minted.expires),
        })
    });
    response
}

/// PyPI's answer; the envelope is an object, so also problem details (R-807-MINT-5).
fn respond(
    #[cfg_attr(not(feature = "sabotage"), allow(unused_variables))] registry: &Registry,
    accepted: Accepted,
    outcome: &Result<crate::mint::Minted, MintError>,
) -> Response {
    let json = |status, body: &serde_json::Value| super::pep807_json(accepted, status, body);
    match outcome {
        #[cfg(feature = "sabotage")]
        Ok(minted)
            if accepted == Accepted::Pep807
                && registry.sabotaged().pep807_ten_minute_credentials =>
        {
            let ten_minutes = crate::mint::Minted {
                token: minted.token.clone(),
                expires: registry.now().whole_seconds() + 600,
            };
            json(StatusCode::OK, &ten_minutes.body())
        }
        Ok(minted) => json(StatusCode::OK, &minted.body()),
        #[cfg(feature = "sabotage")]
        Err(error)
            if error.code == ErrorCode::InvalidPayload
                && registry.sabotaged().invalid_payload_500 =>
        {
            json(StatusCode::INTERNAL_SERVER_ERROR, &error.envelope())
        }
        // R-RESP-6: every failure is 422, whose standard reason phrase R-RESP-7 wants.
        Err(error) => json(StatusCode::UNPROCESSABLE_ENTITY, &error.envelope()),
    }
}
