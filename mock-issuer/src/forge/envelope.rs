//! Ways a token stops being a well-formed compact JWS, applied to the signing input and the
//! signature once both exist.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::defect::Malformation;

/// Turns the signing input and the signature into the token's compact text.
pub type Compact = Box<dyn Fn(&str, Vec<u8>) -> String>;

/// One bit of the signature flipped.
pub fn corrupted(signing_input: &str, mut signature: Vec<u8>) -> String {
    let middle = signature.len() / 2;
    if let Some(byte) = signature.get_mut(middle) {
        *byte ^= 0x01;
    }
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// No signature, the trailing `.` kept.
pub fn stripped(signing_input: &str, _: Vec<u8>) -> String {
    format!("{signing_input}.")
}

/// The signature cut to its first half.
pub fn truncated(signing_input: &str, mut signature: Vec<u8>) -> String {
    signature.truncate(signature.len() / 2);
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

pub fn malformed(kind: Malformation, signing_input: &str, signature: Vec<u8>) -> String {
    let (header, payload) = signing_input.split_once('.').unwrap_or((signing_input, ""));
    let signature = URL_SAFE_NO_PAD.encode(signature);
    match kind {
        Malformation::TwoSegments => signing_input.to_owned(),
        Malformation::BadBase64 => {
            // A base64 text of length 4k+1 cannot be decoded by any decoder, lenient or not.
            let mut payload = payload.to_owned();
            while payload.len() % 4 != 1 {
                payload.push('A');
            }
            format!("{header}.{payload}.{signature}")
        }
        Malformation::HeaderNotJson => {
            format!(
                "{}.{payload}.{signature}",
                URL_SAFE_NO_PAD.encode("not json")
            )
        }
        Malformation::PayloadNotObject => format!(
            "{header}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(r#"["not","an","object"]"#)
        ),
        Malformation::WhitespaceAround => format!(" {signing_input}.{signature}\n"),
    }
}
