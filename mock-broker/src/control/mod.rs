//! The broker's control protocol: every `/_mock/*` endpoint as typed requests and responses,
//! one client for in-process and external brokers alike, and refusals as data.
//!
//! | endpoint | request | response | access |
//! |---|---|---|---|
//! | `GET /_mock/health` | – | `ok` (text) | public: liveness only, changes and tells nothing (a sent token is checked) |
//! | `POST /_mock/arm` | [`SamlArmRequest`] | [`SamlArmed`] | control |
//! | `GET /_mock/flows/{id}` | – | [`FlowRecord`] | control (flow records hold the SP's messages) |
//! | `GET /_mock/fetches` | – | `[`[`FetchRecord`]`]` | control (reads records) |
//! | `POST /_mock/saml/logout` | [`IdpLogoutRequest`] | [`IdpLogoutStarted`] | control (signs a LogoutRequest as the IdP) |
//! | `GET /_mock/saml/logouts/{id}` | – | [`IdpLogoutRecord`] | control (reads records) |
//! | `POST /_mock/oidc/arm` | [`OidcArmRequest`] | [`OidcArmed`] | control |
//! | `POST /_mock/oidc/preselect` | [`PreselectRequest`] | [`Preselected`] | control |
//! | `POST /_mock/oidc/rotate` | [`RotateRequest`] | [`Rotated`] | control |
//! | `POST /_mock/oidc/restore-keys` | [`RestoreKeysRequest`] | [`Rotated`] | control |
//! | `POST /_mock/oidc/flow` | [`FlowRecordRequest`] | [`OidcFlowRecord`] | control |
//! | `GET /_mock/oidc/attacker/jwks.json`, `.../cert.pem` | – | public attacker key material | public: the RP under test fetches it (`jku`/`x5u` faults) |
//! | `GET /_mock/fetch/{token}` | – | the external-entity trap | public: SPs under test fetch it; it only records (capped) |
//! | `GET /dev` | – | the developer page (HTML) | viewer: loopback peer, own `Host`, no foreign `Origin`; no token (opened by hand, read-only) |
//!
//! The IdP metadata, SSO/SLO, the chooser and the OIDC endpoints are the broker's public
//! surface, not control. **Control** calls pass one guard ([`guard`], applied by the router to
//! each of them): a loopback peer, a `Host` naming the broker itself (its base URL, or
//! `127.0.0.1` / `localhost` / `[::1]` with its port), no foreign `Origin` or cross-site
//! `Sec-Fetch-Site`, the per-process control token as `Authorization: Bearer <token>`, and
//! `Content-Type: application/json` on every `POST`. The token is random per process
//! ([`ControlToken::Random`]; `mitid-harness broker` prints it), fixed by hand
//! ([`ControlToken::Fixed`]: `--control-token`, [`TOKEN_ENV`], `control_token` in broker.toml /
//! sp.toml `[broker]`), or, on a loopback listen address only, off ([`ControlToken::Disabled`];
//! the guard's module docs show why no cross-site path remains then).
//!
//! A refused call answers with a 4xx status and the JSON body
//! `{"error": code, "error_description": text}` (RFC 6749's shape, which the OIDC endpoints
//! already speak), read back by [`ControlClient`] as [`ControlClientError::Refused`]: 401
//! `invalid_token` (token missing or wrong), 403 `access_denied` (peer, Host, Origin), 415
//! `invalid_request` (not JSON).
//!
//! Every refusal the broker sends a *browser* (a refused AuthnRequest, an unknown OIDC client,
//! a control call) also carries the header [`REFUSAL_HEADER`] with the same code and
//! description ([`BrokerRefusal`]), so a program learns why without reading the page, whose
//! HTML is for people.
//!
//! ```no_run
//! # async fn t() -> Result<(), mitid_mock_broker::control::ControlClientError> {
//! use mitid_mock_broker::control::{ControlClient, SamlArmRequest};
//! use mitid_mock_broker::{ArmedLogin, FaultPlan};
//! let control = ControlClient::new("http://127.0.0.1:8390")?
//!     .with_token("the-token-the-broker-printed-at-start");
//! control
//!     .arm(&SamlArmRequest {
//!         request_id: "_id-from-the-authn-request".into(),
//!         login: ArmedLogin { identity: "anna".into(), loa: None, plan: FaultPlan::none(), profile: None },
//!     })
//!     .await?;
//! # Ok(()) }
//! ```

mod client;
pub(crate) mod guard;
pub(crate) mod server;

pub use crate::broker::{ArmedLogin, FetchRecord, FlowRecord};
pub use crate::oidc::control::{
    ArmRequest as OidcArmRequest, FlowRecordRequest, OidcArmed, PreselectRequest, Preselected,
    RestoreKeysRequest, RotateRequest, Rotated,
};
pub use crate::oidc::observed::OidcFlowRecord;
pub use crate::saml::idp_logout::{
    IdpLogoutRecord, IdpLogoutRequest, IdpLogoutStarted, LogoutDelivery, LogoutResponseSeen,
    NO_SLO_ENDPOINT, ResponseSignature, SloBinding,
};
pub use client::{ControlClient, ControlClientError};
pub(crate) use guard::ControlAccess;
pub use guard::{ControlToken, MAX_TOKEN_LEN, MIN_TOKEN_LEN, TOKEN_ENV};
use serde::{Deserialize, Serialize};

/// `GET`: answers `ok` while the broker serves.
pub const HEALTH_PATH: &str = "/_mock/health";
/// `POST` a [`SamlArmRequest`].
pub const ARM_PATH: &str = "/_mock/arm";
/// `GET {FLOWS_PATH}/{request_id}`: a [`FlowRecord`].
pub const FLOWS_PATH: &str = "/_mock/flows";
/// `GET`: every [`FetchRecord`] so far.
pub const FETCHES_PATH: &str = "/_mock/fetches";
/// `POST` an [`IdpLogoutRequest`]: start an IdP-initiated logout.
pub const IDP_LOGOUT_PATH: &str = "/_mock/saml/logout";
/// `GET {IDP_LOGOUTS_PATH}/{logout_request_id}`: an [`IdpLogoutRecord`].
pub const IDP_LOGOUTS_PATH: &str = "/_mock/saml/logouts";
/// Prefix of the OIDC control calls (`arm`, `preselect`, `rotate`).
pub use crate::oidc::control::CONTROL_PREFIX as OIDC_PREFIX;

/// The response header that states why the broker refused a request, on every refusal it
/// sends (HTML pages and JSON alike): `error=<code>&error_description=<text>`,
/// form-urlencoded so that any description fits in a header.
pub const REFUSAL_HEADER: &str = "x-mock-broker-error";

/// Body of `POST /_mock/arm`: arm the SAML login of one AuthnRequest ID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamlArmRequest {
    /// The AuthnRequest's `ID`.
    pub request_id: String,
    /// Identity, LoA and faults.
    #[serde(flatten)]
    pub login: ArmedLogin,
}

/// Answer to `POST /_mock/arm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SamlArmed {
    /// The AuthnRequest ID now armed.
    pub armed: String,
}

/// Why the broker refused a request, as it states it: an error code (OAuth's vocabulary:
/// `invalid_request`, `invalid_client`, `access_denied`, `not_found`, ...) and one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerRefusal {
    /// The code.
    #[serde(rename = "error")]
    pub code: String,
    /// The sentence.
    #[serde(rename = "error_description", default)]
    pub description: String,
}

impl BrokerRefusal {
    /// A refusal.
    pub fn new(code: impl Into<String>, description: impl Into<String>) -> Self {
        BrokerRefusal {
            code: code.into(),
            description: description.into(),
        }
    }

    /// The [`REFUSAL_HEADER`] value.
    pub fn header_value(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("error", &self.code)
            .append_pair("error_description", &self.description)
            .finish()
    }

    /// Read a [`REFUSAL_HEADER`] value; `None` when it names no code.
    pub fn from_header_value(value: &str) -> Option<Self> {
        let mut code = None;
        let mut description = String::new();
        for (k, v) in url::form_urlencoded::parse(value.as_bytes()) {
            match &*k {
                "error" => code = Some(v.into_owned()),
                "error_description" => description = v.into_owned(),
                _ => {}
            }
        }
        Some(BrokerRefusal {
            code: code.filter(|c| !c.is_empty())?,
            description,
        })
    }

    /// The refusal stated in a response's headers, if any.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<Self> {
        headers
            .get(REFUSAL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(Self::from_header_value)
    }

    /// Put the [`REFUSAL_HEADER`] on a response.
    pub(crate) fn stamp(&self, headers: &mut axum::http::HeaderMap) {
        if let Ok(v) = axum::http::HeaderValue::from_str(&self.header_value()) {
            headers.insert(REFUSAL_HEADER, v);
        }
    }
}

impl std::fmt::Display for BrokerRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.description.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.description)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_header_round_trips_any_sentence() {
        let r = BrokerRefusal::new(
            "invalid_client",
            "unknown client \"é&x=1\"\nsecond line; <b>",
        );
        let v = r.header_value();
        assert!(v.is_ascii() && !v.contains('\n'), "{v}");
        assert!(axum::http::HeaderValue::from_str(&v).is_ok());
        assert_eq!(BrokerRefusal::from_header_value(&v), Some(r));
    }

    #[test]
    fn a_header_without_code_is_no_refusal() {
        assert_eq!(BrokerRefusal::from_header_value(""), None);
        assert_eq!(
            BrokerRefusal::from_header_value("error_description=x"),
            None
        );
        assert_eq!(
            BrokerRefusal::from_header_value("error=x"),
            Some(BrokerRefusal::new("x", ""))
        );
    }

    #[test]
    fn saml_arm_request_keeps_its_flat_wire_shape() {
        let req = SamlArmRequest {
            request_id: "_abc".into(),
            login: ArmedLogin {
                identity: "anna".into(),
                loa: None,
                plan: crate::FaultPlan::none(),
                profile: None,
            },
        };
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["request_id"], "_abc");
        assert_eq!(v["identity"], "anna");
        let back: SamlArmRequest = serde_json::from_value(v).unwrap();
        assert_eq!(back, req);
        // What older harnesses sent still parses.
        let old: SamlArmRequest =
            serde_json::from_str(r#"{"request_id":"_x","identity":"bo"}"#).unwrap();
        assert_eq!(old.login.identity, "bo");
    }
}
