//! Step 2: the structural parse of the compact JWS, before anything is trusted (R-JWT-1..3).

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::error::{ErrorCode, MintError};

/// base64url that, like Python's decoder PyPI uses, takes padding or none and ignores
/// non-zero trailing bits (R-JWT-2; §17 item 3 leaves the rest open).
pub(crate) const LENIENT_BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A token whose segments decode and whose header and payload are JSON objects. Nothing in it
/// is verified yet.
#[derive(Debug)]
pub struct UnverifiedJwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `header.payload`, exactly as received: what the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

impl UnverifiedJwt {
    /// The unverified `iss` (present, possibly `null`; R-JWT-3).
    pub fn issuer(&self) -> &Value {
        &self.claims["iss"]
    }
}

pub fn parse(token: &str) -> Result<UnverifiedJwt, MintError> {
    parse_parts(token).ok_or_else(|| MintError::new(ErrorCode::InvalidPayload, "malformed JWT"))
}

fn parse_parts(token: &str) -> Option<UnverifiedJwt> {
    // Like PyJWT: the signature follows the last `.`, the header precedes the first.
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    let header = json_object(header)?;
    let claims = json_object(payload)?;
    let signature = LENIENT_BASE64URL.decode(signature).ok()?;
    let header_ok = header_is_well_formed(&header);
    (header_ok && claims.contains_key("iss")).then(|| UnverifiedJwt {
        header,
        claims,
        signing_input: signing_input.to_owned(),
        signature,
    })
}

fn json_object(segment: &str) -> Option<Map<String, Value>> {
    let bytes = LENIENT_BASE64URL.decode(segment).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// R-JWT-2's header rules: a present `kid` is a string; a present `crit` is a non-empty array
/// of strings, each `b64` and present in the header; `b64` is not `false`.
fn header_is_well_formed(header: &Map<String, Value>) -> bool {
    let present = |name: &str| header.get(name).is_some_and(|v| !v.is_null());
    let kid_ok = !present("kid") || header["kid"].is_string();
    let crit_ok = match header.get("crit") {
        None | Some(Value::Null) => true,
        Some(Value::Array(items)) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_str() == Some("b64") && present("b64"))
        }
        Some(_) => false,
    };
    kid_ok && crit_ok && header.get("b64") != Some(&Value::Bool(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(header: Value, claims: Value) -> String {
        let enc = |v: &Value| LENIENT_BASE64URL.encode(serde_json::to_vec(v).unwrap());
        format!("{}.{}.c2ln", enc(&header), enc(&claims))
    }

    #[test]
    fn r_jwt_2_structural_failures() {
        let iss = json!({"iss": "x"});
        let bad = [
            String::new(),
            "a.b".to_owned(),
            token(json!([]), iss.clone()),
            token(json!({}), json!({"sub": "x"})),
            token(json!({"kid": 1}), iss.clone()),
            token(json!({"crit": []}), iss.clone()),
            token(json!({"crit": ["b64"]}), iss.clone()),
            token(json!({"crit": ["exp"], "exp": 1}), iss.clone()),
            token(json!({"b64": false}), iss.clone()),
        ];
        for t in bad {
            assert_eq!(parse(&t).unwrap_err().description, "malformed JWT", "{t}");
        }
    }

    #[test]
    fn r_jwt_3_no_semantic_checks() {
        let ok = [
            token(json!({"alg": "none"}), json!({"iss": null})),
            token(
                json!({"crit": ["b64"], "b64": true, "kid": "k"}),
                json!({"iss": 3}),
            ),
        ];
        for t in ok {
            assert!(parse(&t).is_ok(), "{t}");
        }
    }
}
