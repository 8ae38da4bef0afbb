//! Fuzz cases per second against the in-process reference registry and over loopback HTTP,
//! each as a ratio to raw RS256 signatures per second (a validly signed case cannot be faster
//! than its signature; goal >= 0.8 in process), and the peak memory after 100,000 cases
//! (goal: flat, under 100 MB). The machine is shared and noisy, so raw signing and fuzzing
//! alternate in rounds and each round gives its own ratio; the median and range are printed.
//! Run with `cargo bench -p mintcheck --bench fuzz`.

use std::time::Duration;

use mintcheck::fuzz::{FuzzOptions, FuzzReport, run};
use mintcheck::rig::targets::Target;
use reference_registry::{Registry, RegistryConfig};

mod common;

use common::raw_signs_per_second;

const ROUNDS: usize = 5;
const MEMORY_CASES: u64 = 100_000;
const CONTROL_TOKEN: &str = "bench-control";

async fn campaign(target: &Target, seed: u64, cases: u64, against_reference: bool) -> FuzzReport {
    let options = FuzzOptions {
        seed,
        cases: Some(cases),
        against_reference,
        ..FuzzOptions::default()
    };
    let report = run(target, &options, |_| {})
        .await
        .expect("the campaign runs");
    assert!(
        report.failures.is_empty(),
        "the reference registry keeps every invariant"
    );
    report
}

/// Per round: (all cases/s, forged-token cases/s), each over the raw signing rate measured
/// just before.
async fn ratios(target: &Target, cases: u64, against_reference: bool) -> (Vec<f64>, Vec<f64>) {
    let (mut all, mut forged) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let raw = raw_signs_per_second(Duration::from_secs(1));
        let report = campaign(target, round as u64, cases, against_reference).await;
        let seconds = report.elapsed.as_secs_f64();
        all.push(report.cases as f64 / seconds / raw);
        forged.push(report.forged as f64 / seconds / raw);
    }
    (all, forged)
}

fn spread(mut ratios: Vec<f64>) -> String {
    ratios.sort_by(f64::total_cmp);
    format!(
        "median {:.2} (range {:.2}-{:.2})",
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1]
    )
}

/// Peak resident memory of this process (Linux `VmHWM`), in MB.
fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let raw = raw_signs_per_second(Duration::from_secs(2));
    println!("raw RS256 signs/s (one thread): {raw:.0}");

    let (all, forged) = ratios(&Target::Reference, 4000, false).await;
    println!(
        "in process, cases/s over raw signs/s: {} (goal >= 0.80); forged-token cases only: {}",
        spread(all),
        spread(forged)
    );

    let registry = Registry::new(RegistryConfig {
        control_token: Some(CONTROL_TOKEN.to_owned()),
        ..RegistryConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, reference_registry::app(registry)).await;
    });
    let remote = Target::remote(format!("http://{addr}"), CONTROL_TOKEN);
    let (all, _) = ratios(&remote, 1000, false).await;
    println!("loopback HTTP, invariants only: {}", spread(all));
    let (all, _) = ratios(&remote, 1000, true).await;
    println!(
        "loopback HTTP with the reference registry as oracle: {}",
        spread(all)
    );
    server.abort();

    // Memory: one campaign of 100,000 cases, its peak read after 10,000 and at the end.
    let mut early = None;
    let options = FuzzOptions {
        seed: 7,
        cases: Some(MEMORY_CASES),
        ..FuzzOptions::default()
    };
    let long = run(&Target::Reference, &options, |progress| {
        if progress.cases == MEMORY_CASES / 10 {
            early = peak_mb();
        }
    })
    .await
    .expect("the campaign runs");
    assert!(long.failures.is_empty());
    println!("mint answers of the long run: {:?}", long.mint_answers);
    if let (Some(early), Some(late)) = (early, peak_mb()) {
        println!(
            "peak memory: {early:.1} MB after {} cases, {late:.1} MB after {} (goal: flat, < 100 MB)",
            MEMORY_CASES / 10,
            long.cases
        );
    }
}
