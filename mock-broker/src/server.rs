//! The broker's HTTP surface (axum): the router, index page, the fetch trap, body limits, the
//! HTTP server itself (plain and TLS) and TLS. The control endpoints (/_mock/*) are
//! [`crate::control`]. The SAML endpoints are in [`crate::saml`] (`endpoint`, `sso`, `login`,
//! `slo`), the OIDC ones in [`crate::oidc`].
//!
//! Every refusal is an HTTP 4xx page that says what was wrong in one sentence (SP developers
//! read these pages while debugging), and is logged; [`crate::page::Refusal`] renders them
//! all, the OIDC endpoints and the control API answer OAuth JSON instead. That includes the
//! refusals no handler sees: a wrong method (405), an unknown path (404), and what hyper refuses
//! while reading the request head (400, 414 URI too long, 431 headers too large: see
//! [`BareRefusals`]). Nothing here panics on input: bodies and query strings are size-capped
//! before parsing, and a client gets [`HttpConfig::header_read_timeout`] to send its request
//! head before the connection is closed.

use crate::broker::{BrokerState, FetchRecord, METADATA_PATH, METADATA4_PATH, SSO_PATH, SSO4_PATH};
use crate::control::{
    self,
    guard::{guard, health},
    server::{control_arm, control_fetches, control_flow},
};
use crate::oidc::router::json_405;
use crate::page::{Refusal, page};
use crate::saml::endpoint::{metadata, metadata4, sso_get, sso_post, sso4_get, sso4_post};
use crate::saml::login::login_post;
use crate::saml::xml::escape_text;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Largest request body the broker reads.
pub(crate) const MAX_BODY: usize = 256 * 1024;

type St = State<Arc<BrokerState>>;

/// A method router whose wrong methods get the refusal page (405), not axum's empty answer.
fn page_405(m: MethodRouter<Arc<BrokerState>>) -> MethodRouter<Arc<BrokerState>> {
    m.fallback(|req: Request| async move {
        refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!(
                "method {} is not allowed on {}",
                req.method(),
                req.uri().path()
            ),
        )
    })
}

/// Build the router.
///
/// Access per endpoint (the table in [`crate::control`] gives the reasons): the SAML and OIDC
/// endpoints, the index, the metadata, `/_mock/health`, the fetch trap and the attacker's key
/// material are public; every other `/_mock/*` route (SAML here, OIDC in
/// [`crate::oidc::OidcProvider::router`]) passes the control guard.
pub(crate) fn router(state: Arc<BrokerState>, extra: Option<Router>) -> Router {
    let control = Router::new()
        .route(control::ARM_PATH, json_405(post(control_arm)))
        .route(
            &format!("{}/{{id}}", control::FLOWS_PATH),
            json_405(get(control_flow)),
        )
        .route(control::FETCHES_PATH, json_405(get(control_fetches)))
        .route(
            control::IDP_LOGOUT_PATH,
            json_405(post(control::server::control_idp_logout)),
        )
        .route(
            &format!("{}/{{id}}", control::IDP_LOGOUTS_PATH),
            json_405(get(control::server::control_idp_logout_record)),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.control.clone(),
            guard,
        ))
        .with_state(state.clone());
    let health_route = Router::new()
        .route(control::HEALTH_PATH, json_405(get(health)))
        .with_state(state.control.clone());
    let r = Router::new()
        .route(METADATA_PATH, page_405(get(metadata)))
        .route("/metadata", page_405(get(metadata)))
        .route(SSO_PATH, page_405(get(sso_get).post(sso_post)))
        .route(METADATA4_PATH, page_405(get(metadata4)))
        .route(SSO4_PATH, page_405(get(sso4_get).post(sso4_post)))
        .route("/login", page_405(post(login_post)))
        .route("/_mock/fetch/{token}", json_405(get(fetch_trap)))
        .route("/", page_405(get(index)))
        .with_state(state)
        .merge(control)
        .merge(health_route);
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
            "<p>entityID <code>{}</code></p><p>Metadata: <a href=\"{m}\">{m}</a></p><p>SSO/SLO: <code>{}</code></p><p>OIOSAML 4.0: metadata <a href=\"{m4}\">{m4}</a>, SSO/SLO <code>{s4}</code></p><h2>Registered SPs</h2><ul>{}</ul><h2>Identities</h2><ul>{}</ul>",
            escape_text(&st.entity_id),
            escape_text(&st.sso_url),
            sps.join(""),
            st.identities
                .iter()
                .map(|i| format!("<li>{} ({:?}, {})</li>", escape_text(&i.id), i.kind, i.loa))
                .collect::<String>(),
            m = escape_text(&st.metadata_url),
            m4 = escape_text(&st.metadata4_url),
            s4 = escape_text(&st.sso4_url),
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

// ---------------------------------------------------------------- the HTTP server

/// How the broker's HTTP/1.1 server treats connections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HttpConfig {
    /// Time to send a request line and headers; then the connection is closed.
    pub(crate) header_read_timeout: Duration,
}

/// How long a TLS client may take for the handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutting down waits for connections to finish their current request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serve until `shutdown` fires (or its sender is dropped), then let open connections finish
/// their current request for at most [`SHUTDOWN_GRACE`]. One loop for HTTP and HTTPS: hyper's
/// HTTP/1.1 connection with a timer, so [`HttpConfig::header_read_timeout`] applies, and the
/// peer address as `ConnectInfo` (the control guard needs it).
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    cfg: HttpConfig,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    conns.spawn(connection(stream, peer, tls.clone(), router.clone(), cfg, stop_rx.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    // Connections still open now are aborted as `conns` drops.
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    cfg: HttpConfig,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let svc = router.layer(axum::Extension(ConnectInfo(peer)));
    match tls {
        None => serve_io(stream, svc, cfg, stop).await,
        Some(acceptor) => {
            let Ok(Ok(tls)) =
                tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            else {
                return;
            };
            serve_io(tls, svc, cfg, stop).await
        }
    }
}

async fn serve_io<I>(
    io: I,
    svc: Router,
    cfg: HttpConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = hyper_util::rt::TokioIo::new(BareRefusals::new(io));
    let hyper_svc = hyper_util::service::TowerToHyperService::new(svc);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout);
    let conn = builder.serve_connection(io, hyper_svc);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.wait_for(|stopping| *stopping) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// The connection's transport under hyper, with one change: the bare answers hyper sends by
/// itself when it cannot read a request head (`400`, `414 URI Too Long`, `431 Request Header
/// Fields Too Large`, each with `content-length: 0`: hyper has no hook to render them) are
/// replaced by the broker's refusal page with the [`REFUSAL_HEADER`](control::REFUSAL_HEADER),
/// like every other refusal. Such an answer is the last thing written on its connection (hyper
/// closes it), and no handler of the broker answers a refusal without a body, so the head is
/// recognised exactly: one write holding a whole `HTTP/1.x 400|414|431` head with
/// `content-length: 0` and nothing after it. Everything else passes through untouched.
#[derive(Debug)]
pub(crate) struct BareRefusals<I> {
    io: I,
    /// A replacement being written: its bytes, how many are written, and the length of the
    /// write it replaces (what hyper is told was written once it all is).
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<I> BareRefusals<I> {
    pub(crate) fn new(io: I) -> Self {
        BareRefusals { io, pending: None }
    }
}

impl<I: AsyncWrite + Unpin> BareRefusals<I> {
    /// Write the pending replacement to the end; then report the replaced write as done.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some((bytes, written, replaced)) = &mut self.pending else {
            return Poll::Ready(Ok(0));
        };
        while *written < bytes.len() {
            match Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let replaced = *replaced;
        self.pending = None;
        Poll::Ready(Ok(replaced))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for BareRefusals<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for BareRefusals<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pending.is_none() {
            match refusal_for_bare_head(buf) {
                Some(page) => this.pending = Some((page, 0, buf.len())),
                None => return Pin::new(&mut this.io).poll_write(cx, buf),
            }
        }
        this.drive(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pending.is_none() {
            let first = bufs.iter().find(|b| !b.is_empty());
            match first.and_then(|b| refusal_for_bare_head(b).map(|p| (p, b.len()))) {
                Some((page, len)) => this.pending = Some((page, 0, len)),
                None => return Pin::new(&mut this.io).poll_write_vectored(cx, bufs),
            }
        }
        this.drive(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending.is_some() {
            if let Err(e) = std::task::ready!(this.drive(cx)) {
                return Poll::Ready(Err(e));
            }
        }
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// The broker's refusal (status line, headers, page) for a bare head hyper wrote by itself;
/// `None` for anything else. See [`BareRefusals`].
fn refusal_for_bare_head(buf: &[u8]) -> Option<Vec<u8>> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let (status, why) = match rest.get(..4)? {
        b"400 " => (
            StatusCode::BAD_REQUEST,
            "the request is not valid HTTP/1.1: its request line or a header could not be parsed",
        ),
        b"414 " => (
            StatusCode::URI_TOO_LONG,
            "the request URI is longer than the 65,534 bytes the broker's HTTP server reads (a Redirect-binding AuthnRequest is normally under 2 KiB; larger messages belong in an HTTP-POST form)",
        ),
        b"431 " => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "the request's header section is too large for the broker's HTTP server (more than 100 header fields, or more than about 400 KB)",
        ),
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    if end + 4 != buf.len() {
        return None;
    }
    let head = buf.to_ascii_lowercase();
    if !head.windows(21).any(|w| w == b"\r\ncontent-length: 0\r\n") {
        return None;
    }
    tracing::warn!(
        status = status.as_u16(),
        "refused while reading the request head: {why}"
    );
    let refusal = Refusal::new(status, why);
    let stated = control::BrokerRefusal::new(refusal.code(), why).header_value();
    let body = page(
        "Request refused",
        &format!("<p id=\"error\">{}</p>", escape_text(why)),
    );
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\n{}: {stated}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        control::REFUSAL_HEADER,
        body.len(),
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn only_a_bare_head_of_hyper_is_replaced() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let page = String::from_utf8(refusal_for_bare_head(bare).unwrap()).unwrap();
        assert!(
            page.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{page}"
        );
        assert!(
            page.contains("x-mock-broker-error: error=invalid_request&"),
            "{page}"
        );
        assert!(
            page.contains("<p id=\"error\">the request&#39;s header section")
                || page.contains("<p id=\"error\">the request"),
            "{page}"
        );
        let (head, body) = page.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        for s in ["400 Bad Request", "414 URI Too Long"] {
            let h = format!("HTTP/1.1 {s}\r\ncontent-length: 0\r\n\r\n");
            assert!(refusal_for_bare_head(h.as_bytes()).is_some(), "{s}");
        }
        // Not replaced: other statuses, a body, a non-zero length, a head cut in two.
        for h in [
            &b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\nhi",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 20\r\n\r\n",
            b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n",
            b"<html>HTTP/1.1 414 </html>",
        ] {
            assert!(
                refusal_for_bare_head(h).is_none(),
                "{}",
                String::from_utf8_lossy(h)
            );
        }
    }

    #[tokio::test]
    async fn the_wrapper_writes_the_page_and_reports_the_bare_length() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut w = BareRefusals::new(a);
        let bare = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n";
        let reader = tokio::spawn(async move {
            let mut out = Vec::new();
            b.read_to_end(&mut out).await.unwrap();
            out
        });
        // A small pipe: the page needs many writes, reported as the one write of the bare head.
        let n = w.write(bare).await.unwrap();
        assert_eq!(n, bare.len());
        w.write_all(b"").await.unwrap();
        w.shutdown().await.unwrap();
        drop(w);
        let out = String::from_utf8(reader.await.unwrap()).unwrap();
        assert!(out.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{out}");
        assert!(out.contains("65,534 bytes"), "{out}");
    }
}
