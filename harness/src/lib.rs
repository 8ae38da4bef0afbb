//! The mintcheck harness: scenario files, targets, the runner and its reports.
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `spec` < `scenario` < `rig` < `suite` < `fuzz`, `sandbox`, `explain`

pub mod explain;
pub mod fuzz;
pub mod rig;
pub mod sandbox;
pub mod scenario;
pub mod spec;
pub mod suite;
