//! The target's state a case starts from (projects, publishers, pending publishers, flags)
//! and the uploads tried after a mint.

use std::collections::BTreeSet;

use mock_issuer::profile::identity as id;
use mock_issuer::{Profile, Provider};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::BoxedStrategy;
use reference_registry::fixture::{
    ActiveStateIdentity, GithubIdentity, GitlabIdentity, GoogleIdentity, Identity,
    PendingPublisher, Publisher,
};
use reference_registry::normalize;

use crate::fuzz::case::{Credential, UploadTry};
use crate::scenario::model::{Fixture, Flag};

/// Existing projects: names that collide under `normalize` with each other, with pending
/// projects and with upload names.
const PROJECTS: [&str; 6] = [
    "widgetry",
    "Widgetry",
    "sprocket-tools",
    "sprocket_tools",
    "Sprocket.Tools",
    "gizmo",
];

/// Names a pending publisher would create (R-NAME-1: invalid, stdlib, too similar,
/// prohibited, colliding), or fine ones.
const PENDING_PROJECTS: [&str; 9] = [
    "new-project",
    "widgetry",
    "New.Project",
    "sprocket_tools",
    "w1dgetry",
    "asyncio",
    "-bad-",
    "prohibited-name",
    "gizmo",
];

const UPLOAD_NAMES: [&str; 10] = [
    "widgetry",
    "WIDGETRY",
    "sprocket-tools",
    "Sprocket.Tools",
    "sprocket__tools",
    "new-project",
    "New_Project",
    "gizmo",
    "unrelated",
    "w1dgetry",
];

/// The target's state, built around the publishers the token's provider could match.
pub(super) fn fixture(profile: Profile) -> impl Strategy<Value = Fixture> {
    let provider = profile.provider();
    // Most fixtures hold the publisher the profile's token matches, so claim checks and
    // the steps after a successful mint are reached.
    let matching = prop::option::weighted(
        0.75,
        (Just(identities(provider)[0].clone()), 0..PROJECTS.len()),
    );
    let publisher_provider = prop_oneof![4 => Just(provider), 1 => select(Provider::ALL.to_vec())];
    let others = prop::collection::vec(
        (
            publisher_provider.prop_flat_map(identity),
            0..PROJECTS.len(),
        ),
        0..=2,
    );
    let publishers = (matching, others)
        .prop_map(|(matching, others)| matching.into_iter().chain(others).collect::<Vec<_>>());
    let pending = prop::option::weighted(
        0.3,
        (
            identity(provider),
            select(PENDING_PROJECTS.to_vec()),
            prop::bool::weighted(0.1),
        ),
    );
    let flags = prop::option::weighted(0.1, select(Flag::ALL.to_vec()));
    let audience = prop::option::weighted(0.1, Just("testpypi"));
    let prohibited = prop::bool::weighted(0.2);
    let projects = prop::collection::vec(select(PROJECTS.to_vec()), 0..=2);
    (projects, publishers, pending, flags, audience, prohibited).prop_map(
        |(projects, publishers, pending, flag, audience, prohibited)| {
            let mut fixture = Fixture {
                audience: audience.map(str::to_owned),
                flags: flag.into_iter().collect(),
                prohibited_names: if prohibited {
                    vec!["prohibited-name".to_owned()]
                } else {
                    Vec::new()
                },
                ..Fixture::default()
            };
            let mut normalized = BTreeSet::new();
            for project in projects {
                add_project(&mut fixture, &mut normalized, project);
            }
            let mut keys = BTreeSet::new();
            for (identity, project) in publishers {
                if !keys.insert(key_fields(&identity)) {
                    continue;
                }
                let project = add_project(&mut fixture, &mut normalized, PROJECTS[project]);
                fixture.publishers.push(Publisher {
                    id: None,
                    projects: vec![project],
                    identity,
                });
            }
            if let Some((identity, project_name, expired)) = pending {
                fixture.pending_publishers.push(PendingPublisher {
                    project_name: project_name.to_owned(),
                    added_by: "alice".to_owned(),
                    identity,
                    age_days: expired.then_some(31),
                });
            }
            fixture
        },
    )
}

/// Adds `name` unless a project of the same `normalize`d name exists; returns the name
/// the fixture knows the project by.
fn add_project(fixture: &mut Fixture, normalized: &mut BTreeSet<String>, name: &str) -> String {
    let key = normalize(name);
    if normalized.insert(key.clone()) {
        fixture.projects.push(name.to_owned());
        return name.to_owned();
    }
    fixture
        .projects
        .iter()
        .find(|p| normalize(p) == key)
        .cloned()
        .expect("a normalized name is recorded with its project")
}

/// The fields §1.3 makes unique per provider, compared without case so that no two
/// publishers could both be selected (§17 item 14).
pub(super) fn key_fields(identity: &Identity) -> String {
    let fields = match identity {
        Identity::Github(g) => [
            "github",
            &g.repository_owner,
            &g.repository_name,
            &g.workflow_filename,
            &g.environment,
        ]
        .join("\n"),
        Identity::Gitlab(g) => [
            "gitlab",
            &g.namespace,
            &g.project,
            &g.workflow_filepath,
            &g.environment,
        ]
        .join("\n"),
        Identity::Google(g) => ["google", &g.email, &g.sub].join("\n"),
        Identity::ActiveState(a) => [
            "activestate",
            &a.organization,
            &a.activestate_project_name,
            &a.actor_id,
        ]
        .join("\n"),
    };
    fields.to_lowercase()
}

/// The §18 identity of `provider`, or it with one field changed.
fn identity(provider: Provider) -> BoxedStrategy<Identity> {
    select(identities(provider)).boxed()
}

fn identities(provider: Provider) -> Vec<Identity> {
    match provider {
        Provider::Github => variants(
            GithubIdentity {
                repository_owner: id::GITHUB_OWNER.to_owned(),
                repository_name: id::GITHUB_REPOSITORY_NAME.to_owned(),
                repository_owner_id: id::GITHUB_OWNER_ID.to_owned(),
                workflow_filename: id::GITHUB_WORKFLOW.to_owned(),
                environment: id::GITHUB_ENVIRONMENT.to_owned(),
            },
            Identity::Github,
            &[
                |g| g.environment = String::new(),
                |g| g.environment = "staging".into(),
                |g| g.repository_owner_id = "48213978".into(),
                |g| g.workflow_filename = "publish.yaml".into(),
                |g| g.workflow_filename = "release.yml".into(),
                |g| g.repository_owner = "Acme-Labs".into(),
                |g| g.repository_name = "Widgetry".into(),
            ],
        ),
        Provider::Gitlab => variants(
            GitlabIdentity {
                namespace: id::GITLAB_NAMESPACE.to_owned(),
                project: id::GITLAB_PROJECT.to_owned(),
                workflow_filepath: id::GITLAB_WORKFLOW_FILEPATH.to_owned(),
                environment: id::GITLAB_ENVIRONMENT.to_owned(),
                issuer_url: Provider::Gitlab.canonical_issuer().to_owned(),
            },
            Identity::Gitlab,
            &[
                |g| g.environment = String::new(),
                |g| g.environment = "Release".into(),
                |g| g.namespace = "Acme/Python".into(),
                |g| g.project = "Widgetry".into(),
                |g| g.workflow_filepath = ".gitlab-ci.yaml".into(),
                |g| g.issuer_url = "https://gitlab.acme.example".into(),
            ],
        ),
        Provider::Google => variants(
            GoogleIdentity {
                email: id::GOOGLE_EMAIL.to_owned(),
                sub: id::GOOGLE_SUB.to_owned(),
            },
            Identity::Google,
            &[
                |g| g.sub = String::new(),
                |g| g.sub = "104729384756120394858".into(),
                |g| g.email = g.email.to_ascii_uppercase(),
            ],
        ),
        Provider::ActiveState => variants(
            ActiveStateIdentity {
                organization: id::ACTIVESTATE_ORGANIZATION.to_owned(),
                activestate_project_name: id::ACTIVESTATE_PROJECT.to_owned(),
                actor: id::ACTIVESTATE_ACTOR.to_owned(),
                actor_id: id::ACTIVESTATE_ACTOR_ID.to_owned(),
            },
            Identity::ActiveState,
            &[
                |a| a.organization = "Acme".into(),
                |a| a.activestate_project_name = "gizmo".into(),
                |a| a.actor_id = "00000000-0000-4000-8000-000000000000".into(),
            ],
        ),
    }
}

/// `base`, then `base` with each edit applied on its own.
fn variants<T: Clone>(base: T, wrap: fn(T) -> Identity, edits: &[fn(&mut T)]) -> Vec<Identity> {
    let edited = edits.iter().map(|edit| {
        let mut changed = base.clone();
        edit(&mut changed);
        wrap(changed)
    });
    std::iter::once(wrap(base.clone())).chain(edited).collect()
}

/// Uploads tried with a minted token: names that normalise to a project or not, each once.
pub(super) fn uploads() -> impl Strategy<Value = Vec<UploadTry>> {
    let credential = prop_oneof![
        8 => Just(Credential::Minted),
        1 => Just(Credential::OidcToken),
        1 => Just(Credential::Tampered),
    ];
    prop::collection::vec((select(UPLOAD_NAMES.to_vec()), credential), 0..=2).prop_map(|tries| {
        let mut seen = BTreeSet::new();
        tries
            .into_iter()
            .filter(|(name, _)| seen.insert(normalize(name)))
            .map(|(name, credential)| UploadTry {
                name: name.to_owned(),
                version: "1.0.0".to_owned(),
                credential,
            })
            .collect()
    })
}
