//! Integration-test support for mitid-harness: the reference service providers.
//!
//! [`reference_sp`] is a real OIOSAML 3 SP (axum, loopback) that the harness's own tests run the
//! scenario catalogue against: the strict configuration must pass every scenario, and each
//! switchable [`reference_sp::Flaw`] must make exactly its scenarios fail. That is the evidence
//! that every scenario discriminates.

pub mod identity_headers;
pub mod login_flow;
pub mod reference_rp;
pub mod reference_sp;

pub use reference_sp::{Check, Flaw, ReferenceSp, Rejection, RunningSp, SpConfig};
