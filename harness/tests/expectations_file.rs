//! The expectations file in a real run: listed failures are xfail, listed passes xpass, and
//! a failure the entry does not excuse stays a failure.

use std::sync::Arc;

use axum::body::Bytes;
use axum::routing::post;
use mintcheck::scenario::load_dir;
use mintcheck::suite::expectations::Expectations;
use mintcheck::suite::outcome::Verdict;
use mintcheck::suite::report::Tally;
use mintcheck::suite::runner::RunOptions;

mod common;

use common::*;

fn expectations(text: &str) -> (tempfile::TempDir, Arc<Expectations>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known.toml");
    std::fs::write(&path, text).unwrap();
    let ids: Vec<String> = load_dir(&scenarios_dir())
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let loaded = Expectations::load(&path, &ids).unwrap();
    (dir, Arc::new(loaded))
}

#[tokio::test]
async fn listed_failures_are_xfail_listed_passes_are_xpass() {
    let base = serve(fake(post(|body: Bytes| async move {
        if looks_like_a_token(&body) {
            json_response(200, success())
        } else {
            json_response(422, envelope("invalid-token"))
        }
    })))
    .await;
    let (_dir, listed) = expectations(
        r#"
[[expect]]
scenario = "payload/not-json"
outcome = "xfail"
reason = "every refusal says invalid-token, issue #7"

[[expect]]
scenario = "payload/token-*"
outcome = "xfail"
reason = "issue #7 again"
code = "invalid-token"

[[expect]]
scenario = "payload/empty-token"
outcome = "xfail"
reason = "listed with the code it used to answer"
code = "invalid-payload"

[[expect]]
scenario = "github/success/mints"
outcome = "xfail"
reason = "was broken last month"

[[expect]]
scenario = "pending/*"
outcome = "unsupported"
reason = "no pending publishers here"
"#,
    );
    let options = RunOptions {
        expectations: Some(listed),
        ..core()
    };
    let outcomes = run(
        &base,
        &[
            "payload/not-json",
            "payload/token-null",
            "payload/empty-token",
            "github/success/mints",
            "pending/creates-project",
        ],
        &options,
    )
    .await;
    assert_eq!(
        outcomes[0].verdict,
        Verdict::Xfail {
            reason: "every refusal says invalid-token, issue #7".into()
        }
    );
    assert_eq!(
        outcomes[1].verdict,
        Verdict::Xfail {
            reason: "issue #7 again".into()
        }
    );
    let changed = &outcomes[2];
    assert_eq!(changed.verdict, Verdict::Fail);
    assert_eq!(pointers(changed), ["/errors/0/code", "expectations"]);
    let note = &changed.steps[0].mismatches[1];
    assert!(
        note.expected
            .contains("known.toml:13: errors[0].code \"invalid-payload\""),
        "{note:?}"
    );
    assert!(
        note.actual
            .contains("\"invalid-token\": the failure mode changed"),
        "{note:?}"
    );
    match &outcomes[3].verdict {
        Verdict::Xpass { reason } => assert!(
            reason.starts_with("listed as xfail (was broken last month) at ")
                && reason.ends_with("known.toml:19 but passed: remove the entry"),
            "{reason}"
        ),
        other => panic!("expected xpass, got {other:?}"),
    }
    match &outcomes[4].verdict {
        Verdict::Unsupported { reason } => {
            assert!(
                reason.starts_with("no pending publishers here (expectations "),
                "{reason}"
            );
            assert!(outcomes[4].steps.is_empty(), "not run");
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
    let tally = Tally::of(&outcomes);
    assert_eq!(
        (tally.xfail, tally.xpass, tally.fail, tally.unsupported),
        (2, 1, 1, 1)
    );
    assert_eq!(
        tally.exit_code(),
        1,
        "the changed failure mode fails the run"
    );
    assert_eq!(
        Tally::of(&outcomes[..2]).exit_code(),
        0,
        "xfail alone passes"
    );
    assert_eq!(
        Tally::of(&outcomes[3..4]).exit_code(),
        3,
        "xpass is an error"
    );
}
