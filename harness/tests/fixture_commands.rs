//! Fixture commands: a target told each scenario's fixture by a command given the document
//! on stdin (exit 0 applied, 89 unsupported, anything else a fault).

use std::sync::Arc;

use mintcheck::rig::issuers::IssuerSetup;
use mintcheck::suite::outcome::Verdict;
use mintcheck::suite::runner::{self, RunOptions};
use mock_issuer::tls::TestCa;
use serde_json::Value;

mod common;

use common::*;

#[tokio::test]
async fn a_fixture_command_gets_the_document_on_stdin_and_the_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let document = dir.path().join("fixture.json");
    let base_file = dir.path().join("base");
    let server = canned(answer(422, envelope("invalid-payload"))).await;
    let base = server.uri();
    let command = format!(
        "cat > {} && printf %s \"$MINTCHECK_BASE_URL\" > {}",
        quoted(&document),
        quoted(&base_file)
    );
    let target = with_fixture_command(&base, command);
    let outcomes = runner::run(suite(&["signature/expired"]), &target, &core(), |_| {}).await;
    assert_eq!(outcomes[0].verdict, Verdict::Inconclusive {
        reason: "step step1's refusal proves nothing: its positive twin (the same token without expired) got HTTP 422 instead of 200".into()
    });
    let applied: Value = serde_json::from_slice(&std::fs::read(&document).unwrap()).unwrap();
    assert_eq!(applied["mintcheck_fixture"], 1);
    assert_eq!(applied["projects"][0]["name"], "widgetry");
    assert_eq!(std::fs::read_to_string(&base_file).unwrap(), base);
}

#[tokio::test]
async fn a_fixture_command_exiting_89_declares_what_it_cannot_set_up() {
    let server = canned(answer(200, success())).await;
    let base = server.uri();
    let target = with_fixture_command(
        &base,
        "cat > /dev/null; printf 'pending publishers\\n\\nupload\\n'; exit 89".into(),
    );
    let outcomes = runner::run(
        suite(&["pending/creates-project"]),
        &target,
        &core(),
        |_| {},
    )
    .await;
    assert_eq!(
        outcomes[0].verdict,
        Verdict::Unsupported {
            reason: "the target cannot set up: pending publishers, upload".into()
        }
    );
}

#[tokio::test]
async fn a_failing_fixture_command_is_an_error_with_its_exit_code_and_stderr() {
    let server = canned(answer(200, success())).await;
    let base = server.uri();
    let target = with_fixture_command(&base, "echo 'database is locked' >&2; exit 3".into());
    let outcomes = runner::run(suite(&["github/success/mints"]), &target, &core(), |_| {}).await;
    let message = error_message(&outcomes[0]);
    assert!(
        message.starts_with(
            "fixture command `echo 'database is locked' >&2; exit 3` exited with code 3"
        ),
        "{message}"
    );
    assert!(
        message.contains("its stderr:\n    database is locked"),
        "{message}"
    );
}

#[tokio::test]
async fn with_issuer_tls_commands_get_the_runs_one_ca_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let (ca_copy, ssl_copy, requests_copy, fixture) = (
        dir.path().join("ca.pem"),
        dir.path().join("ssl.pem"),
        dir.path().join("requests.pem"),
        dir.path().join("fixture.json"),
    );
    let server = canned(answer(200, success())).await;
    let base = server.uri();
    let command = format!(
        "cat > {} && cp \"$MINTCHECK_CA_FILE\" {} && cp \"$SSL_CERT_FILE\" {} && cp \"$REQUESTS_CA_BUNDLE\" {}",
        quoted(&fixture),
        quoted(&ca_copy),
        quoted(&ssl_copy),
        quoted(&requests_copy)
    );
    let ca = Arc::new(TestCa::generate().unwrap());
    let options = RunOptions {
        issuers: IssuerSetup {
            tls: true,
            ca: Some(ca.clone()),
            proxy: None,
            gateway: None,
        },
        ..core()
    };
    let target = with_fixture_command(&base, command);
    let outcomes = runner::run(suite(&["github/success/mints"]), &target, &options, |_| {}).await;
    assert_eq!(outcomes[0].verdict, Verdict::Pass);
    assert_eq!(std::fs::read_to_string(&ca_copy).unwrap(), ca.ca_pem());
    assert_eq!(std::fs::read_to_string(&ssl_copy).unwrap(), ca.ca_pem());
    assert_eq!(
        std::fs::read_to_string(&requests_copy).unwrap(),
        ca.ca_pem()
    );
    let document: Value = serde_json::from_slice(&std::fs::read(&fixture).unwrap()).unwrap();
    assert_eq!(document["ca_pem"], ca.ca_pem());
    for issuer in document["issuers"].as_array().unwrap() {
        assert!(
            issuer["discovery_url"]
                .as_str()
                .unwrap()
                .starts_with("https://127.0.0.1:"),
            "{issuer}"
        );
    }
}
