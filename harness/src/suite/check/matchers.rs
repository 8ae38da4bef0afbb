//! The matchers scenario files write: text (`exact`, `prefix`, `contains`, `regex`) and JSON
//! (values exact, `$type:` and `$matches:` strings, optionally partial objects).

use serde_json::Value;

use crate::rig::transport::shorten;
use crate::scenario::model::TextMatch;
use crate::scenario::pattern;

/// Where an answer differs from a check, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Miss {
    pub at: String,
    pub expected: String,
    pub actual: String,
}

impl Miss {
    pub fn new(
        at: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Miss {
        Miss {
            at: at.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }
}

/// What a matcher wants, for a reader.
pub fn describe(matcher: &TextMatch) -> String {
    match (
        &matcher.exact,
        &matcher.prefix,
        &matcher.contains,
        &matcher.regex,
    ) {
        (Some(exact), ..) => exact.clone(),
        (_, Some(prefix), ..) => format!("starts with {prefix:?}"),
        (_, _, Some(part), _) => format!("contains {part:?}"),
        (.., Some(pattern)) => format!("matches /{pattern}/"),
        _ => String::new(),
    }
}

/// `Some(expected)` when `text` does not satisfy the matcher.
pub fn text_mismatch(matcher: &TextMatch, text: &str) -> Option<String> {
    let ok = if let Some(exact) = &matcher.exact {
        text == exact
    } else if let Some(prefix) = &matcher.prefix {
        text.starts_with(prefix.as_str())
    } else if let Some(part) = &matcher.contains {
        text.contains(part.as_str())
    } else if let Some(pattern) = &matcher.regex {
        pattern::matches(pattern, text)
    } else {
        true
    };
    (!ok).then(|| describe(matcher))
}

/// Every place `actual` differs from `expected`. With `partial`, members of `actual`
/// objects that `expected` does not name are allowed.
pub fn json_mismatches(expected: &Value, actual: &Value, partial: bool) -> Vec<Miss> {
    let mut out = Vec::new();
    compare(expected, actual, partial, String::new(), &mut out);
    out
}

fn compare(expected: &Value, actual: &Value, partial: bool, pointer: String, out: &mut Vec<Miss>) {
    let here = || {
        if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer.clone()
        }
    };
    let mut miss =
        |expected: String| out.push(Miss::new(here(), expected, shorten(&actual.to_string())));
    match expected {
        Value::String(text) if text.starts_with("$type:") => {
            let wanted = &text["$type:".len()..];
            let fits = match wanted {
                "string" => actual.is_string(),
                "integer" => actual.is_i64() || actual.is_u64(),
                "number" => actual.is_number(),
                "boolean" => actual.is_boolean(),
                "array" => actual.is_array(),
                "object" => actual.is_object(),
                "null" => actual.is_null(),
                _ => false,
            };
            if !fits {
                miss(format!("a JSON {wanted}"));
            }
        }
        Value::String(text) if text.starts_with("$matches:") => {
            let pattern = &text["$matches:".len()..];
            let fits = actual
                .as_str()
                .is_some_and(|s| pattern::matches(pattern, s));
            if !fits {
                miss(format!("a string matching /{pattern}/"));
            }
        }
        Value::Object(fields) => {
            let Some(actual_fields) = actual.as_object() else {
                return miss(expected.to_string());
            };
            for (key, value) in fields {
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match actual_fields.get(key) {
                    Some(actual) => compare(value, actual, partial, child, out),
                    None => out.push(Miss::new(child, value.to_string(), "(absent)")),
                }
            }
            if !partial {
                for key in actual_fields.keys().filter(|k| !fields.contains_key(*k)) {
                    out.push(Miss::new(
                        format!("{pointer}/{key}"),
                        "(absent)",
                        shorten(&actual_fields[key].to_string()),
                    ));
                }
            }
        }
        Value::Array(items) => {
            let Some(actual_items) = actual.as_array().filter(|a| a.len() == items.len()) else {
                return miss(expected.to_string());
            };
            for (i, (e, a)) in items.iter().zip(actual_items).enumerate() {
                compare(e, a, partial, format!("{pointer}/{i}"), out);
            }
        }
        _ if expected != actual => miss(expected.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_matchers_report_the_pointer_that_differs() {
        let expected = json!({"success": true, "token": "$matches:^pypi-[A-Za-z0-9_-]+$", "expires": "$type:integer"});
        let good = json!({"success": true, "token": "pypi-AgEIcHlwaS5vcmc", "expires": 1767226500});
        assert!(json_mismatches(&expected, &good, false).is_empty());
        let bad = json!({"success": true, "token": "pypi-a b", "expires": 1.5, "extra": 1});
        let at: Vec<String> = json_mismatches(&expected, &bad, false)
            .into_iter()
            .map(|m| m.at)
            .collect();
        assert_eq!(at, ["/expires", "/token", "/extra"]);
    }

    #[test]
    fn a_partial_match_allows_members_it_does_not_name() {
        let expected = json!({"audience": "pypi"});
        let more = json!({"audience": "pypi", "issuers": []});
        assert!(json_mismatches(&expected, &more, true).is_empty());
        assert_eq!(json_mismatches(&expected, &more, false)[0].at, "/issuers");
        let wrong = json!({"audience": "testpypi"});
        assert_eq!(json_mismatches(&expected, &wrong, true)[0].at, "/audience");
    }

    #[test]
    fn text_matchers_say_what_they_wanted() {
        let matcher = |toml_text: &str| -> TextMatch { toml::from_str(toml_text).unwrap() };
        assert_eq!(text_mismatch(&matcher("exact = \"a\""), "a"), None);
        assert_eq!(
            text_mismatch(&matcher("prefix = \"ab\""), "b"),
            Some("starts with \"ab\"".into())
        );
        assert_eq!(text_mismatch(&matcher("contains = \"x\""), "axb"), None);
        assert_eq!(
            text_mismatch(&matcher("regex = \"^a+$\""), "ab"),
            Some("matches /^a+$/".into())
        );
    }
}
