//! Key fetches through an issuer network (no sockets: how the harness runs its embedded
//! registry) and redirects, which the key store follows itself at every hop (R-JWKS-3).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use mock_issuer::{Endpoint, IssuerMode, JwksFault, MockIssuer, MockService, Provider as Mock};
use reference_registry::fixture::Provider;
use reference_registry::{IssuerNetwork, NetworkAnswer, RegistryConfig};
use reqwest::Url;

use crate::support::{
    Target, assert_refused_at_the_fetch_timeout, canonical_issuer, standard_fixture, trust,
};

const INVALID: &str = "malformed or invalid token";

/// Every URL answered by one mock's handlers.
#[derive(Debug)]
struct OneMock(MockService);

impl IssuerNetwork for OneMock {
    fn get(&self, url: &Url) -> NetworkAnswer<'_> {
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let request = http::Request::get(target).body(Body::empty()).unwrap();
        Box::pin(async move { Some(self.0.call(request).await) })
    }
}

/// Answers every request with a redirect to the same URL, counting them.
#[derive(Debug, Default)]
struct RedirectLoop(AtomicUsize);

impl IssuerNetwork for RedirectLoop {
    fn get(&self, url: &Url) -> NetworkAnswer<'_> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let answer = http::Response::builder()
            .status(302)
            .header("location", url.path())
            .body(Body::empty())
            .unwrap();
        Box::pin(async move { Some(answer) })
    }
}

/// Never answers.
#[derive(Debug)]
struct Silent;

impl IssuerNetwork for Silent {
    fn get(&self, _: &Url) -> NetworkAnswer<'_> {
        Box::pin(std::future::pending())
    }
}

async fn in_process_github() -> MockIssuer {
    MockIssuer::builder()
        .issuer_mode(IssuerMode::Canonical(Mock::Github))
        .in_process("http://github.mock.invalid")
        .start()
        .await
        .unwrap()
}

/// A registry trusting `issuer` through discovery, fetching through `network`.
async fn registry(issuer: &MockIssuer, network: Arc<dyn IssuerNetwork>) -> Target {
    let fixture = standard_fixture(issuer, Provider::Github);
    let config = RegistryConfig {
        issuer_network: Some(network),
        ..RegistryConfig::default()
    };
    Target::with_config(config, &fixture).await
}

fn token(issuer: &MockIssuer) -> String {
    let signed = issuer.token(mock_issuer::Profile::Github).sign().unwrap();
    signed.as_str().to_owned()
}

#[tokio::test]
async fn an_issuer_network_serves_the_keys_without_a_socket() {
    let issuer = in_process_github().await;
    assert_eq!(issuer.address(), None);
    assert_eq!(
        issuer.discovery_url(),
        "http://github.mock.invalid/.well-known/openid-configuration"
    );
    // Not loopback, and remote issuers are not allowed: a network of in-process mocks is
    // no network, so the loopback rule does not stop it.
    let target = registry(&issuer, Arc::new(OneMock(issuer.service()))).await;
    target.mint(&token(&issuer)).await.assert_minted();
    assert_eq!(issuer.hits(Endpoint::Discovery), 1);
    assert_eq!(issuer.hits(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn r_jwks_3_a_redirected_jwks_is_followed_through_an_issuer_network() {
    let issuer = in_process_github().await;
    issuer.set_jwks_fault(Some(JwksFault::Redirect));
    let target = registry(&issuer, Arc::new(OneMock(issuer.service()))).await;
    target.mint(&token(&issuer)).await.assert_minted();
    assert_eq!(
        issuer.hits(Endpoint::Jwks),
        2,
        "the redirect, then the keys"
    );
}

#[tokio::test]
async fn r_jwks_3_redirects_end_after_ten() {
    let issuer = in_process_github().await;
    let redirects = Arc::new(RedirectLoop::default());
    let target = registry(&issuer, redirects.clone()).await;
    target
        .mint(&token(&issuer))
        .await
        .assert_error("invalid-token", INVALID);
    // The discovery URL, then ten redirects; the eleventh is not followed.
    assert_eq!(redirects.0.load(Ordering::SeqCst), 11);
}

/// A plain-http loopback server answering every request with a redirect to `location`.
async fn redirecting_to(location: &str) -> String {
    let location = location.to_owned();
    let app = axum::Router::new()
        .fallback(move || async move { axum::response::Redirect::temporary(&location) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app).into_future());
    base
}

/// The client is chosen at every hop: a plain-http discovery URL redirecting to an https
/// issuer is followed trusting the fixture's CA.
#[tokio::test]
async fn r_jwks_3_a_redirect_from_http_to_https_is_followed_with_the_fixtures_ca() {
    let issuer = MockIssuer::builder().tls(true).start().await.unwrap();
    let base = redirecting_to(&issuer.discovery_url()).await;
    let mut fixture = standard_fixture(&issuer, Provider::Github);
    fixture.issuers[0].discovery_url = Some(format!("{base}/.well-known/openid-configuration"));
    fixture.ca_pem = issuer.ca_pem().map(str::to_owned);
    let target = Target::with_fixture(&fixture).await;
    let token = issuer.token(mock_issuer::Profile::Github).sign().unwrap();
    target.mint(token.as_str()).await.assert_minted();
    assert_eq!(issuer.hits(Endpoint::Discovery), 1);
}

#[tokio::test]
async fn a_redirect_off_loopback_is_refused() {
    // That no connection is tried is shown by `jwks::tests` (the error is `Remote`); here, that a
    // registry refuses the token and mints once the redirect is gone.
    // A loopback "issuer" whose discovery document redirects to TEST-NET-1 (RFC 5737).
    let base = redirecting_to("http://192.0.2.1/.well-known/openid-configuration").await;
    let issuer = canonical_issuer(Provider::Github).await;
    let mut fixture = standard_fixture(&issuer, Provider::Github);
    fixture.issuers[0].discovery_url = Some(format!("{base}/.well-known/openid-configuration"));
    let target = Target::with_fixture(&fixture).await;
    let started = Instant::now();
    target
        .mint(&token(&issuer))
        .await
        .assert_error("invalid-token", INVALID);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // The same fixture without the redirect mints: the refusal was the redirect's.
    fixture.issuers[0] = trust(&issuer, Provider::Github, true);
    target.registry.apply(&fixture).unwrap();
    target.mint(&token(&issuer)).await.assert_minted();
}

#[tokio::test]
async fn r_def_1_an_issuer_network_that_never_answers_times_out_after_5_seconds() {
    let issuer = in_process_github().await;
    let target = registry(&issuer, Arc::new(Silent)).await;
    assert_refused_at_the_fetch_timeout(target.mint(&token(&issuer))).await;
}
