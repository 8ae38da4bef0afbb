//! `mintcheck run` and `mintcheck list`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use mintcheck::expectations::{Expectations, glob};
use mintcheck::report::{self, Tally, shell_quote};
use mintcheck::runner::{self, Outcome, RunOptions};
use mintcheck::scenario::{Level, Scenario, load_dir};
use mintcheck::target::{
    FixtureCommand, Fixtures, Target, TargetCommand, TargetProcess, default_control_url,
};
use mock_issuer::tls::TestCa;
use regex::Regex;

use super::UsageError;

/// Exit code when the target could not be started or reached (design §2).
const EXIT_TARGET: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct Selection {
    /// Scenario IDs or globs (`github/*`, `*replay*`); none = all.
    #[arg(value_name = "ID-GLOB")]
    globs: Vec<String>,
    /// Only scenarios with this tag (repeatable: any of them).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// The scenarios folder (default: ./scenarios, else the one this binary was built with).
    #[arg(long)]
    scenarios: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Junit,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Targets: none given = the embedded reference registry. --target-url URL = a running registry;
--target-cmd CMD = start one (through sh -c, with MINTCHECK_ADDR=127.0.0.1:0; it prints
{\"mintcheck\":\"ready\",\"base_url\":\"http://127.0.0.1:PORT\"} on stdout within 10 s and is stopped
at the end of the run). Fixtures reach a target through its control endpoint (--control-token;
PUT {control-url}/fixture) or --fixture-cmd (the document on stdin; exit 0 applied, 89
unsupported). With --issuer-tls, both commands get the CA in MINTCHECK_CA_FILE and SSL_CERT_FILE.

Exit codes: 0 all judged scenarios passed (xfail included); 1 some failed or were inconclusive;
2 usage, scenario or expectations file error; 3 the target could not be started, reached or set
up, or a scenario listed as xfail passed (xpass).")]
pub struct RunArgs {
    #[command(flatten)]
    selection: Selection,
    /// A running target's base URL (default: the embedded reference registry).
    #[arg(long, value_name = "URL", conflicts_with = "target_cmd")]
    target_url: Option<String>,
    /// Start the target with this shell command, once for the run.
    #[arg(long, value_name = "CMD")]
    target_cmd: Option<String>,
    /// Where fixtures are PUT (default: {base-url}/__mintcheck).
    #[arg(long, value_name = "URL")]
    control_url: Option<String>,
    /// Bearer token for the control endpoint (also passed to --target-cmd as
    /// MINTCHECK_CONTROL_TOKEN).
    #[arg(
        long,
        value_name = "T",
        env = "MINTCHECK_CONTROL_TOKEN",
        hide_env_values = true
    )]
    control_token: Option<String>,
    /// Apply each scenario's fixture by running this shell command with the fixture document
    /// on stdin (and MINTCHECK_BASE_URL set) instead of the control endpoint.
    #[arg(long, value_name = "CMD", conflicts_with = "control_url")]
    fixture_cmd: Option<String>,
    /// Which rules are judged: core, or pypi-exact (default: pypi-exact for the reference
    /// registry, core for other targets).
    #[arg(long)]
    level: Option<Level>,
    /// Scenarios run at once (embedded target only).
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Mock issuers serve https with certificates from one CA generated for the run, passed
    /// to the target in the fixture (and to commands as a file).
    #[arg(long)]
    issuer_tls: bool,
    /// Known failures and unsupported scenarios, each with a reason (TOML: [[expect]]
    /// scenario = "glob", outcome = "xfail" | "unsupported", reason = "...", code = "...").
    #[arg(long, value_name = "FILE")]
    expectations: Option<PathBuf>,
    /// Seconds one request may take before the step is an error.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write the report here instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Seed for the forged tokens' random parts (jti, unknown kids); printed with every run
    /// so a rerun with it sends the same tokens (times stay relative to now).
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    selection: Selection,
}

impl Selection {
    fn folder(&self) -> PathBuf {
        self.scenarios
            .clone()
            .unwrap_or_else(super::default_scenarios_folder)
    }

    pub(super) fn load(&self) -> anyhow::Result<Vec<Scenario>> {
        Ok(self.load_with_ids()?.1)
    }

    /// The IDs of every scenario in the folder, and the selected scenarios.
    fn load_with_ids(&self) -> anyhow::Result<(Vec<String>, Vec<Scenario>)> {
        let folder = self.folder();
        let scenarios = load_dir(&folder).map_err(|e| UsageError(e.to_string()))?;
        let ids = scenarios.iter().map(|s| s.id.clone()).collect();
        let patterns: Vec<Regex> = self.globs.iter().map(|g| glob(g)).collect();
        let selected: Vec<Scenario> = scenarios
            .into_iter()
            .filter(|s| patterns.is_empty() || patterns.iter().any(|p| p.is_match(&s.id)))
            .filter(|s| self.tags.is_empty() || s.file.tags.iter().any(|t| self.tags.contains(t)))
            .collect();
        if selected.is_empty() {
            return Err(UsageError(format!(
                "no scenario in {} matches the selection",
                folder.display()
            ))
            .into());
        }
        Ok((ids, selected))
    }
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (all_ids, scenarios) = args.selection.load_with_ids()?;
    let expectations = match &args.expectations {
        Some(path) => Some(Arc::new(
            Expectations::load(path, &all_ids).map_err(|e| UsageError(e.to_string()))?,
        )),
        None => None,
    };
    check_target_flags(&args)?;
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        return Err(UsageError(format!(
            "--timeout {} is not a positive number of seconds",
            args.timeout
        ))
        .into());
    }
    let issuer_ca = if args.issuer_tls {
        match TestCa::generate() {
            Ok(ca) => Some(Arc::new(ca)),
            Err(e) => return target_error(&format!("generating the issuers' CA: {e}")),
        }
    } else {
        None
    };
    let mut process = None;
    if let Some(command) = &args.target_cmd {
        let mut starter = TargetCommand::new(command);
        if let Some(ca) = &issuer_ca {
            let path = ca.ca_path().display().to_string();
            starter = starter
                .env("MINTCHECK_CA_FILE", &path)
                .env("SSL_CERT_FILE", &path);
        }
        if let Some(token) = &args.control_token {
            starter = starter.env("MINTCHECK_CONTROL_TOKEN", token);
        }
        match starter.start().await {
            Ok(started) => process = Some(started),
            Err(e) => return target_error(&e.to_string()),
        }
    }
    let target = build_target(&args, process.as_ref().map(TargetProcess::base_url));
    let level = args.level.unwrap_or(if target.is_reference() {
        Level::PypiExact
    } else {
        Level::Core
    });
    if level == Level::Info {
        return Err(UsageError(
            "--level is core or pypi-exact; info scenarios are never judged".into(),
        )
        .into());
    }
    let options = RunOptions {
        level,
        judge_info: target.is_reference(),
        jobs: args.jobs,
        issuer_tls: args.issuer_tls,
        issuer_ca,
        request_timeout: Duration::from_secs_f64(args.timeout),
        expectations,
        seed: args.seed.unwrap_or_else(fresh_seed),
    };
    let human = matches!(args.format, Format::Human) && args.output.is_none();
    if human {
        let started = match &process {
            Some(process) => format!(" (started by `{}`)", process.command()),
            None => String::new(),
        };
        println!(
            "running {} scenarios against {}{started} at level {level}, seed {}",
            scenarios.len(),
            target.describe(),
            options.seed
        );
    }
    // A bar only where someone watches; CI logs get the plain lines.
    let bar = (human && std::io::stdout().is_terminal()).then(|| {
        let bar = ProgressBar::new(scenarios.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios, {per_sec}")
                .expect("a valid template"),
        );
        bar
    });
    let running = runner::run(scenarios, &target, &options, |outcome| {
        if human {
            match &bar {
                Some(bar) => {
                    bar.println(report::progress_line(outcome));
                    bar.inc(1);
                }
                None => println!("{}", report::progress_line(outcome)),
            }
        }
    });
    let outcomes = tokio::select! {
        outcomes = running => outcomes,
        signal = interrupted() => {
            if let Some(process) = process {
                process.stop().await;
            }
            eprintln!("interrupted by {signal}");
            return Ok(ExitCode::from(130));
        }
    };
    if let Some(mut process) = process {
        if let Some(how) = process.exited() {
            eprintln!(
                "warning: the target command `{}` {how} during the run\n{}",
                process.command(),
                process.output()
            );
        }
        process.stop().await;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let tally = Tally::of(&outcomes);
    let text = render(&args, &target, level, options.seed, &outcomes, human)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            println!("{}", tally.summary());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::from(tally.exit_code()))
}

fn render(
    args: &RunArgs,
    target: &Target,
    level: Level,
    seed: u64,
    outcomes: &[Outcome],
    human: bool,
) -> anyhow::Result<String> {
    let rerun = |id: &str| {
        format!(
            "mintcheck run {} --seed {seed}{}",
            shell_quote(id),
            rerun_flags(args)
        )
    };
    Ok(match args.format {
        Format::Human => {
            let mut text = String::new();
            if !human {
                for outcome in outcomes {
                    text.push_str(&report::progress_line(outcome));
                    text.push('\n');
                }
            }
            text.push_str(&report::failure_details(outcomes, &rerun));
            text.push_str(&Tally::of(outcomes).summary());
            text.push('\n');
            text
        }
        Format::Json => {
            let report = report::json_report(&target.describe(), level.name(), outcomes);
            format!("{}\n", serde_json::to_string_pretty(&report)?)
        }
        Format::Junit => report::junit_report(&target.describe(), level.name(), outcomes, &rerun)
            .context("writing the JUnit report")?,
    })
}

/// Which target flags go together; the errors say what is missing.
fn check_target_flags(args: &RunArgs) -> Result<(), UsageError> {
    let remote = args.target_url.is_some() || args.target_cmd.is_some();
    if !remote {
        for (given, flag) in [
            (args.control_url.is_some(), "--control-url"),
            (args.fixture_cmd.is_some(), "--fixture-cmd"),
        ] {
            if given {
                return Err(UsageError(format!(
                    "{flag} needs a target: --target-url URL or --target-cmd CMD"
                )));
            }
        }
        return Ok(());
    }
    if args.fixture_cmd.is_none() && args.control_token.is_none() {
        return Err(UsageError(
            "a target given by --target-url or --target-cmd needs a way to receive fixtures: \
             --control-token T (PUT {control-url}/fixture) or --fixture-cmd CMD"
                .into(),
        ));
    }
    Ok(())
}

fn build_target(args: &RunArgs, started: Option<&str>) -> Target {
    let Some(base_url) = started.or(args.target_url.as_deref()) else {
        return Target::Reference;
    };
    let base_url = base_url.trim_end_matches('/').to_owned();
    let fixtures = match (&args.fixture_cmd, &args.control_token) {
        (Some(command), _) => Fixtures::Command(FixtureCommand::new(command)),
        (None, token) => Fixtures::Control {
            url: args
                .control_url
                .clone()
                .unwrap_or_else(|| default_control_url(&base_url)),
            token: token.clone().unwrap_or_default(),
        },
    };
    Target::Remote { base_url, fixtures }
}

fn target_error(message: &str) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(EXIT_TARGET))
}

/// Resolves on Ctrl-C (and SIGTERM on unix), so a started target is stopped first: it runs
/// in its own process group and would not see the signal.
async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                _ = terminate.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

/// A seed for runs that name none: different every run, printed so it can be given back.
fn fresh_seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
}

fn rerun_flags(args: &RunArgs) -> String {
    let mut flags = String::new();
    let mut flag = |name: &str, value: &str| {
        flags.push_str(&format!(" --{name} {}", shell_quote(value)));
    };
    if let Some(url) = &args.target_url {
        flag("target-url", url);
    }
    if let Some(command) = &args.target_cmd {
        flag("target-cmd", command);
    }
    if let Some(url) = &args.control_url {
        flag("control-url", url);
    }
    if let Some(command) = &args.fixture_cmd {
        flag("fixture-cmd", command);
    }
    if let Some(level) = args.level {
        flag("level", level.name());
    }
    if let Some(folder) = &args.selection.scenarios {
        flag("scenarios", &folder.display().to_string());
    }
    if let Some(file) = &args.expectations {
        flag("expectations", &file.display().to_string());
    }
    if args.issuer_tls {
        flags.push_str(" --issuer-tls");
    }
    if args.fixture_cmd.is_none() && (args.target_url.is_some() || args.target_cmd.is_some()) {
        flags.push_str(" --control-token \"$MINTCHECK_CONTROL_TOKEN\"");
    }
    flags
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    for scenario in args.selection.load()? {
        let file = &scenario.file;
        println!("{}  [{}] {}", scenario.id, file.level, file.rules.join(" "));
        println!("    {}", file.title);
        println!("    {}", file.requirement);
    }
    Ok(ExitCode::SUCCESS)
}
