//! Steps 3 and 4: issuers (R-ISS-*), enablement (R-FLAG-*) and the order (R-ORDER-*).

use mock_issuer::{IssuerMode, MockIssuer};
use reference_registry::fixture::{GitlabIdentity, Identity, Provider};
use serde_json::json;

use crate::support::{Setup, identity, project, publisher, trust};

#[tokio::test]
async fn r_iss_1_2_3_exact_issuer_strings() {
    let setup = Setup::standard(Provider::Github).await;
    let iss = "https://token.actions.githubusercontent.com";
    for variant in [
        format!("{iss}/"),
        iss.to_uppercase(),
        iss.replace(".com", ".com:443"),
        String::new(),
    ] {
        let reply = setup.mint(setup.token().claim("iss", variant)).await;
        reply.assert_error("invalid-payload", "unknown trusted publishing issuer");
    }
    for value in [
        json!(null),
        json!(3),
        json!(true),
        json!([iss]),
        json!({"iss": iss}),
    ] {
        let reply = setup.mint(setup.token().claim("iss", value)).await;
        reply.assert_error("invalid-payload", "unknown trusted publishing issuer");
    }
    setup.mint(setup.token()).await.assert_minted();
}

#[tokio::test]
async fn r_order_2_unknown_issuer_beats_disabled() {
    let setup = Setup::standard_with(Provider::Github, |f| f.flags.disallow_oidc = true).await;
    let reply = setup
        .mint(setup.token().claim("iss", "https://unknown.example"))
        .await;
    reply.assert_error("invalid-payload", "unknown trusted publishing issuer");
}

#[tokio::test]
async fn r_flag_1_2_global_and_provider_flags() {
    for provider in Provider::ALL {
        let setup = Setup::standard_with(provider, |f| f.flags.disallow_oidc = true).await;
        let expected = format!(
            "{} trusted publishing functionality not enabled",
            provider.name()
        );
        setup
            .mint(setup.token())
            .await
            .assert_error("not-enabled", &expected);

        let setup = Setup::standard_with(provider, |f| match provider {
            Provider::Github => f.flags.disallow_github_oidc = true,
            Provider::Gitlab => f.flags.disallow_gitlab_oidc = true,
            Provider::Google => f.flags.disallow_google_oidc = true,
            Provider::ActiveState => f.flags.disallow_activestate_oidc = true,
        })
        .await;
        setup
            .mint(setup.token())
            .await
            .assert_error("not-enabled", &expected);
    }
    // Another provider's flag does not matter.
    let setup =
        Setup::standard_with(Provider::Github, |f| f.flags.disallow_gitlab_oidc = true).await;
    setup.mint(setup.token()).await.assert_minted();
}

#[tokio::test]
async fn r_flag_4_enablement_runs_after_parse_and_before_verification() {
    let setup = Setup::standard_with(Provider::Github, |f| f.flags.disallow_oidc = true).await;
    setup
        .target
        .mint("x.y")
        .await
        .assert_error("invalid-payload", "malformed JWT");
    // A bad signature is not looked at while disabled.
    let reply = setup
        .mint(setup.token().defect(mock_issuer::Defect::BadSignature))
        .await;
    reply.assert_error(
        "not-enabled",
        "github trusted publishing functionality not enabled",
    );
}

/// A self-managed GitLab: its own issuer string, keys from its own discovery document.
async fn self_managed() -> (MockIssuer, Setup) {
    let custom = MockIssuer::builder()
        .issuer_mode(IssuerMode::Custom("https://gitlab.acme.example".into()))
        .start()
        .await
        .unwrap();
    let setup = Setup::bare(Provider::Gitlab, |f| {
        f.issuers.push(trust(&custom, Provider::Gitlab, false));
        f.projects.push(project("widgetry"));
        let custom_identity = GitlabIdentity {
            issuer_url: "https://gitlab.acme.example".into(),
            ..crate::support::gitlab()
        };
        f.publishers
            .push(publisher(Identity::Gitlab(custom_identity), &["widgetry"]));
        f.flags.disallow_gitlab_oidc = true;
    })
    .await;
    (custom, setup)
}

fn self_managed_token(custom: &MockIssuer) -> mock_issuer::TokenBuilder {
    custom.token(mock_issuer::Profile::Gitlab).claim(
        "ci_config_ref_uri",
        "gitlab.acme.example/acme/python/widgetry//.gitlab-ci.yml@refs/tags/v2.0.1",
    )
}

#[tokio::test]
async fn r_iss_4_r_flag_3_r_gl_5_custom_gitlab_issuer() {
    let (custom, setup) = self_managed().await;
    // R-FLAG-3: disallow-gitlab-oidc stops the canonical issuer only.
    let reply = setup.mint(setup.token()).await;
    reply.assert_error(
        "not-enabled",
        "gitlab trusted publishing functionality not enabled",
    );
    // R-ISS-4: the custom issuer mints, with keys from its own discovery URL.
    setup
        .target
        .mint(self_managed_token(&custom).sign().unwrap().as_str())
        .await
        .assert_minted();
    assert!(custom.hits(mock_issuer::Endpoint::Jwks) >= 1);
}

#[tokio::test]
async fn r_gl_5_custom_issuer_matches_only_its_publishers() {
    let (_custom, setup) = self_managed().await;
    let mut fixture = reference_registry::FixtureDocument::new();
    fixture
        .issuers
        .push(trust(&setup.issuer, Provider::Gitlab, true));
    fixture.projects.push(project("widgetry"));
    fixture
        .publishers
        .push(publisher(identity(Provider::Gitlab), &["widgetry"]));
    let other = MockIssuer::builder()
        .issuer_mode(IssuerMode::Custom("https://gitlab.other.example".into()))
        .start()
        .await
        .unwrap();
    fixture.issuers.push(trust(&other, Provider::Gitlab, false));
    setup.target.registry.apply(&fixture).unwrap();
    let token = other.token(mock_issuer::Profile::Gitlab).claim(
        "ci_config_ref_uri",
        "gitlab.com/acme/python/widgetry//.gitlab-ci.yml@refs/tags/v2.0.1",
    );
    let reply = setup.target.mint(token.sign().unwrap().as_str()).await;
    reply.assert_no_publisher("Publisher with matching claims was not found");
}

#[tokio::test]
async fn r_iss_4_r_pub_1_custom_non_gitlab_issuer_fails_the_guard() {
    let custom = MockIssuer::builder()
        .issuer_mode(IssuerMode::Custom(
            "https://ghes.acme.example/_services/token".into(),
        ))
        .start()
        .await
        .unwrap();
    let setup = Setup::standard_with(Provider::Github, |f| {
        f.issuers.push(trust(&custom, Provider::Github, false))
    })
    .await;
    let reply = setup
        .target
        .mint(
            custom
                .token(mock_issuer::Profile::Github)
                .sign()
                .unwrap()
                .as_str(),
        )
        .await;
    reply.assert_no_publisher(
        "JWT issuer 'https://ghes.acme.example/_services/token' does not match expected issuer 'https://token.actions.githubusercontent.com'",
    );
}

#[tokio::test]
async fn r_iss_5_substitute_canonical_issuer() {
    // The mock's own URL stands in for GitHub's issuer.
    let own = MockIssuer::start().await.unwrap();
    let mut fixture = reference_registry::FixtureDocument::new();
    fixture.issuers.push(trust(&own, Provider::Github, true));
    fixture.projects.push(project("widgetry"));
    fixture
        .publishers
        .push(publisher(identity(Provider::Github), &["widgetry"]));
    let target = crate::support::Target::with_fixture(&fixture).await;
    target
        .mint(
            own.token(mock_issuer::Profile::Github)
                .sign()
                .unwrap()
                .as_str(),
        )
        .await
        .assert_minted();
    // The real string is no longer trusted once substituted.
    let real = own
        .token(mock_issuer::Profile::Github)
        .claim("iss", Provider::Github.canonical_issuer());
    target
        .mint(real.sign().unwrap().as_str())
        .await
        .assert_error("invalid-payload", "unknown trusted publishing issuer");
}
