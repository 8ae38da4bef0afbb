//! Requests delivered without sockets, for the embedded reference registry: the harness's
//! requests go straight to the registry's handlers, and the registry's key fetches straight
//! to the scenario's mock issuers (started with [`mock_issuer::MockIssuerBuilder::in_process`]).
//!
//! A suite run used to open thousands of loopback connections and bind thousands of ports;
//! the kernel keeps each closed connection in TIME_WAIT for a minute, and with twenty
//! thousand of them waiting (a few runs in a row), every further bind searched them: over
//! half of a run's CPU time went to the kernel. The handlers see each request as hyper's
//! server would hand it to them.

use std::panic::AssertUnwindSafe;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use futures_util::FutureExt as _;

use mock_issuer::MockService;
use reference_registry::{IssuerNetwork, NetworkAnswer};
use reqwest::Url;
use tower::ServiceExt;

use super::transport::{self, Outgoing, Response};

/// Where one scenario's requests go: those for the embedded reference registry's origin
/// straight to its handlers, every other one over the network.
#[derive(Clone)]
pub struct Route {
    http: transport::Client,
    local: Option<(String, Router)>,
}

impl Route {
    pub fn network(http: &transport::Client) -> Route {
        Route {
            http: http.clone(),
            local: None,
        }
    }

    /// Requests for `base_url`'s origin go to `app`.
    pub fn to_app(http: &transport::Client, base_url: &str, app: Router) -> Route {
        Route {
            http: http.clone(),
            local: origin_of(base_url).map(|origin| (origin, app)),
        }
    }

    /// Sends `request`, failing after `timeout` as [`transport::send`] does.
    pub async fn send(
        &self,
        request: &Outgoing,
        timeout: std::time::Duration,
    ) -> Result<Response, String> {
        match &self.local {
            Some((origin, app)) if same_origin(&request.url, origin) => {
                transport::within(timeout, request, deliver(app, request)).await
            }
            _ => transport::send(&self.http, request, timeout).await,
        }
    }
}

/// `scheme://host[:port]` of an absolute URL, as [`Url::origin`] serialises it.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let origin = Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Whether `url` is at `origin`: read as a client would, after a quick look for the common
/// case of a URL made from the origin itself.
fn same_origin(url: &str, origin: &str) -> bool {
    let made_from_origin = url
        .strip_prefix(origin)
        .is_some_and(|rest| rest.starts_with('/'));
    made_from_origin || origin_of(url).as_deref() == Some(origin)
}

/// Delivers `request` to `app` as [`transport::head`] writes it on the wire, with the
/// `Content-Length` hyper's client adds to a non-empty body that names none. A handler that
/// panics fails the request, as a dropped connection would, and not the run.
pub(crate) async fn deliver(app: &Router, request: &Outgoing) -> Result<Response, String> {
    let (_, mut builder) = transport::head(request)?;
    let body = request.body.clone().unwrap_or_default();
    let names_length = request
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
    if !body.is_empty() && !names_length {
        builder = builder.header(http::header::CONTENT_LENGTH, body.len());
    }
    let outgoing = builder
        .body(Body::from(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = AssertUnwindSafe(app.clone().oneshot(outgoing))
        .catch_unwind()
        .await
        .map_err(|_| "the handler failed: it panicked".to_owned())?
        .unwrap_or_else(|never| match never {});
    transport::read(response).await
}

/// The `Host` and request target (path and query) of a URL the registry's HTTP client has
/// already parsed and normalised.
fn host_and_target(url: &Url) -> Option<(String, String)> {
    let host = match (url.host_str()?, url.port()) {
        (host, Some(port)) => format!("{host}:{port}"),
        (host, None) => host.to_owned(),
    };
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    Some((host, target))
}

/// A scenario's in-process mock issuers, by origin, as the registry's issuer network.
#[derive(Debug, Default)]
pub struct MockNetwork {
    mocks: Vec<(String, MockService)>,
}

impl MockNetwork {
    /// A network where `base_url`'s origin is served by `service`.
    pub fn with(mut self, base_url: &str, service: MockService) -> Self {
        if let Some(origin) = origin_of(base_url) {
            self.mocks.push((origin, service));
        }
        self
    }
}

impl IssuerNetwork for MockNetwork {
    fn get(&self, url: &Url) -> NetworkAnswer<'_> {
        let origin = url.origin().ascii_serialization();
        let addressed = host_and_target(url);
        Box::pin(async move {
            let (host, target) = addressed?;
            let (_, service) = self.mocks.iter().find(|(o, _)| *o == origin)?;
            let request = http::Request::get(target)
                .header(http::header::HOST, host)
                .body(Body::empty())
                .ok()?;
            // A mock that panics answers nothing, as a dropped connection would.
            AssertUnwindSafe(service.call(request))
                .catch_unwind()
                .await
                .ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use mock_issuer::MockIssuer;

    use super::*;

    #[test]
    fn origins_are_what_clients_compare() {
        assert_eq!(
            origin_of("http://Registry.invalid/legacy/?x").as_deref(),
            Some("http://registry.invalid")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:80/").as_deref(),
            Some("http://127.0.0.1")
        );
        assert_eq!(
            origin_of("https://a.example:8443/").as_deref(),
            Some("https://a.example:8443")
        );
        assert_eq!(origin_of("/relative"), None);
        let origin = "http://registry.invalid";
        assert!(same_origin("http://registry.invalid/legacy/", origin));
        assert!(same_origin("http://Registry.invalid:80/legacy/", origin));
        assert!(!same_origin(
            "http://registry.invalid.example/legacy/",
            origin
        ));
        assert!(!same_origin("http://registry.invalid:8080/legacy/", origin));
        assert!(!same_origin("https://registry.invalid/legacy/", origin));
    }

    #[tokio::test]
    async fn a_request_reaches_the_handlers_as_over_http() {
        let app = Router::new().fallback(|request: http::Request<Body>| async move {
            let header = |name| {
                request
                    .headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_owned())
            };
            let seen = format!(
                "{} {} host={:?} length={:?}",
                request.method(),
                request.uri(),
                header(http::header::HOST),
                header(http::header::CONTENT_LENGTH),
            );
            let mut response =
                axum::response::IntoResponse::into_response((http::StatusCode::BAD_REQUEST, seen));
            let phrase = hyper::ext::ReasonPhrase::from_static(b"Custom phrase");
            response.extensions_mut().insert(phrase);
            response
        });
        let request = Outgoing {
            method: "POST".into(),
            url: "http://registry.invalid:8080/legacy/?a=1".into(),
            headers: vec![("x-test".into(), "1".into())],
            body: Some(b"abc".to_vec()),
        };
        let response = deliver(&app, &request).await.unwrap();
        assert_eq!(response.status, 400);
        assert_eq!(response.reason.as_deref(), Some("Custom phrase"));
        assert_eq!(
            response.body,
            r#"POST /legacy/?a=1 host=Some("registry.invalid:8080") length=Some("3")"#
        );
    }

    /// Answers with the request as its handler sees it: method, target, every header.
    fn echo() -> Router {
        Router::new().fallback(|request: http::Request<Body>| async move {
            let mut seen = format!("{} {}\n", request.method(), request.uri());
            let mut headers: Vec<String> = request
                .headers()
                .iter()
                .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("?")))
                .collect();
            headers.sort();
            seen.push_str(&headers.join("\n"));
            seen
        })
    }

    #[tokio::test]
    async fn handlers_see_what_they_would_over_http() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, echo()).await;
        });
        let odd = Outgoing {
            method: "POST".into(),
            url: format!("http://LocalHost:{port}/a/../b%2e/%ZZ?k=%2Flegacy%2F&x=1"),
            headers: vec![("accept".into(), "application/json".into())],
            body: Some(Vec::new()),
        };
        let with_body = Outgoing {
            url: format!("http://127.0.0.1:{port}/_/oidc/mint-token"),
            body: Some(b"{}".to_vec()),
            ..odd.clone()
        };
        let get = Outgoing {
            method: "GET".into(),
            body: None,
            ..with_body.clone()
        };
        for request in [odd, with_body, get] {
            let over_http = transport::send(&transport::Client::new(TIMEOUT), &request, TIMEOUT)
                .await
                .unwrap();
            let in_process = deliver(&echo(), &request).await.unwrap();
            assert_eq!(in_process.body, over_http.body, "{}", request.url);
        }
    }

    #[tokio::test]
    async fn a_handler_that_panics_fails_its_request_and_not_the_run() {
        let app = Router::new().fallback(|| async {
            if true {
                panic!("a bug in a handler");
            }
            "never"
        });
        let request = Outgoing {
            method: "GET".into(),
            url: "http://registry.invalid/".into(),
            headers: Vec::new(),
            body: None,
        };
        let failed = deliver(&app, &request).await.unwrap_err();
        assert!(failed.contains("the handler failed"), "{failed}");
    }

    const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

    #[tokio::test]
    async fn the_network_reaches_only_the_mocks_it_holds() {
        let mock = MockIssuer::builder()
            .in_process("http://github.mock.invalid")
            .start()
            .await
            .unwrap();
        assert_eq!(mock.base_url(), "http://github.mock.invalid");
        assert_eq!(mock.address(), None);
        let network = MockNetwork::default().with(mock.base_url(), mock.service());
        let jwks = Url::parse(&mock.jwks_url()).unwrap();
        let answer = network.get(&jwks).await.expect("the mock answers");
        assert_eq!(answer.status(), 200);
        let body = answer.into_body().collect().await.unwrap().to_bytes();
        let keys: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(keys, mock.jwks());
        assert_eq!(
            mock.hits(mock_issuer::Endpoint::Jwks),
            1,
            "the fetch is logged"
        );
        let elsewhere = Url::parse("http://gitlab.mock.invalid/.well-known/jwks").unwrap();
        assert!(network.get(&elsewhere).await.is_none());
    }
}
