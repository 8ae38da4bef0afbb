//! How a key refresh reaches an issuer: over HTTP, or through an [`IssuerNetwork`] the
//! embedding program provides, which answers without sockets (the harness's in-process mock
//! issuers). [`crate::jwks`] follows redirects and judges the answers the same way for both.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::{BodyExt, Limited};
use reqwest::Url;

/// What [`IssuerNetwork::get`] answers with; `None` when nothing serves the URL's origin,
/// as a refused connection.
pub type NetworkAnswer<'a> =
    Pin<Box<dyn Future<Output = Option<http::Response<Body>>> + Send + 'a>>;

/// Issuers reached without a network. A registry given one sends every key fetch to it, so
/// no socket is opened and the loopback rule of [`crate::RegistryConfig`] has nothing to
/// guard.
pub trait IssuerNetwork: Send + Sync + std::fmt::Debug {
    /// `GET url`, delivered to whatever serves its origin.
    fn get(&self, url: &Url) -> NetworkAnswer<'_>;
}

/// One answer, read whole.
pub(crate) struct Fetched {
    pub status: u16,
    /// The `Location` of a redirect (301, 302, 303, 307, 308), as sent.
    pub location: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("nothing answers at this address")]
    Unreachable,
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
    #[error("reading the body: {0}")]
    Body(String),
}

#[derive(Clone, Debug)]
pub(crate) enum KeyFetcher {
    Http(reqwest::Client),
    Network(Arc<dyn IssuerNetwork>),
}

impl KeyFetcher {
    /// `GET url` within `timeout`, redirects not followed, the body at most `limit` bytes.
    pub async fn get(
        &self,
        url: &Url,
        limit: usize,
        timeout: Duration,
    ) -> Result<Fetched, FetchError> {
        let answer = async {
            match self {
                KeyFetcher::Http(client) => get_over_http(client, url, limit).await,
                KeyFetcher::Network(network) => {
                    let response = network.get(url).await.ok_or(FetchError::Unreachable)?;
                    let status = response.status().as_u16();
                    let location = location(status, response.headers());
                    let body = Limited::new(response.into_body(), limit)
                        .collect()
                        .await
                        .map_err(|e| match e.downcast::<http_body_util::LengthLimitError>() {
                            Ok(_) => FetchError::TooLarge(limit),
                            Err(other) => FetchError::Body(other.to_string()),
                        })?
                        .to_bytes()
                        .to_vec();
                    Ok(Fetched {
                        status,
                        location,
                        body,
                    })
                }
            }
        };
        tokio::time::timeout(timeout, answer)
            .await
            .unwrap_or(Err(FetchError::Timeout(timeout)))
    }
}

async fn get_over_http(
    client: &reqwest::Client,
    url: &Url,
    limit: usize,
) -> Result<Fetched, FetchError> {
    let mut response = client.get(url.clone()).send().await?;
    let status = response.status().as_u16();
    let location = location(status, response.headers());
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err(FetchError::TooLarge(limit));
        }
    }
    Ok(Fetched {
        status,
        location,
        body,
    })
}

/// The target of a redirect HTTP clients follow.
fn location(status: u16, headers: &http::HeaderMap) -> Option<String> {
    let redirect = matches!(status, 301 | 302 | 303 | 307 | 308);
    let value = headers.get(http::header::LOCATION)?;
    redirect.then(|| String::from_utf8_lossy(value.as_bytes()).into_owned())
}
