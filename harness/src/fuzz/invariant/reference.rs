//! The comparison with the reference registry: where the target answered otherwise, and the
//! rule behind the difference.

use std::collections::BTreeSet;

use super::{Invariant, SIZE_LIMIT_FLOOR, Violation};
use crate::fuzz::case::Case;
use crate::fuzz::exchange::{Exchange, StepKind};

/// The first step where the target's status (and code, for 422) differs from the
/// reference's, as a violation of the rule that decided the reference's answer. PEP 807's
/// parts are not compared: what the reference answers there where the PEP is silent
/// (unknown features, malformed keys, which features it offers) is its own choice, and
/// the PEP 807 invariants judge what the PEP demands.
pub fn compare(case: &Case, target: &[Exchange], reference: &[Exchange]) -> Option<Violation> {
    if case.mint.features.is_some() {
        return None;
    }
    for (ours, theirs) in target.iter().zip(reference) {
        if ours.kind == StepKind::Discover {
            continue;
        }
        let (Some(status), Some(expected)) = (ours.status(), theirs.status()) else {
            continue;
        };
        let size = ours.request.body.as_ref().map_or(0, Vec::len);
        if status == 413 && size > SIZE_LIMIT_FLOOR {
            continue;
        }
        if status == expected && ours.code() == theirs.code() {
            continue;
        }
        let rule = if expected == 200 {
            suspect_rule(case, ours)
        } else {
            decided_by(theirs)
        };
        return Some(Violation {
            invariant: Invariant::SameAsReference,
            rule,
            step: ours.step_name(),
            message: format!(
                "the target answered {}, the reference registry {}",
                ours.summary(),
                theirs.summary()
            ),
        });
    }
    None
}

/// The rule behind a reference registry refusal: its undisclosed reason's, else its
/// code's and description's (R-ORDER-1's table, §7.2's reasons, §15).
pub fn decided_by(exchange: &Exchange) -> String {
    let Ok(answer) = &exchange.result else {
        return "R-RESP-6".into();
    };
    if let Some(rule) = &answer.undisclosed_rule {
        return rule.clone();
    }
    let response = &answer.response;
    if exchange.kind == StepKind::Discover {
        return match response.status {
            200 => "R-807-DISC-3",
            404 => "R-807-DISC-4",
            _ => "R-807-DISC-6",
        }
        .into();
    }
    if let StepKind::Upload(_) = exchange.kind {
        let reason = response.reason.as_deref().unwrap_or_default();
        return match response.status {
            200 => "R-UP-2",
            400 => "R-UP-1",
            _ if reason.contains("expired") => "R-UP-4",
            _ => "R-UP-3",
        }
        .into();
    }
    let description = response
        .json()
        .and_then(|j| Some(j.pointer("/errors/0/description")?.as_str()?.to_owned()))
        .unwrap_or_default();
    let code = exchange.code().unwrap_or_default();
    let by_reason = [
        ("JWT issuer ", "R-PUB-1"),
        ("Missing claim", "R-PUB-2"),
        ("Publisher with matching claims was not found", "R-PUB-3"),
        ("Could not job extract", "R-GH-2"),
        ("Could not extract workflow", "R-GL-2"),
        ("Check failed for", "R-PUB-4"),
        ("pull_request_target", "R-GH-5"),
        ("job_workflow_ref", "R-GH-4"),
        ("The ref and sha", "R-GH-4"),
        ("ci_config_ref_uri", "R-GL-4"),
        ("ref_path and sha", "R-GL-4"),
        ("'subject'", "R-AS-3"),
    ];
    let rule = match code.as_str() {
        "invalid-payload" if description == "malformed JWT" => "R-JWT-1",
        "invalid-payload" if description.contains("unknown trusted publishing issuer") => "R-ISS-3",
        "invalid-payload" if description.starts_with("1 validation error") => "R-PAYLOAD-1",
        "invalid-payload" => "R-NAME-1",
        "not-enabled" => "R-FLAG-1",
        "invalid-token" => "R-SIG-5",
        "invalid-pending-publisher" => "R-PEND-2",
        "invalid-reuse-token" => "R-JTI-1",
        "invalid-publisher" => by_reason
            .iter()
            .find(|(text, _)| description.contains(text))
            .map_or("R-PUB-7", |(_, rule)| rule),
        _ => "R-RESP-3",
    };
    rule.into()
}

/// Where the reference minted and the target did not: the rule of what the case changed
/// that the target may have judged differently.
fn suspect_rule(case: &Case, ours: &Exchange) -> String {
    let Some(spec) = case.token() else {
        return "R-PAYLOAD-1".into();
    };
    if ours.code().as_deref() == Some("invalid-token") {
        let names: BTreeSet<&str> = spec
            .claims
            .keys()
            .chain(spec.times.keys())
            .chain(spec.remove.iter())
            .map(String::as_str)
            .collect();
        let suspects = [
            (
                names.contains("exp") || names.contains("iat") || names.contains("nbf"),
                "R-TIME-2",
            ),
            (names.contains("aud"), "R-CLAIM-2"),
            (names.contains("sub") || names.contains("jti"), "R-CLAIM-3"),
            (
                spec.header.contains_key("alg") || !spec.defects.is_empty(),
                "R-SIG-3",
            ),
            (
                spec.header.contains_key("kid") || spec.remove_header.iter().any(|h| h == "kid"),
                "R-SIG-1",
            ),
        ];
        if let Some((_, rule)) = suspects.iter().find(|(hit, _)| *hit) {
            return (*rule).into();
        }
    }
    match ours.kind {
        StepKind::Discover => "R-807-DISC-3".into(),
        StepKind::Upload(_) => "R-UP-2".into(),
        StepKind::Replay => "R-JTI-1".into(),
        StepKind::Mint => match ours.code().as_deref() {
            Some("invalid-publisher") => "R-PUB-7",
            Some("not-enabled") => "R-FLAG-1",
            Some("invalid-payload") => "R-PAYLOAD-1",
            _ => "R-RESP-3",
        }
        .into(),
    }
}
