//! Running the suite: each scenario against a target, every answer judged by the rule
//! behind it, known failures settled, and the outcomes reported.
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `outcome` < `check` < `expectations`, `report` < `runner`

pub mod check;
pub mod expectations;
pub mod outcome;
pub mod report;
pub mod runner;
