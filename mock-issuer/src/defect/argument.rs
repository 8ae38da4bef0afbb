//! Defect arguments: how each kind is written after the defect's name (`missing-claim:jti`,
//! `hs256-public-key:der`), its default when left out, and the examples `every_defect`
//! covers. The kinds of key form and malformation are here too.

use super::DefectParseError;
use crate::keys::RsaAlgorithm;
use crate::profile::Provider;

/// How one kind of argument is read and written.
pub trait Argument<T> {
    /// How `--help` writes the argument after the name: `:CLAIM`, or `[:FORM]` where it is
    /// optional.
    const SYNTAX: &'static str;
    fn parse(name: &str, argument: Option<&str>) -> Result<T, DefectParseError>;
    /// The argument as written, or `None` for the default (written without one).
    fn show(value: &T) -> Option<String>;
    /// The values `every_defect` gives the defect.
    fn examples() -> Vec<T>;
    /// A regular expression of what may follow the defect's name (the colon included), for
    /// the scenario file's JSON Schema.
    fn pattern() -> String;
}

/// `:(?:a|b)`, or `(?::(?:a|b))?` where the choice may be left out.
fn choice_pattern(names: impl IntoIterator<Item = &'static str>, optional: bool) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let choice = format!(":(?:{})", names.join("|"));
    if optional {
        format!("(?:{choice})?")
    } else {
        choice
    }
}

/// A defect that takes no argument was given none.
pub(super) fn none(name: &str, argument: Option<&str>) -> Result<(), DefectParseError> {
    match argument {
        None => Ok(()),
        Some(argument) => Err(DefectParseError::UnexpectedArgument {
            name: name.to_owned(),
            argument: argument.to_owned(),
        }),
    }
}

fn required(
    name: &str,
    argument: Option<&str>,
    what: &'static str,
) -> Result<String, DefectParseError> {
    match argument {
        Some(argument) if !argument.is_empty() => Ok(argument.to_owned()),
        _ => Err(DefectParseError::MissingArgument {
            name: name.to_owned(),
            what,
        }),
    }
}

/// The option `argument` names among `options`.
fn choose<T: Copy>(
    name: &str,
    argument: Option<&str>,
    options: &[T],
    option_name: impl Fn(T) -> &'static str,
) -> Result<T, DefectParseError> {
    let argument = argument.unwrap_or_default();
    options
        .iter()
        .copied()
        .find(|&option| option_name(option) == argument)
        .ok_or_else(|| DefectParseError::BadChoice {
            name: name.to_owned(),
            argument: argument.to_owned(),
            choices: options
                .iter()
                .map(|&option| option_name(option))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// A claim name, required: `missing-claim:jti`.
pub struct ClaimName;

impl Argument<String> for ClaimName {
    const SYNTAX: &'static str = ":CLAIM";

    fn parse(name: &str, argument: Option<&str>) -> Result<String, DefectParseError> {
        required(name, argument, "CLAIM")
    }

    fn show(value: &String) -> Option<String> {
        Some(value.clone())
    }

    fn examples() -> Vec<String> {
        // A string, a digit string (retyped to a number) and the repository itself.
        ["jti", "repository_owner_id", "repository"]
            .map(str::to_owned)
            .to_vec()
    }

    fn pattern() -> String {
        ":.+".to_owned()
    }
}

/// A spelling of `none`, default `none`: `alg-none:NONE`.
pub struct NoneSpelling;

impl Argument<String> for NoneSpelling {
    const SYNTAX: &'static str = "[:SPELLING]";

    fn parse(_: &str, argument: Option<&str>) -> Result<String, DefectParseError> {
        Ok(argument.unwrap_or("none").to_owned())
    }

    fn show(value: &String) -> Option<String> {
        (value != "none").then(|| value.clone())
    }

    fn examples() -> Vec<String> {
        vec!["none".to_owned()]
    }

    fn pattern() -> String {
        "(?::.*)?".to_owned()
    }
}

/// The claim a payload repeats, default `aud`: `duplicate-claim:repository`.
pub struct RepeatedClaim;

impl Argument<String> for RepeatedClaim {
    const SYNTAX: &'static str = "[:CLAIM]";

    fn parse(_: &str, argument: Option<&str>) -> Result<String, DefectParseError> {
        Ok(argument.unwrap_or("aud").to_owned())
    }

    fn show(value: &String) -> Option<String> {
        (value != "aud").then(|| value.clone())
    }

    fn examples() -> Vec<String> {
        vec!["aud".to_owned()]
    }

    fn pattern() -> String {
        "(?::.*)?".to_owned()
    }
}

/// Another provider, default: chosen by the token's own provider.
pub struct OtherProvider;

impl Argument<Option<Provider>> for OtherProvider {
    const SYNTAX: &'static str = "[:PROVIDER]";

    fn parse(name: &str, argument: Option<&str>) -> Result<Option<Provider>, DefectParseError> {
        argument
            .map(|_| choose(name, argument, &Provider::ALL, Provider::name))
            .transpose()
    }

    fn show(value: &Option<Provider>) -> Option<String> {
        value.map(|provider| provider.name().to_owned())
    }

    fn examples() -> Vec<Option<Provider>> {
        vec![None]
    }

    fn pattern() -> String {
        choice_pattern(Provider::ALL.map(Provider::name), true)
    }
}

/// An RSA algorithm other than RS256, default PS256.
pub struct OtherRsaAlgorithm;

impl Argument<RsaAlgorithm> for OtherRsaAlgorithm {
    const SYNTAX: &'static str = "[:ALG]";

    fn parse(name: &str, argument: Option<&str>) -> Result<RsaAlgorithm, DefectParseError> {
        match argument {
            None => Ok(RsaAlgorithm::Ps256),
            Some(_) => choose(name, argument, &RsaAlgorithm::ALL[1..], RsaAlgorithm::name),
        }
    }

    fn show(value: &RsaAlgorithm) -> Option<String> {
        (*value != RsaAlgorithm::Ps256).then(|| value.name().to_owned())
    }

    fn examples() -> Vec<RsaAlgorithm> {
        vec![RsaAlgorithm::Ps256]
    }

    fn pattern() -> String {
        choice_pattern(RsaAlgorithm::ALL[1..].iter().map(|a| a.name()), true)
    }
}

/// How the HS256 attack turns the published RSA public key into an HMAC secret.
///
/// The attack (algorithm confusion) works on a verifier that lets the token's `alg` pick
/// the algorithm and hands the key it holds for the issuer to it unchanged: with `HS256`
/// the key's bytes become the HMAC secret. The token verifies only if it was keyed with
/// exactly those bytes, so each form is a way real verifiers hold a public key:
/// node-jsonwebtoken before 4.2.2 (CVE-2015-9235), PyJWT before 1.5.1 (CVE-2017-11424),
/// jwt-simple (CVE-2016-10555) and php-jwt before 6 were given the PEM text read from a
/// file or a setting; Java verifiers hand `PublicKey.getEncoded()` (SPKI DER) to an HMAC;
/// Go and .NET code holds PKCS#1 (`x509.MarshalPKCS1PublicKey`,
/// `RSA.ExportRSAPublicKey`); JWKS-based verifiers hold the JWK, serialized again for the
/// HMAC (`JSON.stringify`, Python's `json.dumps`), or its decoded modulus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PublicKeyForm {
    /// SubjectPublicKeyInfo PEM as a `.pem` file holds it: `\n` line ends, 64-character
    /// lines and the final newline (`openssl rsa -pubout`; `fs.readFileSync`,
    /// `open(...).read()`).
    Pem,
    /// The same PEM without the final newline (a setting or environment variable that was
    /// trimmed).
    PemNoNewline,
    /// The same PEM with `\r\n` line ends (a file saved on Windows).
    PemCrlf,
    /// PKCS#1 PEM, `BEGIN RSA PUBLIC KEY` (`openssl rsa -RSAPublicKey_out`, Ruby's
    /// `OpenSSL::PKey::RSA#public_key.to_pem` of old).
    Pkcs1Pem,
    /// SubjectPublicKeyInfo DER (Java's `PublicKey.getEncoded()`).
    Der,
    /// PKCS#1 `RSAPublicKey` DER (Go's `x509.MarshalPKCS1PublicKey`, .NET's
    /// `ExportRSAPublicKey`).
    Pkcs1Der,
    /// The published JWK as the JWKS serves it: compact JSON, members in the served order
    /// (`JSON.stringify` of the parsed key).
    Jwk,
    /// The published JWK as Python's `json.dumps` writes it back: `", "` and `": "`
    /// separators.
    JwkSpaced,
    /// The modulus bytes, big-endian (a verifier keyed with the JWK's decoded `n`).
    Modulus,
}

impl PublicKeyForm {
    pub const ALL: [PublicKeyForm; 9] = [
        PublicKeyForm::Pem,
        PublicKeyForm::PemNoNewline,
        PublicKeyForm::PemCrlf,
        PublicKeyForm::Pkcs1Pem,
        PublicKeyForm::Der,
        PublicKeyForm::Pkcs1Der,
        PublicKeyForm::Jwk,
        PublicKeyForm::JwkSpaced,
        PublicKeyForm::Modulus,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PublicKeyForm::Pem => "pem",
            PublicKeyForm::PemNoNewline => "pem-no-newline",
            PublicKeyForm::PemCrlf => "pem-crlf",
            PublicKeyForm::Pkcs1Pem => "pkcs1-pem",
            PublicKeyForm::Der => "der",
            PublicKeyForm::Pkcs1Der => "pkcs1-der",
            PublicKeyForm::Jwk => "jwk",
            PublicKeyForm::JwkSpaced => "jwk-spaced",
            PublicKeyForm::Modulus => "modulus",
        }
    }
}

/// A key form, default `pem`; every form is an example.
impl Argument<PublicKeyForm> for PublicKeyForm {
    const SYNTAX: &'static str = "[:FORM]";

    fn parse(name: &str, argument: Option<&str>) -> Result<PublicKeyForm, DefectParseError> {
        match argument {
            None => Ok(PublicKeyForm::Pem),
            Some(_) => choose(name, argument, &PublicKeyForm::ALL, PublicKeyForm::name),
        }
    }

    fn show(value: &PublicKeyForm) -> Option<String> {
        (*value != PublicKeyForm::Pem).then(|| value.name().to_owned())
    }

    fn examples() -> Vec<PublicKeyForm> {
        PublicKeyForm::ALL.to_vec()
    }

    fn pattern() -> String {
        choice_pattern(PublicKeyForm::ALL.map(PublicKeyForm::name), true)
    }
}

/// How a token is broken so that it is no longer a well-formed compact JWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Malformation {
    TwoSegments,
    BadBase64,
    HeaderNotJson,
    PayloadNotObject,
    /// A valid token with a space before it and a newline after it (R-PAYLOAD-4: not trimmed).
    WhitespaceAround,
}

impl Malformation {
    pub const ALL: [Malformation; 5] = [
        Malformation::TwoSegments,
        Malformation::BadBase64,
        Malformation::HeaderNotJson,
        Malformation::PayloadNotObject,
        Malformation::WhitespaceAround,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Malformation::TwoSegments => "two-segments",
            Malformation::BadBase64 => "bad-base64",
            Malformation::HeaderNotJson => "header-not-json",
            Malformation::PayloadNotObject => "payload-not-object",
            Malformation::WhitespaceAround => "whitespace-around",
        }
    }
}

/// A malformation, required; every kind is an example.
impl Argument<Malformation> for Malformation {
    const SYNTAX: &'static str = ":KIND";

    fn parse(name: &str, argument: Option<&str>) -> Result<Malformation, DefectParseError> {
        required(name, argument, "KIND")?;
        choose(name, argument, &Malformation::ALL, Malformation::name)
    }

    fn show(value: &Malformation) -> Option<String> {
        Some(value.name().to_owned())
    }

    fn examples() -> Vec<Malformation> {
        Malformation::ALL.to_vec()
    }

    fn pattern() -> String {
        choice_pattern(Malformation::ALL.map(Malformation::name), false)
    }
}
