//! `mintcheck registry`: the reference registry as a long-running server.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use mock_issuer::tls::TestCa;
use reference_registry::{FixtureDocument, Registry, RegistryConfig, SystemClock, app};

use super::{UsageError, in_use_is_usage};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Prints one line on stdout when ready, {\"mintcheck\":\"ready\",\"base_url\":\"http://127.0.0.1:PORT\"}
(with --tls: https, and \"ca_file\":\"/tmp/mintcheck-ca-….pem\"), then serves GET /_/oidc/audience, POST /_/oidc/mint-token (and /_/oidc/github/mint-token) and
POST /legacy/ until Ctrl-C or SIGTERM. Diagnostics go to stderr. The fixture document format and
its JSON Schema: docs/reference-registry.md, docs/fixture.schema.json.

Exit codes: 0 stopped by Ctrl-C or SIGTERM; 1 could not start or serve; 2 usage error (a bad
flag, a missing, unreadable or invalid --fixture, a non-loopback --addr without --allow-remote,
an --addr another program holds).")]
pub struct RegistryArgs {
    /// Address to listen on. Non-loopback addresses also need --allow-remote.
    #[arg(long, env = "MINTCHECK_ADDR", default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Allow listening on a non-loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// A fixture document (JSON) to apply at start: issuers and where their keys are, flags,
    /// projects, publishers, pending publishers. Without one no issuer's keys are reachable
    /// (unless --allow-remote-issuers), so every token fails verification.
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
    /// Enable PUT /__mintcheck/fixture, which replaces the state with the fixture document in
    /// the body, for requests carrying `Authorization: Bearer <T>`.
    #[arg(
        long,
        value_name = "T",
        env = "MINTCHECK_CONTROL_TOKEN",
        hide_env_values = true
    )]
    control_token: Option<String>,
    /// The audience tokens must carry, when the fixture names none.
    #[arg(long, default_value = "pypi")]
    audience: String,
    /// Let key refreshes contact non-loopback hosts (such as the real issuers' discovery
    /// documents). Off: only loopback addresses are ever contacted.
    #[arg(long)]
    allow_remote_issuers: bool,
    /// Serve https with a CA generated at start (a certificate for 127.0.0.1, ::1 and
    /// localhost); the ready line gives the CA's PEM file as ca_file, for SSL_CERT_FILE /
    /// REQUESTS_CA_BUNDLE. Clients such as uv only mint over https.
    #[arg(long)]
    tls: bool,
}

pub async fn run(args: RegistryArgs) -> anyhow::Result<()> {
    if !args.addr.ip().is_loopback() && !args.allow_remote {
        let message = format!(
            "{} is not a loopback address; add --allow-remote to listen on it",
            args.addr
        );
        return Err(UsageError(message).into());
    }
    let config = RegistryConfig {
        audience: args.audience,
        clock: Arc::new(SystemClock),
        allow_remote_issuers: args.allow_remote_issuers,
        control_token: args.control_token,
        https: args.tls,
        issuer_network: None,
    };
    let registry = Registry::new(config);
    apply_fixture(
        &registry,
        args.fixture.as_deref(),
        args.allow_remote_issuers,
    )?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))
        .map_err(|err| in_use_is_usage(err, "--addr", &args.addr))?;
    let ca = if args.tls {
        Some(TestCa::generate().context("generating the TLS certificate authority")?)
    } else {
        None
    };
    let scheme = if ca.is_some() { "https" } else { "http" };
    let base_url = format!("{scheme}://{}", listener.local_addr()?);
    // Field order matters to line-oriented readers, so the line is written by hand.
    let ca_file = match &ca {
        Some(ca) => format!(
            r#","ca_file":{}"#,
            serde_json::to_string(&ca.ca_path().display().to_string())?
        ),
        None => String::new(),
    };
    let stop = super::signals::interrupted();
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        r#"{{"mintcheck":"ready","base_url":{}{ca_file}}}"#,
        serde_json::to_string(&base_url)?
    )?;
    stdout.flush()?;
    drop(stdout);
    let app = app(registry);
    match &ca {
        Some(ca) => {
            tokio::select! {
                () = ca.serve(listener, app) => {}
                _ = stop => {}
            }
        }
        None => axum::serve(listener, app)
            .with_graceful_shutdown(async {
                stop.await;
            })
            .await
            .context("serving")?,
    }
    Ok(())
}

/// Gives the registry `--fixture`'s document, and says on stderr what it trusts.
fn apply_fixture(
    registry: &Registry,
    fixture: Option<&std::path::Path>,
    remote_issuers: bool,
) -> anyhow::Result<()> {
    match fixture {
        Some(path) => {
            let text = super::read_input(path)?;
            let document = FixtureDocument::from_json(text.as_bytes())
                .and_then(|document| registry.apply(&document).map(|()| document))
                .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
            eprintln!(
                "mintcheck registry: fixture {}: {} issuer(s), {} project(s), {} publisher(s), {} pending",
                path.display(),
                document.issuers.len(),
                document.projects.len(),
                document.publishers.len(),
                document.pending_publishers.len()
            );
        }
        None if remote_issuers => eprintln!(
            "mintcheck registry: no fixture: trusting the real canonical issuers, keys fetched from their discovery documents"
        ),
        None => eprintln!(
            "mintcheck registry: no fixture: no issuer is trusted with keys (remote issuers are not contacted), so every token fails verification"
        ),
    }
    Ok(())
}
