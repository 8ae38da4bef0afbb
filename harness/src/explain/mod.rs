//! `mintcheck explain`: what a registry following PyPI's rules answers to a token, and why.
//! The verdict and the per-step findings come from the reference registry itself
//! ([`reference_registry::explain`]), run on a registry seeded with the one publisher
//! described; this module adds the publisher-matching table, hints about the usual
//! mistakes, and the time to judge at.

mod hints;
mod render;

use std::sync::Arc;

use reference_registry::explain::{self as engine, Explanation, FieldCheck, Input};
use reference_registry::fixture::{
    FixtureDocument, Identity, Issuer, PendingPublisher, Project, Publisher,
};
use reference_registry::{FixtureError, ManualClock, Registry, RegistryConfig};
use serde_json::Value;

pub use render::{json, text};

/// The project an active publisher is attached to when none is named.
pub const DEFAULT_PROJECT: &str = "your-project";

/// When to judge the token's times.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum At {
    Now,
    /// At the token's `iat`, as when its CI job ran (for tokens from past runs).
    Issued,
    Unix(i64),
}

impl std::str::FromStr for At {
    type Err = String;

    fn from_str(text: &str) -> Result<At, String> {
        match text {
            "now" => Ok(At::Now),
            "issued" => Ok(At::Issued),
            seconds => seconds
                .parse()
                .map(At::Unix)
                .map_err(|_| format!("{text:?}: expected now, issued or Unix seconds")),
        }
    }
}

/// What to explain, against which publisher.
#[derive(Debug, Clone)]
pub struct Request {
    pub input: Input,
    pub identity: Identity,
    /// The publisher is pending, for this project name (spec §13).
    pub pending: Option<String>,
    /// Existing projects; an active publisher is attached to the first (or
    /// [`DEFAULT_PROJECT`]).
    pub projects: Vec<String>,
    /// The registry's audience (default `pypi`).
    pub audience: Option<String>,
    /// An issuer an organisation registered (a self-managed GitLab), trusted as a custom
    /// issuer of the publisher's provider.
    pub custom_issuer: Option<String>,
    pub at: At,
}

#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    #[error("the publisher description does not make a valid registry state: {0}")]
    Fixture(#[from] FixtureError),
    #[error("--at issued: the token has no numeric iat")]
    NoIssuedAt,
}

/// The verdict with its reasons.
#[derive(Debug, Clone)]
pub struct Report {
    pub explanation: Explanation,
    /// Publisher matching, one row per comparison; empty when the token's claims are
    /// unreadable.
    pub rows: Vec<FieldCheck>,
    pub hints: Vec<String>,
    /// The Unix time the token was judged at.
    pub judged_at: i64,
    pub at: At,
    pub identity: Identity,
}

pub async fn explain(request: &Request) -> Result<Report, ExplainError> {
    let now = reference_registry::SystemClock;
    let now = reference_registry::Clock::now(&now).whole_seconds();
    let judged_at = match request.at {
        At::Now => now,
        At::Unix(seconds) => seconds,
        At::Issued => {
            let first = run(request, now).await?;
            first
                .claims
                .as_ref()
                .and_then(|c| c.get("iat"))
                .and_then(Value::as_f64)
                .ok_or(ExplainError::NoIssuedAt)? as i64
        }
    };
    let explanation = run(request, judged_at).await?;
    let rows = match &explanation.claims {
        Some(claims) => {
            let issuer = claims
                .get("iss")
                .and_then(Value::as_str)
                .unwrap_or_default();
            engine::fields(&request.identity, claims, issuer)
        }
        None => Vec::new(),
    };
    let hints = hints::find(request, &explanation, &rows);
    Ok(Report {
        explanation,
        rows,
        hints,
        judged_at,
        at: request.at,
        identity: request.identity.clone(),
    })
}

async fn run(request: &Request, at: i64) -> Result<Explanation, ExplainError> {
    let config = RegistryConfig {
        clock: Arc::new(ManualClock::at(at as f64)),
        ..RegistryConfig::default()
    };
    let registry = Registry::new(config);
    registry.apply(&fixture(request))?;
    Ok(engine::explain(&registry, &request.input).await)
}

/// The registry state the request describes.
pub fn fixture(request: &Request) -> FixtureDocument {
    let mut document = FixtureDocument::new();
    document.audience = request.audience.clone();
    if let Some(issuer) = &request.custom_issuer {
        document.issuers.push(Issuer {
            provider: request.identity.provider(),
            issuer: issuer.clone(),
            canonical: false,
            discovery_url: None,
            jwks_url: None,
            jwks: None,
        });
    }
    let mut projects = request.projects.clone();
    match &request.pending {
        Some(project) => document.pending_publishers.push(PendingPublisher {
            project_name: project.clone(),
            added_by: "you".to_owned(),
            identity: request.identity.clone(),
            age_days: None,
        }),
        None => {
            if projects.is_empty() {
                projects.push(DEFAULT_PROJECT.to_owned());
            }
            document.publishers.push(Publisher {
                id: None,
                projects: vec![projects[0].clone()],
                identity: request.identity.clone(),
            });
        }
    }
    document.projects = projects
        .into_iter()
        .map(|name| Project { name, id: None })
        .collect();
    document
}
