//! JSON exactly as PyPI writes it (R-RESP-2): keys sorted by code point, `,` and `:` with no
//! whitespace, everything outside U+0020..U+007E as lowercase `\uXXXX` (surrogate pairs above
//! U+FFFF) except the short escapes, `/` unescaped, and `Content-Type: application/json`
//! without a charset.
//!
//! The keys are sorted here rather than relying on `serde_json::Map` being a `BTreeMap`, which
//! another crate in the build could change by enabling `preserve_order`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;

pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// A response with the body `value` in PyPI's serialization.
pub fn response(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, to_string(value)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn r_resp_2_sorted_compact_ascii() {
        let value = json!({"b": 1, "a": ["/", "é\u{7f}\u{1}\u{1F600}\u{8}\u{c}\"\\"], "B": null});
        assert_eq!(
            to_string(&value),
            r#"{"B":null,"a":["/","\u00e9\u007f\u0001\ud83d\ude00\b\f\"\\"],"b":1}"#
        );
    }
}
