//! Publisher matching (spec §7): issuer guard, required claims, lookup, verification. Step 6
//! runs it on the pending publishers, step 7 on the active ones.

mod activestate;
mod github;
mod gitlab;
mod google;
pub mod table;

use serde_json::{Map, Value};

use crate::fixture::{Identity, Provider};
use crate::repr::repr;
use table::FieldCheck;

/// The comparisons publisher matching makes between `identity` and a token with `claims`
/// and issuer `issuer`, one row each (R-PUB-3, R-PUB-4). Every row passes exactly when the
/// lookup and verification pass (given the issuer guard and required claims do).
pub fn fields(identity: &Identity, claims: &Map<String, Value>, issuer: &str) -> Vec<FieldCheck> {
    match identity {
        Identity::Github(p) => github::fields(p, claims),
        Identity::Gitlab(p) => gitlab::fields(p, claims, issuer),
        Identity::Google(p) => google::fields(p, claims),
        Identity::ActiveState(p) => activestate::fields(p, claims),
    }
}

/// What matching sees of a verified token.
pub struct Token<'a> {
    pub claims: &'a Map<String, Value>,
    /// The token's `iss`, a trusted issuer string.
    pub issuer: &'a str,
    pub provider: Provider,
    /// The provider's canonical issuer (R-PUB-1).
    pub canonical_issuer: &'a str,
    /// Whether the token's `jti` is in the replay store (R-JTI-2).
    pub jti_recorded: bool,
    #[cfg(feature = "sabotage")]
    pub sabotage: crate::sabotage::Sabotage,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The `<reason>` of R-PUB-5.
    NoMatch(String),
    /// GitHub/GitLab verification found the `jti` recorded (R-JTI-2).
    Replayed,
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::NoMatch(reason)
    }
}

/// `Publisher with matching claims was not found` (R-PUB-3).
pub(crate) const NOT_FOUND: &str = "Publisher with matching claims was not found";

/// The index in `identities` of the publisher that `token` matches.
pub fn find(token: &Token<'_>, identities: &[&Identity]) -> Result<usize, Failure> {
    // R-PUB-1: only GitLab has custom issuers that can mint (R-ISS-4).
    if token.provider != Provider::Gitlab && token.issuer != token.canonical_issuer {
        return Err(Failure::NoMatch(format!(
            "JWT issuer {} does not match expected issuer {}",
            repr(token.issuer),
            repr(token.canonical_issuer)
        )));
    }
    // R-PUB-2, in the listed order (spec §17 item 2).
    let required = token.provider.required_claims();
    if let Some(missing) = required.iter().find(|name| absent(token.claims, name)) {
        return Err(Failure::NoMatch(format!("Missing claim {}", repr(missing))));
    }
    // R-PUB-3, then R-PUB-4.
    match token.provider {
        Provider::Github => run(token, identities, as_github, github::lookup, |p| {
            github::verify(p, token)
        }),
        Provider::Gitlab => run(token, identities, as_gitlab, gitlab::lookup, |p| {
            gitlab::verify(p, token)
        }),
        Provider::Google => run(token, identities, as_google, google::lookup, |p| {
            google::verify(p, token)
        }),
        Provider::ActiveState => run(
            token,
            identities,
            as_activestate,
            activestate::lookup,
            |p| activestate::verify(p, token),
        ),
    }
}

type Lookup<T> = for<'p> fn(&Token<'_>, &[(usize, &'p T)]) -> Result<(usize, &'p T), String>;

fn run<'i, T>(
    token: &Token<'_>,
    identities: &[&'i Identity],
    pick: fn(&'i Identity) -> Option<&'i T>,
    lookup: Lookup<T>,
    verify: impl FnOnce(&T) -> Result<(), Failure>,
) -> Result<usize, Failure> {
    let candidates: Vec<(usize, &T)> = identities
        .iter()
        .enumerate()
        .filter_map(|(i, identity)| Some((i, pick(identity)?)))
        .collect();
    let (index, publisher) = lookup(token, &candidates)?;
    verify(publisher)?;
    Ok(index)
}

fn as_github(identity: &Identity) -> Option<&crate::fixture::GithubIdentity> {
    if let Identity::Github(p) = identity {
        Some(p)
    } else {
        None
    }
}
fn as_gitlab(identity: &Identity) -> Option<&crate::fixture::GitlabIdentity> {
    if let Identity::Gitlab(p) = identity {
        Some(p)
    } else {
        None
    }
}
fn as_google(identity: &Identity) -> Option<&crate::fixture::GoogleIdentity> {
    if let Identity::Google(p) = identity {
        Some(p)
    } else {
        None
    }
}
fn as_activestate(identity: &Identity) -> Option<&crate::fixture::ActiveStateIdentity> {
    if let Identity::ActiveState(p) = identity {
        Some(p)
    } else {
        None
    }
}

/// The replay check inside GitHub/GitLab verification (R-JTI-2).
fn replay_check(token: &Token<'_>) -> Result<(), Failure> {
    if token.jti_recorded {
        Err(Failure::Replayed)
    } else {
        Ok(())
    }
}

/// Spec §1.2: missing or `null`.
fn absent(claims: &Map<String, Value>, name: &str) -> bool {
    claims.get(name).is_none_or(Value::is_null)
}

/// The claim if it is a string. Non-string claims where strings are expected are treated as
/// not matching (R-DEF-5).
fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// The claim if it is a non-empty string.
fn non_empty<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    string(claims, name).filter(|s| !s.is_empty())
}

/// R-PUB-4's fallback message for a required claim.
fn required(ok: bool, name: &str) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::NoMatch(format!(
            "Check failed for required claim {}",
            repr(name)
        )))
    }
}

/// R-PUB-4's fallback message for an optional claim.
fn optional(ok: bool, name: &str) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure::NoMatch(format!(
            "Check failed for optional claim {}",
            repr(name)
        )))
    }
}

/// An optional selector claim (GitHub/GitLab `environment`, Google `sub`): passes if the
/// stored value is `""` (any); otherwise the claim must be non-empty and `equal`.
fn optional_field_matches(
    stored: &str,
    claim: Option<&str>,
    equal: impl Fn(&str, &str) -> bool,
) -> bool {
    stored.is_empty() || claim.is_some_and(|c| !c.is_empty() && equal(c, stored))
}

/// R-PUB-6 (and R-GOOG-2): the candidate whose field matches a non-empty claim, otherwise the
/// one whose field is `""`, otherwise none.
fn select<'p, T>(
    candidates: &[(usize, &'p T)],
    claim: Option<&str>,
    field: impl Fn(&T) -> &str,
) -> Option<(usize, &'p T)> {
    let specific = claim
        .filter(|c| !c.is_empty())
        .and_then(|c| candidates.iter().find(|(_, p)| field(p) == c));
    specific
        .or_else(|| candidates.iter().find(|(_, p)| field(p).is_empty()))
        .copied()
}

/// The end (exclusive) of the last `.yml@`/`.yaml@` in `text` that `qualifies` (by offset),
/// counting the `.yml`/`.yaml` but not the `@` (R-GH-2, R-GL-2).
fn last_workflow_suffix(text: &str, qualifies: impl Fn(usize) -> bool) -> Option<usize> {
    [".yml@", ".yaml@"]
        .iter()
        .flat_map(|suffix| {
            text.match_indices(suffix)
                .map(move |(at, _)| (at, at + suffix.len() - 1))
        })
        .filter(|(at, _)| qualifies(*at))
        .map(|(_, end)| end)
        .max()
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}
