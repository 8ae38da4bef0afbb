//! The proptest strategies behind `mintcheck fuzz`: claim sets around each provider's
//! profile, token envelopes, request bodies, fixtures and uploads.
//!
//! Everything generated is something the spec decides. What §17 tells harnesses never to
//! judge is left out: numeric-string times, `email_verified` as `1`, non-string `ref` / `sha`
//! / `ref_path`, an empty `jti`, line terminators in claims, non-ASCII case folding,
//! duplicate JSON members, body-size limits, padding and non-base64url characters, and
//! fixtures that break §1.3's key uniqueness. Times keep 2.5 s from every boundary, so the
//! moments between forging and checking cannot change an answer.
//!
//! Alternatives are listed simplest first: proptest shrinks towards the first.

use mock_issuer::defect::every_defect;
use mock_issuer::profile::identity as id;
use mock_issuer::{Defect, Profile, Provider, RelativeTime, RsaAlgorithm, TokenSpec};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::BoxedStrategy;
use serde_json::{Value, json};

mod fixture;
pub mod pep807;

use super::case::{Case, MintBody, MintRequest};
use fixture::{fixture, uploads};

/// Generated cases: mostly validly signed tokens with claim mutations (so the claim and
/// publisher checks are reached), then envelope mutations, then raw bodies.
pub fn case() -> BoxedStrategy<Case> {
    // One strategy per profile, built once: building them per case would cost more than
    // generating the case.
    prop_oneof![
        4 => for_profile(Profile::Github),
        3 => for_profile(Profile::Gitlab),
        2 => for_profile(Profile::Google),
        2 => for_profile(Profile::ActiveState),
        1 => for_profile(Profile::GithubReusable),
        1 => for_profile(Profile::GithubCustomSub),
    ]
    .boxed()
}

fn for_profile(profile: Profile) -> BoxedStrategy<Case> {
    (mint_request(profile), fixture(profile), uploads())
        .prop_map(|(mint, fixture, uploads)| Case {
            fixture,
            mint,
            uploads,
            discover: None,
        })
        .boxed()
}

fn mint_request(profile: Profile) -> impl Strategy<Value = MintRequest> {
    let body = prop_oneof![
        6 => claim_mutations(profile).prop_map(MintBody::Token),
        3 => envelope_mutation(profile).prop_map(MintBody::Token),
        1 => raw_body().prop_map(MintBody::Raw),
    ];
    let content_type = prop::option::weighted(
        0.15,
        select(vec![
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json; charset=utf-16",
            "multipart/form-data; boundary=x",
            "",
        ]),
    );
    (body, content_type).prop_map(|(body, content_type)| MintRequest {
        body,
        content_type: content_type.map(str::to_owned),
        features: None,
    })
}

/// One change to a token's claims.
#[derive(Clone, Debug)]
enum ClaimEdit {
    Set(&'static str, Value),
    Time(&'static str, f64),
    Remove(&'static str),
    Null(&'static str),
}

fn spec_with(profile: Profile, edits: Vec<ClaimEdit>) -> TokenSpec {
    let mut spec = TokenSpec {
        profile: (profile != Profile::Github).then_some(profile),
        ..TokenSpec::default()
    };
    for edit in edits {
        // One edit per claim: a later edit of the same claim replaces an earlier one.
        let name = match &edit {
            ClaimEdit::Set(name, _)
            | ClaimEdit::Time(name, _)
            | ClaimEdit::Remove(name)
            | ClaimEdit::Null(name) => *name,
        };
        spec.claims.remove(name);
        spec.times.remove(name);
        spec.remove.retain(|n| n != name);
        spec.defects
            .retain(|d| *d != Defect::NullClaim(name.to_owned()));
        match edit {
            ClaimEdit::Set(name, value) => {
                spec.claims.insert(name.to_owned(), value);
            }
            ClaimEdit::Time(name, offset) => {
                spec.times
                    .insert(name.to_owned(), RelativeTime::seconds_from_now(offset));
            }
            ClaimEdit::Remove(name) => spec.remove.push(name.to_owned()),
            // TOML has no null: a null claim is the `null-claim` defect.
            ClaimEdit::Null(name) => spec.defects.push(Defect::NullClaim(name.to_owned())),
        }
    }
    spec
}

/// A validly signed token of `profile` with up to two claim edits.
fn claim_mutations(profile: Profile) -> impl Strategy<Value = TokenSpec> {
    prop::collection::vec(claim_edit(profile), 0..=2)
        .prop_map(move |edits| spec_with(profile, edits))
}

/// The claims a provider's matching reads (spec §8–§11): the required ones (R-PUB-2), the
/// optional ones it compares, and ones it must ignore.
fn provider_claims(provider: Provider) -> Vec<&'static str> {
    let others: &[&'static str] = match provider {
        Provider::Github => &["environment", "sub", "workflow_ref", "actor_id"],
        Provider::Gitlab => &["environment", "namespace_id", "ref"],
        Provider::Google => &["sub", "azp"],
        Provider::ActiveState => &["actor", "jti"],
    };
    let required = provider.required_claims().iter();
    required.chain(others).copied().collect()
}

/// §17 item 7: these must not be judged with non-string values.
const STRING_ONLY: [&str; 3] = ["ref", "sha", "ref_path"];

fn claim_edit(profile: Profile) -> BoxedStrategy<ClaimEdit> {
    let defaults = profile.claims(0.0, &profile.default_issuer(), "pypi", "jti");
    let claims = provider_claims(profile.provider());
    let strings: Vec<(&'static str, String)> = claims
        .iter()
        .filter_map(|&name| Some((name, defaults.get(name)?.as_str()?.to_owned())))
        .collect();
    let near_miss = (select(strings), 0..NEAR_MISSES).prop_filter_map(
        "an empty jti is not judged (§17 item 8)",
        |((name, value), kind)| {
            let changed = near_miss(&value, kind);
            (!(name == "jti" && changed.is_empty())).then(|| ClaimEdit::Set(name, json!(changed)))
        },
    );
    let retypable: Vec<&'static str> = claims
        .iter()
        .copied()
        .filter(|name| !STRING_ONLY.contains(name))
        .collect();
    let retyped = (select(retypable), select(other_types())).prop_map(|(name, value)| {
        // `email_verified` is a boolean; §17 item 7 leaves `1` and `1.0` open.
        let value = match (name, value.is_number()) {
            ("email_verified", true) => json!("true"),
            _ => value,
        };
        ClaimEdit::Set(name, value)
    });
    let with_registered = |names: &[&'static str]| {
        let mut all: Vec<&'static str> = names.to_vec();
        all.extend(["iss", "aud", "exp", "iat"]);
        all
    };
    prop_oneof![
        3 => near_miss,
        2 => time_edit(),
        1 => audience_edit(),
        1 => issuer_edit(profile.provider()),
        1 => retyped,
        1 => select(with_registered(&claims)).prop_map(ClaimEdit::Remove),
        1 => select(with_registered(&claims)).prop_map(ClaimEdit::Null),
    ]
    .boxed()
}

const NEAR_MISSES: usize = 12;

/// A value a careless comparison might mistake for `value`.
fn near_miss(value: &str, kind: usize) -> String {
    let middle = value
        .char_indices()
        .nth(value.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    let insert = |what: &str| format!("{}{what}{}", &value[..middle], &value[middle..]);
    match kind {
        0 => value.to_ascii_uppercase(),
        1 => format!("{value} "),
        2 => format!(" {value}"),
        3 => format!("{value}/"),
        4 => confusable(value),
        5 => insert("\u{200b}"),
        6 => insert("@"),
        7 => insert("/"),
        8 => String::new(),
        9 => match (value.contains(".yml"), value.contains(".yaml")) {
            (true, _) => value.replacen(".yml", ".yaml", 1),
            (false, true) => value.replacen(".yaml", ".yml", 1),
            _ => format!("{value}.yml"),
        },
        10 => value.repeat(4096 / value.len().max(1) + 1),
        _ => {
            let mut chars = value.chars();
            match chars.next() {
                Some(first) => format!("{}{}", first.to_ascii_uppercase(), chars.as_str()),
                None => "x".to_owned(),
            }
        }
    }
}

/// `value` with its first Latin letter that has a Cyrillic twin replaced by the twin.
fn confusable(value: &str) -> String {
    const TWINS: [(char, char); 6] = [
        ('a', 'а'),
        ('e', 'е'),
        ('o', 'о'),
        ('p', 'р'),
        ('c', 'с'),
        ('x', 'х'),
    ];
    match value.char_indices().find_map(|(i, c)| {
        TWINS
            .iter()
            .find(|(latin, _)| *latin == c)
            .map(|(_, twin)| (i, c, *twin))
    }) {
        Some((i, latin, twin)) => {
            format!("{}{twin}{}", &value[..i], &value[i + latin.len_utf8()..])
        }
        None => format!("{value}а"),
    }
}

/// Values of another JSON type than a claim's own; JSON null is [`ClaimEdit::Null`].
fn other_types() -> Vec<Value> {
    vec![
        json!(true),
        json!(0),
        json!([]),
        json!({}),
        json!(1.5),
        json!(["x"]),
    ]
}

/// Times 2.5 s either side of the 30 s leeway (R-TIME-2) and the 60 s core bound (R-TIME-1),
/// fractions (truncated, R-TIME-2), and far past and future.
fn time_edit() -> impl Strategy<Value = ClaimEdit> {
    prop_oneof![
        select(vec![
            -3600.0,
            -62.5,
            -57.5,
            -32.5,
            -27.5,
            300.0,
            31_536_000.0
        ])
        .prop_map(|offset| ClaimEdit::Time("exp", offset)),
        select(vec![-31_536_000.0, -3600.0, 27.5, 32.5, 57.5, 62.5])
            .prop_map(|offset| ClaimEdit::Time("iat", offset)),
        select(vec![-5.0, 27.5, 32.5, 57.5, 62.5])
            .prop_map(|offset| ClaimEdit::Time("nbf", offset)),
    ]
}

fn audience_edit() -> impl Strategy<Value = ClaimEdit> {
    select(vec![
        json!("testpypi"),
        json!("PyPI"),
        json!("pypi "),
        json!(""),
        json!(["pypi"]),
        json!(["pypi", "other"]),
        json!(["other"]),
        json!(0),
    ])
    .prop_map(|aud| ClaimEdit::Set("aud", aud))
}

/// Other trusted issuers and near misses of the provider's own (R-ISS-2, R-ISS-3).
fn issuer_edit(provider: Provider) -> impl Strategy<Value = ClaimEdit> {
    let own = provider.canonical_issuer();
    let host_upper = own.replacen("https://", "", 1);
    let mut values: Vec<Value> = Provider::ALL
        .iter()
        .filter(|p| **p != provider)
        .map(|p| json!(p.canonical_issuer()))
        .collect();
    values.extend([
        json!(format!("{own}/")),
        json!(format!("https://{}", host_upper.to_ascii_uppercase())),
        json!(own.replacen("https://", "http://", 1)),
        json!(own.replacen(".com", ".com:443", 1)),
        json!(format!(
            "https://token.actions.githubusercontent.com/{}",
            id::GITHUB_ENTERPRISE_SLUG
        )),
        json!("https://issuer.example.invalid"),
        json!(0),
        json!([own]),
    ]);
    select(values).prop_map(|iss| ClaimEdit::Set("iss", iss))
}

/// A token whose envelope (header, signature, segments) is broken in one way, optionally
/// with one claim edit.
fn envelope_mutation(profile: Profile) -> impl Strategy<Value = TokenSpec> {
    let change = prop_oneof![
        3 => select(envelope_defects()).prop_map(|defect| (Some(defect), None)),
        2 => select(header_edits()).prop_map(|edit| (None, Some(edit))),
    ];
    (change, prop::option::weighted(0.3, claim_edit(profile))).prop_map(
        move |((defect, header), edit)| {
            let mut spec = spec_with(profile, edit.into_iter().collect());
            spec.defects.extend(defect);
            match header {
                Some((name, Some(value))) => {
                    spec.header.insert(name.to_owned(), value);
                }
                Some((name, None)) => spec.remove_header.push(name.to_owned()),
                None => {}
            }
            spec
        },
    )
}

/// Every defect of the mock issuer that breaks the envelope and leaves the claims alone,
/// with every `alg` variant. Duplicate members are left out (§17 item 4).
fn envelope_defects() -> Vec<Defect> {
    let mut defects: Vec<Defect> = every_defect()
        .into_iter()
        .filter(|d| d.touches().claims.is_empty() && !matches!(d, Defect::DuplicateClaim(_)))
        .collect();
    defects.extend(["None", "NONE", "nOnE"].map(|s| Defect::AlgNone(s.to_owned())));
    let others = RsaAlgorithm::ALL[1..]
        .iter()
        .filter(|a| **a != RsaAlgorithm::Ps256);
    defects.extend(others.map(|a| Defect::OtherRsaAlg(*a)));
    defects
}

/// Header parameters set (`Some`) or removed (`None`); the token stays signed with RS256.
fn header_edits() -> Vec<(&'static str, Option<Value>)> {
    vec![
        ("alg", None),
        ("alg", Some(json!("HS256"))),
        ("alg", Some(json!("RS384"))),
        ("alg", Some(json!("ES256"))),
        ("alg", Some(json!("rs256"))),
        ("alg", Some(json!(""))),
        ("alg", Some(json!(0))),
        ("kid", Some(json!("mintcheck-next"))),
        ("kid", Some(json!("../../../../../../dev/null"))),
        ("kid", Some(json!("' OR '1'='1"))),
        ("kid", Some(json!("$(touch /tmp/mintcheck-kid)"))),
        ("kid", Some(json!("k".repeat(10_000)))),
        ("kid", Some(json!(0))),
        ("kid", Some(json!(["mintcheck-primary"]))),
        ("typ", None),
        ("typ", Some(json!("at+jwt"))),
        ("crit", Some(json!(["exp"]))),
        ("crit", Some(json!([]))),
        ("b64", Some(json!(false))),
        ("jku", Some(json!("http://127.0.0.1:9/jwks.json"))),
        ("x5u", Some(json!("http://127.0.0.1:9/cert.pem"))),
        ("cty", Some(json!("JWT"))),
    ]
}

/// Bodies of every shape step 1 and 2 see (spec §3.2, §4.3, §5.1).
fn raw_body() -> impl Strategy<Value = String> {
    let fixed = select(vec![
        String::new(),
        "not json".to_owned(),
        "{}".to_owned(),
        "[]".to_owned(),
        "null".to_owned(),
        "\"s\"".to_owned(),
        "1".to_owned(),
        r#"{"token":null}"#.to_owned(),
        r#"{"token":0}"#.to_owned(),
        r#"{"token":3.14}"#.to_owned(),
        r#"{"token":true}"#.to_owned(),
        r#"{"token":[""]}"#.to_owned(),
        r#"{"token":{}}"#.to_owned(),
        r#"{"wrongkey":""}"#.to_owned(),
        r#"{"token":""}"#.to_owned(),
        r#"{"token":"e30.e30.e30"}"#.to_owned(),
        r#"{"token":"e30.eyJpc3MiOiJ4In0.e30"}"#.to_owned(),
        r#"{"token":"x"} x"#.to_owned(),
        "  {\"token\" : \"e30.e30.\"}\n".to_owned(),
        r#"{"\u0074oken":"a.b.c"}"#.to_owned(),
        r#"{"token":"\u0000"}"#.to_owned(),
        format!(r#"{{"token":"{}"}}"#, "A".repeat(10_000)),
    ]);
    let segments = "[A-Za-z0-9_-]{0,12}(\\.[A-Za-z0-9_-]{0,12}){0,2}"
        .prop_map(|token| json!({ "token": token }).to_string());
    prop_oneof![2 => fixed, 1 => segments]
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixture::key_fields;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use reference_registry::normalize;
    use std::collections::BTreeSet;

    #[test]
    fn near_misses_differ_from_the_value_and_keep_to_one_line() {
        for value in ["acme-labs/widgetry", "publish.yml", "a", "refs/tags/v1"] {
            for kind in 0..NEAR_MISSES {
                let changed = near_miss(value, kind);
                assert_ne!(changed, value, "kind {kind} of {value:?}");
                assert!(!changed.contains(['\n', '\r']), "kind {kind}");
            }
        }
        assert_eq!(confusable("pypi"), "рypi");
        assert_eq!(near_miss("publish.yml", 9), "publish.yaml");
    }

    #[test]
    fn envelope_defects_are_each_once_and_leave_the_claims_alone() {
        let defects = envelope_defects();
        let names: BTreeSet<String> = defects.iter().map(ToString::to_string).collect();
        assert_eq!(names.len(), defects.len(), "{names:?}");
        assert!(defects.iter().all(|d| d.touches().claims.is_empty()));
        for name in [
            "alg-none:nOnE",
            "other-rsa-alg:RS384",
            "other-rsa-alg",
            "other-rsa-alg:PS512",
            "hs256-public-key:jwk",
            "malformed:whitespace-around",
            "x5c-injection",
            "unknown-kid",
        ] {
            assert!(names.contains(name), "{name} in {names:?}");
        }
    }

    #[test]
    fn generated_fixtures_keep_the_key_uniqueness_and_name_their_projects() {
        let mut runner = TestRunner::deterministic();
        let strategy = case();
        for _ in 0..500 {
            let case = strategy.new_tree(&mut runner).unwrap().current();
            let fixture = &case.fixture;
            let names: BTreeSet<_> = fixture.projects.iter().map(|p| normalize(p)).collect();
            assert_eq!(
                names.len(),
                fixture.projects.len(),
                "{:?}",
                fixture.projects
            );
            let keys: BTreeSet<_> = fixture
                .publishers
                .iter()
                .map(|p| key_fields(&p.identity))
                .collect();
            assert_eq!(keys.len(), fixture.publishers.len());
            for publisher in &fixture.publishers {
                assert!(
                    publisher
                        .projects
                        .iter()
                        .all(|p| fixture.projects.contains(p))
                );
            }
            let uploads: BTreeSet<_> = case.uploads.iter().map(|u| normalize(&u.name)).collect();
            assert_eq!(uploads.len(), case.uploads.len());
        }
    }

    #[test]
    fn every_kind_of_case_is_generated() {
        let mut runner = TestRunner::deterministic();
        let strategy = case();
        let (mut edited, mut envelope, mut raw, mut times) = (0, 0, 0, 0);
        for _ in 0..1000 {
            let case = strategy.new_tree(&mut runner).unwrap().current();
            match &case.mint.body {
                MintBody::Raw(_) => raw += 1,
                MintBody::Token(spec)
                    if !spec.header.is_empty() || !spec.remove_header.is_empty() =>
                {
                    envelope += 1
                }
                MintBody::Token(spec) => {
                    if spec
                        .defects
                        .iter()
                        .any(|d| !matches!(d, Defect::NullClaim(_)))
                    {
                        envelope += 1;
                    } else if !spec.claims.is_empty() || !spec.remove.is_empty() {
                        edited += 1;
                    }
                    times += usize::from(!spec.times.is_empty());
                }
            }
        }
        for (what, count) in [
            ("claim edits", edited),
            ("envelopes", envelope),
            ("raw bodies", raw),
            ("times", times),
        ] {
            assert!(count > 40, "{what}: {count} of 1000");
        }
    }
}
