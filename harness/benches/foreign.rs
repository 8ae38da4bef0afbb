//! The core suite against a registry in another process (`mintcheck registry`, started by
//! `--target-cmd`), with one instance and with two (`--jobs 2`): the wall times and their
//! ratio (goal: two instances take ≤ 0.6 × the time of one). Rounds alternate, so load on
//! this shared machine falls on both alike. Run with `cargo bench -p mintcheck --bench foreign`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

// Nine: `--jobs 2` keeps both cores busy, so load beside it on this shared machine moves its
// time more than that of `--jobs 1`.
const ROUNDS: usize = 9;

fn core_suite_seconds(jobs: &str) -> f64 {
    let folder = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios"));
    let registry = format!("{} registry", env!("CARGO_BIN_EXE_mintcheck"));
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_mintcheck"))
        .args(["run", "--level", "core", "--control-token", "bench"])
        .args(["--target-cmd", &registry, "--jobs", jobs, "--scenarios"])
        .arg(&folder)
        .stdout(Stdio::null())
        .status()
        .expect("mintcheck runs");
    assert!(status.success(), "the core suite passes with --jobs {jobs}");
    started.elapsed().as_secs_f64()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        one.push(core_suite_seconds("1"));
        two.push(core_suite_seconds("2"));
    }
    let (one, two) = (median(one), median(two));
    println!(
        "core suite against `mintcheck registry` in another process: --jobs 1 median {one:.2} s, \
         --jobs 2 median {two:.2} s; ratio {:.2} (goal ≤ 0.6)",
        two / one
    );
}
