//! Setting a scenario up: its mock issuers started (and the issuer proxy routed to them),
//! then the target given the fixture document that trusts them. The steps get one such
//! stage, and each positive twin its own, so a twin never shares state with the steps.

use std::sync::Arc;

use reference_registry::IssuerNetwork;

use super::ScenarioRun;
use crate::rig::issuers::Issuers;
use crate::rig::targets::{Prepared, TargetError};
use crate::suite::outcome::Verdict;

/// A scenario's issuers and the target prepared to trust them.
pub(super) struct Stage {
    pub issuers: Issuers,
    pub prepared: Prepared,
}

/// Why a stage could not be set up.
pub(super) enum SetupError {
    /// The target declared it cannot set this fixture up.
    Unsupported(Vec<String>),
    /// The harness or the target failed.
    Fault(String),
}

impl SetupError {
    /// The verdict of a scenario that could not be set up; a fault names `step`, if it was
    /// set up for one.
    pub fn verdict(self, step: Option<&str>) -> Verdict {
        match self {
            SetupError::Unsupported(features) => Verdict::Unsupported {
                reason: format!("the target cannot set up: {}", features.join(", ")),
            },
            SetupError::Fault(message) => Verdict::Error {
                message: match step {
                    Some(step) => format!("step {step}: {message}"),
                    None => message,
                },
            },
        }
    }
}

pub(super) async fn stage(run: &ScenarioRun<'_>) -> Result<Stage, SetupError> {
    let fixture = &run.scenario.fixture;
    // The embedded registry reaches in-process mocks, unless the report's `curl` lines must
    // reach them after the run (`--keep-issuers`).
    let in_process = run.target.is_reference() && run.options.kept_issuers.is_none();
    let issuers = run
        .options
        .issuers
        .start(fixture, in_process)
        .await
        .map_err(|err| SetupError::Fault(format!("starting the mock issuers: {err}")))?;
    let document = issuers.document(fixture);
    let network = issuers
        .network()
        .map(|network| network as Arc<dyn IssuerNetwork>);
    let prepared = run
        .target
        .prepare(&document, run.http, network)
        .await
        .map_err(|err| match err {
            TargetError::Unsupported(features) => SetupError::Unsupported(features),
            TargetError::Fault(message) => SetupError::Fault(message),
        })?;
    Ok(Stage { issuers, prepared })
}
