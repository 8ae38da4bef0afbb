//! RSA signing keys: the embedded test keys with fixed `kid`s, and fresh ones on request.

use std::sync::{Arc, LazyLock};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// `kid` of the key that signs by default and is published from the start.
pub const PRIMARY_KID: &str = "mintcheck-primary";
/// `kid` of the rotation key: known to the issuer, published only on request.
pub const NEXT_KID: &str = "mintcheck-next";
/// `kid` of the attacker's key: never published, so nothing it signs can verify.
pub const ROGUE_KID: &str = "mintcheck-rogue";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key {kid}: not a PKCS#8 PEM RSA private key: {reason}")]
    Unreadable { kid: String, reason: String },
    #[error("RSA key generation failed")]
    Generation,
    #[error("RSA signing failed")]
    Signing,
}

/// One RSA key pair with its `kid`. Cheap to clone.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    inner: Arc<KeyMaterial>,
}

struct KeyMaterial {
    pair: KeyPair,
    pkcs8_pem: String,
    jwk: Value,
    spki_der: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a PKCS#8 PEM private key.
    pub fn from_pkcs8_pem(kid: impl Into<String>, pem_text: &str) -> Result<Self, KeyError> {
        let kid = kid.into();
        let unreadable = |reason: String| KeyError::Unreadable {
            kid: kid.clone(),
            reason,
        };
        let block = pem::parse(pem_text).map_err(|e| unreadable(e.to_string()))?;
        if block.tag() != "PRIVATE KEY" {
            return Err(unreadable(format!("PEM label is {:?}", block.tag())));
        }
        let pair = KeyPair::from_pkcs8(block.contents()).map_err(|e| unreadable(e.to_string()))?;
        Self::from_pair(kid, pair)
    }

    /// Generates a new 2048-bit key. Costs 0.1–0.4 s; tests should prefer the embedded keys.
    pub fn generate(kid: impl Into<String>) -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
        Self::from_pair(kid.into(), pair)
    }

    fn from_pair(kid: String, pair: KeyPair) -> Result<Self, KeyError> {
        let pkcs8: Pkcs8V1Der<'_> = pair.as_der().map_err(|_| KeyError::Generation)?;
        let pkcs8_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
        let public = pair.public_key();
        let spki: PublicKeyX509Der<'_> = public.as_der().map_err(|_| KeyError::Generation)?;
        let components = PublicKeyComponents::<Vec<u8>>::from(public);
        let jwk = json!({
            "kty": "RSA",
            "kid": kid,
            "alg": "RS256",
            "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(strip_leading_zeros(&components.n)),
            "e": URL_SAFE_NO_PAD.encode(strip_leading_zeros(&components.e)),
        });
        Ok(Self {
            kid,
            inner: Arc::new(KeyMaterial {
                pair,
                pkcs8_pem,
                jwk,
                spki_der: spki.as_ref().to_vec(),
            }),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK with `kty`, `kid`, `alg`, `use`, `n`, `e`.
    pub fn jwk(&self) -> &Value {
        &self.inner.jwk
    }

    /// The private key, PKCS#8 PEM (to save a fresh key as a fixture).
    pub fn private_pem(&self) -> &str {
        &self.inner.pkcs8_pem
    }

    /// The public key as SubjectPublicKeyInfo DER.
    pub fn public_der(&self) -> &[u8] {
        &self.inner.spki_der
    }

    /// The public key as SubjectPublicKeyInfo PEM, with the trailing newline a `.pem` file has.
    pub fn public_pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.inner.spki_der.clone()))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0; self.inner.pair.public_modulus_len()];
        self.inner
            .pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| KeyError::Signing)?;
        Ok(signature)
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    &bytes[first..]
}

/// The three keys an issuer knows: the one it signs with, the next one for rotation, and a
/// rogue key it never publishes (for forged signatures).
#[derive(Clone, Debug)]
pub struct KeySet {
    pub primary: SigningKey,
    pub next: SigningKey,
    pub rogue: SigningKey,
}

static EMBEDDED: LazyLock<KeySet> = LazyLock::new(|| {
    let read = |kid: &str, pem_text: &str| {
        SigningKey::from_pkcs8_pem(kid, pem_text).expect("embedded test keys are valid PKCS#8")
    };
    KeySet {
        primary: read(PRIMARY_KID, include_str!("../keys/primary.pem")),
        next: read(NEXT_KID, include_str!("../keys/next.pem")),
        rogue: read(ROGUE_KID, include_str!("../keys/rogue.pem")),
    }
});

impl KeySet {
    /// The embedded test keys (parsed once per process). Public knowledge: test use only.
    pub fn embedded() -> KeySet {
        EMBEDDED.clone()
    }

    /// Three newly generated keys with the same fixed `kid`s.
    pub fn fresh() -> Result<KeySet, KeyError> {
        Ok(KeySet {
            primary: SigningKey::generate(PRIMARY_KID)?,
            next: SigningKey::generate(NEXT_KID)?,
            rogue: SigningKey::generate(ROGUE_KID)?,
        })
    }

    pub fn all(&self) -> [&SigningKey; 3] {
        [&self.primary, &self.next, &self.rogue]
    }

    pub fn by_kid(&self, kid: &str) -> Option<&SigningKey> {
        self.all().into_iter().find(|key| key.kid() == kid)
    }
}

/// Generates a fresh [`KeySet`]; see [`KeySet::fresh`].
pub fn fresh_keys() -> Result<KeySet, KeyError> {
    KeySet::fresh()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_keys_have_distinct_moduli_and_fixed_kids() {
        let keys = KeySet::embedded();
        let kids: Vec<_> = keys.all().iter().map(|k| k.kid().to_owned()).collect();
        assert_eq!(kids, [PRIMARY_KID, NEXT_KID, ROGUE_KID]);
        assert_ne!(keys.primary.jwk()["n"], keys.next.jwk()["n"]);
        assert_ne!(keys.primary.jwk()["n"], keys.rogue.jwk()["n"]);
        assert_eq!(keys.primary.jwk()["e"], "AQAB");
    }

    #[test]
    fn private_pem_round_trips() {
        let key = KeySet::embedded().primary;
        let again = SigningKey::from_pkcs8_pem("copy", key.private_pem()).unwrap();
        assert_eq!(again.jwk()["n"], key.jwk()["n"]);
    }

    #[test]
    fn unreadable_pem_names_the_key() {
        let err = SigningKey::from_pkcs8_pem("k1", "not a pem").unwrap_err();
        assert!(err.to_string().starts_with("key k1: "), "{err}");
    }
}
