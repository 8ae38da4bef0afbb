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

/// R-SIG-2's order: `kid` present, key lookup (may fetch), `alg`, signature, claims.
pub async fn verify(
    jwt: UnverifiedJwt,
    issuer: &str,
    keys: &KeyStore,
    audience: &str,
    now: impl FnOnce() -> Now,
    #[cfg(feature = "sabotage")] sabotage: crate::sabotage::Sabotage,
) -> Result<VerifiedToken, MintError> {
    let kid = jwt
        .header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(MintError::invalid_token)?;
    #[cfg(feature = "sabotage")]
    let confused = sabotage
        .shared_key_cache
        .then(|| keys.cached_at_any_issuer(kid))
        .flatten();
    #[cfg(not(feature = "sabotage"))]
    let confused = None;
    let key = match confused {
        Some(key) => key,
        None => keys
            .key(issuer, kid)
            .await
            .ok_or_else(MintError::invalid_token)?,
    };
    // `alg` (R-SIG-3), then the signature (R-SIG-5); both fail alike.
    let signature_ok = |key: CachedKey| {
        jwt.header.get("alg").and_then(Value::as_str) == Some("RS256")
            && matches!(key, CachedKey::Rs256(key)
                if key.verify_sig(jwt.signing_input.as_bytes(), &jwt.signature).is_ok())
    };
    #[cfg(feature = "sabotage")]
    let signature_ok = |key| sabotage.skips_signature(&jwt.header) || signature_ok(key);
    if !signature_ok(key) {
        return Err(MintError::invalid_token());
    }
    // The clock is read after the key lookup, which may have waited on the network.
    let expires = check_claims(
        &jwt.claims,
        audience,
        now(),
        #[cfg(feature = "sabotage")]
        sabotage,
    )
    .ok_or_else(MintError::invalid_token)?;
    Ok(VerifiedToken {
        issuer: issuer.to_owned(),
        claims: jwt.claims,
        expires,
    })
}

/// R-CLAIM-1..3 and R-TIME-2. Returns the truncated `exp`.
fn check_claims(
    claims: &Map<String, Value>,
    audience: &str,
    now: Now,
    #[cfg(feature = "sabotage")] sabotage: crate::sabotage::Sabotage,
) -> Option<i64> {
    let present = |name: &str| claims.get(name).filter(|v| !v.is_null());
    let t = now.whole_seconds();
    let issued_at = truncated_time(present("iat")?)?;
    let expires = truncated_time(present("exp")?)?;
    let not_before_ok = match present("nbf") {
        None => true,
        Some(nbf) => truncated_time(nbf)? <= t + LEEWAY,
    };
    // R-CLAIM-2: one JSON string, exactly equal: no arrays.
    let audience_ok = present("aud")?.as_str() == Some(audience);
    #[cfg(feature = "sabotage")]
    let audience_ok = audience_ok || sabotage.skip_audience;
    // R-CLAIM-3: a present `sub` or `jti`, even `null`, must be a string.
    let strings_ok = ["sub", "jti"]
        .iter()
        .all(|name| claims.get(*name).is_none_or(Value::is_string));
    let unexpired = expires >= t - (LEEWAY - 1); // i.e. exp + 30 > now
    #[cfg(feature = "sabotage")]
    let unexpired = unexpired || sabotage.skip_expiry;
    let ok = present("iss").is_some()
        && issued_at <= t + LEEWAY
        && unexpired
        && not_before_ok
        && audience_ok
        && strings_ok;
    ok.then_some(expires)
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

    fn check(extra: Value, now: f64) -> Option<i64> {
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
        assert!(check(json!({"exp": T - 29}), now).is_some());
        assert!(check(json!({"exp": T - 30}), now).is_none());
        assert!(check(json!({"exp": (T - 29) as f64 + 0.9}), now).is_some());
        assert!(check(json!({"iat": T + 30}), now).is_some());
        assert!(check(json!({"iat": T + 31}), now).is_none());
        assert!(check(json!({"nbf": T + 30}), now).is_some());
        assert!(check(json!({"nbf": T + 31}), now).is_none());
        assert!(check(json!({"nbf": null}), now).is_some());
        assert!(check(json!({"exp": (T + 300).to_string()}), now).is_none());
    }
}
