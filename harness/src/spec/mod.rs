//! The spec as data: each rule's level and which parts of it are free at core, read from
//! `docs/spec/pypi-mint-token.md`, and the grading vocabulary (levels, strengths, aspects)
//! every check is judged in.

pub mod grading;
pub mod rules;

pub use grading::{Aspect, Level, Strength};
