//! The regular expressions scenario files give (`regex` text matchers, `$matches:` in
//! expected JSON), compiled once per process: the loader checks every one and a run matches
//! them at every step, and compiling a pattern costs far more than matching it.

use std::sync::LazyLock;

use regex::Regex;

use crate::kept::Kept;

/// `pattern` compiled, from the process's cache after the first time.
pub fn compiled(pattern: &str) -> Result<Regex, regex::Error> {
    // The suite holds a few dozen patterns; a program that loads many suites starts afresh.
    static COMPILED: LazyLock<Kept<String, Regex>> = LazyLock::new(|| Kept::new(1024));
    COMPILED.get_or_make(pattern, || Regex::new(pattern))
}

/// Whether `text` matches `pattern`; an invalid pattern (which the loader refuses) matches
/// nothing.
pub fn matches(pattern: &str, text: &str) -> bool {
    compiled(pattern).is_ok_and(|regex| regex.is_match(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_regexes_do_and_invalid_ones_match_nothing() {
        assert!(matches("^abc$", "abc"));
        assert!(!matches("^abc$", "abcd"));
        assert!(matches("^abc$", "abc"), "again, from the cache");
        assert!(compiled("(").is_err());
        assert!(!matches("(", "("));
    }
}
