//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`, off by default):
//! the parsers that read what a client sends, called as the registry calls them. Whatever
//! the input, they return; a panic is a bug the fuzzer reports.

/// Step 1 (spec §3.2): the mint request body. `Ok` holds the `token` member.
pub fn mint_body(body: &[u8]) -> Result<String, crate::MintError> {
    crate::payload::parse(body)
}

/// Step 2 (spec §5.1): the token's segments and header; `true` if it parses.
pub fn jwt(token: &str) -> bool {
    crate::jwt::parse(token).is_ok()
}
