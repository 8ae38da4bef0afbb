//! What a case's own input says must be refused at core: the doom of its token.

use mock_issuer::{Defect, ForgedToken};
use serde_json::{Map, Value};

use super::Trust;
use crate::fuzz::case::Case;
use crate::scenario::model::Flag;

/// Why the case's token can never mint at core, and the rule that says so.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Doom {
    pub why: String,
    pub rule: &'static str,
}

/// Seconds of leeway R-TIME-1 allows at most: beyond it every core registry refuses.
const CORE_LEEWAY: f64 = 60.0;

/// The first reason the forged token fails at core, from what was actually sent.
pub fn doom(case: &Case, token: &ForgedToken, trust: &Trust, now: f64) -> Option<Doom> {
    let spec = case.token()?;
    if spec
        .defects
        .iter()
        .any(|d| matches!(d, Defect::Malformed(_)))
    {
        return doomed("the token is not a compact JWS".into(), "R-JWT-1");
    }
    let claims = token.claims.as_object()?;
    let header = token.header.as_object()?;
    let Some((provider, kids)) = claims
        .get("iss")
        .and_then(Value::as_str)
        .and_then(|iss| trust.0.get(iss))
    else {
        return doomed(
            format!("iss {} is not a trusted issuer", shown(claims.get("iss"))),
            "R-ISS-3",
        );
    };
    let flags = &case.fixture.flags;
    if let Some(flag) = flags
        .iter()
        .find(|f| **f == Flag::DisallowOidc || **f == Flag::disallowing(*provider))
    {
        return doomed(format!("the fixture sets {}", flag.name()), "R-FLAG-1");
    }
    match header.get("alg").and_then(Value::as_str) {
        None => return doomed("the header has no string alg".into(), "R-SIG-3"),
        Some(alg)
            if alg.eq_ignore_ascii_case("none") || alg.to_ascii_uppercase().starts_with("HS") =>
        {
            return doomed(format!("alg is {alg:?}"), "R-SIG-3");
        }
        Some(_) => {}
    }
    if let Some(defect) = spec.defects.iter().find(|d| d.breaks_signature()) {
        return doomed(
            format!("{defect}: the signature is not the issuer's"),
            "R-SIG-5",
        );
    }
    if *provider != spec.profile().provider() {
        return doomed(
            format!(
                "signed by the {} key but iss names {provider}",
                spec.profile().provider()
            ),
            "R-SIG-5",
        );
    }
    if let Some(kid) = header.get("kid").and_then(Value::as_str)
        && !kids.contains(kid)
    {
        return doomed(format!("kid {kid:?} is not published"), "R-JWKS-6");
    }
    time_doom(claims, now).or_else(|| audience_doom(case, claims))
}

fn doomed(why: String, rule: &'static str) -> Option<Doom> {
    Some(Doom { why, rule })
}

/// R-CLAIM-1 and R-TIME-1: `exp` and `iat` present, and all times within the leeway.
fn time_doom(claims: &Map<String, Value>, now: f64) -> Option<Doom> {
    for (name, late) in [("exp", false), ("iat", true), ("nbf", true)] {
        match claims.get(name) {
            None | Some(Value::Null) if name != "nbf" => {
                return doomed(format!("{name} is absent"), "R-CLAIM-1");
            }
            Some(Value::Number(at)) => {
                let at = at.as_f64().unwrap_or_default();
                if late && at > now + CORE_LEEWAY {
                    return doomed(
                        format!("{name} is {:.1} s in the future", at - now),
                        "R-TIME-1",
                    );
                }
                if !late && at < now - CORE_LEEWAY {
                    return doomed(format!("exp was {:.1} s ago", now - at), "R-TIME-1");
                }
            }
            _ => {}
        }
    }
    None
}

/// R-CLAIM-1 and R-CLAIM-2: `aud` present and the fixture's audience.
fn audience_doom(case: &Case, claims: &Map<String, Value>) -> Option<Doom> {
    let audience = case.fixture.audience();
    let fits = match claims.get("aud") {
        None | Some(Value::Null) => return doomed("aud is absent".into(), "R-CLAIM-1"),
        Some(Value::String(aud)) => aud == audience,
        // One-element arrays are a legitimate divergence (graded in the suite).
        Some(Value::Array(auds)) => auds.iter().any(|a| a == audience),
        Some(_) => false,
    };
    if fits {
        None
    } else {
        doomed(
            format!("aud {} is not {audience:?}", shown(claims.get("aud"))),
            "R-CLAIM-2",
        )
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(
        || "(absent)".to_owned(),
        |v| crate::rig::transport::shorten(&v.to_string()),
    )
}
