//! The embedded reference registry: a fresh one per scenario, reached in process (no socket:
//! [`crate::rig::in_process`]), fetching keys from the scenario's in-process mock issuers
//! when it is given them, else over loopback HTTP.

use std::sync::Arc;

use reference_registry::{FixtureDocument, IssuerNetwork, Registry, RegistryConfig};

use super::{Prepared, TargetError};

/// The embedded registry's base URL: a host no resolver answers, since only the harness
/// reaches it, in process.
pub const BASE_URL: &str = "http://reference-registry.invalid";

pub(super) fn start(
    document: &FixtureDocument,
    issuers: Option<Arc<dyn IssuerNetwork>>,
) -> Result<Prepared, TargetError> {
    let registry = Registry::new(RegistryConfig {
        issuer_network: issuers,
        ..RegistryConfig::default()
    });
    registry.apply(document).map_err(|e| {
        TargetError::Fault(format!("the reference registry refused the fixture: {e}"))
    })?;
    Ok(Prepared {
        base_url: BASE_URL.to_owned(),
        app: Some(reference_registry::app(registry.clone())),
        registry: Some(registry),
    })
}
