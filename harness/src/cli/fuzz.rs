//! `mintcheck fuzz`.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use mintcheck::fuzz::report::{Rerun, failure_text, summary};
use mintcheck::fuzz::{
    self, DEFAULT_SHRINK_ITERATIONS, DEFAULT_TIMEOUT, Failure, FuzzError, FuzzOptions, FuzzReport,
    Shard, Stop, save,
};
use mintcheck::rig::targets::Target;
use mintcheck::scenario::Level;
use mintcheck::suite::report::shell_quote;

use super::UsageError;
use super::output::{out, outln, unread_is_fine};
use super::run::{EXIT_TARGET, fresh_seed};
use super::signals::interrupted;
use super::target_args::{self, TARGETS_HELP, TargetArgs};

fn fuzz_help() -> String {
    format!(
        "\
Every case is a fixture, one mint request (a validly signed token with claims changed, a token
with a broken envelope, or a raw body) and, if it mints, the same token again and uploads. Each
answer is checked against invariants any registry must keep: an answer within --timeout, never
a 5xx, a mint answer that is 200 with the success envelope or 422 with the error envelope, no
token minted that fails the signature, time, audience, issuer or enablement checks, a GitHub or
GitLab token minting once, uploads only with a minted token and only to projects of the fixture.
With --against-reference (the default for targets other than the embedded reference registry)
each status and code must also equal the reference registry's; differences are counted per spec
rule. A fault is shrunk to a small case and reported with the rerun commands; --save-failures
writes it as a scenario file that `mintcheck run --scenarios DIR` replays.

Case I of seed S is the same on every machine: --seed S --case I reruns one, --shard K/N runs
every case whose index is K-1 modulo N (one job per shard covers the seed's cases once).

{TARGETS_HELP}

Exit codes: 0 no failure; 1 a fault was found; 2 usage error; 3 the target could not be
started, reached or set up."
    )
}

#[derive(Debug, clap::Args)]
#[command(after_help = fuzz_help())]
pub struct FuzzArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Cases to run (this shard's): default 1000, or no limit when --duration is given;
    /// 0 = no limit (until --duration or Ctrl-C).
    #[arg(long, value_name = "N")]
    cases: Option<u64>,
    /// Stop after this long: 90s, 10m, 2h (a plain number is seconds).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// The seed of the run's cases (printed at the start; default: a fresh one).
    #[arg(long)]
    seed: Option<u64>,
    /// Run shard K of N of the seed's cases (cases whose index is K-1 modulo N).
    #[arg(long, value_name = "K/N", default_value = "1/1")]
    shard: Shard,
    /// Run only the case with this index (as a report's rerun line does).
    #[arg(long = "case", value_name = "I", conflicts_with_all = ["shard", "duration"])]
    only_case: Option<u64>,
    /// Compare every status and code with the reference registry's (default for targets
    /// other than the embedded reference registry).
    #[arg(long, conflicts_with = "invariants_only")]
    against_reference: bool,
    /// Judge the invariants only, without the reference registry.
    #[arg(long)]
    invariants_only: bool,
    /// Add PEP 807 to the cases: a discovery request before the mint (mostly for the upload
    /// path), `features` in the mint body, and two invariants: discovery names only
    /// same-host endpoints, and a single-use credential never uploads twice.
    #[arg(long)]
    pep807: bool,
    /// Write each fault's minimal case as a scenario file into this folder.
    #[arg(long, value_name = "DIR")]
    save_failures: Option<PathBuf>,
    /// Seconds one request may take before it counts as a hang.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT.as_secs_f64())]
    timeout: f64,
    /// Smaller cases shrinking tries per fault, at most.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SHRINK_ITERATIONS)]
    shrink_iterations: u32,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?}: expected a duration such as 90s, 10m or 2h");
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    let seconds: f64 = number.parse().map_err(|_| bad())?;
    Duration::try_from_secs_f64(seconds * scale).map_err(|_| bad())
}

/// How many cases a campaign runs: as many as asked (0: no limit); unasked, a duration alone
/// bounds it, and otherwise [`DEFAULT_CASES`].
fn case_limit(asked: Option<u64>, has_duration: bool) -> Option<u64> {
    match asked {
        Some(0) => None,
        Some(cases) => Some(cases),
        None if has_duration => None,
        None => Some(DEFAULT_CASES),
    }
}

/// The cases a campaign with neither `--cases` nor `--duration` runs.
const DEFAULT_CASES: u64 = 1000;

pub async fn run(args: FuzzArgs) -> anyhow::Result<ExitCode> {
    mock_issuer::prepare_random_generator();
    let timeout = target_args::timeout(args.timeout)?;
    // A folder that cannot be written is found before the campaign, not after it.
    if let Some(folder) = &args.save_failures {
        std::fs::create_dir_all(folder)
            .map_err(|e| UsageError(format!("--save-failures {}: {e}", folder.display())))?;
    }
    if args.target.instances(1) > 1 {
        return Err(
            UsageError("fuzz runs against one target: give one --target-url".into()).into(),
        );
    }
    let Some(started) = args.target.start(&[], 1, timeout).await? else {
        return Ok(ExitCode::from(EXIT_TARGET));
    };
    let target = started.instances[0].clone();
    let against_reference =
        args.against_reference || (!target.is_reference() && !args.invariants_only);
    let stop = Stop::default();
    let options = FuzzOptions {
        seed: args.seed.unwrap_or_else(fresh_seed),
        cases: case_limit(args.cases, args.duration.is_some()),
        duration: args.duration,
        shard: args.shard,
        only_case: args.only_case,
        timeout,
        against_reference,
        shrink_iterations: args.shrink_iterations,
        issuers: started.issuers.clone(),
        pep807: args.pep807,
        stop: stop.clone(),
        ..FuzzOptions::default()
    };
    unread_is_fine(print_header(&options, &target, against_reference))?;
    tokio::spawn(async move {
        let signal = interrupted().await;
        eprintln!("{signal}: stopping after the current case");
        stop.request();
    });
    let mut progress = ProgressView::new(options.cases.filter(|_| options.only_case.is_none()));
    let outcome = fuzz::run(&target, &options, |p| progress.update(p)).await;
    progress.finish();
    started.stop().await;
    let report = match outcome {
        Ok(report) => report,
        Err(FuzzError::Generate { index, reason }) => {
            anyhow::bail!("generating case {index}: {reason} (a harness bug: please report it)")
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_TARGET));
        }
    };
    let saved = save_failures(&args, &report)?;
    unread_is_fine(print_failures(
        &args,
        &report,
        &saved,
        target.is_reference(),
        against_reference,
    ))?;
    unread_is_fine(out!("{}", summary(&report)))?;
    Ok(ExitCode::from(u8::from(!report.failures.is_empty())))
}

/// Writes each failure as a scenario file (`--save-failures`); the paths, in failure order.
fn save_failures(args: &FuzzArgs, report: &FuzzReport) -> anyhow::Result<Vec<PathBuf>> {
    let mut saved = Vec::new();
    if let Some(folder) = &args.save_failures {
        for failure in &report.failures {
            let path =
                save::write(folder, failure, report.seed).map_err(|e| UsageError(e.to_string()))?;
            saved.push(path);
        }
    }
    Ok(saved)
}

/// Each failure with the commands that rerun it, then where the files went.
fn print_failures(
    args: &FuzzArgs,
    report: &FuzzReport,
    saved: &[PathBuf],
    reference_target: bool,
    against_reference: bool,
) -> std::io::Result<()> {
    let rerun_scenario = |failure: &Failure| {
        let index = report
            .failures
            .iter()
            .position(|f| std::ptr::eq(f, failure))?;
        let path = saved.get(index)?;
        let id = path.file_stem()?.to_string_lossy().into_owned();
        let folder = path.parent()?.display().to_string();
        // The level the saved file has: a rerun at another would skip it.
        let level = match save::scenario(failure).level {
            Level::Core => String::new(),
            level => format!(" --level {level}"),
        };
        Some(format!(
            "mintcheck run --scenarios {} {}{level}{}",
            shell_quote(&folder),
            shell_quote(&id),
            args.target.rerun_flags()
        ))
    };
    let rerun_case = |failure: &Failure| {
        let oracle = match (against_reference, reference_target) {
            (true, true) => " --against-reference",
            (false, false) => " --invariants-only",
            _ => "",
        };
        let mut tuning = String::new();
        if args.timeout != DEFAULT_TIMEOUT.as_secs_f64() {
            tuning.push_str(&format!(" --timeout {}", args.timeout));
        }
        if args.pep807 {
            tuning.push_str(" --pep807");
        }
        if args.shrink_iterations != DEFAULT_SHRINK_ITERATIONS {
            tuning.push_str(&format!(" --shrink-iterations {}", args.shrink_iterations));
        }
        format!(
            "mintcheck fuzz --seed {} --case {}{oracle}{tuning}{}",
            report.seed,
            failure.case_index,
            args.target.rerun_flags()
        )
    };
    let rerun = Rerun {
        run: &rerun_scenario,
        fuzz: &rerun_case,
    };
    for failure in &report.failures {
        outln!("\n{}", failure_text(failure, report.seed, &rerun))?;
    }
    for path in saved {
        outln!("saved {}", path.display())?;
    }
    if !report.failures.is_empty() && args.save_failures.is_none() {
        outln!("(--save-failures DIR writes each minimal case as a scenario file)")?;
    }
    Ok(())
}

/// The first line: the seed, the shard, how much is run against what.
fn print_header(
    options: &FuzzOptions,
    target: &Target,
    against_reference: bool,
) -> std::io::Result<()> {
    let what = match (options.only_case, options.cases, options.duration) {
        (Some(case), ..) => format!("case {case}"),
        (None, Some(cases), _) => format!("{cases} cases"),
        (None, None, Some(duration)) => format!("cases for {} s", duration.as_secs_f64()),
        (None, None, None) => "cases until Ctrl-C".to_owned(),
    };
    outln!(
        "mintcheck fuzz: seed {} (rerun with --seed {}), shard {}, {what} against {}{}",
        options.seed,
        options.seed,
        options.shard,
        target.describe(),
        if against_reference {
            ", compared with the reference registry"
        } else {
            ""
        },
    )
}

/// A bar on a terminal; in a log, a plain line every ten seconds.
struct ProgressView {
    bar: Option<ProgressBar>,
    last_line: Instant,
}

impl ProgressView {
    const EVERY: Duration = Duration::from_secs(10);

    fn new(cases: Option<u64>) -> ProgressView {
        let bar = std::io::stdout().is_terminal().then(|| {
            let (bar, template) = match cases {
                Some(n) => (
                    ProgressBar::new(n),
                    "{bar:40} {pos}/{len} cases, {per_sec}, {msg}",
                ),
                None => (
                    ProgressBar::no_length(),
                    "{spinner} {pos} cases, {per_sec}, {msg}",
                ),
            };
            bar.set_style(ProgressStyle::with_template(template).expect("a valid template"));
            bar
        });
        ProgressView {
            bar,
            last_line: Instant::now(),
        }
    }

    fn update(&mut self, progress: &fuzz::Progress) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(progress.cases);
                bar.set_message(format!("{} failures", progress.failures));
            }
            None if self.last_line.elapsed() >= Self::EVERY => {
                self.last_line = Instant::now();
                // The summary at the end says more; see `unread_is_fine`.
                let _ = outln!("{}", progress_line(progress));
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The periodic line a log gets where a terminal gets the bar.
fn progress_line(progress: &fuzz::Progress) -> String {
    let rate = progress.cases as f64 / progress.elapsed.as_secs_f64().max(1e-9);
    format!(
        "fuzz: {} cases, {rate:.0} cases/s, {} failures",
        progress.cases, progress.failures
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_gives_cases_rate_and_failures() {
        let progress = fuzz::Progress {
            cases: 5000,
            failures: 2,
            elapsed: Duration::from_secs(4),
        };
        assert_eq!(
            progress_line(&progress),
            "fuzz: 5000 cases, 1250 cases/s, 2 failures"
        );
    }

    #[test]
    fn a_duration_alone_lifts_the_default_case_count() {
        assert_eq!(case_limit(None, false), Some(DEFAULT_CASES));
        assert_eq!(case_limit(None, true), None);
        assert_eq!(case_limit(Some(50), true), Some(50));
        assert_eq!(case_limit(Some(0), false), None);
    }

    #[test]
    fn durations_take_seconds_minutes_and_hours() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        for bad in ["", "10x", "m", "-1s"] {
            assert!(parse_duration(bad).unwrap_err().contains("90s"), "{bad}");
        }
    }
}
