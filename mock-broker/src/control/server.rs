//! The broker's side of the SAML control calls (`/_mock/arm`, `/_mock/flows/{id}`,
//! `/_mock/fetches`): one function per call, used by the HTTP handler and by the in-process
//! [`ControlClient`](super::ControlClient) alike, so both accept and refuse the same requests.
//! The OIDC calls have the same shape in [`crate::oidc::control`].
//!
//! Refusals are [`OAuthError`]s: JSON `{"error", "error_description"}` plus the
//! [`REFUSAL_HEADER`](super::REFUSAL_HEADER). Who may call is decided before a handler runs,
//! by the control API's guard ([`super::guard`]); each handler takes its [`Guarded`] mark, so
//! one served without the guard refuses.

use super::guard::Guarded;
use super::{SamlArmRequest, SamlArmed};
use crate::broker::{BrokerState, FetchRecord, FlowRecord};
use crate::oidc::error::OAuthError;
use crate::server::{BodyTooLarge, read_capped};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Why a SAML control call was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SamlControlError {
    /// The body is too large.
    #[error(transparent)]
    Body(#[from] BodyTooLarge),
    /// The body is not the call's JSON.
    #[error("arm: invalid JSON: {0}")]
    Json(String),
    /// The armed identity does not exist.
    #[error("arm: unknown identity {0:?}")]
    UnknownIdentity(String),
    /// No flow has this AuthnRequest ID.
    #[error("no flow {0:?}")]
    UnknownFlow(String),
    /// The request ID is too long, or too many logins are armed.
    #[error("arm: {0}")]
    Arm(#[from] crate::broker::ArmError),
}

impl From<SamlControlError> for OAuthError {
    fn from(e: SamlControlError) -> Self {
        let (status, code) = match &e {
            SamlControlError::Body(_) => (StatusCode::PAYLOAD_TOO_LARGE, "invalid_request"),
            SamlControlError::Json(_) | SamlControlError::UnknownIdentity(_) => {
                (StatusCode::BAD_REQUEST, "invalid_request")
            }
            SamlControlError::UnknownFlow(_) => (StatusCode::NOT_FOUND, "unknown_flow"),
            SamlControlError::Arm(crate::broker::ArmError::IdTooLong { .. }) => {
                (StatusCode::BAD_REQUEST, "invalid_request")
            }
            SamlControlError::Arm(crate::broker::ArmError::Full(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable")
            }
        };
        OAuthError::new(status, code, e.to_string())
    }
}

/// Arm the login of one AuthnRequest ID.
pub(crate) fn arm(st: &BrokerState, req: SamlArmRequest) -> Result<SamlArmed, SamlControlError> {
    if st.identities.get(&req.login.identity).is_none() {
        return Err(SamlControlError::UnknownIdentity(req.login.identity));
    }
    st.arm(&req.request_id, req.login)?;
    Ok(SamlArmed {
        armed: req.request_id,
    })
}

/// The record of one flow.
pub(crate) fn flow(st: &BrokerState, request_id: &str) -> Result<FlowRecord, SamlControlError> {
    st.flow(request_id)
        .ok_or_else(|| SamlControlError::UnknownFlow(request_id.to_string()))
}

/// Every fetch of the external-entity trap so far.
pub(crate) fn fetches(st: &BrokerState) -> Vec<FetchRecord> {
    st.fetches()
}

fn answer<T: serde::Serialize>(r: Result<T, SamlControlError>) -> Response {
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => OAuthError::from(e).into_response(),
    }
}

type St = State<Arc<BrokerState>>;

/// `POST /_mock/arm`.
pub(crate) async fn control_arm(State(st): St, _: Guarded, body: Body) -> Response {
    answer(
        async {
            let bytes = read_capped(body).await?;
            let req: SamlArmRequest = serde_json::from_slice(&bytes)
                .map_err(|e| SamlControlError::Json(e.to_string()))?;
            arm(&st, req)
        }
        .await,
    )
}

/// `GET /_mock/flows/{id}`.
pub(crate) async fn control_flow(State(st): St, _: Guarded, Path(id): Path<String>) -> Response {
    answer(flow(&st, &id))
}

/// `POST /_mock/saml/logout`.
pub(crate) async fn control_idp_logout(State(st): St, _: Guarded, body: Body) -> Response {
    use crate::saml::idp_logout::{IdpLogoutError, start_from_json};
    let r = match read_capped(body).await {
        Ok(bytes) => start_from_json(&st, &bytes),
        Err(e) => Err(IdpLogoutError::Json(e.to_string())),
    };
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// `GET /_mock/saml/logouts/{id}`.
pub(crate) async fn control_idp_logout_record(
    State(st): St,
    _: Guarded,
    Path(id): Path<String>,
) -> Response {
    match crate::saml::idp_logout::record(&st, &id) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => OAuthError::from(e).into_response(),
    }
}

/// `GET /_mock/fetches`.
pub(crate) async fn control_fetches(State(st): St, _: Guarded) -> Response {
    answer(Ok(fetches(&st)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_status_and_oauth_code() {
        let e = OAuthError::from(SamlControlError::UnknownFlow("_x".into()));
        assert_eq!((e.status, e.code), (StatusCode::NOT_FOUND, "unknown_flow"));
        assert_eq!(e.description, "no flow \"_x\"");
        let e = OAuthError::from(SamlControlError::Body(BodyTooLarge));
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn arming_an_unknown_identity_is_refused_and_arms_nothing() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let broker = rt.block_on(crate::Broker::builder().start()).unwrap();
        let st = broker.state();
        let req = |identity: &str| SamlArmRequest {
            request_id: "_r".into(),
            login: crate::ArmedLogin {
                identity: identity.into(),
                loa: None,
                plan: crate::FaultPlan::none(),
                profile: None,
            },
        };
        assert!(matches!(
            arm(st, req("nobody")),
            Err(SamlControlError::UnknownIdentity(i)) if i == "nobody"
        ));
        assert!(st.take_armed("_r").is_none());
        assert_eq!(arm(st, req("anna")).unwrap().armed, "_r");
        assert!(st.take_armed("_r").is_some());
    }
}
