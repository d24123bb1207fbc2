//! SAML 2.0 / OIOSAML 3 surface of the mock broker.
//!
//! Modules are named after protocol concepts: the AuthnRequest as it arrives, the Redirect
//! binding it arrives on, the assertion model, the response writer, the XML-security trait,
//! and the mint pipeline that ties them together.

pub mod assertion;
pub mod authn_request;
pub mod idp_metadata;
pub mod mint;
pub mod ns;
pub mod redirect;
pub mod response;
pub mod sp_metadata;
pub mod xml;
pub mod xmlsec;
