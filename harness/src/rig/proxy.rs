//! The issuer proxy (`--issuer-proxy`): an HTTP CONNECT proxy on loopback that sends each
//! issuer host of the run (`token.actions.githubusercontent.com`, `gitlab.com`, a custom
//! GitLab's host, ...) to the mock issuer standing in for it, and refuses every other host.
//!
//! A registry that derives discovery from the token's `iss`, as PyPI does, then reaches the
//! mock issuers unmodified: it is given `HTTPS_PROXY` and the run's CA, and the TLS inside
//! the tunnel is the mock's, whose certificate names the issuer's host. Nothing leaves
//! loopback: the proxy connects only to the mocks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The longest request head the proxy reads before it gives up on a client.
const MAX_HEAD: usize = 8 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("starting the issuer proxy on {addr}: {source}")]
pub struct ProxyError {
    addr: String,
    source: std::io::Error,
}

/// A running proxy; dropping it stops it.
pub struct IssuerProxy {
    addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, SocketAddr>>>,
    tunnels: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for IssuerProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerProxy")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for IssuerProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl IssuerProxy {
    /// Listens on `addr` (loopback, `127.0.0.1:0` for any port) with no routes yet.
    pub async fn start(addr: &str) -> Result<IssuerProxy, ProxyError> {
        let failed = |source| ProxyError {
            addr: addr.to_owned(),
            source,
        };
        let listener = TcpListener::bind(addr).await.map_err(failed)?;
        let addr = listener.local_addr().map_err(failed)?;
        let routes: Arc<Mutex<HashMap<String, SocketAddr>>> = Arc::default();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let (table, count) = (routes.clone(), tunnels.clone());
        let server = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (table, count) = (table.clone(), count.clone());
                tokio::spawn(async move {
                    let _ = tunnel(client, &table, &count).await;
                });
            }
        });
        Ok(IssuerProxy {
            addr,
            routes,
            tunnels,
            server,
        })
    }

    /// How many tunnels to mock issuers the proxy has opened.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::Relaxed)
    }

    /// The value for `HTTPS_PROXY`: `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the routes: each issuer host to the mock serving it. The target applying a
    /// fixture reaches that fixture's mocks from then on.
    pub fn route(&self, routes: impl IntoIterator<Item = (String, SocketAddr)>) {
        let table: HashMap<String, SocketAddr> = routes
            .into_iter()
            .map(|(host, addr)| (host.to_ascii_lowercase(), addr))
            .collect();
        *self.routes.lock().unwrap_or_else(|p| p.into_inner()) = table;
    }

    /// The environment a target process needs to go through the proxy: `HTTPS_PROXY` and
    /// `https_proxy`, and `NO_PROXY`/`no_proxy` for loopback (the fixture's own URLs).
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        let loopback = "localhost,127.0.0.1,::1".to_owned();
        vec![
            ("HTTPS_PROXY", self.url()),
            ("https_proxy", self.url()),
            ("NO_PROXY", loopback.clone()),
            ("no_proxy", loopback),
        ]
    }
}

/// Serves one client: `CONNECT host:port` to a routed host gets a tunnel to its mock;
/// anything else a refusal that says why.
async fn tunnel(
    client: TcpStream,
    routes: &Mutex<HashMap<String, SocketAddr>>,
    tunnels: &AtomicUsize,
) -> std::io::Result<()> {
    let mut client = BufReader::new(client);
    let mut head = String::new();
    loop {
        let before = head.len();
        if client.read_line(&mut head).await? == 0 || head.len() > MAX_HEAD {
            return Ok(());
        }
        if head[before..].trim_end().is_empty() {
            break;
        }
    }
    let request = head.lines().next().unwrap_or_default();
    let mut words = request.split_whitespace();
    let (method, authority) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    let host = authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    let route = routes
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&host)
        .copied();
    let refuse = |status: &str, why: String| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{why}",
            why.len()
        )
    };
    let mut client = client.into_inner();
    let (route, answer) = match (method, route) {
        ("CONNECT", Some(route)) => (
            route,
            "HTTP/1.1 200 Connection established\r\n\r\n".to_owned(),
        ),
        ("CONNECT", None) => {
            let why = format!(
                "mintcheck's issuer proxy only reaches the run's mock issuers; {authority} is not one of them\n"
            );
            return client
                .write_all(refuse("403 Forbidden", why).as_bytes())
                .await;
        }
        _ => {
            let why = "mintcheck's issuer proxy only tunnels (CONNECT host:443)\n".to_owned();
            return client
                .write_all(refuse("405 Method Not Allowed", why).as_bytes())
                .await;
        }
    };
    let mut upstream = match TcpStream::connect(route).await {
        Ok(upstream) => upstream,
        Err(e) => {
            let why = format!("the mock issuer for {host} is gone: {e}\n");
            return client
                .write_all(refuse("502 Bad Gateway", why).as_bytes())
                .await;
        }
    };
    client.write_all(answer.as_bytes()).await?;
    tunnels.fetch_add(1, Ordering::Relaxed);
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    async fn ask(proxy: &IssuerProxy, request: &str) -> (TcpStream, String) {
        let mut stream = TcpStream::connect(proxy.addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = vec![0; 512];
        let n = stream.read(&mut answer).await.unwrap();
        (stream, String::from_utf8_lossy(&answer[..n]).into_owned())
    }

    #[tokio::test]
    async fn routed_hosts_are_tunnelled_and_others_refused() {
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = upstream.accept().await.unwrap();
            let mut greeting = [0; 5];
            socket.read_exact(&mut greeting).await.unwrap();
            socket.write_all(b"hello back").await.unwrap();
        });
        let proxy = IssuerProxy::start("127.0.0.1:0").await.unwrap();
        proxy.route([("Gitlab.com".to_owned(), upstream_addr)]);

        let (mut tunnel, answer) = ask(
            &proxy,
            "CONNECT gitlab.com:443 HTTP/1.1\r\nHost: gitlab.com:443\r\n\r\n",
        )
        .await;
        assert_eq!(answer, "HTTP/1.1 200 Connection established\r\n\r\n");
        tunnel.write_all(b"hello").await.unwrap();
        let mut reply = String::new();
        tunnel.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "hello back");
        assert_eq!(proxy.tunnels(), 1);

        let (_, answer) = ask(&proxy, "CONNECT pypi.org:443 HTTP/1.1\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
        assert!(
            answer.contains("pypi.org:443 is not one of them"),
            "{answer}"
        );
        let (_, answer) = ask(&proxy, "GET http://gitlab.com/ HTTP/1.1\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");

        // New routes replace the old: the previous scenario's mocks are unreachable.
        proxy.route([]);
        let (_, answer) = ask(&proxy, "CONNECT gitlab.com:443 HTTP/1.1\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
        assert_eq!(proxy.environment()[0], ("HTTPS_PROXY", proxy.url()));
    }

    /// A registry with a pooled HTTP client, as most are, fetching keys through the proxy
    /// while the mocks behind `token.actions.githubusercontent.com:443` change between
    /// scenarios: each fetch must reach the mock routed now, even while the previous one
    /// still runs (a failed scenario's mocks are kept for debugging) with other keys.
    #[tokio::test]
    async fn a_pooled_client_reaches_the_mock_routed_now() {
        use mock_issuer::tls::TestCa;
        use mock_issuer::{IssuerMode, KeySet, Provider};

        let ca = Arc::new(TestCa::generate().unwrap());
        let start = |keys| {
            crate::rig::issuers::scenario_issuer(
                IssuerMode::Canonical(Provider::Github),
                keys,
                Some(&ca),
            )
            .start()
        };
        let proxy = IssuerProxy::start("127.0.0.1:0").await.unwrap();
        let client = reqwest::Client::builder()
            .proxy(reqwest::Proxy::https(proxy.url()).unwrap())
            .add_root_certificate(reqwest::Certificate::from_pem(ca.ca_pem().as_bytes()).unwrap())
            .build()
            .unwrap();
        // The providers' keys share `kid`s; the modulus tells them apart.
        let fetch_modulus = || async {
            let jwks: serde_json::Value = client
                .get("https://token.actions.githubusercontent.com/.well-known/jwks")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            jwks["keys"][0]["n"].clone()
        };
        let mut kept = Vec::new();
        for provider in [Provider::Github, Provider::Gitlab, Provider::Github] {
            let keys = KeySet::embedded_for(provider);
            let mock = start(keys.clone()).await.unwrap();
            proxy.route([(
                "token.actions.githubusercontent.com".to_owned(),
                mock.address().expect("bound"),
            )]);
            assert_eq!(
                fetch_modulus().await,
                keys.primary.jwk()["n"],
                "keys of {provider:?}"
            );
            kept.push(mock);
        }
        assert_eq!(proxy.tunnels(), 3, "one tunnel per mock, none reused");
    }
}
