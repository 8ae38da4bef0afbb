//! Step 5: signature and registered claims (spec §6). Every failure is the same
//! `invalid-token` / `malformed or invalid token`; the reason is never disclosed.

use serde_json::{Map, Value};

use crate::clock::Now;
use crate::error::MintError;
use crate::jwks::{CachedKey, KeyStore};
use crate::jwt::UnverifiedJwt;

/// The leeway on `exp`, `iat` and `nbf` (R-TIME-2).
const LEEWAY: i64 = 30;

/// A token whose signature and registered claims passed.
#[derive(Debug)]
pub struct VerifiedToken {
    pub issuer: String,
    pub claims: Map<String, Value>,
    /// `exp` truncated toward zero (R-DEF-7), for the replay record's lifetime (R-JTI-3).
    pub expires: i64,
}

/// What step 5 checks. The registry checks everything; `explain`, which has no keys, checks
/// everything but the key lookup and the signature.
#[derive(Clone, Copy)]
pub enum Keys<'a> {
    Check(&'a KeyStore),
    Skip,
}

/// R-SIG-2's order: `kid` present, key lookup (may fetch), `alg`, signature, claims.
pub async fn verify(
    jwt: UnverifiedJwt,
    issuer: &str,
    keys: Keys<'_>,
    audience: &str,
    now: impl FnOnce() -> Now,
    #[cfg(feature = "sabotage")] sabotage: crate::sabotage::Sabotage,
) -> Result<VerifiedToken, MintError> {
    let kid = jwt
        .header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            MintError::invalid_token().because("the header has no string `kid` (R-SIG-1)")
        })?;
    #[cfg(feature = "sabotage")]
    let confused = match &keys {
        Keys::Check(store) if sabotage.shared_key_cache => store.cached_at_any_issuer(kid),
        _ => None,
    };
    #[cfg(not(feature = "sabotage"))]
    let confused = None;
    let key = match (keys, confused) {
        (_, Some(key)) => Some(key),
        (Keys::Check(store), None) => Some(store.key(issuer, kid).await.ok_or_else(|| {
            MintError::invalid_token().because(format!(
                "no key with kid {kid:?} in the issuer's JWKS (R-JWKS-6)"
            ))
        })?),
        (Keys::Skip, None) => None,
    };
    // `alg` (R-SIG-3), then the signature (R-SIG-5); both fail alike.
    let alg = jwt.header.get("alg");
    let signature = match key {
        _ if alg.and_then(Value::as_str) != Some("RS256") => Err(format!(
            "`alg` is {}; only RS256 is accepted (R-SIG-3)",
            alg.map_or_else(|| "absent".to_owned(), Value::to_string)
        )),
        Some(CachedKey::Rs256(key))
            if key
                .verify_sig(jwt.signing_input.as_bytes(), &jwt.signature)
                .is_err() =>
        {
            Err("the signature does not verify with the issuer's key (R-SIG-5)".to_owned())
        }
        Some(CachedKey::Unusable) => Err(format!(
            "the issuer's key {kid:?} is not a usable RS256 key (R-SIG-4)"
        )),
        Some(CachedKey::Rs256(_)) | None => Ok(()),
    };
    #[cfg(feature = "sabotage")]
    let signature = signature.or_else(|e| {
        if sabotage.skips_signature(&jwt.header) {
            Ok(())
        } else {
            Err(e)
        }
    });
    signature.map_err(|reason| MintError::invalid_token().because(reason))?;
    // The clock is read after the key lookup, which may have waited on the network.
    let expires = check_claims(
        &jwt.claims,
        audience,
        now(),
        #[cfg(feature = "sabotage")]
        sabotage,
    )
    .map_err(|problem| MintError::invalid_token().because(problem))?;
    Ok(VerifiedToken {
        issuer: issuer.to_owned(),
        claims: jwt.claims,
        expires,
    })
}

/// Why the registered claims fail. Never sent to a client (spec §6); `explain` shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimProblem {
    #[error("`{0}` is absent (R-CLAIM-1)")]
    Absent(&'static str),
    #[error("`{0}` is not a JSON number (R-DEF-7)")]
    NotANumber(&'static str),
    #[error("`iat` is {iat}, more than 30 s after now ({now}) (R-TIME-2)")]
    IssuedInFuture { iat: i64, now: i64 },
    #[error("`exp` is {exp}: the token expired {} s ago, more than the 30 s leeway (R-TIME-2)", now.saturating_sub(*exp))]
    Expired { exp: i64, now: i64 },
    #[error("`nbf` is {nbf}, more than 30 s after now ({now}) (R-TIME-2)")]
    NotYetValid { nbf: i64, now: i64 },
    #[error(
        "`aud` is {actual}, but this registry's audience is \"{expected}\" (one JSON string, exactly equal; R-CLAIM-2)"
    )]
    Audience { expected: String, actual: String },
    #[error("`{0}` is present but not a string (R-CLAIM-3)")]
    NotAString(&'static str),
}

/// R-CLAIM-1..3 and R-TIME-2. Returns the truncated `exp`.
fn check_claims(
    claims: &Map<String, Value>,
    audience: &str,
    now: Now,
    #[cfg(feature = "sabotage")] sabotage: crate::sabotage::Sabotage,
) -> Result<i64, ClaimProblem> {
    let present = |name: &'static str| {
        claims
            .get(name)
            .filter(|v| !v.is_null())
            .ok_or(ClaimProblem::Absent(name))
    };
    let time = |name: &'static str| {
        present(name).and_then(|v| truncated_time(v).ok_or(ClaimProblem::NotANumber(name)))
    };
    let t = now.whole_seconds();
    present("iss")?;
    let issued_at = time("iat")?;
    if issued_at > t + LEEWAY {
        return Err(ClaimProblem::IssuedInFuture {
            iat: issued_at,
            now: t,
        });
    }
    let expires = time("exp")?;
    let unexpired = expires >= t - (LEEWAY - 1); // i.e. exp + 30 > now
    #[cfg(feature = "sabotage")]
    let unexpired = unexpired || sabotage.skip_expiry;
    if !unexpired {
        return Err(ClaimProblem::Expired {
            exp: expires,
            now: t,
        });
    }
    if claims.get("nbf").is_some_and(|v| !v.is_null()) {
        let not_before = time("nbf")?;
        if not_before > t + LEEWAY {
            return Err(ClaimProblem::NotYetValid {
                nbf: not_before,
                now: t,
            });
        }
    }
    // R-CLAIM-2: one JSON string, exactly equal: no arrays.
    let aud = present("aud")?;
    let audience_ok = aud.as_str() == Some(audience);
    #[cfg(feature = "sabotage")]
    let audience_ok = audience_ok || sabotage.skip_audience;
    if !audience_ok {
        return Err(ClaimProblem::Audience {
            expected: audience.to_owned(),
            actual: aud.to_string(),
        });
    }
    // R-CLAIM-3: a present `sub` or `jti`, even `null`, must be a string.
    if let Some(name) = ["sub", "jti"]
        .into_iter()
        .find(|name| claims.get(*name).is_some_and(|v| !v.is_string()))
    {
        return Err(ClaimProblem::NotAString(name));
    }
    Ok(expires)
}

/// A JSON number truncated toward zero; anything else fails (R-DEF-7).
fn truncated_time(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: i64 = 1_767_225_600;

    fn check(extra: Value, now: f64) -> Result<i64, ClaimProblem> {
        let mut claims = json!({"iss": "i", "aud": "pypi", "iat": T, "exp": T + 300});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        check_claims(
            claims.as_object().unwrap(),
            "pypi",
            Now::from_unix(now),
            #[cfg(feature = "sabotage")]
            crate::sabotage::Sabotage::default(),
        )
    }

    #[test]
    fn r_time_2_boundaries_with_fractional_now() {
        let now = T as f64 + 0.999;
        assert!(check(json!({"exp": T - 29}), now).is_ok());
        assert!(check(json!({"exp": T - 30}), now).is_err());
        assert!(check(json!({"exp": (T - 29) as f64 + 0.9}), now).is_ok());
        assert!(check(json!({"iat": T + 30}), now).is_ok());
        assert!(check(json!({"iat": T + 31}), now).is_err());
        assert!(check(json!({"nbf": T + 30}), now).is_ok());
        assert!(check(json!({"nbf": T + 31}), now).is_err());
        assert!(check(json!({"nbf": null}), now).is_ok());
        assert!(check(json!({"exp": (T + 300).to_string()}), now).is_err());
    }
}
