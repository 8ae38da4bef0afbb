//! Issuer keys: fetched through discovery (or the JWKS URL, or given inline), cached per
//! issuer string, refreshed when a token names a `kid` the cache lacks, at most once per
//! cooldown.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::traits::PublicKeyParts;
use serde_json::Value;
use tokio::sync::Mutex;

use super::fixture::Issuer;

/// A published RSA key.
#[derive(Clone, Debug)]
pub struct PublishedKey {
    pub kid: Option<String>,
    pub key: rsa::RsaPublicKey,
}

#[derive(Default)]
struct Cached {
    keys: Vec<PublishedKey>,
    refreshed: Option<Instant>,
}

pub struct KeyStore {
    http: reqwest::Client,
    cooldown: Duration,
    /// Discovery at `<iss>/.well-known/openid-configuration`, whatever the fixture says.
    from_iss: bool,
    caches: Mutex<HashMap<String, Cached>>,
}

/// An HTTP client for key fetches that also trusts `ca_pem`.
pub fn client(ca_pem: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(5));
    if let Some(certificate) =
        ca_pem.and_then(|pem| reqwest::Certificate::from_pem(pem.as_bytes()).ok())
    {
        builder = builder.add_root_certificate(certificate);
    }
    builder.build().expect("an HTTP client")
}

impl KeyStore {
    /// Empty caches; fetches go through `http`.
    pub fn new(http: reqwest::Client, cooldown: Duration, from_iss: bool) -> KeyStore {
        KeyStore {
            http,
            cooldown,
            from_iss,
            caches: Mutex::new(HashMap::new()),
        }
    }

    /// Seeds an issuer's cache from the keys the fixture gave inline.
    pub async fn seed(&self, issuer: &Issuer) {
        if let Some(jwks) = &issuer.jwks {
            let keys = parse_jwks(jwks);
            self.caches.lock().await.insert(
                issuer.issuer.clone(),
                Cached {
                    keys,
                    refreshed: None,
                },
            );
        }
    }

    /// The key for `kid` (or, with `kid` absent and `lone_key`, the issuer's only key),
    /// refreshing the issuer's keys once if they lack it.
    pub async fn find(
        &self,
        issuer: &Issuer,
        kid: Option<&str>,
        lone_key: bool,
    ) -> Option<PublishedKey> {
        let pick = |keys: &[PublishedKey]| match kid {
            Some(kid) => keys.iter().find(|k| k.kid.as_deref() == Some(kid)).cloned(),
            None if lone_key && keys.len() == 1 => keys.first().cloned(),
            None => None,
        };
        let mut caches = self.caches.lock().await;
        let cached = caches.entry(issuer.issuer.clone()).or_default();
        if let Some(key) = pick(&cached.keys) {
            return Some(key);
        }
        let cooling = cached
            .refreshed
            .is_some_and(|at| at.elapsed() < self.cooldown);
        if cooling {
            return None;
        }
        if let Some(keys) = self.fetch(issuer).await {
            cached.keys = keys;
            cached.refreshed = Some(Instant::now());
        }
        pick(&cached.keys)
    }

    /// The key for `kid` in the key set at `url`, fetched now.
    pub async fn find_at(&self, url: &str, kid: Option<&str>) -> Option<PublishedKey> {
        let jwks = self.get(url).await?;
        parse_jwks(&jwks)
            .into_iter()
            .find(|key| kid.is_none() || key.kid.as_deref() == kid)
    }

    async fn fetch(&self, issuer: &Issuer) -> Option<Vec<PublishedKey>> {
        let from_iss = self
            .from_iss
            .then(|| format!("{}/.well-known/openid-configuration", issuer.issuer));
        let discovery = from_iss.or_else(|| issuer.discovery_url.clone());
        let jwks_url = match (&discovery, &issuer.jwks_url) {
            (Some(discovery), _) => {
                let document: Value = self.get(discovery).await?;
                document.get("jwks_uri")?.as_str()?.to_owned()
            }
            (None, Some(jwks_url)) => jwks_url.clone(),
            (None, None) => return issuer.jwks.as_ref().map(parse_jwks),
        };
        let jwks: Value = self.get(&jwks_url).await?;
        let keys = parse_jwks(&jwks);
        (!keys.is_empty()).then_some(keys)
    }

    async fn get(&self, url: &str) -> Option<Value> {
        let response = self.http.get(url).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().await.ok()
    }
}

/// The RSA keys of a JWKS; entries this registry cannot use are skipped.
fn parse_jwks(jwks: &Value) -> Vec<PublishedKey> {
    let number = |jwk: &Value, member: &str| {
        let text = jwk.get(member)?.as_str()?;
        let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
        Some(rsa::BigUint::from_bytes_be(&bytes))
    };
    jwks.get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|jwk| jwk.get("kty").and_then(Value::as_str) == Some("RSA"))
        .filter_map(|jwk| {
            let key = rsa::RsaPublicKey::new(number(jwk, "n")?, number(jwk, "e")?).ok()?;
            Some(PublishedKey {
                kid: jwk.get("kid").and_then(Value::as_str).map(str::to_owned),
                key,
            })
        })
        .collect()
}

impl PublishedKey {
    pub fn bits(&self) -> usize {
        self.key.n().bits()
    }
}
