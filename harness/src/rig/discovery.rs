//! PEP 807 discovery as a client computes it (R-807-DISC-1, R-807-DISC-2): what the suite's
//! `discover` step sends, and what `mintcheck client` expects a client to send.

/// An upload URL's path as PEP 807's discovery key (R-807-DISC-1): Python's
/// `urllib.parse.quote_plus(path)`, which keeps only `A-Z a-z 0-9 _ . - ~`, writes a space
/// as `+` and every other byte as `%XX`.
pub fn key(path: &str) -> String {
    path.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                char::from(byte).to_string()
            }
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_quote_plus_of_the_path() {
        assert_eq!(key("/legacy/"), "%2Flegacy%2F");
        assert_eq!(key("/"), "%2F");
        assert_eq!(key(""), "");
        assert_eq!(key("/a b/"), "%2Fa+b%2F");
        assert_eq!(key("/é~x_1.2-3"), "%2F%C3%A9~x_1.2-3");
    }
}
