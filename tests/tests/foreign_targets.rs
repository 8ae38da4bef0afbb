//! Foreign registries adapted the ways users adapt them, each running the whole core suite:
//! one that knows only the real issuer strings and reaches the mock issuers through the
//! issuer proxy, and one configured by a file and restarted for every scenario.

use std::sync::Arc;
use std::time::Instant;

use mintcheck::rig::issuers::IssuerSetup;
use mintcheck::rig::proxy::IssuerProxy;
use mintcheck::rig::targets::{FixtureCommand, Fixtures, Target, TargetCommand};
use mintcheck::scenario::{Level, load_dir};
use mintcheck::suite::outcome::{Outcome, Verdict};
use mintcheck::suite::report::Tally;
use mintcheck::suite::runner::{self, RunOptions};
use mock_issuer::tls::TestCa;

mod common;

use common::{describe, scenarios_dir};

const REGISTRY: &str = env!("CARGO_BIN_EXE_independent-registry");
const TOKEN: &str = "foreign-control-token";

/// Every judged scenario passed (advisories count as passes); the problems otherwise.
fn problems(outcomes: &[Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter(|o| {
            !matches!(
                o.verdict,
                Verdict::Pass
                    | Verdict::Advisory
                    | Verdict::Skip { .. }
                    | Verdict::Unsupported { .. }
            )
        })
        .map(describe)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_knows_only_the_real_issuers_passes_through_the_issuer_proxy() {
    let scenarios = load_dir(&scenarios_dir()).expect("the suite loads");
    let fixtures: Vec<_> = scenarios.iter().map(|s| &s.fixture).collect();
    let ca =
        Arc::new(TestCa::generate_for(&mintcheck::rig::issuers::custom_hosts(fixtures)).unwrap());
    let proxy = Arc::new(IssuerProxy::start("127.0.0.1:0").await.unwrap());
    // What `mintcheck run --target-cmd … --issuer-proxy` gives the command.
    let mut command =
        TargetCommand::new(format!("{REGISTRY} --discovery-from-iss --check-archives"))
            .env("MINTCHECK_CONTROL_TOKEN", TOKEN)
            .env("SSL_CERT_FILE", ca.ca_path().display().to_string());
    for (name, value) in proxy.environment() {
        command = command.env(name, value);
    }
    let process = command.start().await.expect("the registry starts");
    let target = Target::remote(process.base_url(), TOKEN);
    let options = RunOptions {
        level: Level::Core,
        issuers: IssuerSetup {
            tls: true,
            ca: Some(ca),
            proxy: Some(proxy.clone()),
            gateway: None,
        },
        ..RunOptions::default()
    };
    let outcomes = runner::run(scenarios, &target, &options, |_| {}).await;
    process.stop().await;
    let tally = Tally::of(&outcomes);
    let problems = problems(&outcomes);
    assert!(
        problems.is_empty(),
        "{}\n{}",
        tally.summary(),
        problems.join("\n")
    );
    assert!(tally.pass > 150, "{}", tally.summary());
    assert_eq!(tally.unsupported, 0, "{}", tally.summary());
    assert!(
        proxy.tunnels() > 100,
        "the keys came through the proxy: {} tunnels",
        proxy.tunnels()
    );
}

/// The fixture command of a registry configured by a file: write the document where the
/// registry reads its configuration, stop the running registry, start it again on the same
/// port and wait for its ready line. (`docs/target-contract.md` shows it as the worked
/// example of this adapter shape.)
const RESTART: &str = r#"set -e
# Gone, or a zombie nobody reaps yet: either way it no longer listens.
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
cat > "$STATE/config.json"
if [ -f "$STATE/pid" ]; then
  pid=$(cat "$STATE/pid")
  kill "$pid" 2>/dev/null || true
  while alive "$pid"; do sleep 0.01; done
fi
# While the registry is down its port is free, and the kernel may hand it to an outgoing
# connection as an ephemeral port: a start that finds the port taken waits and tries again.
tries=0
while :; do
  : > "$STATE/out"
  MINTCHECK_ADDR="$ADDR" "$REGISTRY" --config "$STATE/config.json" > "$STATE/out" 2> "$STATE/err" &
  pid=$!
  until grep -q '"ready"' "$STATE/out" || ! alive "$pid"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 1000 ]; then cat "$STATE/err" >&2; exit 1; fi
    sleep 0.01
  done
  if grep -q '"ready"' "$STATE/out"; then break; fi
  if ! grep -q 'Address already in use' "$STATE/err"; then cat "$STATE/err" >&2; exit 1; fi
  sleep 0.05
done
echo "$pid" > "$STATE/pid"
echo restarted >> "$STATE/restarts"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_restarted_with_a_config_file_per_scenario_passes() {
    let state = tempfile::tempdir().unwrap();
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let script = state.path().join("restart.sh");
    std::fs::write(&script, RESTART).unwrap();
    let command = FixtureCommand::new(format!("sh {}", script.display()))
        .env("STATE", state.path().display().to_string())
        .env("ADDR", &addr)
        .env("REGISTRY", REGISTRY);
    let target = Target::Remote {
        base_url: format!("http://{addr}"),
        fixtures: Fixtures::Command(command),
    };
    let started = Instant::now();
    let scenarios = load_dir(&scenarios_dir()).expect("the suite loads");
    let options = RunOptions {
        level: Level::Core,
        ..RunOptions::default()
    };
    let outcomes = runner::run(scenarios, &target, &options, |_| {}).await;
    let elapsed = started.elapsed();
    if let Ok(pid) = std::fs::read_to_string(state.path().join("pid")) {
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    }
    let tally = Tally::of(&outcomes);
    let problems = problems(&outcomes);
    assert!(
        problems.is_empty(),
        "{}\n{}",
        tally.summary(),
        problems.join("\n")
    );
    assert!(tally.pass > 150, "{}", tally.summary());
    let clock_only = outcomes.iter().all(|o| match &o.verdict {
        Verdict::Unsupported { reason } => reason.starts_with("the target cannot move its clock"),
        _ => true,
    });
    assert!(clock_only, "only the clock is beyond a fixture command");
    let restarts = std::fs::read_to_string(state.path().join("restarts")).unwrap_or_default();
    eprintln!(
        "restart-on-fixture: {}; {:.1} s wall, {} restarts of the registry (one per fixture, twins included)",
        tally.summary(),
        elapsed.as_secs_f64(),
        restarts.lines().count()
    );
}
