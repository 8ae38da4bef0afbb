//! Where a case's requests go: a reference registry in this process (no sockets: the
//! fastest target, and the oracle), or any target over HTTP.

use std::sync::LazyLock;
use std::time::Duration;

use reference_registry::events::Event;
use reference_registry::{FixtureDocument, Registry, RegistryConfig};
use regex::Regex;
use tokio::sync::broadcast;

use crate::rig::in_process;
use crate::rig::targets::{Target, TargetError};
use crate::rig::transport::Response;
use crate::rig::transport::{self, Outgoing};

/// An answer, and for the in-process reference the rule that decided it when the spec
/// keeps the reason from the client (step 5).
#[derive(Clone, Debug)]
pub struct Answer {
    pub response: Response,
    pub undisclosed_rule: Option<String>,
}

/// A request that got no HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoAnswer {
    /// Nothing within the per-request timeout.
    Timeout(String),
    /// The connection failed or broke.
    Failed(String),
}

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoAnswer::Timeout(what) | NoAnswer::Failed(what) => f.write_str(what),
        }
    }
}

pub enum Endpoint {
    InProcess(InProcess),
    Http {
        target: Target,
        http: transport::Client,
    },
}

pub struct InProcess {
    registry: Registry,
    router: axum::Router,
    /// The registry's events, where the undisclosed reasons are wanted (they cost a copy
    /// of the claims per request).
    events: Option<broadcast::Receiver<Event>>,
}

impl Endpoint {
    /// A reference registry living in this process; with `explained`, answers carry the
    /// rule behind an undisclosed reason (as the oracle needs).
    pub fn reference(explained: bool) -> Endpoint {
        let registry = Registry::new(RegistryConfig::default());
        Endpoint::InProcess(InProcess {
            router: reference_registry::app(registry.clone()),
            events: explained.then(|| registry.subscribe()),
            registry,
        })
    }

    /// A target reached over HTTP; `target` must be remote.
    pub fn http(target: Target, timeout: Duration) -> Result<Endpoint, String> {
        let http = transport::Client::new(timeout);
        if let Target::Remote { base_url, .. } = &target {
            http.ready_for(base_url)?;
        }
        Ok(Endpoint::Http { target, http })
    }

    /// Whether the endpoint is to be given its issuers' keys inline, without discovery URLs
    /// (see [`inline_keys`]).
    pub fn in_process(&self) -> bool {
        matches!(self, Endpoint::InProcess(_))
    }

    /// Where its requests go (`http://127.0.0.1:8000`): the origin a PEP 807 discovery
    /// answer must name too.
    pub fn origin(&self) -> String {
        match self {
            Endpoint::Http {
                target: Target::Remote { base_url, .. },
                ..
            } => base_url.clone(),
            _ => format!("http://{IN_PROCESS_HOST}"),
        }
    }

    /// Replaces the endpoint's state with `document`'s.
    pub async fn reset(&mut self, document: &FixtureDocument) -> Result<(), TargetError> {
        match self {
            Endpoint::InProcess(local) => local.registry.apply(document).map_err(|e| {
                TargetError::Fault(format!("the reference registry refused the fixture: {e}"))
            }),
            Endpoint::Http { target, http } => target.prepare(document, http, None).await.map(drop),
        }
    }

    /// Sends `request`, whose `url` is a path such as `/_/oidc/mint-token`.
    pub async fn send(
        &mut self,
        request: &Outgoing,
        timeout: Duration,
    ) -> Result<Answer, NoAnswer> {
        match self {
            Endpoint::InProcess(local) => {
                let answered = tokio::time::timeout(timeout, local.send(request)).await;
                answered.map_err(|_| {
                    NoAnswer::Timeout(format!(
                        "{} {}: no answer within {} s",
                        request.method,
                        request.url,
                        timeout.as_secs_f64()
                    ))
                })?
            }
            Endpoint::Http { target, http } => {
                let Target::Remote { base_url, .. } = target else {
                    unreachable!("an HTTP endpoint has a remote target");
                };
                let absolute = Outgoing {
                    url: format!("{base_url}{}", request.url),
                    ..request.clone()
                };
                transport::send(http, &absolute, timeout)
                    .await
                    .map(|response| Answer {
                        response,
                        undisclosed_rule: None,
                    })
                    .map_err(|message| {
                        if message.contains("no answer within") {
                            NoAnswer::Timeout(message)
                        } else {
                            NoAnswer::Failed(message)
                        }
                    })
            }
        }
    }
}

/// `document` with its issuers' keys inline only: an in-process registry given it fetches
/// no discovery document per case, so a case costs little more than its signature. Over
/// HTTP, targets get the discovery URLs as usual.
pub fn inline_keys(mut document: FixtureDocument) -> FixtureDocument {
    for issuer in &mut document.issuers {
        issuer.discovery_url = None;
        issuer.jwks_url = None;
    }
    document
}

/// The `Host` of requests to the in-process registry, as a client on loopback sends it.
const IN_PROCESS_HOST: &str = "127.0.0.1";

/// The rule ID a reference registry reason names, as in `... (R-TIME-2)`.
static RULE_IN_REASON: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\((R-[A-Z]+-[0-9]+)").expect("the pattern compiles"));

impl InProcess {
    async fn send(&mut self, request: &Outgoing) -> Result<Answer, NoAnswer> {
        let absolute = Outgoing {
            url: format!("http://{IN_PROCESS_HOST}{}", request.url),
            ..request.clone()
        };
        if let Some(events) = &mut self.events {
            while events.try_recv().is_ok() {}
        }
        let response = in_process::deliver(&self.router, &absolute)
            .await
            .map_err(|e| NoAnswer::Failed(format!("{}: {e}", request.url)))?;
        let undisclosed_rule = match self.events.as_mut().map(|e| e.try_recv()) {
            Some(Ok(Event::Mint(event))) => event
                .undisclosed
                .as_deref()
                .and_then(|reason| RULE_IN_REASON.captures(reason))
                .map(|c| c[1].to_owned()),
            _ => None,
        };
        Ok(Answer {
            response,
            undisclosed_rule,
        })
    }
}
