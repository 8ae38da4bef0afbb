//! One token being forged: its claims and header as the defects edit them, and what the
//! defects decided beyond them (the signer, a broken envelope, padding, a duplicated
//! member). Each defect's table entry edits this.

use serde_json::{Map, Value};

use super::envelope::Compact;
use super::signer::Signer;
use super::{Entropy, ForgeError, Forger};
use crate::defect::Defect;
use crate::keys::RsaAlgorithm;
use crate::profile::Provider;
use crate::time::RelativeTime;

pub struct Forging<'a> {
    pub claims: Map<String, Value>,
    pub header: Map<String, Value>,
    pub forger: &'a Forger,
    /// The provider of the token's profile.
    pub provider: Provider,
    pub entropy: Entropy,
    pub oversized: bool,
    /// A claim the payload text names twice, and the decoy value it names first.
    pub duplicate: Option<(String, Value)>,
    pub(super) signer: Signer,
    pub(super) envelope: Option<Compact>,
    now: f64,
    /// The defect being applied, for errors.
    defect: Option<Defect>,
    signer_chosen_by: Option<Defect>,
    envelope_broken_by: Option<Defect>,
}

impl<'a> Forging<'a> {
    pub(super) fn new(
        forger: &'a Forger,
        claims: Map<String, Value>,
        header: Map<String, Value>,
        entropy: Entropy,
        provider: Provider,
        now: f64,
    ) -> Self {
        Forging {
            claims,
            header,
            forger,
            provider,
            entropy,
            oversized: false,
            duplicate: None,
            signer: Signer::Rsa(forger.signing_key().clone(), RsaAlgorithm::Rs256),
            envelope: None,
            now,
            defect: None,
            signer_chosen_by: None,
            envelope_broken_by: None,
        }
    }

    pub(super) fn apply(&mut self, defect: &Defect) -> Result<(), ForgeError> {
        self.defect = Some(defect.clone());
        defect.forge(self)
    }

    fn current(&self) -> Defect {
        self.defect.clone().expect("set while a defect is applied")
    }

    /// Sets a time claim `offset` seconds from the moment of signing.
    pub fn set_time(&mut self, claim: &str, offset: f64) {
        let value = RelativeTime::FromNow(offset).to_claim(self.now);
        self.claims.insert(claim.to_owned(), value);
    }

    /// The error of a defect that needs a claim the token lacks.
    pub fn absent(&self, claim: &str) -> ForgeError {
        ForgeError::ClaimAbsent {
            defect: self.current(),
            claim: claim.to_owned(),
        }
    }

    pub fn not_applicable(&self, reason: &'static str) -> ForgeError {
        ForgeError::NotApplicable {
            defect: self.current(),
            reason,
        }
    }

    /// The rogue key (published by no issuer) under RS256.
    pub fn rogue(&self) -> Signer {
        Signer::Rsa(self.forger.rogue_key().clone(), RsaAlgorithm::Rs256)
    }

    /// Signs with `signer`; a second defect deciding the signer conflicts with the first.
    pub fn sign_with(&mut self, signer: Signer) -> Result<(), ForgeError> {
        let defect = self.current();
        if let Some(first) = self.signer_chosen_by.replace(defect.clone()) {
            return Err(ForgeError::Conflict {
                first,
                second: defect,
                what: "how the token is signed",
            });
        }
        self.signer = signer;
        Ok(())
    }

    /// Writes the token with `compact` instead of `input.signature`; a second defect
    /// breaking the envelope conflicts with the first.
    pub fn break_envelope(&mut self, compact: Compact) -> Result<(), ForgeError> {
        let defect = self.current();
        if let Some(first) = self.envelope_broken_by.replace(defect.clone()) {
            return Err(ForgeError::Conflict {
                first,
                second: defect,
                what: "the token's envelope",
            });
        }
        self.envelope = Some(compact);
        Ok(())
    }
}
