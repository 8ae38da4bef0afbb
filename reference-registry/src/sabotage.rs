//! Deliberately broken variants of the reference registry, for testing test suites: a suite
//! that passes against a sabotaged registry cannot catch that fault. Only with the `sabotage`
//! cargo feature, and off unless [`Registry::sabotage`](crate::Registry::sabotage) is called.
//! Never enable in a real deployment.
//!
//! Each field breaks one check; every hook that reads one is marked
//! `#[cfg(feature = "sabotage")]`.

use serde_json::{Map, Value};

/// Which checks to break. [`Sabotage::default`] breaks none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sabotage {
    /// Accept an `exp` in the past (R-TIME-2).
    pub skip_expiry: bool,
    /// Accept any `aud` (R-CLAIM-2).
    pub skip_audience: bool,
    /// Never record or refuse a `jti` (R-JTI-1..3).
    pub skip_replay_store: bool,
    /// Match GitHub publishers whatever `repository_owner_id` says (R-GH-2, R-GH-4).
    pub skip_owner_id: bool,
    /// Look up GitHub repositories ignoring case (R-GH-3).
    pub repository_case_insensitive: bool,
    /// Accept an unsigned token: `alg: none`, no signature check (R-SIG-3).
    pub accept_alg_none: bool,
    /// Skip the signature check; `kid` must still name a known key (R-SIG-5).
    pub skip_signature: bool,
    /// Answer `invalid-payload` with 500 instead of 422 (R-RESP-6).
    pub invalid_payload_500: bool,
    /// Look a `kid` up in every issuer's cache, as one cache for all issuers would (R-JWKS-1).
    pub shared_key_cache: bool,
    /// PEP 807 discovery names endpoints on another host, as a registry behind a proxy that
    /// writes its internal host name would (R-807-URL-2).
    pub discovery_other_host: bool,
    /// Tell PEP 807 clients their credential expires 600 s after the request (R-807-MINT-4).
    pub pep807_ten_minute_credentials: bool,
    /// Accept `single-use-token` and mint an ordinary credential, which uploads again and
    /// again (R-807-FEAT-1).
    pub single_use_reusable: bool,
    /// Refuse a bad discovery key with 422 and a bare JSON string, no problem details
    /// (R-807-ERR-1).
    pub discovery_error_not_an_object: bool,
}

impl Sabotage {
    /// Whether the token's signature (and its `alg`) go unchecked.
    pub(crate) fn skips_signature(&self, header: &Map<String, Value>) -> bool {
        self.skip_signature
            || (self.accept_alg_none && header.get("alg").and_then(Value::as_str) == Some("none"))
    }
}
