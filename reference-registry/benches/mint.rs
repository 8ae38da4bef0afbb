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
const CONCURRENCY: usize = 8;
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
    let registry = Registry::new(RegistryConfig::default());
    registry.apply(&fixture).expect("the bench fixture applies");

    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let (minted, elapsed) = runtime.block_on(mint_all(registry, tokens.clone()));
    let mints_per_second = minted as f64 / elapsed.as_secs_f64();

    let verifies_per_second = raw_verifies(&tokens[0], signing.jwk());
    println!(
        "signed {} GitHub tokens in {:.2} s",
        tokens.len(),
        signing_took.as_secs_f64()
    );
    println!(
        "successful mints: {minted} in {:.2} s over loopback ({CONCURRENCY} connections)",
        elapsed.as_secs_f64()
    );
    println!("mints/s            {mints_per_second:>10.0}");
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

async fn mint_all(registry: Registry, tokens: Vec<String>) -> (usize, Duration) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let url = format!(
        "http://{}/_/oidc/mint-token",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(axum::serve(listener, app(registry)).into_future());
    let client = reqwest::Client::new();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(tokens));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, queue) = (client.clone(), url.clone(), queue.clone());
            tokio::spawn(async move {
                let mut minted = 0;
                while started.elapsed() < BUDGET {
                    let Some(token) = queue.lock().expect("queue").pop() else {
                        break;
                    };
                    let body = serde_json::to_vec(&json!({"token": token})).expect("json");
                    let response = client.post(&url).body(body).send().await.expect("request");
                    assert_eq!(
                        response.status(),
                        200,
                        "{}",
                        response.text().await.unwrap_or_default()
                    );
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
