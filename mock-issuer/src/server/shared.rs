//! A mock's state, shared between its handle and its request handlers: keys, what is
//! published and signed with, faults, CI jobs and the request log.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use serde_json::{Value, json};

use super::IssuerError;
use super::log::LoggedRequest;
use crate::fault::JwksFault;
use crate::forge::Forger;
use crate::keys::{KeySet, SigningKey};
use crate::spec::TokenSpec;

/// A change to a published JWK: members set (any JSON), then members removed.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwkEdit {
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub set: serde_json::Map<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl JwkEdit {
    fn applied_to(&self, jwk: &Value) -> Value {
        let mut jwk = jwk.clone();
        if let Some(members) = jwk.as_object_mut() {
            members.extend(self.set.clone());
            for name in &self.remove {
                members.remove(name);
            }
        }
        jwk
    }
}

/// State shared between the handle and the request handlers.
pub(crate) struct Shared {
    pub(super) base_url: String,
    pub(super) issuer: String,
    pub(super) audience: String,
    pub(super) keys: KeySet,
    pub(super) state: Mutex<KeyState>,
    pub(super) log: Mutex<Vec<LoggedRequest>>,
    pub(super) ca_pem: Option<String>,
}

pub(super) struct KeyState {
    pub(super) published: Vec<String>,
    pub(super) signing: SigningKey,
    pub(super) fault: Option<JwksFault>,
    /// Changes to published keys' JWKs, by `kid` (a JWK another verifier must refuse).
    pub(super) jwk_edits: HashMap<String, JwkEdit>,
    /// Entries published after the keys (hostile or odd JWKS content).
    pub(super) extra_jwks: Vec<Value>,
    /// Request token → the job's token spec (GitHub Actions' token-request contract).
    pub(super) jobs: HashMap<String, TokenSpec>,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked mid-update cannot leave this state half-written (every
    // update is a single assignment), so a poisoned lock is still safe to use.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(super) fn forger(&self) -> Forger {
        Forger::new(&self.keys)
            .with_signing_key(lock(&self.state).signing.clone())
            .with_issuer(self.issuer.clone())
            .with_audience(self.audience.clone())
            .with_attacker_base(self.base_url.clone())
    }

    pub(super) fn fault(&self) -> Option<JwksFault> {
        lock(&self.state).fault
    }

    /// The JWKS as currently published, with the current fault applied.
    pub(super) fn jwks(&self) -> Value {
        let state = lock(&self.state);
        let published = state
            .published
            .iter()
            .filter_map(|kid| self.keys.by_kid(kid));
        let mut keys: Vec<Value> = published
            .map(|key| match state.jwk_edits.get(key.kid()) {
                Some(edit) => edit.applied_to(key.jwk()),
                None => key.jwk().clone(),
            })
            .collect();
        keys.extend(state.extra_jwks.iter().cloned());
        match state.fault {
            Some(JwksFault::EmptyKeys) => keys.clear(),
            Some(JwksFault::MissingKid) => {
                for key in &mut keys {
                    key.as_object_mut().map(|key| key.remove("kid"));
                }
            }
            Some(JwksFault::DuplicateKid) => {
                let mut impostor = self.keys.rogue.jwk().clone();
                impostor["kid"] = json!(state.signing.kid());
                keys.insert(0, impostor);
            }
            _ => {}
        }
        json!({ "keys": keys })
    }

    pub(super) fn record(&self, request: LoggedRequest) {
        lock(&self.log).push(request);
    }

    pub(super) fn job(&self, request_token: &str) -> Option<TokenSpec> {
        lock(&self.state).jobs.get(request_token).cloned()
    }

    pub(super) fn add_job(&self, spec: TokenSpec) -> String {
        let request_token = uuid::Uuid::new_v4().simple().to_string();
        lock(&self.state).jobs.insert(request_token.clone(), spec);
        request_token
    }

    pub(super) fn edit_jwk(&self, kid: &str, edit: JwkEdit) -> Result<(), IssuerError> {
        let key = self.known_key(kid)?;
        lock(&self.state)
            .jwk_edits
            .insert(key.kid().to_owned(), edit);
        Ok(())
    }

    pub(super) fn add_jwks_entry(&self, entry: Value) {
        lock(&self.state).extra_jwks.push(entry);
    }

    pub(super) fn set_fault(&self, fault: Option<JwksFault>) {
        lock(&self.state).fault = fault;
    }

    pub(super) fn known_key(&self, kid: &str) -> Result<SigningKey, IssuerError> {
        let key = self
            .keys
            .by_kid(kid)
            .ok_or_else(|| IssuerError::UnknownKey(kid.to_owned()))?;
        if key.kid() == self.keys.rogue.kid() {
            return Err(IssuerError::RogueKey);
        }
        Ok(key.clone())
    }

    pub(super) fn publish_key(&self, kid: &str) -> Result<(), IssuerError> {
        let key = self.known_key(kid)?;
        let mut state = lock(&self.state);
        if !state
            .published
            .iter()
            .any(|published| published == key.kid())
        {
            state.published.push(key.kid().to_owned());
        }
        Ok(())
    }

    pub(super) fn retire_key(&self, kid: &str) -> Result<(), IssuerError> {
        let key = self.known_key(kid)?;
        lock(&self.state)
            .published
            .retain(|published| published != key.kid());
        Ok(())
    }

    pub(super) fn sign_with(&self, kid: &str) -> Result<(), IssuerError> {
        let key = self.known_key(kid)?;
        lock(&self.state).signing = key;
        Ok(())
    }
}
