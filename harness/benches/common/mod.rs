//! What the harness's benches share: the raw signing rate every ratio is measured against.

use std::time::{Duration, Instant};

use mock_issuer::{Forger, KeySet, Profile, Provider};

/// Raw RS256 signatures per second over a GitHub-sized signing input, on one thread.
pub fn raw_signs_per_second(window: Duration) -> f64 {
    let keys = KeySet::embedded_for(Provider::Github);
    let sample = Forger::new(&keys).token(Profile::Github).sign().unwrap();
    let input = sample
        .compact
        .rsplit_once('.')
        .unwrap()
        .0
        .as_bytes()
        .to_vec();
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < window {
        keys.primary.sign_rs256(&input).unwrap();
        count += 1;
    }
    count as f64 / started.elapsed().as_secs_f64()
}
