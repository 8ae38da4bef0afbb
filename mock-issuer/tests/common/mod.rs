//! An independent verifier: the spec's verification rules written from scratch on top of
//! jsonwebtoken's signature primitive, sharing no code with the forger. It reports *every*
//! reason a token fails, so a test can check that a defect breaks exactly one thing.

#![allow(dead_code)] // each test binary uses a different part

pub mod http;

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Oversized,
    Malformed,
    DuplicateMember(String),
    UnsupportedCritical,
    NoKid,
    UnknownKid,
    DisallowedAlg(String),
    BadSignature,
    Absent(String),
    WrongType(String),
    WrongIssuer,
    AudienceNotString,
    WrongAudience,
    Expired,
    NotYetValid,
    IssuedInFuture,
    Mismatch(&'static str),
}

pub struct GithubPublisher {
    pub owner: &'static str,
    pub name: &'static str,
    pub owner_id: &'static str,
    pub workflow: &'static str,
}

pub const WIDGETRY: GithubPublisher = GithubPublisher {
    owner: "acme-labs",
    name: "widgetry",
    owner_id: "48213977",
    workflow: "publish.yml",
};

pub struct Expectation<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub jwks: &'a Value,
    pub now: f64,
    pub publisher: Option<&'a GithubPublisher>,
}

pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
const LEEWAY: f64 = 30.0;
/// The spec's list (R-PUB-2), the one the reference registry checks too.
const GITHUB_REQUIRED: &[&str] = mock_issuer::Provider::Github.required_claims();

/// JSON object members in document order, duplicates kept.
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

impl Members {
    fn get(&self, name: &str) -> Option<&Value> {
        // Last one wins, as in Python's json module.
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn duplicates(&self) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        self.0
            .iter()
            .filter(|(n, _)| !seen.insert(n.clone()))
            .map(|(n, _)| n.clone())
            .collect()
    }
}

fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

pub fn verify(token: &str, expect: &Expectation) -> BTreeSet<Reason> {
    let mut reasons = BTreeSet::new();
    if token.len() > MAX_TOKEN_BYTES {
        reasons.insert(Reason::Oversized);
    }
    let segments: Vec<&str> = token.split('.').collect();
    let decoded: Option<Vec<Vec<u8>>> = (segments.len() == 3)
        .then(|| {
            segments
                .iter()
                .map(|s| URL_SAFE_NO_PAD.decode(s).ok())
                .collect()
        })
        .flatten();
    let Some(decoded) = decoded else {
        reasons.insert(Reason::Malformed);
        return reasons;
    };
    let (Ok(header), Ok(claims)) = (
        serde_json::from_slice::<Members>(&decoded[0]),
        serde_json::from_slice::<Members>(&decoded[1]),
    ) else {
        reasons.insert(Reason::Malformed);
        return reasons;
    };
    reasons.extend(claims.duplicates().into_iter().map(Reason::DuplicateMember));
    if header.get("crit").is_some() {
        reasons.insert(Reason::UnsupportedCritical);
    }

    let key = match header.get("kid") {
        None => {
            reasons.insert(Reason::NoKid);
            None
        }
        Some(kid) => {
            let found = expect.jwks["keys"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|k| &k["kid"] == kid);
            if found.is_none() {
                reasons.insert(Reason::UnknownKid);
            }
            found
        }
    };
    match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => {
            if let Some(key) = key {
                let jwk: Jwk = serde_json::from_value(key.clone()).expect("published JWK parses");
                let decoding = DecodingKey::from_jwk(&jwk).expect("usable RSA JWK");
                let message = format!("{}.{}", segments[0], segments[1]);
                let valid = jsonwebtoken::crypto::verify(
                    segments[2],
                    message.as_bytes(),
                    &decoding,
                    Algorithm::RS256,
                )
                .unwrap_or(false);
                if !valid {
                    reasons.insert(Reason::BadSignature);
                }
            }
        }
        other => {
            reasons.insert(Reason::DisallowedAlg(
                other.unwrap_or("<absent>").to_owned(),
            ));
        }
    }

    let required = ["iss", "aud", "exp", "iat"].into_iter();
    let github = expect
        .publisher
        .map(|_| GITHUB_REQUIRED.iter().copied())
        .into_iter()
        .flatten();
    for name in required.chain(github) {
        if present(claims.get(name)).is_none() {
            reasons.insert(Reason::Absent(name.to_owned()));
        }
    }
    match present(claims.get("iss")) {
        Some(Value::String(iss)) if iss == expect.issuer => {}
        Some(Value::String(_)) => {
            reasons.insert(Reason::WrongIssuer);
        }
        Some(_) => {
            reasons.insert(Reason::WrongType("iss".into()));
        }
        None => {}
    }
    match present(claims.get("aud")) {
        Some(Value::String(aud)) if aud == expect.audience => {}
        Some(Value::String(_)) => {
            reasons.insert(Reason::WrongAudience);
        }
        Some(Value::Array(_)) => {
            reasons.insert(Reason::AudienceNotString);
        }
        Some(_) => {
            reasons.insert(Reason::WrongType("aud".into()));
        }
        None => {}
    }
    let mut time =
        |name: &str, fails: &dyn Fn(f64) -> bool, reason: Reason| match present(claims.get(name)) {
            Some(Value::Number(n)) if fails(n.as_f64().unwrap_or(f64::NAN).trunc()) => {
                reasons.insert(reason);
            }
            Some(Value::Number(_)) | None => {}
            Some(_) => {
                reasons.insert(Reason::WrongType(name.to_owned()));
            }
        };
    let now = expect.now.trunc();
    time("exp", &|exp| exp + LEEWAY <= now, Reason::Expired);
    time("iat", &|iat| iat > now + LEEWAY, Reason::IssuedInFuture);
    time("nbf", &|nbf| nbf > now + LEEWAY, Reason::NotYetValid);

    if let Some(publisher) = expect.publisher {
        for &name in GITHUB_REQUIRED {
            if present(claims.get(name)).is_some_and(|v| !v.is_string()) {
                reasons.insert(Reason::WrongType(name.to_owned()));
            }
        }
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let mut check = |field: &'static str, actual: Option<String>, expected: String| {
            if actual.is_some_and(|actual| actual != expected) {
                reasons.insert(Reason::Mismatch(field));
            }
        };
        check(
            "repository",
            text("repository"),
            format!("{}/{}", publisher.owner, publisher.name),
        );
        check(
            "repository_owner",
            text("repository_owner"),
            publisher.owner.to_owned(),
        );
        check(
            "repository_owner_id",
            text("repository_owner_id"),
            publisher.owner_id.to_owned(),
        );
        let workflow = text("job_workflow_ref").map(|r| {
            let file = r
                .split_once(".github/workflows/")
                .map_or("", |(_, rest)| rest);
            file.split('@').next().unwrap_or_default().to_owned()
        });
        check("workflow", workflow, publisher.workflow.to_owned());
    }
    reasons
}

/// GET `url` and parse the answer as JSON; panics (fails the test) on any error.
pub async fn fetch_json(client: &reqwest::Client, url: impl reqwest::IntoUrl) -> Value {
    let response = client
        .get(url)
        .send()
        .await
        .expect("the request is answered");
    response.json().await.expect("the answer is JSON")
}

pub fn reasons<const N: usize>(list: [Reason; N]) -> BTreeSet<Reason> {
    list.into_iter().collect()
}
