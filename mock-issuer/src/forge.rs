//! Token forging: a profile's claims, the caller's overrides, then the defects, then signing.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};

use crate::defect::{Defect, Malformation, OVERSIZED_TOKEN_BYTES, PublicKeyForm, WRONG_ISSUER};
use crate::keys::{KeyError, KeySet, RsaAlgorithm, SigningKey};
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
enum Entropy {
    Os,
    Seeded(u64),
}

impl Entropy {
    fn uuid(&mut self) -> uuid::Uuid {
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
        // Real issuers send whole seconds; fractions appear only where a caller asks for one.
        let now = self.now.unwrap_or_else(unix_now).floor();
        let forger = &self.forger;
        let issuer = forger
            .issuer
            .clone()
            .unwrap_or_else(|| self.profile.default_issuer());
        let mut entropy = self.seed.map_or(Entropy::Os, Entropy::Seeded);
        let jti = entropy.uuid().to_string();
        let mut claims = self.profile.claims(now, &issuer, &forger.audience, &jti);
        for edit in &self.claim_edits {
            match edit {
                ClaimEdit::Set(name, value) => claims.insert(name.clone(), value.clone()),
                ClaimEdit::Time(name, at) => claims.insert(name.clone(), at.to_claim(now)),
                ClaimEdit::Remove(name) => claims.remove(name),
            };
        }
        let mut header = Map::new();
        header.insert("alg".into(), json!("RS256"));
        header.insert("kid".into(), json!(forger.signing.kid()));
        header.insert("typ".into(), json!("JWT"));
        if self.profile.provider() == Provider::Github {
            // GitHub's tokens carry a SHA-1 thumbprint; verifiers must tolerate it.
            let thumbprint = digest(&SHA1_FOR_LEGACY_USE_ONLY, forger.signing.public_der());
            header.insert("x5t".into(), json!(URL_SAFE_NO_PAD.encode(thumbprint)));
        }
        for (name, value) in &self.header_edits {
            match value {
                Some(value) => header.insert(name.clone(), value.clone()),
                None => header.remove(name),
            };
        }

        let mut plan = Plan::new(forger, entropy, self.profile.provider());
        for defect in &self.defects {
            plan.apply(defect, &mut claims, &mut header, now)?;
        }
        if plan.oversized {
            // base64url grows text by 4/3, so this many bytes of padding clear the limit.
            let padding = OVERSIZED_TOKEN_BYTES * 3 / 4 + 1;
            claims.insert("mintcheck_padding".into(), json!("A".repeat(padding)));
        }
        let mut payload = serde_json::to_string(&claims).expect("claims serialize");
        if let Some((name, decoy)) = &plan.duplicate {
            let member = format!("{}:{},", json!(name), decoy);
            payload.insert_str(1, &member);
        }
        let header_text = serde_json::to_string(&header).expect("header serializes");
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&header_text),
            URL_SAFE_NO_PAD.encode(&payload)
        );
        let signature = plan.signer.sign(signing_input.as_bytes())?;
        let compact = match plan.envelope {
            None => format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&signature)),
            Some(defect) => break_envelope(&defect, &signing_input, signature),
        };
        Ok(ForgedToken {
            compact,
            header: Value::Object(header),
            claims: Value::Object(claims),
        })
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

enum Signer {
    Rsa(SigningKey, RsaAlgorithm),
    Hmac(Vec<u8>),
    /// These bytes, whatever the message.
    Fixed(Vec<u8>),
    Unsigned,
}

impl Signer {
    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            Signer::Rsa(key, algorithm) => key.sign(*algorithm, input),
            Signer::Hmac(secret) => {
                let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
                Ok(hmac::sign(&key, input).as_ref().to_vec())
            }
            Signer::Fixed(bytes) => Ok(bytes.clone()),
            Signer::Unsigned => Ok(Vec::new()),
        }
    }
}

/// What the defects decided beyond the claims and header themselves.
struct Plan<'a> {
    forger: &'a Forger,
    signer: Signer,
    signer_chosen_by: Option<Defect>,
    envelope: Option<Defect>,
    duplicate: Option<(String, Value)>,
    oversized: bool,
    entropy: Entropy,
    /// The provider of the token's profile.
    provider: Provider,
}

impl<'a> Plan<'a> {
    fn new(forger: &'a Forger, entropy: Entropy, provider: Provider) -> Self {
        Plan {
            forger,
            signer: Signer::Rsa(forger.signing.clone(), RsaAlgorithm::Rs256),
            signer_chosen_by: None,
            envelope: None,
            duplicate: None,
            oversized: false,
            entropy,
            provider,
        }
    }

    fn choose_signer(&mut self, defect: &Defect, signer: Signer) -> Result<(), ForgeError> {
        if let Some(first) = self.signer_chosen_by.replace(defect.clone()) {
            return Err(ForgeError::Conflict {
                first,
                second: defect.clone(),
                what: "how the token is signed",
            });
        }
        self.signer = signer;
        Ok(())
    }

    fn apply(
        &mut self,
        defect: &Defect,
        claims: &mut Map<String, Value>,
        header: &mut Map<String, Value>,
        now: f64,
    ) -> Result<(), ForgeError> {
        let at = |offset: f64| RelativeTime::FromNow(offset).to_claim(now);
        let absent = |claim: &str| ForgeError::ClaimAbsent {
            defect: defect.clone(),
            claim: claim.to_owned(),
        };
        let rogue = Signer::Rsa(self.forger.rogue.clone(), RsaAlgorithm::Rs256);
        match defect {
            Defect::Expired => {
                claims.insert("exp".into(), at(-3600.0));
                claims.insert("iat".into(), at(-7200.0));
                if claims.contains_key("nbf") {
                    claims.insert("nbf".into(), at(-7200.0));
                }
            }
            Defect::NotYetValid => {
                claims.insert("nbf".into(), at(3600.0));
            }
            Defect::IssuedInFuture => {
                claims.insert("iat".into(), at(3600.0));
                claims.insert("exp".into(), at(7200.0));
            }
            Defect::WrongIssuer => {
                claims.insert("iss".into(), json!(WRONG_ISSUER));
            }
            Defect::WrongAudience => {
                let other = match claims.get("aud").and_then(Value::as_str) {
                    Some("pypi") => "testpypi",
                    _ => "pypi",
                };
                claims.insert("aud".into(), json!(other));
            }
            Defect::AudienceArray => {
                let audience = claims.remove("aud").ok_or_else(|| absent("aud"))?;
                claims.insert("aud".into(), json!([audience]));
            }
            Defect::MissingClaim(name) => {
                claims.remove(name).ok_or_else(|| absent(name))?;
            }
            Defect::NullClaim(name) => {
                claims.insert(name.clone(), Value::Null);
            }
            Defect::WrongTypeClaim(name) => {
                let value = claims.get_mut(name).ok_or_else(|| absent(name))?;
                *value = retyped(value);
            }
            Defect::RenamedRepository => {
                rename_repository(claims).ok_or(ForgeError::NotApplicable {
                    defect: defect.clone(),
                    reason: "the token names no repository or project (Google tokens have none)",
                })?
            }
            Defect::OwnerIdDrift => {
                let drifted = claims
                    .get("repository_owner_id")
                    .and_then(Value::as_str)
                    .map(|id| {
                        id.parse::<u64>()
                            .map_or_else(|_| "1".to_owned(), |n| (n + 1).to_string())
                    })
                    .ok_or(ForgeError::NotApplicable {
                        defect: defect.clone(),
                        reason: "only GitHub tokens carry a string repository_owner_id",
                    })?;
                claims.insert("repository_owner_id".into(), json!(drifted));
            }
            Defect::BadSignature => self.choose_signer(defect, rogue)?,
            Defect::OtherIssuerKey(provider) => {
                let provider = provider.unwrap_or(match self.provider {
                    Provider::Gitlab => Provider::Github,
                    _ => Provider::Gitlab,
                });
                let foreign = KeySet::embedded_for(provider).primary;
                self.choose_signer(defect, Signer::Rsa(foreign, RsaAlgorithm::Rs256))?;
            }
            Defect::OtherRsaAlg(algorithm) => {
                header.insert("alg".into(), json!(algorithm.name()));
                let key = self.forger.signing.clone();
                self.choose_signer(defect, Signer::Rsa(key, *algorithm))?;
            }
            Defect::UnknownKid => {
                let suffix = &self.entropy.uuid().simple().to_string()[..8];
                header.insert("kid".into(), json!(format!("mintcheck-unknown-{suffix}")));
                self.choose_signer(defect, rogue)?;
            }
            Defect::NoKid => {
                header.remove("kid");
            }
            Defect::AlgNone(spelling) => {
                header.insert("alg".into(), json!(spelling));
                self.choose_signer(defect, Signer::Unsigned)?;
            }
            Defect::Hs256PublicKey(form) => {
                let key = &self.forger.signing;
                let secret = match form {
                    PublicKeyForm::Pem => key.public_pem().into_bytes(),
                    PublicKeyForm::PemNoNewline => key.public_pem().trim_end().as_bytes().to_vec(),
                    PublicKeyForm::PemCrlf => key.public_pem().replace('\n', "\r\n").into_bytes(),
                    PublicKeyForm::Pkcs1Pem => key.public_pkcs1_pem().into_bytes(),
                    PublicKeyForm::Der => key.public_der().to_vec(),
                    PublicKeyForm::Pkcs1Der => key.public_pkcs1_der(),
                    PublicKeyForm::Jwk => key.jwk().to_string().into_bytes(),
                    PublicKeyForm::JwkSpaced => python_dumps(key.jwk()).into_bytes(),
                    PublicKeyForm::Modulus => key.modulus(),
                };
                header.insert("alg".into(), json!("HS256"));
                self.choose_signer(defect, Signer::Hmac(secret))?;
            }
            Defect::Hs256EmptyKey => {
                header.insert("alg".into(), json!("HS256"));
                self.choose_signer(defect, Signer::Hmac(Vec::new()))?;
            }
            Defect::JkuInjection => {
                let url = format!("{}/attacker/jwks.json", self.forger.attacker_base);
                header.insert("jku".into(), json!(url));
                self.choose_signer(defect, rogue)?;
            }
            Defect::JwkInjection => {
                header.insert("jwk".into(), self.forger.rogue.jwk().clone());
                self.choose_signer(defect, rogue)?;
            }
            Defect::X5uInjection => {
                let url = format!("{}/attacker/cert.pem", self.forger.attacker_base);
                header.insert("x5u".into(), json!(url));
                self.choose_signer(defect, rogue)?;
            }
            Defect::X5cInjection => {
                // x5c holds standard (not URL-safe) base64 of each certificate's DER.
                let certificate = self_signed_der(&self.forger.rogue)?;
                header.insert("x5c".into(), json!([STANDARD.encode(certificate)]));
                self.choose_signer(defect, rogue)?;
            }
            Defect::PsychicSignature => {
                header.insert("alg".into(), json!("ES256"));
                header.insert("kid".into(), json!(crate::keys::EC_KID));
                // ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4).
                self.choose_signer(defect, Signer::Fixed(vec![0; 64]))?;
            }
            Defect::CritHeader => {
                header.insert("crit".into(), json!(["mintcheck-critical"]));
                header.insert("mintcheck-critical".into(), json!(true));
            }
            Defect::CorruptedSignature
            | Defect::StrippedSignature
            | Defect::TruncatedSignature
            | Defect::Malformed(_) => {
                if let Some(first) = self.envelope.replace(defect.clone()) {
                    return Err(ForgeError::Conflict {
                        first,
                        second: defect.clone(),
                        what: "the token's envelope",
                    });
                }
            }
            Defect::Oversized => self.oversized = true,
            Defect::DuplicateClaim(name) => {
                let real = claims.get(name).ok_or_else(|| absent(name))?;
                let decoy = match real {
                    Value::String(_) => json!("mintcheck-decoy"),
                    _ => Value::Null,
                };
                self.duplicate = Some((name.clone(), decoy));
            }
        }
        Ok(())
    }
}

/// A flat JSON object of strings as Python's `json.dumps` writes it by default: `", "`
/// between members, `": "` after names.
fn python_dumps(object: &Value) -> String {
    let members: Vec<String> = object
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, value)| format!("{}: {value}", Value::from(name.as_str())))
        .collect();
    format!("{{{}}}", members.join(", "))
}

/// A self-signed certificate (DER) for `key`, named after its `kid`.
fn self_signed_der(key: &SigningKey) -> Result<Vec<u8>, rcgen::Error> {
    let pair = rcgen::KeyPair::from_pem(key.private_pem())?;
    let mut params = rcgen::CertificateParams::new(vec![format!("{}.example.invalid", key.kid())])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, key.kid());
    Ok(params.self_signed(&pair)?.der().to_vec())
}

/// A value of another JSON type that no lax parser would coerce back.
fn retyped(value: &Value) -> Value {
    match value {
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse::<u64>().map_or(json!(true), |n| json!(n))
        }
        Value::String(_) => json!(true),
        Value::Number(n) => json!([n]),
        Value::Bool(b) => json!(b.to_string()),
        Value::Array(_) => json!({}),
        Value::Object(_) => json!([]),
        Value::Null => json!(0),
    }
}

/// Renames the repository (GitHub), project path (GitLab) or project (ActiveState) and
/// rewrites the claims derived from it, as a real token from the renamed project would be.
fn rename_repository(claims: &mut Map<String, Value>) -> Option<()> {
    let text =
        |claims: &Map<String, Value>, name: &str| claims.get(name)?.as_str().map(str::to_owned);
    let replace_in = |claims: &mut Map<String, Value>, name: &str, from: &str, to: &str| {
        if let Some(old) = text(claims, name) {
            claims.insert(name.to_owned(), json!(old.replacen(from, to, 1)));
        }
    };
    if let Some(repository) = text(claims, "repository") {
        let renamed = format!("{repository}-renamed");
        claims.insert("repository".into(), json!(renamed));
        for name in ["sub", "workflow_ref", "job_workflow_ref"] {
            replace_in(
                claims,
                name,
                &format!("{repository}/"),
                &format!("{renamed}/"),
            );
        }
        replace_in(
            claims,
            "sub",
            &format!("repo:{repository}:"),
            &format!("repo:{renamed}:"),
        );
    } else if let Some(path) = text(claims, "ci_config_ref_uri").and(text(claims, "project_path")) {
        let renamed = format!("{path}-renamed");
        claims.insert("project_path".into(), json!(renamed));
        replace_in(claims, "sub", &format!(":{path}:"), &format!(":{renamed}:"));
        replace_in(
            claims,
            "ci_config_ref_uri",
            &format!("/{path}//"),
            &format!("/{renamed}//"),
        );
    } else {
        let project = text(claims, "project")?;
        let organization = text(claims, "organization")?;
        let renamed = format!("{project}-renamed");
        claims.insert("project".into(), json!(renamed));
        replace_in(
            claims,
            "sub",
            &format!(":project:{project}"),
            &format!(":project:{renamed}"),
        );
        replace_in(
            claims,
            "project_path",
            &format!("{organization}/{project}"),
            &format!("{organization}/{renamed}"),
        );
    }
    Some(())
}

fn break_envelope(defect: &Defect, signing_input: &str, mut signature: Vec<u8>) -> String {
    let (header, payload) = signing_input.split_once('.').expect("two segments");
    match defect {
        Defect::CorruptedSignature => {
            let middle = signature.len() / 2;
            if let Some(byte) = signature.get_mut(middle) {
                *byte ^= 0x01;
            }
            format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
        }
        Defect::StrippedSignature => format!("{signing_input}."),
        Defect::TruncatedSignature => {
            signature.truncate(signature.len() / 2);
            format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
        }
        Defect::Malformed(Malformation::TwoSegments) => signing_input.to_owned(),
        Defect::Malformed(Malformation::BadBase64) => {
            // A base64 text of length 4k+1 cannot be decoded by any decoder, lenient or not.
            let mut payload = payload.to_owned();
            while payload.len() % 4 != 1 {
                payload.push('A');
            }
            format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(signature))
        }
        Defect::Malformed(Malformation::HeaderNotJson) => format!(
            "{}.{payload}.{}",
            URL_SAFE_NO_PAD.encode("not json"),
            URL_SAFE_NO_PAD.encode(signature)
        ),
        Defect::Malformed(Malformation::PayloadNotObject) => format!(
            "{header}.{}.{}",
            URL_SAFE_NO_PAD.encode(r#"["not","an","object"]"#),
            URL_SAFE_NO_PAD.encode(signature)
        ),
        Defect::Malformed(Malformation::WhitespaceAround) => {
            format!(" {signing_input}.{}\n", URL_SAFE_NO_PAD.encode(signature))
        }
        other => unreachable!("{other} does not break the envelope"),
    }
}
