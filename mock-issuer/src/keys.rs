//! RSA signing keys: the embedded test keys with fixed `kid`s, and fresh ones on request.

use std::sync::{Arc, LazyLock};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    KeyPair as _, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256,
    RSA_PSS_SHA384, RSA_PSS_SHA512, RsaEncoding,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use serde_json::{Value, json};

use crate::profile::Provider;

/// `kid` of the key that signs by default and is published from the start.
pub const PRIMARY_KID: &str = "mintcheck-primary";
/// `kid` of the rotation key: known to the issuer, published only on request.
pub const NEXT_KID: &str = "mintcheck-next";
/// `kid` of the attacker's key: never published, so nothing it signs can verify.
pub const ROGUE_KID: &str = "mintcheck-rogue";
/// `kid` of a 1024-bit key, published only on request (R-SIG-4: verifiers accept keys
/// under 2048 bits).
pub const SMALL_KID: &str = "mintcheck-small";
/// The `kid` of a P-256 public key no issuer publishes unless a scenario does
/// ([`ec_jwk`]); `psychic-signature` tokens name it.
pub const EC_KID: &str = "mintcheck-ec";

/// A P-256 public key as a JWK under [`EC_KID`]: what an issuer that also signs ES256 would
/// publish. Its private half was thrown away: nothing valid is ever signed with it.
pub fn ec_jwk() -> Value {
    json!({
        "kty": "EC",
        "crv": "P-256",
        "kid": EC_KID,
        "alg": "ES256",
        "use": "sig",
        "x": "VQqpMeJjtXRUyTkWFSFOtdkAH44Ef2euhlmCHIDabPw",
        "y": "uaTHhJDxz-dYsLSQ54dQ4xmVg3CBOB3xKI8wio5ToM8",
    })
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key {kid}: not a PKCS#8 PEM RSA private key: {reason}")]
    Unreadable { kid: String, reason: String },
    #[error("RSA key generation failed")]
    Generation,
    #[error("RSA signing failed")]
    Signing,
    #[error("key {kid} is under 2048 bits and signs RS256 only, not {algorithm}")]
    SmallKeyAlgorithm {
        kid: String,
        algorithm: RsaAlgorithm,
    },
}

/// The RSA signature algorithms of RFC 7518 a key can sign with. Issuers use RS256; the
/// others exist so tokens can show a verifier an algorithm it must refuse (R-SIG-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RsaAlgorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
}

impl RsaAlgorithm {
    pub const ALL: [RsaAlgorithm; 6] = [
        RsaAlgorithm::Rs256,
        RsaAlgorithm::Rs384,
        RsaAlgorithm::Rs512,
        RsaAlgorithm::Ps256,
        RsaAlgorithm::Ps384,
        RsaAlgorithm::Ps512,
    ];

    /// The JOSE `alg` name, e.g. `PS256`.
    pub fn name(self) -> &'static str {
        match self {
            RsaAlgorithm::Rs256 => "RS256",
            RsaAlgorithm::Rs384 => "RS384",
            RsaAlgorithm::Rs512 => "RS512",
            RsaAlgorithm::Ps256 => "PS256",
            RsaAlgorithm::Ps384 => "PS384",
            RsaAlgorithm::Ps512 => "PS512",
        }
    }

    pub fn from_name(name: &str) -> Option<RsaAlgorithm> {
        RsaAlgorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    fn encoding(self) -> &'static dyn RsaEncoding {
        match self {
            RsaAlgorithm::Rs256 => &RSA_PKCS1_SHA256,
            RsaAlgorithm::Rs384 => &RSA_PKCS1_SHA384,
            RsaAlgorithm::Rs512 => &RSA_PKCS1_SHA512,
            RsaAlgorithm::Ps256 => &RSA_PSS_SHA256,
            RsaAlgorithm::Ps384 => &RSA_PSS_SHA384,
            RsaAlgorithm::Ps512 => &RSA_PSS_SHA512,
        }
    }
}

impl std::fmt::Display for RsaAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One RSA key pair with its `kid`. Cheap to clone.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    inner: Arc<KeyMaterial>,
}

struct KeyMaterial {
    backend: Backend,
    pkcs8_pem: String,
    jwk: Value,
    spki_der: Vec<u8>,
}

enum Backend {
    /// 2048 bits and more: aws-lc-rs, fast.
    AwsLc(KeyPair),
    /// Under 2048 bits, which aws-lc-rs refuses to sign with.
    Small(Box<rsa::RsaPrivateKey>),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

static SIGNATURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many RSA signatures this process has made with full-size keys (the aws-lc backend):
/// the floor of a run's cost, which benches compare its CPU time with.
pub fn signatures_made() -> u64 {
    SIGNATURES.load(std::sync::atomic::Ordering::Relaxed)
}

/// Starts the crypto library's one-time set-up of its random generator on a thread of its
/// own. Signing needs the generator (for blinding). Unless aws-lc is built without it, as
/// this workspace builds it (`.cargo/config.toml`), the set-up collects CPU-jitter entropy
/// for about 20 ms here; started at once, it runs while a program loads its input or starts
/// its targets, instead of holding up the first signature.
pub fn prepare_random_generator() {
    std::thread::spawn(|| {
        let mut byte = [0u8; 1];
        let _ = aws_lc_rs::rand::fill(&mut byte);
    });
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
        match KeyPair::from_pkcs8(block.contents()) {
            Ok(pair) => Self::from_pair(kid, pair),
            Err(aws_lc_rs::error::KeyRejected { .. }) => {
                let small = rsa::RsaPrivateKey::from_pkcs8_der(block.contents())
                    .map_err(|e| unreadable(e.to_string()))?;
                Self::from_small(kid.clone(), small, pem_text)
                    .map_err(|e| unreadable(e.to_string()))
            }
        }
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
        let jwk = rsa_jwk(&kid, &components.n, &components.e);
        Ok(Self {
            kid,
            inner: Arc::new(KeyMaterial {
                backend: Backend::AwsLc(pair),
                pkcs8_pem,
                jwk,
                spki_der: spki.as_ref().to_vec(),
            }),
        })
    }

    fn from_small(
        kid: String,
        key: rsa::RsaPrivateKey,
        pem_text: &str,
    ) -> Result<Self, rsa::pkcs8::spki::Error> {
        use rsa::traits::PublicKeyParts;
        let public = key.to_public_key();
        let spki_der = public.to_public_key_der()?.as_bytes().to_vec();
        let jwk = rsa_jwk(&kid, &public.n().to_bytes_be(), &public.e().to_bytes_be());
        Ok(Self {
            kid,
            inner: Arc::new(KeyMaterial {
                backend: Backend::Small(Box::new(key)),
                pkcs8_pem: pem_text.to_owned(),
                jwk,
                spki_der,
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

    /// The public key as SubjectPublicKeyInfo PEM as `openssl rsa -pubout` writes it and a
    /// `.pem` file holds it: `\n` line ends, 64-character lines, a final newline.
    pub fn public_pem(&self) -> String {
        pem_lf("PUBLIC KEY", &self.inner.spki_der)
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER (the BIT STRING inside the SPKI).
    pub fn public_pkcs1_der(&self) -> Vec<u8> {
        pkcs1_of_spki(&self.inner.spki_der).unwrap_or_default()
    }

    /// The public key as PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`), as
    /// `openssl rsa -RSAPublicKey_out` writes it.
    pub fn public_pkcs1_pem(&self) -> String {
        pem_lf("RSA PUBLIC KEY", &self.public_pkcs1_der())
    }

    /// The modulus, big-endian without leading zero bytes (the JWK's `n`, decoded).
    pub fn modulus(&self) -> Vec<u8> {
        self.inner.jwk["n"]
            .as_str()
            .and_then(|n| URL_SAFE_NO_PAD.decode(n).ok())
            .unwrap_or_default()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.sign(RsaAlgorithm::Rs256, message)
    }

    /// A signature of `message` under `algorithm`.
    pub fn sign(&self, algorithm: RsaAlgorithm, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.inner.backend {
            Backend::AwsLc(pair) => {
                SIGNATURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    algorithm.encoding(),
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(|_| KeyError::Signing)?;
                Ok(signature)
            }
            Backend::Small(key) if algorithm == RsaAlgorithm::Rs256 => {
                use rsa::signature::{SignatureEncoding, Signer};
                let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new((**key).clone());
                let signature = signer.try_sign(message).map_err(|_| KeyError::Signing)?;
                Ok(signature.to_vec())
            }
            Backend::Small(_) => Err(KeyError::SmallKeyAlgorithm {
                kid: self.kid.clone(),
                algorithm,
            }),
        }
    }
}

fn rsa_jwk(kid: &str, modulus: &[u8], exponent: &[u8]) -> Value {
    json!({
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": URL_SAFE_NO_PAD.encode(strip_leading_zeros(modulus)),
        "e": URL_SAFE_NO_PAD.encode(strip_leading_zeros(exponent)),
    })
}

fn pem_lf(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der.to_vec()), config)
}

/// The `RSAPublicKey` inside a SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier,
/// BIT STRING { 0 unused bits, RSAPublicKey } }.
fn pkcs1_of_spki(spki: &[u8]) -> Option<Vec<u8>> {
    let (tag, outer, _) = der_element(spki)?;
    if tag != 0x30 {
        return None;
    }
    let (_, _, after_algorithm) = der_element(outer)?;
    let (tag, bits, _) = der_element(after_algorithm)?;
    match (tag, bits.split_first()) {
        (0x03, Some((0, key))) => Some(key.to_vec()),
        _ => None,
    }
}

/// One DER element: its tag, its content and what follows it.
fn der_element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    &bytes[first..]
}

/// The keys an issuer knows: the one it signs with, the next one for rotation, a rogue key it
/// never publishes (for forged signatures) and a 1024-bit key it publishes only on request.
#[derive(Clone, Debug)]
pub struct KeySet {
    pub primary: SigningKey,
    pub next: SigningKey,
    pub rogue: SigningKey,
    pub small: SigningKey,
}

fn read_embedded(kid: &str, pem_text: &str) -> SigningKey {
    SigningKey::from_pkcs8_pem(kid, pem_text).expect("embedded test keys are valid PKCS#8")
}

static ROGUE: LazyLock<SigningKey> =
    LazyLock::new(|| read_embedded(ROGUE_KID, include_str!("../keys/rogue.pem")));
static SMALL: LazyLock<SigningKey> =
    LazyLock::new(|| read_embedded(SMALL_KID, include_str!("../keys/small.pem")));

/// Each provider's own primary and next keys (same `kid`s, different key material), so a
/// token signed by one provider's key cannot verify under another's (cross-issuer key
/// confusion). GitHub's are the default set.
static PROVIDER_KEYS: LazyLock<[(Provider, SigningKey, SigningKey); 4]> = LazyLock::new(|| {
    let set = |provider, primary: &str, next: &str| {
        (
            provider,
            read_embedded(PRIMARY_KID, primary),
            read_embedded(NEXT_KID, next),
        )
    };
    [
        set(
            Provider::Github,
            include_str!("../keys/primary.pem"),
            include_str!("../keys/next.pem"),
        ),
        set(
            Provider::Gitlab,
            include_str!("../keys/gitlab-primary.pem"),
            include_str!("../keys/gitlab-next.pem"),
        ),
        set(
            Provider::Google,
            include_str!("../keys/google-primary.pem"),
            include_str!("../keys/google-next.pem"),
        ),
        set(
            Provider::ActiveState,
            include_str!("../keys/activestate-primary.pem"),
            include_str!("../keys/activestate-next.pem"),
        ),
    ]
});

impl KeySet {
    /// The embedded test keys (parsed once per process; GitHub's set). Public knowledge:
    /// test use only.
    pub fn embedded() -> KeySet {
        KeySet::embedded_for(Provider::Github)
    }

    /// The embedded keys of one provider: its own primary and next keys; the rogue and small
    /// keys are shared.
    pub fn embedded_for(provider: Provider) -> KeySet {
        let (_, primary, next) = PROVIDER_KEYS
            .iter()
            .find(|(p, ..)| *p == provider)
            .expect("every provider has embedded keys");
        KeySet {
            primary: primary.clone(),
            next: next.clone(),
            rogue: ROGUE.clone(),
            small: SMALL.clone(),
        }
    }

    /// Newly generated primary, next and rogue keys with the same fixed `kid`s (the small
    /// key stays the embedded one: aws-lc-rs cannot generate keys that small).
    pub fn fresh() -> Result<KeySet, KeyError> {
        Ok(KeySet {
            primary: SigningKey::generate(PRIMARY_KID)?,
            next: SigningKey::generate(NEXT_KID)?,
            rogue: SigningKey::generate(ROGUE_KID)?,
            small: SMALL.clone(),
        })
    }

    pub fn all(&self) -> [&SigningKey; 4] {
        [&self.primary, &self.next, &self.rogue, &self.small]
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
        assert_eq!(kids, [PRIMARY_KID, NEXT_KID, ROGUE_KID, SMALL_KID]);
        assert_ne!(keys.primary.jwk()["n"], keys.next.jwk()["n"]);
        assert_ne!(keys.primary.jwk()["n"], keys.rogue.jwk()["n"]);
        assert_eq!(keys.primary.jwk()["e"], "AQAB");
    }

    #[test]
    fn each_provider_signs_with_its_own_keys_under_the_same_kids() {
        let moduli: std::collections::BTreeSet<String> = Provider::ALL
            .into_iter()
            .flat_map(|p| {
                let keys = KeySet::embedded_for(p);
                assert_eq!(keys.primary.kid(), PRIMARY_KID);
                [
                    keys.primary.jwk()["n"].to_string(),
                    keys.next.jwk()["n"].to_string(),
                ]
            })
            .collect();
        assert_eq!(moduli.len(), 8);
        assert_eq!(
            KeySet::embedded().primary.jwk(),
            KeySet::embedded_for(Provider::Github).primary.jwk()
        );
    }

    #[test]
    fn the_small_key_is_1024_bits_and_signs_rs256_only() {
        let small = KeySet::embedded().small;
        let modulus = URL_SAFE_NO_PAD
            .decode(small.jwk()["n"].as_str().unwrap())
            .unwrap();
        assert_eq!(modulus.len() * 8, 1024);
        assert_eq!(small.sign_rs256(b"m").unwrap().len(), 128);
        assert!(matches!(
            small.sign(RsaAlgorithm::Ps256, b"m"),
            Err(KeyError::SmallKeyAlgorithm { .. })
        ));
    }

    #[test]
    fn every_algorithm_signs_with_a_full_size_key() {
        let key = KeySet::embedded().primary;
        for algorithm in RsaAlgorithm::ALL {
            assert_eq!(key.sign(algorithm, b"m").unwrap().len(), 256, "{algorithm}");
            assert_eq!(RsaAlgorithm::from_name(algorithm.name()), Some(algorithm));
        }
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
