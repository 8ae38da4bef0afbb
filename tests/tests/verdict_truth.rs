//! Verdict truth, both directions, on a registry that is not the reference: the independent
//! registry of `mintcheck_tests::independent`, written from the spec alone.
//!
//! *Freedoms*: each variant takes one choice the spec leaves open at core; the whole core
//! suite must pass against it (no failure, no inconclusive, no error; a missed SHOULD is an
//! advisory). *Vulnerabilities*: each variant has one bug a real verifier or registry had;
//! exactly the listed scenarios must catch it, each with a wrong decision, and every other
//! must pass. `docs/verdict-truth.md` tabulates both; a test below keeps the two in step.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use mintcheck::spec::grading::Aspect;
use mintcheck::suite::outcome::{Outcome, Verdict};
use mintcheck_tests::independent::{Behaviour, ErrorBody, Flaws, SuccessBody};

mod common;

use common::{core_run, describe};

/// A freedom: a choice the spec allows at core.
struct Freedom {
    name: &'static str,
    behaviour: Behaviour,
    /// The freedom is a SHOULD the variant does not meet: its scenarios report advisories.
    advisory: bool,
}

fn freedom(name: &'static str, behaviour: Behaviour) -> Freedom {
    Freedom {
        name,
        behaviour,
        advisory: false,
    }
}

fn should(name: &'static str, behaviour: Behaviour) -> Freedom {
    Freedom {
        name,
        behaviour,
        advisory: true,
    }
}

fn freedoms() -> Vec<Freedom> {
    let base = Behaviour::default;
    vec![
        freedom("baseline (own wording, own token format)", base()),
        should(
            "success body is the token alone",
            Behaviour {
                success_body: SuccessBody::TokenOnly,
                ..base()
            },
        ),
        freedom(
            "success body with extra members",
            Behaviour {
                success_body: SuccessBody::Extra,
                ..base()
            },
        ),
        freedom(
            "tokens live 6 hours",
            Behaviour {
                lifetime_seconds: 21_600.0,
                ..base()
            },
        ),
        freedom(
            "error body with its own message, two errors and extra members",
            Behaviour {
                error_body: ErrorBody::Richer,
                ..base()
            },
        ),
        should(
            "unknown issuer in other words",
            Behaviour {
                own_unknown_issuer_wording: true,
                ..base()
            },
        ),
        freedom(
            "other methods on the mint path: 404",
            Behaviour {
                other_methods: StatusCode::NOT_FOUND,
                ..base()
            },
        ),
        freedom(
            "other methods on the mint path: 400",
            Behaviour {
                other_methods: StatusCode::BAD_REQUEST,
                ..base()
            },
        ),
        should(
            "audience endpoint answers 200 while disabled",
            Behaviour {
                audience_when_disabled: StatusCode::OK,
                ..base()
            },
        ),
        freedom(
            "uploads answered 201",
            Behaviour {
                upload_status: 201,
                ..base()
            },
        ),
        should(
            "upload refusals without the message in the body",
            Behaviour {
                upload_message_in_body: false,
                ..base()
            },
        ),
        freedom(
            "no clock leeway",
            Behaviour {
                leeway_seconds: 0.0,
                ..base()
            },
        ),
        freedom(
            "60 s of clock leeway",
            Behaviour {
                leeway_seconds: 60.0,
                ..base()
            },
        ),
        freedom(
            "aud arrays holding the audience accepted",
            Behaviour {
                audience_arrays: true,
                ..base()
            },
        ),
        freedom(
            "RS384, RS512 and PS* accepted",
            Behaviour {
                other_rsa_algorithms: true,
                ..base()
            },
        ),
        freedom(
            "keys under 2048 bits refused",
            Behaviour {
                min_key_bits: 2048,
                ..base()
            },
        ),
        freedom(
            "a token without kid verified with the issuer's only key",
            Behaviour {
                kid_required: false,
                ..base()
            },
        ),
        freedom(
            "replays refused as invalid-token",
            Behaviour {
                replay_code: "invalid-token",
                ..base()
            },
        ),
        freedom(
            "repository names compared ignoring case",
            Behaviour {
                repository_case_insensitive: true,
                ..base()
            },
        ),
        freedom(
            "422 Unprocessable Content",
            Behaviour {
                unprocessable_reason: "Unprocessable Content",
                ..base()
            },
        ),
        freedom(
            "application/json; charset=utf-8",
            Behaviour {
                charset: true,
                ..base()
            },
        ),
        freedom(
            "keys seeded from the fixture's inline JWKS",
            Behaviour {
                seed_keys_from_fixture: true,
                ..base()
            },
        ),
        freedom(
            "one key refresh per issuer per 60 s",
            Behaviour {
                key_refresh_cooldown: Duration::from_secs(60),
                ..base()
            },
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_freedom_passes_the_whole_core_suite() {
    let mut problems = Vec::new();
    for freedom in freedoms() {
        let outcomes = core_run(freedom.behaviour).await;
        let judged = outcomes
            .iter()
            .filter(|o| !matches!(o.verdict, Verdict::Skip { .. }))
            .count();
        assert!(judged > 150, "{}: only {judged} judged", freedom.name);
        let bad: Vec<String> = outcomes
            .iter()
            .filter(|o| {
                !matches!(
                    o.verdict,
                    Verdict::Pass | Verdict::Advisory | Verdict::Skip { .. }
                )
            })
            .map(describe)
            .collect();
        if !bad.is_empty() {
            problems.push(format!("{}:\n  {}", freedom.name, bad.join("\n  ")));
        }
        let advisories = outcomes
            .iter()
            .filter(|o| o.verdict == Verdict::Advisory)
            .count();
        if freedom.advisory != (advisories > 0) {
            problems.push(format!(
                "{}: {advisories} advisories, expected {}",
                freedom.name,
                if freedom.advisory { "some" } else { "none" }
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A vulnerability: a registry bug some core scenarios must catch.
struct Vulnerability {
    name: &'static str,
    behaviour: Behaviour,
    caught_by: &'static [&'static str],
}

fn vulnerabilities() -> Vec<Vulnerability> {
    let flawed = |flaws: Flaws| Behaviour {
        flaws,
        ..Behaviour::default()
    };
    let none = Flaws::default;
    vec![
        Vulnerability {
            name: "HS256 keyed with the public key's PEM file",
            behaviour: flawed(Flaws {
                hs256_keyed_with_pem: true,
                ..none()
            }),
            caught_by: &["signature/hs256-public-key"],
        },
        Vulnerability {
            name: "600 s of clock leeway",
            behaviour: Behaviour {
                leeway_seconds: 600.0,
                ..Behaviour::default()
            },
            caught_by: &[
                "time/exp-beyond-core-leeway",
                "time/iat-beyond-core-leeway",
                "time/nbf-beyond-core-leeway",
            ],
        },
        Vulnerability {
            name: "nbf not checked",
            behaviour: flawed(Flaws {
                ignore_nbf: true,
                ..none()
            }),
            caught_by: &["time/nbf-beyond-core-leeway", "time/not-yet-valid"],
        },
        Vulnerability {
            name: "owner id not compared",
            behaviour: flawed(Flaws {
                ignore_owner_id: true,
                ..none()
            }),
            caught_by: &["github/claims/owner-id-drift"],
        },
        Vulnerability {
            name: "workflow not compared",
            behaviour: flawed(Flaws {
                ignore_workflow: true,
                ..none()
            }),
            caught_by: &[
                "github/claims/reusable-workflow",
                "github/workflow/empty-job-workflow-ref",
                "github/workflow/extension-only",
            ],
        },
        Vulnerability {
            name: "environment not compared",
            behaviour: flawed(Flaws {
                ignore_environment: true,
                ..none()
            }),
            caught_by: &[
                "github/claims/environment-mismatch",
                "github/environment/absent-claim-specific-publisher",
                "github/environment/empty-claim-specific-publisher",
            ],
        },
        Vulnerability {
            name: "replay store checked, then set",
            behaviour: flawed(Flaws {
                replay_check_then_set: true,
                ..none()
            }),
            caught_by: &["replay/concurrent"],
        },
        Vulnerability {
            name: "uploads to any project",
            behaviour: flawed(Flaws {
                upload_to_any_project: true,
                ..none()
            }),
            caught_by: &["upload/project-not-scoped"],
        },
        Vulnerability {
            name: "minted tokens never expire",
            behaviour: flawed(Flaws {
                tokens_never_expire: true,
                ..none()
            }),
            caught_by: &["upload/minted-token-dies-within-6-hours"],
        },
        Vulnerability {
            name: "keys fetched from the token's jku",
            behaviour: flawed(Flaws {
                keys_from_jku: true,
                ..none()
            }),
            caught_by: &["attacks/jku-injection"],
        },
        Vulnerability {
            name: "only the exact string none blocked",
            behaviour: flawed(Flaws {
                unsigned_unless_exactly_none: true,
                ..none()
            }),
            caught_by: &[
                "attacks/alg-none-capitalised",
                "attacks/alg-none-mixed-case",
                "attacks/alg-none-upper-case",
            ],
        },
    ]
}

/// The problems of a run against `vulnerability`: a listed scenario that did not fail with a
/// wrong decision, or another that did not pass.
fn uncaught(vulnerability: &Vulnerability, outcomes: &[Outcome]) -> Vec<String> {
    let expected: BTreeSet<&str> = vulnerability.caught_by.iter().copied().collect();
    let mut problems: Vec<String> = expected
        .iter()
        .filter(|id| !outcomes.iter().any(|o| o.id == **id))
        .map(|id| format!("no such scenario: {id}"))
        .collect();
    for outcome in outcomes {
        let passed = matches!(
            outcome.verdict,
            Verdict::Pass | Verdict::Advisory | Verdict::Skip { .. }
        );
        let caught =
            outcome.verdict == Verdict::Fail && outcome.wrong_aspects().contains(&Aspect::Decision);
        match (expected.contains(outcome.id.as_str()), passed, caught) {
            (true, _, true) | (false, true, _) => {}
            (true, ..) => problems.push(format!(
                "must fail with a wrong decision: {}",
                describe(outcome)
            )),
            (false, ..) => problems.push(format!("must pass: {}", describe(outcome))),
        }
    }
    problems
        .into_iter()
        .map(|p| format!("{}: {p}", vulnerability.name))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vulnerability_is_caught_by_its_scenarios_alone() {
    let mut problems = Vec::new();
    for vulnerability in vulnerabilities() {
        let outcomes = core_run(vulnerability.behaviour.clone()).await;
        problems.extend(uncaught(&vulnerability, &outcomes));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `docs/verdict-truth.md` names every variant on a row of its own, and each vulnerability's
/// row the scenarios that catch it.
#[test]
fn the_docs_table_lists_every_variant() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/verdict-truth.md"
    ))
    .expect("docs/verdict-truth.md");
    let row = |name: &str| {
        doc.lines()
            .find(|line| line.starts_with('|') && line.contains(&format!("| {name} |")))
            .map(str::to_owned)
    };
    // The rules a scenario cites, to hold each vulnerability row's rule column to the
    // scenarios that catch it.
    let cited: std::collections::HashMap<String, Vec<String>> =
        mintcheck::scenario::load_dir(&common::scenarios_dir())
            .expect("the suite loads")
            .into_iter()
            .map(|s| (s.id, s.rules))
            .collect();
    let mut missing = Vec::new();
    for freedom in freedoms() {
        if row(freedom.name).is_none() {
            missing.push(format!("freedom {:?}", freedom.name));
        }
    }
    for vulnerability in vulnerabilities() {
        match row(vulnerability.name) {
            None => missing.push(format!("vulnerability {:?}", vulnerability.name)),
            Some(line) => {
                missing.extend(
                    vulnerability
                        .caught_by
                        .iter()
                        .filter(|id| !line.contains(&format!("`{id}`")))
                        .map(|id| format!("{id} on the row of {:?}", vulnerability.name)),
                );
                let rule_cell = line.split(" | ").nth(2).unwrap_or_default();
                let rules: Vec<&str> = rule_cell
                    .split([',', ' '])
                    .filter(|word| word.starts_with("R-"))
                    .collect();
                if rules.is_empty() {
                    missing.push(format!("the rule on the row of {:?}", vulnerability.name));
                }
                for rule in rules {
                    let cited_by_a_catcher = vulnerability
                        .caught_by
                        .iter()
                        .any(|id| cited.get(*id).is_some_and(|r| r.iter().any(|r| r == rule)));
                    if !cited_by_a_catcher {
                        missing.push(format!(
                            "{rule} (on the row of {:?}) cited by a scenario that catches it",
                            vulnerability.name
                        ));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/verdict-truth.md lacks: {missing:#?}"
    );
}
