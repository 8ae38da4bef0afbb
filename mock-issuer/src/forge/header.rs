//! Header parameters the defects set that take more than a line: the attacker's URLs, an
//! unknown `kid`, a self-signed certificate chain.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::Entropy;
use crate::keys::SigningKey;

/// Where `jku` injection points, under the attacker base: the mock serves (and logs) the
/// rogue key set there.
pub const ATTACKER_JWKS: &str = "/attacker/jwks.json";
/// Where `x5u` injection points, under the attacker base: the mock serves the rogue
/// certificate there.
pub const ATTACKER_CERTIFICATE: &str = "/attacker/cert.pem";

/// A `kid` no issuer publishes, random (or from the token's seed).
pub fn unknown_kid(entropy: &mut Entropy) -> String {
    let suffix = &entropy.uuid().simple().to_string()[..8];
    format!("mintcheck-unknown-{suffix}")
}

/// An `x5c` value: one self-signed certificate of `key`, standard (not URL-safe) base64 of
/// its DER.
pub fn self_signed_chain(key: &SigningKey) -> Result<Value, rcgen::Error> {
    let pair = rcgen::KeyPair::from_pem(key.private_pem())?;
    let mut params = rcgen::CertificateParams::new(vec![format!("{}.example.invalid", key.kid())])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, key.kid());
    let certificate = params.self_signed(&pair)?;
    Ok(json!([STANDARD.encode(certificate.der())]))
}
