//! The shapes of mint answers (spec §3.3–§3.5): the success body, the 422 error envelope,
//! and what each level demands of them.

use serde_json::Value;

use super::matchers::Miss;
use crate::rig::transport::{Response, shorten};
use crate::spec::rules::ErrorCode;

/// A mint answer that minted: 2xx and a JSON object whose `token` is a non-empty string
/// (R-RESP-3 at core; clients read nothing else).
pub fn minted(response: &Response) -> bool {
    (200..300).contains(&response.status) && minted_token(response).is_some()
}

fn minted_token(response: &Response) -> Option<String> {
    let json = response.json()?;
    let token = json.get("token")?.as_str()?;
    (!token.is_empty()).then(|| token.to_owned())
}

/// 200 with a success body as core demands it (R-RESP-3).
pub fn is_success_envelope(response: &Response) -> bool {
    response.status == 200 && minted(response)
}

/// The R-RESP-6 error envelope, every code one of §4.1's (the status is not looked at).
pub fn is_error_envelope(response: &Response) -> bool {
    error_envelope_problem(response.json().as_ref()).is_none()
}

/// What is wrong with a body that should be the 422 envelope of R-RESP-6, if anything.
pub fn error_envelope_problem(json: Option<&Value>) -> Option<String> {
    let Some(json) = json else {
        return Some("a body that is not JSON".into());
    };
    if !json.get("message").is_some_and(Value::is_string) {
        return Some(format!(
            "no string `message`: {}",
            shorten(&json.to_string())
        ));
    }
    let Some(errors) = json
        .get("errors")
        .and_then(Value::as_array)
        .filter(|e| !e.is_empty())
    else {
        return Some(format!(
            "no non-empty `errors` array: {}",
            shorten(&json.to_string())
        ));
    };
    for (i, error) in errors.iter().enumerate() {
        let code = error.get("code").and_then(Value::as_str);
        if !error.get("description").is_some_and(Value::is_string) {
            return Some(format!("errors[{i}] has no string `description`"));
        }
        match code {
            Some(code) if ErrorCode::named(code).is_some() => {}
            Some(code) => {
                return Some(format!(
                    "errors[{i}].code {code:?} is not a code of the spec (§4.1, or PEP 807's unsupported-feature)"
                ));
            }
            None => return Some(format!("errors[{i}] has no string `code`")),
        }
    }
    None
}

/// `errors[0].code` is one of `codes`.
pub fn code_miss(json: Option<&Value>, codes: &[ErrorCode]) -> Option<Miss> {
    let actual = json
        .and_then(|j| j.pointer("/errors/0/code"))
        .and_then(Value::as_str);
    if actual.is_some_and(|code| codes.iter().any(|c| c.as_str() == code)) {
        return None;
    }
    let expected = match codes {
        [one] => one.to_string(),
        many => format!(
            "one of {}",
            many.iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Some(Miss::new(
        "/errors/0/code",
        expected,
        actual.map_or_else(|| "(absent)".to_owned(), str::to_owned),
    ))
}

/// R-RESP-7: at pypi-exact the envelope is exactly `{"errors":[{"code","description"}],
/// "message":"Token request failed"}`.
pub fn exact_envelope_miss(json: &Value) -> Option<Miss> {
    let keys = |v: &Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    if keys(json) != "errors, message" {
        return Some(Miss::new("/", "members errors, message", keys(json)));
    }
    if json["message"] != "Token request failed" {
        return Some(Miss::new(
            "/message",
            "Token request failed",
            json["message"].to_string(),
        ));
    }
    let errors = json["errors"].as_array().map_or(0, Vec::len);
    if errors != 1 {
        return Some(Miss::new(
            "/errors",
            "exactly one error",
            format!("{errors} errors"),
        ));
    }
    if keys(&json["errors"][0]) != "code, description" {
        return Some(Miss::new(
            "/errors/0",
            "members code, description",
            keys(&json["errors"][0]),
        ));
    }
    None
}

/// The media type is one of `allowed` (parameters such as a charset allowed): PyPI's
/// clients get `application/json` (R-RESP-1), PEP 807 clients may get the PEP's own types.
pub fn media_type_miss(response: &Response, allowed: &[&str]) -> Option<Miss> {
    let media = response.media_type().unwrap_or_default();
    (!allowed.contains(&media.as_str())).then(|| {
        Miss::new(
            "header content-type",
            format!("the media type {}", allowed.join(" or ")),
            response.header("content-type").unwrap_or("(absent)"),
        )
    })
}

/// The header is exactly `Content-Type: application/json` (R-RESP-2).
pub fn exact_content_type_miss(response: &Response) -> Option<Miss> {
    let actual = response.header("content-type");
    (actual != Some("application/json")).then(|| {
        Miss::new(
            "header content-type",
            "application/json",
            actual.unwrap_or("(absent)"),
        )
    })
}

/// When a minted token's validity may have started: T (the target's whole second at mint)
/// lies in `[earliest, latest]`, the harness's send and receive times moved by the
/// target's clock offset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MintWindow {
    pub earliest: f64,
    pub latest: f64,
}

/// The least and most lifetime R-TOK-2 allows at core (PEP 807's bounds), and the slack
/// for a round trip.
pub const LIFETIME_MIN: f64 = 900.0;
pub const LIFETIME_MAX: f64 = 21_600.0;
const ROUND_TRIP_SLACK: f64 = 5.0;

/// `expires`, when sent, is an integer (R-RESP-4). None when it is absent.
pub fn expires_of(json: &Value) -> Option<Result<i64, String>> {
    let expires = json.get("expires")?;
    Some(
        expires
            .as_i64()
            .ok_or_else(|| shorten(&expires.to_string())),
    )
}

/// `expires` ends a lifetime of 900 s to 6 h from T (R-TOK-2 at core).
pub fn lifetime_miss(expires: i64, window: MintWindow) -> Option<Miss> {
    let low = (window.earliest.floor() + LIFETIME_MIN - ROUND_TRIP_SLACK) as i64;
    let high = (window.latest.floor() + LIFETIME_MAX + ROUND_TRIP_SLACK) as i64;
    (!(low..=high).contains(&expires)).then(|| {
        Miss::new(
            "/expires",
            format!("900 s to 6 h after the mint: {low} to {high}"),
            format!(
                "{expires} ({:+} s from the request)",
                expires - window.earliest.floor() as i64
            ),
        )
    })
}

/// `expires` is exactly T + 900 (R-TOK-2 at pypi-exact).
pub fn exact_lifetime_miss(expires: i64, window: MintWindow) -> Option<Miss> {
    let low = window.earliest.floor() as i64 + 900;
    let high = window.latest.floor() as i64 + 900;
    (!(low..=high).contains(&expires)).then(|| {
        Miss::new(
            "/expires",
            format!("T + 900 (T the mint's second: {low} to {high})"),
            expires.to_string(),
        )
    })
}

/// The pypi-exact success body: exactly `expires`, `success: true` and a `pypi-` token.
pub fn exact_success_misses(json: &Value) -> Vec<Miss> {
    let mut misses = Vec::new();
    let keys = json
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    if keys != "expires, success, token" {
        misses.push(Miss::new("/", "members expires, success, token", keys));
    }
    if json.get("success") != Some(&Value::Bool(true)) {
        misses.push(Miss::new(
            "/success",
            "true",
            json.get("success")
                .map_or_else(|| "(absent)".to_owned(), Value::to_string),
        ));
    }
    let token = json
        .get("token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !pypi_token(token) {
        misses.push(Miss::new(
            "/token",
            "pypi- and unpadded base64url",
            shorten(token),
        ));
    }
    misses
}

fn pypi_token(token: &str) -> bool {
    token.strip_prefix("pypi-").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(status: u16, body: Value) -> Response {
        Response {
            status,
            reason: None,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    #[test]
    fn a_mint_is_a_2xx_with_a_non_empty_string_token() {
        assert!(minted(&response(200, json!({"token": "abc"}))));
        assert!(minted(&response(201, json!({"token": "abc", "more": 1}))));
        assert!(!minted(&response(200, json!({"token": ""}))));
        assert!(!minted(&response(200, json!({"token": 1}))));
        assert!(!minted(&response(422, json!({"token": "abc"}))));
        assert!(is_success_envelope(&response(200, json!({"token": "x"}))));
        assert!(!is_success_envelope(&response(201, json!({"token": "x"}))));
    }

    #[test]
    fn the_envelope_shape_and_code_set_are_enforced() {
        for body in [
            json!({"errors": [], "message": "x"}),
            json!({"errors": [{"code": "invalid-token"}], "message": "x"}),
            json!({"errors": [{"code": "made-up", "description": "d"}], "message": "x"}),
            json!({"error": "invalid-token"}),
        ] {
            assert!(error_envelope_problem(Some(&body)).is_some(), "{body}");
        }
        let several = json!({"message": "m", "success": false, "errors": [
            {"code": "invalid-token", "description": "d"},
            {"code": "invalid-payload", "description": "e", "field": "token"}]});
        assert_eq!(error_envelope_problem(Some(&several)), None);
        assert!(exact_envelope_miss(&several).is_some());
        assert_eq!(
            error_envelope_problem(None).as_deref(),
            Some("a body that is not JSON")
        );
    }

    #[test]
    fn codes_are_one_of_a_set() {
        let body = json!({"errors": [{"code": "invalid-token", "description": "d"}]});
        let codes = |list: &[&str]| {
            list.iter()
                .map(|c| ErrorCode::named(c).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(code_miss(Some(&body), &codes(&["invalid-token"])), None);
        assert_eq!(
            code_miss(Some(&body), &codes(&["invalid-payload", "invalid-token"])),
            None
        );
        let miss = code_miss(Some(&body), &codes(&["invalid-payload"])).unwrap();
        assert_eq!(
            (miss.at.as_str(), miss.actual.as_str()),
            ("/errors/0/code", "invalid-token")
        );
    }

    #[test]
    fn the_exact_envelope_is_named_where_it_differs() {
        let at = |body: Value| exact_envelope_miss(&body).map(|m| m.at);
        assert_eq!(
            at(
                json!({"errors": [{"code": "invalid-token", "description": "d"}], "message": "Token request failed"})
            ),
            None
        );
        assert_eq!(
            at(json!({"errors": [{"code": "invalid-token", "description": "d"}], "message": "Token request failed", "success": false})).as_deref(),
            Some("/")
        );
        assert_eq!(
            at(json!({"errors": [{"code": "invalid-token", "description": "d"}], "message": "Failed"})).as_deref(),
            Some("/message")
        );
    }

    #[test]
    fn lifetimes_are_judged_from_the_request_window() {
        let window = MintWindow {
            earliest: 1000.2,
            latest: 1001.9,
        };
        assert_eq!(lifetime_miss(1900, window), None);
        assert_eq!(lifetime_miss(1000 + 21_600, window), None);
        assert!(lifetime_miss(1000 + 600, window).is_some(), "10 minutes");
        assert!(
            lifetime_miss(1001 + 21_600 + 6, window).is_some(),
            "over 6 h"
        );
        assert_eq!(exact_lifetime_miss(1900, window), None);
        assert_eq!(exact_lifetime_miss(1901, window), None);
        assert!(exact_lifetime_miss(1902, window).is_some());
    }

    #[test]
    fn media_types_ignore_parameters_at_core_only() {
        let mut answer = response(200, json!({}));
        answer.headers = vec![(
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        )];
        assert_eq!(media_type_miss(&answer, &["application/json"]), None);
        assert!(exact_content_type_miss(&answer).is_some());
        answer.headers = vec![("content-type".into(), "text/html".into())];
        assert!(media_type_miss(&answer, &["application/json"]).is_some());
    }

    #[test]
    fn the_exact_success_body_is_pypis() {
        let body = json!({"expires": 1, "success": true, "token": "pypi-AgE_x-1"});
        assert!(exact_success_misses(&body).is_empty());
        let other = json!({"token": "tok.en"});
        let at: Vec<String> = exact_success_misses(&other)
            .into_iter()
            .map(|m| m.at)
            .collect();
        assert_eq!(at, ["/", "/success", "/token"]);
    }
}
