//! Loopback-only OIDC control endpoints for the harness, mirroring the admin API (the whole
//! control protocol, with its client, is [`crate::control`]):
//!
//! - `POST /_mock/oidc/arm` `{"key": {"state": "..."}, "plan": {"faults": [...]}}`
//! - `POST /_mock/oidc/preselect` `{"key": {"client_id": "..."}, "identity": "anna", "loa": "High"}`
//! - `POST /_mock/oidc/rotate` `{"issuer": "signaturgruppen"}` → `{"active_kids": [...]}`
//! - `POST /_mock/oidc/restore-keys` `{"issuer": "signaturgruppen"}` → `{"active_kids": [...]}`
//!   (the key set as at start, after a rotation)
//! - `POST /_mock/oidc/flow` `{"key": {"state": "..."}}` → the flow's record: which endpoints
//!   the RP used (`authorize`, `par`, `token`, `userinfo`, `jwks`, `end-session`)
//!
//! plus the attacker's key material that `jku-header` and `x5u-header` point at (public, since
//! the RP under test fetches it): `GET /_mock/oidc/attacker/jwks.json` and `.../cert.pem`.
//!
//! The control calls refuse peers that are not loopback. That needs the peer address, so the
//! server must be run with `into_make_service_with_connect_info::<SocketAddr>()`; without it
//! they fail closed with 403.

use super::dangerous::{OidcFaultPlan, attacker_cert_pem, attacker_jwks};
use super::error::OAuthError;
use super::params::{self, ParamError};
use super::provider::{AdminError, FlowKey, OidcProvider};
use crate::nsis::Loa;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;

/// Path prefix of the control endpoints.
pub const CONTROL_PREFIX: &str = "/_mock/oidc";

/// Body of `POST /_mock/oidc/arm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmRequest {
    /// Which flow.
    pub key: FlowKey,
    /// What to break.
    pub plan: OidcFaultPlan,
}

/// Body of `POST /_mock/oidc/preselect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreselectRequest {
    /// Which flow (or client).
    pub key: FlowKey,
    /// Test identity handle.
    pub identity: String,
    /// Level; defaults to what the RP requested.
    #[serde(default)]
    pub loa: Option<Loa>,
}

/// Body of `POST /_mock/oidc/rotate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Issuer id.
    pub issuer: String,
}

/// Body of `POST /_mock/oidc/restore-keys`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestoreKeysRequest {
    /// Issuer id.
    pub issuer: String,
}

/// Body of `POST /_mock/oidc/flow`: which flow's record to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowRecordRequest {
    /// The flow's key, as armed (`state`, `nonce` or `code_challenge`).
    pub key: FlowKey,
}

/// Answer to `POST /_mock/oidc/arm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcArmed {
    /// Always `true`: the plan waits for its flow.
    pub armed: bool,
}

/// Answer to `POST /_mock/oidc/preselect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preselected {
    /// Always `true`: the identity waits for its flow.
    pub preselected: bool,
}

/// Answer to `POST /_mock/oidc/rotate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotated {
    /// The key ids the issuer's JWKS now publishes, active key first.
    pub active_kids: Vec<String>,
}

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ControlError {
    #[error("control endpoints answer loopback peers only")]
    NotLoopback,
    #[error(transparent)]
    Params(#[from] ParamError),
    #[error("body is not valid JSON for this call: {0}")]
    Json(String),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("no attacker key is loaded")]
    NoAttackerKey,
    #[error("no flow is recorded under {0:?}")]
    NoFlow(FlowKey),
}

impl From<ControlError> for OAuthError {
    fn from(e: ControlError) -> Self {
        match e {
            ControlError::NotLoopback => {
                OAuthError::new(StatusCode::FORBIDDEN, "access_denied", e.to_string())
            }
            ControlError::Params(p) => p.into(),
            ControlError::Admin(AdminError::AlreadyArmed(_)) => {
                OAuthError::new(StatusCode::CONFLICT, "invalid_request", e.to_string())
            }
            ControlError::NoAttackerKey | ControlError::NoFlow(_) => {
                OAuthError::new(StatusCode::NOT_FOUND, "invalid_request", e.to_string())
            }
            _ => OAuthError::invalid_request(e.to_string()),
        }
    }
}

async fn json_body<T: serde::de::DeserializeOwned>(req: Request) -> Result<T, ControlError> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !peer.is_some_and(|ip| ip.is_loopback()) {
        return Err(ControlError::NotLoopback);
    }
    let (parts, body) = req.into_parts();
    if !params::content_type_is(&parts.headers, "application/json") {
        return Err(ParamError::ContentType {
            expected: "application/json",
            got: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)")
                .to_string(),
        }
        .into());
    }
    let bytes = params::read_body(body).await?;
    serde_json::from_slice(&bytes).map_err(|e| ControlError::Json(e.to_string()))
}

/// Arm a plan: the one implementation behind the HTTP call and the in-process
/// [`ControlClient`](crate::control::ControlClient).
pub(crate) fn do_arm(p: &OidcProvider, a: ArmRequest) -> Result<OidcArmed, OAuthError> {
    p.arm(a.key, a.plan).map_err(ControlError::from)?;
    Ok(OidcArmed { armed: true })
}

/// Preselect an identity (see [`do_arm`]).
pub(crate) fn do_preselect(
    p: &OidcProvider,
    a: PreselectRequest,
) -> Result<Preselected, OAuthError> {
    p.preselect(a.key, &a.identity, a.loa)
        .map_err(ControlError::from)?;
    Ok(Preselected { preselected: true })
}

/// Rotate an issuer's signing key (see [`do_arm`]).
pub(crate) fn do_rotate(p: &OidcProvider, a: RotateRequest) -> Result<Rotated, OAuthError> {
    let active_kids = p
        .rotate_signing_key(&a.issuer)
        .map_err(ControlError::from)?;
    Ok(Rotated { active_kids })
}

async fn call<Req: serde::de::DeserializeOwned, Resp: Serialize>(
    p: &OidcProvider,
    req: Request,
    op: fn(&OidcProvider, Req) -> Result<Resp, OAuthError>,
) -> Response {
    match json_body::<Req>(req).await {
        Ok(a) => match op(p, a) {
            Ok(v) => axum::Json(v).into_response(),
            Err(e) => e.into_response(),
        },
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// `POST /_mock/oidc/arm`.
pub(crate) async fn arm(State(p): State<Arc<OidcProvider>>, req: Request) -> Response {
    call(&p, req, do_arm).await
}

/// `POST /_mock/oidc/preselect`.
pub(crate) async fn preselect(State(p): State<Arc<OidcProvider>>, req: Request) -> Response {
    call(&p, req, do_preselect).await
}

/// `POST /_mock/oidc/rotate`.
pub(crate) async fn rotate(State(p): State<Arc<OidcProvider>>, req: Request) -> Response {
    call(&p, req, do_rotate).await
}

/// Put an issuer's keys back as at start (see [`do_arm`]).
pub(crate) fn do_restore_keys(
    p: &OidcProvider,
    a: RestoreKeysRequest,
) -> Result<Rotated, OAuthError> {
    let active_kids = p
        .restore_signing_keys(&a.issuer)
        .map_err(ControlError::from)?;
    Ok(Rotated { active_kids })
}

/// The record of one flow (see [`do_arm`]).
pub(crate) fn do_flow(
    p: &OidcProvider,
    a: FlowRecordRequest,
) -> Result<super::observed::OidcFlowRecord, OAuthError> {
    Ok(p.flow_record(&a.key).ok_or(ControlError::NoFlow(a.key))?)
}

/// `POST /_mock/oidc/restore-keys`: the issuer's keys as at start (see
/// [`OidcProvider::restore_signing_keys`]).
pub(crate) async fn restore_keys(State(p): State<Arc<OidcProvider>>, req: Request) -> Response {
    call(&p, req, do_restore_keys).await
}

/// `POST /_mock/oidc/flow`: the [`OidcFlowRecord`](super::observed::OidcFlowRecord) of a flow
/// (which endpoints the RP used), 404 when none is recorded under the key.
pub(crate) async fn flow(State(p): State<Arc<OidcProvider>>, req: Request) -> Response {
    call(&p, req, do_flow).await
}

/// `GET /_mock/oidc/attacker/jwks.json`.
pub(crate) async fn attacker_jwks_doc(State(p): State<Arc<OidcProvider>>) -> Response {
    match attacker_jwks(&p.keys) {
        Some(j) => typed(j, "application/json"),
        None => OAuthError::from(ControlError::NoAttackerKey).into_response(),
    }
}

/// `GET /_mock/oidc/attacker/cert.pem`.
pub(crate) async fn attacker_cert(State(p): State<Arc<OidcProvider>>) -> Response {
    match attacker_cert_pem(&p.keys) {
        Some(pem) => typed(pem, "application/pem-certificate-chain"),
        None => OAuthError::from(ControlError::NoAttackerKey).into_response(),
    }
}

/// A 200 response with a content type.
pub(crate) fn typed(body: String, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}
