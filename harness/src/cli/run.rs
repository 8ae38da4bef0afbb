//! `mintcheck run` and `mintcheck list`.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use mintcheck::rig::targets::Target;
use mintcheck::scenario::load::load_sources;
use mintcheck::scenario::{Level, Scenario};
use mintcheck::suite::expectations::{Expectations, glob};
use mintcheck::suite::outcome::{Outcome, Verdict};
use mintcheck::suite::report::{self, Tally, shell_quote};
use mintcheck::suite::runner::{self, RunOptions};
use regex::Regex;

use super::UsageError;
use super::output::{out, outln, unread_is_fine};
use super::signals::interrupted;
use super::suite::SuiteArgs;
use super::target_args::{self, Started, TARGETS_HELP, TargetArgs};

/// Exit code when the target could not be started or reached (`mintcheck run --help`).
pub(super) const EXIT_TARGET: u8 = 3;

#[derive(Clone, Debug, clap::Args)]
pub struct Selection {
    /// Scenario IDs or globs (`github/*`, `*replay*`); none = all.
    #[arg(value_name = "ID-GLOB")]
    globs: Vec<String>,
    /// Only scenarios with this tag (repeatable: any of them).
    #[arg(long = "tag")]
    tags: Vec<String>,
    #[command(flatten)]
    suite: SuiteArgs,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Junit,
}

fn run_help() -> String {
    format!(
        "{TARGETS_HELP}

Every check is graded by the rule that demands it: a MUST missed at the run's level fails the
scenario; a SHOULD missed at core is an advisory (reported and counted, exit 0) unless --strict;
what only pypi-exact demands is not checked at core. The summary says first whether the target's
decisions (minted or refused, uploaded or not) were right, then how the status, envelope and
wording fared.

A dead or hung target costs seconds: --timeout bounds every request, fixture PUTs and fixture
commands included, and after 3 scenarios in a row end in an error the run stops, naming the
scenarios not run (--keep-going runs them all).

Exit codes: 0 all judged scenarios passed (advisories and xfail included); 1 some failed or were
inconclusive; 2 usage, scenario or expectations file error; 3 the target could not be started,
reached or set up, the run stopped early, or an expectation is stale: a scenario listed as xfail
passed (xpass), or a glob entry excused no failure."
    )
}

#[derive(Debug, clap::Args)]
#[command(after_help = run_help())]
pub struct RunArgs {
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    target: TargetArgs,
    /// Which rules are judged: core, or pypi-exact (default: pypi-exact for the reference
    /// registry, core for other targets).
    #[arg(long)]
    level: Option<Level>,
    /// Scenarios run at once: on the embedded registry (default 4), or on N instances started
    /// by --target-cmd (default 1). With --target-url, one per URL given.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Run every scenario even after 3 in a row ended in an error (a dead or hung target).
    #[arg(long)]
    keep_going: bool,
    /// Known failures and unsupported scenarios, each with a reason (TOML: [[expect]]
    /// scenario = "glob", outcome = "xfail" | "unsupported", reason = "...", and for xfail
    /// optionally aspects = ["envelope", ...] (default: all but decision), code = "...").
    #[arg(long, value_name = "FILE")]
    expectations: Option<PathBuf>,
    /// A missed SHOULD fails its scenario instead of being an advisory.
    #[arg(long)]
    strict: bool,
    /// Leave the mock issuers of failed scenarios (and a --target-cmd target) running after
    /// the report until Ctrl-C, so its curl reproducers of forged tokens still verify.
    #[arg(long)]
    keep_issuers: bool,
    /// Seconds one request (fixture PUTs and clock moves included) or one fixture command
    /// may take before the step is an error.
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
    pub(super) fn load(&self) -> anyhow::Result<Vec<Scenario>> {
        Ok(self.load_with_ids()?.1)
    }

    /// The IDs of every scenario in the folder, and the selected scenarios.
    fn load_with_ids(&self) -> anyhow::Result<(Vec<String>, Vec<Scenario>)> {
        let (files, origin) = self.suite.sources()?;
        let scenarios = load_sources(&files).map_err(|e| UsageError(e.to_string()))?;
        let ids = scenarios.iter().map(|s| s.id.clone()).collect();
        let patterns: Vec<Regex> = self.globs.iter().map(|g| glob(g)).collect();
        let selected: Vec<Scenario> = scenarios
            .into_iter()
            .filter(|s| patterns.is_empty() || patterns.iter().any(|p| p.is_match(&s.id)))
            .filter(|s| self.tags.is_empty() || s.tags.iter().any(|t| self.tags.contains(t)))
            .collect();
        if selected.is_empty() {
            return Err(
                UsageError(format!("no scenario in {origin} matches the selection")).into(),
            );
        }
        Ok((ids, selected))
    }
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    mock_issuer::prepare_random_generator();
    let timeout = target_args::timeout(args.timeout)?;
    let commands = jobs(&args)?;
    if args.level == Some(Level::Info) {
        return Err(UsageError(
            "--level is core or pypi-exact; info scenarios are never judged".into(),
        )
        .into());
    }
    let (loaded, started) = load_and_start(&args, commands, timeout).await?;
    let Some(started) = started else {
        return Ok(ExitCode::from(EXIT_TARGET));
    };
    let Loaded {
        scenarios,
        expectations,
    } = loaded;
    let target = started.instances[0].clone();
    let level = args.level.unwrap_or(if target.is_reference() {
        Level::PypiExact
    } else {
        Level::Core
    });
    let options = RunOptions {
        level,
        judge_info: target.is_reference(),
        jobs: commands,
        issuers: started.issuers.clone(),
        request_timeout: timeout,
        expectations,
        seed: args.seed.unwrap_or_else(fresh_seed),
        strict: args.strict,
        kept_issuers: args.keep_issuers.then(Arc::default),
        stop_after_errors: (!args.keep_going).then_some(runner::STOP_AFTER_ERRORS),
    };
    let human = matches!(args.format, Format::Human) && args.output.is_none();
    if human {
        unread_is_fine(print_header(scenarios.len(), &started, &options))?;
    }
    let Some(outcomes) = run_watched(scenarios, &started.instances, &options, human).await else {
        started.stop().await;
        return Ok(ExitCode::from(130));
    };
    let mut started = started;
    for process in &mut started.processes {
        if let Some(how) = process.exited() {
            eprintln!(
                "warning: the target command `{}` at {} {how} during the run\n{}",
                process.command(),
                process.base_url(),
                process.output()
            );
        }
    }
    say_why_stopped(&started.instances, &outcomes);
    let code = report(
        &args,
        &describe(&started.instances),
        &options,
        &outcomes,
        human,
    )
    .await?;
    started.stop().await;
    Ok(code)
}

/// What a run reads before it starts: the selected scenarios and the expectations file.
struct Loaded {
    scenarios: Vec<Scenario>,
    expectations: Option<Arc<Expectations>>,
}

impl Loaded {
    fn read(selection: &Selection, expectations: Option<&Path>) -> anyhow::Result<Loaded> {
        let (all_ids, scenarios) = selection.load_with_ids()?;
        let expectations = match expectations {
            Some(path) => Some(Arc::new(
                Expectations::load(path, &all_ids).map_err(|e| UsageError(e.to_string()))?,
            )),
            None => None,
        };
        Ok(Loaded {
            scenarios,
            expectations,
        })
    }
}

/// Reads the scenarios and expectations and starts the target (`None`: it could not be, as
/// said on stderr). Without `--issuer-tls` the two overlap, so a started target boots while
/// the files are read; with it, the issuers' CA must first name the scenarios' custom
/// hosts. A target started for files that turn out unusable is stopped: the start is not
/// cut short, since stopping a target midway could leave what it started running.
async fn load_and_start(
    args: &RunArgs,
    commands: usize,
    timeout: std::time::Duration,
) -> anyhow::Result<(Loaded, Option<Started>)> {
    if args.target.tls() {
        let loaded = Loaded::read(&args.selection, args.expectations.as_deref())?;
        let fixtures = loaded.scenarios.iter().map(|s| &s.fixture);
        let custom_hosts = mintcheck::rig::issuers::custom_hosts(fixtures);
        let started = args.target.start(&custom_hosts, commands, timeout).await?;
        return Ok((loaded, started));
    }
    let (selection, expectations) = (args.selection.clone(), args.expectations.clone());
    let loading =
        tokio::task::spawn_blocking(move || Loaded::read(&selection, expectations.as_deref()));
    let started = args.target.start(&[], commands, timeout).await;
    let loaded = match loading.await {
        Ok(loaded) => loaded,
        Err(e) => Err(anyhow::anyhow!("loading the scenarios: {e}")),
    };
    match (loaded, started) {
        (Ok(loaded), started) => Ok((loaded, started?)),
        (Err(e), Ok(Some(started))) => {
            started.stop().await;
            Err(e)
        }
        (Err(e), _) => Err(e),
    }
}

/// The target's instances, named for a reader.
fn describe(instances: &[Target]) -> String {
    let names: Vec<String> = instances.iter().map(Target::describe).collect();
    names.join(", ")
}

/// How many scenarios run at once, from `--jobs` and the target flags: the embedded registry
/// runs 4 by default, `--target-cmd` starts one instance per job, and `--target-url` runs one
/// per URL (`--jobs`, if given, must say the same).
fn jobs(args: &RunArgs) -> Result<usize, UsageError> {
    let urls = args.target.target_url.len();
    match args.jobs {
        Some(0) => Err(UsageError(
            "--jobs 0: at least one scenario must run".into(),
        )),
        Some(jobs) if urls > 0 && jobs != urls => Err(UsageError(format!(
            "--jobs {jobs} with {urls} --target-url: a running registry takes one scenario at a \
             time (its fixture state is one); give one --target-url per instance, or let \
             --target-cmd start {jobs}"
        ))),
        Some(jobs) => Ok(jobs),
        None if args.target.target_cmd.is_some() => Ok(1),
        None => Ok(4),
    }
}

/// When the run stopped early: which target, why, and what was not run (stderr, so it is
/// seen whatever the report's format).
fn say_why_stopped(instances: &[Target], outcomes: &[Outcome]) {
    let mut reason = None;
    let not_run: Vec<&str> = outcomes
        .iter()
        .filter_map(|o| match &o.verdict {
            Verdict::NotRun { reason: why } => {
                reason = Some(why.as_str());
                Some(o.id.as_str())
            }
            _ => None,
        })
        .collect();
    let Some(reason) = reason else {
        return;
    };
    let last_errors: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match &o.verdict {
            Verdict::Error { message } => Some(format!("  {}: {message}", o.id)),
            _ => None,
        })
        .rev()
        .take(runner::STOP_AFTER_ERRORS)
        .collect();
    eprintln!(
        "error: {reason} against {} (a dead or hung target?); the last:\n{}\n{} scenarios not \
         run (--keep-going runs them): {}",
        describe(instances),
        last_errors.join("\n"),
        not_run.len(),
        not_run.join(" ")
    );
}

/// The first lines of a human report: what runs against what, and how the issuer proxy is
/// reached.
fn print_header(count: usize, started: &Started, options: &RunOptions) -> std::io::Result<()> {
    let how = match started.processes.first() {
        Some(process) => format!(" (started by `{}`)", process.command()),
        None => String::new(),
    };
    outln!(
        "running {count} scenarios against {}{how} at level {}, seed {}",
        describe(&started.instances),
        options.level,
        options.seed
    )?;
    if let (Some(proxy), Some(ca)) = (&options.issuers.proxy, &options.issuers.ca) {
        outln!(
            "issuer proxy: the target reaches the mock issuers as the real issuers' hosts with\n  {} SSL_CERT_FILE={1} REQUESTS_CA_BUNDLE={1}",
            proxy
                .environment()
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join(" "),
            ca.ca_path().display()
        )?;
    }
    Ok(())
}

/// Runs the scenarios, a line (or a bar on a terminal) per outcome for a human reader;
/// `None` if interrupted (Ctrl-C, SIGTERM).
async fn run_watched(
    scenarios: Vec<Scenario>,
    instances: &[Target],
    options: &RunOptions,
    human: bool,
) -> Option<Vec<Outcome>> {
    // A bar only where someone watches; CI logs get the plain lines.
    let bar = (human && std::io::stdout().is_terminal()).then(|| {
        let bar = ProgressBar::new(scenarios.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} scenarios, {per_sec}")
                .expect("a valid template"),
        );
        bar
    });
    let on_outcome = |outcome: &Outcome| {
        if human {
            match &bar {
                Some(bar) => {
                    bar.println(report::progress_line(outcome));
                    bar.inc(1);
                }
                None => {
                    // The report at the end says the same; see `unread_is_fine`.
                    let _ = outln!("{}", report::progress_line(outcome));
                }
            }
        }
    };
    let running = async {
        match instances {
            [target] => runner::run(scenarios, target, options, on_outcome).await,
            _ => runner::run_on(scenarios, instances, options, on_outcome).await,
        }
    };
    let outcomes = tokio::select! {
        outcomes = running => outcomes,
        signal = interrupted() => {
            eprintln!("interrupted by {signal}");
            return None;
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Some(outcomes)
}

/// Writes the report and says what is stale; with `--keep-issuers`, waits for Ctrl-C while
/// failed scenarios' issuers serve the reproducers. Returns the run's exit code.
async fn report(
    args: &RunArgs,
    target: &str,
    options: &RunOptions,
    outcomes: &[Outcome],
    human: bool,
) -> anyhow::Result<ExitCode> {
    let tally = Tally::of(outcomes);
    let stale = options
        .expectations
        .as_ref()
        .map(|e| e.stale(outcomes))
        .unwrap_or_default();
    let text = render(args, target, options.level, options.seed, outcomes, human)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            unread_is_fine(outln!("{}", report::aspects_summary(outcomes)))?;
            unread_is_fine(outln!("{}", tally.summary()))?;
        }
        None => unread_is_fine(out!("{text}"))?,
    }
    for entry in &stale {
        eprintln!("stale expectation: {entry}");
    }
    if let Some(kept) = options.kept_issuers.as_ref().filter(|k| !k.is_empty()) {
        eprintln!(
            "the mock issuers of {} failed scenarios (and the target) stay up for the reproducers above; Ctrl-C to stop",
            kept.len()
        );
        interrupted().await;
    }
    Ok(ExitCode::from(tally.exit_code_with_stale(stale.len())))
}

fn render(
    args: &RunArgs,
    target: &str,
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
    let reproducers = report::Reproducers {
        rerun: &rerun,
        issuers_kept: args.keep_issuers,
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
            text.push_str(&report::failure_details(outcomes, &reproducers));
            text.push('\n');
            text.push_str(&report::aspects_summary(outcomes));
            text.push('\n');
            text.push_str(&Tally::of(outcomes).summary());
            text.push('\n');
            text
        }
        Format::Json => {
            let report = report::json_report(target, level.name(), outcomes);
            format!("{}\n", serde_json::to_string_pretty(&report)?)
        }
        Format::Junit => report::junit_report(target, level.name(), outcomes, &reproducers)
            .context("writing the JUnit report")?,
    })
}

/// A seed for runs that name none: different every run, printed so it can be given back.
pub(super) fn fresh_seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| d.as_nanos() as u64 ^ u64::from(std::process::id()))
}

fn rerun_flags(args: &RunArgs) -> String {
    let mut flags = args.target.rerun_flags();
    let mut flag = |name: &str, value: &str| {
        flags.push_str(&format!(" --{name} {}", shell_quote(value)));
    };
    if let Some(level) = args.level {
        flag("level", level.name());
    }
    if let Some(folder) = &args.selection.suite.scenarios {
        flag("scenarios", &folder.display().to_string());
    }
    for folder in &args.selection.suite.add_scenarios {
        flag("add-scenarios", &folder.display().to_string());
    }
    if let Some(file) = &args.expectations {
        flag("expectations", &file.display().to_string());
    }
    if args.strict {
        flags.push_str(" --strict");
    }
    flags
}

pub fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    for scenario in args.selection.load()? {
        let rules = scenario.rules.join(" ");
        outln!("{}  [{}] {rules}", scenario.id, scenario.level)?;
        outln!("    {}", scenario.title)?;
        outln!("    {}", scenario.requirement)?;
    }
    Ok(ExitCode::SUCCESS)
}
