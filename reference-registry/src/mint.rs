//! The mint-token procedure: steps 1 to 9 of R-ORDER-1, in order, the first failure deciding.

use serde_json::{Value, json};

use crate::error::{ErrorCode, MintError};
use crate::fixture::Identity;
use crate::matching::{self, Failure, Token};
use crate::state::Registry;
use crate::{api_token, jwt, payload, pending, verify};

/// A minted token (R-RESP-5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    pub token: String,
    pub expires: i64,
}

impl Minted {
    pub fn body(&self) -> Value {
        json!({"expires": self.expires, "success": true, "token": self.token})
    }
}

/// Mints for the request `body`; `host` becomes the macaroon's location (R-TOK-3).
pub async fn mint(registry: &Registry, body: &[u8], host: &str) -> Result<Minted, MintError> {
    let token = payload::parse(body)?; // step 1
    let jwt = jwt::parse(&token)?; // step 2

    // Steps 3 and 4 read the state; step 5 may wait on the network, so it runs unlocked.
    let (issuer, trusted, keys, audience) = {
        let state = registry.lock();
        let trusted = jwt
            .issuer()
            .as_str()
            .and_then(|iss| Some((iss.to_owned(), *state.issuers.get(iss)?)))
            .ok_or_else(|| {
                MintError::new(
                    ErrorCode::InvalidPayload,
                    "unknown trusted publishing issuer",
                )
            })?;
        let provider = trusted.1.provider;
        // R-FLAG-3: a custom issuer checks only the global flag.
        if state.flags.disallow_oidc || (trusted.1.canonical && state.flags.disallows(provider)) {
            return Err(MintError::new(
                ErrorCode::NotEnabled,
                format!(
                    "{} trusted publishing functionality not enabled",
                    provider.as_str()
                ),
            ));
        }
        (
            trusted.0,
            trusted.1,
            state.keys.clone(),
            state.audience.clone(),
        )
    };
    let verified = verify::verify(
        jwt,
        &issuer,
        &keys,
        &audience,
        || registry.now(),
        #[cfg(feature = "sabotage")]
        registry.sabotaged(),
    )
    .await?; // step 5

    // Steps 6 to 9 under one lock: the jti checks and the claim are atomic (R-JTI-4).
    let now = registry.now();
    let mut state = registry.lock();
    let canonical_issuer = state.canonical[&trusted.provider].clone();
    // The only `jti` steps 6 to 8 ask about is the token's own; an empty one is never
    // recorded (spec §17 item 8).
    let jti = verified
        .claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty());
    #[cfg(feature = "sabotage")]
    let jti = jti.filter(|_| !registry.sabotaged().skip_replay_store);
    let token = Token {
        claims: &verified.claims,
        issuer: &verified.issuer,
        provider: trusted.provider,
        canonical_issuer: &canonical_issuer,
        jti_recorded: jti.is_some_and(|jti| state.jti_recorded(trusted.provider, jti, now)),
        #[cfg(feature = "sabotage")]
        sabotage: registry.sabotaged(),
    };
    pending::reify(&mut state, &token)?; // step 6
    let identities: Vec<&Identity> = state.publishers.iter().map(|p| &p.identity).collect();
    let publisher = match matching::find(&token, &identities) {
        Ok(index) => index,
        Err(Failure::Replayed) => return Err(MintError::reused_token()), // step 7a
        Err(Failure::NoMatch(reason)) => return Err(MintError::no_publisher(&reason)), // step 7b
    };
    // Step 8 (R-JTI-3): recorded under the provider's canonical issuer until exp + 35.
    if let Some(jti) = jti
        && !state.claim_jti(
            trusted.provider,
            jti,
            verified.expires.saturating_add(35),
            now,
        )
    {
        return Err(MintError::reused_token());
    }
    let (token, expires) = api_token::mint(&mut state, publisher, host, now); // step 9
    Ok(Minted { token, expires })
}
