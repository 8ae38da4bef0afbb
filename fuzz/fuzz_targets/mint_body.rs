//! The mint request body (step 1): any bytes parse to the token or to the pydantic error,
//! and an accepted body really holds a string `token` member.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reference_registry::fuzzing;

fuzz_target!(|body: &[u8]| {
    if let Ok(token) = fuzzing::mint_body(body) {
        let value: serde_json::Value =
            serde_json::from_slice(body).expect("an accepted body is JSON");
        assert_eq!(value["token"].as_str(), Some(token.as_str()));
    }
});
