//! How a key refresh reaches an issuer: over HTTP, or through an [`IssuerNetwork`] the
//! embedding program provides, which answers without sockets (the harness's in-process mock
//! issuers). [`crate::jwks`] follows redirects and judges the answers the same way for both.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use http_body_util::{BodyExt, Limited};
use reqwest::Url;

use crate::fixture::FixtureError;

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
    #[error("no HTTP client: {0}")]
    Client(String),
}

#[derive(Clone, Debug)]
pub(crate) enum KeyFetcher {
    Http(HttpFetcher),
    Network(Arc<dyn IssuerNetwork>),
}

/// Key fetches over HTTP. A client that trusts the system's roots reads and parses every
/// certificate file the system has when it is built, which was half of `mintcheck
/// registry`'s start-up, and plain-http issuers need no roots: http URLs get a client
/// without any, and the system's roots are loaded at the first https fetch. A fixture's CA
/// comes with https issuers, so its client is built with the fixture, where a CA it cannot
/// use is the fixture's error.
///
/// Clients are shared by every registry in the process. Sharing their connection pools
/// changes nothing a scenario can see: no two of the harness's mock issuers share a URL
/// (bound ones also close every connection), and a registry's key cache is its own.
#[derive(Clone, Debug)]
pub(crate) struct HttpFetcher {
    https: HttpsClient,
}

#[derive(Clone, Debug)]
enum HttpsClient {
    /// The system's roots, loaded at the first https fetch.
    SystemRoots,
    /// A fixture's CA besides the system's roots.
    WithCa(reqwest::Client),
}

impl HttpFetcher {
    /// The fetcher trusting `ca_pem` (PEM certificates) besides the system's roots.
    pub(crate) fn trusting(ca_pem: Option<&str>) -> Result<HttpFetcher, FixtureError> {
        let https = match ca_pem {
            None => HttpsClient::SystemRoots,
            Some(pem) => HttpsClient::WithCa(client_trusting(pem)?),
        };
        Ok(HttpFetcher { https })
    }

    fn client_for(&self, url: &Url) -> Result<&reqwest::Client, FetchError> {
        static PLAIN: OnceLock<reqwest::Client> = OnceLock::new();
        static SYSTEM_ROOTS: OnceLock<reqwest::Client> = OnceLock::new();
        match (url.scheme(), &self.https) {
            ("https", HttpsClient::WithCa(client)) => Ok(client),
            ("https", HttpsClient::SystemRoots) => shared(&SYSTEM_ROOTS, client_builder),
            _ => shared(&PLAIN, || client_builder().tls_certs_only([])),
        }
    }
}

/// The client in `cell`, built now if it is not yet. A build that fails (a host without
/// usable trusted roots) is not kept: the next fetch tries again.
fn shared(
    cell: &'static OnceLock<reqwest::Client>,
    builder: impl FnOnce() -> reqwest::ClientBuilder,
) -> Result<&'static reqwest::Client, FetchError> {
    if let Some(client) = cell.get() {
        return Ok(client);
    }
    let client = build(builder()).map_err(FetchError::Client)?;
    Ok(cell.get_or_init(|| client))
}

fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        // Followed by the key store, with its loopback rule at every hop.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, String> {
    builder
        .build()
        .map_err(|e| match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        })
}

/// The client trusting `ca_pem` too, one per CA bundle: the system's roots are loaded for
/// each.
fn client_trusting(ca_pem: &str) -> Result<reqwest::Client, FixtureError> {
    // A registry that serves many runs sees a new CA per run: past this many, start afresh.
    const KEPT: usize = 8;
    static CLIENTS: LazyLock<Mutex<HashMap<String, reqwest::Client>>> =
        LazyLock::new(Mutex::default);
    if let Some(client) = CLIENTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(ca_pem)
    {
        return Ok(client.clone());
    }
    let certificates = reqwest::Certificate::from_pem_bundle(ca_pem.as_bytes())
        .map_err(|e| FixtureError::new("ca_pem", format!("not PEM certificates: {e}")))?;
    let client = build(client_builder().tls_certs_merge(certificates))
        .map_err(|e| FixtureError::new("ca_pem", format!("unusable: {e}")))?;
    let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    if clients.len() >= KEPT {
        clients.clear();
    }
    clients.insert(ca_pem.to_owned(), client.clone());
    Ok(client)
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
                KeyFetcher::Http(fetcher) => {
                    let client = fetcher.client_for(url)?;
                    let response = client.get(url.clone()).send().await?;
                    read(http::Response::from(response), limit).await
                }
                KeyFetcher::Network(network) => {
                    let response = network.get(url).await.ok_or(FetchError::Unreachable)?;
                    read(response, limit).await
                }
            }
        };
        tokio::time::timeout(timeout, answer)
            .await
            .unwrap_or(Err(FetchError::Timeout(timeout)))
    }
}

/// An answer read whole, its body at most `limit` bytes: the same reading for both ways of
/// fetching.
async fn read<B>(response: http::Response<B>, limit: usize) -> Result<Fetched, FetchError>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
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

/// The target of a redirect HTTP clients follow.
fn location(status: u16, headers: &http::HeaderMap) -> Option<String> {
    let redirect = matches!(status, 301 | 302 | 303 | 307 | 308);
    let value = headers.get(http::header::LOCATION)?;
    redirect.then(|| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const LIMIT: usize = 16;

    /// Answers every URL with `size` bytes.
    #[derive(Debug)]
    struct Sized(usize);

    impl IssuerNetwork for Sized {
        fn get(&self, _: &Url) -> NetworkAnswer<'_> {
            let body = Body::from(vec![b'x'; self.0]);
            Box::pin(async move { Some(http::Response::new(body)) })
        }
    }

    /// `app` on a loopback port: its base URL.
    pub(crate) async fn serve(app: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(axum::serve(listener, app).into_future());
        base
    }

    /// A loopback server answering `/<size>` with that many bytes.
    async fn sized_server() -> String {
        let sized =
            |axum::extract::Path(size): axum::extract::Path<usize>| async move { vec![b'x'; size] };
        serve(axum::Router::new().route("/{size}", axum::routing::get(sized))).await
    }

    #[tokio::test]
    async fn a_body_past_the_limit_is_refused_either_way() {
        let base = sized_server().await;
        let http = KeyFetcher::Http(HttpFetcher::trusting(None).unwrap());
        for size in [LIMIT, LIMIT + 1] {
            let url = Url::parse(&format!("{base}/{size}")).unwrap();
            let network = KeyFetcher::Network(Arc::new(Sized(size)));
            for fetcher in [&http, &network] {
                let fetched = fetcher.get(&url, LIMIT, Duration::from_secs(5)).await;
                match size {
                    LIMIT => assert_eq!(fetched.unwrap().body.len(), LIMIT, "{fetcher:?}"),
                    _ => assert!(
                        matches!(fetched, Err(FetchError::TooLarge(LIMIT))),
                        "{fetcher:?}: {:?}",
                        fetched.map(|f| f.body.len())
                    ),
                }
            }
        }
    }
}
