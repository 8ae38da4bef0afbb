//! What PEP 807 demands of every answer it covers (`docs/spec/pep-807-index-trusted-publishing.md`):
//! problem-details errors for its clients (R-807-ERR-1), and a discovery answer that names
//! endpoints a client may send its identity token to (R-807-DISC-3, R-807-URL-1, R-807-URL-2).

use serde_json::Value;

use super::{Findings, Judge, Judgement, Miss};
use crate::rig::discovery::{host_of, may_receive_token};
use crate::rig::transport::{Response, shorten};
use crate::scenario::model::{Exchange, Request};
use crate::spec::grading::{Aspect, Demand, Level};

use reference_registry::pep807::{DISCOVERY_PATH, PROBLEM_MEDIA_TYPE};

impl Findings<'_> {
    /// An error answer to a PEP 807 client: an RFC 9457 problem-details object (a MUST),
    /// typed `application/problem+json` (a SHOULD). A 404 of the discovery endpoint is
    /// exempt, whatever the request: the PEP demands nothing of its body (R-807-DISC-4), and
    /// an index that reads a malformed key leniently answers "not here".
    pub(super) fn problem_details(&mut self, exchange: &Exchange, response: &Response) {
        let discovery = match &exchange.request {
            Request::Discover { .. } => true,
            Request::Http(http) => http.path.starts_with(DISCOVERY_PATH),
            _ => false,
        };
        let is_error = response.status >= 400;
        if !exchange.asks_pep807() || !is_error || (discovery && response.status == 404) {
            return;
        }
        self.check(
            Demand::must(Aspect::Envelope, "R-807-ERR-1", Level::Pep807),
            || problem_miss(response),
        );
        self.check(
            Demand::should(Aspect::Envelope, "R-807-ERR-1", Level::Pep807),
            || {
                (response.media_type().as_deref() != Some(PROBLEM_MEDIA_TYPE)).then(|| {
                    Miss::new(
                        "header content-type",
                        PROBLEM_MEDIA_TYPE,
                        response.header("content-type").unwrap_or("(none)"),
                    )
                })
            },
        );
    }
}

/// Where the body falls short of RFC 9457 §3: a JSON object whose `status`, when present,
/// is the HTTP status, and whose `type`, `title`, `detail` and `instance` are strings.
fn problem_miss(response: &Response) -> Option<Miss> {
    let Some(Value::Object(members)) = response.json() else {
        return Some(Miss::new(
            "body",
            "a problem-details JSON object (RFC 9457)",
            shorten(&response.body),
        ));
    };
    if let Some(status) = members.get("status")
        && status.as_u64() != Some(u64::from(response.status))
    {
        return Some(Miss::new(
            "/status",
            response.status.to_string(),
            status.to_string(),
        ));
    }
    ["type", "title", "detail", "instance"]
        .into_iter()
        .find_map(|member| {
            let value = members.get(member)?;
            (!value.is_string())
                .then(|| Miss::new(format!("/{member}"), "a string", value.to_string()))
        })
}

impl Judge {
    /// A discovery answer of 200 (R-807-DISC-3): a JSON object whose `audience-endpoint` and
    /// `token-mint-endpoint` are absolute URLs on the host the discovery request went to
    /// (`sent_to`; R-807-URL-2) with a trustworthy origin or `sent_to`'s own scheme, trusted
    /// a priori by whoever pointed the harness there (R-807-URL-1), and whose
    /// `features` and `default-features`, if present, are arrays of strings. An endpoint on
    /// another host or over plain http elsewhere than loopback is a wrong decision: a client
    /// would send its identity token there.
    pub fn discovery(&self, exchange: &Exchange, response: &Response, sent_to: &str) -> Judgement {
        let mut findings = Findings::new(self);
        if !matches!(exchange.request, Request::Discover { .. }) || response.status != 200 {
            return findings.judgement;
        }
        let json = response.json();
        let members = json.as_ref().and_then(Value::as_object);
        findings.check(
            Demand::must(Aspect::Envelope, "R-807-DISC-3", Level::Pep807),
            || shape_misses(members, &response.body),
        );
        let Some(members) = members else {
            return findings.judgement;
        };
        let host = host_of(sent_to).unwrap_or_default();
        for endpoint in ["audience-endpoint", "token-mint-endpoint"] {
            let Some(url) = members.get(endpoint).and_then(Value::as_str) else {
                continue;
            };
            findings.check(
                Demand::must(Aspect::Decision, "R-807-URL-2", Level::Pep807),
                || {
                    (host_of(url).as_deref() != Some(host.as_str())).then(|| {
                        Miss::new(format!("/{endpoint}"), format!("a URL on host {host}"), url)
                    })
                },
            );
            findings.check(
                Demand::must(Aspect::Decision, "R-807-URL-1", Level::Pep807),
                || {
                    (!may_receive_token(url, sent_to)).then(|| {
                        Miss::new(
                            format!("/{endpoint}"),
                            "an https URL, http on a loopback host, or the scheme of the URL \
                             given (no downgrade to http)",
                            url,
                        )
                    })
                },
            );
        }
        findings.judgement
    }
}

fn shape_misses(members: Option<&serde_json::Map<String, Value>>, body: &str) -> Vec<Miss> {
    let Some(members) = members else {
        return vec![Miss::new("body", "a JSON object", shorten(body))];
    };
    let mut misses = Vec::new();
    for endpoint in ["audience-endpoint", "token-mint-endpoint"] {
        match members.get(endpoint) {
            Some(Value::String(url)) if host_of(url).is_some() => {}
            other => misses.push(Miss::new(
                format!("/{endpoint}"),
                "an absolute URL",
                other.map_or("(absent)".to_owned(), Value::to_string),
            )),
        }
    }
    for list in ["features", "default-features"] {
        let Some(value) = members.get(list) else {
            continue;
        };
        let strings = value
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string));
        if !strings {
            misses.push(Miss::new(
                format!("/{list}"),
                "an array of strings",
                value.to_string(),
            ));
        }
    }
    misses
}
