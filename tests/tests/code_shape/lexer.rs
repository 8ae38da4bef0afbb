//! Just enough of a Rust lexer to count braces and find paths: comments and literals
//! blanked out, test modules left out.

/// The text with comments, string and char literals blanked out (newlines kept), so braces
/// and keywords can be counted.
pub fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, b: u8| out.push(if b == b'\n' { b'\n' } else { b' ' });
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(rest) {
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let open = if rest[0] == b'b' { 3 } else { 2 } + hashes;
            out.extend(std::iter::repeat_n(b' ', open));
            i += open;
            while i < bytes.len() && !bytes[i..].starts_with(&close) {
                blank(&mut out, bytes[i]);
                i += 1;
            }
            out.extend(std::iter::repeat_n(b' ', close.len()));
            i += close.len();
        } else if bytes[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
                if i < bytes.len() {
                    blank(&mut out, bytes[i]);
                    i += 1;
                }
            }
            out.push(b' ');
            i += 1;
        } else if bytes[i] == b'\'' && is_char_literal(rest) {
            let len = char_literal_len(rest);
            out.extend(std::iter::repeat_n(b' ', len));
            i += len;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `r"`, `r#"`, `br"`, ...: the number of `#`s, if a raw string starts here.
pub fn raw_string_start(rest: &[u8]) -> Option<usize> {
    let after = match rest {
        [b'r', ..] => &rest[1..],
        [b'b', b'r', ..] => &rest[2..],
        _ => return None,
    };
    let hashes = after.iter().take_while(|&&b| b == b'#').count();
    (after.get(hashes) == Some(&b'"')).then_some(hashes)
}

/// `'x'`, `'\n'`, `'\u{..}'`, `'{'` — but not a lifetime `'a`.
pub fn is_char_literal(rest: &[u8]) -> bool {
    match rest {
        [b'\'', b'\\', ..] => true,
        [b'\'', _, b'\'', ..] => true,
        [b'\'', first, ..] if *first >= 0x80 => true,
        _ => false,
    }
}

pub fn char_literal_len(rest: &[u8]) -> usize {
    let mut j = 1;
    if rest.get(j) == Some(&b'\\') {
        j += 2;
    } else {
        j += 1;
    }
    while j < rest.len() && rest[j] != b'\'' {
        j += 1;
    }
    j + 1
}

/// `code` without its `#[cfg(test)]` modules: tests may reach anywhere.
pub fn without_test_modules(text: &str, code: &str) -> String {
    let raw: Vec<&str> = text.lines().collect();
    let mut kept = Vec::new();
    let mut skipping: Option<i64> = None;
    let mut cfg_test = false;
    for (number, line) in code.lines().enumerate() {
        if raw.get(number).is_some_and(|r| r.trim() == "#[cfg(test)]") {
            cfg_test = true;
        }
        let trimmed = line.trim();
        if skipping.is_none() && cfg_test && trimmed.starts_with("mod ") {
            cfg_test = false;
            if trimmed.ends_with(';') {
                continue;
            }
            skipping = Some(0);
        }
        match &mut skipping {
            Some(depth) => {
                *depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
                if *depth <= 0 && line.contains('}') {
                    skipping = None;
                }
            }
            None => kept.push(line),
        }
    }
    kept.join("\n")
}
