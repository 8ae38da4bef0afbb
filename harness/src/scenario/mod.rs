//! Scenarios: the file format, the loader, the JSON export and rule coverage.

pub mod coverage;
pub mod export;
pub mod load;
pub mod model;
pub mod publisher;
#[cfg(test)]
pub(crate) mod test_support;

pub use load::{LoadError, load_dir};
pub use model::{Action, Expect, Level, Scenario, ScenarioFile, Step, TextMatch};
