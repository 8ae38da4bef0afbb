//! What signs a token: an RSA key under an algorithm, an HMAC secret, fixed bytes or
//! nothing; and the secrets the HS256 attacks key their HMAC with.

use aws_lc_rs::hmac;
use serde_json::Value;

use crate::defect::PublicKeyForm;
use crate::keys::{KeyError, KeySet, RsaAlgorithm, SigningKey};
use crate::profile::Provider;

pub enum Signer {
    Rsa(SigningKey, RsaAlgorithm),
    Hmac(Vec<u8>),
    /// These bytes, whatever the message.
    Fixed(Vec<u8>),
    Unsigned,
}

impl Signer {
    pub fn sign(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Signer::Rsa(key, algorithm) => key.sign(*algorithm, input),
            Signer::Hmac(secret) => {
                let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
                Ok(hmac::sign(&key, input).as_ref().to_vec())
            }
            Signer::Fixed(bytes) => Ok(bytes.clone()),
            Signer::Unsigned => Ok(Vec::new()),
        }
    }
}

/// Another provider's published primary key under RS256: `chosen`, else GitLab's (GitHub's
/// for a GitLab token).
pub fn other_issuer(chosen: Option<Provider>, own: Provider) -> Signer {
    let provider = chosen.unwrap_or(match own {
        Provider::Gitlab => Provider::Github,
        _ => Provider::Gitlab,
    });
    Signer::Rsa(KeySet::embedded_for(provider).primary, RsaAlgorithm::Rs256)
}

/// The bytes a verifier holding `key` in `form` hands its HMAC.
pub fn public_key_as(key: &SigningKey, form: PublicKeyForm) -> Vec<u8> {
    match form {
        PublicKeyForm::Pem => key.public_pem().into_bytes(),
        PublicKeyForm::PemNoNewline => key.public_pem().trim_end().as_bytes().to_vec(),
        PublicKeyForm::PemCrlf => key.public_pem().replace('\n', "\r\n").into_bytes(),
        PublicKeyForm::Pkcs1Pem => key.public_pkcs1_pem().into_bytes(),
        PublicKeyForm::Der => key.public_der().to_vec(),
        PublicKeyForm::Pkcs1Der => key.public_pkcs1_der(),
        PublicKeyForm::Jwk => key.jwk().to_string().into_bytes(),
        PublicKeyForm::JwkSpaced => python_dumps(key.jwk()).into_bytes(),
        PublicKeyForm::Modulus => key.modulus(),
    }
}

/// A flat JSON object of strings as Python's `json.dumps` writes it by default: `", "`
/// between members, `": "` after names.
fn python_dumps(object: &Value) -> String {
    let members: Vec<String> = object
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| format!("{}: {value}", Value::from(name.as_str())))
        .collect();
    format!("{{{}}}", members.join(", "))
}
