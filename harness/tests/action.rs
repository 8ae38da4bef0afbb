//! The GitHub Action's shell steps (`action/*.sh`), run as the runner runs them: inputs as
//! `INPUT_*` variables, `GITHUB_PATH` and `GITHUB_OUTPUT` as files, against the reference
//! registry.
//!
//! The install step installs the wheel named by `MINTCHECK_WHEEL` (`.ci/run` builds one).
//! In CI (`CI=true`) it must be there; on a developer's machine without it the steps run
//! with the binary under test on `PATH`, and the test says so on the terminal.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use common::cli::{show, text};

const WHEEL_VARIABLE: &str = "MINTCHECK_WHEEL";

fn action_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

/// A runner's job: its temporary folder, and the folder `mintcheck` is found in.
struct Job {
    temp: tempfile::TempDir,
    bin: PathBuf,
}

impl Job {
    /// Runs the install step (or stands in for it, see the module's comment).
    fn installed() -> Job {
        let temp = tempfile::tempdir().unwrap();
        let github_path = temp.path().join("github_path");
        let Some(wheel) = std::env::var_os(WHEEL_VARIABLE) else {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(
                !in_ci,
                "CI=true but {WHEEL_VARIABLE} is not set: .ci/run builds the wheel and sets it"
            );
            eprintln!("{WHEEL_VARIABLE} is not set: the install step is not run");
            let bin = PathBuf::from(env!("CARGO_BIN_EXE_mintcheck"))
                .parent()
                .unwrap()
                .to_owned();
            return Job { temp, bin };
        };
        let output = Command::new("bash")
            .arg(action_file("action/install.sh"))
            .env("RUNNER_TEMP", temp.path())
            .env("GITHUB_PATH", &github_path)
            .env("INPUT_VERSION", "")
            .env("INPUT_INSTALL_FROM", &wheel)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", show(&output));
        assert!(
            text(&output.stdout).contains("\nsuite: "),
            "{}",
            show(&output)
        );
        let bin = PathBuf::from(std::fs::read_to_string(&github_path).unwrap().trim());
        assert!(bin.join("mintcheck").is_file(), "{bin:?}");
        Job { temp, bin }
    }

    /// The run step with these inputs, from the job's working directory.
    fn run_step(&self, inputs: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .arg(action_file("action/run.sh"))
            .current_dir(self.temp.path())
            .env("PATH", path)
            .env("RUNNER_TEMP", self.temp.path())
            .env("GITHUB_OUTPUT", self.temp.path().join("github_output"))
            .env_remove("MINTCHECK_SCENARIOS")
            .envs(inputs.iter().copied())
            .output()
            .unwrap()
    }

    fn outputs(&self) -> String {
        std::fs::read_to_string(self.temp.path().join("github_output")).unwrap_or_default()
    }
}

#[test]
fn the_run_step_judges_the_registry_it_starts_and_writes_the_junit_report() {
    let job = Job::installed();
    let output = job.run_step(&[
        ("INPUT_MODE", "run"),
        (
            "INPUT_TARGET_CMD",
            "mintcheck registry --control-token action-secret",
        ),
        ("INPUT_CONTROL_TOKEN", "action-secret"),
        ("INPUT_LEVEL", "core"),
        ("INPUT_JUNIT", "report.xml"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let report = std::fs::read_to_string(job.temp.path().join("report.xml")).unwrap();
    assert!(report.contains("<testsuites"), "{report}");
    let cases = report.matches("<testcase ").count();
    assert!(cases > 100, "{cases} test cases");
    assert!(!report.contains("<failure"), "{report}");

    // A registry that is not there fails the step with the run's exit code.
    let dead = job.run_step(&[
        ("INPUT_MODE", "run"),
        ("INPUT_TARGET_URL", "http://127.0.0.1:9"),
        ("INPUT_CONTROL_TOKEN", "action-secret"),
        ("INPUT_JUNIT", "dead.xml"),
    ]);
    assert_eq!(dead.status.code(), Some(3), "{}", show(&dead));
}

#[test]
fn the_fuzz_step_runs_its_shard_of_the_seed_and_names_the_findings_folder() {
    let job = Job::installed();
    let output = job.run_step(&[
        ("INPUT_MODE", "fuzz"),
        ("INPUT_SEED", "20261205"),
        ("INPUT_DURATION", "30s"),
        ("INPUT_SHARD", "2/3"),
        ("INPUT_ARGS", "--cases 40"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("seed 20261205 (rerun with --seed 20261205), shard 2/3, 40 cases"),
        "{stdout}"
    );
    let findings = job.outputs();
    assert!(findings.starts_with("findings="), "{findings}");
    assert!(Path::new(findings.trim().trim_start_matches("findings=")).is_dir());

    let wrong = job.run_step(&[("INPUT_MODE", "fuzzz")]);
    assert_eq!(wrong.status.code(), Some(2), "{}", show(&wrong));
    // Shards of a matrix share one seed, or they would not cover it between them.
    let unseeded = job.run_step(&[("INPUT_MODE", "fuzz"), ("INPUT_SHARD", "2/3")]);
    assert_eq!(unseeded.status.code(), Some(2), "{}", show(&unseeded));
    assert!(
        text(&unseeded.stderr).contains("needs a seed"),
        "{}",
        show(&unseeded)
    );
}

/// Every input of `action.yml` reaches the steps as its `INPUT_*` variable, and the steps
/// read it: an input added to one and not the other would be silently ignored.
#[test]
fn every_input_reaches_a_step() {
    let action = std::fs::read_to_string(action_file("action.yml")).unwrap();
    let scripts = ["action/install.sh", "action/run.sh"]
        .map(|script| std::fs::read_to_string(action_file(script)).unwrap())
        .join("\n");
    let inputs = action
        .split("\ninputs:\n")
        .nth(1)
        .and_then(|rest| rest.split("\noutputs:\n").next())
        .unwrap();
    let names: Vec<&str> = inputs
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| line.strip_suffix(':'))
        .collect();
    assert!(names.len() >= 12, "{names:?}");
    for name in names {
        let variable = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
        assert!(
            action.contains(&format!("{variable}: ${{{{ inputs.{name} }}}}")),
            "action.yml does not pass input {name} as {variable}"
        );
        assert!(
            scripts.contains(&format!("${{{variable}")),
            "no step reads {variable}"
        );
    }
}
