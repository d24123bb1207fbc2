//! The RP's HTTP side: login start, the redirect URI (callback), whoami, and the browser
//! sessions behind them.
//!
//! A browser session is a random cookie naming a server-side record. `/login` always starts a
//! fresh session holding one pending login (`state`, `nonce`, PKCE verifier); the callback
//! consumes that pending login whatever the outcome, so an authorization response is usable
//! once and only in the browser that started it. A successful login gets a new session id
//! (no session fixation).

use super::flaw::RpFlaw;
use super::id_token::{self, ClaimError, Expected};
use super::jws::{self, JwsError};
use super::mitid::{self, BrokerProfile, MitidError, MitidLogin};
use super::provider::{DiscoveryError, Provider, http_client, lock};
use super::{ResponseMode, RpConfig, RpUserKey};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const COOKIE: &str = "rp_session";
/// Bound on sessions and pending logins kept in memory.
const MAX_ENTRIES: usize = 20_000;
/// Pending logins and anonymous sessions older than this are dropped when the maps are full.
const PENDING_TTL_SECS: i64 = 600;
/// Largest token or userinfo response read.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// Rejection messages kept for diagnostics.
const MAX_REJECTIONS: usize = 200;

#[derive(Debug, Clone, Default)]
struct Session {
    user: Option<MitidLogin>,
    pending_state: Option<String>,
    created: i64,
}

#[derive(Debug, Clone)]
struct Pending {
    session: String,
    nonce: String,
    verifier: String,
    created: i64,
}

/// Shared RP state.
#[derive(Debug)]
pub struct RpState {
    cfg: RpConfig,
    provider: Provider,
    redirect_uri: String,
    sessions: Mutex<HashMap<String, Session>>,
    pending: Mutex<HashMap<String, Pending>>,
    /// The singleton "current user" that only [`RpFlaw::StaleUserOnError`] reads.
    last_user: Mutex<Option<MitidLogin>>,
    rejections: Mutex<Vec<String>>,
}

impl RpState {
    pub(crate) fn new(cfg: RpConfig, base_url: &str) -> Self {
        RpState {
            provider: Provider::new(&cfg.issuer, http_client()),
            redirect_uri: format!("{base_url}/callback"),
            cfg,
            sessions: Mutex::new(HashMap::new()),
            pending: Mutex::new(HashMap::new()),
            last_user: Mutex::new(None),
            rejections: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn config(&self) -> &RpConfig {
        &self.cfg
    }

    pub(crate) fn rejections(&self) -> Vec<String> {
        lock(&self.rejections).clone()
    }

    fn has(&self, f: RpFlaw) -> bool {
        self.cfg.flaws.has(f)
    }

    fn reject(&self, e: &CallbackError) -> Response {
        {
            let mut r = lock(&self.rejections);
            if r.len() >= MAX_REJECTIONS {
                r.remove(0);
            }
            r.push(e.to_string());
        }
        let status = match e {
            CallbackError::Full => StatusCode::SERVICE_UNAVAILABLE,
            CallbackError::Discovery(_) | CallbackError::Token(_) => StatusCode::BAD_GATEWAY,
            _ => StatusCode::FORBIDDEN,
        };
        page(status, &format!("Login refused: {e}"))
    }
}

/// Why a callback did not log anyone in.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// No session cookie, or an unknown one.
    #[error("no login is pending in this browser")]
    NoSession,
    /// The response has no `state`.
    #[error("the authorization response has no state")]
    StateMissing,
    /// The response's `state` is not the pending login's.
    #[error("state {0:?} is not the state of this browser's login")]
    StateMismatch(String),
    /// RFC 9207 `iss` wrong, or missing although discovery promises it.
    #[error("authorization response iss {found:?} is not the issuer {expected:?} (RFC 9207)")]
    IssParam {
        /// Discovery issuer.
        expected: String,
        /// Received.
        found: Option<String>,
    },
    /// The broker answered with an error.
    #[error("the broker answered with error {error:?} ({description})")]
    Authorization {
        /// OAuth error code.
        error: String,
        /// Description.
        description: String,
    },
    /// Neither code nor error.
    #[error("the authorization response has no code")]
    NoCode,
    /// The token request failed.
    #[error("token request: {0}")]
    Token(String),
    /// The ID token's signature.
    #[error("ID token signature: {0}")]
    Jws(#[from] JwsError),
    /// The ID token's claims.
    #[error("ID token: {0}")]
    Claims(#[from] ClaimError),
    /// The userinfo request failed.
    #[error("userinfo: {0}")]
    Userinfo(String),
    /// Userinfo is about someone else (OIDC Core §5.3.2).
    #[error("userinfo sub {userinfo:?} differs from the ID token sub {id_token:?}")]
    UserinfoSub {
        /// ID token sub.
        id_token: Option<String>,
        /// Userinfo sub.
        userinfo: Option<String>,
    },
    /// The MitID checks.
    #[error("MitID: {0}")]
    Mitid(#[from] MitidError),
    /// The claim the RP keys users by is missing.
    #[error("the ID token has no {0}, the claim users are keyed by")]
    NoSubject(&'static str),
    /// Discovery or JWKS.
    #[error("provider: {0}")]
    Discovery(#[from] DiscoveryError),
    /// Too many sessions.
    #[error("too many sessions in memory")]
    Full,
}

/// The RP's routes.
pub(crate) fn router(state: Arc<RpState>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/callback", get(callback_get).post(callback_post))
        .route("/whoami", get(whoami))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            front_end,
        ))
        .with_state(state)
}

/// The web server in front of the RP application (mod_auth_openidc's place), and the
/// application's trust in it ([`crate::identity_headers`]): the front end scrubs the identity
/// headers the browser sent (strict: all of them, CGI-equivalently, on every request; less
/// under the S11 flaws), and the application logs in whoever the remaining `OIDC_CLAIM_*` /
/// `REMOTE_USER` variables name, in its own session. With nothing left, nothing happens: the
/// strict RP never logs anyone in this way.
async fn front_end(
    State(st): State<Arc<RpState>>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let unauthenticated =
        req.method() == axum::http::Method::OPTIONS || req.uri().path() == "/callback";
    let front = crate::identity_headers::FrontEnd {
        trust_client_headers: st.has(RpFlaw::TrustClientHeaders),
        exact_names_only: st.has(RpFlaw::ScrubExactHeaderNames),
        authenticated_paths_only: st.has(RpFlaw::ScrubAuthenticatedPathsOnly),
    };
    front.scrub(req.headers_mut(), unauthenticated);
    let Some(user) = header_user(req.headers()) else {
        return next.run(req).await;
    };
    tracing::info!(user = %user.uuid, "reference RP: logged in from request headers");
    let sid = match st.new_session(user) {
        Ok(sid) => sid,
        Err(e) => return st.reject(&e),
    };
    // The rest of this request runs in the new session, as the browser's next ones will.
    if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={sid}")) {
        req.headers_mut().insert(header::COOKIE, v);
    }
    let mut resp = next.run(req).await;
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&sid));
    resp
}

/// The user an application behind mod_auth_openidc reads from the variables the module sets:
/// the MitID UUID claim of either broker, `REMOTE_USER` (or the `X-Remote-User` a proxy
/// passes it as), else `sub`.
fn header_user(h: &HeaderMap) -> Option<MitidLogin> {
    use crate::identity_headers::{app_variable, first_variable};
    let sub = app_variable(h, "OIDC_CLAIM_SUB");
    let uuid = first_variable(
        h,
        &[
            "OIDC_CLAIM_MITID_UUID",
            "OIDC_CLAIM_UUID",
            "REMOTE_USER",
            "X_REMOTE_USER",
        ],
    )
    .or_else(|| sub.clone())?;
    Some(MitidLogin {
        uuid,
        kind: "person",
        loa: String::new(),
        sub,
    })
}

fn page(status: StatusCode, text: &str) -> Response {
    let esc = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!doctype html><html><head><title>Reference RP</title></head><body><p id=\"msg\">{esc}</p></body></html>"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn random() -> String {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).expect("the system random source is available");
    URL_SAFE_NO_PAD.encode(b)
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(sid: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn redirect(to: &str, sid: Option<&str>) -> Response {
    let mut r = (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response();
    if let Some(s) = sid {
        r.headers_mut().insert(header::SET_COOKIE, set_cookie(s));
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Insert into a bounded map, dropping stale entries first when full.
fn bounded<V>(
    map: &mut HashMap<String, V>,
    key: String,
    value: V,
    stale: impl Fn(&V) -> bool,
) -> Result<(), CallbackError> {
    if map.len() >= MAX_ENTRIES {
        map.retain(|_, v| !stale(v));
        if map.len() >= MAX_ENTRIES {
            return Err(CallbackError::Full);
        }
    }
    map.insert(key, value);
    Ok(())
}

async fn home(State(st): State<Arc<RpState>>, headers: HeaderMap) -> Response {
    let user = cookie(&headers).and_then(|sid| lock(&st.sessions).get(&sid)?.user.clone());
    match user {
        Some(u) => page(
            StatusCode::OK,
            &format!("Logged in as {} ({})", u.uuid, u.kind),
        ),
        None => page(StatusCode::OK, "Not logged in"),
    }
}

async fn whoami(State(st): State<Arc<RpState>>, headers: HeaderMap) -> Response {
    let user = cookie(&headers).and_then(|sid| lock(&st.sessions).get(&sid)?.user.clone());
    match user {
        Some(u) => {
            let mut who = serde_json::json!({"uuid": u.uuid, "kind": u.kind, "loa": u.loa});
            if let Some(sub) = &u.sub {
                who["sub"] = Value::String(sub.clone());
            }
            axum::Json(who).into_response()
        }
        None => (StatusCode::UNAUTHORIZED, "not logged in").into_response(),
    }
}

async fn login(State(st): State<Arc<RpState>>) -> Response {
    let info = match st.provider.info().await {
        Ok(i) => i,
        Err(e) => return st.reject(&e.into()),
    };
    let (sid, state, verifier) = (random(), random(), random());
    // Without a nonce the ID token's nonce is not checked (an empty expected nonce).
    let nonce = if st.cfg.omit_nonce {
        String::new()
    } else {
        random()
    };
    let t = now();
    let stale = |c: i64| t - c > PENDING_TTL_SECS;
    // A new login always starts a new session: whatever this browser had is not carried over.
    let ok = bounded(
        &mut lock(&st.sessions),
        sid.clone(),
        Session {
            user: None,
            pending_state: Some(state.clone()),
            created: t,
        },
        |s| s.user.is_none() && stale(s.created),
    )
    .and_then(|_| {
        bounded(
            &mut lock(&st.pending),
            state.clone(),
            Pending {
                session: sid.clone(),
                nonce: nonce.clone(),
                verifier: verifier.clone(),
                created: t,
            },
            |p| stale(p.created),
        )
    });
    if let Err(e) = ok {
        return st.reject(&e);
    }
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", &st.cfg.client_id)
        .append_pair("redirect_uri", &st.redirect_uri)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    // Without `state` the pending login is still keyed internally by it, and found through
    // the browser session; PKCE binds the code to this browser's verifier.
    if !st.cfg.omit_state {
        q.append_pair("state", &state);
    }
    if !st.cfg.omit_nonce {
        q.append_pair("nonce", &nonce);
    }
    if st.cfg.response_mode == ResponseMode::FormPost {
        q.append_pair("response_mode", "form_post");
    }
    match st.cfg.profile {
        BrokerProfile::Signaturgruppen => {
            let level = st.cfg.required_loa.name().to_ascii_lowercase();
            q.append_pair("scope", "openid mitid nemlogin")
                .append_pair("idp_values", "mitid mitid_erhverv")
                .append_pair(
                    "idp_params",
                    &serde_json::json!({"mitid": {"loa_value": level}}).to_string(),
                );
        }
        BrokerProfile::Idura => {
            q.append_pair("scope", "openid");
            if st.cfg.required_loa == mitid_mock_broker::nsis::Loa::High {
                q.append_pair("acr_values", "urn:grn:authn:dk:mitid:high");
            }
        }
    }
    let sep = if info.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    redirect(
        &format!("{}{sep}{}", info.authorization_endpoint, q.finish()),
        Some(&sid),
    )
}

async fn callback_get(State(st): State<Arc<RpState>>, headers: HeaderMap, uri: Uri) -> Response {
    let params = parse_form(uri.query().unwrap_or("").as_bytes());
    callback(st, headers, params).await
}

async fn callback_post(
    State(st): State<Arc<RpState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form || body.len() > MAX_RESPONSE_BYTES {
        return page(
            StatusCode::BAD_REQUEST,
            "expected a form_post authorization response",
        );
    }
    callback(st, headers, parse_form(&body)).await
}

fn parse_form(b: &[u8]) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(b) {
        // A repeated parameter is ambiguous (RFC 6749 §3.1); keep none of them.
        if m.insert(k.to_string(), v.to_string()).is_some() {
            m.insert(k.to_string(), String::new());
        }
    }
    m
}

async fn callback(
    st: Arc<RpState>,
    headers: HeaderMap,
    params: HashMap<String, String>,
) -> Response {
    match complete(&st, &headers, &params).await {
        Ok(Some(sid)) => redirect("/", Some(&sid)),
        Ok(None) => redirect("/", None),
        Err(e) => st.reject(&e),
    }
}

/// The pending login an authorization response belongs to.
fn take_pending(
    st: &RpState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Pending, CallbackError> {
    let state_param = params.get("state").filter(|s| !s.is_empty());
    if st.has(RpFlaw::ReusableState) {
        let s = state_param.ok_or(CallbackError::StateMissing)?;
        return lock(&st.pending)
            .get(s)
            .cloned()
            .ok_or_else(|| CallbackError::StateMismatch(s.clone()));
    }
    let sid = cookie(headers).ok_or(CallbackError::NoSession)?;
    // Consumed now, whatever happens next: an authorization response is good for one try.
    let expected = lock(&st.sessions)
        .get_mut(&sid)
        .and_then(|s| s.pending_state.take())
        .ok_or(CallbackError::NoSession)?;
    let pending = lock(&st.pending).remove(&expected);
    if !st.has(RpFlaw::SkipState) && !st.cfg.omit_state {
        match state_param {
            None => return Err(CallbackError::StateMissing),
            Some(s) if *s != expected => return Err(CallbackError::StateMismatch(s.clone())),
            Some(_) => {}
        }
    }
    match pending {
        Some(p) if p.session == sid => Ok(p),
        _ => Err(CallbackError::NoSession),
    }
}

/// Handle an authorization response; `Ok(Some(sid))` is the new session of a login.
async fn complete(
    st: &RpState,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<Option<String>, CallbackError> {
    let pending = take_pending(st, headers, params)?;
    let info = st.provider.info().await?;
    if !st.has(RpFlaw::SkipIssParam) {
        let iss = params.get("iss");
        let required = info.authorization_response_iss_parameter_supported;
        if (iss.is_some() || required) && iss != Some(&info.issuer) {
            return Err(CallbackError::IssParam {
                expected: info.issuer.clone(),
                found: iss.cloned(),
            });
        }
    }
    if let Some(error) = params.get("error") {
        if st.has(RpFlaw::StaleUserOnError)
            && let Some(user) = lock(&st.last_user).clone()
        {
            return Ok(Some(st.new_session(user)?));
        }
        return Err(CallbackError::Authorization {
            error: error.clone(),
            description: params.get("error_description").cloned().unwrap_or_default(),
        });
    }
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or(CallbackError::NoCode)?;

    let tokens = st
        .token_request(&info.token_endpoint, code, &pending.verifier)
        .await?;
    let id_token_jwt = tokens
        .get("id_token")
        .and_then(Value::as_str)
        .ok_or_else(|| CallbackError::Token("no id_token in the token response".into()))?;
    let access_token = tokens
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(|| CallbackError::Token("no access_token in the token response".into()))?;
    let token_type = tokens
        .get("token_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(CallbackError::Token(format!(
            "token_type {token_type:?} is not Bearer"
        )));
    }

    let claims = jws::verify(
        id_token_jwt,
        &st.provider,
        &st.cfg.flaws,
        st.cfg.kidless,
        &st.cfg.client_secret,
    )
    .await?;
    let sub = id_token::check(
        &claims,
        &Expected {
            issuer: &info.issuer,
            client_id: &st.cfg.client_id,
            nonce: &pending.nonce,
            now: now(),
            skew: st.cfg.clock_skew_secs,
        },
        &st.cfg.flaws,
    )?;

    // An RP that never calls userinfo logs in from the verified ID token alone.
    let userinfo = if st.cfg.skip_userinfo {
        Map::new()
    } else {
        let userinfo = st.userinfo(&info.userinfo_endpoint, access_token).await?;
        let ui_sub = userinfo
            .get("sub")
            .and_then(Value::as_str)
            .map(str::to_string);
        let compare = !st.has(RpFlaw::SkipUserinfoSub)
            && (sub.is_some() || !st.has(RpFlaw::NoRequiredClaims));
        if compare && (ui_sub.is_none() || ui_sub != sub) {
            return Err(CallbackError::UserinfoSub {
                id_token: sub,
                userinfo: ui_sub,
            });
        }
        userinfo
    };
    // The ID token is the signed statement; userinfo only fills in what it leaves out.
    let mut merged = userinfo;
    merged.extend(claims);
    let mut user = mitid::check(st.cfg.profile, &merged, st.cfg.required_loa, &st.cfg.flaws)?;
    user.sub = match st.cfg.user_key {
        RpUserKey::MitidUuid => None,
        RpUserKey::Sub => Some(sub.ok_or(CallbackError::NoSubject("sub"))?),
        RpUserKey::SessionIdAsSub => {
            let sid = ["neb_sid", "sessionindex"]
                .iter()
                .find_map(|k| merged.get(*k).and_then(Value::as_str));
            Some(sid.ok_or(CallbackError::NoSubject("neb_sid"))?.to_string())
        }
    };
    *lock(&st.last_user) = Some(user.clone());
    Ok(Some(st.new_session(user)?))
}

impl RpState {
    fn new_session(&self, user: MitidLogin) -> Result<String, CallbackError> {
        let sid = random();
        let t = now();
        bounded(
            &mut lock(&self.sessions),
            sid.clone(),
            Session {
                user: Some(user),
                pending_state: None,
                created: t,
            },
            |s| s.user.is_none() && t - s.created > PENDING_TTL_SECS,
        )?;
        Ok(sid)
    }

    async fn token_request(
        &self,
        endpoint: &str,
        code: &str,
        verifier: &str,
    ) -> Result<Map<String, Value>, CallbackError> {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
        let basic = STANDARD.encode(format!(
            "{}:{}",
            enc(&self.cfg.client_id),
            enc(&self.cfg.client_secret)
        ));
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let resp = self
            .provider
            .http()
            .post(endpoint)
            .header(header::AUTHORIZATION, format!("Basic {basic}"))
            .form(&form)
            .send()
            .await
            .map_err(|e| CallbackError::Token(e.to_string()))?;
        let status = resp.status();
        let body = read_json(resp).await.map_err(CallbackError::Token)?;
        if !status.is_success() {
            return Err(CallbackError::Token(format!(
                "HTTP {status}: {}",
                Value::Object(body)
            )));
        }
        Ok(body)
    }

    async fn userinfo(
        &self,
        endpoint: &str,
        access_token: &str,
    ) -> Result<Map<String, Value>, CallbackError> {
        let resp = self
            .provider
            .http()
            .get(endpoint)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| CallbackError::Userinfo(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(CallbackError::Userinfo(format!("HTTP {}", resp.status())));
        }
        read_json(resp).await.map_err(CallbackError::Userinfo)
    }
}

async fn read_json(mut resp: reqwest::Response) -> Result<Map<String, Value>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_RESPONSE_BYTES {
            return Err(format!("response larger than {MAX_RESPONSE_BYTES} bytes"));
        }
    }
    match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err("response is not a JSON object".into()),
    }
}
