//! A mock MitID broker for tests and local development: it imitates NemLog-in's OIOSAML 3 IdP
//! (metadata, signed Redirect-binding AuthnRequests, signed *and* encrypted assertions, NSIS
//! LoA, the OIOSAML 3 attribute profile, SLO) and the OIDC surface of the private MitID brokers
//! (Signaturgruppen and Idura: discovery, JWKS, PAR, authorize, token, userinfo, end session).
//!
//! Every key it uses is a **mock** key, committed as a fixture and marked as mock in its
//! certificate subject. It never holds a real NemLog-in key. It binds to loopback unless told
//! otherwise ([`BrokerBuilder::allow_non_loopback`]).
//!
//! # Start a broker and register an SP
//!
//! An SP is known only from its metadata (a file, a URL, or parsed [`saml::sp_metadata`]):
//! assertions go only to the ACS URLs that metadata lists.
//!
//! ```no_run
//! # async fn t() -> Result<(), mitid_mock_broker::BrokerError> {
//! use mitid_mock_broker::{Broker, EntityIdPreset};
//! let broker = Broker::builder()
//!     .entity_id(EntityIdPreset::Mock)
//!     .register_sp_source("http://127.0.0.1:8080/saml/metadata")
//!     .start()
//!     .await?;
//! // Configure the SP with this metadata URL; a browser login then shows the chooser page.
//! println!("IdP metadata: {}", broker.metadata_url());
//! # Ok(()) }
//! ```
//!
//! # Arm a deliberately broken login (the dangerous API)
//!
//! A test arms the next login of one AuthnRequest ID with an identity, a LoA and a
//! [`FaultPlan`]: a list of [`Fault`]s (model, crypto and XML-after-signing mutations, applied
//! in [`dangerous`], the only place that produces invalid messages). The OIDC side has its own
//! vocabulary in [`oidc::dangerous`]. An external broker is armed over HTTP with the same types
//! through the control client in [`control`].
//!
//! ```no_run
//! # fn t(broker: &mitid_mock_broker::RunningBroker) {
//! use mitid_mock_broker::{ArmedLogin, Fault, FaultPlan};
//! broker.arm(
//!     "_request-id-from-the-sp",
//!     ArmedLogin {
//!         identity: "anna".into(),
//!         loa: None,
//!         plan: FaultPlan::none().with(Fault::UnsignedAssertion),
//!         profile: None,
//!     },
//! ).expect("a short request ID, and room to arm it");
//! // The SP must refuse the unsigned assertion; `broker.flow(id)` tells what was sent.
//! # }
//! ```
//!
//! # Configure it from a file
//!
//! [`BrokerOptions`] is the broker's setup as data: the `broker.toml` of
//! `mitid-harness broker --config`, the `[broker]` table of the harness's `sp.toml`, and the
//! `broker` command's flags all become one, and [`BrokerOptions::apply`] turns it into a
//! builder.
//!
//! ```no_run
//! # async fn t() -> Result<(), Box<dyn std::error::Error>> {
//! use mitid_mock_broker::{Broker, BrokerOptions};
//! let options = BrokerOptions::from_file("broker.toml".as_ref())?;
//! let broker = options.apply(Broker::builder())?.start().await?;
//! # Ok(()) }
//! ```
//!
//! # Determinism
//!
//! The clock ([`Clock`]), the ID generator ([`IdGen`]) and the keys are injected through the
//! builder, so snapshots of minted messages are byte-stable.
#![warn(missing_docs)]

pub mod broker;
pub mod config;
pub mod control;
pub mod dangerous;
mod dev;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod nsis;
pub mod observed;
pub mod oidc;
pub mod options;
mod page;
pub mod pki;
pub mod saml;
mod server;
mod table;

pub use broker::{
    ArmError, ArmedLogin, Broker, BrokerBuilder, BrokerError, BrokerState, FetchRecord, FlowRecord,
    RunningBroker, TlsMode,
};
pub use config::{
    Clock, EncryptionDefault, EntityIdPreset, FixedClock, IdGen, ManualClock, SystemClock,
};
pub use dangerous::{Fault, FaultPlan};
pub use identity::{IdentityError, IdentityKind, IdentityStore, TestIdentity};
pub use nsis::Loa;
pub use observed::Endpoint;
pub use options::{ApplyOptionsError, BrokerOptions, BrokerOptionsError, ControlTokenSetting};
