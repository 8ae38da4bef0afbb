//! Keys and JWKS (spec §6.1, R-DEF-1, R-DEF-2) and the loopback-only policy.

use std::sync::Arc;
use std::time::Duration;

use mock_issuer::{Defect, Endpoint, JwksFault, MockIssuer};
use reference_registry::fixture::{Issuer, Provider};
use reference_registry::{FixtureDocument, ManualClock, RegistryConfig};

use crate::support::{
    Setup, Target, assert_refused_at_the_fetch_timeout, canonical_issuer, identity, project,
    publisher, standard_fixture, trust,
};

const INVALID: &str = "malformed or invalid token";

#[tokio::test]
async fn r_jwks_1_2_3_keys_are_fetched_once_through_discovery_and_cached() {
    let setup = Setup::standard(Provider::Github).await;
    for _ in 0..3 {
        setup.mint(setup.token()).await.assert_minted();
    }
    assert_eq!(setup.issuer.hits(Endpoint::Discovery), 1);
    assert_eq!(setup.issuer.hits(Endpoint::Jwks), 1);
    // R-JWKS-2: a key the issuer retired stays trusted until a refresh replaces the set.
    setup.issuer.set_jwks_fault(Some(JwksFault::Outage));
    setup.mint(setup.token()).await.assert_minted();
}

#[tokio::test]
async fn r_jwks_1_caches_are_per_issuer_string() {
    let github = canonical_issuer(Provider::Github).await;
    let gitlab = canonical_issuer(Provider::Gitlab).await;
    let mut fixture = FixtureDocument::new();
    fixture.issuers = vec![
        trust(&github, Provider::Github, true),
        trust(&gitlab, Provider::Gitlab, true),
    ];
    fixture.projects.push(project("widgetry"));
    fixture
        .publishers
        .push(publisher(identity(Provider::Github), &["widgetry"]));
    fixture
        .publishers
        .push(publisher(identity(Provider::Gitlab), &["widgetry"]));
    let target = Target::with_fixture(&fixture).await;
    target
        .mint(
            github
                .token(mock_issuer::Profile::Github)
                .sign()
                .unwrap()
                .as_str(),
        )
        .await
        .assert_minted();
    target
        .mint(
            gitlab
                .token(mock_issuer::Profile::Gitlab)
                .sign()
                .unwrap()
                .as_str(),
        )
        .await
        .assert_minted();
    assert_eq!(github.hits(Endpoint::Jwks), 1);
    assert_eq!(gitlab.hits(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn r_jwks_3_5_6_unknown_kid_refreshes_at_most_once_per_cooldown() {
    let clock = ManualClock::at(now());
    let setup = Setup::bare_with_clock(Provider::Github, Some(Arc::new(clock.clone())), |f| {
        f.projects.push(project("widgetry"));
        f.publishers
            .push(publisher(identity(Provider::Github), &["widgetry"]));
    })
    .await;
    setup.mint(setup.token()).await.assert_minted();
    for _ in 0..5 {
        setup
            .mint(setup.token().defect(Defect::UnknownKid))
            .await
            .assert_error("invalid-token", INVALID);
    }
    assert_eq!(
        setup.issuer.hits(Endpoint::Jwks),
        1,
        "within the cooldown no fetch happens"
    );
    // Rotation: the next key becomes known only by a refresh after the cooldown.
    setup.issuer.rotate().unwrap();
    setup
        .mint(setup.token())
        .await
        .assert_error("invalid-token", INVALID);
    assert_eq!(setup.issuer.hits(Endpoint::Jwks), 1);
    clock.advance(Duration::from_secs(61));
    setup.mint(setup.token()).await.assert_minted();
    assert_eq!(setup.issuer.hits(Endpoint::Jwks), 2);
}

#[tokio::test]
async fn r_sig_2_alg_none_with_unknown_kid_still_refreshes() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup
        .token()
        .defect(Defect::AlgNone("none".into()))
        .header("kid", "never-published");
    setup
        .mint(token)
        .await
        .assert_error("invalid-token", INVALID);
    assert_eq!(setup.issuer.hits(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn r_jwks_4_r_def_1_2_failed_refresh_starts_no_cooldown() {
    for fault in [
        JwksFault::Outage,
        JwksFault::Malformed,
        JwksFault::EmptyKeys,
        JwksFault::MissingKid,
        JwksFault::DiscoveryWithoutJwksUri,
    ] {
        let setup = Setup::standard(Provider::Github).await;
        setup.issuer.set_jwks_fault(Some(fault));
        setup
            .mint(setup.token())
            .await
            .assert_error("invalid-token", INVALID);
        setup.issuer.set_jwks_fault(None);
        // No cooldown: the next request refreshes again and succeeds.
        setup.mint(setup.token()).await.assert_minted();
    }
}

#[tokio::test]
async fn r_jwks_3_replace_not_merge() {
    let clock = ManualClock::at(now());
    let setup = Setup::bare_with_clock(Provider::Github, Some(Arc::new(clock.clone())), |f| {
        f.projects.push(project("widgetry"));
        f.publishers
            .push(publisher(identity(Provider::Github), &["widgetry"]));
    })
    .await;
    setup.mint(setup.token()).await.assert_minted();
    // The issuer now publishes only the next key and signs with it.
    setup.issuer.rotate().unwrap();
    let primary = setup.issuer.keys().all()[0].kid().to_owned();
    setup.issuer.retire_key(&primary).unwrap();
    clock.advance(Duration::from_secs(61));
    setup.mint(setup.token()).await.assert_minted();
    setup.issuer.sign_with(&primary).unwrap();
    setup
        .mint(setup.token())
        .await
        .assert_error("invalid-token", INVALID);
}

#[tokio::test]
async fn r_def_1_slow_jwks_times_out_after_5_seconds() {
    let setup = Setup::standard(Provider::Github).await;
    setup
        .issuer
        .set_jwks_fault(Some(JwksFault::Slow(Duration::from_secs(7))));
    assert_refused_at_the_fetch_timeout(setup.mint(setup.token())).await;
}

#[tokio::test]
async fn inline_jwks_seeds_the_cache_without_fetching() {
    let issuer = canonical_issuer(Provider::Github).await;
    let mut fixture = FixtureDocument::new();
    fixture.issuers.push(Issuer {
        discovery_url: None,
        jwks_url: None,
        jwks: Some(issuer.jwks()),
        ..trust(&issuer, Provider::Github, true)
    });
    fixture.projects.push(project("widgetry"));
    fixture
        .publishers
        .push(publisher(identity(Provider::Github), &["widgetry"]));
    let target = Target::with_fixture(&fixture).await;
    target
        .mint(
            issuer
                .token(mock_issuer::Profile::Github)
                .sign()
                .unwrap()
                .as_str(),
        )
        .await
        .assert_minted();
    assert_eq!(
        issuer.hits(Endpoint::Discovery) + issuer.hits(Endpoint::Jwks),
        0
    );
}

#[tokio::test]
async fn remote_issuers_are_never_contacted_unless_allowed() {
    // A discovery URL off loopback (TEST-NET-1, RFC 5737) fails at once, without a connect.
    let issuer = canonical_issuer(Provider::Github).await;
    let mut fixture = FixtureDocument::new();
    let remote = Issuer {
        discovery_url: Some("http://192.0.2.1/.well-known/openid-configuration".into()),
        ..trust(&issuer, Provider::Github, true)
    };
    fixture.issuers.push(remote);
    fixture.projects.push(project("widgetry"));
    fixture
        .publishers
        .push(publisher(identity(Provider::Github), &["widgetry"]));
    let target = Target::with_fixture(&fixture).await;
    let started = std::time::Instant::now();
    let token = issuer.token(mock_issuer::Profile::Github).sign().unwrap();
    target
        .mint(token.as_str())
        .await
        .assert_error("invalid-token", INVALID);
    assert!(started.elapsed() < Duration::from_secs(1));
    // Without a fixture the real issuers are known, and their keys unreachable.
    let target = Target::start(reference_registry::Registry::new(RegistryConfig::default())).await;
    target
        .mint(token.as_str())
        .await
        .assert_error("invalid-token", INVALID);
}

#[tokio::test]
async fn ca_pem_lets_the_registry_fetch_over_tls() {
    let issuer = MockIssuer::builder().tls(true).start().await.unwrap();
    let mut fixture = standard_fixture(&issuer, Provider::Github);
    let target = Target::with_fixture(&fixture).await;
    let token = issuer.token(mock_issuer::Profile::Github).sign().unwrap();
    target
        .mint(token.as_str())
        .await
        .assert_error("invalid-token", INVALID);
    fixture.ca_pem = issuer.ca_pem().map(str::to_owned);
    target.registry.apply(&fixture).unwrap();
    target.mint(token.as_str()).await.assert_minted();
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
