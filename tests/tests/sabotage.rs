//! The suite proves it can catch faults: it runs against deliberately broken variants of the
//! reference registry (`reference-registry`'s `sabotage` feature) and each variant must fail
//! exactly the scenarios listed for it, as plain failures, and pass every other one.
//!
//! A sabotaged registry runs as a remote target on a loopback port, told each scenario's
//! fixture through its control endpoint, so every scenario still starts from fresh state.
//! Its mock issuers are served as `mintcheck run` serves them: under paths of their own on
//! one listener (the gateway).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use mintcheck::rig::gateway::MockGateway;
use mintcheck::rig::issuers::IssuerSetup;
use mintcheck::rig::targets::Target;
use mintcheck::scenario::{Level, load_dir};
use mintcheck::suite::outcome::{Outcome, Verdict};
use mintcheck::suite::runner::{self, RunOptions};
use reference_registry::{Registry, RegistryConfig, Sabotage};

const CONTROL_TOKEN: &str = "sabotage-control-token";

fn scenarios_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
}

/// As `suite.rs`: `info` judged, at `level`.
fn options(level: Level) -> RunOptions {
    RunOptions {
        level,
        judge_info: true,
        ..RunOptions::default()
    }
}

/// A reference registry broken as `sabotage` says, on a loopback port: the target, and
/// its server (abort to stop).
async fn sabotaged(sabotage: Sabotage) -> (Target, tokio::task::JoinHandle<()>) {
    let registry = Registry::new(RegistryConfig {
        control_token: Some(CONTROL_TOKEN.to_owned()),
        ..RegistryConfig::default()
    });
    registry.sabotage(sabotage);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, reference_registry::app(registry)).await;
    });
    (
        Target::remote(format!("http://{addr}"), CONTROL_TOKEN),
        server,
    )
}

/// The whole suite at `level` against a reference registry broken as `sabotage` says, its
/// mock issuers on the gateway.
async fn run_suite(sabotage: Sabotage, level: Level) -> Vec<Outcome> {
    let gateway = MockGateway::start().await.expect("the gateway listens");
    let issuers = IssuerSetup {
        gateway: Some(Arc::new(gateway)),
        ..IssuerSetup::default()
    };
    run_suite_with(sabotage, level, issuers).await
}

async fn run_suite_with(sabotage: Sabotage, level: Level, issuers: IssuerSetup) -> Vec<Outcome> {
    let (target, server) = sabotaged(sabotage).await;
    let scenarios = load_dir(&scenarios_dir()).expect("the suite loads");
    let options = RunOptions {
        issuers,
        ..options(level)
    };
    let outcomes = runner::run(scenarios, &target, &options, |_| {}).await;
    server.abort();
    outcomes
}

fn describe(outcome: &Outcome) -> String {
    let mismatches: Vec<String> = outcome
        .steps
        .iter()
        .flat_map(|s| {
            s.mismatches.iter().map(|m| {
                format!(
                    "[{} at {}: expected {} got {}]",
                    s.name, m.at, m.expected, m.actual
                )
            })
        })
        .collect();
    format!(
        "{}: {:?} {}",
        outcome.id,
        outcome.verdict,
        mismatches.join(" ")
    )
}

/// Runs the suite at pypi-exact against `sabotage` and asserts that exactly `caught` fail
/// (each a plain `fail`) and every other scenario passes.
async fn assert_caught_by(sabotage: Sabotage, caught: &[&str]) {
    assert_caught_at(Level::PypiExact, sabotage, caught).await;
}

/// [`assert_caught_by`] in a run at `level`; scenarios the level does not judge are
/// skipped, and only they.
async fn assert_caught_at(level: Level, sabotage: Sabotage, caught: &[&str]) {
    let outcomes = run_suite(sabotage, level).await;
    let expected: BTreeSet<&str> = caught.iter().copied().collect();
    assert_eq!(expected.len(), caught.len(), "a scenario is listed twice");
    let known: BTreeSet<&str> = outcomes.iter().map(|o| o.id.as_str()).collect();
    let unknown: Vec<&&str> = expected.difference(&known).collect();
    assert!(unknown.is_empty(), "no such scenarios: {unknown:?}");

    let mut problems = Vec::new();
    for outcome in &outcomes {
        let should_fail = expected.contains(outcome.id.as_str());
        match (&outcome.verdict, should_fail) {
            (Verdict::Pass, false) | (Verdict::Fail, true) => {}
            (Verdict::Skip { .. }, false) if !level.judges(outcome.level) => {}
            (Verdict::Pass, true) => problems.push(format!("{}: passed, must fail", outcome.id)),
            (_, true) => problems.push(format!("must fail, not: {}", describe(outcome))),
            (_, false) => problems.push(format!("must pass, not: {}", describe(outcome))),
        }
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Fail)
        .map(|o| o.id.as_str())
        .collect();
    assert!(
        problems.is_empty(),
        "{sabotage:?}:\n{}\n(not passing: {failed:#?})",
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsabotaged_over_the_control_endpoint_passes_everything() {
    assert_caught_by(Sabotage::default(), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsabotaged_with_a_port_per_mock_issuer_passes_everything() {
    let outcomes = run_suite_with(
        Sabotage::default(),
        Level::PypiExact,
        IssuerSetup::default(),
    )
    .await;
    let not_passing: Vec<String> = outcomes
        .iter()
        .filter(|o| !matches!(o.verdict, Verdict::Pass | Verdict::Skip { .. }))
        .map(describe)
        .collect();
    assert!(not_passing.is_empty(), "{not_passing:#?}");
    assert!(
        outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Pass)
            .count()
            >= 325
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_the_expiry_check_is_caught() {
    let sabotage = Sabotage {
        skip_expiry: true,
        ..Sabotage::default()
    };
    assert_caught_by(
        sabotage,
        &[
            "attacks/claim-types/exp-zero",
            "endpoints/error-envelope-exact",
            "signature/expired",
            "time/exp-beyond-core-leeway",
            "time/exp-fraction-truncated",
            "time/exp-outside-leeway",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_the_audience_check_is_caught() {
    let sabotage = Sabotage {
        skip_audience: true,
        ..Sabotage::default()
    };
    assert_caught_by(
        sabotage,
        &[
            "attacks/claim-types/aud-empty-array",
            "attacks/claim-types/aud-empty-object",
            "attacks/claim-types/aud-true",
            "attacks/claim-types/aud-zero",
            "claims/audience-array",
            "claims/audience-case",
            "claims/audience-empty",
            "claims/audience-testpypi",
            "signature/wrong-audience",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_the_replay_store_is_caught() {
    let sabotage = Sabotage {
        skip_replay_store: true,
        ..Sabotage::default()
    };
    assert_caught_by(
        sabotage,
        &[
            "activestate/replay",
            "pending/replayed-jti-during-pending-lookup",
            "replay/concurrent",
            "replay/custom-gitlab-shares-gitlab-com-jtis",
            "replay/gitlab-sequential",
            "replay/refused-pending-leaves-token-usable",
            "replay/reuse-checked-before-event-name",
            "replay/sequential",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_the_owner_id_check_is_caught() {
    let sabotage = Sabotage {
        skip_owner_id: true,
        ..Sabotage::default()
    };
    assert_caught_by(
        sabotage,
        &[
            "github/claims/empty-owner-id",
            "github/claims/owner-id-drift",
            "github/claims/owner-id-leading-zero",
            "replay/mismatch-reported-before-reuse",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_insensitive_repository_lookup_is_caught() {
    let sabotage = Sabotage {
        repository_case_insensitive: true,
        ..Sabotage::default()
    };
    assert_caught_by(
        sabotage,
        &[
            "github/claims/repository-case",
            "github/claims/repository-name-case",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_alg_none_is_caught() {
    let sabotage = Sabotage {
        accept_alg_none: true,
        ..Sabotage::default()
    };
    assert_caught_by(sabotage, &["signature/alg-none"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_cache_for_all_issuers_is_caught() {
    let sabotage = Sabotage {
        shared_key_cache: true,
        ..Sabotage::default()
    };
    assert_caught_by(
        sabotage,
        &[
            "attacks/cross-issuer-key",
            "pending/creation-deletes-other-users-lookalikes",
            "pending/creation-keeps-other-names-pending",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_the_signature_check_is_caught() {
    let sabotage = Sabotage {
        skip_signature: true,
        ..Sabotage::default()
    };
    assert_caught_by(
        sabotage,
        &[
            "attacks/alg-absent",
            "attacks/alg-none-capitalised",
            "attacks/alg-none-mixed-case",
            "attacks/alg-none-upper-case",
            "attacks/cross-issuer-key-first-use",
            "attacks/cross-issuer-key",
            "attacks/es256-zero-signature",
            "attacks/hs256-empty-key",
            "attacks/hs256-public-key-der",
            "attacks/hs256-public-key-jwk",
            "attacks/hs256-public-key-jwk-spaced",
            "attacks/hs256-public-key-modulus",
            "attacks/hs256-public-key-pem-crlf",
            "attacks/hs256-public-key-pem-no-newline",
            "attacks/hs256-public-key-pkcs1-der",
            "attacks/hs256-public-key-pkcs1-pem",
            "attacks/jku-injection",
            "attacks/jwk-injection",
            "attacks/signature-corrupted",
            "attacks/signature-stripped",
            "attacks/signature-truncated",
            "attacks/x5c-injection",
            "attacks/x5u-injection",
            "jwks/jwk-alg-ps256",
            "jwks/jwk-alg-rs512",
            "jwks/jwk-malformed-modulus",
            "jwks/jwk-unknown-kty",
            "signature/alg-none",
            "signature/bad-signature",
            "signature/hs256-public-key",
            "signature/ps256-token",
            "signature/ps512-token",
            "signature/rs384-token",
            "signature/rs512-token",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_invalid_payload_with_500_is_caught() {
    let sabotage = Sabotage {
        invalid_payload_500: true,
        ..Sabotage::default()
    };
    assert_caught_by(
        sabotage,
        &[
            "attacks/b64-false",
            "attacks/claim-types/iss-empty-array",
            "attacks/claim-types/iss-empty-object",
            "attacks/claim-types/iss-true",
            "attacks/claim-types/iss-zero",
            "attacks/crit-b64-member-absent",
            "attacks/crit-unknown-extension",
            "attacks/json-serialization-flattened",
            "attacks/json-serialization-general",
            "attacks/jwe-five-segments",
            "attacks/kid/array",
            "attacks/kid/number",
            "attacks/kid/object",
            "attacks/malformed/bad-base64",
            "attacks/malformed/header-not-json",
            "attacks/malformed/payload-not-object",
            "attacks/oversized-token",
            "enablement/bad-body-while-disabled",
            "enablement/malformed-jwt-while-disabled",
            "enablement/unknown-issuer-while-disabled",
            "issuer/custom-issuer-trailing-slash",
            "issuer/explicit-port",
            "issuer/ghes-unregistered",
            "issuer/github-enterprise-slug",
            "issuer/google-without-scheme",
            "issuer/host-case",
            "issuer/http-scheme",
            "issuer/iss-as-array",
            "issuer/substituted-canonical-string-is-unknown",
            "issuer/trailing-dot",
            "issuer/trailing-slash",
            "issuer/unknown",
            "jwt/no-iss-member",
            "jwt/null-iss",
            "jwt/two-segments",
            "payload/body-array",
            "payload/body-null",
            "payload/body-number",
            "payload/body-string",
            "payload/duplicated-token-last-wins",
            "payload/empty-body",
            "payload/empty-object",
            "payload/empty-token",
            "payload/not-json",
            "payload/token-array",
            "payload/token-float",
            "payload/token-not-trimmed",
            "payload/token-null",
            "payload/token-object",
            "payload/token-true",
            "payload/token-zero",
            "payload/trailing-bytes",
            "payload/wrong-key",
            "pending/invalid-name",
            "pending/name-too-similar",
            "pending/registration-disabled",
            "pending/stdlib-name",
            "replay/creation-refusal-leaves-token-unused",
        ],
    )
    .await;
}

/// Does not compile once `Sabotage` gains a field: give the new variant a test above.
#[allow(dead_code)]
fn every_variant_has_a_test(sabotage: Sabotage) {
    let Sabotage {
        skip_expiry: _,
        skip_audience: _,
        skip_replay_store: _,
        skip_owner_id: _,
        repository_case_insensitive: _,
        accept_alg_none: _,
        skip_signature: _,
        invalid_payload_500: _,
        shared_key_cache: _,
        discovery_other_host: _,
        pep807_ten_minute_credentials: _,
        single_use_reusable: _,
        discovery_error_not_an_object: _,
    } = sabotage;
}

/// PEP 807's sabotages, each caught by the `pep807` scenario meant for it in a run at
/// `--level pep807` (which judges core too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pep807_sabotages_are_caught_at_level_pep807() {
    assert_caught_at(Level::Pep807, Sabotage::default(), &[]).await;
    let cases: [(Sabotage, &[&str]); 4] = [
        (
            Sabotage {
                discovery_other_host: true,
                ..Sabotage::default()
            },
            &[
                "pep807/discovery/accept-absent",
                "pep807/discovery/upload-path",
            ],
        ),
        (
            Sabotage {
                pep807_ten_minute_credentials: true,
                ..Sabotage::default()
            },
            &[
                "pep807/exchange/mint-default-features",
                "pep807/features/multi-use",
                "pep807/features/single-use",
            ],
        ),
        (
            Sabotage {
                single_use_reusable: true,
                ..Sabotage::default()
            },
            &["pep807/features/single-use"],
        ),
        (
            Sabotage {
                discovery_error_not_an_object: true,
                ..Sabotage::default()
            },
            &["pep807/discovery/bad-key"],
        ),
    ];
    for (sabotage, caught) in cases {
        assert_caught_at(Level::Pep807, sabotage, caught).await;
    }
}

/// `fuzz --pep807` finds the same two PEP 807 bugs by its invariants alone, and writes each
/// as a scenario file the loader takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pep807_fuzzing_finds_a_foreign_host_and_a_reusable_single_use_credential() {
    use mintcheck::fuzz::{self, FuzzOptions, Invariant};
    for (sabotage, invariant) in [
        (
            Sabotage {
                discovery_other_host: true,
                ..Sabotage::default()
            },
            Invariant::DiscoverySameHost,
        ),
        (
            Sabotage {
                single_use_reusable: true,
                ..Sabotage::default()
            },
            Invariant::SingleUseCredential,
        ),
    ] {
        let (target, server) = sabotaged(sabotage).await;
        let options = FuzzOptions {
            seed: 807,
            cases: Some(1500),
            pep807: true,
            shrink_iterations: 64,
            ..FuzzOptions::default()
        };
        let report = fuzz::run(&target, &options, |_| {}).await.unwrap();
        server.abort();
        let found: Vec<_> = report
            .failures
            .iter()
            .filter(|f| f.violation.invariant == invariant)
            .collect();
        assert!(
            !found.is_empty(),
            "{invariant} not found: {:?}",
            report
                .failures
                .iter()
                .map(|f| &f.violation)
                .collect::<Vec<_>>()
        );
        let text = fuzz::save::toml_text(found[0], options.seed).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("found.toml"), &text).unwrap();
        let loaded = load_dir(dir.path()).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(loaded[0].level, Level::Pep807, "{text}");
    }
}
