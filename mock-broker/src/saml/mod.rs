//! SAML 2.0 / OIOSAML 3 surface of the mock broker.
//!
//! Modules are named after protocol concepts: the AuthnRequest as it arrives, the Redirect
//! binding it arrives on, the assertion model, the response writer, the XML-security trait,
//! and the mint pipeline that ties them together.
//!
//! The broker's SAML endpoints are here too, one module per operation, each with one rejection
//! enum that becomes a refusal page in one place (`page::Refusal`): `endpoint`
//! (metadata, and reading messages off the SSO/SLO URL's bindings), `sso` (AuthnRequest to
//! Response), `login` (the login page) and `slo` (logout); `sso_session` is the browser's SSO session
//! that lets `sso` answer IsPassive and repeated requests without a new authentication.

pub mod app_switch;
pub mod assertion;
pub mod authn_request;
pub mod bpp;
pub(crate) mod endpoint;
pub mod idp_logout;
pub mod idp_metadata;
pub(crate) mod login;
pub mod mint;
pub mod name_id_policy;
pub mod ns;
pub mod oiosaml4;
pub mod redirect;
pub mod release;
pub mod response;
pub(crate) mod slo;
pub mod sp_metadata;
pub(crate) mod sso;
pub mod sso_session;
pub mod xml;
pub mod xmlsec;
