//! The minted API token (R-TOK-1..3): `pypi-` + unpadded base64url of a libmacaroons V2
//! binary macaroon, signed with an HMAC-SHA256 chain as pymacaroons does.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::jwt::LENIENT_BASE64URL;

const PREFIX: &str = "pypi-";
const VERSION: u8 = 2;
const EOS: u64 = 0;
const LOCATION: u64 = 1;
const IDENTIFIER: u64 = 2;
const VID: u64 = 4;
const SIGNATURE: u64 = 6;

/// A macaroon with first-party caveats only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macaroon {
    pub location: String,
    pub identifier: String,
    pub caveats: Vec<String>,
    pub signature: [u8; 32],
}

impl Macaroon {
    /// Signs `identifier` and `caveats` with `key` (pymacaroons: the root signature is keyed
    /// by HMAC("macaroons-key-generator", key), each caveat chains one more HMAC).
    pub fn mint(key: &[u8], location: &str, identifier: &str, caveats: Vec<String>) -> Self {
        let signature = chain(key, identifier, &caveats);
        Self {
            location: location.to_owned(),
            identifier: identifier.to_owned(),
            caveats,
            signature,
        }
    }

    /// Is the signature the one `key` gives?
    pub fn is_signed_by(&self, key: &[u8]) -> bool {
        let expected = chain(key, &self.identifier, &self.caveats);
        aws_lc_rs::constant_time::verify_slices_are_equal(&expected, &self.signature).is_ok()
    }

    /// The API token: `pypi-` + base64url (no padding) of the V2 binary form.
    pub fn to_token(&self) -> String {
        let mut out = vec![VERSION];
        if !self.location.is_empty() {
            field(&mut out, LOCATION, self.location.as_bytes());
        }
        field(&mut out, IDENTIFIER, self.identifier.as_bytes());
        push_varint(&mut out, EOS);
        for caveat in &self.caveats {
            field(&mut out, IDENTIFIER, caveat.as_bytes());
            push_varint(&mut out, EOS);
        }
        push_varint(&mut out, EOS);
        field(&mut out, SIGNATURE, &self.signature);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Reads an API token; `None` if it is not one.
    pub fn from_token(token: &str) -> Option<Self> {
        let bytes = LENIENT_BASE64URL.decode(token.strip_prefix(PREFIX)?).ok()?;
        let mut reader = Reader(&bytes);
        if reader.byte()? != VERSION {
            return None;
        }
        let mut location = String::new();
        let mut section = reader.section()?;
        if section.first().map(|(kind, _)| *kind) == Some(LOCATION) {
            location = String::from_utf8(section.remove(0).1).ok()?;
        }
        let identifier = match section.as_slice() {
            [(IDENTIFIER, id)] => String::from_utf8(id.clone()).ok()?,
            _ => return None,
        };
        let mut caveats = Vec::new();
        loop {
            let section = reader.section()?;
            match section.as_slice() {
                [] => break,
                // First-party caveats only: an identifier, no location or verification id.
                [(IDENTIFIER, caveat)] => caveats.push(String::from_utf8(caveat.clone()).ok()?),
                _ => return None,
            }
        }
        let (SIGNATURE, signature) = reader.field()? else {
            return None;
        };
        let signature = signature.try_into().ok()?;
        reader.0.is_empty().then_some(Self {
            location,
            identifier,
            caveats,
            signature,
        })
    }
}

fn chain(key: &[u8], identifier: &str, caveats: &[String]) -> [u8; 32] {
    let generator = hmac::Key::new(hmac::HMAC_SHA256, b"macaroons-key-generator");
    let derived = hmac::sign(&generator, key);
    let mut signature = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        identifier.as_bytes(),
    );
    for caveat in caveats {
        let key = hmac::Key::new(hmac::HMAC_SHA256, signature.as_ref());
        signature = hmac::sign(&key, caveat.as_bytes());
    }
    signature
        .as_ref()
        .try_into()
        .expect("HMAC-SHA256 is 32 bytes")
}

fn field(out: &mut Vec<u8>, kind: u64, data: &[u8]) {
    push_varint(out, kind);
    push_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// One `type length data` field; `(EOS, [])` for the end-of-section marker.
    fn field(&mut self) -> Option<(u64, Vec<u8>)> {
        let kind = self.varint()?;
        if kind == EOS {
            return Some((EOS, Vec::new()));
        }
        let length = usize::try_from(self.varint()?).ok()?;
        if length > self.0.len() {
            return None;
        }
        let (data, rest) = self.0.split_at(length);
        self.0 = rest;
        Some((kind, data.to_vec()))
    }

    /// The fields up to the next end-of-section marker, in the order V2 requires.
    fn section(&mut self) -> Option<Vec<(u64, Vec<u8>)>> {
        let mut fields: Vec<(u64, Vec<u8>)> = Vec::new();
        loop {
            let (kind, data) = self.field()?;
            if kind == EOS {
                return Some(fields);
            }
            if fields.last().is_some_and(|(last, _)| *last >= kind)
                || !matches!(kind, LOCATION | IDENTIFIER | VID)
            {
                return None;
            }
            fields.push((kind, data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_tok_3_begins_with_location_field() {
        let m = Macaroon::mint(b"k", "pypi.org", "id", vec!["[0,2,1]".to_owned()]);
        let token = m.to_token();
        // The same macaroon serialized by pymacaroons 0.13 (MACAROON_V2).
        assert_eq!(
            token,
            "pypi-AgEIcHlwaS5vcmcCAmlkAAIHWzAsMiwxXQAABiAsVNVMUWefc1xa27jjCOJzB9rFfC3SPKAR8fu2AgSPgg"
        );
        let back = Macaroon::from_token(&token).unwrap();
        assert_eq!(back, m);
        assert!(back.is_signed_by(b"k"));
        assert!(!back.is_signed_by(b"other"));
    }

    /// pymacaroons' test vector: `Macaroon(location='http://mybank/',
    /// identifier='we used our secret key', key='this is our super secret key; only we should
    /// know it')` with caveat `test = caveat` has signature
    /// `197bac7a044af33332865b9266e26d493bdd668a660e44d88ce1a998c23dbd67`.
    #[test]
    fn hmac_chain_matches_pymacaroons() {
        let m = Macaroon::mint(
            b"this is our super secret key; only we should know it",
            "http://mybank/",
            "we used our secret key",
            vec!["test = caveat".to_owned()],
        );
        let hex: String = m.signature.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "197bac7a044af33332865b9266e26d493bdd668a660e44d88ce1a998c23dbd67"
        );
    }
}
