//! Scenarios: the file format (as written in [`mod@file`], as checked in [`model`]), the loader
//! and its checks, the JSON export and rule coverage.
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `expect`, `fixture`, `generated`, `pattern`, `publisher` < `file` < `model` < `validate` < `load`
//! < `coverage`, `embedded`, `export`

pub mod coverage;
pub mod embedded;
pub mod expect;
pub mod export;
pub mod file;
pub mod fixture;
pub mod generated;
pub mod load;
pub mod model;
pub mod pattern;
pub mod publisher;
#[cfg(test)]
pub(crate) mod test_support;
mod validate;

pub use file::ScenarioFile;
pub use load::{LoadError, load_dir};
pub use model::{Action, Expect, Level, Scenario, Step, StepKind};
pub use validate::fixture;
