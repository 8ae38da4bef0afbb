//! Targets (`docs/target-contract.md`): the embedded reference registry, or any registry reachable over HTTP
//! whose state the harness sets before each scenario, through its control endpoint or a
//! fixture command. A target the harness starts itself (`--target-cmd`) is a
//! [`TargetProcess`]; once it is ready it is an ordinary [`Target::Remote`].

mod command;
mod process;
mod reference;
mod remote;

use std::sync::Arc;

use reference_registry::{FixtureDocument, IssuerNetwork};

use super::in_process::Route;
use super::transport::Client;

pub use command::{
    CA_FILE_VARIABLES, FIXTURE_TIMEOUT, FixtureCommand, READY_TIMEOUT, TargetCommand,
    TargetProcess, UNSUPPORTED_EXIT,
};
pub(crate) use process::{Signal, shell, signal_group};

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The target declared it cannot set up this fixture.
    #[error("the target cannot set up: {}", .0.join(", "))]
    Unsupported(Vec<String>),
    /// The target or the harness failed: never counted as a failed scenario.
    #[error("{0}")]
    Fault(String),
}

#[derive(Clone, Debug)]
pub enum Target {
    /// A fresh reference registry per scenario, reached in process.
    Reference,
    /// A running registry at `base_url`, told each scenario's fixture through `fixtures`.
    Remote {
        base_url: String,
        fixtures: Fixtures,
    },
}

/// How the fixture document reaches a remote target.
#[derive(Clone, Debug)]
pub enum Fixtures {
    /// `PUT {url}/fixture` with `Authorization: Bearer {token}`: 204 applied, 200
    /// `{"unsupported": [...]}` unsupported, anything else a fault.
    Control { url: String, token: String },
    /// A command run per scenario with the document on stdin: exit 0 applied, exit 89
    /// unsupported (stdout: what, one per line), anything else a fault.
    Command(FixtureCommand),
}

/// A target ready for one scenario.
pub struct Prepared {
    pub base_url: String,
    /// The embedded registry's handlers, which its requests go to in process.
    app: Option<axum::Router>,
    /// The embedded registry itself, whose clock the harness moves directly.
    registry: Option<reference_registry::Registry>,
}

impl Prepared {
    /// Where the scenario's requests go: the embedded registry's in process, others over `http`.
    pub fn route(&self, http: &Client) -> Route {
        match &self.app {
            Some(app) => Route::to_app(http, &self.base_url, app.clone()),
            None => Route::network(http),
        }
    }
}

impl Target {
    /// A running target whose control endpoint is the default `{base_url}/__mintcheck`.
    pub fn remote(base_url: impl Into<String>, control_token: impl Into<String>) -> Target {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        Target::Remote {
            fixtures: Fixtures::Control {
                url: default_control_url(&base_url),
                token: control_token.into(),
            },
            base_url,
        }
    }

    pub fn is_reference(&self) -> bool {
        matches!(self, Target::Reference)
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Reference => "the embedded reference registry".to_owned(),
            Target::Remote { base_url, .. } => base_url.clone(),
        }
    }

    /// Replaces the target's state with `document` (or, for the reference registry, starts
    /// a fresh one holding it, which fetches keys from `issuers` if given) and says where
    /// to send the scenario's requests.
    pub async fn prepare(
        &self,
        document: &FixtureDocument,
        http: &Client,
        issuers: Option<Arc<dyn IssuerNetwork>>,
    ) -> Result<Prepared, TargetError> {
        match self {
            Target::Reference => reference::start(document, issuers),
            Target::Remote { base_url, fixtures } => {
                match fixtures {
                    Fixtures::Control { url, token } => {
                        remote::put_fixture(http, url, token, document).await?
                    }
                    Fixtures::Command(command) => command.apply(document, base_url).await?,
                }
                Ok(Prepared {
                    base_url: base_url.trim_end_matches('/').to_owned(),
                    app: None,
                    registry: None,
                })
            }
        }
    }

    /// Whether the target can move its clock, asked before a scenario that needs it sends
    /// anything: a control endpoint is asked to move it 0 s on.
    pub async fn probe_clock(&self, http: &Client) -> Result<(), TargetError> {
        match self {
            Target::Reference => Ok(()),
            Target::Remote {
                fixtures: Fixtures::Control { url, token },
                ..
            } => remote::advance_clock(http, url, token, 0.0).await,
            Target::Remote { .. } => {
                Err(TargetError::Unsupported(vec![CLOCK_NEEDS_CONTROL.into()]))
            }
        }
    }

    /// Moves the prepared target's clock `seconds` forward (until its next fixture), so a
    /// scenario can see what minutes do without waiting. A target reached through a fixture
    /// command has no way to do this: unsupported.
    pub async fn advance_clock(
        &self,
        prepared: &Prepared,
        seconds: f64,
        http: &Client,
    ) -> Result<(), TargetError> {
        let by = std::time::Duration::try_from_secs_f64(seconds)
            .map_err(|e| TargetError::Fault(format!("advancing the clock {seconds} s: {e}")))?;
        match (self, &prepared.registry) {
            (_, Some(registry)) => {
                registry.advance_clock(by);
                Ok(())
            }
            (
                Target::Remote {
                    fixtures: Fixtures::Control { url, token },
                    ..
                },
                None,
            ) => remote::advance_clock(http, url, token, seconds).await,
            _ => Err(TargetError::Unsupported(vec![CLOCK_NEEDS_CONTROL.into()])),
        }
    }
}

/// Why a target reached through a fixture command cannot move its clock.
const CLOCK_NEEDS_CONTROL: &str =
    "a fixture command cannot; a control endpoint can (POST {control-url}/clock)";

/// `{base_url}/__mintcheck`, where a target's control endpoint is unless told otherwise.
pub fn default_control_url(base_url: &str) -> String {
    format!("{}/__mintcheck", base_url.trim_end_matches('/'))
}
