#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod broker;
pub mod config;
pub mod dangerous;
pub mod identity;
pub mod nsis;
pub mod oidc;
mod page;
pub mod pki;
pub mod saml;
mod server;

pub use broker::{
    ArmedLogin, Broker, BrokerBuilder, BrokerError, BrokerState, FetchRecord, FlowRecord,
    RunningBroker, TlsMode,
};
pub use config::{
    Clock, EncryptionDefault, EntityIdPreset, FixedClock, IdGen, ManualClock, SystemClock,
};
pub use dangerous::{Fault, FaultPlan};
pub use identity::{IdentityError, IdentityKind, IdentityStore, TestIdentity};
pub use nsis::Loa;
