//! Signing keys per issuer string: the cache (R-JWKS-1, R-JWKS-2), the discovery → `jwks_uri`
//! → `keys` refresh (R-JWKS-3) with its cooldown (R-JWKS-4, R-JWKS-5), and the failure cases
//! PyPI answers with 500 (R-DEF-1, R-DEF-2). Keys come from nowhere else (R-JWT-4).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, RsaPublicKeyComponents,
};
use base64::Engine as _;
use reqwest::Url;
use serde_json::{Map, Value};

use crate::clock::{Clock, Now};
use crate::jwt::LENIENT_BASE64URL;
use crate::key_fetch::{FetchError, KeyFetcher};

const COOLDOWN: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_DOCUMENT_BYTES: usize = 1 << 20;
const MAX_REDIRECTS: usize = 10;

/// One cached JWK. R-SIG-4 decides usability when the key is used, so an unusable entry is
/// still cached under its `kid` (and still counts for "the `kid` is cached").
#[derive(Clone)]
pub enum CachedKey {
    Rs256(Arc<ParsedPublicKey>),
    Unusable,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("no key source: the issuer has only an inline JWKS")]
    NoSource,
    #[error("{0}: not a URL")]
    BadUrl(String),
    #[error("{0}: not loopback, and remote issuers are not allowed")]
    Remote(String),
    #[error("{url}: {source}")]
    Fetch { url: String, source: FetchError },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects { url: String },
    #[error("{url}: redirected to {location:?}, not a URL")]
    BadRedirect { url: String, location: String },
    #[error("{url}: {problem}")]
    Document { url: String, problem: &'static str },
}

/// Where an issuer's keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// Discovery document URL (`<iss>/.well-known/openid-configuration` or the fixture's).
    Discovery(String),
    /// Only the fixture's inline JWKS: the cache is seeded and never refreshed.
    InlineOnly,
}

/// The key cache of one issuer string.
struct IssuerKeys {
    source: KeySource,
    keys: RwLock<HashMap<String, CachedKey>>,
    /// Serialises refreshes, so concurrent unknown `kid`s cause at most one fetch, and holds
    /// the end of the running cooldown (R-JWKS-5).
    refresh: tokio::sync::Mutex<Option<Now>>,
}

/// The key caches of every trusted issuer. A fixture builds a new one (`docs/target-contract.md`: applying a
/// fixture drops the key caches).
pub struct KeyStore {
    fetcher: KeyFetcher,
    clock: Arc<dyn Clock>,
    allow_remote: bool,
    issuers: HashMap<String, IssuerKeys>,
}

impl KeyStore {
    pub(crate) fn new(fetcher: KeyFetcher, clock: Arc<dyn Clock>, allow_remote: bool) -> Self {
        Self {
            fetcher,
            clock,
            allow_remote,
            issuers: HashMap::new(),
        }
    }

    /// Registers an issuer string, its key source and the keys to start with.
    pub fn add_issuer(
        &mut self,
        issuer: &str,
        source: KeySource,
        seed: HashMap<String, CachedKey>,
    ) {
        let keys = IssuerKeys {
            source,
            keys: RwLock::new(seed),
            refresh: tokio::sync::Mutex::new(None),
        };
        self.issuers.insert(issuer.to_owned(), keys);
    }

    /// The key for `kid`, refreshing the issuer's set first if the `kid` is not cached and no
    /// cooldown runs (R-JWKS-3). `None`: still unknown (R-JWKS-6).
    pub async fn key(&self, issuer: &str, kid: &str) -> Option<CachedKey> {
        let entry = self.issuers.get(issuer)?;
        if let Some(key) = cached(entry, kid) {
            return Some(key);
        }
        let mut cooldown_until = entry.refresh.lock().await;
        // Another request may have refreshed while this one waited for the lock.
        if let Some(key) = cached(entry, kid) {
            return Some(key);
        }
        let now = self.clock.now();
        if cooldown_until.is_some_and(|until| now < until) {
            return None;
        }
        // R-JWKS-4: a failed refresh changes nothing and starts no cooldown; the caller
        // answers invalid-token without saying why (spec §6).
        if let Ok(fresh) = self.fetch(&entry.source).await {
            *entry.keys.write().unwrap_or_else(|e| e.into_inner()) = fresh;
            *cooldown_until = Some(self.clock.now().plus(COOLDOWN));
        }
        cached(entry, kid)
    }

    /// A `kid` found in any issuer's cache: the key-confusion bug of a registry that keeps
    /// one cache for all issuers (R-JWKS-1).
    #[cfg(feature = "sabotage")]
    pub(crate) fn cached_at_any_issuer(&self, kid: &str) -> Option<CachedKey> {
        self.issuers.values().find_map(|entry| cached(entry, kid))
    }

    async fn fetch(&self, source: &KeySource) -> Result<HashMap<String, CachedKey>, RefreshError> {
        let KeySource::Discovery(discovery_url) = source else {
            return Err(RefreshError::NoSource);
        };
        let discovery = self.get_json(discovery_url).await?;
        let jwks_uri = discovery
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| RefreshError::Document {
                url: discovery_url.clone(),
                problem: "no string jwks_uri",
            })?;
        let jwks = self.get_json(jwks_uri).await?;
        parse_jwks(&jwks).map_err(|problem| RefreshError::Document {
            url: jwks_uri.to_owned(),
            problem,
        })
    }

    /// GET with a 5 s timeout, following up to [`MAX_REDIRECTS`] redirects (never off
    /// loopback unless remote issuers are allowed); status < 400 and a JSON object body
    /// (R-JWKS-3, R-DEF-1).
    async fn get_json(&self, url: &str) -> Result<Map<String, Value>, RefreshError> {
        let mut at = Url::parse(url).map_err(|_| RefreshError::BadUrl(url.to_owned()))?;
        for redirects in 0..=MAX_REDIRECTS {
            // An issuer network is no network: only a real fetch can leave the machine.
            let networked = matches!(self.fetcher, KeyFetcher::Http(_));
            if networked && !self.allow_remote && !is_loopback(&at) {
                return Err(RefreshError::Remote(at.to_string()));
            }
            let fetched = self
                .fetcher
                .get(&at, MAX_DOCUMENT_BYTES, FETCH_TIMEOUT)
                .await
                .map_err(|source| RefreshError::Fetch {
                    url: at.to_string(),
                    source,
                })?;
            if let Some(location) = fetched.location {
                if redirects == MAX_REDIRECTS {
                    break;
                }
                at = at.join(&location).map_err(|_| RefreshError::BadRedirect {
                    url: at.to_string(),
                    location,
                })?;
                continue;
            }
            if fetched.status >= 400 {
                return Err(RefreshError::Status {
                    url: at.to_string(),
                    status: fetched.status,
                });
            }
            return match serde_json::from_slice(&fetched.body) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(RefreshError::Document {
                    url: at.to_string(),
                    problem: "not a JSON object",
                }),
            };
        }
        Err(RefreshError::TooManyRedirects {
            url: url.to_owned(),
        })
    }
}

fn cached(entry: &IssuerKeys, kid: &str) -> Option<CachedKey> {
    entry
        .keys
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(kid)
        .cloned()
}

/// A JWK Set's `keys` indexed by `kid`: an array of objects (R-DEF-1); entries without a
/// string `kid` are skipped (R-DEF-2); at least one must remain (R-JWKS-3). Later duplicates
/// of a `kid` win.
pub fn parse_jwks(jwks: &Map<String, Value>) -> Result<HashMap<String, CachedKey>, &'static str> {
    let Some(Value::Array(entries)) = jwks.get("keys") else {
        return Err("no keys array");
    };
    let mut keys = HashMap::new();
    for entry in entries {
        let Value::Object(jwk) = entry else {
            return Err("keys holds a non-object");
        };
        if let Some(Value::String(kid)) = jwk.get("kid") {
            keys.insert(kid.clone(), parse_jwk(jwk));
        }
    }
    if keys.is_empty() {
        Err("no key with a string kid")
    } else {
        Ok(keys)
    }
}

/// R-SIG-4: usable only with `kty` `RSA` and `alg` absent or `RS256`, and well-formed `n`, `e`.
fn parse_jwk(jwk: &Map<String, Value>) -> CachedKey {
    let alg_ok = matches!(jwk.get("alg"), None | Some(Value::Null))
        || jwk.get("alg").and_then(Value::as_str) == Some("RS256");
    let kty_ok = jwk.get("kty").and_then(Value::as_str) == Some("RSA");
    let component = |name: &str| {
        let text = jwk.get(name)?.as_str()?;
        let bytes = LENIENT_BASE64URL.decode(text).ok()?;
        // JWKs may carry leading zero octets; aws-lc-rs wants the minimal big-endian form.
        let start = bytes.iter().position(|&b| b != 0)?;
        Some(bytes[start..].to_vec())
    };
    let parsed = (alg_ok && kty_ok)
        .then(|| {
            let components = RsaPublicKeyComponents {
                n: component("n")?,
                e: component("e")?,
            };
            components
                .to_parsed_public_key(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY)
                .ok()
        })
        .flatten();
    parsed.map_or(CachedKey::Unusable, |key| CachedKey::Rs256(Arc::new(key)))
}

fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::key_fetch::HttpFetcher;
    use crate::key_fetch::tests::serve;

    /// A loopback server whose every answer redirects to `location`.
    async fn redirecting_to(location: &'static str) -> String {
        serve(
            axum::Router::new()
                .fallback(move || async move { axum::response::Redirect::temporary(location) }),
        )
        .await
    }

    #[tokio::test]
    async fn the_loopback_rule_holds_at_every_redirect() {
        let base = redirecting_to("http://192.0.2.1/.well-known/jwks").await;
        let fetcher = KeyFetcher::Http(HttpFetcher::trusting(None).unwrap());
        let store = KeyStore::new(fetcher, Arc::new(SystemClock), false);
        let refused = store.get_json(&format!("{base}/.well-known/jwks")).await;
        assert!(
            matches!(&refused, Err(RefreshError::Remote(url)) if url.starts_with("http://192.0.2.1/")),
            "{refused:?}"
        );
    }
}
