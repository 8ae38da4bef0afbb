//! Every defect, checked against the independent verifier with the JWKS fetched over
//! HTTP from a running issuer: the valid token passes, and each defect fails for exactly
//! the reason it names and only that one.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Expectation, Reason, WIDGETRY, fetch_json, reasons, verify};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey};
use mock_issuer::defect::every_defect;
use mock_issuer::time::unix_now;
use mock_issuer::{
    Defect, ForgeError, KeySet, Malformation, MockIssuer, Profile, Provider, PublicKeyForm,
};
use serde_json::{Value, json};
use sha2::Sha256;

struct Fetched {
    issuer: String,
    jwks: Value,
}

async fn discover(issuer: &MockIssuer) -> Fetched {
    let client = reqwest::Client::new();
    let discovery: Value = fetch_json(&client, issuer.discovery_url()).await;
    let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri").to_owned();
    let jwks = fetch_json(&client, &jwks_uri).await;
    Fetched {
        issuer: discovery["issuer"].as_str().unwrap().to_owned(),
        jwks,
    }
}

fn expected_reasons(defect: &Defect) -> std::collections::BTreeSet<Reason> {
    match defect {
        Defect::Expired => reasons([Reason::Expired]),
        Defect::NotYetValid => reasons([Reason::NotYetValid]),
        Defect::IssuedInFuture => reasons([Reason::IssuedInFuture]),
        Defect::BadSignature
        | Defect::OtherIssuerKey(_)
        | Defect::CorruptedSignature
        | Defect::StrippedSignature
        | Defect::TruncatedSignature
        | Defect::JkuInjection
        | Defect::JwkInjection
        | Defect::X5uInjection
        | Defect::X5cInjection => reasons([Reason::BadSignature]),
        Defect::WrongIssuer => reasons([Reason::WrongIssuer]),
        Defect::WrongAudience => reasons([Reason::WrongAudience]),
        Defect::AudienceArray => reasons([Reason::AudienceNotString]),
        Defect::MissingClaim(name) | Defect::NullClaim(name) => {
            reasons([Reason::Absent(name.clone())])
        }
        Defect::WrongTypeClaim(name) => reasons([Reason::WrongType(name.clone())]),
        Defect::RenamedRepository => reasons([Reason::Mismatch("repository")]),
        Defect::OwnerIdDrift => reasons([Reason::Mismatch("repository_owner_id")]),
        Defect::UnknownKid => reasons([Reason::UnknownKid]),
        Defect::NoKid => reasons([Reason::NoKid]),
        Defect::AlgNone(spelling) => reasons([Reason::DisallowedAlg(spelling.clone())]),
        Defect::Hs256PublicKey(_) | Defect::Hs256EmptyKey => {
            reasons([Reason::DisallowedAlg("HS256".into())])
        }
        Defect::OtherRsaAlg(algorithm) => reasons([Reason::DisallowedAlg(algorithm.to_string())]),
        Defect::PsychicSignature => {
            reasons([Reason::UnknownKid, Reason::DisallowedAlg("ES256".into())])
        }
        Defect::CritHeader => reasons([Reason::UnsupportedCritical]),
        Defect::Malformed(_) => reasons([Reason::Malformed]),
        Defect::Oversized => reasons([Reason::Oversized]),
        Defect::DuplicateClaim(name) => reasons([Reason::DuplicateMember(name.clone())]),
    }
}

#[tokio::test]
async fn the_valid_token_passes_and_each_defect_fails_for_exactly_its_reason() {
    let issuer = MockIssuer::start().await.unwrap();
    let fetched = discover(&issuer).await;
    assert_eq!(
        fetched.issuer,
        issuer.issuer(),
        "discovery names the issuer byte for byte"
    );
    let expect = Expectation {
        issuer: &fetched.issuer,
        audience: "pypi",
        jwks: &fetched.jwks,
        now: unix_now(),
        publisher: Some(&WIDGETRY),
    };
    let valid = issuer.token(Profile::Github).sign().unwrap();
    assert_eq!(
        verify(valid.as_str(), &expect),
        reasons([]),
        "the undamaged token verifies"
    );

    let mut checked = 0;
    for defect in every_defect() {
        let token = issuer
            .token(Profile::Github)
            .defect(defect.clone())
            .sign()
            .unwrap();
        let found = verify(token.as_str(), &expect);
        assert_eq!(found, expected_reasons(&defect), "defect {defect}");
        assert_eq!(
            defect.breaks_signature(),
            found.contains(&Reason::BadSignature),
            "defect {defect}: breaks_signature() says what the verifier finds"
        );
        checked += 1;
    }
    assert_eq!(checked, every_defect().len());
    assert!(
        checked >= 30,
        "every defect and every variant is exercised ({checked})"
    );
}

#[tokio::test]
async fn every_profile_verifies_against_its_issuer() {
    let issuer = MockIssuer::start().await.unwrap();
    let fetched = discover(&issuer).await;
    for profile in Profile::ALL {
        let token = issuer.token(profile).sign().unwrap();
        let expect = Expectation {
            issuer: &fetched.issuer,
            audience: "pypi",
            jwks: &fetched.jwks,
            now: unix_now(),
            publisher: None,
        };
        assert_eq!(
            verify(token.as_str(), &expect),
            reasons([]),
            "profile {profile}"
        );
    }
}

#[tokio::test]
async fn the_attacks_are_real_attacks() {
    let issuer = MockIssuer::start().await.unwrap();
    let message_and_signature = |token: &str| {
        let (message, signature) = token.rsplit_once('.').unwrap();
        (message.to_owned(), signature.to_owned())
    };
    // HS256 keyed with the published public key verifies under an HMAC (RustCrypto's, not
    // the signer's aws-lc-rs) keyed with that key as each vulnerable verifier holds it: the
    // encodings rebuilt here from the published JWK with the `rsa` crate, not taken from the
    // mock issuer.
    let key = issuer.keys().primary.clone();
    for form in PublicKeyForm::ALL {
        let token = issuer
            .token(Profile::Github)
            .defect(Defect::Hs256PublicKey(form))
            .sign()
            .unwrap();
        assert_eq!(token.header["alg"], "HS256");
        let (message, signature) = message_and_signature(token.as_str());
        let secret = held_as(key.jwk(), form);
        let mut mac = Hmac::<Sha256>::new_from_slice(&secret).unwrap();
        mac.update(message.as_bytes());
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!(mac.verify_slice(&signature).is_ok(), "{form:?}");
    }
    // The psychic signature is ES256 under the EC key's kid, r = s = 0.
    let token = issuer
        .token(Profile::Github)
        .defect(Defect::PsychicSignature)
        .sign()
        .unwrap();
    assert_eq!(
        (&token.header["alg"], &token.header["kid"]),
        (&json!("ES256"), &json!(mock_issuer::keys::EC_KID))
    );
    let (_, signature) = message_and_signature(token.as_str());
    assert_eq!(URL_SAFE_NO_PAD.decode(signature).unwrap(), [0u8; 64]);
    assert_eq!(
        mock_issuer::keys::ec_jwk()["kid"],
        mock_issuer::keys::EC_KID
    );
    // other-rsa-alg really signs under the algorithm it names, with the published key.
    for (algorithm, name) in [
        (Algorithm::PS256, "PS256"),
        (Algorithm::PS512, "PS512"),
        (Algorithm::RS384, "RS384"),
        (Algorithm::RS512, "RS512"),
    ] {
        let defect: Defect = format!("other-rsa-alg:{name}").parse().unwrap();
        let token = issuer.token(Profile::Github).defect(defect).sign().unwrap();
        assert_eq!(token.header["alg"], name);
        let (message, signature) = message_and_signature(token.as_str());
        let published = DecodingKey::from_rsa_pem(key.public_pem().as_bytes()).unwrap();
        assert!(
            jsonwebtoken::crypto::verify(&signature, message.as_bytes(), &published, algorithm)
                .unwrap(),
            "{name}"
        );
    }
    // other-issuer-key signs with GitLab's published key under GitHub's kid (and GitHub's
    // for GitLab tokens).
    for (profile, signer) in [
        (Profile::Github, Provider::Gitlab),
        (Profile::Gitlab, Provider::Github),
    ] {
        let token = issuer
            .token(profile)
            .defect(Defect::OtherIssuerKey(None))
            .sign()
            .unwrap();
        assert_eq!(token.header["kid"], "mintcheck-primary");
        let (message, signature) = message_and_signature(token.as_str());
        let foreign = KeySet::embedded_for(signer).primary;
        let foreign = DecodingKey::from_rsa_pem(foreign.public_pem().as_bytes()).unwrap();
        assert!(
            jsonwebtoken::crypto::verify(
                &signature,
                message.as_bytes(),
                &foreign,
                Algorithm::RS256
            )
            .unwrap(),
            "{profile}"
        );
    }
    // hs256-empty-key verifies under HMAC with the empty secret.
    let token = issuer
        .token(Profile::Github)
        .defect(Defect::Hs256EmptyKey)
        .sign()
        .unwrap();
    let (message, signature) = message_and_signature(token.as_str());
    assert!(
        jsonwebtoken::crypto::verify(
            &signature,
            message.as_bytes(),
            &DecodingKey::from_secret(&[]),
            Algorithm::HS256
        )
        .unwrap()
    );
    // The jku document and the embedded jwk hold the key that really signed the token.
    let token = issuer
        .token(Profile::Github)
        .defect(Defect::JkuInjection)
        .sign()
        .unwrap();
    let jku = token.header["jku"].as_str().unwrap();
    assert!(jku.starts_with(issuer.base_url()), "{jku}");
    let attacker: Value = reqwest::get(jku).await.unwrap().json().await.unwrap();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(attacker["keys"][0].clone()).unwrap();
    let (message, signature) = message_and_signature(token.as_str());
    let attacker_key = DecodingKey::from_jwk(&jwk).unwrap();
    assert!(
        jsonwebtoken::crypto::verify(
            &signature,
            message.as_bytes(),
            &attacker_key,
            Algorithm::RS256
        )
        .unwrap()
    );
    assert_eq!(
        token.header["kid"],
        key.kid(),
        "the injected token claims the published kid"
    );
    assert_eq!(
        issuer.hits(mock_issuer::Endpoint::AttackerJku),
        1,
        "the fetch above is logged"
    );

    let token = issuer
        .token(Profile::Github)
        .defect(Defect::JwkInjection)
        .sign()
        .unwrap();
    assert_eq!(token.header["jwk"], *issuer.keys().rogue.jwk());

    // The x5c certificate (standard base64 DER) certifies the rogue key, which signed.
    let token = issuer
        .token(Profile::Github)
        .defect(Defect::X5cInjection)
        .sign()
        .unwrap();
    let chain = token.header["x5c"].as_array().unwrap();
    assert_eq!(chain.len(), 1);
    let certificate = base64::engine::general_purpose::STANDARD
        .decode(chain[0].as_str().unwrap())
        .unwrap();
    let rogue = issuer.keys().rogue.public_der();
    assert!(
        certificate.windows(rogue.len()).any(|w| w == rogue),
        "the certificate holds the rogue public key"
    );
    let (message, signature) = message_and_signature(token.as_str());
    let rogue_jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(issuer.keys().rogue.jwk().clone()).unwrap();
    let rogue_key = DecodingKey::from_jwk(&rogue_jwk).unwrap();
    assert!(
        jsonwebtoken::crypto::verify(&signature, message.as_bytes(), &rogue_key, Algorithm::RS256)
            .unwrap()
    );
}

#[test]
fn defects_compose_and_conflicts_are_named() {
    let forger = mock_issuer::Forger::new(&mock_issuer::KeySet::embedded());
    let token = forger
        .token(Profile::Github)
        .defects([Defect::Expired, Defect::NoKid, Defect::WrongAudience])
        .sign()
        .unwrap();
    assert!(token.header.get("kid").is_none());
    assert_eq!(token.claims["aud"], "testpypi");

    let err = forger
        .token(Profile::Github)
        .defects([Defect::AlgNone("none".into()), Defect::BadSignature])
        .sign()
        .unwrap_err();
    assert!(matches!(err, ForgeError::Conflict { .. }));
    assert_eq!(
        err.to_string(),
        "defects alg-none and bad-signature conflict: both decide how the token is signed"
    );
    let err = forger
        .token(Profile::Github)
        .defects([
            Defect::StrippedSignature,
            Defect::Malformed(Malformation::TwoSegments),
        ])
        .sign()
        .unwrap_err();
    assert!(
        err.to_string().contains("both decide the token's envelope"),
        "{err}"
    );
}

#[test]
fn defects_that_do_not_fit_the_profile_say_why() {
    let forger = mock_issuer::Forger::new(&mock_issuer::KeySet::embedded());
    let err = forger
        .token(Profile::Google)
        .defect(Defect::RenamedRepository)
        .sign()
        .unwrap_err();
    assert!(err.to_string().contains("Google tokens have none"), "{err}");
    let err = forger
        .token(Profile::Gitlab)
        .defect(Defect::OwnerIdDrift)
        .sign()
        .unwrap_err();
    assert!(err.to_string().contains("only GitHub tokens"), "{err}");
    let err = forger
        .token(Profile::Google)
        .defect(Defect::MissingClaim("jti".into()))
        .sign()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "defect missing-claim:jti: the token has no claim \"jti\" to change"
    );
}

#[test]
fn renaming_rewrites_every_derived_claim() {
    let forger = mock_issuer::Forger::new(&mock_issuer::KeySet::embedded());
    let github = forger
        .token(Profile::Github)
        .defect(Defect::RenamedRepository)
        .sign()
        .unwrap()
        .claims;
    assert_eq!(github["repository"], "acme-labs/widgetry-renamed");
    assert_eq!(
        github["sub"],
        "repo:acme-labs/widgetry-renamed:environment:pypi"
    );
    assert!(
        github["job_workflow_ref"]
            .as_str()
            .unwrap()
            .starts_with("acme-labs/widgetry-renamed/.github/")
    );
    assert_eq!(
        github["repository_id"], "712340987",
        "the id survives a rename"
    );

    let gitlab = forger
        .token(Profile::Gitlab)
        .defect(Defect::RenamedRepository)
        .sign()
        .unwrap()
        .claims;
    assert_eq!(gitlab["project_path"], "acme/python/widgetry-renamed");
    assert!(
        gitlab["ci_config_ref_uri"]
            .as_str()
            .unwrap()
            .starts_with("gitlab.com/acme/python/widgetry-renamed//")
    );
    assert!(
        gitlab["sub"]
            .as_str()
            .unwrap()
            .starts_with("project_path:acme/python/widgetry-renamed:")
    );

    let activestate = forger
        .token(Profile::ActiveState)
        .defect(Defect::RenamedRepository)
        .sign()
        .unwrap()
        .claims;
    assert_eq!(activestate["project"], "widgetry-renamed");
    assert_eq!(activestate["sub"], "org:acme:project:widgetry-renamed");
}

#[test]
fn malformed_tokens_have_the_promised_shape() {
    let forger = mock_issuer::Forger::new(&mock_issuer::KeySet::embedded());
    let forge = |kind| {
        forger
            .token(Profile::Github)
            .defect(Defect::Malformed(kind))
            .sign()
            .unwrap()
            .compact
    };
    assert_eq!(forge(Malformation::TwoSegments).matches('.').count(), 1);
    let bad = forge(Malformation::BadBase64);
    assert_eq!(bad.split('.').nth(1).unwrap().len() % 4, 1);
    let stripped = forger
        .token(Profile::Github)
        .defect(Defect::StrippedSignature)
        .sign()
        .unwrap()
        .compact;
    assert!(stripped.ends_with('.') && stripped.matches('.').count() == 2);
    let truncated = forger
        .token(Profile::Github)
        .defect(Defect::TruncatedSignature)
        .sign()
        .unwrap()
        .compact;
    let signature = URL_SAFE_NO_PAD
        .decode(truncated.rsplit('.').next().unwrap())
        .unwrap();
    assert_eq!(signature.len(), 128, "half of a 2048-bit RSA signature");
    let none = forger
        .token(Profile::Github)
        .defect(Defect::AlgNone("nOnE".into()))
        .sign()
        .unwrap();
    assert!(none.compact.ends_with('.'));
    assert_eq!(none.header["alg"], "nOnE");
    let oversized = forger
        .token(Profile::Github)
        .defect(Defect::Oversized)
        .sign()
        .unwrap()
        .compact;
    assert!(oversized.len() > 1024 * 1024);
    let duplicated = forger
        .token(Profile::Github)
        .defect(Defect::DuplicateClaim("aud".into()))
        .sign()
        .unwrap();
    let payload = URL_SAFE_NO_PAD
        .decode(duplicated.compact.split('.').nth(1).unwrap())
        .unwrap();
    let text = String::from_utf8(payload).unwrap();
    assert!(text.starts_with(r#"{"aud":"mintcheck-decoy","#), "{text}");
    assert!(text.contains(r#""aud":"pypi""#));
}

fn held_as(jwk: &Value, form: PublicKeyForm) -> Vec<u8> {
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let number = |member: &str| {
        let bytes = URL_SAFE_NO_PAD
            .decode(jwk[member].as_str().unwrap())
            .unwrap();
        rsa::BigUint::from_bytes_be(&bytes)
    };
    let public = rsa::RsaPublicKey::new(number("n"), number("e")).unwrap();
    let spki_pem = public.to_public_key_pem(LineEnding::LF).unwrap();
    assert!(
        spki_pem.starts_with("-----BEGIN PUBLIC KEY-----\n")
            && spki_pem.ends_with("-----END PUBLIC KEY-----\n")
            && !spki_pem.contains('\r')
    );
    match form {
        PublicKeyForm::Pem => spki_pem.into_bytes(),
        PublicKeyForm::PemNoNewline => spki_pem.trim_end().as_bytes().to_vec(),
        PublicKeyForm::PemCrlf => public
            .to_public_key_pem(LineEnding::CRLF)
            .unwrap()
            .into_bytes(),
        PublicKeyForm::Pkcs1Pem => {
            let pem = public.to_pkcs1_pem(LineEnding::LF).unwrap();
            assert!(pem.starts_with("-----BEGIN RSA PUBLIC KEY-----\n"));
            pem.into_bytes()
        }
        PublicKeyForm::Der => public.to_public_key_der().unwrap().as_bytes().to_vec(),
        PublicKeyForm::Pkcs1Der => public.to_pkcs1_der().unwrap().as_bytes().to_vec(),
        PublicKeyForm::Jwk => serde_json::to_string(jwk).unwrap().into_bytes(),
        PublicKeyForm::JwkSpaced => {
            let members: Vec<String> = jwk
                .as_object()
                .unwrap()
                .iter()
                .map(|(name, value)| format!("\"{name}\": {value}"))
                .collect();
            format!("{{{}}}", members.join(", ")).into_bytes()
        }
        PublicKeyForm::Modulus => number("n").to_bytes_be(),
    }
}
