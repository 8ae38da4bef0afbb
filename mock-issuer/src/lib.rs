//! A mock OIDC issuer for trusted-publishing tests.
//!
//! It forges tokens with any claims and any [`Defect`], serves discovery and JWKS so a
//! registry under test can verify them, and answers GitHub Actions' token-request contract
//! so real clients run unmodified.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mock_issuer::{Defect, MockIssuer, Profile};
//!
//! let issuer = MockIssuer::start().await?; // loopback, random port, stops on drop
//! let good = issuer.token(Profile::Github).sign()?;
//! let expired = issuer.token(Profile::Github).defect(Defect::Expired).sign()?;
//! let renamed = issuer
//!     .token(Profile::Github)
//!     .claim("repository", "acme-labs/renamed")
//!     .time("exp", "now+10m".parse()?)
//!     .sign()?;
//! println!("verify {} against {}", good, issuer.jwks_url());
//! # let _ = (expired, renamed); Ok(()) }
//! ```

pub mod defect;
pub mod env;
pub mod fault;
pub mod forge;
pub mod keys;
pub mod profile;
pub mod server;
pub mod spec;
pub mod time;
pub mod tls;

pub use defect::{Defect, Malformation, PublicKeyForm};
pub use env::ClientEnv;
pub use fault::JwksFault;
pub use forge::{ForgeError, ForgedToken, Forger, TokenBuilder};
pub use keys::{
    KeySet, RsaAlgorithm, SigningKey, fresh_keys, prepare_random_generator, signatures_made,
};
pub use profile::{Profile, Provider};
pub use server::log::{Endpoint, LoggedRequest};
pub use server::{IssuerError, IssuerMode, JwkEdit, MockIssuer, MockIssuerBuilder, MockService};
pub use spec::TokenSpec;
pub use time::RelativeTime;
