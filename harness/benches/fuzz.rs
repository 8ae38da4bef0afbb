//! Fuzz cases per second against the in-process reference registry and over loopback HTTP,
//! each as a ratio to raw RS256 signatures per second measured in the same run (a validly
//! signed case cannot be faster than its signature; goal >= 0.8 in process), and the peak
//! memory after 100,000 cases (goal: flat, under 100 MB).
//! Run with `cargo bench -p mintcheck --bench fuzz`.

use std::time::{Duration, Instant};

use mintcheck::fuzz::{FuzzOptions, FuzzReport, run};
use mintcheck::target::Target;
use mock_issuer::{KeySet, Profile};
use reference_registry::{Registry, RegistryConfig};

const CASES: u64 = 20_000;
const MEMORY_CASES: u64 = 100_000;
const CONTROL_TOKEN: &str = "bench-control";

/// Raw RS256 signatures per second over a GitHub-sized signing input, on one thread.
fn raw_signs_per_second() -> f64 {
    let keys = KeySet::embedded_for(mock_issuer::Provider::Github);
    let sample = mock_issuer::Forger::new(&keys)
        .token(Profile::Github)
        .sign()
        .unwrap();
    let input = sample
        .compact
        .rsplit_once('.')
        .unwrap()
        .0
        .as_bytes()
        .to_vec();
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < Duration::from_secs(2) {
        keys.primary.sign_rs256(&input).unwrap();
        count += 1;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

async fn campaign(target: &Target, cases: u64, against_reference: bool) -> FuzzReport {
    let options = FuzzOptions {
        seed: 2026,
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

fn rates(report: &FuzzReport) -> (f64, f64) {
    let seconds = report.elapsed.as_secs_f64();
    (
        report.cases as f64 / seconds,
        report.forged as f64 / seconds,
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
    let raw = raw_signs_per_second();

    let in_process = campaign(&Target::Reference, CASES, false).await;
    let (cases, signed) = rates(&in_process);

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
    let over_http = campaign(&remote, CASES / 4, false).await;
    let (http_cases, http_signed) = rates(&over_http);
    let with_oracle = campaign(&remote, CASES / 4, true).await;
    let (oracle_cases, _) = rates(&with_oracle);
    server.abort();

    let raw_after = raw_signs_per_second();
    let raw_mean = (raw + raw_after) / 2.0;
    println!("raw RS256 signs/s (one thread): {raw:.0} (before) {raw_after:.0} (after)");
    println!(
        "in process:   {cases:.0} cases/s, ratio {:.2}; forged-token cases {signed:.0}/s, ratio {:.2} (goal >= 0.80)",
        cases / raw_mean,
        signed / raw_mean
    );
    println!(
        "loopback HTTP: {http_cases:.0} cases/s, ratio {:.2}; forged-token cases {http_signed:.0}/s, ratio {:.2}",
        http_cases / raw_mean,
        http_signed / raw_mean
    );
    println!(
        "loopback HTTP with the reference as oracle: {oracle_cases:.0} cases/s, ratio {:.2}",
        oracle_cases / raw_mean
    );
    println!("mint answers in process: {:?}", in_process.mint_answers);

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
    if let (Some(early), Some(late)) = (early, peak_mb()) {
        println!(
            "peak memory: {early:.1} MB after {} cases, {late:.1} MB after {} (goal: flat, < 100 MB)",
            MEMORY_CASES / 10,
            long.cases
        );
    }
}
