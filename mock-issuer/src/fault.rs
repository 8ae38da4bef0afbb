//! Faults the issuer's discovery and JWKS endpoints can be told to show.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What a registry sees when it fetches keys while the fault is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwksFault {
    /// The JWKS answers 500.
    Outage,
    /// The JWKS answers normally after this delay.
    Slow(Duration),
    /// The JWKS body is not JSON.
    Malformed,
    /// `{"keys": []}`.
    EmptyKeys,
    /// The published keys without their `kid`.
    MissingKid,
    /// The rogue key listed first under the signing key's `kid`, then the real key.
    DuplicateKid,
    /// The discovery document has no `jwks_uri`.
    DiscoveryWithoutJwksUri,
    /// The JWKS URL answers `302 Found`, pointing at the same keys under another URL.
    Redirect,
}

/// Past the 5 s fetch timeout of spec R-JWKS-3.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(6);

pub const FAULT_CATALOGUE: &[(&str, &str)] = &[
    ("jwks-outage", "the JWKS answers 500"),
    (
        "jwks-slow[:MILLISECONDS]",
        "the JWKS answers after a delay (default 6000, past a 5 s timeout)",
    ),
    ("jwks-malformed", "the JWKS body is not JSON"),
    ("jwks-empty", "the JWKS has no keys"),
    ("jwks-missing-kid", "the JWKS entries have no kid"),
    (
        "jwks-duplicate-kid",
        "a rogue key listed first under the signing key's kid",
    ),
    (
        "discovery-without-jwks-uri",
        "the discovery document lacks jwks_uri",
    ),
    (
        "jwks-redirect",
        "the JWKS URL answers 302, pointing at the same keys elsewhere",
    ),
];

#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "unknown JWKS fault {0:?}; known: jwks-outage, jwks-slow[:MS], jwks-malformed, jwks-empty, jwks-missing-kid, jwks-duplicate-kid, discovery-without-jwks-uri, jwks-redirect"
)]
pub struct UnknownFault(pub String);

impl FromStr for JwksFault {
    type Err = UnknownFault;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownFault(text.to_owned());
        Ok(match text.split_once(':') {
            Some(("jwks-slow", millis)) => JwksFault::Slow(Duration::from_millis(
                millis.parse().map_err(|_| unknown())?,
            )),
            Some(_) => return Err(unknown()),
            None => match text {
                "jwks-outage" => JwksFault::Outage,
                "jwks-slow" => JwksFault::Slow(DEFAULT_SLOW),
                "jwks-malformed" => JwksFault::Malformed,
                "jwks-empty" => JwksFault::EmptyKeys,
                "jwks-missing-kid" => JwksFault::MissingKid,
                "jwks-duplicate-kid" => JwksFault::DuplicateKid,
                "discovery-without-jwks-uri" => JwksFault::DiscoveryWithoutJwksUri,
                "jwks-redirect" => JwksFault::Redirect,
                _ => return Err(unknown()),
            },
        })
    }
}

impl fmt::Display for JwksFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwksFault::Outage => f.write_str("jwks-outage"),
            JwksFault::Slow(delay) => write!(f, "jwks-slow:{}", delay.as_millis()),
            JwksFault::Malformed => f.write_str("jwks-malformed"),
            JwksFault::EmptyKeys => f.write_str("jwks-empty"),
            JwksFault::MissingKid => f.write_str("jwks-missing-kid"),
            JwksFault::DuplicateKid => f.write_str("jwks-duplicate-kid"),
            JwksFault::DiscoveryWithoutJwksUri => f.write_str("discovery-without-jwks-uri"),
            JwksFault::Redirect => f.write_str("jwks-redirect"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_round_trips() {
        for (syntax, _) in FAULT_CATALOGUE {
            let name = syntax.split('[').next().unwrap();
            let fault: JwksFault = name.parse().unwrap();
            assert_eq!(fault.to_string().parse::<JwksFault>(), Ok(fault));
        }
        assert_eq!(
            "jwks-slow:250".parse(),
            Ok(JwksFault::Slow(Duration::from_millis(250)))
        );
        assert!("jwks-slow:soon".parse::<JwksFault>().is_err());
        assert!("outage".parse::<JwksFault>().is_err());
    }
}
