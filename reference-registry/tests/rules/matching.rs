//! Steps 6 and 7 for active publishers: spec §7 to §11.

use mock_issuer::Defect;
use reference_registry::fixture::{
    GithubIdentity, GitlabIdentity, GoogleIdentity, Identity, Provider,
};
use serde_json::json;

use crate::support::{Setup, github, gitlab, google, publisher};

const NOT_FOUND: &str = "Publisher with matching claims was not found";

async fn with_publishers(provider: Provider, identities: Vec<Identity>) -> Setup {
    Setup::bare(provider, |f| {
        f.projects.push(crate::support::project("widgetry"));
        for identity in identities {
            f.publishers.push(publisher(identity, &["widgetry"]));
        }
    })
    .await
}

#[tokio::test]
async fn r_pub_2_missing_required_claims_in_listed_order() {
    let lists: [(Provider, &[&str]); 4] = [
        (
            Provider::Github,
            &[
                "repository",
                "repository_owner",
                "repository_owner_id",
                "job_workflow_ref",
                "jti",
                "event_name",
                "ref",
                "sha",
            ],
        ),
        (
            Provider::Gitlab,
            &[
                "sub",
                "project_path",
                "ci_config_ref_uri",
                "jti",
                "ref_path",
                "sha",
            ],
        ),
        (Provider::Google, &["email", "email_verified"]),
        (
            Provider::ActiveState,
            &["sub", "organization", "project", "actor_id", "builder"],
        ),
    ];
    for (provider, required) in lists {
        // Reported even when no publisher exists.
        let setup = Setup::bare(provider, |_| {}).await;
        for claim in required {
            let reply = setup.mint(setup.token().remove(*claim)).await;
            reply.assert_no_publisher(&format!("Missing claim '{claim}'"));
            if *claim != "jti" && *claim != "sub" {
                let reply = setup.mint(setup.token().claim(*claim, json!(null))).await;
                reply.assert_no_publisher(&format!("Missing claim '{claim}'"));
            }
        }
        // The first in the listed order is the one reported.
        let mut token = setup.token();
        for claim in required.iter().rev() {
            token = token.remove(*claim);
        }
        setup
            .mint(token)
            .await
            .assert_no_publisher(&format!("Missing claim '{}'", required[0]));
    }
}

#[tokio::test]
async fn r_pub_5_r_pub_7_no_publisher() {
    let setup = Setup::bare(Provider::Github, |_| {}).await;
    setup
        .mint(setup.token())
        .await
        .assert_no_publisher(NOT_FOUND);
}

#[tokio::test]
async fn r_gh_1_identity_fields() {
    let setup = Setup::standard(Provider::Github).await;
    setup
        .mint(setup.token().defect(Defect::RenamedRepository))
        .await
        .assert_no_publisher(NOT_FOUND);
    setup
        .mint(setup.token().defect(Defect::OwnerIdDrift))
        .await
        .assert_no_publisher(NOT_FOUND);
    let other = "acme-labs/widgetry/.github/workflows/other.yml@refs/tags/v2.0.1";
    setup
        .mint(setup.token().claim("job_workflow_ref", other))
        .await
        .assert_no_publisher(NOT_FOUND);
    // The caller's workflow_ref is not what is matched.
    setup
        .mint(
            setup
                .token()
                .claim("workflow_ref", "x/y/.github/workflows/z.yml@main"),
        )
        .await
        .assert_minted();
    setup
        .mint(setup.token().claim("environment", "staging"))
        .await
        .assert_no_publisher(NOT_FOUND);
}

#[tokio::test]
async fn r_gh_2_workflow_extraction_failure() {
    let setup = Setup::standard(Provider::Github).await;
    for claim in [
        json!("acme-labs/widgetry/.github/workflows/.yml@main"),
        json!("no-yaml-here"),
        json!(5),
    ] {
        let reply = setup
            .mint(setup.token().claim("job_workflow_ref", claim))
            .await;
        reply.assert_no_publisher("Could not job extract workflow filename from OIDC claims");
    }
}

#[tokio::test]
async fn r_gh_2_nested_at_sign_workflow() {
    let p = GithubIdentity {
        workflow_filename: "nested@evil.yml".into(),
        ..github()
    };
    let setup = with_publishers(Provider::Github, vec![Identity::Github(p)]).await;
    let claim = "acme-labs/widgetry/.github/workflows/nested@evil.yml@refs/tags/v2.0.1";
    setup
        .mint(setup.token().claim("job_workflow_ref", claim))
        .await
        .assert_minted();
}

#[tokio::test]
async fn r_gh_3_repository_case_and_environment_case() {
    let setup = Setup::standard(Provider::Github).await;
    let reply = setup
        .mint(setup.token().claim("repository", "Acme-Labs/Widgetry"))
        .await;
    reply.assert_no_publisher(NOT_FOUND);
    setup
        .mint(setup.token().claim("environment", "PyPI"))
        .await
        .assert_minted();
    // Stored lowercase: a fixture spelling "PyPI" is lowercased on apply.
    let p = GithubIdentity {
        environment: "PyPI".into(),
        ..github()
    };
    let setup = with_publishers(Provider::Github, vec![Identity::Github(p)]).await;
    setup
        .mint(setup.token().claim("environment", "PYPI"))
        .await
        .assert_minted();
}

#[tokio::test]
async fn r_pub_6_environment_preference() {
    let any = GithubIdentity {
        environment: String::new(),
        ..github()
    };
    let setup = with_publishers(Provider::Github, vec![Identity::Github(any)]).await;
    setup.mint(setup.token()).await.assert_minted();
    setup
        .mint(setup.token().remove("environment"))
        .await
        .assert_minted();
    setup
        .mint(setup.token().claim("environment", "other"))
        .await
        .assert_minted();
    // Only a specific one: a token without environment finds nothing.
    let setup = Setup::standard(Provider::Github).await;
    setup
        .mint(setup.token().remove("environment"))
        .await
        .assert_no_publisher(NOT_FOUND);
    setup
        .mint(setup.token().claim("environment", json!(3)))
        .await
        .assert_no_publisher(NOT_FOUND);
}

#[tokio::test]
async fn r_gh_4_verification_order_and_messages() {
    let setup = Setup::standard(Provider::Github).await;
    // 2: repository_owner contradicting repository.
    let reply = setup
        .mint(setup.token().claim("repository_owner", "someone-else"))
        .await;
    reply.assert_no_publisher("Check failed for required claim 'repository_owner'");
    let reply = setup
        .mint(setup.token().claim("repository_owner", json!(1)))
        .await;
    reply.assert_no_publisher("Check failed for required claim 'repository_owner'");
    // 4: ref and sha both empty.
    let reply = setup
        .mint(setup.token().claim("ref", "").claim("sha", ""))
        .await;
    reply.assert_no_publisher("The ref and sha claims are empty");
    // 4: one of them may be empty (R-GH-6).
    let by_sha =
        "acme-labs/widgetry/.github/workflows/publish.yml@4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    setup
        .mint(
            setup
                .token()
                .claim("ref", "")
                .claim("job_workflow_ref", by_sha),
        )
        .await
        .assert_minted();
    // 4: not in E.
    let claim = "acme-labs/widgetry/.github/workflows/publish.yml@@";
    let reply = setup
        .mint(
            setup
                .token()
                .claim("job_workflow_ref", claim)
                .claim("ref", "notrailingslash")
                .claim("sha", "somesha"),
        )
        .await;
    reply.assert_no_publisher(
        "The job_workflow_ref claim does not match, expecting one of ['acme-labs/widgetry/.github/workflows/publish.yml@notrailingslash', 'acme-labs/widgetry/.github/workflows/publish.yml@somesha'], got 'acme-labs/widgetry/.github/workflows/publish.yml@@'",
    );
    // 6 comes after 4.
    let reply = setup
        .mint(
            setup
                .token()
                .claim("event_name", "pull_request_target")
                .claim("ref", "")
                .claim("sha", ""),
        )
        .await;
    reply.assert_no_publisher("The ref and sha claims are empty");
    // 7: environment verification when the stored one is specific is only reachable with a
    // matching claim; mismatches are lookup failures (covered by r_pub_6).
}

#[tokio::test]
async fn r_gh_5_pull_request_target_refused() {
    let setup = Setup::standard(Provider::Github).await;
    let reply = setup
        .mint(setup.token().claim("event_name", "pull_request_target"))
        .await;
    reply.assert_no_publisher(
        "Publishing from a workflow invoked via 'pull_request_target' is not supported.",
    );
    setup
        .mint(setup.token().claim("event_name", "workflow_dispatch"))
        .await
        .assert_minted();
}

#[tokio::test]
async fn r_def_4_5_repository_without_slash_or_not_a_string() {
    let setup = Setup::standard(Provider::Github).await;
    for value in [json!("acme-labs"), json!(17), json!(["acme-labs/widgetry"])] {
        setup
            .mint(setup.token().claim("repository", value))
            .await
            .assert_no_publisher(NOT_FOUND);
    }
    setup
        .mint(setup.token().claim("repository_owner_id", json!(48213977)))
        .await
        .assert_no_publisher(NOT_FOUND);
    let setup = Setup::standard(Provider::Gitlab).await;
    setup
        .mint(setup.token().claim("project_path", "widgetry"))
        .await
        .assert_no_publisher(NOT_FOUND);
    let reply = setup
        .mint(setup.token().claim("ci_config_ref_uri", json!(1)))
        .await;
    reply.assert_no_publisher("Could not extract workflow filename from OIDC claims");
}

#[tokio::test]
async fn r_gl_1_2_3_lookup() {
    let setup = Setup::standard(Provider::Gitlab).await;
    setup.mint(setup.token()).await.assert_minted();
    // Namespace and project ignore case in the lookup, but R-GL-4 step 3 compares the URI.
    let reply = setup
        .mint(
            setup
                .token()
                .claim("project_path", "ACME/Python/Widgetry")
                .claim(
                    "sub",
                    "project_path:ACME/Python/Widgetry:ref_type:tag:ref:v2.0.1",
                ),
        )
        .await;
    reply.assert_minted();
    for uri in [
        "gitlab.com/acme/python/widgetry//ci/.yml@main",
        "gitlab.com/acme/python/widgetry/.gitlab-ci.yml@main",
    ] {
        let reply = setup
            .mint(setup.token().claim("ci_config_ref_uri", uri))
            .await;
        reply.assert_no_publisher("Could not extract workflow filename from OIDC claims");
    }
    let reply = setup
        .mint(setup.token().claim(
            "ci_config_ref_uri",
            "gitlab.com/acme/python/widgetry//.GITLAB-CI.yml@refs/tags/v2.0.1",
        ))
        .await;
    reply.assert_no_publisher(NOT_FOUND);
    // Environment is exact for GitLab.
    setup
        .mint(setup.token().claim("environment", "Release"))
        .await
        .assert_no_publisher(NOT_FOUND);
}

#[tokio::test]
async fn r_gl_4_verification_order_and_messages() {
    let setup = Setup::standard(Provider::Gitlab).await;
    for sub in [
        "",
        "project_path",
        ":acme/python/widgetry",
        "project_path:other/repo:x",
        "ref:acme/python/widgetry",
    ] {
        let reply = setup.mint(setup.token().claim("sub", sub)).await;
        reply.assert_no_publisher("Check failed for required claim 'sub'");
    }
    setup
        .mint(
            setup
                .token()
                .claim("sub", "PROJECT_PATH:acme/python/widgetry"),
        )
        .await
        .assert_minted();
    let reply = setup.mint(setup.token().claim("ref_path", "")).await;
    reply.assert_no_publisher("The ref_path and sha claims are empty");
    let reply = setup.mint(setup.token().claim("sha", "")).await;
    reply.assert_no_publisher("The ref_path and sha claims are empty");
    let reply = setup
        .mint(
            setup
                .token()
                .claim("ref_path", "refs/heads/main")
                .claim("sha", "abc"),
        )
        .await;
    reply.assert_no_publisher(
        "The ci_config_ref_uri claim does not match, expecting one of ['gitlab.com/acme/python/widgetry//.gitlab-ci.yml@abc', 'gitlab.com/acme/python/widgetry//.gitlab-ci.yml@refs/heads/main'], got 'gitlab.com/acme/python/widgetry//.gitlab-ci.yml@refs/tags/v2.0.1'",
    );
    // A publisher stored as Foo/Bar fails step 3 for a lowercase URI.
    let p = GitlabIdentity {
        namespace: "Acme/Python".into(),
        ..gitlab()
    };
    let setup = with_publishers(Provider::Gitlab, vec![Identity::Gitlab(p)]).await;
    let reply = setup.mint(setup.token()).await;
    assert!(
        reply
            .body
            .contains("The ci_config_ref_uri claim does not match"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn r_gl_4_environment_any() {
    let p = GitlabIdentity {
        environment: String::new(),
        ..gitlab()
    };
    let setup = with_publishers(Provider::Gitlab, vec![Identity::Gitlab(p)]).await;
    setup
        .mint(setup.token().remove("environment"))
        .await
        .assert_minted();
}

#[tokio::test]
async fn r_goog_1_2_3_google() {
    let setup = Setup::standard(Provider::Google).await;
    setup.mint(setup.token()).await.assert_minted();
    setup
        .mint(
            setup
                .token()
                .claim("email", "Release-Bot@acme-ci.iam.gserviceaccount.com"),
        )
        .await
        .assert_no_publisher(NOT_FOUND);
    for value in [json!(false), json!("true"), json!("")] {
        let reply = setup
            .mint(setup.token().claim("email_verified", value))
            .await;
        reply.assert_no_publisher("Check failed for required claim 'email_verified'");
    }
    // A publisher with a sub: the claim must equal it.
    let specific = GoogleIdentity {
        sub: "104729384756120394857".into(),
        ..google()
    };
    let setup = with_publishers(Provider::Google, vec![Identity::Google(specific.clone())]).await;
    setup.mint(setup.token()).await.assert_minted();
    setup
        .mint(setup.token().claim("sub", "1"))
        .await
        .assert_no_publisher(NOT_FOUND);
    // Both: the specific one is preferred, the "any" one takes the rest.
    let setup = with_publishers(
        Provider::Google,
        vec![Identity::Google(google()), Identity::Google(specific)],
    )
    .await;
    setup
        .mint(setup.token().claim("sub", "1"))
        .await
        .assert_minted();
}

#[tokio::test]
async fn r_goog_4_google_tokens_without_jti_replay() {
    let setup = Setup::standard(Provider::Google).await;
    let token = setup.token().sign().unwrap();
    setup.target.mint(token.as_str()).await.assert_minted();
    setup.target.mint(token.as_str()).await.assert_minted();
}

#[tokio::test]
async fn r_as_1_2_3_activestate() {
    let setup = Setup::standard(Provider::ActiveState).await;
    setup.mint(setup.token()).await.assert_minted();
    for (claim, value) in [
        ("organization", "other"),
        ("project", "other"),
        ("actor_id", "other"),
    ] {
        setup
            .mint(setup.token().claim(claim, value))
            .await
            .assert_no_publisher(NOT_FOUND);
    }
    // The actor claim is ignored.
    setup
        .mint(setup.token().claim("actor", "mallory"))
        .await
        .assert_minted();
    let cases = [
        ("", "Missing 'subject' claim"),
        ("org:acme:project", "Invalid 'subject' claim. Wrong format"),
        ("org:acme:project:other", "Invalid 'subject' claim"),
        ("ORG:acme:project:widgetry", "Invalid 'subject' claim"),
    ];
    for (sub, reason) in cases {
        setup
            .mint(setup.token().claim("sub", sub))
            .await
            .assert_no_publisher(reason);
    }
    setup
        .mint(
            setup
                .token()
                .claim("sub", "org:acme:project:widgetry:extra:parts"),
        )
        .await
        .assert_minted();
    let reply = setup.mint(setup.token().claim("builder", "other")).await;
    reply.assert_no_publisher("Check failed for required claim 'builder'");
}
