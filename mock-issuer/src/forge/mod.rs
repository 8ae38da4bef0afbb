//! Token forging: a profile's claims, the caller's overrides, then the defects, then
//! signing. What each defect does is in its entry of the defect table; the pieces it uses
//! are here, by what they forge: `claims`, `header`, `envelope`, `signer`.

pub(crate) mod claims;
pub(crate) mod envelope;
pub(crate) mod header;
mod plan;
pub(crate) mod signer;

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

pub(crate) use plan::Forging;

use crate::defect::{Defect, OVERSIZED_TOKEN_BYTES};
use crate::keys::{KeyError, KeySet, SigningKey};
use crate::profile::{Profile, Provider};
use crate::time::{RelativeTime, unix_now};

/// Where `jku` / `x5u` point when no mock server hosts the attacker's documents.
pub const DEFAULT_ATTACKER_BASE: &str = "https://attacker.example.invalid";

#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    #[error("defect {defect}: the token has no claim {claim:?} to change")]
    ClaimAbsent { defect: Defect, claim: String },
    #[error("defect {defect} does not apply here: {reason}")]
    NotApplicable {
        defect: Defect,
        reason: &'static str,
    },
    #[error("defects {first} and {second} conflict: both decide {what}")]
    Conflict {
        first: Defect,
        second: Defect,
        what: &'static str,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("self-signing a certificate for the x5c header failed: {0}")]
    Certificate(#[from] rcgen::Error),
}

/// Signs tokens with one key set. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Forger {
    signing: SigningKey,
    rogue: SigningKey,
    issuer: Option<String>,
    audience: String,
    attacker_base: String,
}

impl Forger {
    /// Signs with `keys.primary`; each profile carries its real issuer; audience `pypi`.
    pub fn new(keys: &KeySet) -> Self {
        Forger {
            signing: keys.primary.clone(),
            rogue: keys.rogue.clone(),
            issuer: None,
            audience: "pypi".to_owned(),
            attacker_base: DEFAULT_ATTACKER_BASE.to_owned(),
        }
    }

    pub fn with_signing_key(mut self, key: SigningKey) -> Self {
        self.signing = key;
        self
    }

    /// Every token gets this `iss` instead of its profile's own.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// The base URL under which `jku` / `x5u` injection point (`/attacker/...`).
    pub fn with_attacker_base(mut self, base: impl Into<String>) -> Self {
        self.attacker_base = base.into();
        self
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The key no issuer publishes, which the injection and bad-signature defects sign with.
    pub fn rogue_key(&self) -> &SigningKey {
        &self.rogue
    }

    /// `path` (such as `/attacker/jwks.json`) under the attacker base.
    pub fn attacker_url(&self, path: &str) -> String {
        format!("{}{path}", self.attacker_base)
    }

    pub fn token(&self, profile: Profile) -> TokenBuilder {
        TokenBuilder {
            forger: self.clone(),
            profile,
            claim_edits: Vec::new(),
            header_edits: Vec::new(),
            defects: Vec::new(),
            now: None,
            seed: None,
        }
    }
}

#[derive(Clone, Debug)]
enum ClaimEdit {
    Set(String, Value),
    Time(String, RelativeTime),
    Remove(String),
}

/// One token in the making; see [`Forger::token`].
#[derive(Clone, Debug)]
#[must_use = "a token builder does nothing until .sign()"]
pub struct TokenBuilder {
    forger: Forger,
    profile: Profile,
    claim_edits: Vec<ClaimEdit>,
    header_edits: Vec<(String, Option<Value>)>,
    defects: Vec<Defect>,
    now: Option<f64>,
    seed: Option<u64>,
}

/// Where a token's random parts (`jti`, an unknown `kid`) come from: the OS, or a seed so a
/// run can be replayed exactly.
pub(crate) enum Entropy {
    Os,
    Seeded(u64),
}

impl Entropy {
    pub(crate) fn uuid(&mut self) -> uuid::Uuid {
        match self {
            Entropy::Os => uuid::Uuid::new_v4(),
            Entropy::Seeded(state) => {
                let mut bytes = [0u8; 16];
                for half in bytes.chunks_mut(8) {
                    half.copy_from_slice(&splitmix64(state).to_le_bytes());
                }
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            }
        }
    }
}

/// SplitMix64: a tiny, well-mixed generator; plenty for test identifiers.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl TokenBuilder {
    /// Sets a claim to any JSON value (applied before defects).
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claim_edits
            .push(ClaimEdit::Set(name.into(), value.into()));
        self
    }

    /// Sets a time claim relative to the moment of signing.
    pub fn time(mut self, name: impl Into<String>, at: RelativeTime) -> Self {
        self.claim_edits.push(ClaimEdit::Time(name.into(), at));
        self
    }

    pub fn remove(mut self, name: impl Into<String>) -> Self {
        self.claim_edits.push(ClaimEdit::Remove(name.into()));
        self
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.header_edits.push((name.into(), Some(value.into())));
        self
    }

    pub fn remove_header(mut self, name: impl Into<String>) -> Self {
        self.header_edits.push((name.into(), None));
        self
    }

    pub fn defect(mut self, defect: Defect) -> Self {
        self.defects.push(defect);
        self
    }

    pub fn defects(mut self, defects: impl IntoIterator<Item = Defect>) -> Self {
        self.defects.extend(defects);
        self
    }

    /// Derives the token's random parts (`jti`, an unknown `kid`) from `seed`, so the same
    /// seed, profile, edits and time give the same token.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Pins "now" (Unix seconds, floored to whole seconds) instead of reading the clock.
    pub fn at(mut self, now: f64) -> Self {
        self.now = Some(now);
        self
    }

    pub fn sign(self) -> Result<ForgedToken, ForgeError> {
        let Forging {
            claims,
            header,
            signer,
            envelope,
            duplicate,
            ..
        } = self.forging()?;
        let mut payload = serde_json::to_string(&claims).expect("claims serialize");
        if let Some((name, decoy)) = &duplicate {
            let member = format!("{}:{},", json!(name), decoy);
            payload.insert_str(1, &member);
        }
        let header_text = serde_json::to_string(&header).expect("header serializes");
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&header_text),
            URL_SAFE_NO_PAD.encode(&payload)
        );
        let signature = signer.sign(signing_input.as_bytes())?;
        let compact = match envelope {
            None => format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&signature)),
            Some(compact) => compact(&signing_input, signature),
        };
        Ok(ForgedToken {
            compact,
            header: Value::Object(header),
            claims: Value::Object(claims),
        })
    }
}

impl TokenBuilder {
    /// The header and claims [`TokenBuilder::sign`] would sign, without the signature (an
    /// RS256 signature is most of a token's cost): for comparing a token with another.
    pub fn unsigned(self) -> Result<(Value, Value), ForgeError> {
        let forging = self.forging()?;
        Ok((Value::Object(forging.header), Value::Object(forging.claims)))
    }

    /// The token's parts once every defect is applied, ready to be signed.
    fn forging(&self) -> Result<Forging<'_>, ForgeError> {
        // Real issuers send whole seconds; fractions appear only where a caller asks for one.
        let now = self.now.unwrap_or_else(unix_now).floor();
        let mut entropy = self.seed.map_or(Entropy::Os, Entropy::Seeded);
        let claims = self.edited_claims(now, &mut entropy);
        let header = self.edited_header();
        let mut forging = Forging::new(
            &self.forger,
            claims,
            header,
            entropy,
            self.profile.provider(),
            now,
        );
        for defect in &self.defects {
            forging.apply(defect)?;
        }
        if forging.oversized {
            // base64url grows text by 4/3, so this many bytes of padding clear the limit.
            let padding = OVERSIZED_TOKEN_BYTES * 3 / 4 + 1;
            forging
                .claims
                .insert(claims::PADDING.into(), json!("A".repeat(padding)));
        }
        Ok(forging)
    }

    /// The profile's claims for `now`, with the caller's edits.
    fn edited_claims(&self, now: f64, entropy: &mut Entropy) -> Map<String, Value> {
        let issuer = self
            .forger
            .issuer
            .clone()
            .unwrap_or_else(|| self.profile.default_issuer());
        let jti = entropy.uuid().to_string();
        let mut claims = self
            .profile
            .claims(now, &issuer, &self.forger.audience, &jti);
        for edit in &self.claim_edits {
            match edit {
                ClaimEdit::Set(name, value) => claims.insert(name.clone(), value.clone()),
                ClaimEdit::Time(name, at) => claims.insert(name.clone(), at.to_claim(now)),
                ClaimEdit::Remove(name) => claims.remove(name),
            };
        }
        claims
    }

    /// The header a real issuer's token has, with the caller's edits.
    fn edited_header(&self) -> Map<String, Value> {
        let signing = &self.forger.signing;
        let mut header = Map::new();
        header.insert("alg".into(), json!("RS256"));
        header.insert("kid".into(), json!(signing.kid()));
        header.insert("typ".into(), json!("JWT"));
        if self.profile.provider() == Provider::Github {
            // GitHub's tokens carry a SHA-1 thumbprint; verifiers must tolerate it.
            let thumbprint = digest(&SHA1_FOR_LEGACY_USE_ONLY, signing.public_der());
            header.insert("x5t".into(), json!(URL_SAFE_NO_PAD.encode(thumbprint)));
        }
        for (name, value) in &self.header_edits {
            match value {
                Some(value) => header.insert(name.clone(), value.clone()),
                None => header.remove(name),
            };
        }
        header
    }
}

/// A forged token: the compact serialization plus the header and claims that went into it
/// (for reports; a malformed token's parts are what was meant, not what can be decoded).
#[derive(Clone, Debug, serde::Serialize)]
pub struct ForgedToken {
    #[serde(rename = "token")]
    pub compact: String,
    pub header: Value,
    pub claims: Value,
}

impl ForgedToken {
    pub fn as_str(&self) -> &str {
        &self.compact
    }
}

impl std::fmt::Display for ForgedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.compact)
    }
}
