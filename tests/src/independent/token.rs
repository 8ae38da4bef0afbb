//! The compact JWS: its parts, its signature and its registered claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::signature::Verifier;
use serde_json::{Map, Value};

use super::Behaviour;
use super::keys::PublishedKey;

pub struct Jws {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jws {
    /// Three base64url segments, the first two JSON objects; the claims name an issuer.
    pub fn parse(token: &str) -> Option<Jws> {
        let mut parts = token.split('.');
        let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let object = |segment: &str| -> Option<Map<String, Value>> {
            let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
            match serde_json::from_slice(&bytes).ok()? {
                Value::Object(map) => Some(map),
                _ => None,
            }
        };
        Some(Jws {
            header: object(header)?,
            claims: object(claims)?,
            signing_input: format!("{header}.{claims}"),
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// Whether the signature verifies with `key` under the token's `alg`, as far as this
    /// registry's behaviour allows algorithms.
    pub fn signature_verifies(&self, key: &PublishedKey, behaviour: &Behaviour) -> bool {
        use rsa::sha2::{Sha256, Sha384, Sha512};
        let message = self.signing_input.as_bytes();
        let Ok(pkcs1) = rsa::pkcs1v15::Signature::try_from(self.signature.as_slice()) else {
            return self.hmac_confusion(key, behaviour);
        };
        let Ok(pss) = rsa::pss::Signature::try_from(self.signature.as_slice()) else {
            return false;
        };
        let public = key.key.clone();
        let others = behaviour.other_rsa_algorithms;
        match self.header_str("alg") {
            Some("RS256") => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public)
                .verify(message, &pkcs1)
                .is_ok(),
            Some("RS384") if others => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(public)
                .verify(message, &pkcs1)
                .is_ok(),
            Some("RS512") if others => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(public)
                .verify(message, &pkcs1)
                .is_ok(),
            Some("PS256") if others => rsa::pss::VerifyingKey::<Sha256>::new(public)
                .verify(message, &pss)
                .is_ok(),
            Some("PS384") if others => rsa::pss::VerifyingKey::<Sha384>::new(public)
                .verify(message, &pss)
                .is_ok(),
            Some("PS512") if others => rsa::pss::VerifyingKey::<Sha512>::new(public)
                .verify(message, &pss)
                .is_ok(),
            _ => self.hmac_confusion(key, behaviour),
        }
    }

    /// The flaw of node-jsonwebtoken before 4.2.2 (CVE-2015-9235): the header says HS256,
    /// so the key the verifier was given, the issuer's public key as its PEM file holds it,
    /// becomes the HMAC secret.
    fn hmac_confusion(&self, key: &PublishedKey, behaviour: &Behaviour) -> bool {
        if !behaviour.flaws.hs256_keyed_with_pem || self.header_str("alg") != Some("HS256") {
            return false;
        }
        let Ok(pem) = key.key.to_public_key_pem(LineEnding::LF) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<rsa::sha2::Sha256>::new_from_slice(pem.as_bytes()) else {
            return false;
        };
        mac.update(self.signing_input.as_bytes());
        mac.verify_slice(&self.signature).is_ok()
    }

    /// The registered claims (R-CLAIM-1, R-CLAIM-2, R-TIME-1): what is wrong, if anything.
    pub fn claims_problem(
        &self,
        audience: &str,
        now: f64,
        behaviour: &Behaviour,
    ) -> Option<String> {
        let time = |name: &str| self.claims.get(name).map(Value::as_f64);
        let leeway = behaviour.leeway_seconds;
        match time("exp") {
            Some(Some(exp)) if exp + leeway < now => return Some("the token has expired".into()),
            Some(Some(_)) => {}
            _ => return Some("exp is missing or not a number".into()),
        }
        match time("iat") {
            Some(Some(iat)) if iat > now + leeway => return Some("iat is in the future".into()),
            Some(Some(_)) => {}
            _ => return Some("iat is missing or not a number".into()),
        }
        if !behaviour.flaws.ignore_nbf {
            match time("nbf") {
                Some(Some(nbf)) if nbf > now + leeway => {
                    return Some("the token is not valid yet".into());
                }
                Some(None) => return Some("nbf is not a number".into()),
                _ => {}
            }
        }
        let audience_ok = match self.claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(items)) if behaviour.audience_arrays => {
                items.iter().any(|item| item.as_str() == Some(audience))
            }
            _ => false,
        };
        (!audience_ok).then(|| format!("the token is not for {audience}"))
    }
}
