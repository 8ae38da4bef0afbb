//! `mintcheck run` and `mintcheck list`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use mintcheck::report::{self, Tally};
use mintcheck::runner::{self, RunOptions};
use mintcheck::scenario::{Level, Scenario, load_dir};
use mintcheck::target::Target;
use regex::Regex;

use super::UsageError;

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
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    selection: Selection,
    /// A running target's base URL (default: the embedded reference registry).
    #[arg(long, requires = "control_token")]
    target_url: Option<String>,
    /// Where fixtures are PUT (default: {target-url}/__mintcheck).
    #[arg(long, requires = "target_url")]
    control_url: Option<String>,
    /// Bearer token for the control endpoint.
    #[arg(long, env = "MINTCHECK_CONTROL_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
    /// Which rules are judged: core, or pypi-exact (default: pypi-exact for the reference
    /// registry, core for other targets).
    #[arg(long)]
    level: Option<Level>,
    /// Scenarios run at once (embedded target only).
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Mock issuers serve https with a generated CA, passed to the target in the fixture.
    #[arg(long)]
    issuer_tls: bool,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write the report here instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    selection: Selection,
}

impl Selection {
    fn folder(&self) -> PathBuf {
        if let Some(folder) = &self.scenarios {
            return folder.clone();
        }
        let local = PathBuf::from("scenarios");
        if local.is_dir() {
            local
        } else {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"))
        }
    }

    pub(super) fn load(&self) -> anyhow::Result<Vec<Scenario>> {
        let folder = self.folder();
        let scenarios = load_dir(&folder).map_err(|e| UsageError(e.to_string()))?;
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
        Ok(selected)
    }
}

fn glob(pattern: &str) -> Regex {
    let escaped = regex::escape(pattern)
        .replace(r"\*", ".*")
        .replace(r"\?", ".");
    Regex::new(&format!("^{escaped}$")).expect("escaped globs are valid regexes")
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let scenarios = args.selection.load()?;
    let target = match (&args.target_url, &args.control_token) {
        (Some(base_url), Some(token)) => Target::Remote {
            base_url: base_url.clone(),
            control_url: args
                .control_url
                .clone()
                .unwrap_or_else(|| format!("{}/__mintcheck", base_url.trim_end_matches('/'))),
            control_token: token.clone(),
        },
        _ => Target::Reference,
    };
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
    };
    let human = matches!(args.format, Format::Human) && args.output.is_none();
    if human {
        println!(
            "running {} scenarios against {} at level {level}",
            scenarios.len(),
            target.describe()
        );
    }
    let outcomes = runner::run(scenarios, &target, &options, |outcome| {
        if human {
            println!("{}", report::progress_line(outcome));
        }
    })
    .await;
    let tally = Tally::of(&outcomes);
    let text = match args.format {
        Format::Human => {
            let mut text = String::new();
            if !human {
                for outcome in &outcomes {
                    text.push_str(&report::progress_line(outcome));
                    text.push('\n');
                }
            }
            let rerun = |id: &str| format!("mintcheck run '{id}'{}", rerun_flags(&args));
            text.push_str(&report::failure_details(&outcomes, &rerun));
            text.push_str(&tally.summary());
            text.push('\n');
            text
        }
        Format::Json => {
            let report = report::json_report(&target.describe(), level.name(), &outcomes);
            format!("{}\n", serde_json::to_string_pretty(&report)?)
        }
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            println!("{}", tally.summary());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::from(tally.exit_code()))
}

fn rerun_flags(args: &RunArgs) -> String {
    let mut flags = String::new();
    if let Some(url) = &args.target_url {
        flags.push_str(&format!(
            " --target-url {url} --control-token \"$MINTCHECK_CONTROL_TOKEN\""
        ));
    }
    if let Some(level) = args.level {
        flags.push_str(&format!(" --level {level}"));
    }
    if let Some(folder) = &args.selection.scenarios {
        flags.push_str(&format!(" --scenarios {}", folder.display()));
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
