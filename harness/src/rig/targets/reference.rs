//! The embedded reference registry: a fresh one per scenario on a loopback port.

use reference_registry::{FixtureDocument, Registry, RegistryConfig};

use super::{Prepared, TargetError};

pub(super) async fn start(document: &FixtureDocument) -> Result<Prepared, TargetError> {
    let registry = Registry::new(RegistryConfig::default());
    registry.apply(document).map_err(|e| {
        TargetError::Fault(format!("the reference registry refused the fixture: {e}"))
    })?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| TargetError::Fault(format!("binding a loopback port: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| TargetError::Fault(e.to_string()))?;
    let app = reference_registry::app(registry.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Prepared {
        base_url: format!("http://{addr}"),
        server: Some(server),
        registry: Some(registry),
    })
}
