//! The token's structure (step 2): any text parses or is `malformed JWT`; a token with fewer
//! than two dots never parses (R-JWT-2).
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference_registry::fuzzing;

fuzz_target!(|token: &str| {
    let parsed = fuzzing::jwt(token);
    if token.matches('.').count() < 2 {
        assert!(!parsed, "{token:?} has fewer than two dots");
    }
});
