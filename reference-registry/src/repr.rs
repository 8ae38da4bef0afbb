//! Python's `repr`, which PyPI's messages embed: `repr(s)` and `reprlist(S)` of spec §1.2, and
//! the reprs of JSON-decoded values that pydantic puts in `input_value` (R-PAYLOAD-6).

use serde_json::Value;

/// `repr(s)` of a Python `str`.
pub fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => push_escape(&mut out, c as u32),
        }
    }
    out.push(quote);
    out
}

/// `reprlist(S)`: sorted by code point, each `repr`'d, `, `-joined, in brackets.
pub fn reprlist<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut items: Vec<&str> = items.into_iter().collect();
    items.sort_unstable();
    let inner: Vec<String> = items.into_iter().map(repr).collect();
    format!("[{}]", inner.join(", "))
}

/// `repr(b)` of a Python `bytes`.
pub fn repr_bytes(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b if b == quote => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote as char);
    out
}

/// The repr of the Python object `json.loads` would build from `value`.
pub fn repr_json(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => repr_float(f),
            (None, None, None) => n.to_string(),
        },
        Value::String(s) => repr(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(repr_json).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", repr(k), repr_json(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// The Python type name of a JSON-decoded value (pydantic's `input_type`).
pub fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's float repr: shortest round-trip digits, scientific below 1e-4 and from 1e16.
fn repr_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let scientific = format!("{f:e}"); // e.g. "1.5e-5", "3.14e0"
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..16).contains(&exponent) {
        let plain = format!("{f}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.abs())
    }
}

/// pydantic shortens long `input_value` reprs to their ends around `...`.
pub fn truncate_repr(repr: String) -> String {
    let chars: Vec<char> = repr.chars().collect();
    if chars.len() <= 50 {
        return repr;
    }
    let head: String = chars[..25].iter().collect();
    let tail: String = chars[chars.len() - 24..].iter().collect();
    format!("{head}...{tail}")
}

fn push_escape(out: &mut String, code: u32) {
    let escaped = match code {
        0..=0xff => format!("\\x{code:02x}"),
        0x100..=0xffff => format!("\\u{code:04x}"),
        _ => format!("\\U{code:08x}"),
    };
    out.push_str(&escaped);
}

/// Python's `str.isprintable` for one character. Exact for ASCII; beyond it this covers the
/// control, separator, format and private-use characters but not unassigned code points
/// (spec §1.2: pypi-exact scenarios use printable ASCII only).
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
        | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb
        | 0xe000..=0xf8ff | 0xf0000..=0x10ffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn repr_picks_quotes_like_python() {
        assert_eq!(repr("a.yml"), "'a.yml'");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(
            repr("a\\b\tc\n\u{1}\u{7f}é\u{a0}"),
            "'a\\\\b\\tc\\n\\x01\\x7fé\\xa0'"
        );
    }

    #[test]
    fn reprlist_sorts_by_code_point() {
        assert_eq!(
            reprlist(["a@refs/heads/main", "a@d6cd1e2"]),
            "['a@d6cd1e2', 'a@refs/heads/main']"
        );
    }

    #[test]
    fn json_values_repr_as_python_objects() {
        assert_eq!(repr_json(&json!({"wrongkey": ""})), "{'wrongkey': ''}");
        assert_eq!(
            repr_json(&json!([null, true, 0, 2.5, 1e100, 1.0, 1.5e-5])),
            "[None, True, 0, 2.5, 1e+100, 1.0, 1.5e-05]"
        );
        assert_eq!(repr_bytes(b""), "b''");
        assert_eq!(repr_bytes(b"\xff'"), "b\"\\xff'\"");
    }
}
