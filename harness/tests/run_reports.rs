//! The JSON and JUnit reports of a real run over every kind of verdict.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use mintcheck::rig::targets::Target;
use mintcheck::scenario::load_dir;
use mintcheck::suite::expectations::Expectations;
use mintcheck::suite::outcome::Outcome;
use mintcheck::suite::report::{self};
use mintcheck::suite::runner::{self, RunOptions};
use regex::Regex;
use serde_json::Value;

mod common;

use common::*;

const REPORT_SCENARIOS: [(&str, &str); 7] = [
    (
        "audience/ok",
        "title = \"the audience is served\"\nrequirement = \"r\"\nrules = [\"R-EP-1\"]\nlevel = \"core\"\n[[step]]\naction = \"audience\"\nexpect = { status = 200, json = { value = { audience = \"pypi\" }, rule = \"R-EP-1\" } }\n",
    ),
    (
        "audience/listed",
        "title = \"listed but passing\"\nrequirement = \"r\"\nrules = [\"R-EP-1\"]\nlevel = \"core\"\n[[step]]\naction = \"audience\"\nexpect = { status = 200 }\n",
    ),
    (
        "mint/wrong-code",
        "title = \"a bad body is an invalid payload\"\nrequirement = \"r\"\nrules = [\"R-PAYLOAD-1\"]\nlevel = \"core\"\n[[step]]\naction = \"mint\"\nbody = \"it's not json\"\nexpect = { status = 422, code = \"invalid-payload\" }\n",
    ),
    (
        "mint/listed",
        "title = \"a known failure\"\nrequirement = \"r\"\nrules = [\"R-PAYLOAD-1\"]\nlevel = \"core\"\n[[step]]\naction = \"mint\"\nbody = '{\"token\":null}'\nexpect = { status = 422, code = \"invalid-payload\" }\n",
    ),
    (
        "mint/advisory",
        "title = \"a SHOULD not met\"\nrequirement = \"r\"\nrules = [\"R-ISS-3\"]\nlevel = \"core\"\n[[step]]\naction = \"mint\"\nbody = '{\"token\":\"x.y.z\"}'\nexpect = { status = 422, code = \"invalid-token\", description = { contains = \"unknown trusted publishing issuer\", rule = \"R-ORDER-2\", strength = \"should\" } }\n",
    ),
    (
        "mint/slow",
        "title = \"a slow answer\"\nrequirement = \"r\"\nrules = [\"R-PAYLOAD-1\"]\nlevel = \"core\"\n[[step]]\naction = \"mint\"\nbody = \"slow\"\nexpect = { status = 422, code = \"invalid-payload\" }\n",
    ),
    (
        "exact/skipped",
        "title = \"judged at pypi-exact only\"\nrequirement = \"r\"\nrules = [\"R-EP-1\"]\nlevel = \"pypi-exact\"\n[[step]]\naction = \"audience\"\nexpect = { status = 200 }\n",
    ),
];

const REPORT_EXPECTATIONS: &str = r#"[[expect]]
scenario = "mint/listed"
outcome = "xfail"
reason = "wrong code, issue #1"
code = "invalid-token"

[[expect]]
scenario = "audience/listed"
outcome = "xfail"
reason = "fixed already?"
"#;

/// A run over every kind of verdict with deterministic requests, and a function that
/// redacts what changes between runs (times, ports, the temporary folder, dates).
async fn report_run() -> (Vec<Outcome>, impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().unwrap();
    for (id, text) in REPORT_SCENARIOS {
        let path = dir.path().join(format!("{id}.toml"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let scenarios = load_dir(dir.path()).unwrap();
    let ids: Vec<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
    let listed = Expectations::parse(Path::new("known.toml"), REPORT_EXPECTATIONS, &ids).unwrap();
    let base = serve(fake(post(|body: Bytes| async move {
        if body.as_ref() == b"slow" {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        json_response(422, envelope("invalid-token"))
    })))
    .await;
    let options = RunOptions {
        request_timeout: Duration::from_millis(300),
        expectations: Some(Arc::new(listed)),
        ..core()
    };
    let outcomes = runner::run(scenarios, &Target::remote(&base, TOKEN), &options, |_| {}).await;
    let port = Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let millis = Regex::new(r#""millis": \d+"#).unwrap();
    let time = Regex::new(r#"time="[0-9.]+""#).unwrap();
    let date = Regex::new(r#""date",\s*"[^"]+""#).unwrap();
    let redact = move |text: &str| {
        let text = port.replace_all(text, "127.0.0.1:[port]");
        let text = millis.replace_all(&text, "\"millis\": \"[millis]\"");
        let text = time.replace_all(&text, "time=\"[time]\"");
        date.replace_all(&text, "\"date\", \"[date]\"").into_owned()
    };
    (outcomes, redact)
}

#[tokio::test]
async fn the_json_report_keeps_its_keys() {
    let (outcomes, redact) = report_run().await;
    let report = report::json_report("http://127.0.0.1:1", "core", &outcomes);
    let text = redact(&serde_json::to_string_pretty(&report).unwrap());
    let expected = r#"{
  "advisories": 1,
  "aspects": {
    "decision": {
      "advisory": 0,
      "judged": 5,
      "right": 5
    },
    "envelope": {
      "advisory": 0,
      "judged": 5,
      "right": 3
    },
    "status": {
      "advisory": 0,
      "judged": 5,
      "right": 5
    },
    "wording": {
      "advisory": 1,
      "judged": 1,
      "right": 0
    }
  },
  "level": "core",
  "mintcheck_report": 1,
  "scenarios": [
    {
      "aspects": {
        "decision": "right",
        "envelope": "right",
        "status": "right"
      },
      "id": "audience/listed",
      "level": "core",
      "millis": "[millis]",
      "outcome": "xpass",
      "reason": "listed as xfail (fixed already?) at known.toml:7 but passed: remove the entry",
      "rules": [
        "R-EP-1"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope"
          ],
          "method": "GET",
          "name": "step1",
          "response": {
            "body": "{\"audience\":\"pypi\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "19"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "OK",
            "status": 200
          },
          "url": "http://127.0.0.1:[port]/_/oidc/audience"
        }
      ],
      "title": "listed but passing"
    },
    {
      "aspects": {
        "decision": "right",
        "envelope": "right",
        "status": "right"
      },
      "id": "audience/ok",
      "level": "core",
      "millis": "[millis]",
      "outcome": "pass",
      "rules": [
        "R-EP-1"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope"
          ],
          "method": "GET",
          "name": "step1",
          "response": {
            "body": "{\"audience\":\"pypi\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "19"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "OK",
            "status": 200
          },
          "url": "http://127.0.0.1:[port]/_/oidc/audience"
        }
      ],
      "title": "the audience is served"
    },
    {
      "aspects": {},
      "id": "exact/skipped",
      "level": "pypi-exact",
      "millis": "[millis]",
      "outcome": "skip",
      "reason": "a pypi-exact scenario is not judged in a core run",
      "rules": [
        "R-EP-1"
      ],
      "steps": [],
      "title": "judged at pypi-exact only"
    },
    {
      "aspects": {
        "decision": "right",
        "envelope": "right",
        "status": "right",
        "wording": "advisory"
      },
      "id": "mint/advisory",
      "level": "core",
      "millis": "[millis]",
      "outcome": "advisory",
      "rules": [
        "R-ISS-3"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope",
            "wording"
          ],
          "method": "POST",
          "mismatches": [
            {
              "actual": "refused",
              "aspect": "wording",
              "at": "/errors/0/description",
              "expected": "contains \"unknown trusted publishing issuer\"",
              "level": "core",
              "rules": [
                "R-ORDER-2"
              ],
              "strength": "should"
            }
          ],
          "name": "step1",
          "request_body": "{\"token\":\"x.y.z\"}",
          "response": {
            "body": "{\"errors\":[{\"code\":\"invalid-token\",\"description\":\"refused\"}],\"message\":\"Token request failed\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "94"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "Unprocessable Entity",
            "status": 422
          },
          "url": "http://127.0.0.1:[port]/_/oidc/mint-token"
        }
      ],
      "title": "a SHOULD not met"
    },
    {
      "aspects": {
        "decision": "right",
        "envelope": "wrong",
        "status": "right"
      },
      "id": "mint/listed",
      "level": "core",
      "millis": "[millis]",
      "outcome": "xfail",
      "reason": "wrong code, issue #1",
      "rules": [
        "R-PAYLOAD-1"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope"
          ],
          "method": "POST",
          "mismatches": [
            {
              "actual": "invalid-token",
              "aspect": "envelope",
              "at": "/errors/0/code",
              "expected": "invalid-payload",
              "level": "core",
              "rules": [
                "R-PAYLOAD-1"
              ],
              "strength": "must"
            }
          ],
          "name": "step1",
          "request_body": "{\"token\":null}",
          "response": {
            "body": "{\"errors\":[{\"code\":\"invalid-token\",\"description\":\"refused\"}],\"message\":\"Token request failed\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "94"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "Unprocessable Entity",
            "status": 422
          },
          "url": "http://127.0.0.1:[port]/_/oidc/mint-token"
        }
      ],
      "title": "a known failure"
    },
    {
      "aspects": {},
      "id": "mint/slow",
      "level": "core",
      "message": "step step1: POST http://127.0.0.1:[port]/_/oidc/mint-token: no answer within 0.3 s",
      "millis": "[millis]",
      "outcome": "error",
      "rules": [
        "R-PAYLOAD-1"
      ],
      "steps": [
        {
          "error": "POST http://127.0.0.1:[port]/_/oidc/mint-token: no answer within 0.3 s",
          "method": "POST",
          "name": "step1",
          "request_body": "slow",
          "url": "http://127.0.0.1:[port]/_/oidc/mint-token"
        }
      ],
      "title": "a slow answer"
    },
    {
      "aspects": {
        "decision": "right",
        "envelope": "wrong",
        "status": "right"
      },
      "id": "mint/wrong-code",
      "level": "core",
      "millis": "[millis]",
      "outcome": "fail",
      "rules": [
        "R-PAYLOAD-1"
      ],
      "steps": [
        {
          "judged": [
            "decision",
            "status",
            "envelope"
          ],
          "method": "POST",
          "mismatches": [
            {
              "actual": "invalid-token",
              "aspect": "envelope",
              "at": "/errors/0/code",
              "expected": "invalid-payload",
              "level": "core",
              "rules": [
                "R-PAYLOAD-1"
              ],
              "strength": "must"
            }
          ],
          "name": "step1",
          "request_body": "it's not json",
          "response": {
            "body": "{\"errors\":[{\"code\":\"invalid-token\",\"description\":\"refused\"}],\"message\":\"Token request failed\"}",
            "headers": [
              [
                "content-type",
                "application/json"
              ],
              [
                "content-length",
                "94"
              ],
              [
                "date", "[date]"
              ]
            ],
            "reason": "Unprocessable Entity",
            "status": 422
          },
          "url": "http://127.0.0.1:[port]/_/oidc/mint-token"
        }
      ],
      "title": "a bad body is an invalid payload"
    }
  ],
  "summary": {
    "advisory": 1,
    "error": 1,
    "fail": 1,
    "inconclusive": 0,
    "pass": 1,
    "skip": 1,
    "unsupported": 0,
    "not_run": 0,
    "xfail": 1,
    "xpass": 1
  },
  "target": "http://127.0.0.1:[port]"
}"#;
    // Compared as JSON values: the keys, not their order, are the contract.
    let (actual, wanted): (Value, Value) = (
        serde_json::from_str(&text).unwrap(),
        serde_json::from_str(expected).unwrap(),
    );
    assert_eq!(actual, wanted, "actual:\n{text}");
}

#[tokio::test]
async fn the_junit_report_has_a_testcase_per_scenario() {
    let (outcomes, redact) = report_run().await;
    let rerun = |id: &str| format!("mintcheck run {id}");
    let reproducers = report::Reproducers {
        rerun: &rerun,
        issuers_kept: false,
    };
    let xml = report::junit_report("http://127.0.0.1:1", "core", &outcomes, &reproducers).unwrap();

    // Parsed back: the structure.
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(parsed.test_suites.len(), 1);
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.name.as_str(), "mintcheck");
    assert_eq!(
        (suite.tests, suite.failures, suite.errors, suite.skipped),
        (7, 1, 2, 1)
    );
    let kinds: Vec<(String, String, String)> = suite
        .test_cases
        .iter()
        .map(|case| {
            let kind = match &case.status {
                quick_junit::TestCaseStatus::Success { .. } => "success".to_owned(),
                quick_junit::TestCaseStatus::NonSuccess { kind, ty, .. } => format!(
                    "{kind:?}:{}",
                    ty.as_ref().map(|t| t.as_str()).unwrap_or_default()
                ),
                quick_junit::TestCaseStatus::Skipped { ty, .. } => format!(
                    "skipped:{}",
                    ty.as_ref().map(|t| t.as_str()).unwrap_or_default()
                ),
            };
            let classname = case
                .classname
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default();
            (case.name.as_str().to_owned(), classname, kind)
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("audience/listed", "audience", "Error:xpass"),
        ("audience/ok", "audience", "success"),
        ("exact/skipped", "exact", "skipped:skip"),
        ("mint/advisory", "mint", "success"),
        ("mint/listed", "mint", "success"),
        ("mint/slow", "mint", "Error:error"),
        ("mint/wrong-code", "mint", "Failure:fail"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(kinds, expected);

    // As text: the messages, the failure's detail block with its curl line, the xfail note.
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="mintcheck" tests="7" skipped="1" failures="1" errors="2" time="[time]">
    <testsuite name="mintcheck" tests="7" skipped="1" errors="2" failures="1" time="[time]">
        <properties>
            <property name="target" value="http://127.0.0.1:[port]"/>
            <property name="level" value="core"/>
            <property name="advisories" value="1"/>
            <property name="decisions" value="5/5"/>
        </properties>
        <testcase name="audience/listed" classname="audience" time="[time]">
            <properties>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="right"/>
            </properties>
            <error message="listed as xfail (fixed already?) at known.toml:7 but passed: remove the entry" type="xpass"/>
        </testcase>
        <testcase name="audience/ok" classname="audience" time="[time]">
            <properties>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="right"/>
            </properties>
        </testcase>
        <testcase name="exact/skipped" classname="exact" time="[time]">
            <skipped message="a pypi-exact scenario is not judged in a core run" type="skip"/>
        </testcase>
        <testcase name="mint/advisory" classname="mint" time="[time]">
            <properties>
                <property name="advisory" value="SHOULD of R-ORDER-2 not met at /errors/0/description"/>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="right"/>
                <property name="aspect.wording" value="advisory"/>
            </properties>
            <system-out>advisory: every MUST met, a SHOULD missed
  rules: R-ISS-3 (core)
  step step1: POST http://127.0.0.1:[port]/_/oidc/mint-token
    sent: {&quot;token&quot;:&quot;x.y.z&quot;}
    got:  HTTP 422 {&quot;errors&quot;:[{&quot;code&quot;:&quot;invalid-token&quot;,&quot;description&quot;:&quot;refused&quot;}],&quot;message&quot;:&quot;Token request failed&quot;}
    at /errors/0/description (wording, R-ORDER-2 SHOULD at core):
      expected: contains &quot;unknown trusted publishing issuer&quot;
      actual:   refused
    reproduce: curl -sS -i -H &apos;content-type: application/json&apos; --data-raw &apos;{&quot;token&quot;:&quot;x.y.z&quot;}&apos; http://127.0.0.1:[port]/_/oidc/mint-token
  rerun: mintcheck run mint/advisory
</system-out>
        </testcase>
        <testcase name="mint/listed" classname="mint" time="[time]">
            <properties>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="wrong"/>
            </properties>
            <system-out>xfail: failed as the expectations file lists it (wrong code, issue #1)
step step1 at /errors/0/code: expected invalid-payload, got invalid-token</system-out>
        </testcase>
        <testcase name="mint/slow" classname="mint" time="[time]">
            <error message="step step1: POST http://127.0.0.1:[port]/_/oidc/mint-token: no answer within 0.3 s" type="error"/>
        </testcase>
        <testcase name="mint/wrong-code" classname="mint" time="[time]">
            <properties>
                <property name="aspect.decision" value="right"/>
                <property name="aspect.status" value="right"/>
                <property name="aspect.envelope" value="wrong"/>
            </properties>
            <failure message="step step1 at /errors/0/code: expected invalid-payload, got invalid-token" type="fail">  rules: R-PAYLOAD-1 (core)
  step step1: POST http://127.0.0.1:[port]/_/oidc/mint-token
    sent: it&apos;s not json
    got:  HTTP 422 {&quot;errors&quot;:[{&quot;code&quot;:&quot;invalid-token&quot;,&quot;description&quot;:&quot;refused&quot;}],&quot;message&quot;:&quot;Token request failed&quot;}
    at /errors/0/code (envelope, R-PAYLOAD-1 MUST at core):
      expected: invalid-payload
      actual:   invalid-token
    reproduce: curl -sS -i -H &apos;content-type: application/json&apos; --data-raw &apos;it&apos;\&apos;&apos;s not json&apos; http://127.0.0.1:[port]/_/oidc/mint-token
  rerun: mintcheck run mint/wrong-code
</failure>
        </testcase>
    </testsuite>
</testsuites>
"#;
    assert_eq!(redact(&xml), expected, "actual:\n{}", redact(&xml));
}
