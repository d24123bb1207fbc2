//! Who may call the control API over HTTP: the one guard in front of every control endpoint,
//! SAML and OIDC alike (applied by the broker's router and by
//! [`OidcProvider::router`](crate::oidc::OidcProvider::router), so an OIDC provider served on
//! its own is guarded too).
//!
//! A control call (arm a forged login, rotate keys, read flow records) must come from the
//! harness or the developer, never from a web page the developer happens to visit while the
//! broker runs. In order, a call is refused when:
//!
//! 1. the peer is not on loopback (403 `access_denied`; a server run without the peer address
//!    fails closed here);
//! 2. its `Host` (and an absolute request target's authority) is not the broker's own
//!    authority: the base URL's, or `127.0.0.1` / `localhost` / `[::1]` with the port the broker
//!    listens on (403). This is what stops DNS rebinding: a page at `attacker.example:8390`
//!    whose name now resolves to 127.0.0.1 is same-origin with the broker *for the browser*,
//!    but its requests say `Host: attacker.example:8390`;
//! 3. it carries an `Origin` that is not the broker's own origin (`null` included), or a
//!    `Sec-Fetch-Site` other than `same-origin` / `none` (403): a request a browser sends on
//!    behalf of another page;
//! 4. the control token is required and `Authorization: Bearer <token>` is missing or wrong
//!    (401 `invalid_token`, with a `WWW-Authenticate: Bearer` challenge);
//! 5. it is a `POST` whose `Content-Type` is not `application/json` (415 `invalid_request`):
//!    every control body is JSON, and a JSON request is never a CORS "simple request", so a
//!    browser preflights it, and the broker answers no preflight (`OPTIONS` is a 405 without
//!    CORS headers).
//!
//! Refusals are [`OAuthError`]s: the JSON body `{"error", "error_description"}` plus the
//! [`REFUSAL_HEADER`](super::REFUSAL_HEADER), read back by
//! [`ControlClient`](super::ControlClient) as `ControlClientError::Refused`.
//!
//! **Without the token** ([`ControlToken::Disabled`], loopback binds only) checks 1, 2, 3 and 5
//! remain, and no cross-site path is left: a cross-origin `POST` is either a simple request
//! (text/plain, a form, no Content-Type), refused by 5 before anything is read, or a JSON one,
//! which the browser only sends after a preflight the broker never grants; when sent anyway it
//! carries an `Origin`, refused by 3; rebinding the name to loopback is refused by 2; `GET`
//! control calls change nothing, and a browser cannot read their answers cross-origin (no CORS
//! headers) and marks them `Sec-Fetch-Site: cross-site` (3). What remains is any *process* on
//! the same machine, which the token (printed at start, not guessable) shuts out too.

use crate::oidc::error::OAuthError;
use crate::oidc::params::content_type_is;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// Shortest control token accepted when one is chosen by hand.
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest control token accepted.
pub const MAX_TOKEN_LEN: usize = 512;
/// The environment variable the `mitid-harness` CLI reads the control token from (`broker`:
/// the token to require; `run`: the token to send to an external broker).
pub const TOKEN_ENV: &str = "MITID_BROKER_CONTROL_TOKEN";

/// The control token a broker requires on `Authorization: Bearer <token>`.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum ControlToken {
    /// A fresh random token (256 bits) per process: the default. Read it from
    /// [`RunningBroker::control_token`](crate::RunningBroker::control_token); `mitid-harness
    /// broker` prints it at start.
    #[default]
    Random,
    /// This token (e.g. shared with a harness run started separately). At least
    /// [`MIN_TOKEN_LEN`] characters of `A-Z a-z 0-9 - . _ ~ + /` (then `=` padding).
    Fixed(String),
    /// No token. Allowed on a loopback listen address only; the Host, Origin and JSON checks
    /// remain, which leave no cross-site path (see the [module docs](self)).
    Disabled,
}

impl std::fmt::Debug for ControlToken {
    /// Never prints the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlToken::Random => f.write_str("Random"),
            ControlToken::Fixed(_) => f.write_str("Fixed(<redacted>)"),
            ControlToken::Disabled => f.write_str("Disabled"),
        }
    }
}

impl ControlToken {
    /// Why a hand-chosen token is unusable, if it is.
    pub fn check(token: &str) -> Result<(), String> {
        if token.len() < MIN_TOKEN_LEN {
            return Err(format!(
                "the control token must be at least {MIN_TOKEN_LEN} characters long (it is {})",
                token.len()
            ));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(format!(
                "the control token must be at most {MAX_TOKEN_LEN} characters long"
            ));
        }
        let body = token.trim_end_matches('=');
        if body.is_empty()
            || !body.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
            })
        {
            return Err(
                "the control token may hold only A-Z a-z 0-9 - . _ ~ + / (then = padding)".into(),
            );
        }
        Ok(())
    }

    /// The token to require: a fresh one for [`ControlToken::Random`], `None` when disabled.
    pub(crate) fn resolve(&self) -> Result<Option<String>, String> {
        match self {
            ControlToken::Random => Ok(Some(crate::oidc::provider::random_token())),
            ControlToken::Fixed(t) => Self::check(t).map(|()| Some(t.clone())),
            ControlToken::Disabled => Ok(None),
        }
    }
}

/// The access policy of one broker's control API: its token and its own authorities.
#[derive(Clone)]
pub(crate) struct ControlAccess {
    inner: Arc<Inner>,
}

struct Inner {
    token: Option<String>,
    /// `http` or `https`: the scheme of the broker's own origin.
    scheme: String,
    /// (host, port) pairs the broker answers to: lower-case host, IPv6 without brackets.
    authorities: Vec<(String, u16)>,
}

impl std::fmt::Debug for ControlAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlAccess")
            .field("token", &self.inner.token.as_ref().map(|_| "<redacted>"))
            .field("scheme", &self.inner.scheme)
            .field("authorities", &self.inner.authorities)
            .finish()
    }
}

impl ControlAccess {
    /// The policy of a broker reached at `base_url` and listening on `listen` (the base URL's
    /// port when `None`): its own authority, and the loopback names with the port it listens on.
    pub(crate) fn new(token: Option<String>, base_url: &str, listen: Option<SocketAddr>) -> Self {
        let mut authorities = Vec::new();
        let mut scheme = "http".to_string();
        let mut port = listen.map(|a| a.port());
        if let Ok(u) = url::Url::parse(base_url) {
            scheme = u.scheme().to_string();
            if let (Some(h), Some(p)) = (u.host_str(), u.port_or_known_default()) {
                authorities.push((normal_host(h), p));
                port = port.or(Some(p));
            }
        }
        if let Some(p) = port {
            for h in ["127.0.0.1", "localhost", "::1"] {
                authorities.push((h.to_string(), p));
            }
            if let Some(a) = listen.filter(|a| a.ip().is_loopback()) {
                authorities.push((normal_host(&a.ip().to_string()), p));
            }
        }
        authorities.sort();
        authorities.dedup();
        ControlAccess {
            inner: Arc::new(Inner {
                token,
                scheme,
                authorities,
            }),
        }
    }

    /// The token callers must send, if one is required.
    pub(crate) fn token(&self) -> Option<&str> {
        self.inner.token.as_deref()
    }

    fn own(&self, host: &str, port: u16) -> bool {
        let host = normal_host(host);
        self.inner
            .authorities
            .iter()
            .any(|(h, p)| *h == host && *p == port)
    }

    /// Checks 1-4 (peer, Host, Origin, token); see the module docs.
    fn check_caller(
        &self,
        peer: Option<SocketAddr>,
        parts_uri: &axum::http::Uri,
        headers: &HeaderMap,
    ) -> Result<(), ControlRefusal> {
        self.check_viewer(peer, parts_uri, headers)?;
        if let Some(site) = headers.get("sec-fetch-site") {
            let site = site.to_str().unwrap_or("(not text)");
            if !matches!(site, "same-origin" | "none") {
                return Err(ControlRefusal::CrossSite(shorten(site)));
            }
        }
        self.check_token(headers)
    }

    /// Checks 1-3 (loopback peer, own Host, no foreign Origin): who may *read* the developer
    /// page in a browser. No token, because a developer navigates there by hand; what stays
    /// out is every other machine, a DNS-rebound name (Host) and scripts of other origins,
    /// which could not read the answer anyway without CORS, which the broker never grants.
    pub(crate) fn check_viewer(
        &self,
        peer: Option<SocketAddr>,
        parts_uri: &axum::http::Uri,
        headers: &HeaderMap,
    ) -> Result<(), ControlRefusal> {
        if !peer.is_some_and(|p| p.ip().is_loopback()) {
            return Err(ControlRefusal::NotLoopback);
        }
        let default_port = if self.inner.scheme == "https" {
            443
        } else {
            80
        };
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .ok_or(ControlRefusal::NoHost)?;
        let own_host =
            |a: &str| split_authority(a, default_port).is_some_and(|(h, p)| self.own(&h, p));
        if !own_host(host) {
            return Err(ControlRefusal::ForeignHost(shorten(host)));
        }
        if let Some(a) = parts_uri.authority() {
            if !own_host(a.as_str()) {
                return Err(ControlRefusal::ForeignHost(shorten(a.as_str())));
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let text = origin.to_str().unwrap_or("(not text)");
            let ok = url::Url::parse(text).ok().is_some_and(|u| {
                u.scheme() == self.inner.scheme
                    && matches!(u.path(), "" | "/")
                    && match (u.host_str(), u.port_or_known_default()) {
                        (Some(h), Some(p)) => self.own(h, p),
                        _ => false,
                    }
            });
            if !ok {
                return Err(ControlRefusal::ForeignOrigin(shorten(text)));
            }
        }
        Ok(())
    }

    /// Check 4: the bearer token, when one is required.
    fn check_token(&self, headers: &HeaderMap) -> Result<(), ControlRefusal> {
        let Some(expected) = &self.inner.token else {
            return Ok(());
        };
        let sent = headers
            .get(header::AUTHORIZATION)
            .ok_or(ControlRefusal::NoToken)?;
        let sent = sent.to_str().map_err(|_| ControlRefusal::WrongToken)?;
        let sent = match sent.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => return Err(ControlRefusal::NotBearer),
        };
        if constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(ControlRefusal::WrongToken)
        }
    }

    /// All five checks for one request (see the module docs).
    fn check(
        &self,
        peer: Option<SocketAddr>,
        method: &Method,
        uri: &axum::http::Uri,
        headers: &HeaderMap,
    ) -> Result<(), ControlRefusal> {
        self.check_caller(peer, uri, headers)?;
        if method == Method::POST && !content_type_is(headers, "application/json") {
            return Err(ControlRefusal::NotJson(
                headers
                    .get(header::CONTENT_TYPE)
                    .map(|v| shorten(v.to_str().unwrap_or("(not text)")))
                    .unwrap_or_else(|| "(none)".into()),
            ));
        }
        Ok(())
    }
}

/// Lower case, without the brackets of an IPv6 literal.
fn normal_host(h: &str) -> String {
    h.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// A `Host` value as (host, port); `None` when it is not `host[:port]`.
fn split_authority(a: &str, default_port: u16) -> Option<(String, u16)> {
    if a.is_empty()
        || !a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return None;
    }
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':')?)),
        }
    } else {
        match a.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (a, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    if host.is_empty() {
        return None;
    }
    Some((normal_host(host), port))
}

/// A header value cut for a refusal sentence.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(100).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Equal bytes, in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a control call was refused before it reached its endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ControlRefusal {
    /// The peer is not on loopback (or its address is unknown).
    #[error("the control API answers loopback peers only")]
    NotLoopback,
    /// No `Host` header.
    #[error("a control call must name the broker in its Host header")]
    NoHost,
    /// `Host` names another server (DNS rebinding, or a proxy).
    #[error(
        "Host {0:?} is not this broker's own address; control calls must name the broker (its base URL, or 127.0.0.1 / localhost / [::1] with its port)"
    )]
    ForeignHost(String),
    /// `Origin` is another site's.
    #[error(
        "Origin {0:?} is not this broker's own origin; control calls from web pages are refused"
    )]
    ForeignOrigin(String),
    /// The browser says another site sent it.
    #[error("Sec-Fetch-Site {0:?}: control calls from web pages are refused")]
    CrossSite(String),
    /// No `Authorization` header.
    #[error(
        "the control API needs the broker's control token: send `Authorization: Bearer <token>` (the token `mitid-harness broker` printed at start; sp.toml [broker] control_token or {TOKEN_ENV} for the harness)"
    )]
    NoToken,
    /// `Authorization` is not a bearer token.
    #[error("the control token goes in `Authorization: Bearer <token>`")]
    NotBearer,
    /// The token is not this broker's.
    #[error(
        "the control token is not this broker's (it changes at every start unless fixed with --control-token / control_token)"
    )]
    WrongToken,
    /// A POST body that is not JSON.
    #[error("content type must be application/json, not {0:?}")]
    NotJson(String),
    /// A control handler reached without the guard (a wiring mistake; fails closed).
    #[error("this control endpoint is served without its access guard; refusing")]
    Unguarded,
}

impl From<ControlRefusal> for OAuthError {
    fn from(e: ControlRefusal) -> Self {
        let (status, code) = match &e {
            ControlRefusal::NotLoopback
            | ControlRefusal::NoHost
            | ControlRefusal::ForeignHost(_)
            | ControlRefusal::ForeignOrigin(_)
            | ControlRefusal::CrossSite(_)
            | ControlRefusal::Unguarded => (StatusCode::FORBIDDEN, "access_denied"),
            ControlRefusal::NoToken | ControlRefusal::NotBearer | ControlRefusal::WrongToken => {
                (StatusCode::UNAUTHORIZED, "invalid_token")
            }
            ControlRefusal::NotJson(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request"),
        };
        let challenge = match &e {
            ControlRefusal::NoToken | ControlRefusal::NotBearer => {
                Some("Bearer realm=\"mock-broker control\"")
            }
            ControlRefusal::WrongToken => {
                Some("Bearer realm=\"mock-broker control\", error=\"invalid_token\"")
            }
            ControlRefusal::NotLoopback
            | ControlRefusal::NoHost
            | ControlRefusal::ForeignHost(_)
            | ControlRefusal::ForeignOrigin(_)
            | ControlRefusal::CrossSite(_)
            | ControlRefusal::NotJson(_)
            | ControlRefusal::Unguarded => None,
        };
        let err = OAuthError::new(status, code, e.to_string());
        match challenge {
            Some(c) => err.with_challenge(c),
            None => err,
        }
    }
}

/// Marks a request that passed the guard. Control handlers take it as an extractor, so one
/// served without the guard refuses (403) instead of answering.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Guarded;

impl<S: Send + Sync> FromRequestParts<S> for Guarded {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Guarded>()
            .copied()
            .ok_or_else(|| OAuthError::from(ControlRefusal::Unguarded).into_response())
    }
}

fn peer_of(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// The guard as axum middleware (`route_layer` over the control routes).
pub(crate) async fn guard(
    State(access): State<ControlAccess>,
    mut req: Request,
    next: Next,
) -> Response {
    if req.extensions().get::<Guarded>().is_some() {
        // Already checked by an outer layer with the same policy.
        return next.run(req).await;
    }
    match access.check(peer_of(&req), req.method(), req.uri(), req.headers()) {
        Ok(()) => {
            req.extensions_mut().insert(Guarded);
            next.run(req).await
        }
        Err(e) => {
            tracing::warn!(path = %req.uri().path(), "control call refused: {e}");
            OAuthError::from(e).into_response()
        }
    }
}

/// The developer page's guard (`route_layer`): [`ControlAccess::check_viewer`]. Refusals are
/// the JSON control refusals, with the refusal header.
pub(crate) async fn viewer_guard(
    State(access): State<ControlAccess>,
    req: Request,
    next: Next,
) -> Response {
    match access.check_viewer(peer_of(&req), req.uri(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => {
            tracing::warn!(path = %req.uri().path(), "developer page refused: {e}");
            OAuthError::from(e).into_response()
        }
    }
}

/// `GET /_mock/health`: public (scripts poll it before they know anything), it answers `ok`
/// and changes nothing. A caller that sends `Authorization` has its token checked, so the
/// harness learns at once when the token it was given is not this broker's.
pub(crate) async fn health(State(access): State<ControlAccess>, headers: HeaderMap) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        if let Err(e) = access.check_token(&headers) {
            return OAuthError::from(e).into_response();
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Uri};

    const TOKEN: &str = "0123456789abcdef-token";

    fn access() -> ControlAccess {
        ControlAccess::new(
            Some(TOKEN.into()),
            "http://127.0.0.1:8390",
            Some(SocketAddr::from(([127, 0, 0, 1], 8390))),
        )
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn check(pairs: &[(&'static str, &str)]) -> Result<(), ControlRefusal> {
        access().check(
            Some(SocketAddr::from(([127, 0, 0, 1], 5000))),
            &Method::POST,
            &Uri::from_static("/_mock/arm"),
            &headers(pairs),
        )
    }

    const AUTH: (&str, &str) = ("authorization", "Bearer 0123456789abcdef-token");
    const JSON: (&str, &str) = ("content-type", "application/json");

    #[test]
    fn the_harness_request_passes() {
        assert_eq!(check(&[("host", "127.0.0.1:8390"), AUTH, JSON]), Ok(()));
        for host in ["localhost:8390", "[::1]:8390", "LOCALHOST:8390"] {
            assert_eq!(check(&[("host", host), AUTH, JSON]), Ok(()), "{host}");
        }
        let own = [
            ("host", "127.0.0.1:8390"),
            ("origin", "http://127.0.0.1:8390"),
            AUTH,
            JSON,
        ];
        assert_eq!(check(&own), Ok(()));
        let same = [
            ("host", "127.0.0.1:8390"),
            ("sec-fetch-site", "same-origin"),
            AUTH,
            JSON,
        ];
        assert_eq!(check(&same), Ok(()));
    }

    #[test]
    fn foreign_hosts_and_origins_are_refused() {
        for host in [
            "attacker.example:8390",
            "127.0.0.1:8391",
            "127.0.0.1",
            "a@127.0.0.1:8390",
            "",
        ] {
            assert!(
                matches!(
                    check(&[("host", host), AUTH, JSON]),
                    Err(ControlRefusal::ForeignHost(_))
                ),
                "{host}"
            );
        }
        assert_eq!(check(&[AUTH, JSON]), Err(ControlRefusal::NoHost));
        for origin in [
            "http://attacker.example",
            "null",
            "https://127.0.0.1:8390",
            "http://127.0.0.1:8080",
        ] {
            assert!(
                matches!(
                    check(&[("host", "127.0.0.1:8390"), ("origin", origin), AUTH, JSON]),
                    Err(ControlRefusal::ForeignOrigin(_))
                ),
                "{origin}"
            );
        }
        for site in ["cross-site", "same-site"] {
            assert!(matches!(
                check(&[
                    ("host", "127.0.0.1:8390"),
                    ("sec-fetch-site", site),
                    AUTH,
                    JSON
                ]),
                Err(ControlRefusal::CrossSite(_))
            ));
        }
        let e = access().check(
            Some(SocketAddr::from(([127, 0, 0, 1], 5000))),
            &Method::POST,
            &Uri::from_static("http://attacker.example:8390/_mock/arm"),
            &headers(&[("host", "127.0.0.1:8390"), AUTH, JSON]),
        );
        assert!(matches!(e, Err(ControlRefusal::ForeignHost(_))), "{e:?}");
    }

    #[test]
    fn the_token_is_required_and_compared() {
        let host = ("host", "127.0.0.1:8390");
        assert_eq!(check(&[host, JSON]), Err(ControlRefusal::NoToken));
        assert_eq!(
            check(&[host, JSON, ("authorization", "Bearer nope")]),
            Err(ControlRefusal::WrongToken)
        );
        assert_eq!(
            check(&[host, JSON, ("authorization", "Basic eDp5")]),
            Err(ControlRefusal::NotBearer)
        );
        assert_eq!(
            check(&[
                host,
                JSON,
                ("authorization", "bearer 0123456789abcdef-token")
            ]),
            Ok(())
        );
        let open = ControlAccess::new(None, "http://127.0.0.1:8390", None);
        assert_eq!(open.check_token(&HeaderMap::new()), Ok(()));
    }

    #[test]
    fn a_post_must_be_json() {
        let host = ("host", "127.0.0.1:8390");
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            None,
        ] {
            let mut h = vec![host, AUTH];
            if let Some(ct) = ct {
                h.push(("content-type", ct));
            }
            let e = check(&h).unwrap_err();
            assert!(matches!(e, ControlRefusal::NotJson(_)), "{ct:?}: {e:?}");
            assert_eq!(
                OAuthError::from(e).status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            );
        }
        assert_eq!(
            check(&[
                host,
                AUTH,
                ("content-type", "application/json; charset=utf-8")
            ]),
            Ok(())
        );
    }

    #[test]
    fn the_peer_must_be_loopback() {
        let e = access().check(
            Some(SocketAddr::from(([192, 0, 2, 1], 5000))),
            &Method::GET,
            &Uri::from_static("/_mock/fetches"),
            &headers(&[("host", "127.0.0.1:8390"), AUTH]),
        );
        assert_eq!(e, Err(ControlRefusal::NotLoopback));
        let e = access().check(
            None,
            &Method::GET,
            &Uri::from_static("/"),
            &HeaderMap::new(),
        );
        assert_eq!(e, Err(ControlRefusal::NotLoopback));
    }

    #[test]
    fn a_public_base_url_is_the_brokers_own_authority_too() {
        let a = ControlAccess::new(
            None,
            "https://idp.test",
            Some(SocketAddr::from(([127, 0, 0, 1], 8443))),
        );
        assert!(a.own("idp.test", 443));
        assert!(a.own("localhost", 8443));
        assert!(!a.own("localhost", 443));
        assert_eq!(
            split_authority("idp.test", 443),
            Some(("idp.test".into(), 443))
        );
        assert_eq!(split_authority("[::1]:9", 80), Some(("::1".into(), 9)));
        assert_eq!(split_authority("[::1]x", 80), None);
        assert_eq!(split_authority("h:99999", 80), None);
    }

    #[test]
    fn hand_chosen_tokens_are_checked_and_never_printed() {
        assert!(ControlToken::check("short").is_err());
        assert!(ControlToken::check("has space in it, long enough").is_err());
        assert!(ControlToken::check(&"a".repeat(MAX_TOKEN_LEN + 1)).is_err());
        assert!(ControlToken::check("abcdefghijklmnop_-.~+/==").is_ok());
        assert!(ControlToken::check("================").is_err());
        let t = ControlToken::Fixed("secret-secret-secret".into());
        assert!(!format!("{t:?}").contains("secret"));
        assert!(!format!("{:?}", access()).contains(TOKEN));
        let r = ControlToken::Random.resolve().unwrap().unwrap();
        assert!(r.len() >= 43 && ControlToken::check(&r).is_ok(), "{r}");
        assert_ne!(Some(r), ControlToken::Random.resolve().unwrap());
    }
}
