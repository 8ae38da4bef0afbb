//! The whole suite as a user runs it (`mintcheck run`: pypi-exact against the embedded
//! reference registry, process start to exit; goal < 1 s on this 2-core machine), its CPU
//! time, and that CPU time over the run's *signing floor*: the RSA signatures it makes times
//! the raw signing time measured in the same run (goal ≤ 2). Also scenarios per second in
//! process. Run with `cargo bench -p mintcheck --bench suite`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use mintcheck::rig::targets::Target;
use mintcheck::scenario::{Level, load_dir};
use mintcheck::suite::outcome::Verdict;
use mintcheck::suite::runner::{self, RunOptions};
use mock_issuer::signatures_made;

mod common;

const ROUNDS: usize = 5;
/// Whole-process runs: a run takes a fifth of a second, and on a shared machine its CPU
/// time varies by a tenth from run to run.
const WHOLE_RUNS: usize = 15;

#[tokio::main]
async fn main() {
    let folder = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    let options = RunOptions {
        level: Level::PypiExact,
        judge_info: true,
        jobs: 4,
        ..RunOptions::default()
    };
    let started = Instant::now();
    let signed_before = signatures_made();
    let mut ran = 0;
    for _ in 0..ROUNDS {
        let scenarios = load_dir(&folder).expect("the suite loads");
        let outcomes = runner::run(scenarios, &Target::Reference, &options, |_| {}).await;
        // A pypi-exact run skips the pep807 scenarios, and only those; every other passes.
        let (skipped, judged): (Vec<_>, Vec<_>) = outcomes
            .iter()
            .partition(|o| matches!(o.verdict, Verdict::Skip { .. }));
        assert!(
            skipped.iter().all(|o| o.level == Level::Pep807),
            "only pep807 scenarios are skipped"
        );
        assert!(
            judged.iter().all(|o| o.verdict == Verdict::Pass),
            "the suite passes"
        );
        assert!(
            judged.len() >= 325,
            "the suite judges at least 325 scenarios"
        );
        ran += outcomes.len();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let signatures = (signatures_made() - signed_before) / ROUNDS as u64;
    let scenarios = ran / ROUNDS;
    println!(
        "in process: {ran} scenarios in {elapsed:.2} s = {:.0} scenarios/s",
        ran as f64 / elapsed
    );

    let (mut walls, mut cpus): (Vec<f64>, Vec<f64>) =
        (0..WHOLE_RUNS).map(|_| whole_suite(&folder)).unzip();
    let sign_seconds = 1.0 / common::raw_signs_per_second(Duration::from_secs(1));
    walls.sort_by(f64::total_cmp);
    cpus.sort_by(f64::total_cmp);
    let (wall, cpu) = (walls[WHOLE_RUNS / 2], cpus[WHOLE_RUNS / 2]);
    let floor = signatures as f64 * sign_seconds;
    println!(
        "whole suite from process start ({WHOLE_RUNS} runs): median {wall:.3} s wall (goal < 1 s), max {:.3} s; median {cpu:.3} CPU-s ({scenarios} scenarios)",
        walls[WHOLE_RUNS - 1]
    );
    println!(
        "signing floor: {signatures} signatures × {:.3} ms = {floor:.3} s; CPU ÷ floor {:.2} (goal ≤ 2)",
        sign_seconds * 1e3,
        cpu / floor
    );
}

/// One `mintcheck run`: its wall time and the CPU time (user + system) it used.
fn whole_suite(folder: &PathBuf) -> (f64, f64) {
    let cpu_before = children_cpu_seconds();
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_mintcheck"))
        .args(["run", "--scenarios"])
        .arg(folder)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("mintcheck runs");
    let wall = started.elapsed().as_secs_f64();
    assert!(status.success(), "mintcheck run exits 0");
    (wall, children_cpu_seconds() - cpu_before)
}

/// User and system time of every child this process has waited for.
fn children_cpu_seconds() -> f64 {
    // SAFETY: getrusage writes one rusage struct, which lives on this stack frame.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
