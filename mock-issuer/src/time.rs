//! Token times written relative to the moment of signing (`now-1h`), so nothing sleeps.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Number, Value};

/// A point in time: `now`, `now±<n><unit>` (units `s`, `m`, `h`, `d`; `n` may have a
/// fraction, as in `now-29.5s`), or absolute Unix seconds (`1767225600`, `1767225600.5`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RelativeTime {
    FromNow(f64),
    Unix(f64),
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "invalid time {input:?}: expected `now`, `now-<n><unit>`, `now+<n><unit>` (unit s, m, h or d) or Unix seconds"
)]
pub struct TimeParseError {
    pub input: String,
}

impl RelativeTime {
    pub const NOW: RelativeTime = RelativeTime::FromNow(0.0);

    pub fn seconds_from_now(offset: f64) -> Self {
        RelativeTime::FromNow(offset)
    }

    /// Unix seconds for a given `now`.
    pub fn resolve(self, now: f64) -> f64 {
        match self {
            RelativeTime::FromNow(offset) => now + offset,
            RelativeTime::Unix(at) => at,
        }
    }

    /// The JSON number for a claim: an integer when whole, as real issuers send.
    pub fn to_claim(self, now: f64) -> Value {
        seconds_to_json(self.resolve(now))
    }
}

pub(crate) fn seconds_to_json(seconds: f64) -> Value {
    if seconds.fract() == 0.0 && seconds.abs() < 9.0e15 {
        Value::Number(Number::from(seconds as i64))
    } else {
        Number::from_f64(seconds).map_or(Value::Null, Value::Number)
    }
}

/// The current Unix time in seconds, with a fraction.
pub fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl FromStr for RelativeTime {
    type Err = TimeParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = || TimeParseError {
            input: input.to_owned(),
        };
        let text = input.trim();
        let Some(rest) = text.strip_prefix("now") else {
            let at: f64 = text.parse().map_err(|_| error())?;
            return if at.is_finite() {
                Ok(RelativeTime::Unix(at))
            } else {
                Err(error())
            };
        };
        if rest.is_empty() {
            return Ok(RelativeTime::NOW);
        }
        let (sign, amount) = match rest.split_at(1) {
            ("+", amount) => (1.0, amount),
            ("-", amount) => (-1.0, amount),
            _ => return Err(error()),
        };
        let unit_at = amount
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(error)?;
        let (number, unit) = amount.split_at(unit_at);
        let scale = match unit {
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(error()),
        };
        let value: f64 = number.parse().map_err(|_| error())?;
        if !value.is_finite() || number.starts_with(['+', '-']) {
            return Err(error());
        }
        Ok(RelativeTime::FromNow(sign * value * scale))
    }
}

impl fmt::Display for RelativeTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RelativeTime::FromNow(0.0) => f.write_str("now"),
            RelativeTime::FromNow(offset) if offset < 0.0 => write!(f, "now-{}s", -offset),
            RelativeTime::FromNow(offset) => write!(f, "now+{offset}s"),
            RelativeTime::Unix(at) => write!(f, "{at}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relative_and_absolute_times() {
        let now = 1_767_225_600.0;
        let cases = [
            ("now", now),
            ("now-1h", now - 3600.0),
            ("now+30s", now + 30.0),
            ("now-29.5s", now - 29.5),
            ("now+2m", now + 120.0),
            ("now-1d", now - 86400.0),
            ("1767225000", 1_767_225_000.0),
        ];
        for (text, expected) in cases {
            let parsed: RelativeTime = text.parse().unwrap();
            assert_eq!(parsed.resolve(now), expected, "{text}");
        }
    }

    #[test]
    fn rejects_garbage_with_the_input_named() {
        for bad in [
            "", "later", "now-", "now-1", "now-1y", "now*1s", "now--1s", "nan", "inf",
        ] {
            let err = bad.parse::<RelativeTime>().unwrap_err();
            assert_eq!(err.input, bad);
        }
    }

    #[test]
    fn whole_seconds_become_integers() {
        assert_eq!(RelativeTime::Unix(5.0).to_claim(0.0), serde_json::json!(5));
        assert_eq!(
            RelativeTime::FromNow(-0.5).to_claim(10.0),
            serde_json::json!(9.5)
        );
    }
}
