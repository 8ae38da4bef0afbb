//! `explain` and the registry agree: the same token, explained offline and minted over HTTP
//! against a registry with the same fixture, gets the same answer, and the field table
//! passes exactly when publisher matching does.

#[path = "support/mod.rs"]
mod support;

use mock_issuer::{Defect, MockIssuer, TokenBuilder};
use proptest::prelude::*;
use reference_registry::explain::{self, Input, Outcome, Step};
use reference_registry::fixture::{FixtureDocument, Provider};
use reference_registry::{Registry, RegistryConfig};
use serde_json::{Map, Value, json};
use support::{Target, canonical_issuer, identity, pending, project, publisher, trust};

/// The §18 publisher of `provider` for `widgetry`, and a pending one of the same identity
/// for `newproj` when `with_pending`.
fn fixture(issuer: &MockIssuer, provider: Provider, with_pending: bool) -> FixtureDocument {
    let mut fixture = FixtureDocument::new();
    fixture.issuers.push(trust(issuer, provider, true));
    if with_pending {
        fixture
            .pending_publishers
            .push(pending(identity(provider), "newproj", "alice"));
    } else {
        fixture.projects.push(project("widgetry"));
        fixture
            .publishers
            .push(publisher(identity(provider), &["widgetry"]));
    }
    fixture
}

struct Pair {
    issuer: MockIssuer,
    fixture: FixtureDocument,
    provider: Provider,
}

impl Pair {
    async fn new(provider: Provider, with_pending: bool) -> Pair {
        let issuer = canonical_issuer(provider).await;
        let fixture = fixture(&issuer, provider, with_pending);
        Pair {
            issuer,
            fixture,
            provider,
        }
    }

    fn token(&self) -> TokenBuilder {
        self.issuer.token(support::profile(self.provider))
    }

    /// Mints `token` over HTTP at a fresh registry and explains it with another one; both get
    /// this pair's fixture. Returns the explanation after checking they agree.
    async fn agree(&self, token: TokenBuilder) -> explain::Explanation {
        let token = token.sign().unwrap();
        let target = Target::with_fixture(&self.fixture).await;
        let reply = target.mint(token.as_str()).await;
        let offline = Registry::new(RegistryConfig::default());
        offline.apply(&self.fixture).unwrap();
        let explanation = explain::explain(&offline, &Input::Token(token.compact.clone())).await;
        let claims = token.claims.as_object().unwrap();
        match &explanation.verdict {
            Ok(()) => assert_eq!(reply.status, 200, "{claims:?}: {}", reply.body),
            Err(error) => {
                assert_eq!(reply.status, 422, "{claims:?}: explain said {error}");
                reply.assert_error(error.code.as_str(), &error.description);
            }
        }
        self.check_table(&explanation, claims);
        explanation
    }

    /// Every row of the table passes exactly when publisher matching passes, once the issuer
    /// guard and the required claims do.
    fn check_table(&self, explanation: &explain::Explanation, claims: &Map<String, Value>) {
        let required = self.provider.required_claims();
        if required
            .iter()
            .any(|name| claims.get(*name).is_none_or(Value::is_null))
        {
            return;
        }
        let matched = match &explanation.verdict {
            Ok(()) => true,
            Err(e) if e.code.as_str() == "invalid-publisher" => false,
            // Decided before matching (expired, wrong audience): the table says nothing.
            Err(_) => return,
        };
        let issuer = claims["iss"].as_str().unwrap();
        let rows = explain::fields(&identity(self.provider), claims, issuer);
        let all_ok = rows.iter().all(|row| row.ok);
        assert_eq!(all_ok, matched, "{claims:?}\n{rows:#?}");
    }
}

fn failed_step(explanation: &explain::Explanation) -> Option<Step> {
    explanation
        .steps
        .iter()
        .find(|(_, outcome)| matches!(outcome, Outcome::Failed(_)))
        .map(|(step, _)| *step)
}

type Claims<'a> = &'a [(&'a str, Value)];

#[tokio::test]
async fn every_provider_agrees_on_its_own_token_and_on_edits() {
    // Each edit with whether it mints (GitHub environments and GitLab paths ignore case).
    let edits: &[(Provider, Claims, bool)] = &[
        (Provider::Github, &[], true),
        (
            Provider::Github,
            &[("repository", json!("acme-labs/widgetry-ng"))],
            false,
        ),
        (
            Provider::Github,
            &[("repository", json!("Acme-Labs/widgetry"))],
            false,
        ),
        (
            Provider::Github,
            &[("repository_owner_id", json!("1"))],
            false,
        ),
        (Provider::Github, &[("environment", json!("PyPI"))], true),
        (
            Provider::Github,
            &[("environment", json!("staging"))],
            false,
        ),
        (
            Provider::Github,
            &[("event_name", json!("pull_request_target"))],
            false,
        ),
        (
            Provider::Github,
            &[(
                "job_workflow_ref",
                json!("acme-labs/widgetry/.github/workflows/publish.yaml@refs/tags/v2.0.1"),
            )],
            false,
        ),
        (
            Provider::Github,
            &[("repository_owner", json!("acme"))],
            false,
        ),
        (
            Provider::Github,
            &[("sha", json!("")), ("ref", json!(""))],
            false,
        ),
        (Provider::Gitlab, &[], true),
        (
            Provider::Gitlab,
            &[("project_path", json!("ACME/python/widgetry"))],
            true,
        ),
        (
            Provider::Gitlab,
            &[("environment", json!("Release"))],
            false,
        ),
        (
            Provider::Gitlab,
            &[("sub", json!("project_path:acme/other"))],
            false,
        ),
        (Provider::Google, &[], true),
        (Provider::Google, &[("email_verified", json!(false))], false),
        (Provider::ActiveState, &[], true),
        (Provider::ActiveState, &[("builder", json!("other"))], false),
    ];
    for (provider, claims, mints) in edits {
        let pair = Pair::new(*provider, false).await;
        let mut token = pair.token();
        for (name, value) in *claims {
            token = token.claim(*name, value.clone());
        }
        let explanation = pair.agree(token).await;
        let expected = (!mints).then_some(Step::Publisher);
        assert_eq!(
            failed_step(&explanation),
            expected,
            "{provider:?} {claims:?}"
        );
    }
}

#[tokio::test]
async fn steps_before_matching_agree_and_name_the_undisclosed_reason() {
    let pair = Pair::new(Provider::Github, false).await;
    let expired = pair.agree(pair.token().defect(Defect::Expired)).await;
    assert_eq!(failed_step(&expired), Some(Step::Verify));
    let Err(error) = &expired.verdict else {
        panic!("an expired token mints")
    };
    let reason = error.undisclosed.as_deref().unwrap();
    assert!(
        reason.contains("`exp`") && reason.contains("R-TIME-2"),
        "{reason}"
    );

    let audience = pair.agree(pair.token().claim("aud", json!(["pypi"]))).await;
    let Err(error) = &audience.verdict else {
        panic!("an array audience mints")
    };
    assert!(error.undisclosed.as_deref().unwrap().contains("R-CLAIM-2"));

    let missing = pair.agree(pair.token().remove("jti")).await;
    assert_eq!(failed_step(&missing), Some(Step::Publisher));
    let unknown = pair
        .agree(pair.token().claim("iss", "https://elsewhere.example"))
        .await;
    assert_eq!(failed_step(&unknown), Some(Step::Issuer));
}

#[tokio::test]
async fn a_pending_publisher_creates_its_project_in_both() {
    let pair = Pair::new(Provider::Github, true).await;
    let explanation = pair.agree(pair.token()).await;
    assert_eq!(explanation.verdict, Ok(()));
    let (_, pending) = &explanation.steps[Step::Pending as usize];
    let Outcome::Passed(notes) = pending else {
        panic!("{pending:?}")
    };
    assert!(notes[0].contains("project 'newproj' created"), "{notes:?}");
}

#[tokio::test]
async fn the_signature_is_the_one_thing_explain_cannot_judge() {
    let pair = Pair::new(Provider::Github, false).await;
    let token = pair.token().defect(Defect::BadSignature).sign().unwrap();
    let target = Target::with_fixture(&pair.fixture).await;
    target
        .mint(token.as_str())
        .await
        .assert_error("invalid-token", "malformed or invalid token");
    let offline = Registry::new(RegistryConfig::default());
    offline.apply(&pair.fixture).unwrap();
    let explanation = explain::explain(&offline, &Input::Token(token.compact)).await;
    assert_eq!(explanation.verdict, Ok(()));
    let (_, verify) = &explanation.steps[Step::Verify as usize];
    assert!(
        format!("{verify:?}").contains("signature is NOT checked"),
        "{verify:?}"
    );
}

#[tokio::test]
async fn claims_alone_are_explained_like_their_token() {
    let pair = Pair::new(Provider::Github, false).await;
    let token = pair
        .token()
        .claim("repository", "acme-labs/renamed")
        .sign()
        .unwrap();
    let offline = |fixture: &FixtureDocument| {
        let registry = Registry::new(RegistryConfig::default());
        registry.apply(fixture).unwrap();
        registry
    };
    let claims = token.claims.as_object().unwrap().clone();
    let from_claims = explain::explain(&offline(&pair.fixture), &Input::Claims(claims)).await;
    let from_token = explain::explain(&offline(&pair.fixture), &Input::Token(token.compact)).await;
    assert_eq!(from_claims.verdict, from_token.verdict);
    assert!(from_claims.verdict.is_err());
}

/// GitHub claims, each either kept or replaced by a value from a pool of near misses.
fn github_edits() -> impl Strategy<Value = Vec<(&'static str, Option<Value>)>> {
    let choices: Vec<(&'static str, Vec<Option<Value>>)> = vec![
        (
            "repository",
            vec![
                Some(json!("acme-labs/Widgetry")),
                Some(json!("acme-labs/widgetry ")),
                Some(json!("acme-labs/widgetry\u{200b}")),
                Some(json!("acmelabs")),
                Some(json!(7)),
            ],
        ),
        (
            "repository_owner",
            vec![Some(json!("Acme-Labs")), Some(json!(""))],
        ),
        (
            "repository_owner_id",
            vec![Some(json!("48213978")), Some(json!(48213977)), None],
        ),
        (
            "job_workflow_ref",
            vec![
                Some(json!(
                    "acme-labs/widgetry/.github/workflows/publish.yaml@refs/tags/v2.0.1"
                )),
                Some(json!(
                    "acme-labs/release-tools/.github/workflows/publish.yml@refs/heads/main"
                )),
                Some(json!(
                    "acme-labs/widgetry/.github/workflows/publish.yml@refs/heads/main"
                )),
                Some(json!("")),
            ],
        ),
        (
            "environment",
            vec![
                Some(json!("PYPI")),
                Some(json!("")),
                Some(json!("release")),
                Some(json!(1)),
                None,
            ],
        ),
        ("event_name", vec![Some(json!("pull_request_target"))]),
        ("ref", vec![Some(json!("")), Some(json!("refs/heads/main"))]),
        ("sha", vec![Some(json!(""))]),
    ];
    let strategies: Vec<_> = choices
        .into_iter()
        .map(|(name, pool)| {
            let pool_len = pool.len();
            (0..pool_len * 3).prop_map(move |i| {
                // Two in three keep the claim, so combinations of few edits dominate.
                (i < pool_len).then(|| (name, pool[i].clone()))
            })
        })
        .collect();
    strategies.prop_map(|edits| edits.into_iter().flatten().collect())
}

#[test]
fn github_near_misses_agree() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pair = runtime.block_on(Pair::new(Provider::Github, false));
    let config = ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    };
    proptest!(config, |(edits in github_edits())| {
        let mut token = pair.token();
        for (name, value) in edits {
            token = match value {
                Some(value) => token.claim(name, value),
                None => token.remove(name),
            };
        }
        runtime.block_on(pair.agree(token));
    });
}
