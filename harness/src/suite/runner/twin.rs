//! Positive twins. A refusal step whose token names defects has a positive twin: the same
//! token without the defects, sent to a fresh copy of the fixture, must mint. Otherwise the
//! refusal may have another cause and proves nothing.

use std::collections::BTreeSet;

use mock_issuer::{ForgedToken, TokenSpec};

use super::ScenarioRun;
use super::request::{self, Forging, Results, unsigned};
use super::setup;
use crate::rig::issuers::Issuers;
use crate::scenario::model::{Exchange, Mint, MintSend, Payload, Request, StepKind, Twin};
use crate::suite::outcome::{StepRecord, Verdict};

/// Checks step `index`'s positive twin, if it has one. Returns the verdict that ends the
/// scenario early; the twin's issuers go to `used` (a failed scenario's may be kept).
pub(super) async fn check(
    run: &ScenarioRun<'_>,
    index: usize,
    records: &mut Vec<StepRecord>,
    used: &mut Vec<Issuers>,
) -> Option<Verdict> {
    let step = &run.scenario.steps[index];
    let StepKind::Exchange(exchange) = &step.kind else {
        return None;
    };
    let PositiveTwin { send, spec, twin } = positive_twin(exchange)?;
    let name = format!("{} (positive twin)", step.name);
    let stage = match setup::stage(run).await {
        Ok(stage) => stage,
        Err(err) => return Some(err.verdict(Some(&name))),
    };
    let error = |message: String| {
        Some(Verdict::Error {
            message: format!("step {name}: {message}"),
        })
    };
    let twin_request = Request::Mint(Mint {
        send: MintSend {
            payload: Payload::Token(twin.clone()),
            ..send.clone()
        },
        twin: Twin::Waived,
        grade: None,
    });
    let forging = |twin| run.forging(index, twin);
    let built = request::build(
        &twin_request,
        exchange.accept.as_deref(),
        &stage.prepared.base_url,
        &stage.issuers,
        &Results::default(),
        forging(true),
    );
    let (mut record, outgoing) = match built {
        Ok(built) => built,
        Err(message) => return error(message),
    };
    // The step's own token (the same one the step sends later), compared with the twin just
    // forged for the request above. Their `jti`s differ by design and are not compared.
    if let Err(message) = isolates(spec, &twin, &record, &stage.issuers, forging(false)) {
        return error(message);
    }
    record.name = name.clone();
    let timeout = run.options.request_timeout;
    let response = match stage
        .prepared
        .route(run.http)
        .send(&outgoing, timeout)
        .await
    {
        Ok(response) => response,
        Err(message) => return error(message),
    };
    let status = response.status;
    record.response = Some(response);
    // Kept either way, so a failure report shows the token beside its twin.
    records.push(record);
    let fetches = stage.issuers.fetches();
    used.push(stage.issuers);
    (status != 200).then(|| Verdict::Inconclusive {
        reason: not_minted(&step.name, spec, exchange, status, &fetches),
    })
}

/// Whether the step's token differs from its twin only where declared.
fn isolates(
    spec: &TokenSpec,
    twin: &TokenSpec,
    sent: &StepRecord,
    issuers: &Issuers,
    forging: Forging,
) -> Result<(), String> {
    let token = unsigned(spec, issuers, forging)?;
    let Some(parts) = &sent.token else {
        return Err("the positive twin's request carries no token".to_owned());
    };
    let twin_token = ForgedToken {
        compact: String::new(),
        header: parts["header"].clone(),
        claims: parts["claims"].clone(),
    };
    match undeclared_difference(&token, &twin_token, &Declared::of(spec, twin)) {
        None => Ok(()),
        Some(difference) => Err(format!(
            "the token differs from its positive twin in {difference}, which none of its defects changes, so the refusal would not isolate the defect"
        )),
    }
}

/// Why the refusal proves nothing: the twin did not mint.
fn not_minted(
    step: &str,
    spec: &TokenSpec,
    exchange: &Exchange,
    status: u16,
    fetches: &str,
) -> String {
    let twin_described = match &exchange.request {
        Request::Mint(Mint {
            twin: Twin::Given(_),
            ..
        }) => "the step's `twin` token".to_owned(),
        _ => format!(
            "the same token without {}",
            spec.defects
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut reason = format!(
        "step {step}'s refusal proves nothing: its positive twin ({twin_described}) got HTTP {status} instead of 200",
    );
    if status >= 500 {
        // A server error on a sound token is most often a failed key fetch: say whether the
        // target reached the mock issuers at all.
        reason.push_str(&format!(
            "; the target's requests to the mock issuers meanwhile: {fetches}"
        ));
    }
    reason
}

/// A refused mint's request, its token, and the positive twin the token is compared with.
struct PositiveTwin<'a> {
    send: &'a MintSend,
    spec: &'a TokenSpec,
    twin: TokenSpec,
}

/// The step's `twin`, else its token without defects. None when the step needs no twin.
fn positive_twin(exchange: &Exchange) -> Option<PositiveTwin<'_>> {
    let Request::Mint(mint) = &exchange.request else {
        return None;
    };
    let Payload::Token(spec) = &mint.send.payload else {
        return None;
    };
    if exchange.expect.status_value() == Some(200) {
        return None;
    }
    let twin = match &mint.twin {
        Twin::Given(twin) => twin.clone(),
        Twin::WithoutDefects if !spec.defects.is_empty() => TokenSpec {
            defects: Vec::new(),
            ..spec.clone()
        },
        Twin::WithoutDefects | Twin::Waived => return None,
    };
    Some(PositiveTwin {
        send: &mint.send,
        spec,
        twin,
    })
}

/// The claims and header parameters a token may differ from its twin in: those its defects
/// touch and those either spec sets or removes by name.
#[derive(Default)]
struct Declared {
    claims: BTreeSet<String>,
    header: BTreeSet<String>,
}

impl Declared {
    fn of(token: &TokenSpec, twin: &TokenSpec) -> Declared {
        let mut declared = Declared::default();
        for spec in [token, twin] {
            for touched in spec.defects.iter().map(mock_issuer::Defect::touches) {
                declared.claims.extend(touched.claims);
                declared.header.extend(touched.header);
            }
            declared.claims.extend(spec.claims.keys().cloned());
            declared.claims.extend(spec.times.keys().cloned());
            declared.claims.extend(spec.remove.iter().cloned());
            declared.header.extend(spec.header.keys().cloned());
            declared.header.extend(spec.remove_header.iter().cloned());
        }
        declared
    }
}

/// The token differs from its twin only where declared (plus `jti`, which each token has
/// its own); anything else would make the refusal prove something other than its cause.
/// Returns the first undeclared difference.
fn undeclared_difference(
    token: &ForgedToken,
    twin: &ForgedToken,
    declared: &Declared,
) -> Option<String> {
    let parts = [
        ("claim", &token.claims, &twin.claims, &declared.claims),
        (
            "header parameter",
            &token.header,
            &twin.header,
            &declared.header,
        ),
    ];
    for (what, mine, theirs, names) in parts {
        let (mine, theirs) = (mine.as_object()?, theirs.as_object()?);
        for key in mine.keys().chain(theirs.keys()) {
            let exempt = names.contains(key) || (what == "claim" && key == "jti");
            if mine.get(key) != theirs.get(key) && !exempt {
                return Some(format!("{what} {key}"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use mock_issuer::Defect;
    use serde_json::{Value, json};

    fn token(claims: Value, header: Value) -> ForgedToken {
        ForgedToken {
            compact: String::new(),
            header,
            claims,
        }
    }

    fn declared(defects: &[Defect]) -> Declared {
        let spec = TokenSpec {
            defects: defects.to_vec(),
            ..TokenSpec::default()
        };
        Declared::of(&spec, &TokenSpec::default())
    }

    #[test]
    fn a_token_may_differ_from_its_twin_only_where_its_defects_say() {
        let twin = token(
            json!({"jti": "a", "repository": "o/r", "exp": 10}),
            json!({"kid": "k"}),
        );
        let expired = token(
            json!({"jti": "b", "repository": "o/r", "exp": 1}),
            json!({"kid": "k"}),
        );
        assert_eq!(
            undeclared_difference(&expired, &twin, &declared(&[Defect::Expired])),
            None,
            "exp is declared, jti is the token's own"
        );
        let renamed = token(
            json!({"jti": "a", "repository": "o/x", "exp": 10}),
            json!({"kid": "k"}),
        );
        assert_eq!(
            undeclared_difference(&renamed, &twin, &declared(&[Defect::Expired])),
            Some("claim repository".into())
        );
        assert_eq!(
            undeclared_difference(&renamed, &twin, &declared(&[Defect::RenamedRepository])),
            None
        );
        let no_kid = token(
            json!({"jti": "a", "repository": "o/r", "exp": 10}),
            json!({}),
        );
        assert_eq!(
            undeclared_difference(&no_kid, &twin, &declared(&[Defect::BadSignature])),
            Some("header parameter kid".into())
        );
        assert_eq!(
            undeclared_difference(&no_kid, &twin, &declared(&[Defect::NoKid])),
            None
        );
    }

    #[test]
    fn an_explicit_twin_may_differ_where_either_spec_names_a_claim() {
        let step: TokenSpec =
            serde_json::from_value(json!({"claims": {"environment": "staging"}})).unwrap();
        let twin: TokenSpec = serde_json::from_value(json!({"remove": ["repository"]})).unwrap();
        let names = Declared::of(&step, &twin);
        let base = token(
            json!({"environment": "pypi", "repository": "o/r"}),
            json!({}),
        );
        let other_env = token(
            json!({"environment": "staging", "repository": "o/r"}),
            json!({}),
        );
        assert_eq!(undeclared_difference(&other_env, &base, &names), None);
        let other_repo = token(
            json!({"environment": "pypi", "repository": "o/x"}),
            json!({}),
        );
        assert_eq!(undeclared_difference(&other_repo, &base, &names), None);
        let other_sha = token(
            json!({"environment": "pypi", "repository": "o/r", "sha": "1"}),
            json!({}),
        );
        assert_eq!(
            undeclared_difference(&other_sha, &base, &names),
            Some("claim sha".into())
        );
    }
}
