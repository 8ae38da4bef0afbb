//! Step 5: keys, algorithm, signature and registered claims (spec §6.2, §6.3).

use std::sync::Arc;

use mock_issuer::{Defect, PublicKeyForm};
use reference_registry::ManualClock;
use reference_registry::fixture::Provider;
use serde_json::json;

use crate::support::{Reply, Setup};

const INVALID: &str = "malformed or invalid token";

#[track_caller]
fn assert_invalid(reply: &Reply) {
    reply.assert_error("invalid-token", INVALID);
}

#[tokio::test]
async fn r_sig_1_kid_required() {
    let setup = Setup::standard(Provider::Github).await;
    assert_invalid(&setup.mint(setup.token().defect(Defect::NoKid)).await);
    assert_invalid(&setup.mint(setup.token().header("kid", json!(null))).await);
}

#[tokio::test]
async fn r_sig_3_only_rs256() {
    let setup = Setup::standard(Provider::Github).await;
    assert_invalid(
        &setup
            .mint(setup.token().defect(Defect::AlgNone("none".into())))
            .await,
    );
    assert_invalid(
        &setup
            .mint(
                setup
                    .token()
                    .defect(Defect::Hs256PublicKey(PublicKeyForm::Pem)),
            )
            .await,
    );
    for alg in [
        json!("RS384"),
        json!("RS512"),
        json!("PS256"),
        json!("ES256"),
        json!(null),
        json!("rs256"),
    ] {
        assert_invalid(&setup.mint(setup.token().header("alg", alg)).await);
    }
    assert_invalid(&setup.mint(setup.token().remove_header("alg")).await);
    setup.mint(setup.token()).await.assert_minted();
}

#[tokio::test]
async fn r_sig_4_unusable_jwk() {
    let base = Setup::standard(Provider::Github).await;
    let jwk = base.issuer.jwks()["keys"][0].clone();
    let kid = jwk["kid"].as_str().unwrap().to_owned();
    for (field, value) in [
        ("kty", json!("EC")),
        ("alg", json!("RS384")),
        ("n", json!("!!")),
        ("e", json!(5)),
    ] {
        let mut broken = jwk.clone();
        broken[field] = value;
        let setup = Setup::standard_with(Provider::Github, |f| {
            f.issuers[0].discovery_url = None;
            f.issuers[0].jwks = Some(json!({"keys": [broken]}));
        })
        .await;
        let token = setup.token().header("kid", kid.clone());
        assert_invalid(&setup.mint(token).await);
    }
    // `use` and `key_ops` are ignored; `alg` may be absent.
    let mut lenient = jwk.clone();
    lenient["use"] = json!("enc");
    lenient["key_ops"] = json!(["encrypt"]);
    lenient.as_object_mut().unwrap().remove("alg");
    let setup = Setup::standard_with(Provider::Github, |f| {
        f.issuers[0].discovery_url = None;
        f.issuers[0].jwks = Some(json!({"keys": [lenient]}));
    })
    .await;
    setup.mint(setup.token()).await.assert_minted();
}

#[tokio::test]
async fn r_sig_5_signature_must_verify() {
    let setup = Setup::standard(Provider::Github).await;
    for defect in [
        Defect::BadSignature,
        Defect::CorruptedSignature,
        Defect::StrippedSignature,
    ] {
        assert_invalid(&setup.mint(setup.token().defect(defect)).await);
    }
}

#[tokio::test]
async fn r_jwt_4_jku_jwk_x5u_x5c_never_used() {
    let setup = Setup::standard(Provider::Github).await;
    for defect in [
        Defect::JkuInjection,
        Defect::JwkInjection,
        Defect::X5uInjection,
    ] {
        assert_invalid(&setup.mint(setup.token().defect(defect)).await);
    }
    assert_eq!(setup.issuer.hits(mock_issuer::Endpoint::AttackerJku), 0);
    assert_eq!(setup.issuer.hits(mock_issuer::Endpoint::AttackerX5u), 0);
}

#[tokio::test]
async fn r_claim_1_required_registered_claims() {
    let setup = Setup::standard(Provider::Github).await;
    for claim in ["iat", "exp", "aud"] {
        assert_invalid(&setup.mint(setup.token().remove(claim)).await);
        assert_invalid(&setup.mint(setup.token().claim(claim, json!(null))).await);
    }
}

#[tokio::test]
async fn r_claim_2_strict_audience() {
    let setup = Setup::standard(Provider::Github).await;
    for aud in [
        json!(["pypi"]),
        json!(""),
        json!("PyPI"),
        json!("testpypi"),
        json!(1),
    ] {
        assert_invalid(&setup.mint(setup.token().claim("aud", aud)).await);
    }
    assert_invalid(
        &setup
            .mint(setup.token().defect(Defect::AudienceArray))
            .await,
    );
}

#[tokio::test]
async fn r_claim_3_sub_and_jti_must_be_strings() {
    let setup = Setup::standard(Provider::Github).await;
    for claim in ["sub", "jti"] {
        for value in [json!(null), json!(1), json!(["x"])] {
            assert_invalid(&setup.mint(setup.token().claim(claim, value)).await);
        }
    }
}

#[tokio::test]
async fn r_claim_4_r_time_2_iat_has_no_maximum_age() {
    let setup = Setup::standard(Provider::Github).await;
    let reply = setup
        .mint(setup.token().time("iat", "now-3650d".parse().unwrap()))
        .await;
    reply.assert_minted();
}

#[tokio::test]
async fn r_time_1_defects() {
    let setup = Setup::standard(Provider::Github).await;
    for defect in [Defect::Expired, Defect::NotYetValid, Defect::IssuedInFuture] {
        assert_invalid(&setup.mint(setup.token().defect(defect)).await);
    }
}

/// R-TIME-2's exact boundaries, with the registry's clock pinned at T + 0.5 and the tokens
/// signed at T.
#[tokio::test]
async fn r_time_2_leeway_boundaries() {
    const T: i64 = 1_767_225_600;
    let clock = ManualClock::at(T as f64 + 0.5);
    let setup = Setup::bare_with_clock(Provider::Github, Some(Arc::new(clock)), |f| {
        f.projects.push(crate::support::project("widgetry"));
        f.publishers.push(crate::support::publisher(
            crate::support::identity(Provider::Github),
            &["widgetry"],
        ));
    })
    .await;
    let at = |claims: &[(&str, i64)]| {
        let mut token = setup
            .token()
            .at(T as f64)
            .claim("iat", T - 60)
            .claim("nbf", T - 60)
            .claim("exp", T + 600);
        for (name, value) in claims {
            token = token.claim(*name, *value);
        }
        token
    };
    setup.mint(at(&[("exp", T - 29)])).await.assert_minted();
    assert_invalid(&setup.mint(at(&[("exp", T - 30)])).await);
    setup.mint(at(&[("iat", T + 30)])).await.assert_minted();
    assert_invalid(&setup.mint(at(&[("iat", T + 31)])).await);
    setup.mint(at(&[("nbf", T + 30)])).await.assert_minted();
    assert_invalid(&setup.mint(at(&[("nbf", T + 31)])).await);
    // Fractions are truncated toward zero.
    let fractional = setup
        .token()
        .at(T as f64)
        .claim("iat", T - 60)
        .claim("exp", json!((T - 29) as f64 + 0.99));
    setup.mint(fractional).await.assert_minted();
    let fractional = setup
        .token()
        .at(T as f64)
        .claim("iat", json!((T + 30) as f64 + 0.99))
        .claim("exp", T + 600);
    setup.mint(fractional).await.assert_minted();
    // nbf is optional.
    setup.mint(at(&[]).remove("nbf")).await.assert_minted();
}

#[tokio::test]
async fn r_def_7_non_numeric_times_are_invalid_token() {
    let setup = Setup::standard(Provider::Github).await;
    let far = "99999999999";
    for claim in ["exp", "iat", "nbf"] {
        let value = if claim == "exp" {
            json!(far)
        } else {
            json!("1")
        };
        assert_invalid(&setup.mint(setup.token().claim(claim, value)).await);
        assert_invalid(&setup.mint(setup.token().claim(claim, json!(true))).await);
    }
}
