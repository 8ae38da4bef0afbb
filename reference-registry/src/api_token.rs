//! Step 9 and its counterpart at upload: the API token's caveats (R-TOK-3, R-TOK-4) as
//! PyPI's caveats write and check them.

use serde_json::{Value, json};

use crate::clock::Now;
use crate::macaroon::Macaroon;
use crate::repr::repr;
use crate::state::{State, TokenRecord, new_id};

/// The token's lifetime (R-TOK-2).
pub const LIFETIME_SECONDS: i64 = 900;

/// Mints a token for the publisher at `publisher`; returns it and its `expires`. A
/// `single_use` token authorises one upload (PEP 807's `single-use-token`, R-807-FEAT-1).
pub fn mint(
    state: &mut State,
    publisher: usize,
    host: &str,
    now: Now,
    single_use: bool,
) -> (String, i64) {
    let t = now.whole_seconds();
    let expires = t + LIFETIME_SECONDS;
    let publisher = &state.publishers[publisher];
    let caveats = [
        json!([4, publisher.id, null]),
        json!([2, publisher.projects]),
        json!([0, expires, t]),
    ];
    let caveats = caveats.iter().map(crate::json_out::to_string).collect();
    // From the operating system, as PyPI's keys come from `os.urandom`: aws-lc's generator
    // would first spend 20 ms of CPU collecting its own entropy, in every registry process.
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the system RNG works");
    let identifier = new_id();
    let token = Macaroon::mint(&key, host, &identifier, caveats).to_token();
    if state.tokens.len() >= 100_000 {
        state.tokens.retain(|_, record| record.expires > t);
    }
    let uploads_left = single_use.then_some(1);
    state.tokens.insert(
        identifier,
        TokenRecord {
            key,
            expires,
            uploads_left,
        },
    );
    (token, expires)
}

/// Why a token may not upload to the project at `project`, or `Ok`. The failures come in
/// caveat order, as PyPI joins them (spec §17 item 11).
pub fn check(
    state: &State,
    macaroon: &Macaroon,
    project: usize,
    now: Now,
) -> Result<(), Vec<String>> {
    let record = state
        .tokens
        .get(&macaroon.identifier)
        .ok_or_else(|| vec!["deleted or nonexistent macaroon".to_owned()])?;
    if !macaroon.is_signed_by(&record.key) {
        return Err(vec!["signatures do not match".to_owned()]);
    }
    if record.uploads_left == Some(0) {
        return Err(vec!["single-use token already used".to_owned()]);
    }
    let project = &state.projects[project];
    let failures: Vec<String> = macaroon
        .caveats
        .iter()
        .filter_map(|caveat| {
            let caveat: Value = serde_json::from_str(caveat).unwrap_or(Value::Null);
            caveat_failure(state, &caveat, &project.id, &project.name, now)
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

fn caveat_failure(
    state: &State,
    caveat: &Value,
    project_id: &str,
    project_name: &str,
    now: Now,
) -> Option<String> {
    let fields = caveat.as_array().map(Vec::as_slice).unwrap_or_default();
    match fields {
        // OIDCPublisher: the publisher must (still) have the project.
        [tag, publisher_id, _claims] if tag == 4 => {
            let attached = state.publishers.iter().any(|p| {
                Some(p.id.as_str()) == publisher_id.as_str()
                    && p.projects.iter().any(|id| id == project_id)
            });
            (!attached).then(|| {
                format!(
                    "OIDC scoped token is not valid for project {}",
                    repr(project_name)
                )
            })
        }
        // ProjectID.
        [tag, Value::Array(ids)] if tag == 2 => {
            (!ids.iter().any(|id| id == project_id)).then(|| {
                format!(
                    "project-scoped token is not valid for project: {}",
                    repr(project_name)
                )
            })
        }
        // Expiration: valid from not_before (inclusive) to expires_at (exclusive) (R-TOK-2).
        [tag, expires_at, not_before] if tag == 0 => {
            let t = now.whole_seconds();
            let valid = not_before.as_i64().is_some_and(|nb| nb <= t)
                && expires_at.as_i64().is_some_and(|e| t < e);
            (!valid).then(|| "token is expired".to_owned())
        }
        _ => Some("malformed caveat".to_owned()),
    }
}
