//! Scenarios per second against the in-process reference registry, and the wall time of
//! the whole suite as a user runs it (`mintcheck run`, process start to exit; goal < 1 s on
//! this 2-core machine). Run with `cargo bench -p mintcheck --bench suite`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use mintcheck::rig::targets::Target;
use mintcheck::scenario::{Level, load_dir};
use mintcheck::suite::outcome::Verdict;
use mintcheck::suite::runner::{self, RunOptions};

const ROUNDS: usize = 5;

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
    let mut ran = 0;
    for _ in 0..ROUNDS {
        let scenarios = load_dir(&folder).expect("the suite loads");
        let outcomes = runner::run(scenarios, &Target::Reference, &options, |_| {}).await;
        assert!(
            outcomes.iter().all(|o| o.verdict == Verdict::Pass),
            "the suite passes"
        );
        ran += outcomes.len();
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "in process: {ran} scenarios in {elapsed:.2} s = {:.0} scenarios/s",
        ran as f64 / elapsed
    );

    let mut walls: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_mintcheck"))
                .args(["run", "--scenarios"])
                .arg(&folder)
                .stdout(std::process::Stdio::null())
                .status()
                .expect("mintcheck runs");
            assert!(status.success(), "mintcheck run exits 0");
            started.elapsed().as_secs_f64()
        })
        .collect();
    walls.sort_by(f64::total_cmp);
    println!(
        "whole suite from process start: median {:.3} s, max {:.3} s ({} scenarios; goal < 1 s)",
        walls[walls.len() / 2],
        walls[walls.len() - 1],
        ran / ROUNDS
    );
}
