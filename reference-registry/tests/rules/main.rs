//! Black-box tests of the reference registry over HTTP, one module per spec area, each test
//! named after the rule it checks.

#[path = "../support/mod.rs"]
mod support;

mod control;
mod endpoints;
mod events;
mod issuers;
mod jwks;
mod key_fetch;
mod matching;
mod payload;
mod pending;
mod pep807;
mod replay;
mod upload;
mod verification;
