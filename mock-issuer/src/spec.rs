//! A token described as data (JSON or TOML), so scenario files, the HTTP `POST /token` API
//! and other languages' runners can ask for the same token.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::defect::Defect;
use crate::forge::TokenBuilder;
use crate::profile::Profile;
use crate::time::RelativeTime;

/// Edits are applied in this order: `claims`, `times`, `remove`, `header`,
/// `remove_header`, then `defects`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// Profile name (`github`, `gitlab`, ...); default `github`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "profile_name"
    )]
    pub profile: Option<Profile>,
    /// Claims set verbatim (any JSON value).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub claims: Map<String, Value>,
    /// Time claims relative to signing: `"now-1h"`, or Unix seconds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub times: BTreeMap<String, RelativeTime>,
    /// Claims removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Header parameters set verbatim.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub header: Map<String, Value>,
    /// Header parameters removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_header: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defects: Vec<Defect>,
}

impl TokenSpec {
    pub fn profile(&self) -> Profile {
        self.profile.unwrap_or(Profile::Github)
    }

    /// Applies every edit of this spec to a builder for [`Self::profile`].
    pub fn apply(&self, mut builder: TokenBuilder) -> TokenBuilder {
        for (name, value) in &self.claims {
            builder = builder.claim(name.clone(), value.clone());
        }
        for (name, at) in &self.times {
            builder = builder.time(name.clone(), *at);
        }
        for name in &self.remove {
            builder = builder.remove(name.clone());
        }
        for (name, value) in &self.header {
            builder = builder.header(name.clone(), value.clone());
        }
        for name in &self.remove_header {
            builder = builder.remove_header(name.clone());
        }
        builder.defects(self.defects.iter().cloned())
    }
}

mod profile_name {
    use super::Profile;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(profile: &Option<Profile>, s: S) -> Result<S::Ok, S::Error> {
        match profile {
            Some(profile) => s.serialize_str(profile.name()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Profile>, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map(Some).map_err(serde::de::Error::custom)
    }
}

impl Serialize for RelativeTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RelativeTime::Unix(at) => serializer.serialize_f64(*at),
            RelativeTime::FromNow(_) => serializer.collect_str(self),
        }
    }
}

impl<'de> Deserialize<'de> for RelativeTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(f64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Seconds(at) => Ok(RelativeTime::Unix(at)),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Forger, KeySet};

    #[test]
    fn a_spec_from_json_drives_the_builder() {
        let spec: TokenSpec = serde_json::from_value(serde_json::json!({
            "profile": "gitlab",
            "claims": {"environment": "staging"},
            "times": {"exp": "now+1m"},
            "remove": ["jti"],
            "defects": ["no-kid"],
        }))
        .unwrap();
        let forger = Forger::new(&KeySet::embedded());
        let token = spec
            .apply(forger.token(spec.profile()).at(1000.0))
            .sign()
            .unwrap();
        assert_eq!(token.claims["environment"], "staging");
        assert_eq!(token.claims["exp"], 1060);
        assert_eq!(token.claims["iss"], "https://gitlab.com");
        assert!(token.claims.get("jti").is_none());
        assert!(token.header.get("kid").is_none());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named() {
        let err = serde_json::from_str::<TokenSpec>(r#"{"claim": {}}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `claim`"), "{err}");
        let err = serde_json::from_str::<TokenSpec>(r#"{"defects": ["expird"]}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown defect \"expird\""),
            "{err}"
        );
        let err = serde_json::from_str::<TokenSpec>(r#"{"times": {"exp": "soon"}}"#).unwrap_err();
        assert!(err.to_string().contains("invalid time \"soon\""), "{err}");
    }
}
