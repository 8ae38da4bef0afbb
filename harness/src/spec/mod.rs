//! The spec as data: each rule's level and which parts of it are free at core, read from
//! `docs/spec/pypi-mint-token.md`, and the grading vocabulary (levels, strengths, aspects)
//! every check is judged in.
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `grading` < `rules`

pub mod grading;
pub mod rules;

pub use grading::{Aspect, Level, Strength};
