//! One loopback listener for all of a run's mock issuers, when the target runs in another
//! process: each scenario's mocks run in process ([`mock_issuer::MockIssuerBuilder::in_process`])
//! and are reached under a path of their own, `http://127.0.0.1:PORT/m/<n>/<name>`, which
//! no other mock ever has. Binding five ports per stage (with the thousands closed before
//! them waiting out TIME_WAIT) was most of a foreign run's kernel time; and since a path
//! never changes hands, a target may keep its connections to the gateway alive across
//! scenarios without ever reaching the wrong scenario's mock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use mock_issuer::MockService;
use tokio::task::JoinHandle;

type Mounts = Arc<Mutex<HashMap<String, MockService>>>;

/// The listener and the mocks mounted on it. Dropping it stops accepting connections; any
/// still open reach only what is still mounted.
#[derive(Debug)]
pub struct MockGateway {
    base_url: String,
    mounts: Mounts,
    next: AtomicU64,
    task: JoinHandle<()>,
}

impl Drop for MockGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A mock's place on the gateway; it is unmounted when this is dropped.
#[derive(Debug)]
pub struct Mount {
    prefix: String,
    mounts: Mounts,
}

impl Drop for Mount {
    fn drop(&mut self) {
        lock(&self.mounts).remove(&self.prefix);
    }
}

fn lock(mounts: &Mounts) -> std::sync::MutexGuard<'_, HashMap<String, MockService>> {
    mounts.lock().unwrap_or_else(|p| p.into_inner())
}

impl MockGateway {
    /// Listens on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<MockGateway> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mounts = Mounts::default();
        let app = Router::new().fallback(forward).with_state(mounts.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(MockGateway {
            base_url,
            mounts,
            next: AtomicU64::new(0),
            task,
        })
    }

    /// A base URL no mock has had before, for a mock called `name` (a path segment).
    pub fn reserve(&self, name: &str) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}/m/{n}/{name}", self.base_url)
    }

    /// Serves `service` at `base_url` (from [`Self::reserve`]) until the mount is dropped.
    pub fn mount(&self, base_url: &str, service: MockService) -> Mount {
        let prefix = base_url
            .strip_prefix(&self.base_url)
            .expect("a base URL this gateway reserved")
            .to_owned();
        lock(&self.mounts).insert(prefix.clone(), service);
        Mount {
            prefix,
            mounts: self.mounts.clone(),
        }
    }
}

/// `/m/<n>/<name>/rest` to the mock mounted at `/m/<n>/<name>`, as `/rest`; a redirect it
/// answers to a path of its own (`Location: /...`) is sent back under its prefix.
async fn forward(State(mounts): State<Mounts>, mut request: Request) -> Response {
    let path = request.uri().path();
    let mut segments = path.splitn(5, '/');
    let (Some(""), Some("m"), Some(n), Some(name)) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return not_found(format!(
            "{path} is no mock issuer's path (/m/<n>/<name>/...)"
        ));
    };
    let prefix = format!("/m/{n}/{name}");
    let Some(service) = lock(&mounts).get(&prefix).cloned() else {
        return not_found(format!(
            "no mock issuer serves {prefix} any more: its scenario has ended"
        ));
    };
    let rest = match &path[prefix.len()..] {
        "" => "/",
        rest => rest,
    };
    let target = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let Ok(uri) = target.parse::<Uri>() else {
        return not_found(format!("{target} is not a request target"));
    };
    *request.uri_mut() = uri;
    let mut response = service.call(request).await;
    let moved = response
        .headers()
        .get(header::LOCATION)
        .and_then(|location| location.to_str().ok())
        .filter(|location| location.starts_with('/') && !location.starts_with("//"))
        .and_then(|location| HeaderValue::from_str(&format!("{prefix}{location}")).ok());
    if let Some(location) = moved {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// What a request that reaches no mock gets (for a mock whose scenario has ended, as a
/// closed port would be): 404, and why, in the mocks' own error shape.
fn not_found(message: String) -> Response {
    let body = serde_json::json!({ "error": message });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use mock_issuer::{Endpoint, IssuerMode, JwksFault, MockIssuer, Provider};

    use super::*;

    #[tokio::test]
    async fn mocks_are_reached_under_their_own_paths_until_unmounted() {
        let gateway = MockGateway::start().await.unwrap();
        let base_url = gateway.reserve("github");
        assert!(base_url.ends_with("/m/0/github"), "{base_url}");
        assert_ne!(gateway.reserve("github"), base_url, "never the same twice");
        let mock = MockIssuer::builder()
            .issuer_mode(IssuerMode::Canonical(Provider::Github))
            .in_process(base_url.clone())
            .start()
            .await
            .unwrap();
        let mount = gateway.mount(&base_url, mock.service());
        let http = reqwest::Client::new();
        let discovery: serde_json::Value = http
            .get(mock.discovery_url())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            discovery["issuer"],
            "https://token.actions.githubusercontent.com"
        );
        assert_eq!(discovery["jwks_uri"], mock.jwks_url());
        // A redirect to the mock's own path comes back under its prefix, and is followed.
        mock.set_jwks_fault(Some(JwksFault::Redirect));
        let keys = http.get(mock.jwks_url()).send().await.unwrap();
        assert_eq!(keys.url().path(), "/m/0/github/.well-known/jwks");
        assert_eq!(keys.url().query(), Some("redirected"));
        let keys: serde_json::Value = keys.json().await.unwrap();
        assert_eq!(keys, mock.jwks());
        assert_eq!(mock.hits(Endpoint::Jwks), 2);
        drop(mount);
        let gone = http.get(mock.jwks_url()).send().await.unwrap();
        assert_eq!(gone.status(), 404);
        assert_eq!(
            mock.hits(Endpoint::Jwks),
            2,
            "an unmounted mock gets nothing"
        );
        let elsewhere = format!("{}/x/0/github/.well-known/jwks", gateway.base_url);
        assert_eq!(http.get(elsewhere).send().await.unwrap().status(), 404);
    }

    #[tokio::test]
    async fn a_path_reaches_its_own_mock_or_none() {
        let gateway = MockGateway::start().await.unwrap();
        let mut mocks = Vec::new();
        for _ in 0..2 {
            let base_url = gateway.reserve("github");
            let mock = MockIssuer::builder()
                .in_process(base_url.clone())
                .start()
                .await
                .unwrap();
            let mount = gateway.mount(&base_url, mock.service());
            mocks.push((mock, mount));
        }
        let (first, second) = (&mocks[0].0, &mocks[1].0);
        // Sent as written (curl --path-as-is): `..` reaches nothing beyond the first mock.
        let base = &gateway.base_url;
        let traversal = format!(
            "GET /m/0/github/../../m/1/github/.well-known/jwks HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            base.trim_start_matches("http://")
        );
        let mut stream = tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
            .await
            .unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut stream, traversal.as_bytes())
            .await
            .unwrap();
        let mut answer = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer)
            .await
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(first.hits(Endpoint::Jwks), 1);
        assert_eq!(second.hits(Endpoint::Jwks), 0);
        // The bare prefix is the mock's root, not an ended scenario.
        let root = reqwest::get(first.base_url()).await.unwrap();
        assert_eq!(root.status(), 404);
        let message = root.text().await.unwrap();
        assert!(message.contains("no such endpoint: /"), "{message}");
    }
}
