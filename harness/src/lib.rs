//! The mintcheck harness: scenario files, targets, the runner and its reports.

pub mod check;
pub mod coverage;
pub mod expectations;
pub mod explain;
pub mod export;
pub mod fuzz;
pub mod grading;
pub mod issuers;
pub mod outcome;
pub mod proxy;
pub mod publisher_spec;
pub mod report;
pub mod rules;
pub mod runner;
pub mod sandbox;
pub mod scenario;
pub mod target;
#[cfg(test)]
mod test_support;
pub mod transport;
pub mod upload;
