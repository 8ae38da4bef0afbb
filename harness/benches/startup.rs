//! Time from process start to the ready line of `mintcheck issuer` (goal: under 50 ms) and of
//! `mintcheck registry`, which `run --target-cmd` waits for once per instance.
//! Run with `cargo bench -p mintcheck --bench startup`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn time_to_ready(args: &[&str]) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mintcheck"))
        .args(args)
        .stdout(Stdio::piped())
        // The registry's note that it has no fixture.
        .stderr(Stdio::null())
        .spawn()
        .expect("mintcheck runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("ready line");
    let elapsed = started.elapsed();
    assert!(
        line.contains("\"mintcheck\""),
        "unexpected first line {line:?}"
    );
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn main() {
    for (label, args) in [
        ("issuer", &["issuer"][..]),
        ("issuer --tls", &["issuer", "--tls"][..]),
        ("registry", &["registry"][..]),
    ] {
        time_to_ready(args); // warm the page cache
        let mut samples: Vec<Duration> = (0..15).map(|_| time_to_ready(args)).collect();
        samples.sort();
        println!(
            "{label:<14} process start -> ready line: median {:.1} ms, max {:.1} ms (goal < 50 ms)",
            samples[samples.len() / 2].as_secs_f64() * 1e3,
            samples[samples.len() - 1].as_secs_f64() * 1e3,
        );
    }
}
