//! The flags that name a target and how fixtures reach it, shared by `run` and `fuzz`.

use std::sync::Arc;
use std::time::Duration;

use mintcheck::rig::gateway::MockGateway;
use mintcheck::rig::issuers::IssuerSetup;
use mintcheck::rig::proxy::IssuerProxy;
use mintcheck::rig::targets::{
    CA_FILE_VARIABLES, FixtureCommand, Fixtures, Target, TargetCommand, TargetProcess,
    default_control_url,
};
use mintcheck::suite::report::shell_quote;
use mock_issuer::tls::TestCa;

use super::UsageError;

/// The help text both commands show about targets.
pub const TARGETS_HELP: &str = "\
Targets: none given = the embedded reference registry. --target-url URL = a running registry
(repeat it for instances of one registry that share the scenarios); --target-cmd CMD = start one
(through sh -c, with MINTCHECK_ADDR=127.0.0.1:0 and MINTCHECK_INSTANCE=0; it prints
{\"mintcheck\":\"ready\",\"base_url\":\"http://127.0.0.1:PORT\"} on stdout within 10 s and is stopped
at the end of the run; `run --jobs N` starts N, MINTCHECK_INSTANCE=0..N-1, each with its own
fixture state). Fixtures reach a target through its control endpoint (--control-token;
PUT {control-url}/fixture) or --fixture-cmd (the document on stdin; exit 0 applied, 89
unsupported). With --issuer-tls, both commands get the CA in MINTCHECK_CA_FILE, SSL_CERT_FILE
and REQUESTS_CA_BUNDLE.
--issuer-proxy (implies --issuer-tls) runs a CONNECT proxy that sends the issuers' real hosts
(token.actions.githubusercontent.com, gitlab.com, ...) to the mock issuers, for registries that
derive discovery from iss: both commands get HTTPS_PROXY, https_proxy and NO_PROXY (loopback).";

/// A run's target, ready: how its mock issuers start (their CA, the issuer proxy), the
/// process started for it, where it is.
pub struct Started {
    pub issuers: IssuerSetup,
    /// The `--target-cmd` processes, one per instance.
    pub processes: Vec<TargetProcess>,
    /// The target's instances: one for the embedded registry and a single URL.
    pub instances: Vec<Target>,
}

impl Started {
    /// Stops every process started for the target, all at once.
    pub async fn stop(self) {
        let mut stopping = tokio::task::JoinSet::new();
        for process in self.processes {
            stopping.spawn(process.stop());
        }
        while stopping.join_next().await.is_some() {}
    }
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
    /// A running target's base URL (default: the embedded reference registry). Repeatable:
    /// instances of one registry, each with its own state, that share the scenarios.
    #[arg(long, value_name = "URL", conflicts_with = "target_cmd")]
    pub target_url: Vec<String>,
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
    fn check(&self, instances: usize) -> Result<(), UsageError> {
        if instances > 1 && self.control_url.is_some() {
            return Err(UsageError(
                "--control-url names one control endpoint; instances of a target each need their own \
                 (the default, {base-url}/__mintcheck)"
                    .into(),
            ));
        }
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
        !self.target_url.is_empty() || self.target_cmd.is_some()
    }

    /// Whether the mock issuers serve https (the proxy tunnels TLS, so it needs it).
    pub fn tls(&self) -> bool {
        self.issuer_tls || self.issuer_proxy
    }

    /// How many instances of the target the flags name: each `--target-url`, else
    /// `commands` started by `--target-cmd`, else the one embedded registry.
    pub fn instances(&self, commands: usize) -> usize {
        match (self.target_url.len(), &self.target_cmd) {
            (0, Some(_)) => commands,
            (0, None) => 1,
            (urls, _) => urls,
        }
    }

    /// Checks the flags, generates the issuers' CA (with `--issuer-tls`; its certificate
    /// names `custom_hosts` too), starts the issuer proxy and `--target-cmd` (`commands`
    /// times, if asked for), each fixture command bounded by `timeout`, and says where the
    /// target's instances are. `None`: the target could not be started, which is said on
    /// stderr (exit 3).
    pub async fn start(
        &self,
        custom_hosts: &[String],
        commands: usize,
        timeout: Duration,
    ) -> Result<Option<Started>, UsageError> {
        self.check(self.instances(commands))?;
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
            let processes = self
                .start_processes(commands, issuer_ca.as_ref(), &env)
                .await?;
            let instances = self.instances_at(&processes, &env, timeout);
            // A foreign target's plain-http mocks share one listener; https ones (and the
            // proxy's) bind their own, and the embedded registry's need none.
            let gateway = match self.is_remote() && !self.tls() {
                false => None,
                true => {
                    Some(Arc::new(MockGateway::start().await.map_err(|e| {
                        format!("starting the mock issuers' listener: {e}")
                    })?))
                }
            };
            let issuers = IssuerSetup {
                tls: self.tls(),
                ca: issuer_ca,
                proxy: issuer_proxy,
                gateway,
            };
            Ok::<_, String>(Started {
                issuers,
                processes,
                instances,
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

    /// Starts `--target-cmd`, if given, `count` times at once, telling each its instance
    /// number, the CA, the control token and `env`. If one fails, those started are stopped.
    async fn start_processes(
        &self,
        count: usize,
        ca: Option<&Arc<TestCa>>,
        env: &[(&'static str, String)],
    ) -> Result<Vec<TargetProcess>, String> {
        let Some(command) = &self.target_cmd else {
            return Ok(Vec::new());
        };
        let mut starter = TargetCommand::new(command);
        for (name, value) in env {
            starter = starter.env(*name, value);
        }
        if let Some(ca) = ca {
            let path = ca.ca_path().display().to_string();
            for name in CA_FILE_VARIABLES {
                starter = starter.env(name, &path);
            }
        }
        if let Some(token) = &self.control_token {
            starter = starter.env("MINTCHECK_CONTROL_TOKEN", token);
        }
        let mut starting = tokio::task::JoinSet::new();
        for instance in 0..count {
            let starter = starter
                .clone()
                .env("MINTCHECK_INSTANCE", instance.to_string());
            starting.spawn(async move { (instance, starter.start().await) });
        }
        let mut processes = Vec::new();
        let mut failure = None;
        while let Some(joined) = starting.join_next().await {
            match joined {
                Ok((instance, Ok(process))) => processes.push((instance, process)),
                Ok((_, Err(e))) => failure = failure.or(Some(e.to_string())),
                Err(e) => failure = failure.or(Some(format!("starting the target: {e}"))),
            }
        }
        processes.sort_by_key(|(instance, _)| *instance);
        let processes: Vec<TargetProcess> = processes.into_iter().map(|(_, p)| p).collect();
        match failure {
            None => Ok(processes),
            Some(message) => {
                for process in processes {
                    process.stop().await;
                }
                Err(message)
            }
        }
    }

    /// The target's instances: the processes started, else each `--target-url`, else the
    /// embedded reference.
    fn instances_at(
        &self,
        processes: &[TargetProcess],
        env: &[(&'static str, String)],
        timeout: Duration,
    ) -> Vec<Target> {
        let base_urls: Vec<&str> = match processes {
            [] => self.target_url.iter().map(String::as_str).collect(),
            started => started.iter().map(TargetProcess::base_url).collect(),
        };
        if base_urls.is_empty() {
            return vec![Target::Reference];
        }
        base_urls
            .into_iter()
            .map(|base_url| self.remote(base_url, env, timeout))
            .collect()
    }

    /// One remote instance at `base_url`, told its fixtures the way the flags say.
    fn remote(&self, base_url: &str, env: &[(&'static str, String)], timeout: Duration) -> Target {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let fixtures = match (&self.fixture_cmd, &self.control_token) {
            (Some(command), _) => Fixtures::Command(env.iter().fold(
                FixtureCommand::new(command).timeout(timeout),
                |c, (name, value)| c.env(*name, value),
            )),
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
        for url in &self.target_url {
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
