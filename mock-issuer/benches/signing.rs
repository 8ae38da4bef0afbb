//! Tokens signed per second by the library and by `POST /token`, each as a ratio to raw
//! RS256 signatures per second measured in the same run (goals: >= 0.9 library, >= 0.8
//! HTTP). Ratios, not absolute rates, because the machine is shared and noisy.
//! Run with `cargo bench -p mock-issuer --bench signing`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mock_issuer::{KeySet, MockIssuer, Profile};

const WINDOW: Duration = Duration::from_secs(2);

/// Calls `work` until the window is over; returns calls per second.
fn rate(mut work: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < WINDOW {
        work();
        count += 1;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// A minimal keep-alive HTTP/1.1 client on its own thread, so the measurement is the
/// issuer's cost and not a full client stack's.
fn post_token_rate(addr: std::net::SocketAddr) -> f64 {
    std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let body = r#"{"profile":"github"}"#;
        let request = format!(
            "POST /token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        rate(|| {
            stream.write_all(request.as_bytes()).unwrap();
            let mut length = 0;
            let mut line = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if line.starts_with("HTTP/1.1 ") {
                    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
        })
    })
    .join()
    .unwrap()
}

/// Runs `make()`'s closures on `threads` threads at once; returns the summed rates.
fn in_parallel<W: FnOnce() -> f64 + Send + 'static>(
    threads: usize,
    mut make: impl FnMut() -> W,
) -> f64 {
    let workers: Vec<_> = (0..threads).map(|_| std::thread::spawn(make())).collect();
    workers.into_iter().map(|w| w.join().unwrap()).sum()
}

#[tokio::main]
async fn main() {
    let keys = KeySet::embedded();
    let issuer = MockIssuer::start().await.expect("issuer starts");
    // The same signing input size as a real GitHub token: the RSA operation dominates.
    let sample = issuer.token(Profile::Github).sign().unwrap();
    let signing_input = sample
        .compact
        .rsplit_once('.')
        .unwrap()
        .0
        .as_bytes()
        .to_vec();

    let raw = rate(|| {
        keys.primary.sign_rs256(&signing_input).unwrap();
    });
    let forger = issuer.forger();
    let library = rate(|| {
        forger.token(Profile::Github).sign().unwrap();
    });
    let http = post_token_rate(issuer.address().expect("bound"));
    // Throughput with every core busy: as many client connections as cores, against raw
    // signing on as many threads.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let raw_parallel = in_parallel(cores, || {
        let (keys, input) = (keys.clone(), signing_input.clone());
        move || rate(|| drop(keys.primary.sign_rs256(&input).unwrap()))
    });
    let addr = issuer.address().expect("bound");
    let http_parallel = in_parallel(cores, || move || post_token_rate(addr));
    // Raw again at the end, so drift in machine load shows up as a spread.
    let raw_after = rate(|| {
        keys.primary.sign_rs256(&signing_input).unwrap();
    });
    let raw_mean = (raw + raw_after) / 2.0;
    println!("raw RS256 signs/s:       {raw:.0} (before) {raw_after:.0} (after)");
    println!(
        "library tokens/s:        {library:.0}  ratio {:.2} (goal >= 0.90)",
        library / raw_mean
    );
    println!(
        "POST /token tokens/s:    {http:.0}  ratio {:.2} (one connection, request after request)",
        http / raw_mean
    );
    println!(
        "on {cores} cores: raw {raw_parallel:.0} signs/s, POST /token {http_parallel:.0} tokens/s, ratio {:.2} (goal >= 0.80)",
        http_parallel / raw_parallel
    );
}
