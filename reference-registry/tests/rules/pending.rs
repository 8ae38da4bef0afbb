//! Pending publishers (spec §13) and the name policy (R-NAME-*).

use reference_registry::FixtureDocument;
use reference_registry::fixture::{GithubIdentity, Identity, Provider, UsedJti};

use crate::support::{Setup, github, identity, pending, project, publisher};

async fn with_pending(name: &str, edit: impl FnOnce(&mut FixtureDocument)) -> Setup {
    Setup::bare(Provider::Github, |f| {
        f.pending_publishers
            .push(pending(identity(Provider::Github), name, "alice"));
        edit(f);
    })
    .await
}

#[tokio::test]
async fn r_pend_4_first_mint_creates_the_project_and_activates_the_publisher() {
    let setup = with_pending("Widgetry.Core", |_| {}).await;
    let token = setup.mint(setup.token()).await.assert_minted();
    // Now an active publisher: a second token mints through step 7.
    setup.mint(setup.token()).await.assert_minted();
    // The project exists under its verbatim name: the upload goes through.
    let reply = crate::upload::upload(
        &setup.target,
        &token,
        "widgetry-core",
        "widgetry_core-1.0.tar.gz",
    )
    .await;
    assert!(reply.status_line.starts_with("HTTP/1.1 200"), "{reply:?}");
}

#[tokio::test]
async fn r_pend_4_reuses_an_active_publisher_with_the_same_key() {
    let setup = with_pending("gadgetry", |f| {
        f.projects.push(project("widgetry"));
        f.publishers
            .push(publisher(identity(Provider::Github), &["widgetry"]));
    })
    .await;
    let token = setup.mint(setup.token()).await.assert_minted();
    // The token covers all of the publisher's projects.
    for name in ["widgetry", "gadgetry"] {
        let reply =
            crate::upload::upload(&setup.target, &token, name, &format!("{name}-1.0.tar.gz")).await;
        assert!(
            reply.status_line.starts_with("HTTP/1.1 200"),
            "{name}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn r_pend_4_other_users_pending_publishers_are_deleted() {
    let bob_identity = GithubIdentity {
        repository_name: "other".into(),
        ..github()
    };
    let setup = with_pending("gadgetry", |f| {
        f.pending_publishers
            .push(pending(Identity::Github(bob_identity), "Gadgetry_", "bob"));
    })
    .await;
    setup.mint(setup.token()).await.assert_minted();
    // Bob's pending publisher is gone: his token finds nothing rather than hitting R-PEND-2.
    let bob = setup.token().claim("repository", "acme-labs/other").claim(
        "job_workflow_ref",
        "acme-labs/other/.github/workflows/publish.yml@refs/tags/v2.0.1",
    );
    setup
        .mint(bob)
        .await
        .assert_no_publisher("Publisher with matching claims was not found");
}

#[tokio::test]
async fn r_pend_2_project_exists() {
    let setup = with_pending("Widgetry", |f| f.projects.push(project("widgetry"))).await;
    let token = setup.token().sign().unwrap();
    setup.target.mint(token.as_str()).await.assert_error(
        "invalid-pending-publisher",
        "valid token, but project already exists",
    );
    // The pending publisher was deleted; the same token now gets invalid-publisher.
    setup
        .target
        .mint(token.as_str())
        .await
        .assert_no_publisher("Publisher with matching claims was not found");
}

#[tokio::test]
async fn r_pend_1_pending_failures_are_silent() {
    let setup = with_pending("gadgetry", |_| {}).await;
    let reply = setup
        .mint(setup.token().claim("event_name", "pull_request_target"))
        .await;
    reply.assert_no_publisher("Publisher with matching claims was not found");
}

#[tokio::test]
async fn r_name_1_creation_refusals_in_order() {
    let help = "https://pypi.org/help/";
    let cases: [(&str, &str); 6] = [
        ("bad name!", "The name 'bad name!' is invalid."),
        ("-leading", "The name '-leading' is invalid."),
        (
            "asyncio",
            &format!(
                "The name 'asyncio' isn't allowed (conflict with Python Standard Library module name). See {help}#project-name for more information."
            ),
        ),
        (
            "OS.Path",
            &format!(
                "The name 'OS.Path' isn't allowed (conflict with Python Standard Library module name). See {help}#project-name for more information."
            ),
        ),
        (
            "Forbidden_Thing",
            &format!(
                "The name 'Forbidden_Thing' isn't allowed. See {help}#project-name for more information."
            ),
        ),
        (
            "wIdgetry",
            &format!(
                "The name 'wIdgetry' is too similar to an existing project. See {help}#project-name for more information."
            ),
        ),
    ];
    for (name, text) in cases {
        let setup = with_pending(name, |f| {
            f.prohibited_names.push("forbidden.thing".into());
            f.projects.push(project("w1dgetry"));
        })
        .await;
        let token = setup.token().sign().unwrap();
        setup
            .target
            .mint(token.as_str())
            .await
            .assert_error("invalid-payload", text);
        // R-PEND-3: nothing changed, and R-JTI-5: the token is still usable.
        setup
            .target
            .mint(token.as_str())
            .await
            .assert_error("invalid-payload", text);
    }
    // Row 1 comes first.
    let setup = with_pending("asyncio", |f| {
        f.flags.disallow_new_project_registration = true
    })
    .await;
    setup.mint(setup.token()).await.assert_error(
        "invalid-payload",
        &format!("New project registration temporarily disabled. See {help}#admin-intervention for more information."),
    );
}

#[tokio::test]
async fn r_name_2_one_character_is_enough() {
    let setup = with_pending("x", |_| {}).await;
    setup.mint(setup.token()).await.assert_minted();
}

#[tokio::test]
async fn r_def_3_replayed_jti_in_pending_lookup() {
    let setup = with_pending("gadgetry", |f| {
        f.used_jtis.push(UsedJti {
            provider: Provider::Github,
            jti: "used".into(),
            expires: None,
        });
    })
    .await;
    let token = setup.token().claim("jti", "used").sign().unwrap();
    setup
        .target
        .mint(token.as_str())
        .await
        .assert_error("invalid-reuse-token", "invalid token: already used");
    // No project was created and the pending publisher stays: a fresh token creates it.
    setup.mint(setup.token()).await.assert_minted();
}
