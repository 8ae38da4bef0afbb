//! What a step expects of its answer, as written and as judged: the status, the error
//! code(s), text and JSON matchers, each optionally graded by the rule demanding it.
//! [`ExpectOf`] holds error codes as written (strings) in a file and as checked
//! ([`ErrorCode`]) in a loaded scenario.

use std::collections::BTreeMap;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::spec::grading::{Level, Strength};
use crate::spec::rules::ErrorCode;

/// A legitimate divergence (spec §2, §17): what a run at a level accepts instead of the
/// step's `expect`. `core` applies to core runs; `pypi-exact`, if given, to pypi-exact runs
/// (otherwise those judge `expect` exactly).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    pub core: Answer,
    #[serde(
        default,
        rename = "pypi-exact",
        skip_serializing_if = "Option::is_none"
    )]
    pub pypi_exact: Option<Answer>,
    /// Why more than one answer is right.
    pub reason: String,
}

/// The answers a graded step may get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    /// Minted: 200 with a non-empty string `token` (and what a success answer carries).
    Accept,
    /// Refused: 422 with the error envelope and any code of the spec.
    Reject,
    /// Refused by a body-size limit (§17 item 5): 413, or `reject`.
    TooLarge,
    /// Either `accept` or `reject`, each judged as such.
    Either,
}

impl Answer {
    pub fn name(self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Reject => "reject",
            Answer::TooLarge => "too-large",
            Answer::Either => "either",
        }
    }
}

/// A step's expectations, with error codes of type `C`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    deny_unknown_fields,
    bound(deserialize = "Codes<C>: DeserializeOwned", serialize = "C: Serialize")
)]
pub struct ExpectOf<C> {
    /// The HTTP status; also decides the expected decision (2xx: minted, uploaded,
    /// answered; anything else: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Checked<u16>>,
    /// `errors[0].code` of the 422 envelope, or one of several; also requires the
    /// envelope's shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Checked<Codes<C>>>,
    /// `errors[0].description`.
    #[serde(default, skip_serializing_if = "TextMatches::is_empty")]
    pub description: TextMatches,
    /// The body as JSON: values compared exactly, except strings `$type:T` (T = string,
    /// integer, number, boolean, array, object, null) and `$matches:REGEX`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<JsonMatch>,
    /// The body as text.
    #[serde(default, skip_serializing_if = "TextMatches::is_empty")]
    pub body: TextMatches,
    /// The HTTP/1.1 reason phrase of the status line (where the legacy upload puts its message).
    #[serde(default, skip_serializing_if = "TextMatches::is_empty")]
    pub reason: TextMatches,
    /// For `mint-concurrent`: how many requests must succeed (200). The others are checked
    /// against `status`, `code` and `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successes: Option<usize>,
    /// What the target asked the mock issuers since the scenario began, by endpoint
    /// (`discovery`, `jwks`, `attacker-jku`, `attacker-x5u`), e.g. `{ jwks = { max = 1 } }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub issuer_requests: BTreeMap<String, CountRange>,
    /// Response headers (names case-insensitive).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, TextMatch>,
}

/// Expectations as written.
pub type ExpectTable = ExpectOf<String>;
/// Expectations as checked.
pub type Expect = ExpectOf<ErrorCode>;

impl<C> Default for ExpectOf<C> {
    fn default() -> Self {
        ExpectOf {
            status: None,
            code: None,
            description: TextMatches::default(),
            json: None,
            body: TextMatches::default(),
            reason: TextMatches::default(),
            successes: None,
            issuer_requests: BTreeMap::new(),
            headers: BTreeMap::new(),
        }
    }
}

impl<C> ExpectOf<C> {
    /// The expected status, if one is given.
    pub fn status_value(&self) -> Option<u16> {
        self.status.as_ref().map(|s| s.value)
    }

    /// The expected codes above core, if any are given.
    pub fn codes(&self) -> Option<&[C]> {
        self.code.as_ref().map(|c| c.value.0.as_slice())
    }

    /// Whether nothing at all is expected.
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.code.is_none()
            && self.description.is_empty()
            && self.json.is_none()
            && self.body.is_empty()
            && self.reason.is_empty()
            && self.successes.is_none()
            && self.issuer_requests.is_empty()
            && self.headers.is_empty()
    }

    /// The same expectations with each error code converted by `convert`, or its error.
    pub fn try_map_codes<D, E>(
        self,
        mut convert: impl FnMut(C) -> Result<D, E>,
    ) -> Result<ExpectOf<D>, E> {
        let code = match self.code {
            Some(checked) => {
                let mut codes = |codes: Codes<C>| -> Result<Codes<D>, E> {
                    codes
                        .0
                        .into_iter()
                        .map(&mut convert)
                        .collect::<Result<_, _>>()
                        .map(Codes)
                };
                let value = codes(checked.value)?;
                let core = checked.core.map(&mut codes).transpose()?;
                Some(Checked {
                    value,
                    core,
                    grading: checked.grading,
                })
            }
            None => None,
        };
        Ok(ExpectOf {
            status: self.status,
            code,
            description: self.description,
            json: self.json,
            body: self.body,
            reason: self.reason,
            successes: self.successes,
            issuer_requests: self.issuer_requests,
            headers: self.headers,
        })
    }
}

/// Why a check is made, where the default (the scenario's level and rules, a MUST) is not
/// right: the level at which it is judged, the rule demanding it and how strongly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grading {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<Strength>,
}

impl Grading {
    pub fn is_default(&self) -> bool {
        self == &Grading::default()
    }
}

/// An expected value, written plainly (`status = 422`) or as a table that grades it
/// (`status = { value = 405, level = "pypi-exact", rule = "R-EP-5" }`), or says what core
/// accepts instead (`code = { value = "invalid-publisher", core = ["invalid-publisher",
/// "invalid-token"] }`: the exact value above core).
#[derive(Clone, Debug, PartialEq)]
pub struct Checked<T> {
    pub value: T,
    /// What a core run judges instead of `value`.
    pub core: Option<T>,
    pub grading: Grading,
}

impl<T> From<T> for Checked<T> {
    fn from(value: T) -> Self {
        Checked {
            value,
            core: None,
            grading: Grading::default(),
        }
    }
}

impl<T> Checked<T> {
    /// The value a run at `level` judges.
    pub fn at(&self, level: Level) -> &T {
        match (&self.core, level) {
            (Some(core), Level::Core | Level::Pep807) => core,
            _ => &self.value,
        }
    }
}

impl<T: Serialize> Serialize for Checked<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.grading.is_default() && self.core.is_none() {
            return self.value.serialize(serializer);
        }
        #[derive(Serialize)]
        struct Table<'a, T> {
            value: &'a T,
            #[serde(skip_serializing_if = "Option::is_none")]
            core: Option<&'a T>,
            #[serde(flatten)]
            grading: &'a Grading,
        }
        Table {
            value: &self.value,
            core: self.core.as_ref(),
            grading: &self.grading,
        }
        .serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const KEYS: &str = "`value`, `core`, `level`, `rule`, `strength`";
        let raw = Value::deserialize(deserializer)?;
        let Value::Object(mut table) = raw else {
            return T::deserialize(raw)
                .map(Checked::from)
                .map_err(D::Error::custom);
        };
        if let Some(key) = table.keys().find(|k| !KEYS.contains(&format!("`{k}`"))) {
            return Err(D::Error::custom(format!(
                "unknown field `{key}`, expected one of {KEYS}"
            )));
        }
        let value = table.remove("value").ok_or_else(|| {
            D::Error::custom(format!("missing field `value` (the table's keys: {KEYS})"))
        })?;
        let core = table
            .remove("core")
            .map(|core| T::deserialize(core).map_err(D::Error::custom))
            .transpose()?;
        Ok(Checked {
            value: T::deserialize(value).map_err(D::Error::custom)?,
            core,
            grading: Grading::deserialize(Value::Object(table)).map_err(D::Error::custom)?,
        })
    }
}

/// One error code, or several of which the answer may give any (`["invalid-payload",
/// "invalid-token"]` where §17 leaves the choice open).
#[derive(Clone, Debug, PartialEq)]
pub struct Codes<C>(pub Vec<C>);

impl<C: Serialize> Serialize for Codes<C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Codes<String> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        match Raw::deserialize(deserializer) {
            Ok(Raw::One(code)) => Ok(Codes(vec![code])),
            Ok(Raw::Many(codes)) if !codes.is_empty() => Ok(Codes(codes)),
            _ => Err(D::Error::custom(
                "an error code, or a non-empty array of error codes",
            )),
        }
    }
}

/// One text matcher, or several (an array of tables), each judged on its own: a SHOULD at
/// core beside the exact text at pypi-exact, say.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextMatches(pub Vec<TextMatch>);

impl TextMatches {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, TextMatch> {
        self.0.iter()
    }
}

impl Serialize for TextMatches {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for TextMatches {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Array(items) => items
                .into_iter()
                .map(|item| TextMatch::deserialize(item).map_err(D::Error::custom))
                .collect::<Result<_, _>>()
                .map(TextMatches),
            one => TextMatch::deserialize(one)
                .map(|m| TextMatches(vec![m]))
                .map_err(D::Error::custom),
        }
    }
}

/// A text expectation: exactly one of `exact`, `prefix`, `contains`, `regex`, and how it
/// is graded (default: the scenario's level and rules, a MUST).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<Strength>,
}

impl TextMatch {
    pub fn grading(&self) -> Grading {
        Grading {
            level: self.level,
            rule: self.rule.clone(),
            strength: self.strength,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
}

/// The mock-issuer endpoints an `issuer_requests` expectation may count.
pub const ISSUER_ENDPOINTS: [&str; 4] = ["discovery", "jwks", "attacker-jku", "attacker-x5u"];

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonMatch {
    pub value: Value,
    /// Members the expected objects do not name are allowed (at core, a body may carry
    /// more than the spec names).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<Strength>,
}

impl JsonMatch {
    pub fn grading(&self) -> Grading {
        Grading {
            level: self.level,
            rule: self.rule.clone(),
            strength: self.strength,
        }
    }
}
