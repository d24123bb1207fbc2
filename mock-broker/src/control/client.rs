//! [`ControlClient`]: the control protocol from the caller's side, for a broker in this
//! process or one running elsewhere on loopback (`mitid-harness broker`), with the same types
//! and the same refusals either way.

use super::server::{self as saml, SamlControlError};
use super::{
    ARM_PATH, BrokerRefusal, FETCHES_PATH, FLOWS_PATH, FetchRecord, FlowRecord, FlowRecordRequest,
    HEALTH_PATH, OIDC_PREFIX, OidcArmRequest, OidcArmed, OidcFlowRecord, PreselectRequest,
    Preselected, RestoreKeysRequest, RotateRequest, Rotated, SamlArmRequest, SamlArmed,
};
use crate::broker::{BrokerState, RunningBroker};
use crate::oidc::OidcProvider;
use crate::oidc::error::OAuthError;
use axum::http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// Largest control answer read (the fetch list of a long-running broker included).
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// Why a control call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlClientError {
    /// The base URL is not an absolute http(s) URL.
    #[error("the broker's base URL {0:?} is not an absolute http(s) URL")]
    BaseUrl(String),
    /// The broker could not be reached (connection refused, timeout, TLS).
    #[error("cannot reach the broker's control API at {url}: {message}")]
    Transport {
        /// The URL called.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The broker refused the call and said why.
    #[error("the broker refused: {description} ({code}, HTTP {status})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The refusal's code (`invalid_request`, `access_denied`, `unknown_flow`, ...).
        code: String,
        /// The refusal's sentence.
        description: String,
    },
    /// The answer is not what the protocol says (not a broker, or another version).
    #[error("the answer from {url} (HTTP {status}) is not the control protocol's: {why}")]
    BadResponse {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// What is wrong with it.
        why: String,
    },
}

impl From<OAuthError> for ControlClientError {
    fn from(e: OAuthError) -> Self {
        ControlClientError::Refused {
            status: e.status.as_u16(),
            code: e.code.to_string(),
            description: e.description,
        }
    }
}

impl From<SamlControlError> for ControlClientError {
    fn from(e: SamlControlError) -> Self {
        OAuthError::from(e).into()
    }
}

/// Talks the control protocol to one broker. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ControlClient {
    target: Target,
}

#[derive(Debug, Clone)]
enum Target {
    /// Over HTTP.
    Http {
        base_url: String,
        http: reqwest::Client,
        /// Sent as `Authorization: Bearer` on every call.
        token: Option<Secret>,
    },
    /// Direct calls into a broker in this process, through the same functions the HTTP
    /// handlers call.
    InProcess {
        state: Arc<BrokerState>,
        oidc: Option<Arc<OidcProvider>>,
    },
}

/// A control token, never printed by `Debug`.
#[derive(Clone)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl ControlClient {
    /// A client for the broker at `base_url` (`http://127.0.0.1:8390`), with a 5-second
    /// timeout. It trusts the mock local TLS CA, so a broker started with HTTPS
    /// ([`TlsMode::MockCa`](crate::TlsMode::MockCa)) is reachable too.
    pub fn new(base_url: &str) -> Result<Self, ControlClientError> {
        let ca = crate::pki::MockPki::builtin().tls_ca.cert_der().to_vec();
        let mut b = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Ok(c) = reqwest::Certificate::from_der(&ca) {
            b = b.add_root_certificate(c);
        }
        let http = b.build().map_err(|e| ControlClientError::Transport {
            url: base_url.to_string(),
            message: e.to_string(),
        })?;
        Self::with_http_client(base_url, http)
    }

    /// A client over the given reqwest client (timeouts, roots and proxies are its own).
    pub fn with_http_client(
        base_url: &str,
        http: reqwest::Client,
    ) -> Result<Self, ControlClientError> {
        match url::Url::parse(base_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
            _ => return Err(ControlClientError::BaseUrl(base_url.to_string())),
        }
        Ok(ControlClient {
            target: Target::Http {
                base_url: base_url.trim_end_matches('/').to_string(),
                http,
                token: None,
            },
        })
    }

    /// Send this control token (`Authorization: Bearer <token>`) on every call: the one
    /// `mitid-harness broker` printed at start, or the one it was given (`--control-token`,
    /// [`TOKEN_ENV`](super::TOKEN_ENV), `control_token`). An in-process client needs none.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        if let Target::Http { token: t, .. } = &mut self.target {
            *t = Some(Secret(token.into()));
        }
        self
    }

    /// A client for a broker in this process that goes over HTTP anyway, with its control
    /// token: what an external client of that broker sees.
    pub fn over_http(broker: &RunningBroker) -> Result<Self, ControlClientError> {
        let c = Self::new(broker.base_url())?;
        Ok(match broker.control_token() {
            Some(t) => c.with_token(t),
            None => c,
        })
    }

    /// A client for a broker in this process: no HTTP, the same answers.
    pub fn in_process(broker: &RunningBroker) -> Self {
        ControlClient {
            target: Target::InProcess {
                state: broker.state().clone(),
                oidc: broker.oidc().cloned(),
            },
        }
    }

    /// The broker's base URL.
    pub fn base_url(&self) -> &str {
        match &self.target {
            Target::Http { base_url, .. } => base_url,
            Target::InProcess { state, .. } => &state.base_url,
        }
    }

    /// The broker's SAML SSO (and SLO) URL, where SPs send AuthnRequests.
    pub fn sso_url(&self) -> String {
        match &self.target {
            Target::Http { base_url, .. } => format!("{base_url}{}", crate::broker::SSO_PATH),
            Target::InProcess { state, .. } => state.sso_url.clone(),
        }
    }

    /// The broker's OIOSAML 4.0 SSO (and SLO) URL.
    pub fn sso4_url(&self) -> String {
        match &self.target {
            Target::Http { base_url, .. } => format!("{base_url}{}", crate::broker::SSO4_PATH),
            Target::InProcess { state, .. } => state.sso4_url.clone(),
        }
    }

    /// `GET /_mock/health`: is the broker serving?
    pub async fn health(&self) -> Result<(), ControlClientError> {
        match &self.target {
            Target::Http { .. } => {
                let (url, status, body) = self.http_call::<()>(HEALTH_PATH, None).await?;
                if body.trim_ascii() == b"ok" {
                    Ok(())
                } else {
                    Err(ControlClientError::BadResponse {
                        url,
                        status,
                        why: "the health check did not answer `ok`".into(),
                    })
                }
            }
            Target::InProcess { .. } => Ok(()),
        }
    }

    /// `POST /_mock/arm`: arm the SAML login of one AuthnRequest ID.
    pub async fn arm(&self, req: &SamlArmRequest) -> Result<SamlArmed, ControlClientError> {
        match &self.target {
            Target::Http { .. } => self.json(ARM_PATH, Some(req)).await,
            Target::InProcess { state, .. } => Ok(saml::arm(state, req.clone())?),
        }
    }

    /// `GET /_mock/flows/{request_id}`: what happened in one SAML flow
    /// (refused with `unknown_flow` when the broker has not seen it).
    pub async fn flow(&self, request_id: &str) -> Result<FlowRecord, ControlClientError> {
        match &self.target {
            Target::Http { .. } => {
                let id: String =
                    url::form_urlencoded::byte_serialize(request_id.as_bytes()).collect();
                // byte_serialize writes spaces as '+', which a path keeps literally.
                let id = id.replace('+', "%20");
                self.json::<(), _>(&format!("{FLOWS_PATH}/{id}"), None)
                    .await
            }
            Target::InProcess { state, .. } => Ok(saml::flow(state, request_id)?),
        }
    }

    /// `GET /_mock/fetches`: every fetch of the external-entity trap so far.
    pub async fn fetches(&self) -> Result<Vec<FetchRecord>, ControlClientError> {
        match &self.target {
            Target::Http { .. } => self.json::<(), _>(FETCHES_PATH, None).await,
            Target::InProcess { state, .. } => Ok(saml::fetches(state)),
        }
    }

    /// `POST /_mock/oidc/arm`: arm an OIDC fault plan for one flow.
    pub async fn oidc_arm(&self, req: &OidcArmRequest) -> Result<OidcArmed, ControlClientError> {
        match &self.target {
            Target::Http { .. } => self.json(&format!("{OIDC_PREFIX}/arm"), Some(req)).await,
            Target::InProcess { oidc, .. } => {
                Ok(crate::oidc::control::do_arm(provider(oidc)?, req.clone())?)
            }
        }
    }

    /// `POST /_mock/oidc/preselect`: log one flow (or client) in as an identity.
    pub async fn oidc_preselect(
        &self,
        req: &PreselectRequest,
    ) -> Result<Preselected, ControlClientError> {
        match &self.target {
            Target::Http { .. } => {
                self.json(&format!("{OIDC_PREFIX}/preselect"), Some(req))
                    .await
            }
            Target::InProcess { oidc, .. } => Ok(crate::oidc::control::do_preselect(
                provider(oidc)?,
                req.clone(),
            )?),
        }
    }

    /// `POST /_mock/oidc/rotate`: rotate an issuer's signing key.
    pub async fn oidc_rotate(&self, req: &RotateRequest) -> Result<Rotated, ControlClientError> {
        match &self.target {
            Target::Http { .. } => self.json(&format!("{OIDC_PREFIX}/rotate"), Some(req)).await,
            Target::InProcess { oidc, .. } => Ok(crate::oidc::control::do_rotate(
                provider(oidc)?,
                req.clone(),
            )?),
        }
    }

    /// `POST /_mock/oidc/restore-keys`: put an issuer's signing keys back as at start.
    pub async fn oidc_restore_keys(
        &self,
        req: &RestoreKeysRequest,
    ) -> Result<Rotated, ControlClientError> {
        match &self.target {
            Target::Http { .. } => {
                self.json(&format!("{OIDC_PREFIX}/restore-keys"), Some(req))
                    .await
            }
            Target::InProcess { oidc, .. } => Ok(crate::oidc::control::do_restore_keys(
                provider(oidc)?,
                req.clone(),
            )?),
        }
    }

    /// `POST /_mock/saml/logout`: start an IdP-initiated logout of one login's session; the
    /// answer says what the browser must send to the SP. Refused with
    /// [`NO_SLO_ENDPOINT`](super::NO_SLO_ENDPOINT) when the SP's metadata has no
    /// SingleLogoutService on that binding.
    pub async fn idp_logout(
        &self,
        req: &super::IdpLogoutRequest,
    ) -> Result<super::IdpLogoutStarted, ControlClientError> {
        match &self.target {
            Target::Http { .. } => self.json(super::IDP_LOGOUT_PATH, Some(req)).await,
            Target::InProcess { state, .. } => crate::saml::idp_logout::start(state, req.clone())
                .map_err(|e| OAuthError::from(e).into()),
        }
    }

    /// `GET /_mock/saml/logouts/{id}`: an IdP-initiated logout and the SP's answer to it.
    pub async fn idp_logout_record(
        &self,
        logout_request_id: &str,
    ) -> Result<super::IdpLogoutRecord, ControlClientError> {
        match &self.target {
            Target::Http { .. } => {
                let id: String =
                    url::form_urlencoded::byte_serialize(logout_request_id.as_bytes()).collect();
                let id = id.replace('+', "%20");
                self.json::<(), _>(&format!("{}/{id}", super::IDP_LOGOUTS_PATH), None)
                    .await
            }
            Target::InProcess { state, .. } => {
                crate::saml::idp_logout::record(state, logout_request_id)
                    .map_err(|e| OAuthError::from(e).into())
            }
        }
    }

    /// `POST /_mock/oidc/flow`: which endpoints the RP used in one flow.
    pub async fn oidc_flow(
        &self,
        req: &FlowRecordRequest,
    ) -> Result<OidcFlowRecord, ControlClientError> {
        match &self.target {
            Target::Http { .. } => self.json(&format!("{OIDC_PREFIX}/flow"), Some(req)).await,
            Target::InProcess { oidc, .. } => {
                Ok(crate::oidc::control::do_flow(provider(oidc)?, req.clone())?)
            }
        }
    }

    /// One JSON call: a 2xx answer is `T`; anything else is the refusal the broker stated.
    async fn json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ControlClientError> {
        let (url, status, bytes) = self.http_call(path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| ControlClientError::BadResponse {
            url,
            status,
            why: format!("not the expected JSON: {e}"),
        })
    }

    /// GET (no body) or POST (JSON body); the 2xx answer's bytes, or the stated refusal.
    async fn http_call<B: Serialize>(
        &self,
        path: &str,
        body: Option<&B>,
    ) -> Result<(String, u16, Vec<u8>), ControlClientError> {
        let Target::Http {
            base_url,
            http,
            token,
        } = &self.target
        else {
            return Err(ControlClientError::BadResponse {
                url: path.to_string(),
                status: 0,
                why: "an in-process broker has no HTTP answer".into(),
            });
        };
        let url = format!("{base_url}{path}");
        let transport = |e: reqwest::Error| ControlClientError::Transport {
            url: url.clone(),
            message: chain(&e),
        };
        let rb = match body {
            Some(b) => http.post(&url).json(b),
            None => http.get(&url),
        };
        let rb = match token {
            Some(Secret(t)) => rb.bearer_auth(t),
            None => rb,
        };
        let mut resp = rb.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let stated = BrokerRefusal::from_headers(resp.headers());
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Err(ControlClientError::BadResponse {
                    url,
                    status,
                    why: format!("the answer is larger than {MAX_ANSWER} bytes"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if (200..300).contains(&status) {
            return Ok((url, status, bytes));
        }
        let refusal = serde_json::from_slice::<BrokerRefusal>(&bytes)
            .ok()
            .or(stated);
        match refusal {
            Some(r) => Err(ControlClientError::Refused {
                status,
                code: r.code,
                description: r.description,
            }),
            None => Err(ControlClientError::BadResponse {
                url,
                status,
                why: format!(
                    "a refusal without a stated reason: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ),
            }),
        }
    }
}

/// The in-process broker's OIDC provider, or the refusal an HTTP client would get (no such
/// endpoint) when it runs without one.
fn provider(oidc: &Option<Arc<OidcProvider>>) -> Result<&OidcProvider, ControlClientError> {
    oidc.as_deref().ok_or_else(|| {
        OAuthError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "the broker runs without its OIDC provider",
        )
        .into()
    })
}

/// An error with its causes (reqwest hides the interesting part in `source`).
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::FlowKey;
    use crate::{ArmedLogin, Broker, FaultPlan};

    fn login(identity: &str) -> SamlArmRequest {
        SamlArmRequest {
            request_id: "_flow 1".into(),
            login: ArmedLogin {
                identity: identity.into(),
                loa: None,
                plan: FaultPlan::none(),
                profile: None,
            },
        }
    }

    /// Both clients of one broker: over HTTP and in process.
    async fn clients() -> (crate::RunningBroker, [ControlClient; 2]) {
        let broker = Broker::builder().start().await.unwrap();
        let http = ControlClient::over_http(&broker).unwrap();
        let local = ControlClient::in_process(&broker);
        (broker, [http, local])
    }

    #[tokio::test]
    async fn both_clients_arm_and_refuse_alike() {
        let (broker, clients) = clients().await;
        for c in &clients {
            c.health().await.unwrap();
            assert_eq!(c.base_url(), broker.base_url());
            assert_eq!(c.sso_url(), broker.sso_url());
            let armed = c.arm(&login("anna")).await.unwrap();
            assert_eq!(armed.armed, "_flow 1");
            let err = c.arm(&login("nobody")).await.unwrap_err();
            assert_eq!(
                err,
                ControlClientError::Refused {
                    status: 400,
                    code: "invalid_request".into(),
                    description: "arm: unknown identity \"nobody\"".into(),
                }
            );
            let err = c.flow("_flow 1").await.unwrap_err();
            assert!(
                matches!(&err, ControlClientError::Refused { status: 404, code, .. } if code == "unknown_flow"),
                "{err:?}"
            );
            assert_eq!(c.fetches().await.unwrap().len(), 0);
        }
        assert_eq!(
            broker.state().take_armed("_flow 1").map(|a| a.identity),
            Some("anna".into())
        );
    }

    #[tokio::test]
    async fn oidc_calls_answer_typed_and_refuse_with_the_oauth_code() {
        let (_broker, clients) = clients().await;
        for c in &clients {
            let rotated = c
                .oidc_rotate(&RotateRequest {
                    issuer: "signaturgruppen".into(),
                })
                .await
                .unwrap();
            assert!(!rotated.active_kids.is_empty());
            let err = c
                .oidc_rotate(&RotateRequest {
                    issuer: "nope".into(),
                })
                .await
                .unwrap_err();
            assert!(
                matches!(&err, ControlClientError::Refused { status: 400, code, description }
                    if code == "invalid_request" && description.contains("unknown issuer")),
                "{err:?}"
            );
            let p = c
                .oidc_preselect(&PreselectRequest {
                    key: FlowKey::State("s1".into()),
                    identity: "anna".into(),
                    loa: None,
                })
                .await
                .unwrap();
            assert!(p.preselected);
        }
    }

    #[tokio::test]
    async fn an_unreachable_broker_is_a_transport_error_and_a_non_broker_a_bad_response() {
        // Bind and drop: nothing listens on the port afterwards.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = ControlClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
        assert!(matches!(
            c.fetches().await,
            Err(ControlClientError::Transport { .. })
        ));
        assert!(matches!(
            ControlClient::new("not a url"),
            Err(ControlClientError::BaseUrl(_))
        ));
        // The broker's index page is HTML, not a control answer.
        let broker = Broker::builder().start().await.unwrap();
        let c = ControlClient::over_http(&broker).unwrap();
        let err = c
            .json::<(), serde_json::Value>("/", None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, ControlClientError::BadResponse { status: 200, .. }),
            "{err:?}"
        );
        // An unknown control path is refused with the header's statement.
        let err = c
            .json::<(), serde_json::Value>("/_mock/nope", None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ControlClientError::Refused { status: 404, code, description }
                if code == "not_found" && description.contains("/_mock/nope")),
            "{err:?}"
        );
    }
}
