//! The mintcheck harness: conformance testing for trusted publishing's mint-token endpoint
//! (`POST /_/oidc/mint-token`). It runs the scenario suite against a registry and judges
//! every answer by the spec rule behind it, fuzzes a registry with generated tokens, and
//! stands up a sandbox to rehearse a release with real clients. The `mintcheck` binary is a
//! thin command line over this crate; the mock issuer and the reference registry it drives
//! are the `mock-issuer` and `reference-registry` crates.
//!
//! # Three ways in
//!
//! **Run the suite** against the embedded reference registry ([`Target::Reference`]) or any
//! registry over HTTP, told each scenario's fixture through its control endpoint:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mintcheck::scenario::{embedded, load::load_sources};
//! use mintcheck::{Level, RunOptions, Target, Verdict, run};
//!
//! // The suite built into this crate (`load_dir` reads a folder of scenario files instead).
//! let scenarios = load_sources(&embedded::sources())?;
//! let target = Target::remote("http://127.0.0.1:8000", "control-token");
//! let options = RunOptions { level: Level::Core, ..RunOptions::default() };
//! let outcomes = run(scenarios, &target, &options, |o| println!("{} {}", o.id, o.verdict.label())).await;
//! assert!(outcomes.iter().all(|o| o.verdict != Verdict::Fail));
//! # Ok(()) }
//! ```
//!
//! **Fuzz** a target: cases generated from a seed, judged by invariants any registry keeps
//! and by the reference registry, each fault shrunk to a scenario file:
//!
//! ```no_run
//! # async fn demo() -> Result<(), mintcheck::fuzz::FuzzError> {
//! use mintcheck::{FuzzOptions, Target};
//!
//! let options = FuzzOptions { seed: 7, cases: Some(500), ..FuzzOptions::default() };
//! let report = mintcheck::fuzz::run(&Target::Reference, &options, |_progress| {}).await?;
//! assert!(report.failures.is_empty());
//! # Ok(()) }
//! ```
//!
//! **Rehearse a release** in a sandbox: mock issuers and the reference registry over https,
//! and CI jobs whose environment real clients read:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mintcheck::Sandbox;
//!
//! let sandbox = Sandbox::builder().demo().start().await?; // stops on drop
//! let job = sandbox.job("github").expect("the demo's GitHub job");
//! println!("upload to {} with:\n{}", sandbox.upload_url(), job.env.to_shell());
//! # Ok(()) }
//! ```
//!
//! # The modules
//!
//! - [`spec`]: the spec as data (each rule's level and what it leaves free at core, the
//!   error codes) and the grading vocabulary: levels, strengths, aspects.
//! - [`scenario`]: the scenario file format as written, its checks, and the typed model a
//!   run reads; the JSON export and rule coverage.
//! - [`rig`]: what a run stands on: targets, the mock issuers a fixture trusts, the issuer
//!   proxy, the HTTP transport and uploads.
//! - [`suite`]: running the suite: the runner, the judge of each answer, the expectations
//!   file and the reports.
//! - [`fuzz`], [`sandbox`], [`explain`]: the other jobs, each on top of the suite's parts.
//! - [`client`]: PEP 807 client conformance: an index played for an uploading client.
//! - `kept`: values made once per process and kept (compiled patterns, upload archives).
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `kept`, `spec` < `scenario` < `rig` < `suite` < `fuzz`, `sandbox`, `explain`, `client`

pub mod client;
pub mod explain;
pub mod fuzz;
mod kept;
pub mod rig;
pub mod sandbox;
pub mod scenario;
pub mod spec;
pub mod suite;

pub use fuzz::{FuzzOptions, FuzzReport};
pub use rig::issuers::IssuerSetup;
pub use rig::targets::{Target, TargetError};
pub use sandbox::Sandbox;
pub use scenario::{LoadError, Scenario, load_dir};
pub use spec::{Aspect, Level, Strength};
pub use suite::expectations::Expectations;
pub use suite::outcome::{Outcome, Verdict};
pub use suite::runner::{RunOptions, run};
