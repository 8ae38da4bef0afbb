//! `mintcheck fuzz`: cases generated without end against any target, judged by invariants
//! every registry must keep and, for targets other than the reference, by the reference
//! registry as an oracle; each fault shrunk to a small scenario file.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mintcheck::fuzz::FuzzError> {
//! use mintcheck::fuzz::{FuzzOptions, run};
//! use mintcheck::rig::targets::Target;
//!
//! let options = FuzzOptions { seed: 42, cases: Some(2000), ..FuzzOptions::default() };
//! let report = run(&Target::Reference, &options, |_progress| {}).await?;
//! assert!(report.failures.is_empty());
//! # Ok(()) }
//! ```
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `case`, `endpoint` < `exchange`, `generate` < `invariant` < `campaign` < `save` < `report`

pub mod campaign;
pub mod case;
pub mod endpoint;
pub mod exchange;
pub mod generate;
pub mod invariant;
pub mod report;
pub mod save;

pub use campaign::{
    DEFAULT_SHRINK_ITERATIONS, DEFAULT_TIMEOUT, Failure, FuzzError, FuzzOptions, FuzzReport,
    Progress, Shard, Stop, run,
};
pub use invariant::{Invariant, Violation};
