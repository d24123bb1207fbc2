//! The OpenID Connect surface of the private MitID brokers, imitated.
//!
//! NemLog-in itself speaks SAML; private services reach MitID through OIDC brokers. This
//! provider serves several issuers on one server by path — Signaturgruppen-style at
//! `/signaturgruppen/op` and Idura-style at `/idura` by default — each with discovery, JWKS,
//! authorize, token, userinfo, end session and (Idura) PAR. Facts: `nemlogin-protocol.md` §3.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mitid_mock_broker::oidc::{ClientConfig, OidcConfig, OidcKeys, OidcProvider};
//! use mitid_mock_broker::{IdentityStore, pki::MockPki};
//! use std::{net::SocketAddr, sync::Arc};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let base = format!("http://{}", listener.local_addr()?);
//! let mut config = OidcConfig::default();
//! config.clients.push(ClientConfig::with_secret("rp", "mock-secret", "http://127.0.0.1:9/cb"));
//! let keys = OidcKeys::from_pki(MockPki::builtin())?;
//! let provider = Arc::new(OidcProvider::new(config, &base, IdentityStore::builtin(), keys)?);
//! let app = provider.clone().router();
//! tokio::spawn(async move {
//!     axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
//! });
//! # Ok(()) }
//! ```
//!
//! Automation: the authorization endpoint shows an HTML identity chooser unless the request
//! carries `mock_identity=<id>` (optionally `mock_loa=`), or the flow was preselected with
//! [`OidcProvider::preselect`]. Faults are armed per flow with [`OidcProvider::arm`]; the
//! vocabulary is in [`dangerous`], the only module that produces invalid responses.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod config;
pub mod control;
pub mod dangerous;
pub mod discovery;
mod end_session;
pub mod error;
pub mod id_token;
pub mod keys;
pub mod observed;
pub(crate) mod params;
pub mod provider;
pub(crate) mod router;
pub(crate) mod token;
mod userinfo;

/// The broker's one clock, re-exported where OIDC users have always found it.
pub use crate::config::{Clock, ManualClock, SystemClock};
pub use config::{
    AboveCap, ClientAuthMethod, ClientConfig, IssuerConfig, OidcConfig, OidcConfigError, Profile,
    SigningAlg,
};
pub use dangerous::{OidcFault, OidcFaultPlan};
pub use id_token::{BrokerClaims, BrokerIdToken, BrokerIdTokenClaims};
pub use keys::{OidcKeys, SigningKey};
pub use observed::OidcFlowRecord;
pub use params::MAX_BODY_BYTES;
pub use provider::{AdminError, FlowKey, IssuedTokenResponse, OidcProvider, OidcSetupError};
