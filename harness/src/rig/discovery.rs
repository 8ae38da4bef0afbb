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

/// An absolute `http`/`https` URL as clients parse it (the WHATWG rules, so `\` and `@`
/// tricks resolve to the host a client would really contact); `None` for anything else,
/// and for a URL with user info, which no discovery answer has a reason to carry.
fn parsed(url: &str) -> Option<reqwest::Url> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let plain = parsed.username().is_empty() && parsed.password().is_none();
    (["http", "https"].contains(&parsed.scheme()) && plain && parsed.host().is_some())
        .then_some(parsed)
}

/// The host of an absolute `http`/`https` URL, lower case, without port: `127.0.0.1`,
/// `[::1]`, `upload.example.com`.
pub fn host_of(url: &str) -> Option<String> {
    let host = parsed(url)?.host()?.to_string();
    Some(host.to_ascii_lowercase())
}

/// A potentially trustworthy origin (R-807-URL-1): https, or a loopback host.
pub fn trustworthy(url: &str) -> bool {
    let Some(parsed) = parsed(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or_default();
    let ip = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>();
    let loopback = host.eq_ignore_ascii_case("localhost") || ip.is_ok_and(|ip| ip.is_loopback());
    parsed.scheme() == "https" || loopback
}

/// Whether an endpoint a discovery answer names may get an identity token, given the
/// upload URL's origin `given` (R-807-URL-1): a trustworthy origin, or the given origin's
/// own scheme, which the user trusted a priori by pointing the harness at it (an index on
/// an internal network over plain http). A downgrade from https to http never is.
pub fn may_receive_token(endpoint: &str, given: &str) -> bool {
    let scheme = |url: &str| parsed(url).map(|u| u.scheme().to_owned());
    trustworthy(endpoint) || (scheme(endpoint).is_some() && scheme(endpoint) == scheme(given))
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
            host_of("http://u:p@127.0.0.2/"),
            None,
            "user info is refused"
        );
        assert_eq!(host_of("/relative"), None);
        // As clients parse it: the backslash ends the authority, so the host is evil.example.
        assert_eq!(
            host_of(r"http://evil.example\@127.0.0.1/mint").as_deref(),
            Some("evil.example")
        );
        assert!(may_receive_token(
            "http://registry:8000/x",
            "http://registry:8000/"
        ));
        assert!(!may_receive_token("http://registry/x", "https://registry/"));
        assert!(may_receive_token(
            "https://registry/x",
            "http://registry:8000/"
        ));
        assert_eq!(host_of("ftp://example.com/"), None);
        assert!(trustworthy("https://example.com/"));
        assert!(trustworthy("http://127.0.0.1:9/"));
        assert!(trustworthy("http://localhost/"));
        assert!(!trustworthy("http://example.com/"));
        assert!(!trustworthy("http://10.0.0.1/"));
    }
}
