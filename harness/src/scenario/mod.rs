//! Scenarios: the file format and the loader.

pub mod load;
pub mod model;

pub use load::{LoadError, load_dir};
pub use model::{Action, Expect, Level, Scenario, ScenarioFile, Step, TextMatch};
