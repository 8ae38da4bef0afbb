//! Targets: the embedded reference registry, or any registry reachable over HTTP whose
//! state the harness sets through its control endpoint (design §4).

use std::time::Duration;

use reference_registry::{FixtureDocument, Registry, RegistryConfig};
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The target declared it cannot set up this fixture.
    #[error("the target cannot set up: {}", .0.join(", "))]
    Unsupported(Vec<String>),
    #[error("{0}")]
    Fault(String),
}

#[derive(Clone, Debug)]
pub enum Target {
    /// A fresh reference registry per scenario, on a loopback port.
    Reference,
    /// A running registry; fixtures are `PUT` to `control_url` with a bearer token.
    Remote {
        base_url: String,
        control_url: String,
        control_token: String,
    },
}

/// A target ready for one scenario. Dropping it stops an embedded registry.
pub struct Prepared {
    pub base_url: String,
    server: Option<JoinHandle<()>>,
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

impl Target {
    pub fn is_reference(&self) -> bool {
        matches!(self, Target::Reference)
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Reference => "the embedded reference registry".to_owned(),
            Target::Remote { base_url, .. } => base_url.clone(),
        }
    }

    pub async fn prepare(
        &self,
        document: &FixtureDocument,
        http: &reqwest::Client,
    ) -> Result<Prepared, TargetError> {
        match self {
            Target::Reference => {
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
                let app = reference_registry::app(registry);
                let server = tokio::spawn(async move {
                    let _ = axum::serve(listener, app).await;
                });
                Ok(Prepared {
                    base_url: format!("http://{addr}"),
                    server: Some(server),
                })
            }
            Target::Remote {
                base_url,
                control_url,
                control_token,
            } => {
                let url = format!("{}/fixture", control_url.trim_end_matches('/'));
                let response = http
                    .put(&url)
                    .bearer_auth(control_token)
                    .json(document)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .map_err(|e| TargetError::Fault(format!("PUT {url}: {e}")))?;
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                match status {
                    204 => Ok(Prepared {
                        base_url: base_url.trim_end_matches('/').to_owned(),
                        server: None,
                    }),
                    200 => {
                        let unsupported = serde_json::from_str::<serde_json::Value>(&body)
                            .ok()
                            .and_then(|v| v.get("unsupported").cloned())
                            .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok());
                        match unsupported {
                            Some(list) => Err(TargetError::Unsupported(list)),
                            None => Err(TargetError::Fault(format!(
                                "PUT {url}: 200 without an \"unsupported\" list: {body}"
                            ))),
                        }
                    }
                    _ => Err(TargetError::Fault(format!(
                        "PUT {url}: HTTP {status}: {body}"
                    ))),
                }
            }
        }
    }
}
