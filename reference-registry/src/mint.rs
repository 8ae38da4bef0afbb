//! The mint-token procedure: steps 1 to 9 of R-ORDER-1, in order, the first failure deciding.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::error::{ErrorCode, MintError};
use crate::fixture::Identity;
use crate::jwks::KeyStore;
use crate::jwt::UnverifiedJwt;
use crate::matching::{self, Failure, Token};
use crate::pending::Reified;
use crate::repr::repr;
use crate::state::{Registry, State, TrustedIssuer};
use crate::verify::{Keys, VerifiedToken};
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

/// The steps of R-ORDER-1's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Body,
    Parse,
    Issuer,
    Enablement,
    Verify,
    Pending,
    Publisher,
    Replay,
    Mint,
}

impl Step {
    pub const ALL: [Step; 9] = [
        Step::Body,
        Step::Parse,
        Step::Issuer,
        Step::Enablement,
        Step::Verify,
        Step::Pending,
        Step::Publisher,
        Step::Replay,
        Step::Mint,
    ];

    /// Its number in R-ORDER-1 (1 to 9).
    pub fn number(self) -> u8 {
        self as u8 + 1
    }

    pub fn name(self) -> &'static str {
        match self {
            Step::Body => "request body",
            Step::Parse => "token structure",
            Step::Issuer => "issuer",
            Step::Enablement => "enablement",
            Step::Verify => "signature and claims",
            Step::Pending => "pending publishers",
            Step::Publisher => "publishers",
            Step::Replay => "jti claim",
            Step::Mint => "mint",
        }
    }

    /// Where the spec describes the step.
    pub fn section(self) -> &'static str {
        match self {
            Step::Body => "§3.2",
            Step::Parse => "§5.1",
            Step::Issuer => "§5.2",
            Step::Enablement => "§5.3",
            Step::Verify => "§6",
            Step::Pending => "§13",
            Step::Publisher => "§7-§11",
            Step::Replay => "§12",
            Step::Mint => "§14",
        }
    }
}

/// How a run goes. The registry checks every step and notes nothing; `explain` has no
/// issuer keys (step 5 checks all but the key lookup and signature) and keeps a note of
/// what each passed step found.
pub(crate) struct Run {
    check_signature: bool,
    /// The step running now; when the run fails, the step that failed.
    pub(crate) step: Step,
    pub(crate) notes: Option<Vec<(Step, String)>>,
}

impl Run {
    fn live() -> Run {
        Run {
            check_signature: true,
            step: Step::Body,
            notes: None,
        }
    }

    pub(crate) fn offline() -> Run {
        Run {
            check_signature: false,
            step: Step::Body,
            notes: Some(Vec::new()),
        }
    }

    fn at(&mut self, step: Step) {
        self.step = step;
    }

    fn note(&mut self, text: impl FnOnce() -> String) {
        if let Some(notes) = &mut self.notes {
            notes.push((self.step, text()));
        }
    }
}

/// Mints for the request `body`; `host` becomes the macaroon's location (R-TOK-3).
pub async fn mint(registry: &Registry, body: &[u8], host: &str) -> Result<Minted, MintError> {
    run(registry, body, host, &mut Run::live()).await
}

pub(crate) async fn run(
    registry: &Registry,
    body: &[u8],
    host: &str,
    run: &mut Run,
) -> Result<Minted, MintError> {
    let payload = payload::read(body)?; // step 1
    let single_use = crate::pep807::single_use_requested(payload.features.as_ref())?;
    let token = payload.token;
    run.at(Step::Parse);
    let jwt = jwt::parse(&token)?; // step 2
    // Steps 3 and 4 read the state; step 5 may wait on the network, so it runs unlocked.
    let trust = trusted_and_enabled(registry, &jwt, run)?; // steps 3 and 4
    let verified = verify_token(registry, jwt, &trust, run).await?; // step 5
    // Steps 6 to 9 under one lock: the jti checks and the claim are atomic (R-JTI-4).
    publish(registry, &verified, trust.trusted, host, single_use, run)
}

/// What steps 3 and 4 found: the token's issuer is trusted and enabled; with the keys and
/// audience step 5 checks against.
struct Trust {
    issuer: String,
    trusted: TrustedIssuer,
    keys: Arc<KeyStore>,
    audience: String,
}

/// Steps 3 (R-ISS-3: a trusted issuer) and 4 (R-FLAG-1: enabled for its provider).
fn trusted_and_enabled(
    registry: &Registry,
    jwt: &UnverifiedJwt,
    run: &mut Run,
) -> Result<Trust, MintError> {
    run.at(Step::Issuer);
    let state = registry.lock();
    let (issuer, trusted) = jwt
        .issuer()
        .as_str()
        .and_then(|iss| Some((iss.to_owned(), *state.issuers.get(iss)?)))
        .ok_or_else(|| {
            MintError::new(
                ErrorCode::InvalidPayload,
                "unknown trusted publishing issuer",
            )
        })?;
    let provider = trusted.provider;
    run.note(|| {
        let role = if trusted.canonical {
            "the canonical"
        } else {
            "a custom"
        };
        format!("{} is {role} {} issuer", repr(&issuer), provider.name())
    });
    run.at(Step::Enablement);
    // R-FLAG-3: a custom issuer checks only the global flag.
    if state.flags.disallow_oidc || (trusted.canonical && state.flags.disallows(provider)) {
        return Err(MintError::new(
            ErrorCode::NotEnabled,
            format!(
                "{} trusted publishing functionality not enabled",
                provider.name()
            ),
        ));
    }
    run.note(|| format!("{} trusted publishing is enabled", provider.name()));
    Ok(Trust {
        issuer,
        trusted,
        keys: state.keys.clone(),
        audience: state.audience.clone(),
    })
}

/// Step 5: the signature and the standard claims (R-SIG, R-TIME, R-CLAIM).
async fn verify_token(
    registry: &Registry,
    jwt: UnverifiedJwt,
    trust: &Trust,
    run: &mut Run,
) -> Result<VerifiedToken, MintError> {
    run.at(Step::Verify);
    let keys = if run.check_signature {
        Keys::Check(&trust.keys)
    } else {
        Keys::Skip
    };
    let verified = verify::verify(
        jwt,
        &trust.issuer,
        keys,
        &trust.audience,
        || registry.now(),
        #[cfg(feature = "sabotage")]
        registry.sabotaged(),
    )
    .await?;
    run.note(|| match keys {
        Keys::Check(_) => "kid, alg, signature, aud, iat, exp, nbf, sub and jti pass".to_owned(),
        Keys::Skip => format!(
            "kid, alg, aud ({}), iat, exp, nbf, sub and jti pass; the signature is NOT checked (no issuer keys here)",
            repr(&trust.audience)
        ),
    });
    Ok(verified)
}

/// Steps 6 to 9: pending publishers, the publisher, the replay record, the upload token.
fn publish(
    registry: &Registry,
    verified: &VerifiedToken,
    trusted: TrustedIssuer,
    host: &str,
    single_use: bool,
    run: &mut Run,
) -> Result<Minted, MintError> {
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
    run.at(Step::Pending);
    match pending::reify(&mut state, &token)? {
        Reified::NoMatch(reason) => run.note(|| {
            format!("no pending publisher matches ({reason}); silently ignored (R-PEND-1)")
        }),
        Reified::Created(name) => run.note(|| {
            format!(
                "a pending publisher matches: project {} created (R-PEND-4)",
                repr(&name)
            )
        }),
    } // step 6
    let publisher = find_publisher(&state, &token, run)?; // step 7
    // Step 8 (R-JTI-3): recorded under the provider's canonical issuer until exp + 35.
    run.at(Step::Replay);
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
    run.note(|| match jti {
        Some(jti) => format!("jti {} is recorded until exp + 35 s", repr(jti)),
        None => "the token has no jti to record".to_owned(),
    });
    run.at(Step::Mint);
    #[cfg(feature = "sabotage")]
    let single_use = single_use && !registry.sabotaged().single_use_reusable;
    let (token, expires) = api_token::mint(&mut state, publisher, host, now, single_use); // step 9
    run.note(|| {
        format!(
            "an upload token valid for {} s{}",
            expires - now.whole_seconds(),
            if single_use {
                ", for one upload (PEP 807 single-use-token)"
            } else {
                ""
            }
        )
    });
    Ok(Minted { token, expires })
}

/// Step 7: the publisher the token matches (R-PUB), unless the token was used (R-JTI-1).
fn find_publisher(state: &State, token: &Token<'_>, run: &mut Run) -> Result<usize, MintError> {
    run.at(Step::Publisher);
    let identities: Vec<&Identity> = state.publishers.iter().map(|p| &p.identity).collect();
    let publisher = match matching::find(token, &identities) {
        Ok(index) => index,
        Err(Failure::Replayed) => return Err(MintError::reused_token()), // step 7a
        Err(Failure::NoMatch(reason)) => return Err(MintError::no_publisher(&reason)), // step 7b
    };
    run.note(|| {
        let names: Vec<&str> = state
            .projects
            .iter()
            .filter(|p| state.publishers[publisher].projects.contains(&p.id))
            .map(|p| p.name.as_str())
            .collect();
        format!("the publisher of {} matches", names.join(", "))
    });
    Ok(publisher)
}
