//! The defects a forged token can carry, declared once in the table below: each is a named
//! value (`expired`, `missing-claim:jti`, ...) so scenario files and the CLI can name it,
//! and its entry says everything else about it (`defect/table.rs` shows the entry's shape).
//! Adding a defect is adding an entry.

pub(crate) mod argument;
mod table;

pub use argument::{Argument, Malformation, PublicKeyForm};

use argument::{ClaimName, NoneSpelling, OtherProvider, OtherRsaAlgorithm, RepeatedClaim};
use serde_json::{Value, json};

use crate::forge::{claims, envelope, header, signer};
use crate::keys::RsaAlgorithm;
use crate::profile::Provider;
use table::defects;

/// The size an `oversized` token reaches: over 1 MiB, past any sane body limit.
pub const OVERSIZED_TOKEN_BYTES: usize = 1024 * 1024 + 1;

/// The issuer a `wrong-issuer` token names: trusted by no registry.
pub const WRONG_ISSUER: &str = "https://issuer.example.invalid";

/// What a defect may change compared with the same token without it: claims and header
/// parameters by name. The signature and the compact text always may. A token and its
/// positive twin must differ in nothing else (besides their own `jti`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touches {
    pub claims: Vec<String>,
    pub header: Vec<String>,
}

impl Touches {
    pub fn claims(names: &[&str]) -> Touches {
        Touches {
            claims: names.iter().map(|n| (*n).to_owned()).collect(),
            header: Vec::new(),
        }
    }

    pub fn header(names: &[&str]) -> Touches {
        Touches {
            claims: Vec::new(),
            header: names.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    pub fn nothing() -> Touches {
        Touches::default()
    }
}

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

defects! {
    Expired = "expired" {
        help: "exp one hour ago (iat and nbf before it): far outside any leeway",
        touches: Touches::claims(&["exp", "iat", "nbf"]),
        breaks_signature: false,
        forge: |f| {
            f.set_time("exp", -3600.0);
            f.set_time("iat", -7200.0);
            if f.claims.contains_key("nbf") {
                f.set_time("nbf", -7200.0);
            }
        },
    }
    NotYetValid = "not-yet-valid" {
        help: "nbf one hour ahead",
        touches: Touches::claims(&["nbf"]),
        breaks_signature: false,
        forge: |f| { f.set_time("nbf", 3600.0); },
    }
    IssuedInFuture = "issued-in-future" {
        help: "iat one hour ahead (exp after it)",
        touches: Touches::claims(&["iat", "exp"]),
        breaks_signature: false,
        forge: |f| {
            f.set_time("iat", 3600.0);
            f.set_time("exp", 7200.0);
        },
    }
    /// A verifier that does not check the signature at all (decode without verify, as
    /// `jwt.decode(..., options={"verify_signature": False})` or `jwt-decode` used for
    /// authorisation) accepts any signature; the rogue key's is a well-formed one.
    BadSignature = "bad-signature" {
        help: "signed by the rogue key under the published kid",
        touches: Touches::nothing(),
        breaks_signature: true,
        forge: |f| { f.sign_with(f.rogue())?; },
    }
    /// Signed with another provider's published primary key (default GitLab's, GitHub's for
    /// GitLab tokens) under the same `kid`: cross-issuer key confusion.
    OtherIssuerKey(provider: Option<Provider> as OtherProvider) = "other-issuer-key" {
        help: "signed with another provider's published key under the same kid (default gitlab; github for GitLab tokens): cross-issuer key confusion. Each provider's mock has its own keys",
        touches: Touches::nothing(),
        breaks_signature: true,
        forge: |f| { f.sign_with(signer::other_issuer(*provider, f.provider))?; },
    }
    /// `alg` set to another RSA algorithm and signed with the issuer's own key under it.
    OtherRsaAlg(algorithm: RsaAlgorithm as OtherRsaAlgorithm) = "other-rsa-alg" {
        help: "alg RS384 | RS512 | PS256 | PS384 | PS512 (default PS256), signed with the issuer's own key under it",
        touches: Touches::header(&["alg"]),
        breaks_signature: false,
        forge: |f| {
            f.header.insert("alg".into(), json!(algorithm.name()));
            f.sign_with(signer::Signer::Rsa(f.forger.signing_key().clone(), *algorithm))?;
        },
    }
    CorruptedSignature = "corrupted-signature" {
        help: "one bit of a valid signature flipped",
        touches: Touches::nothing(),
        breaks_signature: true,
        forge: |f| { f.break_envelope(Box::new(envelope::corrupted))?; },
    }
    StrippedSignature = "stripped-signature" {
        help: "signature removed, the trailing '.' kept",
        touches: Touches::nothing(),
        breaks_signature: true,
        forge: |f| { f.break_envelope(Box::new(envelope::stripped))?; },
    }
    /// The real signature cut to its first half (still valid base64url).
    TruncatedSignature = "truncated-signature" {
        help: "a valid signature cut to its first half",
        touches: Touches::nothing(),
        breaks_signature: true,
        forge: |f| { f.break_envelope(Box::new(envelope::truncated))?; },
    }
    WrongIssuer = "wrong-issuer" {
        help: "iss is https://issuer.example.invalid",
        touches: Touches::claims(&["iss"]),
        breaks_signature: false,
        forge: |f| { f.claims.insert("iss".into(), json!(WRONG_ISSUER)); },
    }
    WrongAudience = "wrong-audience" {
        help: "aud names another registry (pypi <-> testpypi)",
        touches: Touches::claims(&["aud"]),
        breaks_signature: false,
        forge: |f| {
            let other = match f.claims.get("aud").and_then(Value::as_str) {
                Some("pypi") => "testpypi",
                _ => "pypi",
            };
            f.claims.insert("aud".into(), json!(other));
        },
    }
    AudienceArray = "audience-array" {
        help: "aud is a one-element array holding the right audience",
        touches: Touches::claims(&["aud"]),
        breaks_signature: false,
        forge: |f| {
            let audience = f.claims.remove("aud").ok_or_else(|| f.absent("aud"))?;
            f.claims.insert("aud".into(), json!([audience]));
        },
    }
    MissingClaim(name: String as ClaimName) = "missing-claim" {
        help: "CLAIM removed",
        touches: Touches::claims(&[name.as_str()]),
        breaks_signature: false,
        forge: |f| { f.claims.remove(name).ok_or_else(|| f.absent(name))?; },
    }
    NullClaim(name: String as ClaimName) = "null-claim" {
        help: "CLAIM set to null",
        touches: Touches::claims(&[name.as_str()]),
        breaks_signature: false,
        forge: |f| { f.claims.insert(name.clone(), Value::Null); },
    }
    WrongTypeClaim(name: String as ClaimName) = "wrong-type-claim" {
        help: "CLAIM given a JSON type no lax parser coerces",
        touches: Touches::claims(&[name.as_str()]),
        breaks_signature: false,
        forge: |f| {
            let retyped = claims::retyped(f.claims.get(name).ok_or_else(|| f.absent(name))?);
            f.claims.insert(name.clone(), retyped);
        },
    }
    RenamedRepository = "renamed-repository" {
        help: "repository (GitLab: project path; ActiveState: project) renamed, derived claims follow",
        touches: Touches::claims(&claims::RENAMED),
        breaks_signature: false,
        forge: |f| {
            claims::rename_repository(&mut f.claims).ok_or_else(|| {
                f.not_applicable("the token names no repository or project (Google tokens have none)")
            })?;
        },
    }
    OwnerIdDrift = "owner-id-drift" {
        help: "GitHub repository_owner_id changed (owner account re-created)",
        touches: Touches::claims(&["repository_owner_id"]),
        breaks_signature: false,
        forge: |f| {
            let drifted = claims::drifted_owner_id(&f.claims).ok_or_else(|| {
                f.not_applicable("only GitHub tokens carry a string repository_owner_id")
            })?;
            f.claims.insert("repository_owner_id".into(), json!(drifted));
        },
    }
    UnknownKid = "unknown-kid" {
        help: "kid unknown to the issuer, signed by the rogue key",
        touches: Touches::header(&["kid"]),
        breaks_signature: false,
        forge: |f| {
            let kid = header::unknown_kid(&mut f.entropy);
            f.header.insert("kid".into(), json!(kid));
            f.sign_with(f.rogue())?;
        },
    }
    NoKid = "no-kid" {
        help: "kid header removed",
        touches: Touches::header(&["kid"]),
        breaks_signature: false,
        forge: |f| { f.header.remove("kid"); },
    }
    /// `alg` set to this spelling of "none" (default `none`), with an empty signature:
    /// the 2015 `alg: none` bypass of node-jsonwebtoken, pyjwt and others; the other
    /// spellings model verifiers that block the exact string `none` but look algorithms up
    /// ignoring case (`None`, `NONE`, `nOnE`).
    AlgNone(spelling: String as NoneSpelling) = "alg-none" {
        help: "alg none (or e.g. None, NONE), empty signature",
        touches: Touches::header(&["alg"]),
        breaks_signature: false,
        forge: |f| {
            f.header.insert("alg".into(), json!(spelling));
            f.sign_with(signer::Signer::Unsigned)?;
        },
    }
    /// `alg` HS256, keyed with the published RSA public key in the given form: algorithm
    /// confusion (see [`PublicKeyForm`]).
    Hs256PublicKey(form: PublicKeyForm as PublicKeyForm) = "hs256-public-key" {
        help: "HS256 keyed with the published public key; FORM pem (SPKI, \\n, final newline) | pem-no-newline | pem-crlf | pkcs1-pem | der | pkcs1-der | jwk (as served) | jwk-spaced (Python json.dumps) | modulus",
        touches: Touches::header(&["alg"]),
        breaks_signature: false,
        forge: |f| {
            let secret = signer::public_key_as(f.forger.signing_key(), *form);
            f.header.insert("alg".into(), json!("HS256"));
            f.sign_with(signer::Signer::Hmac(secret))?;
        },
    }
    /// `alg` HS256, signed with an empty HMAC secret: a verifier whose key lookup comes back
    /// empty (a `kid` naming `/dev/null`, a missing setting read as `""`) and that HMACs
    /// with what it got.
    Hs256EmptyKey = "hs256-empty-key" {
        help: "HS256 keyed with an empty secret",
        touches: Touches::header(&["alg"]),
        breaks_signature: false,
        forge: |f| {
            f.header.insert("alg".into(), json!("HS256"));
            f.sign_with(signer::Signer::Hmac(Vec::new()))?;
        },
    }
    /// `jku` names a key set the attacker serves, and the rogue key signs: a verifier that
    /// fetches the keys the token points at (RFC 7515 §4.1.2) instead of the issuer's.
    JkuInjection = "jku-injection" {
        help: "jku header points at an attacker JWKS (served and logged by the mock); rogue signature",
        touches: Touches::header(&["jku"]),
        breaks_signature: true,
        forge: |f| {
            let url = f.forger.attacker_url(header::ATTACKER_JWKS);
            f.header.insert("jku".into(), json!(url));
            f.sign_with(f.rogue())?;
        },
    }
    /// `jwk` embeds the rogue public key, which signs: a verifier that trusts the key the
    /// token carries (node-jose before 0.11.0, CVE-2018-0114).
    JwkInjection = "jwk-injection" {
        help: "jwk header embeds the rogue public key; rogue signature",
        touches: Touches::header(&["jwk"]),
        breaks_signature: true,
        forge: |f| {
            f.header.insert("jwk".into(), f.forger.rogue_key().jwk().clone());
            f.sign_with(f.rogue())?;
        },
    }
    /// `x5u` names a certificate URL the attacker serves, the rogue key signs: a verifier
    /// that fetches the certificate the token points at.
    X5uInjection = "x5u-injection" {
        help: "x5u header points at an attacker certificate URL; rogue signature",
        touches: Touches::header(&["x5u"]),
        breaks_signature: true,
        forge: |f| {
            let url = f.forger.attacker_url(header::ATTACKER_CERTIFICATE);
            f.header.insert("x5u".into(), json!(url));
            f.sign_with(f.rogue())?;
        },
    }
    /// `x5c` holds a self-signed certificate of the rogue key, which signs the token: a
    /// verifier that takes the embedded certificate's key without validating its chain.
    X5cInjection = "x5c-injection" {
        help: "x5c header holds a self-signed certificate of the rogue key; rogue signature",
        touches: Touches::header(&["x5c"]),
        breaks_signature: true,
        forge: |f| {
            let chain = header::self_signed_chain(f.forger.rogue_key())?;
            f.header.insert("x5c".into(), chain);
            f.sign_with(f.rogue())?;
        },
    }
    /// `alg` ES256 under the `kid` of a published P-256 key ([`crate::keys::EC_KID`]), and a
    /// signature of 64 zero bytes (r = s = 0): Java 15–18's ECDSA accepted it for every
    /// message and key ("psychic signatures", CVE-2022-21449). The scenario must publish
    /// that key ([`crate::keys::ec_jwk`]) for a vulnerable verifier to find it.
    PsychicSignature = "psychic-signature" {
        help: "alg ES256 under the kid mintcheck-ec, signature r = s = 0 (CVE-2022-21449); publish the EC key with add_jwk",
        touches: Touches::header(&["alg", "kid"]),
        breaks_signature: false,
        forge: |f| {
            f.header.insert("alg".into(), json!("ES256"));
            f.header.insert("kid".into(), json!(crate::keys::EC_KID));
            // ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4).
            f.sign_with(signer::Signer::Fixed(vec![0; 64]))?;
        },
    }
    CritHeader = "crit-header" {
        help: "crit names an extension no verifier understands",
        touches: Touches::header(&["crit", "mintcheck-critical"]),
        breaks_signature: false,
        forge: |f| {
            f.header.insert("crit".into(), json!(["mintcheck-critical"]));
            f.header.insert("mintcheck-critical".into(), json!(true));
        },
    }
    Malformed(kind: Malformation as Malformation) = "malformed" {
        help: "not a compact JWS; KIND two-segments | bad-base64 | header-not-json | payload-not-object | whitespace-around (a space before the token, a newline after it)",
        touches: Touches::nothing(),
        breaks_signature: false,
        forge: |f| {
            let kind = *kind;
            f.break_envelope(Box::new(move |input, signature| {
                envelope::malformed(kind, input, signature)
            }))?;
        },
    }
    Oversized = "oversized" {
        help: "a padding claim makes the token larger than 1 MiB",
        touches: Touches::claims(&[claims::PADDING]),
        breaks_signature: false,
        forge: |f| { f.oversized = true; },
    }
    /// The claim appears twice in the payload text: first a decoy value, then the real one.
    DuplicateClaim(name: String as RepeatedClaim) = "duplicate-claim" {
        help: "CLAIM (default aud) twice in the payload: a decoy first, the real value last",
        touches: Touches::nothing(),
        breaks_signature: false,
        forge: |f| {
            let decoy = claims::decoy(f.claims.get(name).ok_or_else(|| f.absent(name))?);
            f.duplicate = Some((name.clone(), decoy));
        },
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
            "other-rsa-alg:RS512",
            "other-issuer-key:google",
        ] {
            assert_eq!(spelled.parse::<Defect>().unwrap().to_string(), spelled);
        }
    }

    #[test]
    fn every_catalogue_entry_parses() {
        let catalogue = catalogue();
        for (syntax, _) in &catalogue {
            let name = syntax.split(['[', ':']).next().unwrap();
            let example = match syntax.as_str() {
                s if s.contains(":CLAIM") && !s.contains('[') => format!("{name}:sub"),
                s if s.contains(":KIND") => format!("{name}:bad-base64"),
                _ => name.to_owned(),
            };
            example
                .parse::<Defect>()
                .unwrap_or_else(|e| panic!("{syntax}: {e}"));
        }
        assert_eq!(catalogue.len(), 31);
        assert!(
            catalogue
                .iter()
                .any(|(syntax, _)| syntax == "malformed:KIND")
        );
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
        let err = "other-rsa-alg:RS256".parse::<Defect>().unwrap_err();
        assert!(err.to_string().contains("RS384, RS512, PS256"), "{err}");
    }
}
