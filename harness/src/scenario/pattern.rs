//! The regular expressions scenario files give (`regex` text matchers, `$matches:` in
//! expected JSON), compiled once per process: the loader checks every one and a run matches
//! them at every step, and compiling a pattern costs far more than matching it.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex::Regex;

/// `pattern` compiled, from the process's cache after the first time.
pub fn compiled(pattern: &str) -> Result<Regex, regex::Error> {
    // The suite holds a few dozen patterns; a program that loads many suites starts afresh
    // past this many.
    const KEPT: usize = 1024;
    static COMPILED: LazyLock<Mutex<HashMap<String, Regex>>> = LazyLock::new(Mutex::default);
    let cached = COMPILED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(pattern)
        .cloned();
    if let Some(regex) = cached {
        return Ok(regex);
    }
    let regex = Regex::new(pattern)?;
    let mut compiled = COMPILED.lock().unwrap_or_else(|p| p.into_inner());
    if compiled.len() >= KEPT {
        compiled.clear();
    }
    compiled.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
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
