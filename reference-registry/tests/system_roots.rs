//! An https issuer whose fixture names no CA is fetched trusting the system's roots, which
//! the registry loads only at its first https fetch (plain-http fetches need none). A test
//! binary of its own: the system's roots come from `SSL_CERT_FILE` here, and the variable is
//! set before any other thread runs.

#[path = "support/mod.rs"]
mod support;

use mock_issuer::{MockIssuer, Profile};
use reference_registry::fixture::Provider;
use support::{Target, standard_fixture};

#[test]
fn an_https_issuer_without_a_fixture_ca_is_checked_against_the_roots_at_its_first_fetch() {
    let roots = tempfile::NamedTempFile::new().unwrap();
    // SAFETY: the only test in this binary, and no runtime has started: no other thread can
    // be reading the environment.
    unsafe { std::env::set_var("SSL_CERT_FILE", roots.path()) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let issuer = MockIssuer::builder().tls(true).start().await.unwrap();
        // While the fixture is applied the system trusts another CA only: roots read then
        // would not verify the issuer.
        let elsewhere = MockIssuer::builder().tls(true).start().await.unwrap();
        std::fs::write(roots.path(), elsewhere.ca_pem().unwrap()).unwrap();
        let fixture = standard_fixture(&issuer, Provider::Github);
        assert_eq!(fixture.ca_pem, None);
        let target = Target::with_fixture(&fixture).await;
        std::fs::write(roots.path(), issuer.ca_pem().unwrap()).unwrap();
        let token = issuer.token(Profile::Github).sign().unwrap();
        target.mint(token.as_str()).await.assert_minted();
    });
}
