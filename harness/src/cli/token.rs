//! `mintcheck token`: forge one token offline with the embedded keys.

use mock_issuer::defect::catalogue;
use mock_issuer::{Defect, Forger, KeySet, Profile, RelativeTime};
use serde_json::Value;

use super::UsageError;
use super::output::outln;

#[derive(Debug, clap::Args)]
#[command(after_help = defect_help())]
pub struct TokenArgs {
    /// Claim profile (see below).
    #[arg(long, default_value = "github")]
    profile: Profile,
    /// Set a claim to a string: --claim repository=octo-org/renamed (repeatable).
    #[arg(long = "claim", value_name = "NAME=VALUE", value_parser = name_value)]
    claims: Vec<(String, String)>,
    /// Set a claim to any JSON value: --claim-json runner_id=12 (repeatable).
    #[arg(long = "claim-json", value_name = "NAME=JSON", value_parser = name_json)]
    json_claims: Vec<(String, Value)>,
    /// Set a time claim relative to now: --time exp=now-29s (repeatable).
    #[arg(long = "time", value_name = "NAME=TIME", value_parser = name_time)]
    times: Vec<(String, RelativeTime)>,
    /// Remove a claim (repeatable).
    #[arg(long = "remove", value_name = "NAME")]
    removed: Vec<String>,
    /// Set a header parameter to any JSON value (repeatable).
    #[arg(long = "header-json", value_name = "NAME=JSON", value_parser = name_json)]
    headers: Vec<(String, Value)>,
    /// Add a defect (repeatable; see the list below).
    #[arg(long = "defect", value_name = "DEFECT")]
    defects: Vec<Defect>,
    /// The iss claim (default: the profile's real issuer).
    #[arg(long)]
    issuer: Option<String>,
    /// The aud claim.
    #[arg(long, default_value = "pypi")]
    audience: String,
    /// Print {"token", "header", "claims"} as JSON instead of the bare token.
    #[arg(long)]
    json: bool,
}

fn defect_help() -> String {
    let mut help = String::from("Profiles:\n");
    for profile in Profile::ALL {
        help.push_str(&format!("  {:<26} {}\n", profile.name(), profile.summary()));
    }
    help.push_str("\nDefects (composable):\n");
    for (name, what) in catalogue() {
        help.push_str(&format!("  {name:<26} {what}\n"));
    }
    help.push_str(
        "\nTokens are signed with the embedded test key mintcheck-primary; a running\n\
         `mintcheck issuer` publishes it, or forges tokens for its own keys with POST /token.\n\n\
         Exit codes: 0 the token was printed; 2 usage error (a bad flag, profile, claim or\n\
         defect).",
    );
    help
}

fn name_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

fn name_json(text: &str) -> Result<(String, Value), String> {
    let (name, raw) = name_value(text)?;
    let value =
        serde_json::from_str(&raw).map_err(|err| format!("{name}: {raw:?} is not JSON ({err})"))?;
    Ok((name, value))
}

fn name_time(text: &str) -> Result<(String, RelativeTime), String> {
    let (name, raw) = name_value(text)?;
    let at = raw.parse().map_err(|err| format!("{name}: {err}"))?;
    Ok((name, at))
}

pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    let mut forger = Forger::new(&KeySet::embedded()).with_audience(args.audience);
    if let Some(issuer) = args.issuer {
        forger = forger.with_issuer(issuer);
    }
    let mut builder = forger.token(args.profile);
    for (name, value) in args.claims {
        builder = builder.claim(name, value);
    }
    for (name, value) in args.json_claims {
        builder = builder.claim(name, value);
    }
    for (name, at) in args.times {
        builder = builder.time(name, at);
    }
    for name in args.removed {
        builder = builder.remove(name);
    }
    for (name, value) in args.headers {
        builder = builder.header(name, value);
    }
    let token = builder
        .defects(args.defects)
        .sign()
        .map_err(|err| UsageError(err.to_string()))?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&token)?)?;
    } else {
        outln!("{token}")?;
    }
    Ok(())
}
