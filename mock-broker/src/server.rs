//! The broker's HTTP surface (axum): the router, index page, the fetch trap, body limits and
//! TLS. The control endpoints (/_mock/*) are [`crate::control`]. The SAML endpoints are in [`crate::saml`] (`endpoint`,
//! `sso`, `login`, `slo`), the OIDC ones in [`crate::oidc`].
//!
//! Every refusal is an HTTP 4xx page that says what was wrong in one sentence (SP developers
//! read these pages while debugging), and is logged; [`crate::page::Refusal`] renders them
//! all. Nothing here panics on input: bodies and query strings are size-capped before parsing.

use crate::broker::{BrokerState, FetchRecord, METADATA_PATH, SSO_PATH};
use crate::control::{
    self,
    server::{control_arm, control_fetches, control_flow},
};
use crate::page::{Refusal, page};
use crate::saml::endpoint::{metadata, sso_get, sso_post};
use crate::saml::login::login_post;
use crate::saml::xml::escape_text;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;

/// Largest request body the broker reads.
pub(crate) const MAX_BODY: usize = 256 * 1024;

type St = State<Arc<BrokerState>>;

/// Build the router.
pub(crate) fn router(state: Arc<BrokerState>, extra: Option<Router>) -> Router {
    let r = Router::new()
        .route(METADATA_PATH, get(metadata))
        .route("/metadata", get(metadata))
        .route(SSO_PATH, get(sso_get).post(sso_post))
        .route("/login", post(login_post))
        .route(control::HEALTH_PATH, get(|| async { "ok" }))
        .route(control::ARM_PATH, post(control_arm))
        .route(
            &format!("{}/{{id}}", control::FLOWS_PATH),
            get(control_flow),
        )
        .route(control::FETCHES_PATH, get(control_fetches))
        .route("/_mock/fetch/{token}", get(fetch_trap))
        .route("/", get(index))
        .with_state(state);
    let r = match extra {
        Some(e) => r.merge(e),
        None => r,
    };
    r.fallback(|uri: Uri| async move {
        refuse(
            StatusCode::NOT_FOUND,
            &format!("no such endpoint: {}", uri.path()),
        )
    })
}

/// A refusal page (control API and fallback; the SAML endpoints have rejection enums).
pub(crate) fn refuse(status: StatusCode, why: &str) -> Response {
    Refusal::new(status, why).into_response()
}

async fn index(State(st): St) -> Html<String> {
    let sps: Vec<String> = {
        let g = st.sps.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<String> = g
            .keys()
            .map(|k| format!("<li><code>{}</code></li>", escape_text(k)))
            .collect();
        v.sort();
        v
    };
    Html(page(
        "mock NemLog-in IdP",
        &format!(
            "<p>entityID <code>{}</code></p><p>Metadata: <a href=\"{m}\">{m}</a></p><p>SSO/SLO: <code>{}</code></p><h2>Registered SPs</h2><ul>{}</ul><h2>Identities</h2><ul>{}</ul>",
            escape_text(&st.entity_id),
            escape_text(&st.sso_url),
            sps.join(""),
            st.identities
                .iter()
                .map(|i| format!("<li>{} ({:?}, {})</li>", escape_text(&i.id), i.kind, i.loa))
                .collect::<String>(),
            m = escape_text(&st.metadata_url),
        ),
    ))
}

/// A request body over [`MAX_BODY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("request body is larger than {MAX_BODY} bytes")]
pub(crate) struct BodyTooLarge;

/// Read a request body of at most [`MAX_BODY`] bytes.
pub(crate) async fn read_capped(body: Body) -> Result<Vec<u8>, BodyTooLarge> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| BodyTooLarge)
}

// ---------------------------------------------------------------- the fetch trap

async fn fetch_trap(
    State(st): St,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    tracing::warn!(%token, %peer, "external entity fetched: an SP resolved a DOCTYPE entity from a SAML message");
    st.record_fetch(FetchRecord {
        token,
        at: st.clock.now(),
        peer: peer.to_string(),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    ([(header::CONTENT_TYPE, "text/plain")], "mock-xxe-canary").into_response()
}

// ---------------------------------------------------------------- TLS

/// A TLS acceptor with the mock local CA's server certificate.
pub(crate) fn mock_tls_acceptor() -> Result<tokio_rustls::TlsAcceptor, String> {
    let pki = crate::pki::MockPki::builtin();
    let cert = rustls::pki_types::CertificateDer::from(pki.tls_server.cert_der().to_vec());
    let key_der = pki
        .tls_server
        .key_pkcs8_der()
        .ok_or("mock TLS server credential has no key")?
        .to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(|e| e.to_string())?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

pub(crate) async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
            _ = &mut shutdown => return,
        };
        let acceptor = acceptor.clone();
        let svc = router.clone().layer(axum::Extension(ConnectInfo(peer)));
        tokio::spawn(async move {
            let Ok(Ok(tls)) =
                tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(stream))
                    .await
            else {
                return;
            };
            let io = hyper_util::rt::TokioIo::new(tls);
            let hyper_svc = hyper_util::service::TowerToHyperService::new(svc);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, hyper_svc)
                .await;
        });
    }
}
