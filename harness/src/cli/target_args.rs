//! The flags that name a target and how fixtures reach it, shared by `run` and `fuzz`.

use std::sync::Arc;
use std::time::Duration;

use mintcheck::rig::issuers::IssuerSetup;
use mintcheck::rig::proxy::IssuerProxy;
use mintcheck::rig::targets::{
    FixtureCommand, Fixtures, Target, TargetCommand, TargetProcess, default_control_url,
};
use mintcheck::suite::report::shell_quote;
use mock_issuer::tls::TestCa;

use super::UsageError;

/// The help text both commands show about targets.
pub const TARGETS_HELP: &str = "\
Targets: none given = the embedded reference registry. --target-url URL = a running registry;
--target-cmd CMD = start one (through sh -c, with MINTCHECK_ADDR=127.0.0.1:0; it prints
{\"mintcheck\":\"ready\",\"base_url\":\"http://127.0.0.1:PORT\"} on stdout within 10 s and is stopped
at the end of the run). Fixtures reach a target through its control endpoint (--control-token;
PUT {control-url}/fixture) or --fixture-cmd (the document on stdin; exit 0 applied, 89
unsupported). With --issuer-tls, both commands get the CA in MINTCHECK_CA_FILE and SSL_CERT_FILE.
--issuer-proxy (implies --issuer-tls) runs a CONNECT proxy that sends the issuers' real hosts
(token.actions.githubusercontent.com, gitlab.com, ...) to the mock issuers, for registries that
derive discovery from iss: both commands get HTTPS_PROXY, https_proxy and NO_PROXY (loopback).";

/// A run's target, ready: how its mock issuers start (their CA, the issuer proxy), the
/// process started for it, where it is.
pub struct Started {
    pub issuers: IssuerSetup,
    pub process: Option<TargetProcess>,
    pub target: Target,
}

/// `--timeout`: a positive number of seconds.
pub fn timeout(seconds: f64) -> Result<Duration, UsageError> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            UsageError(format!(
                "--timeout {seconds} is not a positive number of seconds"
            ))
        })
}

#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// A running target's base URL (default: the embedded reference registry).
    #[arg(long, value_name = "URL", conflicts_with = "target_cmd")]
    pub target_url: Option<String>,
    /// Start the target with this shell command, once for the run.
    #[arg(long, value_name = "CMD")]
    pub target_cmd: Option<String>,
    /// Where fixtures are PUT (default: {base-url}/__mintcheck).
    #[arg(long, value_name = "URL")]
    pub control_url: Option<String>,
    /// Bearer token for the control endpoint (also passed to --target-cmd as
    /// MINTCHECK_CONTROL_TOKEN).
    #[arg(
        long,
        value_name = "T",
        env = "MINTCHECK_CONTROL_TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
    /// Apply each fixture by running this shell command with the fixture document on stdin
    /// (and MINTCHECK_BASE_URL set) instead of the control endpoint.
    #[arg(long, value_name = "CMD", conflicts_with = "control_url")]
    pub fixture_cmd: Option<String>,
    /// Mock issuers serve https with certificates from one CA generated for the run, passed
    /// to the target in the fixture (and to commands as a file).
    #[arg(long)]
    pub issuer_tls: bool,
    /// Run a CONNECT proxy that sends the issuers' real hosts to the mock issuers (and
    /// refuses every other host), for registries that fetch
    /// https://<iss>/.well-known/openid-configuration themselves. Implies --issuer-tls.
    #[arg(long)]
    pub issuer_proxy: bool,
    /// Where the issuer proxy listens (a fixed port lets a registry started by hand use it).
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:0",
        requires = "issuer_proxy"
    )]
    pub issuer_proxy_addr: String,
}

impl TargetArgs {
    /// Which flags go together; the errors say what is missing.
    fn check(&self) -> Result<(), UsageError> {
        if !self.is_remote() {
            for (given, flag) in [
                (self.control_url.is_some(), "--control-url"),
                (self.fixture_cmd.is_some(), "--fixture-cmd"),
            ] {
                if given {
                    return Err(UsageError(format!(
                        "{flag} needs a target: --target-url URL or --target-cmd CMD"
                    )));
                }
            }
            return Ok(());
        }
        if self.fixture_cmd.is_none() && self.control_token.is_none() {
            return Err(UsageError(
                "a target given by --target-url or --target-cmd needs a way to receive fixtures: \
                 --control-token T (PUT {control-url}/fixture) or --fixture-cmd CMD"
                    .into(),
            ));
        }
        Ok(())
    }

    pub fn is_remote(&self) -> bool {
        self.target_url.is_some() || self.target_cmd.is_some()
    }

    /// Whether the mock issuers serve https (the proxy tunnels TLS, so it needs it).
    pub fn tls(&self) -> bool {
        self.issuer_tls || self.issuer_proxy
    }

    /// Checks the flags, generates the issuers' CA (with `--issuer-tls`; its certificate
    /// names `custom_hosts` too), starts the issuer proxy and `--target-cmd` (if asked for)
    /// and says where the target is. `None`: the target could not be started, which is said
    /// on stderr (exit 3).
    pub async fn start(&self, custom_hosts: &[String]) -> Result<Option<Started>, UsageError> {
        self.check()?;
        let started = async {
            let issuer_ca = self.issuer_ca(custom_hosts)?;
            let issuer_proxy = match self.issuer_proxy {
                true => Some(Arc::new(
                    IssuerProxy::start(&self.issuer_proxy_addr)
                        .await
                        .map_err(|e| e.to_string())?,
                )),
                false => None,
            };
            let env = Self::environment(issuer_proxy.as_deref());
            let process = self.start_process(issuer_ca.as_ref(), &env).await?;
            let target = self.target(process.as_ref(), &env);
            let issuers = IssuerSetup {
                tls: self.tls(),
                ca: issuer_ca,
                proxy: issuer_proxy,
            };
            Ok::<_, String>(Started {
                issuers,
                process,
                target,
            })
        };
        match started.await {
            Ok(started) => Ok(Some(started)),
            Err(message) => {
                eprintln!("error: {message}");
                Ok(None)
            }
        }
    }

    /// The one CA of the run's mock issuers, with `--issuer-tls`.
    fn issuer_ca(&self, custom_hosts: &[String]) -> Result<Option<Arc<TestCa>>, String> {
        if !self.tls() {
            return Ok(None);
        }
        TestCa::generate_for(custom_hosts)
            .map(|ca| Some(Arc::new(ca)))
            .map_err(|e| format!("generating the issuers' CA: {e}"))
    }

    /// What the target's commands are given besides the CA: the issuer proxy's variables.
    fn environment(proxy: Option<&IssuerProxy>) -> Vec<(&'static str, String)> {
        proxy.map(IssuerProxy::environment).unwrap_or_default()
    }

    /// Starts `--target-cmd`, if given, telling it the CA, the control token and `env`.
    async fn start_process(
        &self,
        ca: Option<&Arc<TestCa>>,
        env: &[(&'static str, String)],
    ) -> Result<Option<TargetProcess>, String> {
        let Some(command) = &self.target_cmd else {
            return Ok(None);
        };
        let mut starter = TargetCommand::new(command);
        for (name, value) in env {
            starter = starter.env(*name, value);
        }
        if let Some(ca) = ca {
            let path = ca.ca_path().display().to_string();
            starter = starter
                .env("MINTCHECK_CA_FILE", &path)
                .env("SSL_CERT_FILE", &path);
        }
        if let Some(token) = &self.control_token {
            starter = starter.env("MINTCHECK_CONTROL_TOKEN", token);
        }
        starter.start().await.map(Some).map_err(|e| e.to_string())
    }

    /// The target: the process started, else `--target-url`, else the embedded reference.
    fn target(&self, started: Option<&TargetProcess>, env: &[(&'static str, String)]) -> Target {
        let Some(base_url) = started
            .map(TargetProcess::base_url)
            .or(self.target_url.as_deref())
        else {
            return Target::Reference;
        };
        let base_url = base_url.trim_end_matches('/').to_owned();
        let fixtures = match (&self.fixture_cmd, &self.control_token) {
            (Some(command), _) => Fixtures::Command(
                env.iter()
                    .fold(FixtureCommand::new(command), |c, (name, value)| {
                        c.env(*name, value)
                    }),
            ),
            (None, token) => Fixtures::Control {
                url: self
                    .control_url
                    .clone()
                    .unwrap_or_else(|| default_control_url(&base_url)),
                token: token.clone().unwrap_or_default(),
            },
        };
        Target::Remote { base_url, fixtures }
    }

    /// The flags that point a rerun at the same target (the control token by variable).
    pub fn rerun_flags(&self) -> String {
        let mut flags = String::new();
        let mut flag = |name: &str, value: &str| {
            flags.push_str(&format!(" --{name} {}", shell_quote(value)));
        };
        if let Some(url) = &self.target_url {
            flag("target-url", url);
        }
        if let Some(command) = &self.target_cmd {
            flag("target-cmd", command);
        }
        if let Some(url) = &self.control_url {
            flag("control-url", url);
        }
        if let Some(command) = &self.fixture_cmd {
            flag("fixture-cmd", command);
        }
        if self.issuer_proxy {
            flags.push_str(" --issuer-proxy");
        } else if self.issuer_tls {
            flags.push_str(" --issuer-tls");
        }
        if self.fixture_cmd.is_none() && self.is_remote() {
            flags.push_str(" --control-token \"$MINTCHECK_CONTROL_TOKEN\"");
        }
        flags
    }
}
