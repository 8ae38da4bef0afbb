//! The PEP 807 invariants (`fuzz --pep807`): a discovery answer names endpoints a client
//! may send its identity token to, and a single-use credential authorises one upload.

use serde_json::Value;

use super::Invariant;
use crate::fuzz::case::{Case, Credential};
use crate::fuzz::exchange::{Exchange, StepKind};
use crate::rig::discovery::{host_of, may_receive_token};
use crate::rig::transport::{Response, shorten};
use reference_registry::pep807::UPLOAD_PATH;

/// A discovery answer of 200: both endpoints absolute URLs (R-807-DISC-3) on the host of
/// `origin`, where the request went (R-807-URL-2), trustworthy or of `origin`'s scheme
/// (R-807-URL-1).
pub fn discovery(answer: &Response, origin: &str) -> Option<(Invariant, &'static str, String)> {
    let host = host_of(origin).unwrap_or_default();
    let host = host.as_str();
    let json = answer.json();
    for endpoint in ["audience-endpoint", "token-mint-endpoint"] {
        let url = json
            .as_ref()
            .and_then(|j| j.get(endpoint))
            .and_then(Value::as_str);
        let problem = match url {
            None => Some((
                "R-807-DISC-3",
                format!("no string {endpoint}: {}", shorten(&answer.body)),
            )),
            Some(url) if host_of(url).as_deref() != Some(host) => Some((
                "R-807-URL-2",
                format!("{endpoint} {url:?} is not on the upload URL's host {host}"),
            )),
            Some(url) if !may_receive_token(url, origin) => Some((
                "R-807-URL-1",
                format!("{endpoint} {url:?} is neither https, loopback nor {origin}'s scheme"),
            )),
            Some(_) => None,
        };
        if let Some((rule, message)) = problem {
            return Some((Invariant::DiscoverySameHost, rule, message));
        }
    }
    None
}

/// The second upload a single-use credential authorised, if one did: the target's
/// discovery of its upload path offered `single-use-token`, and the mint asked for it alone,
/// or asked for nothing where discovery's `default-features` names it (R-807-MINT-2).
pub fn single_use(case: &Case, exchanges: &[Exchange]) -> Option<(String, String)> {
    let document = upload_path_discovery(exchanges)?;
    let names = |member: &str| {
        document[member]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == "single-use-token"))
    };
    let by_default = case.mint.features.is_none() && names("default-features");
    if !names("features") || !(case.asks_single_use() || by_default) {
        return None;
    }
    let mut uploads = exchanges.iter().filter(|e| {
        matches!(e.kind, StepKind::Upload(i) if case.uploads[i].credential == Credential::Minted)
            && e.status() == Some(200)
    });
    uploads.next()?;
    let second = uploads.next()?;
    Some((
        second.step_name(),
        "a single-use credential authorised a second upload".to_owned(),
    ))
}

/// The target's discovery answer for its upload path, if the case asked and it answered.
fn upload_path_discovery(exchanges: &[Exchange]) -> Option<Value> {
    let key = crate::rig::discovery::key(UPLOAD_PATH);
    exchanges
        .iter()
        .filter(|e| e.kind == StepKind::Discover && e.status() == Some(200))
        .filter(|e| e.request.url.ends_with(&key))
        .find_map(|e| e.result.as_ref().ok()?.response.json())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fuzz::case::UploadTry;
    use crate::fuzz::exchange::discovery_request;
    use crate::fuzz::invariant::tests::{case, exchange};
    use crate::scenario::model::Fixture;

    fn discovered(path: &str, document: serde_json::Value) -> Exchange {
        Exchange {
            request: discovery_request(path),
            ..exchange(StepKind::Discover, 200, document)
        }
    }

    #[test]
    fn discovery_names_same_host_trustworthy_endpoints() {
        let answer = |audience: &str, mint: &str| {
            let document = json!({"audience-endpoint": audience, "token-mint-endpoint": mint});
            let exchange = discovered(UPLOAD_PATH, document);
            let response = &exchange.result.as_ref().unwrap().response;
            discovery(response, "http://127.0.0.1").map(|(_, rule, _)| rule)
        };
        let here = "http://127.0.0.1:80/_/oidc/mint-token";
        assert_eq!(answer("http://127.0.0.1/_/oidc/audience", here), None);
        assert_eq!(
            answer("http://127.0.0.2/_/oidc/audience", here),
            Some("R-807-URL-2")
        );
        assert_eq!(
            answer("https://evil.example/aud", here),
            Some("R-807-URL-2")
        );
        let response = exchange(StepKind::Discover, 200, json!({"audience-endpoint": 1}));
        let response = &response.result.as_ref().unwrap().response;
        assert_eq!(
            discovery(response, "http://127.0.0.1").map(|(_, rule, _)| rule),
            Some("R-807-DISC-3")
        );
    }

    #[test]
    fn a_single_use_credential_may_upload_once_where_it_is_offered() {
        let mut asked = case(json!({"profile": "github"}), Fixture::default());
        asked.mint.features = Some(vec!["single-use-token".into()]);
        asked.uploads = ["1.0", "2.0"]
            .map(|version| UploadTry {
                name: "widgetry".into(),
                version: version.into(),
                credential: Credential::Minted,
            })
            .to_vec();
        let offered = |features: serde_json::Value| {
            discovered(
                UPLOAD_PATH,
                json!({"audience-endpoint": "x", "token-mint-endpoint": "y", "features": features}),
            )
        };
        let uploads = [0, 1].map(|i| exchange(StepKind::Upload(i), 200, json!(null)));
        let run = |discovery: Exchange| {
            let mut exchanges = vec![discovery, exchange(StepKind::Mint, 200, json!({}))];
            exchanges.extend(uploads.iter().cloned());
            single_use(&asked, &exchanges).map(|(step, _)| step)
        };
        assert_eq!(
            run(offered(json!(["single-use-token"]))),
            Some("upload-2".to_owned())
        );
        // Not offered: a registry without the feature may ignore the request.
        assert_eq!(run(offered(json!(["multi-use-token"]))), None);
        // Asked for nothing, where single-use is the default (R-807-MINT-2).
        let mut defaulted = asked.clone();
        defaulted.mint.features = None;
        let mut exchanges = vec![
            discovered(
                UPLOAD_PATH,
                json!({"audience-endpoint": "x", "token-mint-endpoint": "y",
                       "features": ["single-use-token"], "default-features": ["single-use-token"]}),
            ),
            exchange(StepKind::Mint, 200, json!({})),
        ];
        exchanges.extend(uploads.iter().cloned());
        assert_eq!(
            single_use(&defaulted, &exchanges).map(|(step, _)| step),
            Some("upload-2".to_owned())
        );
        let mut multi = asked.clone();
        multi.mint.features = Some(vec!["multi-use-token".into()]);
        let exchanges = [offered(json!(["single-use-token"]))];
        assert_eq!(single_use(&multi, &exchanges), None);
    }
}
