//! Sending one request, over HTTP/1.1 so the status line's reason phrase is kept (the legacy
//! upload puts its message there, R-UP-1): plain-http targets with hyper's client, https
//! targets through reqwest, which keeps hyper's reason phrase in the response's extensions.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use serde::Serialize;
use serde_json::Value;

/// What came back, as the checks need it.
#[derive(Clone, Debug, Serialize)]
pub struct Response {
    pub status: u16,
    /// The reason phrase of the status line (HTTP/1.1 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Content-Type` without its parameters, lowercased (`application/json`).
    pub fn media_type(&self) -> Option<String> {
        let value = self.header("content-type")?;
        let essence = value.split(';').next().unwrap_or_default();
        Some(essence.trim().to_ascii_lowercase())
    }
}

/// A text cut to a length a report line can hold (400 bytes), saying how long it was.
pub fn shorten(text: &str) -> String {
    shorten_to(text, 400)
}

/// `text` cut to `limit` bytes (on a character boundary), saying how long it was.
pub fn shorten_to(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let cut = (0..=limit)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}... ({} bytes)", &text[..cut], text.len())
}

/// A request ready to send.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// How a run reaches the network. Clones share everything.
#[derive(Clone, Debug)]
pub struct Client {
    /// What one request may take (`--timeout`): the bound of requests to the target's
    /// control endpoint, and of any sent through reqwest.
    timeout: Duration,
    /// Built at the first https request: building it loads the system's trusted roots
    /// (every certificate file it has, milliseconds of CPU), and most runs send none.
    https: Arc<OnceLock<Result<reqwest::Client, String>>>,
    /// For an http control endpoint: built without trusted roots, and keeping its
    /// connections, since a new one per fixture cost a target more CPU than the fixture.
    control: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

impl Client {
    pub fn new(timeout: Duration) -> Client {
        Client {
            timeout,
            https: Arc::default(),
            control: Arc::default(),
        }
    }

    fn https(&self) -> Result<&reqwest::Client, String> {
        self.built(&self.https, reqwest::Client::builder)
    }

    /// Builds the https client now if requests to `url` need it, so that a host that cannot
    /// make one says so once, before the run, not as each request's failure.
    pub fn ready_for(&self, url: &str) -> Result<(), String> {
        match url.starts_with("http://") {
            true => Ok(()),
            false => self.https().map(drop),
        }
    }

    /// The client for requests to the target's control endpoint at `url`.
    pub fn control(&self, url: &str) -> Result<&reqwest::Client, String> {
        if !url.starts_with("http://") {
            return self.https();
        }
        self.built(&self.control, || {
            reqwest::Client::builder()
                .tls_certs_only([])
                .redirect(reqwest::redirect::Policy::custom(over_http_only))
        })
    }

    /// The client in `cell`, built by `builder` with the run's timeout at its first use.
    fn built<'a>(
        &self,
        cell: &'a OnceLock<Result<reqwest::Client, String>>,
        builder: impl FnOnce() -> reqwest::ClientBuilder,
    ) -> Result<&'a reqwest::Client, String> {
        let built = cell.get_or_init(|| {
            builder()
                .timeout(self.timeout)
                .build()
                .map_err(|e| format!("building the HTTP client: {}", error_chain(&e)))
        });
        built.as_ref().map_err(String::clone)
    }
}

/// The redirects a client without trusted roots follows: an https hop could not be verified,
/// so it is refused, saying what to do instead.
fn over_http_only(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    if attempt.url().scheme() == "https" {
        let to = attempt.url().to_string();
        attempt.error(format!(
            "redirected to {to}: give that as --control-url (an http control URL is not \
             followed to https)"
        ))
    } else if attempt.previous().len() > 10 {
        attempt.error("more than 10 redirects")
    } else {
        attempt.follow()
    }
}

/// Sends `request`: an http URL over a connection of its own, an https one through
/// reqwest. An error names the request; so does one for taking longer than `timeout`.
pub async fn send(
    client: &Client,
    request: &Outgoing,
    timeout: Duration,
) -> Result<Response, String> {
    let sent = async {
        if request.url.starts_with("http://") {
            send_http1(request).await
        } else {
            send_reqwest(client.https()?, request).await
        }
    };
    within(timeout, request, sent).await
}

/// `sent`'s answer to `request`, or an error naming the request if it fails or takes longer
/// than `timeout`.
pub(crate) async fn within(
    timeout: Duration,
    request: &Outgoing,
    sent: impl std::future::Future<Output = Result<Response, String>>,
) -> Result<Response, String> {
    let what = || format!("{} {}", request.method, request.url);
    match tokio::time::timeout(timeout, sent).await {
        Ok(result) => result.map_err(|e| format!("{}: {e}", what())),
        Err(_) => Err(format!(
            "{}: no answer within {} s",
            what(),
            timeout.as_secs_f64()
        )),
    }
}

/// The request line and headers as hyper's HTTP/1.1 client writes them: the path and query,
/// unchanged, as the target, `Host` as the URL spells it, then the request's own headers.
/// Also the authority to connect to.
pub(crate) fn head(
    request: &Outgoing,
) -> Result<(http::uri::Authority, http::request::Builder), String> {
    let uri: hyper::Uri = request.url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let authority = uri.authority().ok_or("URL without host")?.clone();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(path)
        .header(hyper::header::HOST, authority.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    Ok((authority, builder))
}

async fn send_http1(request: &Outgoing) -> Result<Response, String> {
    let (authority, builder) = head(request)?;
    let port = authority.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((authority.host().trim_matches(['[', ']']), port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let connection = tokio::spawn(connection);
    let body = Full::new(Bytes::from(request.body.clone().unwrap_or_default()));
    let outgoing = builder.body(body).map_err(|e| e.to_string())?;
    let response = sender
        .send_request(outgoing)
        .await
        .map_err(|e| e.to_string())?;
    let read = read(response).await;
    connection.abort();
    read
}

/// An HTTP response as the checks need it, its body read whole.
pub(crate) async fn read<B>(response: http::Response<B>) -> Result<Response, String>
where
    B: hyper::body::Body,
    B::Error: std::fmt::Display,
{
    let status = response.status();
    let reason = reason_phrase(status, response.extensions());
    let headers = header_pairs(response.headers());
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading the response: {e}"))?;
    Ok(Response {
        status: status.as_u16(),
        reason,
        headers,
        body: String::from_utf8_lossy(&body.to_bytes()).into_owned(),
    })
}

async fn send_reqwest(http: &reqwest::Client, request: &Outgoing) -> Result<Response, String> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|e| format!("method: {e}"))?;
    let mut builder = http.request(method, &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.map_err(|e| error_chain(&e))?;
    let status = response.status();
    // reqwest speaks HTTP/1.1 here (no http2 feature) and keeps hyper's reason phrase.
    let reason = reason_phrase(status, response.extensions());
    let headers = header_pairs(response.headers());
    let body = response
        .text()
        .await
        .map_err(|e| format!("reading the response: {e}"))?;
    Ok(Response {
        status: status.as_u16(),
        reason,
        headers,
        body,
    })
}

/// reqwest's own message says little ("error sending request"); its sources say why.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The status line's reason phrase: the one sent, else the status code's standard one.
pub(crate) fn reason_phrase(
    status: http::StatusCode,
    extensions: &http::Extensions,
) -> Option<String> {
    match extensions.get::<hyper::ext::ReasonPhrase>() {
        Some(phrase) => Some(String::from_utf8_lossy(phrase.as_bytes()).into_owned()),
        None => status.canonical_reason().map(str::to_owned),
    }
}

pub(crate) fn header_pairs(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    /// A server whose every answer is `400 Non-user identities …` in the status line.
    async fn phrase_server() -> String {
        let app = axum::Router::new().fallback(|| async {
            let mut response = (http::StatusCode::BAD_REQUEST, "body").into_response();
            let phrase = hyper::ext::ReasonPhrase::from_static(
                b"Non-user identities cannot create new projects.",
            );
            response.extensions_mut().insert(phrase);
            response
        });
        serve(app).await
    }

    /// `app` on a loopback port: its base URL.
    async fn serve(app: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        base
    }

    #[tokio::test]
    async fn both_clients_keep_the_reason_phrase() {
        let base = phrase_server().await;
        let request = Outgoing {
            method: "POST".into(),
            url: format!("{base}/legacy/"),
            headers: Vec::new(),
            body: Some(b"x".to_vec()),
        };
        let expected = Some("Non-user identities cannot create new projects.".to_owned());
        let plain = send_http1(&request).await.unwrap();
        assert_eq!((plain.status, plain.reason), (400, expected.clone()));
        // The https path, through reqwest, over the same server.
        let http = reqwest::Client::new();
        let through_reqwest = send_reqwest(&http, &request).await.unwrap();
        assert_eq!(
            (through_reqwest.status, through_reqwest.reason),
            (400, expected)
        );
    }

    #[tokio::test]
    async fn the_https_client_is_built_at_the_first_https_request() {
        let base = phrase_server().await;
        let client = Client::new(Duration::from_secs(5));
        let mut request = Outgoing {
            method: "GET".into(),
            url: format!("{base}/"),
            headers: Vec::new(),
            body: None,
        };
        let plain = send(&client, &request, client.timeout).await.unwrap();
        assert_eq!(plain.status, 400);
        let control = client.control(&request.url).unwrap();
        assert_eq!(
            control.get(&request.url).send().await.unwrap().status(),
            400
        );
        assert!(client.https.get().is_none(), "an http request built it");
        request.url = base.replacen("http://", "https://", 1);
        let refused = send(&client, &request, client.timeout).await.unwrap_err();
        assert!(
            refused.starts_with(&format!("GET {}", request.url)),
            "{refused}"
        );
        assert!(client.clone().https.get().is_some());
    }

    /// A server redirecting `/to-http` to its own `/answer` and `/to-https` to an https URL.
    async fn redirecting_server() -> String {
        let app = axum::Router::new()
            .route(
                "/to-http",
                axum::routing::put(|| async { axum::response::Redirect::temporary("/answer") }),
            )
            .route(
                "/to-https",
                axum::routing::put(|| async {
                    axum::response::Redirect::temporary("https://127.0.0.1:9/answer")
                }),
            )
            .route("/answer", axum::routing::put(|| async { "answered" }));
        serve(app).await
    }

    #[tokio::test]
    async fn an_http_control_endpoint_is_followed_over_http_only() {
        let base = redirecting_server().await;
        let client = Client::new(Duration::from_secs(5));
        let to_http = format!("{base}/to-http");
        let control = client.control(&to_http).unwrap();
        let answer = control.put(&to_http).send().await.unwrap();
        assert_eq!(answer.text().await.unwrap(), "answered");
        let to_https = format!("{base}/to-https");
        let refused = control.put(&to_https).send().await.unwrap_err();
        let message = error_chain(&refused);
        assert!(message.contains("give that as --control-url"), "{message}");
        assert!(client.https.get().is_none());
    }
}
