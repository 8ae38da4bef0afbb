//! The reference registry: PyPI's trusted-publishing token minting, legacy upload and pending
//! publishers as `docs/spec/pypi-mint-token.md` specifies them at level `pypi-exact`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use reference_registry::{FixtureDocument, Registry, RegistryConfig, app};
//!
//! let registry = Registry::new(RegistryConfig::default());
//! registry.apply(&FixtureDocument::new()).expect("an empty fixture applies");
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app(registry)).await
//! # }
//! ```
//!
//! The mint procedure reads top to bottom in `mint.rs`: one module per step.

mod api_token;
pub mod clock;
mod error;
pub mod events;
pub mod explain;
pub mod fixture;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
mod json_out;
mod jwks;
mod jwt;
mod key_fetch;
mod macaroon;
mod matching;
mod mint;
mod names;
mod payload;
mod pending;
pub mod pep807;
mod repr;
#[cfg(feature = "sabotage")]
pub mod sabotage;
mod state;
mod upload;
mod verify;

pub use clock::{Clock, ManualClock, Now, SystemClock};
pub use error::{ErrorCode, MintError};
pub use events::Event;
pub use fixture::{Applied, FixtureDocument, FixtureError, FixtureTarget};
pub use http::{MINT_BODY_LIMIT, UPLOAD_BODY_LIMIT, app};
pub use key_fetch::{FetchError, IssuerNetwork, NetworkAnswer};
pub use names::normalize;
pub use state::{Registry, RegistryConfig};
pub use upload::NON_USER_CANNOT_CREATE;

#[cfg(feature = "sabotage")]
pub use sabotage::Sabotage;
