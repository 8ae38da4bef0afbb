//! The defects a forged token can carry. Each is a named value (`expired`,
//! `missing-claim:jti`, ...) so scenario files and the CLI can name them.

use std::fmt;
use std::str::FromStr;

use crate::keys::RsaAlgorithm;
use crate::profile::Provider;

/// How the HS256 attack turns the published RSA public key into an HMAC secret.
///
/// The attack (algorithm confusion) works on a verifier that lets the token's `alg` pick
/// the algorithm and hands the key it holds for the issuer to it unchanged: with `HS256`
/// the key's bytes become the HMAC secret. The token verifies only if it was keyed with
/// exactly those bytes, so each form is a way real verifiers hold a public key:
/// node-jsonwebtoken before 4.2.2 (CVE-2015-9235), PyJWT before 1.5.1 (CVE-2017-11424),
/// jwt-simple (CVE-2016-10555) and php-jwt before 6 were given the PEM text read from a
/// file or a setting; Java verifiers hand `PublicKey.getEncoded()` (SPKI DER) to an HMAC;
/// Go and .NET code holds PKCS#1 (`x509.MarshalPKCS1PublicKey`,
/// `RSA.ExportRSAPublicKey`); JWKS-based verifiers hold the JWK, serialized again for the
/// HMAC (`JSON.stringify`, Python's `json.dumps`), or its decoded modulus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PublicKeyForm {
    /// SubjectPublicKeyInfo PEM as a `.pem` file holds it: `\n` line ends, 64-character
    /// lines and the final newline (`openssl rsa -pubout`; `fs.readFileSync`,
    /// `open(...).read()`).
    Pem,
    /// The same PEM without the final newline (a setting or environment variable that was
    /// trimmed).
    PemNoNewline,
    /// The same PEM with `\r\n` line ends (a file saved on Windows).
    PemCrlf,
    /// PKCS#1 PEM, `BEGIN RSA PUBLIC KEY` (`openssl rsa -RSAPublicKey_out`, Ruby's
    /// `OpenSSL::PKey::RSA#public_key.to_pem` of old).
    Pkcs1Pem,
    /// SubjectPublicKeyInfo DER (Java's `PublicKey.getEncoded()`).
    Der,
    /// PKCS#1 `RSAPublicKey` DER (Go's `x509.MarshalPKCS1PublicKey`, .NET's
    /// `ExportRSAPublicKey`).
    Pkcs1Der,
    /// The published JWK as the JWKS serves it: compact JSON, members in the served order
    /// (`JSON.stringify` of the parsed key).
    Jwk,
    /// The published JWK as Python's `json.dumps` writes it back: `", "` and `": "`
    /// separators.
    JwkSpaced,
    /// The modulus bytes, big-endian (a verifier keyed with the JWK's decoded `n`).
    Modulus,
}

impl PublicKeyForm {
    pub const ALL: [PublicKeyForm; 9] = [
        PublicKeyForm::Pem,
        PublicKeyForm::PemNoNewline,
        PublicKeyForm::PemCrlf,
        PublicKeyForm::Pkcs1Pem,
        PublicKeyForm::Der,
        PublicKeyForm::Pkcs1Der,
        PublicKeyForm::Jwk,
        PublicKeyForm::JwkSpaced,
        PublicKeyForm::Modulus,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PublicKeyForm::Pem => "pem",
            PublicKeyForm::PemNoNewline => "pem-no-newline",
            PublicKeyForm::PemCrlf => "pem-crlf",
            PublicKeyForm::Pkcs1Pem => "pkcs1-pem",
            PublicKeyForm::Der => "der",
            PublicKeyForm::Pkcs1Der => "pkcs1-der",
            PublicKeyForm::Jwk => "jwk",
            PublicKeyForm::JwkSpaced => "jwk-spaced",
            PublicKeyForm::Modulus => "modulus",
        }
    }
}

/// How a token is broken so that it is no longer a well-formed compact JWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Malformation {
    TwoSegments,
    BadBase64,
    HeaderNotJson,
    PayloadNotObject,
    /// A valid token with a space before it and a newline after it (R-PAYLOAD-4: not trimmed).
    WhitespaceAround,
}

impl Malformation {
    pub const ALL: [Malformation; 5] = [
        Malformation::TwoSegments,
        Malformation::BadBase64,
        Malformation::HeaderNotJson,
        Malformation::PayloadNotObject,
        Malformation::WhitespaceAround,
    ];

    fn name(self) -> &'static str {
        match self {
            Malformation::TwoSegments => "two-segments",
            Malformation::BadBase64 => "bad-base64",
            Malformation::HeaderNotJson => "header-not-json",
            Malformation::PayloadNotObject => "payload-not-object",
            Malformation::WhitespaceAround => "whitespace-around",
        }
    }
}

/// A token defect. Defects compose; two that both decide how the token is signed (or both
/// break its envelope) conflict, and forging reports the pair.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
///
/// Each forged attack models a real verifier bug; its doc says which, and the token is
/// exactly what that bug accepts (`docs/verdict-truth.md` has the table).
pub enum Defect {
    Expired,
    NotYetValid,
    IssuedInFuture,
    /// A verifier that does not check the signature at all (decode without verify, as
    /// `jwt.decode(..., options={"verify_signature": False})` or `jwt-decode` used for
    /// authorisation) accepts any signature; the rogue key's is a well-formed one.
    BadSignature,
    /// Signed with another provider's published primary key (default GitLab's, GitHub's for
    /// GitLab tokens) under the same `kid`: cross-issuer key confusion.
    OtherIssuerKey(Option<Provider>),
    /// `alg` set to another RSA algorithm and signed with the issuer's own key under it.
    OtherRsaAlg(RsaAlgorithm),
    CorruptedSignature,
    StrippedSignature,
    /// The real signature cut to its first half (still valid base64url).
    TruncatedSignature,
    WrongIssuer,
    WrongAudience,
    AudienceArray,
    MissingClaim(String),
    NullClaim(String),
    WrongTypeClaim(String),
    RenamedRepository,
    OwnerIdDrift,
    UnknownKid,
    NoKid,
    /// `alg` set to this spelling of "none" (default `none`), with an empty signature:
    /// the 2015 `alg: none` bypass of node-jsonwebtoken, pyjwt and others; the other
    /// spellings model verifiers that block the exact string `none` but look algorithms up
    /// ignoring case (`None`, `NONE`, `nOnE`).
    AlgNone(String),
    /// `alg` HS256, keyed with the published RSA public key in the given form: algorithm
    /// confusion (see [`PublicKeyForm`]).
    Hs256PublicKey(PublicKeyForm),
    /// `alg` HS256, signed with an empty HMAC secret: a verifier whose key lookup comes back
    /// empty (a `kid` naming `/dev/null`, a missing setting read as `""`) and that HMACs
    /// with what it got.
    Hs256EmptyKey,
    /// `jku` names a key set the attacker serves, and the rogue key signs: a verifier that
    /// fetches the keys the token points at (RFC 7515 §4.1.2) instead of the issuer's.
    JkuInjection,
    /// `jwk` embeds the rogue public key, which signs: a verifier that trusts the key the
    /// token carries (node-jose before 0.11.0, CVE-2018-0114).
    JwkInjection,
    /// `x5u` names a certificate URL the attacker serves, the rogue key signs: a verifier
    /// that fetches the certificate the token points at.
    X5uInjection,
    /// `x5c` holds a self-signed certificate of the rogue key, which signs the token: a
    /// verifier that takes the embedded certificate's key without validating its chain.
    X5cInjection,
    /// `alg` ES256 under the `kid` of a published P-256 key ([`crate::keys::EC_KID`]), and a
    /// signature of 64 zero bytes (r = s = 0): Java 15–18's ECDSA accepted it for every
    /// message and key ("psychic signatures", CVE-2022-21449). The scenario must publish
    /// that key ([`crate::keys::ec_jwk`]) for a vulnerable verifier to find it.
    PsychicSignature,
    CritHeader,
    Malformed(Malformation),
    Oversized,
    /// The claim appears twice in the payload text: first a decoy value, then the real one.
    DuplicateClaim(String),
}

/// What a defect may change compared with the same token without it: claims and header
/// parameters by name. The signature and the compact text always may. A token and its
/// positive twin must differ in nothing else (besides their own `jti`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touches {
    pub claims: Vec<String>,
    pub header: Vec<String>,
}

impl Defect {
    /// Whether the token is signed, under its own `alg` and `kid`, by something other than
    /// the key published under that `kid` (or its signature is damaged): a verifier that
    /// checks the signature with the published key refuses it.
    pub fn breaks_signature(&self) -> bool {
        matches!(
            self,
            Defect::BadSignature
                | Defect::OtherIssuerKey(_)
                | Defect::CorruptedSignature
                | Defect::StrippedSignature
                | Defect::TruncatedSignature
                | Defect::JkuInjection
                | Defect::JwkInjection
                | Defect::X5uInjection
                | Defect::X5cInjection
        )
    }

    pub fn touches(&self) -> Touches {
        let names = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        let claims = |list: &[&str]| Touches {
            claims: names(list),
            header: Vec::new(),
        };
        let header = |list: &[&str]| Touches {
            claims: Vec::new(),
            header: names(list),
        };
        match self {
            Defect::Expired => claims(&["exp", "iat", "nbf"]),
            Defect::NotYetValid => claims(&["nbf"]),
            Defect::IssuedInFuture => claims(&["iat", "exp"]),
            Defect::WrongIssuer => claims(&["iss"]),
            Defect::WrongAudience | Defect::AudienceArray => claims(&["aud"]),
            Defect::MissingClaim(name) | Defect::NullClaim(name) | Defect::WrongTypeClaim(name) => {
                Touches {
                    claims: vec![name.clone()],
                    header: Vec::new(),
                }
            }
            Defect::RenamedRepository => claims(&[
                "repository",
                "sub",
                "workflow_ref",
                "job_workflow_ref",
                "project_path",
                "ci_config_ref_uri",
                "project",
            ]),
            Defect::OwnerIdDrift => claims(&["repository_owner_id"]),
            Defect::Oversized => claims(&["mintcheck_padding"]),
            Defect::UnknownKid | Defect::NoKid => header(&["kid"]),
            Defect::AlgNone(_)
            | Defect::Hs256PublicKey(_)
            | Defect::Hs256EmptyKey
            | Defect::OtherRsaAlg(_) => header(&["alg"]),
            Defect::JkuInjection => header(&["jku"]),
            Defect::JwkInjection => header(&["jwk"]),
            Defect::X5uInjection => header(&["x5u"]),
            Defect::X5cInjection => header(&["x5c"]),
            Defect::PsychicSignature => header(&["alg", "kid"]),
            Defect::CritHeader => header(&["crit", "mintcheck-critical"]),
            Defect::BadSignature
            | Defect::OtherIssuerKey(_)
            | Defect::CorruptedSignature
            | Defect::StrippedSignature
            | Defect::TruncatedSignature
            | Defect::Malformed(_)
            | Defect::DuplicateClaim(_) => Touches::default(),
        }
    }
}

/// The size an `oversized` token reaches: over 1 MiB, past any sane body limit.
pub const OVERSIZED_TOKEN_BYTES: usize = 1024 * 1024 + 1;

/// The issuer a `wrong-issuer` token names: trusted by no registry.
pub const WRONG_ISSUER: &str = "https://issuer.example.invalid";

/// Every defect name with its argument syntax and one line of explanation, for `--help`.
pub const CATALOGUE: &[(&str, &str)] = &[
    (
        "expired",
        "exp one hour ago (iat and nbf before it): far outside any leeway",
    ),
    ("not-yet-valid", "nbf one hour ahead"),
    ("issued-in-future", "iat one hour ahead (exp after it)"),
    (
        "bad-signature",
        "signed by the rogue key under the published kid",
    ),
    (
        "other-issuer-key[:PROVIDER]",
        "signed with another provider's published key under the same kid (default gitlab; github for GitLab tokens)",
    ),
    (
        "other-rsa-alg[:ALG]",
        "alg RS384 | RS512 | PS256 | PS384 | PS512 (default PS256), signed with the issuer's key under it",
    ),
    (
        "corrupted-signature",
        "one bit of a valid signature flipped",
    ),
    (
        "stripped-signature",
        "signature removed, the trailing '.' kept",
    ),
    (
        "truncated-signature",
        "a valid signature cut to its first half",
    ),
    ("wrong-issuer", "iss is https://issuer.example.invalid"),
    (
        "wrong-audience",
        "aud names another registry (pypi <-> testpypi)",
    ),
    (
        "audience-array",
        "aud is a one-element array holding the right audience",
    ),
    ("missing-claim:CLAIM", "CLAIM removed"),
    ("null-claim:CLAIM", "CLAIM set to null"),
    (
        "wrong-type-claim:CLAIM",
        "CLAIM given a JSON type no lax parser coerces",
    ),
    (
        "renamed-repository",
        "repository (GitLab: project path; ActiveState: project) renamed, derived claims follow",
    ),
    (
        "owner-id-drift",
        "GitHub repository_owner_id changed (owner account re-created)",
    ),
    (
        "unknown-kid",
        "kid unknown to the issuer, signed by the rogue key",
    ),
    ("no-kid", "kid header removed"),
    (
        "alg-none[:SPELLING]",
        "alg none (or e.g. None, NONE), empty signature",
    ),
    (
        "hs256-public-key[:FORM]",
        "HS256 keyed with the published public key; FORM pem (SPKI, \\n, final newline) | pem-no-newline | pem-crlf | pkcs1-pem | der | pkcs1-der | jwk (as served) | jwk-spaced (Python json.dumps) | modulus",
    ),
    ("hs256-empty-key", "HS256 keyed with an empty secret"),
    (
        "jku-injection",
        "jku header points at an attacker JWKS (served and logged by the mock); rogue signature",
    ),
    (
        "jwk-injection",
        "jwk header embeds the rogue public key; rogue signature",
    ),
    (
        "x5u-injection",
        "x5u header points at an attacker certificate URL; rogue signature",
    ),
    (
        "x5c-injection",
        "x5c header holds a self-signed certificate of the rogue key; rogue signature",
    ),
    (
        "psychic-signature",
        "alg ES256 under the kid mintcheck-ec, signature r = s = 0 (CVE-2022-21449); publish the EC key with add_jwk",
    ),
    (
        "crit-header",
        "crit names an extension no verifier understands",
    ),
    (
        "malformed:KIND",
        "not a compact JWS; KIND two-segments | bad-base64 | header-not-json | payload-not-object | whitespace-around",
    ),
    (
        "oversized",
        "a padding claim makes the token larger than 1 MiB",
    ),
    (
        "duplicate-claim[:CLAIM]",
        "CLAIM (default aud) twice in the payload: a decoy first, the real value last",
    ),
];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DefectParseError {
    #[error("unknown defect {0:?}; run `mintcheck token --help` for the list")]
    Unknown(String),
    #[error("defect {name:?} needs an argument: {name}:{what}")]
    MissingArgument { name: String, what: &'static str },
    #[error("defect {name:?} takes no argument (got {argument:?})")]
    UnexpectedArgument { name: String, argument: String },
    #[error("defect {name:?}: {argument:?} is not one of {choices}")]
    BadChoice {
        name: String,
        argument: String,
        choices: String,
    },
}

impl FromStr for Defect {
    type Err = DefectParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (name, argument) = match text.split_once(':') {
            Some((name, argument)) => (name, Some(argument)),
            None => (text, None),
        };
        let no_argument = |defect: Defect| match argument {
            None => Ok(defect),
            Some(argument) => Err(DefectParseError::UnexpectedArgument {
                name: name.to_owned(),
                argument: argument.to_owned(),
            }),
        };
        let claim = |what: &'static str| match argument {
            Some(argument) if !argument.is_empty() => Ok(argument.to_owned()),
            _ => Err(DefectParseError::MissingArgument {
                name: name.to_owned(),
                what,
            }),
        };
        let choice = |names: Vec<&'static str>| -> Result<usize, DefectParseError> {
            let argument = argument.unwrap_or_default();
            names
                .iter()
                .position(|&n| n == argument)
                .ok_or_else(|| DefectParseError::BadChoice {
                    name: name.to_owned(),
                    argument: argument.to_owned(),
                    choices: names.join(", "),
                })
        };
        match name {
            "expired" => no_argument(Defect::Expired),
            "not-yet-valid" => no_argument(Defect::NotYetValid),
            "issued-in-future" => no_argument(Defect::IssuedInFuture),
            "bad-signature" => no_argument(Defect::BadSignature),
            "other-issuer-key" => match argument {
                None => Ok(Defect::OtherIssuerKey(None)),
                Some(_) => {
                    let index = choice(Provider::ALL.map(Provider::name).to_vec())?;
                    Ok(Defect::OtherIssuerKey(Some(Provider::ALL[index])))
                }
            },
            "other-rsa-alg" => match argument {
                None => Ok(Defect::OtherRsaAlg(RsaAlgorithm::Ps256)),
                Some(_) => {
                    let others = &RsaAlgorithm::ALL[1..];
                    let index = choice(others.iter().map(|a| a.name()).collect())?;
                    Ok(Defect::OtherRsaAlg(others[index]))
                }
            },
            "corrupted-signature" => no_argument(Defect::CorruptedSignature),
            "stripped-signature" => no_argument(Defect::StrippedSignature),
            "truncated-signature" => no_argument(Defect::TruncatedSignature),
            "wrong-issuer" => no_argument(Defect::WrongIssuer),
            "wrong-audience" => no_argument(Defect::WrongAudience),
            "audience-array" => no_argument(Defect::AudienceArray),
            "missing-claim" => Ok(Defect::MissingClaim(claim("CLAIM")?)),
            "null-claim" => Ok(Defect::NullClaim(claim("CLAIM")?)),
            "wrong-type-claim" => Ok(Defect::WrongTypeClaim(claim("CLAIM")?)),
            "renamed-repository" => no_argument(Defect::RenamedRepository),
            "owner-id-drift" => no_argument(Defect::OwnerIdDrift),
            "unknown-kid" => no_argument(Defect::UnknownKid),
            "no-kid" => no_argument(Defect::NoKid),
            "alg-none" => Ok(Defect::AlgNone(argument.unwrap_or("none").to_owned())),
            "hs256-public-key" => match argument {
                None => Ok(Defect::Hs256PublicKey(PublicKeyForm::Pem)),
                Some(_) => {
                    let index = choice(PublicKeyForm::ALL.map(PublicKeyForm::name).to_vec())?;
                    Ok(Defect::Hs256PublicKey(PublicKeyForm::ALL[index]))
                }
            },
            "hs256-empty-key" => no_argument(Defect::Hs256EmptyKey),
            "jku-injection" => no_argument(Defect::JkuInjection),
            "jwk-injection" => no_argument(Defect::JwkInjection),
            "x5u-injection" => no_argument(Defect::X5uInjection),
            "x5c-injection" => no_argument(Defect::X5cInjection),
            "psychic-signature" => no_argument(Defect::PsychicSignature),
            "crit-header" => no_argument(Defect::CritHeader),
            "malformed" => {
                claim("KIND")?;
                let index = choice(Malformation::ALL.map(Malformation::name).to_vec())?;
                Ok(Defect::Malformed(Malformation::ALL[index]))
            }
            "oversized" => no_argument(Defect::Oversized),
            "duplicate-claim" => Ok(Defect::DuplicateClaim(argument.unwrap_or("aud").to_owned())),
            _ => Err(DefectParseError::Unknown(text.to_owned())),
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Defect::Expired => f.write_str("expired"),
            Defect::NotYetValid => f.write_str("not-yet-valid"),
            Defect::IssuedInFuture => f.write_str("issued-in-future"),
            Defect::BadSignature => f.write_str("bad-signature"),
            Defect::OtherIssuerKey(None) => f.write_str("other-issuer-key"),
            Defect::OtherIssuerKey(Some(provider)) => write!(f, "other-issuer-key:{provider}"),
            Defect::OtherRsaAlg(RsaAlgorithm::Ps256) => f.write_str("other-rsa-alg"),
            Defect::OtherRsaAlg(algorithm) => write!(f, "other-rsa-alg:{algorithm}"),
            Defect::CorruptedSignature => f.write_str("corrupted-signature"),
            Defect::StrippedSignature => f.write_str("stripped-signature"),
            Defect::TruncatedSignature => f.write_str("truncated-signature"),
            Defect::WrongIssuer => f.write_str("wrong-issuer"),
            Defect::WrongAudience => f.write_str("wrong-audience"),
            Defect::AudienceArray => f.write_str("audience-array"),
            Defect::MissingClaim(claim) => write!(f, "missing-claim:{claim}"),
            Defect::NullClaim(claim) => write!(f, "null-claim:{claim}"),
            Defect::WrongTypeClaim(claim) => write!(f, "wrong-type-claim:{claim}"),
            Defect::RenamedRepository => f.write_str("renamed-repository"),
            Defect::OwnerIdDrift => f.write_str("owner-id-drift"),
            Defect::UnknownKid => f.write_str("unknown-kid"),
            Defect::NoKid => f.write_str("no-kid"),
            Defect::AlgNone(spelling) if spelling == "none" => f.write_str("alg-none"),
            Defect::AlgNone(spelling) => write!(f, "alg-none:{spelling}"),
            Defect::Hs256PublicKey(PublicKeyForm::Pem) => f.write_str("hs256-public-key"),
            Defect::Hs256PublicKey(form) => write!(f, "hs256-public-key:{}", form.name()),
            Defect::Hs256EmptyKey => f.write_str("hs256-empty-key"),
            Defect::JkuInjection => f.write_str("jku-injection"),
            Defect::JwkInjection => f.write_str("jwk-injection"),
            Defect::X5uInjection => f.write_str("x5u-injection"),
            Defect::X5cInjection => f.write_str("x5c-injection"),
            Defect::PsychicSignature => f.write_str("psychic-signature"),
            Defect::CritHeader => f.write_str("crit-header"),
            Defect::Malformed(kind) => write!(f, "malformed:{}", kind.name()),
            Defect::Oversized => f.write_str("oversized"),
            Defect::DuplicateClaim(claim) if claim == "aud" => f.write_str("duplicate-claim"),
            Defect::DuplicateClaim(claim) => write!(f, "duplicate-claim:{claim}"),
        }
    }
}

impl serde::Serialize for Defect {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Defect {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One example of every defect (with default arguments), in catalogue order.
pub fn every_defect() -> Vec<Defect> {
    let mut all = vec![
        Defect::Expired,
        Defect::NotYetValid,
        Defect::IssuedInFuture,
        Defect::BadSignature,
        Defect::OtherIssuerKey(None),
        Defect::OtherRsaAlg(RsaAlgorithm::Ps256),
        Defect::CorruptedSignature,
        Defect::StrippedSignature,
        Defect::TruncatedSignature,
        Defect::WrongIssuer,
        Defect::WrongAudience,
        Defect::AudienceArray,
        Defect::MissingClaim("jti".into()),
        Defect::NullClaim("repository".into()),
        Defect::WrongTypeClaim("repository_owner_id".into()),
        Defect::RenamedRepository,
        Defect::OwnerIdDrift,
        Defect::UnknownKid,
        Defect::NoKid,
        Defect::AlgNone("none".into()),
    ];
    all.extend(PublicKeyForm::ALL.map(Defect::Hs256PublicKey));
    all.extend([
        Defect::Hs256EmptyKey,
        Defect::JkuInjection,
        Defect::JwkInjection,
        Defect::X5uInjection,
        Defect::X5cInjection,
        Defect::PsychicSignature,
        Defect::CritHeader,
    ]);
    all.extend(Malformation::ALL.map(Defect::Malformed));
    all.extend([Defect::Oversized, Defect::DuplicateClaim("aud".into())]);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defect_round_trips_through_its_name() {
        for defect in every_defect() {
            assert_eq!(
                defect.to_string().parse::<Defect>(),
                Ok(defect.clone()),
                "{defect}"
            );
        }
        for spelled in [
            "alg-none:NoNe",
            "duplicate-claim:repository",
            "missing-claim:sub",
        ] {
            assert_eq!(spelled.parse::<Defect>().unwrap().to_string(), spelled);
        }
    }

    #[test]
    fn every_catalogue_entry_parses() {
        for (syntax, _) in CATALOGUE {
            let name = syntax.split(['[', ':']).next().unwrap();
            let example = match *syntax {
                s if s.contains(":CLAIM") && !s.contains('[') => format!("{name}:sub"),
                s if s.contains(":KIND") => format!("{name}:bad-base64"),
                _ => name.to_owned(),
            };
            example
                .parse::<Defect>()
                .unwrap_or_else(|e| panic!("{syntax}: {e}"));
        }
        assert_eq!(CATALOGUE.len(), 31);
    }

    #[test]
    fn parse_errors_say_what_is_wrong() {
        assert_eq!(
            "expird".parse::<Defect>(),
            Err(DefectParseError::Unknown("expird".into()))
        );
        assert!(matches!(
            "missing-claim".parse::<Defect>(),
            Err(DefectParseError::MissingArgument { .. })
        ));
        assert!(matches!(
            "expired:1".parse::<Defect>(),
            Err(DefectParseError::UnexpectedArgument { .. })
        ));
        let err = "malformed:three-segments".parse::<Defect>().unwrap_err();
        assert!(
            err.to_string().contains("two-segments, bad-base64"),
            "{err}"
        );
    }
}
