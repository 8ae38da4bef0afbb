//! A step's request, made: its token forged, `${steps.NAME.FIELD}` filled in from earlier
//! answers, and the record the report shows of it.

use std::collections::HashMap;

use mock_issuer::{ForgedToken, TokenSpec};
use serde_json::{Value, json};

use crate::rig::issuers::Issuers;
use crate::rig::transport::{Outgoing, Response};
use crate::rig::upload;
use crate::scenario::file::STEP_REFERENCE;
use crate::scenario::model::{HttpRequest, Mint, MintSend, Payload, Request};
use crate::suite::outcome::StepRecord;

/// What later steps may refer to: `${steps.NAME.jwt}` (the token sent) and
/// `${steps.NAME.token}` (the API token the target minted).
#[derive(Default)]
pub(super) struct Results(HashMap<String, HashMap<&'static str, String>>);

impl Results {
    pub fn substitute(&self, text: &str) -> Result<String, String> {
        let mut missing = None;
        let replaced = STEP_REFERENCE.replace_all(text, |c: &regex::Captures| {
            let value = self.0.get(&c[1]).and_then(|fields| fields.get(&c[2]));
            value.cloned().unwrap_or_else(|| {
                missing = Some(format!("{} has no value (fields: jwt, token)", &c[0]));
                String::new()
            })
        });
        match missing {
            Some(message) => Err(message),
            None => Ok(replaced.into_owned()),
        }
    }

    /// Keeps what step `name` sent and got.
    pub fn record(&mut self, name: &str, sent: &StepRecord, response: &Response) {
        let mut fields = HashMap::new();
        if let Some(jwt) = sent
            .token
            .as_ref()
            .and_then(|t| t.get("jwt"))
            .and_then(Value::as_str)
        {
            fields.insert("jwt", jwt.to_owned());
        }
        if let Some(token) = response
            .json()
            .and_then(|j| j.get("token").and_then(Value::as_str).map(str::to_owned))
        {
            fields.insert("token", token);
        }
        self.0.insert(name.to_owned(), fields);
    }
}

/// How a step's token is made: its seed, and the moment it is made at. One moment per
/// scenario, so a token and its positive twin differ only where the defects say.
#[derive(Clone, Copy)]
pub(super) struct Forging {
    pub seed: u64,
    pub now: f64,
}

pub(super) fn forge(
    spec: &TokenSpec,
    issuers: &Issuers,
    forging: Forging,
) -> Result<ForgedToken, String> {
    builder(spec, issuers, forging)
        .sign()
        .map_err(|e| format!("forging the token: {e}"))
}

/// The header and claims [`forge`] would sign, without signing them.
pub(super) fn unsigned(
    spec: &TokenSpec,
    issuers: &Issuers,
    forging: Forging,
) -> Result<ForgedToken, String> {
    let (header, claims) = builder(spec, issuers, forging)
        .unsigned()
        .map_err(|e| format!("forging the token: {e}"))?;
    Ok(ForgedToken {
        compact: String::new(),
        header,
        claims,
    })
}

fn builder(spec: &TokenSpec, issuers: &Issuers, forging: Forging) -> mock_issuer::TokenBuilder {
    let profile = spec.profile();
    spec.apply(issuers.token(profile).seed(forging.seed).at(forging.now))
}

/// The seed of one step's token: the run seed mixed with the scenario ID (FNV-1a), the step
/// index and whether it is the positive twin (which needs its own `jti`).
pub(super) fn token_seed(run_seed: u64, scenario_id: &str, step: usize, twin: bool) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ run_seed;
    for byte in scenario_id
        .bytes()
        .chain((step as u64).to_le_bytes())
        .chain([u8::from(twin)])
    {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The request to send for `request` (with `accept` as its `Accept` header) and the record
/// the report keeps of it (unnamed).
pub(super) fn build(
    request: &Request,
    accept: Option<&str>,
    base_url: &str,
    issuers: &Issuers,
    results: &Results,
    forging: Forging,
) -> Result<(StepRecord, Outgoing), String> {
    let mut record = StepRecord::note(String::new(), "GET", String::new(), None);
    let mut outgoing = match request {
        Request::Discover { upload_path } => Outgoing {
            method: "GET".into(),
            url: format!(
                "{base_url}/.well-known/pytp?discover={}",
                crate::rig::discovery::key(upload_path)
            ),
            headers: Vec::new(),
            body: None,
        },
        Request::Audience => Outgoing {
            method: "GET".into(),
            url: format!("{base_url}/_/oidc/audience"),
            headers: Vec::new(),
            body: None,
        },
        Request::Mint(Mint { send, .. }) | Request::MintConcurrent { send, .. } => {
            let (token, outgoing) = mint(send, base_url, issuers, results, forging)?;
            record.token = token;
            outgoing
        }
        Request::Http(http) => http_request(http, base_url, results)?,
        Request::Upload(spec) => {
            let token = results.substitute(&spec.token)?;
            record.request_body = Some(format!(
                "multipart form: name={:?} version={:?} file={:?}",
                spec.name,
                spec.version,
                upload::sdist_filename(&spec.name, &spec.version)
            ));
            upload::request(base_url, spec, &token)
        }
    };
    if let Some(accept) = accept {
        outgoing
            .headers
            .push(("accept".to_owned(), accept.to_owned()));
    }
    record.method = outgoing.method.clone();
    record.url = outgoing.url.clone();
    record.sent = Some(outgoing.clone());
    if record.request_body.is_none() {
        record.request_body = outgoing
            .body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned());
    }
    Ok((record, outgoing))
}

fn json_type(content_type: Option<&String>) -> Vec<(String, String)> {
    let value = content_type.map_or("application/json", String::as_str);
    vec![("content-type".to_owned(), value.to_owned())]
}

/// A mint request, and the forged token's parts for the record.
fn mint(
    send: &MintSend,
    base_url: &str,
    issuers: &Issuers,
    results: &Results,
    forging: Forging,
) -> Result<(Option<Value>, Outgoing), String> {
    let (token, body) = match &send.payload {
        Payload::Token(spec) => {
            let forged = forge(spec, issuers, forging)?;
            let parts =
                json!({"jwt": forged.compact, "header": forged.header, "claims": forged.claims});
            let body = match &send.features {
                Some(features) => json!({ "token": forged.compact, "features": features }),
                None => json!({ "token": forged.compact }),
            };
            (Some(parts), body.to_string())
        }
        Payload::Body(body) => (None, results.substitute(body)?),
    };
    let outgoing = Outgoing {
        method: "POST".into(),
        url: format!("{base_url}{}", send.path),
        headers: json_type(send.content_type.as_ref()),
        body: Some(body.into_bytes()),
    };
    Ok((token, outgoing))
}

fn http_request(http: &HttpRequest, base_url: &str, results: &Results) -> Result<Outgoing, String> {
    let body = http
        .body
        .as_deref()
        .map(|b| results.substitute(b))
        .transpose()?;
    Ok(Outgoing {
        method: http.method.clone(),
        url: format!("{base_url}{}", http.path),
        headers: if body.is_some() {
            json_type(http.content_type.as_ref())
        } else {
            Vec::new()
        },
        body: body.map(String::into_bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_seeds_differ_per_scenario_step_and_twin() {
        let seeds = [
            token_seed(1, "a/b", 0, false),
            token_seed(1, "a/b", 0, true),
            token_seed(1, "a/b", 1, false),
            token_seed(1, "a/c", 0, false),
            token_seed(2, "a/b", 0, false),
        ];
        let distinct: std::collections::BTreeSet<_> = seeds.iter().collect();
        assert_eq!(distinct.len(), seeds.len());
        assert_eq!(token_seed(1, "a/b", 0, false), seeds[0], "deterministic");
    }

    #[test]
    fn references_are_filled_in_or_named_when_missing() {
        let mut results = Results::default();
        let sent = StepRecord {
            token: Some(json!({"jwt": "eyJ.a.b"})),
            ..StepRecord::note("mint".into(), "POST", String::new(), None)
        };
        let answer = Response {
            status: 200,
            reason: None,
            headers: Vec::new(),
            body: r#"{"token":"pypi-abc"}"#.into(),
        };
        results.record("mint", &sent, &answer);
        assert_eq!(
            results.substitute("${steps.mint.token}/${steps.mint.jwt}"),
            Ok("pypi-abc/eyJ.a.b".to_owned())
        );
        assert_eq!(
            results.substitute("${steps.other.token}"),
            Err("${steps.other.token} has no value (fields: jwt, token)".to_owned())
        );
    }
}
