//! Replay protection (spec §12).

use std::sync::Arc;
use std::time::Duration;

use reference_registry::ManualClock;
use reference_registry::fixture::{Provider, UsedJti};
use serde_json::json;

use crate::support::{Setup, identity, project, publisher};

const REUSED: &str = "invalid token: already used";

#[tokio::test]
async fn r_jti_1_a_token_mints_once() {
    for provider in [Provider::Github, Provider::Gitlab, Provider::ActiveState] {
        let setup = Setup::standard(provider).await;
        let token = setup.token().sign().unwrap();
        setup.target.mint(token.as_str()).await.assert_minted();
        setup
            .target
            .mint(token.as_str())
            .await
            .assert_error("invalid-reuse-token", REUSED);
    }
    // A Google token that carries a jti is single-use too (step 8).
    let setup = Setup::standard(Provider::Google).await;
    let token = setup.token().claim("jti", "google-jti").sign().unwrap();
    setup.target.mint(token.as_str()).await.assert_minted();
    setup
        .target
        .mint(token.as_str())
        .await
        .assert_error("invalid-reuse-token", REUSED);
}

#[tokio::test]
async fn r_jti_2_earlier_checks_win_over_replay() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.token().claim("jti", "fixed-jti");
    setup.mint(token.clone()).await.assert_minted();
    // Same jti, claims that no longer match: invalid-publisher, not invalid-reuse-token.
    let reply = setup
        .mint(token.clone().claim("repository_owner", "other"))
        .await;
    reply.assert_no_publisher("Check failed for required claim 'repository_owner'");
    // Same jti, everything else matching: the step-7 replay check.
    setup
        .mint(token.clone().claim("event_name", "pull_request_target"))
        .await
        .assert_error("invalid-reuse-token", REUSED);
}

#[tokio::test]
async fn r_jti_3_shared_namespace_for_self_managed_gitlab_and_exp_plus_35() {
    let setup = Setup::standard_with(Provider::Gitlab, |f| {
        f.used_jtis.push(UsedJti {
            provider: Provider::Gitlab,
            jti: "seen".into(),
            expires: None,
        });
    })
    .await;
    setup
        .mint(setup.token().claim("jti", "seen"))
        .await
        .assert_error("invalid-reuse-token", REUSED);

    // The record lapses at exp + 35.
    const T: i64 = 1_767_225_600;
    let clock = ManualClock::at(T as f64);
    let setup = Setup::bare_with_clock(Provider::Github, Some(Arc::new(clock.clone())), |f| {
        f.projects.push(project("widgetry"));
        f.publishers
            .push(publisher(identity(Provider::Github), &["widgetry"]));
    })
    .await;
    let first = setup
        .token()
        .at(T as f64)
        .claim("jti", "j")
        .claim("exp", T + 10);
    setup.mint(first).await.assert_minted();
    clock.set((T + 44) as f64);
    let again = setup
        .token()
        .at(T as f64)
        .claim("jti", "j")
        .claim("exp", T + 1000);
    setup
        .mint(again.clone())
        .await
        .assert_error("invalid-reuse-token", REUSED);
    clock.advance(Duration::from_secs(1)); // T + 45 = exp + 35
    setup.mint(again).await.assert_minted();
}

#[tokio::test]
async fn r_jti_4_concurrent_identical_requests_mint_once() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.token().sign().unwrap();
    let target = Arc::new(setup.target);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let target = target.clone();
            let token = token.compact.clone();
            tokio::spawn(async move { target.mint(&token).await })
        })
        .collect();
    let mut minted = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            200 => minted += 1,
            _ => reply.assert_error("invalid-reuse-token", REUSED),
        }
    }
    assert_eq!(minted, 1);
}

#[tokio::test]
async fn r_jti_5_failures_before_step_8_leave_the_token_usable() {
    let setup = Setup::standard_with(Provider::Github, |f| f.flags.disallow_oidc = true).await;
    let token = setup.token().sign().unwrap();
    setup.target.mint(token.as_str()).await.assert_error(
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
    let mut fixture = reference_registry::FixtureDocument::new();
    fixture
        .issuers
        .push(crate::support::trust(&setup.issuer, Provider::Github, true));
    fixture.pending_publishers.push(crate::support::pending(
        identity(Provider::Github),
        "asyncio",
        "alice",
    ));
    setup.target.registry.apply(&fixture).unwrap();
    let reply = setup.target.mint(token.as_str()).await;
    assert_eq!(
        reply.json()["errors"][0]["code"],
        "invalid-payload",
        "{}",
        reply.body
    );
    fixture.pending_publishers.clear();
    fixture.projects.push(project("widgetry"));
    fixture
        .publishers
        .push(publisher(identity(Provider::Github), &["widgetry"]));
    setup.target.registry.apply(&fixture).unwrap();
    setup.target.mint(token.as_str()).await.assert_minted();
}

#[tokio::test]
async fn empty_jti_is_accepted_and_never_recorded() {
    let setup = Setup::standard(Provider::Github).await;
    let token = setup.token().claim("jti", json!("")).sign().unwrap();
    setup.target.mint(token.as_str()).await.assert_minted();
    setup.target.mint(token.as_str()).await.assert_minted();
}
