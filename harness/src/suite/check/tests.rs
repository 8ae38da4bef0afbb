use serde_json::{Value, json};

use super::*;

fn response(status: u16, body: Value) -> Response {
    Response {
        status,
        reason: None,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
    }
}

fn judge(run_level: Level) -> Judge {
    Judge {
        scenario_level: Level::Core,
        scenario_rules: vec!["R-TIME-1".into()],
        run_level,
        judge_info: false,
    }
}

fn step(toml_text: &str) -> Exchange {
    crate::scenario::test_support::exchange(toml_text)
}

/// A window at Unix time 1000: a 900 s token expires at 1900.
const WINDOW: MintWindow = MintWindow {
    earliest: 1000.0,
    latest: 1000.5,
};

const ENVELOPE: &str = r#"{"errors":[{"code":"invalid-token","description":"malformed or invalid token"}],"message":"Token request failed"}"#;

fn refused(body: &str) -> Response {
    response(422, serde_json::from_str(body).unwrap())
}

fn pypi_success() -> Response {
    response(
        200,
        json!({"success": true, "token": "pypi-AgE", "expires": 1900}),
    )
}

/// `(aspect, at, strength)` of each mismatch.
fn found(judgement: &Judgement) -> Vec<(Aspect, String, Strength)> {
    judgement
        .mismatches
        .iter()
        .map(|m| (m.aspect, m.at.clone(), m.strength))
        .collect()
}

const REFUSAL: &str = "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422, code = \"invalid-token\", description = { exact = \"malformed or invalid token\", level = \"pypi-exact\" } }";
const SUCCESS: &str = "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 200 }";

#[test]
fn a_refusal_is_judged_on_decision_status_envelope_and_code() {
    let judgement = judge(Level::Core).step(&step(REFUSAL), &refused(ENVELOPE), WINDOW);
    assert!(
        judgement.mismatches.is_empty(),
        "{:?}",
        judgement.mismatches
    );
    assert_eq!(
        judgement.judged,
        [Aspect::Decision, Aspect::Status, Aspect::Envelope]
            .into_iter()
            .collect(),
        "the pypi-exact description is not judged at core"
    );
    let minted = judge(Level::Core).step(&step(REFUSAL), &pypi_success(), WINDOW);
    assert_eq!(found(&minted)[0].0, Aspect::Decision);
    assert_eq!(minted.mismatches[0].rules, ["R-TIME-1"]);
}

#[test]
fn a_right_decision_with_its_own_error_body_fails_only_the_envelope() {
    let body = response(422, json!({"message": "identity token rejected"}));
    let judgement = judge(Level::Core).step(&step(REFUSAL), &body, WINDOW);
    let aspects: BTreeSet<Aspect> = judgement.mismatches.iter().map(|m| m.aspect).collect();
    assert_eq!(aspects, [Aspect::Envelope].into_iter().collect());
    assert!(judgement.judged.contains(&Aspect::Decision));
}

#[test]
fn core_refusals_may_carry_more_than_pypi_and_word_it_their_way() {
    let body = r#"{"errors":[{"code":"invalid-token","description":"signature did not verify"},{"code":"invalid-token","description":"kid unknown"}],"message":"nope","success":false}"#;
    let core = judge(Level::Core).step(&step(REFUSAL), &refused(body), WINDOW);
    assert!(core.mismatches.is_empty(), "{:?}", core.mismatches);
    let exact = judge(Level::PypiExact).step(&step(REFUSAL), &refused(body), WINDOW);
    let at: Vec<String> = found(&exact).into_iter().map(|(_, at, _)| at).collect();
    assert_eq!(at, ["/", "/errors/0/description"]);
}

#[test]
fn a_core_success_needs_only_a_token_and_expires_is_a_should() {
    let bare = response(200, json!({"token": "opaque.index.token"}));
    let judgement = judge(Level::Core).step(&step(SUCCESS), &bare, WINDOW);
    assert_eq!(
        found(&judgement),
        [(Aspect::Envelope, "/expires".into(), Strength::Should)]
    );
    let extra = response(
        200,
        json!({"token": "t", "expires": 1900, "success": true, "issued": 1000}),
    );
    assert!(
        judge(Level::Core)
            .step(&step(SUCCESS), &extra, WINDOW)
            .mismatches
            .is_empty()
    );
    let six_hours = response(200, json!({"token": "t", "expires": 1000 + 21_600}));
    assert!(
        judge(Level::Core)
            .step(&step(SUCCESS), &six_hours, WINDOW)
            .mismatches
            .is_empty()
    );
    let exact = judge(Level::PypiExact).step(&step(SUCCESS), &six_hours, WINDOW);
    let at: Vec<(String, Strength)> = found(&exact)
        .into_iter()
        .map(|(_, at, s)| (at, s))
        .collect();
    assert_eq!(
        at,
        [
            ("/expires".into(), Strength::Must),
            ("/".into(), Strength::Must),
            ("/success".into(), Strength::Must),
            ("/token".into(), Strength::Must),
        ]
    );
    assert!(
        judge(Level::PypiExact)
            .step(&step(SUCCESS), &pypi_success(), WINDOW)
            .mismatches
            .is_empty()
    );
}

#[test]
fn a_lifetime_outside_900_s_to_6_h_fails_at_core() {
    for expires in [1000 + 600, 1000 + 21_600 + 60] {
        let answer = response(200, json!({"token": "t", "expires": expires}));
        let judgement = judge(Level::Core).step(&step(SUCCESS), &answer, WINDOW);
        assert_eq!(
            found(&judgement),
            [(Aspect::Envelope, "/expires".into(), Strength::Must)],
            "{expires}"
        );
    }
}

#[test]
fn a_grade_replaces_expect_only_at_its_levels() {
    let core_only = step(
        "action = \"mint\"\nbody = \"{}\"\ngrade = { core = \"either\", reason = \"r\" }\nexpect = { status = 422, code = \"invalid-token\" }",
    );
    for answer in [pypi_success(), refused(ENVELOPE)] {
        let judgement = judge(Level::Core).step(&core_only, &answer, WINDOW);
        assert!(
            judgement.mismatches.is_empty(),
            "{:?}",
            judgement.mismatches
        );
        assert!(!judgement.judged.contains(&Aspect::Decision));
    }
    let exact = judge(Level::PypiExact).step(&core_only, &pypi_success(), WINDOW);
    assert_eq!(found(&exact)[0].1, "decision", "pypi-exact judges expect");
    let both = step(
        "action = \"mint\"\nbody = \"{}\"\ngrade = { core = \"accept\", pypi-exact = \"reject\", reason = \"r\" }\nexpect = { status = 422, code = \"invalid-token\" }",
    );
    assert!(
        judge(Level::Core)
            .step(&both, &pypi_success(), WINDOW)
            .mismatches
            .is_empty()
    );
    assert!(
        !judge(Level::Core)
            .step(&both, &refused(ENVELOPE), WINDOW)
            .mismatches
            .is_empty()
    );
    assert!(
        judge(Level::PypiExact)
            .step(&both, &refused(ENVELOPE), WINDOW)
            .mismatches
            .is_empty()
    );
}

#[test]
fn graded_answers_must_still_be_well_formed() {
    let graded = |answer: &str| {
        step(&format!(
            "action = \"mint\"\nbody = \"{{}}\"\ngrade = {{ core = \"{answer}\", reason = \"r\" }}\nexpect = {{ status = 422, code = \"invalid-token\" }}"
        ))
    };
    let envelope =
        json!({"message": "m", "errors": [{"code": "invalid-token", "description": "d"}]});
    let cases = [
        ("either", response(500, json!({})), false),
        ("either", response(422, json!({"detail": "no"})), false),
        ("either", response(200, json!({"token": ""})), false),
        ("either", response(200, json!({"token": "abc"})), true),
        ("either", response(400, envelope.clone()), false),
        ("reject", response(422, envelope.clone()), true),
        ("reject", response(413, json!({})), false),
        ("too-large", response(413, json!({})), true),
        ("too-large", response(422, envelope.clone()), true),
        ("too-large", response(400, json!({})), false),
        ("reject", response(200, json!({"token": "pypi-x"})), false),
        ("accept", response(200, json!({"token": "pypi-x"})), true),
        ("accept", response(403, json!({})), false),
    ];
    for (answer, response, ok) in cases {
        let judgement = judge(Level::Core).step(&graded(answer), &response, WINDOW);
        let must: Vec<_> = judgement
            .mismatches
            .iter()
            .filter(|m| m.strength == Strength::Must)
            .collect();
        assert_eq!(
            must.is_empty(),
            ok,
            "{answer} {} {}: {must:?}",
            response.status,
            response.body
        );
    }
}

#[test]
fn codes_may_be_one_of_several_and_graded_to_pypi_exact() {
    let either = step(
        "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422, code = [\"invalid-payload\", \"invalid-token\"] }",
    );
    assert!(
        judge(Level::Core)
            .step(&either, &refused(ENVELOPE), WINDOW)
            .mismatches
            .is_empty()
    );
    let exact_code = step(
        "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422, code = { value = \"invalid-reuse-token\", level = \"pypi-exact\" } }",
    );
    assert!(
        judge(Level::Core)
            .step(&exact_code, &refused(ENVELOPE), WINDOW)
            .mismatches
            .is_empty(),
        "the replay's code is pypi-exact"
    );
    assert_eq!(
        found(&judge(Level::PypiExact).step(&exact_code, &refused(ENVELOPE), WINDOW)),
        [(Aspect::Envelope, "/errors/0/code".into(), Strength::Must)]
    );
}

#[test]
fn a_should_is_an_advisory_at_core_and_a_must_at_pypi_exact() {
    let unknown_issuer = step(
        "action = \"mint\"\nbody = \"{}\"\nexpect = { status = 422, code = \"invalid-token\", description = { contains = \"unknown trusted publishing issuer\", rule = \"R-ORDER-2\", strength = \"should\" } }",
    );
    let core = judge(Level::Core).step(&unknown_issuer, &refused(ENVELOPE), WINDOW);
    assert_eq!(
        found(&core),
        [(
            Aspect::Wording,
            "/errors/0/description".into(),
            Strength::Should
        )]
    );
    assert_eq!(core.mismatches[0].rules, ["R-ORDER-2"]);
    let exact = judge(Level::PypiExact).step(&unknown_issuer, &refused(ENVELOPE), WINDOW);
    assert_eq!(found(&exact)[0].2, Strength::Must);
}

#[test]
fn uploads_are_judged_on_the_decision_and_pypi_exact_on_200() {
    let upload = step(
        "action = \"upload\"\nupload = { name = \"w\", token = \"t\" }\nexpect = { status = 200 }",
    );
    let created = response(201, json!({}));
    let core = judge(Level::Core).step(&upload, &created, WINDOW);
    assert!(core.mismatches.is_empty(), "{:?}", core.mismatches);
    assert_eq!(
        found(&judge(Level::PypiExact).step(&upload, &created, WINDOW)),
        [(Aspect::Status, "status".into(), Strength::Must)]
    );
    let refused = judge(Level::Core).step(&upload, &response(403, json!({})), WINDOW);
    assert_eq!(found(&refused)[0].1, "decision");
}

#[test]
fn a_status_graded_pypi_exact_leaves_only_the_decision_at_core() {
    let get = step(
        "action = \"request\"\nmethod = \"GET\"\npath = \"/_/oidc/mint-token\"\nexpect = { status = { value = 405, level = \"pypi-exact\" } }",
    );
    let not_found = response(404, json!({}));
    assert!(
        judge(Level::Core)
            .step(&get, &not_found, WINDOW)
            .mismatches
            .is_empty()
    );
    assert_eq!(
        found(&judge(Level::Core).step(&get, &response(200, json!({})), WINDOW))[0].0,
        Aspect::Decision
    );
    assert_eq!(
        found(&judge(Level::PypiExact).step(&get, &not_found, WINDOW))[0].0,
        Aspect::Status
    );
}

#[test]
fn media_types_and_headers_are_compared() {
    let audience = step(
        "action = \"audience\"\nexpect = { status = 200, headers = { allow = { exact = \"GET\", level = \"pypi-exact\" } } }",
    );
    let mut answer = response(200, json!({"audience": "pypi"}));
    answer.headers = vec![("Content-Type".into(), "text/plain".into())];
    let core = judge(Level::Core).step(&audience, &answer, WINDOW);
    assert_eq!(
        found(&core),
        [(
            Aspect::Envelope,
            "header content-type".into(),
            Strength::Must
        )]
    );
    let exact = judge(Level::PypiExact).step(&audience, &answer, WINDOW);
    assert_eq!(
        found(&exact).last().map(|f| f.1.clone()),
        Some("header allow".into())
    );
}

#[test]
fn successes_and_issuer_requests_are_decisions() {
    let judge = judge(Level::Core);
    let concurrent = judge.successes(1, 2, 8);
    assert_eq!(
        found(&concurrent),
        [(Aspect::Decision, "successes".into(), Strength::Must)]
    );
    let expect =
        crate::scenario::test_support::expect("issuer_requests = { attacker-jku = { max = 0 } }");
    let fetched = judge.issuer_requests(&expect, |_| 1);
    assert_eq!(
        found(&fetched),
        [(
            Aspect::Decision,
            "issuer requests: attacker-jku".into(),
            Strength::Must
        )]
    );
    assert!(judge.issuer_requests(&expect, |_| 0).mismatches.is_empty());
}
