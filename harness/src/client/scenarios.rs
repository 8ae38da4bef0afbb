//! The client scenarios: how the played index behaves in each, and how the client is judged
//! from what the index saw (PEP 807 chapter §6). A client that never asks for discovery does
//! not support PEP 807: every scenario is `unsupported` for it, never failed.

use serde_json::json;

use super::index::{AUDIENCE, Behaviour, Host, Logged, MINT_PATH};
use reference_registry::pep807::{PROBLEM_MEDIA_TYPE, UPLOAD_PATH};

/// What the client did in one scenario: the index's request log and its own output.
pub struct Observed {
    pub log: Vec<Logged>,
    /// stdout and stderr, together.
    pub output: String,
    /// How the command ended: `Some(code)`, or `None` when a signal ended it.
    pub exit_code: Option<i32>,
    /// How many files the client was given to upload.
    pub files: usize,
}

/// A client scenario: the index's behaviour and the judge of what the client did.
pub struct ClientScenario {
    pub id: &'static str,
    pub title: &'static str,
    pub rules: &'static [&'static str],
    pub behaviour: fn() -> Behaviour,
    /// Why the client failed the scenario; empty when it passed. Judged only when the
    /// client asked for discovery.
    pub judge: fn(&Observed) -> Vec<String>,
    /// What a client that asks for no discovery here is told, where the default ("does
    /// not implement PEP 807") would not be the whole truth.
    pub without_discovery: Option<&'static str>,
}

/// A marker the refused mints carry, which the client must show its user.
pub const PROBLEM_DETAIL: &str = "mintcheck problem detail 5f1e: the publisher does not match";
pub const ENVELOPE_DESCRIPTION: &str =
    "mintcheck envelope description 9c2d: valid token, but no corresponding publisher";

/// The plain-http name the index is given as in `client/plain-http-upload-url`.
pub const PLAIN_HTTP_ORIGIN: &str = "http://pep807-index.test";

pub const SCENARIOS: [ClientScenario; 8] = [
    ClientScenario {
        id: "client/discovery",
        title: "the client discovers the endpoints of its upload URL, mints there and uploads",
        rules: &[
            "R-807-DISC-1",
            "R-807-DISC-2",
            "R-807-DISC-3",
            "R-807-MINT-1",
        ],
        behaviour: || Behaviour {
            features: Some(vec!["single-use-token", "multi-use-token"]),
            ..Behaviour::default()
        },
        judge: |seen| {
            let mut why = key_misses(seen);
            let mints: Vec<&Logged> = seen.log.iter().filter(|r| r.is_mint()).collect();
            if !mints.iter().any(|r| r.is_advertised_mint()) {
                why.push(format!(
                    "it never minted at the discovered endpoint {MINT_PATH}"
                ));
            }
            for mint in mints.iter().filter(|r| !r.is_advertised_mint()) {
                why.push(format!(
                    "it minted at {}, which discovery did not name",
                    mint.path
                ));
            }
            for mint in mints.iter().filter(|r| r.is_advertised_mint()) {
                let audience = mint.token_audience();
                if audience.as_deref() != Some(AUDIENCE) {
                    why.push(format!(
                        "its identity token's aud is {audience:?}, not {AUDIENCE:?}, which the \
                         discovered audience endpoint answers"
                    ));
                }
            }
            if !seen.log.iter().any(|r| r.is_upload() && r.status == 200) {
                why.push("no upload of it succeeded".to_owned());
            }
            why
        },
        without_discovery: None,
    },
    ClientScenario {
        id: "client/foreign-host",
        title: "endpoints on another host get nothing: no audience request, no identity token",
        rules: &["R-807-URL-2"],
        behaviour: || Behaviour {
            endpoints_on_foreign_host: true,
            ..Behaviour::default()
        },
        judge: |seen| {
            seen.log
                .iter()
                .filter(|r| r.host == Host::Foreign)
                .map(|r| {
                    format!(
                        "it sent {} {} to the foreign host the discovery answer named{}",
                        r.method,
                        r.path,
                        if r.is_mint() {
                            ", with its identity token"
                        } else {
                            ""
                        }
                    )
                })
                .collect()
        },
        without_discovery: None,
    },
    ClientScenario {
        id: "client/plain-http-upload-url",
        title: "an upload URL over plain http on a non-loopback host gets no discovery and no identity token",
        rules: &["R-807-URL-1"],
        behaviour: || Behaviour {
            public_origin: Some(PLAIN_HTTP_ORIGIN),
            ..Behaviour::default()
        },
        judge: |seen| {
            let mut why = vec![format!(
                "it asked {PLAIN_HTTP_ORIGIN} for discovery: plain http on a non-loopback host \
                 is no trustworthy origin, every URL of which a client must refuse"
            )];
            if seen.log.iter().any(Logged::is_mint) {
                why.push("and it sent its identity token there".to_owned());
            }
            why
        },
        without_discovery: Some(
            "the client asked nothing of the index at a plain-http upload URL: as R-807-URL-1 \
             requires, or for want of PEP 807 (the other client scenarios tell which)",
        ),
    },
    ClientScenario {
        id: "client/not-supported",
        title: "after a 404 from discovery the client mints nowhere",
        rules: &["R-807-DISC-4"],
        behaviour: || Behaviour {
            discovery_not_found: true,
            ..Behaviour::default()
        },
        judge: |seen| {
            seen.log
                .iter()
                .filter(|r| r.is_mint() || r.body.contains("\"token\""))
                .map(|r| format!("discovery said 404, yet it sent {} {}", r.method, r.path))
                .collect()
        },
        without_discovery: None,
    },
    ClientScenario {
        id: "client/advertised-features-only",
        title: "the client asks only for features the index advertises",
        rules: &["R-807-DISC-3", "R-807-MINT-1"],
        behaviour: || Behaviour {
            features: Some(vec!["multi-use-token"]),
            ..Behaviour::default()
        },
        judge: |seen| {
            seen.log
                .iter()
                .filter(|r| r.is_mint())
                .flat_map(Logged::features)
                .filter(|f| f != "multi-use-token")
                .map(|f| format!("it asked for {f:?}, which the index does not advertise"))
                .collect()
        },
        without_discovery: None,
    },
    ClientScenario {
        id: "client/single-use",
        title: "with single-use credentials the client mints again for each upload",
        rules: &["R-807-FEAT-1", "R-807-FEAT-3"],
        behaviour: || Behaviour {
            features: Some(vec!["single-use-token"]),
            default_features: Some(vec!["single-use-token"]),
            ..Behaviour::default()
        },
        judge: |seen| {
            let uploads: Vec<Option<String>> = seen
                .log
                .iter()
                .filter(|r| r.is_upload())
                .map(Logged::credential)
                .collect();
            let mut why = Vec::new();
            if uploads.len() < seen.files {
                why.push(format!(
                    "{} uploads for {} files",
                    uploads.len(),
                    seen.files
                ));
            }
            let mut used = std::collections::BTreeSet::new();
            for credential in uploads.iter().flatten() {
                if !used.insert(credential) {
                    why.push(format!(
                        "it uploaded twice with the single-use credential {credential}"
                    ));
                }
            }
            why
        },
        without_discovery: None,
    },
    ClientScenario {
        id: "client/problem-details",
        title: "a refused mint's problem details reach the user, without a crash",
        rules: &["R-807-ERR-1", "R-807-MINT-5"],
        behaviour: || Behaviour {
            mint_refusal: Some((
                422,
                json!({"type": "about:blank", "title": "Token rejected", "status": 422, "detail": PROBLEM_DETAIL}),
                PROBLEM_MEDIA_TYPE,
            )),
            ..Behaviour::default()
        },
        judge: |seen| shows(seen, PROBLEM_DETAIL),
        without_discovery: None,
    },
    ClientScenario {
        id: "client/pypi-envelope",
        title: "a refused mint's PyPI-style errors reach the user, without a crash",
        rules: &["R-807-ERR-1", "R-807-MINT-5"],
        behaviour: || Behaviour {
            mint_refusal: Some((
                422,
                json!({"message": "Token request failed", "errors": [{"code": "invalid-publisher", "description": ENVELOPE_DESCRIPTION}]}),
                "application/json",
            )),
            ..Behaviour::default()
        },
        judge: |seen| shows(seen, ENVELOPE_DESCRIPTION),
        without_discovery: None,
    },
];

/// Whether the client asked for discovery at all: a client that does not is judged
/// unsupported (it does not implement PEP 807), never failed.
pub fn discovered(seen: &Observed) -> bool {
    seen.log.iter().any(Logged::is_discovery)
}

/// The discovery requests whose key is not `quote_plus` of the upload path (R-807-DISC-1).
fn key_misses(seen: &Observed) -> Vec<String> {
    let expected = format!("discover={}", crate::rig::discovery::key(UPLOAD_PATH));
    seen.log
        .iter()
        .filter(|r| r.is_discovery())
        .filter(|r| r.query.as_deref() != Some(expected.as_str()))
        .map(|r| {
            format!(
                "it asked for discovery with ?{}, not ?{expected}",
                r.query.as_deref().unwrap_or_default()
            )
        })
        .collect()
}

/// The refusal's text reached the user, and the client ended by itself, without a crash.
fn shows(seen: &Observed, text: &str) -> Vec<String> {
    let mut why = Vec::new();
    if !seen.log.iter().any(Logged::is_mint) {
        why.push("it never minted, so the refusal was never shown".to_owned());
    } else if !seen.output.contains(text) {
        why.push(format!(
            "its output does not show the refusal's text {text:?}"
        ));
    }
    let crashed = ["Traceback (most recent call last)", "panicked at"]
        .iter()
        .find(|sign| seen.output.contains(*sign));
    match (crashed, seen.exit_code) {
        (Some(sign), _) => why.push(format!("it crashed ({sign:?} in its output)")),
        (None, None) => why.push("a signal ended it".to_owned()),
        (None, Some(_)) => {}
    }
    why
}
