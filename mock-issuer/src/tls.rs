//! A throw-away certificate authority and a loopback server certificate, so https-only
//! clients and registries can talk to the mock with `SSL_CERT_FILE` pointing at the CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::profile::Provider;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("generating the test CA or certificate failed: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("TLS server configuration failed: {0}")]
    Config(#[from] rustls::Error),
    #[error("writing the CA certificate to {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The names every generated server certificate covers: loopback, plus the canonical
/// issuers' hosts so a registry with hard-coded issuer URLs can be pointed at the mock with
/// a hosts entry or a proxy.
pub fn server_names() -> Vec<String> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    names.extend(Provider::ALL.map(|p| issuer_host(p.canonical_issuer()).to_owned()));
    names
}

/// The host of an issuer URL (`https://gitlab.acme.example/x` → `gitlab.acme.example`), or
/// the text itself when it is not a URL with a host.
pub fn issuer_host(issuer: &str) -> &str {
    let rest = issuer.split_once("://").map_or(issuer, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(authority, |(host, _)| host)
}

/// A CA (its PEM also written to a file) and a rustls server configuration whose
/// certificate it signed. The CA file is deleted when this is dropped.
pub struct TestCa {
    ca_pem: String,
    ca_file: tempfile::TempPath,
    server_config: Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa")
            .field("ca_path", &self.ca_path())
            .finish_non_exhaustive()
    }
}

impl TestCa {
    /// A CA whose server certificate names [`server_names`].
    pub fn generate() -> Result<TestCa, TlsError> {
        Self::generate_for(&[])
    }

    /// A CA whose server certificate names [`server_names`] and `extra_hosts` (custom issuers'
    /// hosts, so a registry that checks hostnames trusts their mocks too).
    pub fn generate_for(extra_hosts: &[String]) -> Result<TestCa, TlsError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mintcheck test CA (do not trust)");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let mut names = server_names();
        for host in extra_hosts {
            if !names.contains(host) {
                names.push(host.clone());
            }
        }
        let mut leaf_params = CertificateParams::new(names)?;
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "mintcheck mock server");
        let leaf_key = KeyPair::generate()?;
        let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

        let ca_pem = ca.pem();
        let write_error = |source| TlsError::Write {
            path: std::env::temp_dir(),
            source,
        };
        let file = tempfile::Builder::new()
            .prefix("mintcheck-ca-")
            .suffix(".pem")
            .tempfile()
            .map_err(write_error)?;
        std::fs::write(file.path(), &ca_pem).map_err(|source| TlsError::Write {
            path: file.path().to_owned(),
            source,
        })?;

        let chain = vec![
            CertificateDer::from(leaf.der().to_vec()),
            CertificateDer::from(ca.der().to_vec()),
        ];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TestCa {
            ca_pem,
            ca_file: file.into_temp_path(),
            server_config: Arc::new(config),
        })
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A file holding [`Self::ca_pem`], for `SSL_CERT_FILE` / `REQUESTS_CA_BUNDLE`.
    pub fn ca_path(&self) -> &Path {
        &self.ca_file
    }

    pub(crate) fn server_config(&self) -> Arc<rustls::ServerConfig> {
        self.server_config.clone()
    }

    /// Serves `app` over https with this CA's server certificate, so any other loopback
    /// service (a registry beside the mock issuers) is trusted through the same CA file.
    /// Runs until the future is dropped; dropping it closes every connection.
    pub fn serve(
        &self,
        listener: tokio::net::TcpListener,
        app: axum::Router,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.server_config());
        crate::server::listen::serve(listener, Some(acceptor), app, false)
    }
}
