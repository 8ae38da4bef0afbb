//! What a token is made of, apart from whether a verifier takes it: a seed repeats its
//! random parts, each defect changes only what it declares, and the unsigned parts are
//! exactly what would be signed.

use mock_issuer::defect::every_defect;
use mock_issuer::{Defect, Profile};
use serde_json::Value;

#[test]
fn a_seed_makes_the_random_parts_repeatable() {
    let forger = mock_issuer::Forger::new(&mock_issuer::KeySet::embedded());
    let forge = |seed: u64| {
        forger
            .token(Profile::Github)
            .at(1_767_225_600.0)
            .seed(seed)
            .defect(Defect::UnknownKid)
            .sign()
            .unwrap()
    };
    let (a, b, c) = (forge(7), forge(7), forge(8));
    assert_eq!(a.claims["jti"], b.claims["jti"]);
    assert_eq!(a.header["kid"], b.header["kid"]);
    assert_eq!(
        a.compact, b.compact,
        "RSASSA-PKCS1-v1_5 is deterministic, so the whole token repeats"
    );
    assert_ne!(a.claims["jti"], c.claims["jti"]);
    let unseeded = forger.token(Profile::Github).sign().unwrap();
    assert_ne!(
        unseeded.claims["jti"],
        forger.token(Profile::Github).sign().unwrap().claims["jti"]
    );
}

#[test]
fn each_defect_changes_only_what_it_declares() {
    let forger = mock_issuer::Forger::new(&mock_issuer::KeySet::embedded());
    let twin = forger
        .token(Profile::Github)
        .at(1_767_225_600.0)
        .seed(1)
        .sign()
        .unwrap();
    for defect in every_defect() {
        let token = forger
            .token(Profile::Github)
            .at(1_767_225_600.0)
            .seed(1)
            .defect(defect.clone())
            .sign()
            .unwrap();
        let touches = defect.touches();
        let changed = |a: &Value, b: &Value| -> Vec<String> {
            let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
            a.keys()
                .chain(b.keys())
                .filter(|k| a.get(*k) != b.get(*k))
                .cloned()
                .collect()
        };
        for key in changed(&token.claims, &twin.claims) {
            assert!(
                touches.claims.contains(&key),
                "{defect} changed claim {key} without declaring it"
            );
        }
        for key in changed(&token.header, &twin.header) {
            assert!(
                touches.header.contains(&key),
                "{defect} changed header {key} without declaring it"
            );
        }
    }
}

/// The bytes a vulnerable verifier holding `jwk` would key its HMAC with, for each form, built
/// with the `rsa` crate and by hand from the JWK alone.

#[test]
fn unsigned_gives_the_header_and_claims_sign_would_sign() {
    let forger = mock_issuer::Forger::new(&mock_issuer::KeySet::embedded());
    for defect in every_defect() {
        let builder = || {
            forger
                .token(Profile::Github)
                .at(1_767_225_600.0)
                .seed(3)
                .defect(defect.clone())
        };
        let (Ok(signed), Ok((header, claims))) = (builder().sign(), builder().unsigned()) else {
            panic!("{defect}: sign and unsigned both succeed or neither does");
        };
        assert_eq!(header, signed.header, "{defect}");
        assert_eq!(claims, signed.claims, "{defect}");
    }
}
