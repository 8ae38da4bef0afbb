//! PEP 807 discovery as a client sees it: the key it sends (R-807-DISC-1, R-807-DISC-2),
//! and the host and trustworthiness of the URLs it is answered with (R-807-URL-1,
//! R-807-URL-2). The suite's `discover` step, `mintcheck client` and the fuzzer share them.

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

/// The host of an absolute `http`/`https` URL, lower case, without port or user info.
pub fn host_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !["http", "https"].contains(&scheme.to_ascii_lowercase().as_str()) {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = match host_port.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next()?),
        None => host_port.split(':').next()?.to_owned(),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// A potentially trustworthy origin (R-807-URL-1): https, or a loopback host.
pub fn trustworthy(url: &str) -> bool {
    let https = url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    let loopback = host_of(url).is_some_and(|host| {
        host == "localhost"
            || host == "[::1]"
            || host
                .parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    https || loopback
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

    #[test]
    fn hosts_and_trust_are_read_from_urls() {
        assert_eq!(
            host_of("https://Upload.Example.com:8443/x").as_deref(),
            Some("upload.example.com")
        );
        assert_eq!(host_of("http://[::1]:80/").as_deref(), Some("[::1]"));
        assert_eq!(
            host_of("http://u:p@127.0.0.2/").as_deref(),
            Some("127.0.0.2")
        );
        assert_eq!(host_of("/relative"), None);
        assert_eq!(host_of("ftp://example.com/"), None);
        assert!(trustworthy("https://example.com/"));
        assert!(trustworthy("http://127.0.0.1:9/"));
        assert!(trustworthy("http://localhost/"));
        assert!(!trustworthy("http://example.com/"));
        assert!(!trustworthy("http://10.0.0.1/"));
    }
}
