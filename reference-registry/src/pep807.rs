//! PEP 807 (Draft, revision `pep807-2026-01`; `docs/spec/pep-807-index-trusted-publishing.md`):
//! discovery per upload path, the `Accept` negotiation, and the features a mint may ask for.
//! Only what the PEP adds lives here; the token exchange itself is PyPI's (`mint.rs`).

use serde_json::{Value, json};

use crate::error::{ErrorCode, MintError};

/// The media type a PEP 807 client asks for (R-807-ACCEPT-1).
pub const MEDIA_TYPE: &str = "application/vnd.pypi.pytp.v1+json";
/// RFC 9457's media type, for the error bodies of a PEP 807 request (R-807-ERR-1).
pub const PROBLEM_MEDIA_TYPE: &str = "application/problem+json";
/// The path of the discovery endpoint (R-807-DISC-2).
pub const DISCOVERY_PATH: &str = "/.well-known/pytp";
/// The one upload path this registry serves, so the one discovery key it answers (§7).
pub const UPLOAD_PATH: &str = "/legacy/";

/// A feature of PEP 807 §5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// The credential authorises exactly one upload (R-807-FEAT-1).
    SingleUseToken,
    /// The credential authorises uploads until it expires (R-807-FEAT-2).
    MultiUseToken,
}

impl Feature {
    /// What the discovery answer advertises (§7); `default-features` is left out, so a
    /// mint without `features` is multi-use (R-807-DISC-3, R-807-MINT-2).
    pub const ADVERTISED: [Feature; 2] = [Feature::SingleUseToken, Feature::MultiUseToken];

    pub fn name(self) -> &'static str {
        match self {
            Feature::SingleUseToken => "single-use-token",
            Feature::MultiUseToken => "multi-use-token",
        }
    }

    fn named(name: &str) -> Option<Feature> {
        Feature::ADVERTISED.into_iter().find(|f| f.name() == name)
    }
}

/// What a request's `Accept` header asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// It names the PEP's media type: a PEP 807 client. Error bodies get RFC 9457's media
    /// type.
    Pep807,
    /// No `Accept` (R-807-ACCEPT-1 treats it as the PEP's value: never refused), or one that
    /// admits JSON as PyPI's clients send it (`*/*`, `application/json`). Answers are
    /// PyPI's, byte for byte.
    Json,
    /// Admits neither the PEP's media type nor JSON: 406 (R-807-ACCEPT-2; the reading that
    /// keeps today's clients working is the spec's own, `info`).
    Neither,
}

/// Reads an `Accept` header value (`None`: absent).
pub fn accepted(accept: Option<&str>) -> Accepted {
    let Some(accept) = accept else {
        return Accepted::Json;
    };
    let ranges: Vec<String> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            // A quality of 0 means "not acceptable" (RFC 9110 §12.4.2).
            let refused = parts.any(|p| {
                p.trim()
                    .to_ascii_lowercase()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f64>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (!media.is_empty() && !refused).then_some(media)
        })
        .collect();
    let admits = |media: &str| {
        ranges
            .iter()
            .any(|r| r == media || r == "*/*" || r == "application/*")
    };
    if ranges.iter().any(|r| r == MEDIA_TYPE) {
        Accepted::Pep807
    } else if admits(MEDIA_TYPE) || admits("application/json") {
        Accepted::Json
    } else {
        Accepted::Neither
    }
}

/// An RFC 9457 problem-details object (R-807-ERR-1).
pub fn problem(status: u16, title: &str, detail: &str) -> Value {
    json!({"type": "about:blank", "status": status, "title": title, "detail": detail})
}

/// Why a discovery request is answered with something other than 200.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiscoveryRefusal {
    /// 400: `discover` missing, repeated or not a valid percent-encoding (R-807-DISC-6).
    BadKey(String),
    /// 404: no trusted publishing for that upload path (R-807-DISC-4).
    NotHere(String),
}

/// The upload path a discovery query names, percent-decoded (`+` is a space, as
/// `quote_plus` writes it: R-807-DISC-1), if it is this registry's upload path.
pub fn discovered_path(query: Option<&str>) -> Result<(), DiscoveryRefusal> {
    let keys: Vec<&str> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name).as_deref() == Some("discover")).then_some(value)
        })
        .collect();
    let key = match keys.as_slice() {
        [key] => *key,
        [] => return Err(DiscoveryRefusal::BadKey("no `discover` parameter".into())),
        _ => {
            return Err(DiscoveryRefusal::BadKey(format!(
                "`discover` given {} times",
                keys.len()
            )));
        }
    };
    let path = percent_decode(key).ok_or_else(|| {
        DiscoveryRefusal::BadKey(format!("`discover={key}` is not a valid percent-encoding"))
    })?;
    if path == UPLOAD_PATH {
        Ok(())
    } else {
        Err(DiscoveryRefusal::NotHere(format!(
            "no trusted publishing for upload path {path:?}"
        )))
    }
}

/// A query value decoded: `%XX` escapes and `+` for a space. `None` for a `%` not followed
/// by two hex digits, or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                // Two hex digits exactly: `from_str_radix` alone would take `%+F`.
                let hex = rest
                    .get(..2)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
                bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                rest = &rest[2..];
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

/// The discovery answer for `origin` (`https://host:port`), the origin the client reached:
/// every URL in it has the upload URL's host (R-807-URL-2).
pub fn discovery_document(origin: &str) -> Value {
    json!({
        "audience-endpoint": format!("{origin}/_/oidc/audience"),
        "token-mint-endpoint": format!("{origin}/_/oidc/mint-token"),
        "features": Feature::ADVERTISED.map(Feature::name),
    })
}

/// Whether a mint asks for a single-use credential: the body's `features` member, checked
/// against what discovery advertises. Part of step 1 (the body), so a refusal consumes
/// nothing (R-807-MINT-6).
pub fn single_use_requested(features: Option<&Value>) -> Result<bool, MintError> {
    let requested = match features {
        None | Some(Value::Null) => return Ok(false), // R-807-MINT-2: the defaults
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(unsupported(format!(
                "features must be an array of strings, not {other}"
            )));
        }
    };
    let mut features = Vec::new();
    for item in requested {
        let feature = item.as_str().and_then(Feature::named).ok_or_else(|| {
            unsupported(format!(
                "feature {item} is not one this index advertises ({})",
                Feature::ADVERTISED.map(Feature::name).join(", ")
            ))
        })?;
        features.push(feature);
    }
    let single = features.contains(&Feature::SingleUseToken);
    if single && features.contains(&Feature::MultiUseToken) {
        return Err(unsupported(
            "single-use-token and multi-use-token contradict each other".into(),
        ));
    }
    Ok(single)
}

fn unsupported(description: String) -> MintError {
    MintError::new(ErrorCode::UnsupportedFeature, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_accept_header_sorts_clients_into_three() {
        assert_eq!(accepted(None), Accepted::Json);
        assert_eq!(accepted(Some(MEDIA_TYPE)), Accepted::Pep807);
        assert_eq!(
            accepted(Some(
                "application/json, application/vnd.pypi.pytp.v1+json;q=0.9"
            )),
            Accepted::Pep807
        );
        for json in [
            "*/*",
            "application/json",
            "application/*",
            "text/html, */*;q=0.1",
        ] {
            assert_eq!(accepted(Some(json)), Accepted::Json, "{json}");
        }
        for neither in ["text/html", "application/xml", "application/json;q=0", ""] {
            assert_eq!(accepted(Some(neither)), Accepted::Neither, "{neither:?}");
        }
    }

    #[test]
    fn the_discovery_key_is_the_upload_path_percent_encoded() {
        assert_eq!(discovered_path(Some("discover=%2Flegacy%2F")), Ok(()));
        assert_eq!(discovered_path(Some("discover=%2flegacy%2f")), Ok(()));
        assert_eq!(discovered_path(Some("x=1&discover=/legacy/")), Ok(()));
        for other in [
            "discover=",
            "discover=%2F",
            "discover=%2Fa+b%2F",
            "discover=%2Fsimple%2F",
        ] {
            assert!(
                matches!(
                    discovered_path(Some(other)),
                    Err(DiscoveryRefusal::NotHere(_))
                ),
                "{other}"
            );
        }
        for bad in [
            None,
            Some(""),
            Some("discover=%2"),
            Some("discover=%zz"),
            Some("discover=a&discover=b"),
            Some("discover=%FF"),
            Some("discover=%+F"),
        ] {
            assert!(
                matches!(discovered_path(bad), Err(DiscoveryRefusal::BadKey(_))),
                "{bad:?}"
            );
        }
        assert_eq!(percent_decode("%2Fa+b%2F").as_deref(), Some("/a b/"));
    }

    #[test]
    fn features_are_checked_against_what_is_advertised() {
        let asks = |body: &str| {
            let body: Value = serde_json::from_str(body).unwrap();
            single_use_requested(body.get("features"))
        };
        assert_eq!(asks(r#"{"token":"t"}"#), Ok(false));
        assert_eq!(asks(r#"{"token":"t","features":[]}"#), Ok(false));
        assert_eq!(
            asks(r#"{"token":"t","features":["multi-use-token"]}"#),
            Ok(false)
        );
        assert_eq!(
            asks(r#"{"token":"t","features":["single-use-token"]}"#),
            Ok(true)
        );
        for refused in [
            r#"{"token":"t","features":["single-use-token","multi-use-token"]}"#,
            r#"{"token":"t","features":["forever-token"]}"#,
            r#"{"token":"t","features":[1]}"#,
            r#"{"token":"t","features":"single-use-token"}"#,
        ] {
            let err = asks(refused).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnsupportedFeature, "{refused}");
        }
    }
}
