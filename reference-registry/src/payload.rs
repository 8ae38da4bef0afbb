//! Step 1: the request body (R-PAYLOAD-*), with pydantic's error text (R-PAYLOAD-6) because
//! PyPI validates the body with a pydantic model `TokenPayload { token: StrictStr }`.

use serde_json::Value;

use crate::error::{ErrorCode, MintError};
use crate::repr::{python_type, repr_bytes, repr_json, truncate_repr};

const PYDANTIC_VERSION: &str = "2.13";

/// A body step 1 accepts: its `token`, and the `features` member PEP 807 adds (read by
/// `pep807`, which PyPI ignores like any other extra member).
pub struct Payload {
    pub token: String,
    pub features: Option<Value>,
}

/// Returns the `token` member of a JSON object body.
pub fn parse(body: &[u8]) -> Result<String, MintError> {
    read(body).map(|payload| payload.token)
}

/// The body's `token` and `features`, parsed once.
pub fn read(body: &[u8]) -> Result<Payload, MintError> {
    // serde_json's messages share their wording with pydantic's parser (jiter), e.g.
    // "EOF while parsing a value at line 1 column 0"; it also rejects bad UTF-8 and trailing
    // bytes, and keeps the last of duplicated members (R-PAYLOAD-2).
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let message = format!("Invalid JSON: {e}");
        let input = truncate_repr(repr_bytes(body));
        validation_error(None, &message, "json_invalid", &input, "bytes")
    })?;
    let Value::Object(members) = &value else {
        return Err(invalid(
            None,
            "Input should be an object",
            "model_type",
            &value,
        ));
    };
    match members.get("token") {
        Some(Value::String(token)) => Ok(Payload {
            token: token.clone(),
            features: members.get("features").cloned(),
        }),
        Some(other) => Err(invalid(
            Some("token"),
            "Input should be a valid string",
            "string_type",
            other,
        )),
        None => Err(invalid(Some("token"), "Field required", "missing", &value)),
    }
}

fn invalid(location: Option<&str>, message: &str, kind: &str, input: &Value) -> MintError {
    let input_value = truncate_repr(repr_json(input));
    validation_error(location, message, kind, &input_value, python_type(input))
}

/// pydantic's `ValidationError` text for one error, lines joined by `\n`.
fn validation_error(
    location: Option<&str>,
    message: &str,
    kind: &str,
    input_value: &str,
    input_type: &str,
) -> MintError {
    let mut lines = vec!["1 validation error for TokenPayload".to_owned()];
    lines.extend(location.map(str::to_owned));
    lines.push(format!(
        "  {message} [type={kind}, input_value={input_value}, input_type={input_type}]"
    ));
    lines.push(format!(
        "    For further information visit https://errors.pydantic.dev/{PYDANTIC_VERSION}/v/{kind}"
    ));
    MintError::new(ErrorCode::InvalidPayload, lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description(body: &[u8]) -> String {
        parse(body).unwrap_err().description
    }

    #[test]
    fn r_payload_6_baseline_strings() {
        assert_eq!(
            description(b""),
            "1 validation error for TokenPayload\n  Invalid JSON: EOF while parsing a value at line 1 column 0 [type=json_invalid, input_value=b'', input_type=bytes]\n    For further information visit https://errors.pydantic.dev/2.13/v/json_invalid"
        );
        assert_eq!(
            description(br#"{"token":null}"#),
            "1 validation error for TokenPayload\ntoken\n  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]\n    For further information visit https://errors.pydantic.dev/2.13/v/string_type"
        );
    }

    #[test]
    fn r_payload_2_last_duplicate_wins_and_extras_ignored() {
        assert_eq!(parse(br#"{"token":1,"x":2,"token":"t"}"#).unwrap(), "t");
    }
}
