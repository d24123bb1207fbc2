//! An example of a small Rust web service that logs its users in with **MitID through the
//! Signaturgruppen broker** (OpenID Connect), and tests that login with `mitid-harness` in its
//! own `cargo test`.
//!
//! The service is what a Danish company would write: an [axum] app with
//! - `GET /login`: the authorization code flow with PKCE (S256), `state` and `nonce`, built with
//!   the [`openidconnect`] crate from the broker's discovery document;
//! - `GET /callback`: the redirect URI. It takes the browser's pending login out of its session
//!   (one try, this browser only), compares `state` and the RFC 9207 `iss` parameter, redeems
//!   the code with the client secret, verifies the ID token (signature with a key from the
//!   broker's JWKS, `iss`, `aud`, `exp`, `iat`, `nbf`, `nonce`), fetches userinfo (whose `sub`
//!   must be the ID token's), and then does the MitID checks a careful service must do
//!   ([`mitid`]): MitID or MitID Erhverv only (`idp`, `identity_type`), no NemID-era claims or
//!   methods, and at least the NSIS level of assurance it requires (`loa`). The user is keyed
//!   by the MitID UUID, never the broker's `sub`;
//! - `GET /whoami`: `200 {"uuid", "kind", "loa"}` when logged in, `401` otherwise;
//! - `GET /` and `POST /logout`.
//!
//! Configuration is a [`Config`] (from the environment in `main.rs`: `MITID_ISSUER_URL`,
//! `MITID_CLIENT_ID`, `MITID_CLIENT_SECRET`, `MITID_REDIRECT_URI`, `MITID_REQUIRED_LOA`), so the
//! same binary runs against the real broker or the mock one.
//!
//! # How to put mitid-harness in your own `cargo test`
//!
//! `tests/conformance.rs` is the whole pattern; in short:
//!
//! 1. Add `mitid-harness` and `mitid-mock-broker` as dev-dependencies.
//! 2. Bind your service's listener first, so its redirect URI (with the port) is known.
//! 3. Start the mock broker in-process, registering your service as an OIDC client with that
//!    redirect URI, and take the issuer URL of the broker your service is built for.
//! 4. Start your service with its normal configuration, pointed at that issuer.
//! 5. Describe the service to the harness (`mitid_harness::SpConfig`: login URL, a whoami
//!    oracle, the client registration, the broker profile), run the OIDC catalogue with the same
//!    broker, and `report.assert_conformant()`: it panics with what the service did, scenario
//!    by scenario, and the fix for each failure.
//!
//! ```no_run
//! # async fn t() -> Result<(), Box<dyn std::error::Error>> {
//! use mitid_harness::scenario::Protocol;
//! use mitid_harness::{Catalogue, Harness, OracleConfig, SpConfig};
//! use mitid_mock_broker::oidc::{ClientConfig, Profile};
//! use mitid_mock_broker::{Broker, IdentityKind};
//! use std::sync::Arc;
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let base = format!("http://{}", listener.local_addr()?);
//! let mut client = ClientConfig::with_secret("my-service", "mock-secret", &format!("{base}/callback"));
//! client.issuers = vec!["signaturgruppen".into()];
//! let broker = Arc::new(Broker::builder().oidc_client(client.clone()).start().await?);
//! let issuer = broker.oidc().and_then(|p| p.issuer_url("signaturgruppen")).unwrap();
//!
//! let config = mitid_example_oidc_service::Config::new(
//!     issuer, "my-service", "mock-secret", format!("{base}/callback"));
//! let app = mitid_example_oidc_service::app(config).await?;
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! let sp = SpConfig::builder(format!("{base}/login"))
//!     .protocol(Protocol::Oidc)
//!     .profiles([IdentityKind::Person, IdentityKind::Professional])
//!     .private_sp(true)
//!     .oracle(OracleConfig::whoami_json(format!("{base}/whoami"), "uuid"))
//!     .oidc_client(client)
//!     .oidc_profile(Profile::Signaturgruppen)
//!     .build()?;
//! let report = Harness::builder(sp)
//!     .broker(broker)
//!     .catalogue(Catalogue::builtin().protocol(Protocol::Oidc))
//!     .build()
//!     .await?
//!     .run()
//!     .await;
//! report.assert_conformant();
//! # Ok(()) }
//! ```

pub mod broker;
pub mod config;
pub mod mitid;
pub mod session;

pub use broker::{Broker, BrokerError};
pub use config::{Config, ConfigError, Loa};
pub use mitid::{MitidUser, Refusal};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use session::Sessions;
use std::sync::Arc;

/// The running service's state.
#[derive(Debug)]
struct Service {
    broker: Broker,
    sessions: Sessions,
    config: Config,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The broker's discovery document could not be used.
    #[error("MitID broker: {0}")]
    Broker(#[from] BrokerError),
}

/// Discover the broker and build the service's routes.
pub async fn app(config: Config) -> Result<Router, StartError> {
    config.validate()?;
    let broker = Broker::discover(&config).await?;
    tracing::info!(issuer = %broker.issuer(), "MitID broker discovered");
    Ok(router(Arc::new(Service {
        broker,
        sessions: Sessions::default(),
        config,
    })))
}

/// The routes over a service state.
fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/whoami", get(whoami))
        .route("/logout", post(logout))
        .with_state(service)
}

/// Why a callback logged nobody in.
#[derive(Debug, thiserror::Error)]
enum CallbackError {
    #[error("no login is in progress in this browser")]
    NoPendingLogin,
    #[error("the callback repeats the parameter {0:?}")]
    Repeated(String),
    #[error("state does not match this browser's login")]
    State,
    #[error("iss {found:?} is not the broker's issuer {expected:?} (RFC 9207)")]
    Iss {
        expected: String,
        found: Option<String>,
    },
    #[error("the broker answered {error:?}: {description}")]
    Authorization { error: String, description: String },
    #[error("the callback has no code")]
    NoCode,
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("not an acceptable MitID login: {0}")]
    Mitid(#[from] Refusal),
    #[error(transparent)]
    Full(#[from] session::Full),
}

impl CallbackError {
    fn status(&self) -> StatusCode {
        match self {
            CallbackError::Broker(BrokerError::Discovery(_) | BrokerError::Token(_)) => {
                StatusCode::BAD_GATEWAY
            }
            CallbackError::Full(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::FORBIDDEN,
        }
    }
}

fn html(status: StatusCode, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Example service</title></head><body>{body}</body></html>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn redirect(to: &str, cookie: Option<HeaderValue>) -> Response {
    let mut r = (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response();
    if let Some(c) = cookie {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

impl Service {
    fn user(&self, headers: &HeaderMap) -> Option<MitidUser> {
        session::from_headers(headers).and_then(|id| self.sessions.user(&id))
    }
}

async fn home(State(svc): State<Arc<Service>>, headers: HeaderMap) -> Response {
    match svc.user(&headers) {
        Some(u) => html(
            StatusCode::OK,
            &format!(
                "<p>Logged in as {} ({}, NSIS {})</p><form method=\"post\" action=\"/logout\"><button>Log out</button></form>",
                escape(u.name.as_deref().unwrap_or(&u.uuid)),
                u.kind,
                u.loa
            ),
        ),
        None => html(
            StatusCode::OK,
            "<p>Not logged in. <a href=\"/login\">Log in with MitID</a></p>",
        ),
    }
}

async fn whoami(State(svc): State<Arc<Service>>, headers: HeaderMap) -> Response {
    match svc.user(&headers) {
        Some(u) => axum::Json(u).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "not logged in"})),
        )
            .into_response(),
    }
}

/// Start a login: a new session (whatever this browser had before) holding the pending login,
/// and a redirect to the broker.
async fn login(State(svc): State<Arc<Service>>, headers: HeaderMap) -> Response {
    if let Some(old) = session::from_headers(&headers) {
        svc.sessions.remove(&old);
    }
    let (url, pending) = svc.broker.authorization_request();
    match svc.sessions.start_login(pending) {
        Ok(id) => redirect(
            url.as_str(),
            Some(session::set_cookie(Some(&id), svc.config.https())),
        ),
        Err(e) => html(StatusCode::SERVICE_UNAVAILABLE, &escape(&e.to_string())),
    }
}

async fn callback(
    State(svc): State<Arc<Service>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match complete_login(&svc, &headers, query.as_deref().unwrap_or("")).await {
        Ok(id) => redirect(
            "/",
            Some(session::set_cookie(Some(&id), svc.config.https())),
        ),
        Err(e) => {
            tracing::warn!("login refused: {e}");
            let mut r = html(
                e.status(),
                &format!(
                    "<p>Login refused: {}</p><p><a href=\"/login\">Try again</a></p>",
                    escape(&e.to_string())
                ),
            );
            r.headers_mut().insert(
                header::SET_COOKIE,
                session::set_cookie(None, svc.config.https()),
            );
            r
        }
    }
}

/// The redirect URI's work; returns the new session id of the logged-in user.
async fn complete_login(
    svc: &Service,
    headers: &HeaderMap,
    query: &str,
) -> Result<String, CallbackError> {
    // The pending login is consumed now, whatever happens next.
    let pending = session::from_headers(headers)
        .and_then(|id| svc.sessions.take_pending(&id))
        .ok_or(CallbackError::NoPendingLogin)?;
    let mut params = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.insert(k.to_string(), v.to_string()).is_some() {
            return Err(CallbackError::Repeated(k.to_string()));
        }
    }
    if params.get("state") != Some(pending.state.secret()) {
        return Err(CallbackError::State);
    }
    // RFC 9207: when the broker promises `iss`, every response must carry the right one.
    let iss = params.get("iss");
    let expected = svc.broker.issuer();
    if (iss.is_some() || svc.broker.promises_iss_parameter()) && iss != Some(&expected) {
        return Err(CallbackError::Iss {
            expected,
            found: iss.cloned(),
        });
    }
    if let Some(error) = params.get("error") {
        return Err(CallbackError::Authorization {
            error: error.clone(),
            description: params.get("error_description").cloned().unwrap_or_default(),
        });
    }
    let code = params
        .remove("code")
        .filter(|c| !c.is_empty())
        .ok_or(CallbackError::NoCode)?;
    let login = svc.broker.complete(code, pending).await?;
    let user = mitid::check(&login.claims, svc.config.required_loa)?;
    tracing::info!(uuid = %user.uuid, kind = user.kind, loa = %user.loa, "logged in");
    Ok(svc.sessions.log_in(user)?)
}

async fn logout(State(svc): State<Arc<Service>>, headers: HeaderMap) -> Response {
    if let Some(id) = session::from_headers(&headers) {
        svc.sessions.remove(&id);
    }
    redirect("/", Some(session::set_cookie(None, svc.config.https())))
}
