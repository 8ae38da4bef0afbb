//! End-to-end tests live in `tests/`; the library holds what they share: an independent
//! registry (`independent`) to run the suite against.

pub mod independent;
