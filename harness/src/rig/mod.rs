//! What a run stands on: the target (the embedded reference registry or any registry over
//! HTTP), the mock issuers a fixture trusts, the issuer proxy, and the HTTP transport and
//! upload requests the suite and the fuzzer send.
//!
//! Layers, lowest first (a module uses only modules of layers below its own):
//! `discovery`, `transport`, `proxy`, `gateway` < `in_process` < `upload`, `targets` < `issuers`

pub mod discovery;
pub mod gateway;
pub mod in_process;
pub mod issuers;
pub mod proxy;
pub mod targets;
pub mod transport;
pub mod upload;
