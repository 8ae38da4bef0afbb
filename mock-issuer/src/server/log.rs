//! Every request the mock receives, so tests can assert what a target asked for.

use std::time::SystemTime;

use serde::Serialize;

use crate::forge::header::{ATTACKER_CERTIFICATE, ATTACKER_JWKS};

/// Which of the mock's endpoints a request hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    Discovery,
    Jwks,
    /// `POST /token`.
    Token,
    /// GitHub Actions' token-request contract.
    GithubTokenRequest,
    /// A fresh ID token for a GitLab job (not a GitLab API: the sandbox's way to a second).
    GitlabJobToken,
    /// The attacker's JWKS that `jku` injection points at.
    AttackerJku,
    /// The attacker's certificate that `x5u` injection points at.
    AttackerX5u,
    Admin,
    Other,
}

impl Endpoint {
    pub(crate) fn classify(path: &str) -> Endpoint {
        match path {
            "/token" => Endpoint::Token,
            "/github/idtoken" => Endpoint::GithubTokenRequest,
            super::routes::GITLAB_JOB_TOKEN => Endpoint::GitlabJobToken,
            ATTACKER_JWKS => Endpoint::AttackerJku,
            ATTACKER_CERTIFICATE => Endpoint::AttackerX5u,
            p if p.starts_with("/admin/") => Endpoint::Admin,
            p if p.ends_with("/.well-known/openid-configuration") => Endpoint::Discovery,
            p if p.ends_with("/.well-known/jwks") => Endpoint::Jwks,
            _ => Endpoint::Other,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LoggedRequest {
    #[serde(serialize_with = "unix_seconds")]
    pub at: SystemTime,
    pub endpoint: Endpoint,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Header names are lower case, in arrival order.
    pub headers: Vec<(String, String)>,
}

impl LoggedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn unix_seconds<S: serde::Serializer>(at: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let seconds = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    s.serialize_f64(seconds)
}
