//! Successful mints per second over loopback HTTP, against raw RS256 verifications per second
//! measured in the same run: the ratio is the cost of everything around the signature check.
//!
//! `cargo bench -p reference-registry --bench mint`

use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mock_issuer::{Forger, KeySet, Profile};
use reference_registry::fixture::{GithubIdentity, Identity, Issuer, Project, Provider, Publisher};
use reference_registry::{FixtureDocument, Registry, RegistryConfig, app};
use serde_json::json;

/// Enough for about half a second of minting; signing them is most of the bench's runtime.
const TOKENS: usize = 12_000;
const BUDGET: Duration = Duration::from_secs(2);

fn main() {
    let keys = KeySet::embedded();
    let signing = keys.all()[0].clone();
    let issuer = Provider::Github.canonical_issuer();
    let forger = Forger::new(&keys).with_issuer(issuer);
    let signing_started = Instant::now();
    let tokens = sign_tokens(&forger);
    let signing_took = signing_started.elapsed();

    let mut fixture = FixtureDocument::new();
    fixture.issuers.push(Issuer {
        provider: Provider::Github,
        issuer: issuer.to_owned(),
        canonical: true,
        discovery_url: None,
        jwks_url: None,
        jwks: Some(json!({"keys": [signing.jwk()]})),
    });
    fixture.projects.push(Project {
        name: "widgetry".into(),
        id: None,
    });
    fixture.publishers.push(Publisher {
        id: None,
        projects: vec!["widgetry".into()],
        identity: Identity::Github(GithubIdentity {
            repository_owner: "acme-labs".into(),
            repository_name: "widgetry".into(),
            repository_owner_id: "48213977".into(),
            workflow_filename: "publish.yml".into(),
            environment: "pypi".into(),
        }),
    });
    let registry = || {
        let registry = Registry::new(RegistryConfig::default());
        registry.apply(&fixture).expect("the bench fixture applies");
        registry
    };

    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let (minted, elapsed) = runtime.block_on(mint_all(registry(), tokens.clone()));
    let mints_per_second = minted as f64 / elapsed.as_secs_f64();
    // On a thread of its own, named so a profiler can tell it from the signers and the
    // HTTP runs: `perf report --comm routed` is the registry without HTTP.
    let (routed, routed_elapsed) = std::thread::Builder::new()
        .name("routed".into())
        .spawn({
            let (registry, tokens) = (registry(), tokens.clone());
            move || {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("a tokio runtime")
                    .block_on(mint_routed(registry, tokens))
            }
        })
        .expect("a thread")
        .join()
        .expect("the routed run");

    let verifies_per_second = raw_verifies(&tokens[0], signing.jwk());
    println!(
        "signed {} GitHub tokens in {:.2} s",
        tokens.len(),
        signing_took.as_secs_f64()
    );
    println!(
        "successful mints: {minted} in {:.2} s over loopback ({} keep-alive connections, a minimal client)",
        elapsed.as_secs_f64(),
        connections()
    );
    println!("mints/s            {mints_per_second:>10.0}");
    println!(
        "  no HTTP          {:>10.0}  (the router called in process, one thread)",
        routed as f64 / routed_elapsed.as_secs_f64()
    );
    println!(
        "raw RS256 verify/s {verifies_per_second:>10.0}  (aws-lc-rs, pre-parsed key, one thread)"
    );
    println!(
        "ratio              {:>10.3}  (mints per raw verify)",
        mints_per_second / verifies_per_second
    );
}

/// Distinct-`jti` GitHub tokens, signed on every core.
fn sign_tokens(forger: &Forger) -> Vec<String> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    (0..TOKENS / threads)
                        .map(|_| forger.token(Profile::Github).sign().expect("signs").compact)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signer thread"))
            .collect()
    })
}

/// One client connection per core, as the signing bench has: enough to keep every core
/// busy, and no more tasks than cores to switch between (8 connections on 2 cores mint
/// 15 % fewer tokens per second, all of it scheduling).
fn connections() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Mints every token over loopback on [`connections`] keep-alive connections, each driven
/// by a minimal HTTP/1.1 client (write the request, read the head, read Content-Length
/// bytes), so the measurement is the registry's cost and not a full client stack's.
async fn mint_all(registry: Registry, tokens: Vec<String>) -> (usize, Duration) {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(axum::serve(listener, app(registry)).into_future());
    let queue = std::sync::Arc::new(std::sync::Mutex::new(tokens));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections())
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
                stream.set_nodelay(true).expect("nodelay");
                let mut stream = BufReader::new(stream);
                let mut line = String::new();
                let mut minted = 0;
                while started.elapsed() < BUDGET {
                    let Some(token) = queue.lock().expect("queue").pop() else {
                        break;
                    };
                    let body = format!(r#"{{"token":"{token}"}}"#);
                    let request = format!(
                        "POST /_/oidc/mint-token HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    stream.get_mut().write_all(request.as_bytes()).await.expect("sends");
                    let mut length = 0;
                    loop {
                        line.clear();
                        stream.read_line(&mut line).await.expect("reads");
                        if line.starts_with("HTTP/1.1 ") {
                            assert!(line.starts_with("HTTP/1.1 200"), "{line}");
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(value) = lower.strip_prefix("content-length:") {
                            length = value.trim().parse().expect("a length");
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).await.expect("the body");
                    minted += 1;
                }
                minted
            })
        })
        .collect();
    let mut minted = 0;
    for worker in workers {
        minted += worker.await.expect("worker");
    }
    (minted, started.elapsed())
}

async fn mint_routed(registry: Registry, tokens: Vec<String>) -> (usize, Duration) {
    use tower::ServiceExt as _;
    let router = app(registry);
    let started = Instant::now();
    let mut minted = 0;
    for token in tokens {
        if started.elapsed() >= BUDGET {
            break;
        }
        let body = serde_json::to_vec(&json!({"token": token})).expect("json");
        let request = http::Request::post("/_/oidc/mint-token")
            .header("host", "127.0.0.1")
            .body(axum::body::Body::from(body))
            .expect("a request");
        let response = router.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), 200);
        minted += 1;
    }
    (minted, started.elapsed())
}

fn raw_verifies(token: &str, jwk: &serde_json::Value) -> f64 {
    let component = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().expect("jwk member"))
            .expect("base64url")
    };
    let key: ParsedPublicKey = RsaPublicKeyComponents {
        n: component("n"),
        e: component("e"),
    }
    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
    .expect("an RSA key");
    let (signing_input, signature) = token.rsplit_once('.').expect("a JWS");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            key.verify_sig(signing_input.as_bytes(), &signature)
                .expect("verifies");
        }
        count += 100;
    }
    count as f64 / started.elapsed().as_secs_f64()
}
