//! The JSON Schema of scenario files against the serde types: the same keys, the same
//! values, the same defect names and times.

use std::collections::BTreeSet;

use mintcheck::scenario::expect::{
    Answer, CountRange, ExpectTable, Grade, ISSUER_ENDPOINTS, JsonMatch, TextMatch,
};
use mintcheck::scenario::file::{Action, IssuerTable, JwkChange, StepTable, UploadSpec};
use mintcheck::scenario::fixture::{FixtureTable, Flag};
use mintcheck::scenario::{Level, ScenarioFile};
use mintcheck::spec::grading::Strength;
use mock_issuer::{Defect, Profile, RelativeTime, TokenSpec};
use reference_registry::fixture::{
    ActiveStateIdentity, GithubIdentity, GitlabIdentity, GoogleIdentity, PendingPublisher,
    Provider, Publisher, UsedJti,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

mod common;

use common::files::*;

/// Field names a serde type accepts, from its `deny_unknown_fields` error message.
fn serde_fields<T: DeserializeOwned>() -> BTreeSet<String> {
    let err = serde_json::from_str::<T>(r#"{"\u0001": 0}"#)
        .err()
        .expect("unknown field refused");
    names_after_expected(&err.to_string())
}

/// Variant names a serde enum accepts, from its unknown-variant error message.
fn serde_variants<T: DeserializeOwned>() -> BTreeSet<String> {
    let err = serde_json::from_str::<T>(r#""\u0001""#)
        .err()
        .expect("unknown variant refused");
    names_after_expected(&err.to_string())
}

fn names_after_expected(message: &str) -> BTreeSet<String> {
    let (_, expected) = message
        .split_once("expected")
        .unwrap_or_else(|| panic!("{message}"));
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn schema_keys(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(&format!("{pointer}/properties"))
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no properties at {pointer}"))
        .keys()
        // An identity's `provider` is serde's enum tag, not a field of the variant's struct.
        .filter(|key| !(pointer.starts_with("/$defs/identity/") && *key == "provider"))
        .cloned()
        .collect()
}

fn schema_enum(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no enum at {pointer}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn strings<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names.into_iter().map(str::to_owned).collect()
}

#[test]
fn the_schema_names_the_same_keys_and_values_as_the_serde_types() {
    let schema = schema();
    let structs: [(&str, BTreeSet<String>); 19] = [
        ("", serde_fields::<ScenarioFile>()),
        ("/$defs/fixture", serde_fields::<FixtureTable>()),
        ("/$defs/publisher", serde_fields::<Publisher>()),
        (
            "/$defs/pending_publisher",
            serde_fields::<PendingPublisher>(),
        ),
        ("/$defs/used_jti", serde_fields::<UsedJti>()),
        ("/$defs/identity/oneOf/0", serde_fields::<GithubIdentity>()),
        ("/$defs/identity/oneOf/1", serde_fields::<GitlabIdentity>()),
        ("/$defs/identity/oneOf/2", serde_fields::<GoogleIdentity>()),
        (
            "/$defs/identity/oneOf/3",
            serde_fields::<ActiveStateIdentity>(),
        ),
        ("/$defs/step", serde_fields::<StepTable>()),
        ("/$defs/token", serde_fields::<TokenSpec>()),
        ("/$defs/upload", serde_fields::<UploadSpec>()),
        ("/$defs/expect", serde_fields::<ExpectTable>()),
        ("/$defs/count_range", serde_fields::<CountRange>()),
        ("/$defs/text_match", serde_fields::<TextMatch>()),
        ("/$defs/json_match", serde_fields::<JsonMatch>()),
        ("/$defs/grade", serde_fields::<Grade>()),
        ("/$defs/issuer_change", serde_fields::<IssuerTable>()),
        (
            "/$defs/issuer_change/properties/jwk",
            serde_fields::<JwkChange>(),
        ),
    ];
    for (pointer, fields) in structs {
        assert_eq!(schema_keys(&schema, pointer), fields, "keys of {pointer:?}");
    }
    let providers = strings(Provider::ALL.map(Provider::name));
    let identity_providers: BTreeSet<String> = (0..4)
        .map(|i| {
            schema["$defs"]["identity"]["oneOf"][i]["properties"]["provider"]["const"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let enums = [
        (
            "/$defs/step/properties/action/enum",
            serde_variants::<Action>(),
        ),
        ("/$defs/level/enum", serde_variants::<Level>()),
        ("/$defs/answer/enum", serde_variants::<Answer>()),
        ("/$defs/provider/enum", providers.clone()),
        (
            "/$defs/fixture/properties/flags/items/enum",
            strings(Flag::ALL.map(Flag::name)),
        ),
        (
            "/$defs/token/properties/profile/enum",
            strings(Profile::ALL.map(Profile::name)),
        ),
        (
            "/$defs/expect/properties/issuer_requests/propertyNames/enum",
            strings(ISSUER_ENDPOINTS),
        ),
        (
            "/$defs/code/enum",
            strings(mintcheck::spec::rules::ErrorCode::known().map(|c| c.as_str())),
        ),
        ("/$defs/strength/enum", serde_variants::<Strength>()),
    ];
    for (pointer, values) in enums {
        assert_eq!(
            schema_enum(&schema, pointer),
            values,
            "values at {pointer:?}"
        );
    }
    assert_eq!(identity_providers, providers);
}

/// A validator for one `$defs` entry of the scenario schema.
fn definition(name: &str) -> jsonschema::Validator {
    let schema = schema();
    jsonschema::draft202012::new(
        &json!({"$defs": schema["$defs"], "$ref": format!("#/$defs/{name}")}),
    )
    .unwrap()
}

#[test]
fn the_schema_accepts_exactly_the_defect_names_the_mock_issuer_parses() {
    let mut candidates: Vec<String> = mock_issuer::defect::every_defect()
        .iter()
        .map(ToString::to_string)
        .collect();
    candidates.extend(
        mock_issuer::defect::catalogue()
            .iter()
            .map(|(syntax, _)| syntax.to_string()),
    );
    candidates.extend(
        [
            "alg-none:NoNe",
            "alg-none:",
            "duplicate-claim:repository",
            "missing-claim:sub",
            "missing-claim:a:b",
            "wrong-type-claim:exp",
            "hs256-public-key:der",
            "malformed:bad-base64",
            "expird",
            "Expired",
            "expired:1",
            "no-kid:",
            "missing-claim",
            "missing-claim:",
            "malformed",
            "malformed:",
            "malformed:three-segments",
            "hs256-public-key:",
            "hs256-public-key:pkcs1",
            "oversized:2",
            " expired",
            "other-issuer-key:gitlab",
            "other-issuer-key:bitbucket",
            "other-rsa-alg:RS512",
            "other-rsa-alg:RS256",
            "other-rsa-alg:ps256",
            "malformed:whitespace-around",
        ]
        .map(str::to_owned),
    );
    let validator = definition("defect");
    for candidate in candidates {
        let parses = candidate.parse::<Defect>().is_ok();
        assert_eq!(
            validator.is_valid(&json!(candidate)),
            parses,
            "{candidate:?} parses: {parses}"
        );
    }
}

#[test]
fn the_schema_accepts_exactly_the_times_the_mock_issuer_parses() {
    let candidates = [
        json!("now"),
        json!("now-1h"),
        json!("now+30s"),
        json!("now-29.5s"),
        json!(" now-1d "),
        json!("now+.5m"),
        json!("now+5.s"),
        json!("1767225000"),
        json!("-5"),
        json!("1e9"),
        json!(".5"),
        json!(1767225000),
        json!(1.5),
        json!("soon"),
        json!("now-1"),
        json!("now+-1s"),
        json!("now++1s"),
        json!("now+1x"),
        json!("now 1s"),
        json!("now+s"),
        json!("inf"),
        json!("NaN"),
        json!("1767225000s"),
        json!(true),
        json!(""),
    ];
    let validator = definition("time");
    for candidate in candidates {
        let parses = serde_json::from_value::<RelativeTime>(candidate.clone()).is_ok();
        assert_eq!(
            validator.is_valid(&candidate),
            parses,
            "{candidate} parses: {parses}"
        );
    }
}
