#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod identity;
pub mod nsis;
pub mod pki;
pub mod saml;

pub use identity::{IdentityError, IdentityKind, IdentityStore, TestIdentity};
pub use nsis::Loa;
