//! The one source of time. Everything that depends on "now" (token times R-TIME-2, the JWKS
//! cooldown R-JWKS-3, replay expiry R-JTI-3, minted-token validity R-TOK-2) reads it here, so
//! tests can pin it.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time as Unix seconds, possibly fractional (the spec's `now`).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Now(f64);

impl Now {
    pub fn from_unix(seconds: f64) -> Self {
        Self(seconds)
    }

    /// The spec's `T = ⌊now⌋`.
    pub fn whole_seconds(self) -> i64 {
        self.0.floor() as i64
    }

    pub fn seconds(self) -> f64 {
        self.0
    }

    pub fn plus(self, duration: Duration) -> Self {
        Self(self.0 + duration.as_secs_f64())
    }
}

pub trait Clock: Debug + Send + Sync {
    fn now(&self) -> Now;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Now {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Now(since_epoch.as_secs_f64())
    }
}

/// A clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<f64>>);

impl ManualClock {
    pub fn at(unix_seconds: f64) -> Self {
        Self(Arc::new(Mutex::new(unix_seconds)))
    }

    pub fn set(&self, unix_seconds: f64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = unix_seconds;
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by.as_secs_f64();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Now {
        Now(*self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Another clock moved forward by an adjustable amount: how a running registry's time moves
/// on (the control endpoint's `POST /__mintcheck/clock`) whatever clock it was built with.
#[derive(Debug)]
pub(crate) struct ShiftedClock {
    base: Arc<dyn Clock>,
    shift: Mutex<f64>,
}

impl ShiftedClock {
    pub(crate) fn new(base: Arc<dyn Clock>) -> Self {
        Self {
            base,
            shift: Mutex::new(0.0),
        }
    }

    pub(crate) fn advance(&self, by: Duration) {
        *self.shift.lock().unwrap_or_else(|e| e.into_inner()) += by.as_secs_f64();
    }

    pub(crate) fn reset(&self) {
        *self.shift.lock().unwrap_or_else(|e| e.into_inner()) = 0.0;
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Now {
        let shift = *self.shift.lock().unwrap_or_else(|e| e.into_inner());
        Now(self.base.now().0 + shift)
    }
}
