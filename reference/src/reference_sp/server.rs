//! The reference SP's HTTP surface (axum): `/login`, `/acs`, `/whoami`, `/protected`,
//! `/metadata`, `/logout`, `/slo`, and an index page.

use super::SpState;
use super::acs;
use super::check::Rejection;
use super::flaw::Flaw;
use super::xml::{escape_attr, escape_text};
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use time::OffsetDateTime;

/// Largest `/acs` body read (a 1 MiB response, base64 and form-encoded).
const MAX_ACS_BODY: usize = 2 * 1024 * 1024;

type St = State<Arc<SpState>>;

/// Build the router.
pub(crate) fn router(st: Arc<SpState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/acs", post(acs_post))
        .route("/whoami", get(whoami))
        .route("/protected", get(protected))
        .route("/metadata", get(metadata))
        .route("/logout", get(logout))
        .route("/slo", get(slo_get).post(slo_post))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page on the reference SP") })
        .layer(axum::middleware::from_fn_with_state(st.clone(), front_end))
        .with_state(st)
}

/// The web server in front of the SP application, and the application's trust in it
/// ([`crate::identity_headers`]): the front end scrubs the identity headers the browser sent
/// (strict: all of them, CGI-equivalently, on every request; less under the S11 flaws), and
/// the application logs in whoever the remaining `REMOTE_USER` / `MELLON_*` / `eppn`
/// variables name, in its own session, as an Apache-fronted application reading them would.
/// With nothing left, nothing happens: the strict SP never logs anyone in this way.
async fn front_end(
    State(st): St,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let unauthenticated = req.method() == axum::http::Method::OPTIONS || req.uri().path() == "/acs";
    let front = crate::identity_headers::FrontEnd {
        trust_client_headers: st.has(Flaw::TrustClientHeaders),
        exact_names_only: st.has(Flaw::ScrubExactHeaderNames),
        authenticated_paths_only: st.has(Flaw::ScrubAuthenticatedPathsOnly),
    };
    front.scrub(req.headers_mut(), unauthenticated);
    let Some(login) = header_login(req.headers()) else {
        return next.run(req).await;
    };
    tracing::info!(user = %login.uuid, "reference SP: logged in from request headers");
    let sid = st.sessions.log_in(
        session_id(&st, req.headers()).as_deref(),
        None,
        login,
        OffsetDateTime::now_utc(),
    );
    // The rest of this request runs in the new session, as the browser's next ones will.
    if let Ok(v) = HeaderValue::from_str(&format!("{}={sid}", st.cookie_name)) {
        req.headers_mut().insert(header::COOKIE, v);
    }
    let mut resp = next.run(req).await;
    let (k, v) = set_cookie(&st, &sid);
    resp.headers_mut().append(k, v);
    resp
}

/// The user an application behind mod_auth_mellon or Shibboleth reads from the variables the
/// module sets: `REMOTE_USER` (or the `X-Remote-User` a proxy passes it as), the MitID UUID
/// attribute, `eppn`, else the NameID's UUID.
fn header_login(h: &HeaderMap) -> Option<super::session::Login> {
    use crate::identity_headers::{app_variable, first_variable};
    let name_id = app_variable(h, "MELLON_NAME_ID");
    let uuid = first_variable(h, &["REMOTE_USER", "X_REMOTE_USER", "MELLON_UUID", "EPPN"])
        .or_else(|| {
            name_id
                .as_deref()
                .and_then(|n| n.rsplit('/').next())
                .map(str::to_string)
        })?;
    let kind = if name_id
        .as_deref()
        .is_some_and(|n| n.contains("/professional/"))
    {
        "professional"
    } else {
        "person"
    };
    Some(super::session::Login {
        uuid,
        name_id: name_id.unwrap_or_default(),
        kind: kind.into(),
        loa: String::new(),
        cpr: app_variable(h, "MELLON_CPR"),
        cvr: None,
        name: None,
        assertion_id: String::new(),
    })
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}</title></head>
<body><p>mitid-harness reference SP (test fixture, MOCK keys)</p><h1>{t}</h1>{body}</body></html>"#,
        t = escape_text(title)
    )
}

fn session_id(st: &SpState, headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == st.cookie_name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(st: &SpState, sid: &str) -> (header::HeaderName, HeaderValue) {
    let v = format!("{}={sid}; Path=/; HttpOnly; SameSite=Lax", st.cookie_name);
    (
        header::SET_COOKIE,
        HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1")),
    )
}

fn clear_cookie(st: &SpState) -> (header::HeaderName, HeaderValue) {
    let v = format!("{}=; Path=/; Max-Age=0", st.cookie_name);
    (
        header::SET_COOKIE,
        HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=1")),
    )
}

async fn index(State(st): St, headers: HeaderMap) -> Html<String> {
    let who = match st.sessions.login(session_id(&st, &headers).as_deref()) {
        Some(l) => format!(
            "<p id=\"user\">Logged in as <code>{}</code> ({}, LoA {}).</p><p><a href=\"/logout\">Log out</a></p>",
            escape_text(&l.uuid),
            escape_text(&l.kind),
            escape_text(&l.loa)
        ),
        None => {
            "<p>Not logged in. <a href=\"/login\">Log in with MitID (mock broker)</a></p>".into()
        }
    };
    let flaws = if st.config.flaws.is_empty() {
        "strict".to_string()
    } else {
        st.config
            .flaws
            .iter()
            .map(|f| f.id())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Html(page(
        "Reference SP",
        &format!(
            "{who}<p>entityID <code>{}</code>; flaws: <code>{}</code></p><p><a href=\"/metadata\">metadata</a> · <a href=\"/whoami\">whoami</a></p>",
            escape_text(&st.entity_id),
            escape_text(&flaws)
        ),
    ))
}

/// Start a login: a fresh AuthnRequest, remembered in this browser's session, sent to the IdP
/// with the Redirect binding. `mock_identity` / `mock_loa` are passed through to the mock
/// broker (outside the signed octets) so a test can log in without the chooser page.
async fn login(State(st): St, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let now = OffsetDateTime::now_utc();
    let request_id = format!("_{}", uuid::Uuid::new_v4().simple());
    let extras: Vec<(String, String)> =
        url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
            .into_owned()
            .filter(|(k, _)| k == "mock_identity" || k == "mock_loa")
            .collect();
    let location = match super::authn_request::redirect_url(&st, &request_id, now, &extras) {
        Ok(l) => l,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot build the AuthnRequest: {e}"),
            )
                .into_response();
        }
    };
    let sid = st
        .sessions
        .add_request(session_id(&st, &headers).as_deref(), &request_id, now);
    let mut resp = (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    let (k, v) = set_cookie(&st, &sid);
    resp.headers_mut().insert(k, v);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn rejected(st: &SpState, r: &Rejection) -> Response {
    st.record_rejection(r.clone());
    let status = if st.has(Flaw::ErrorPageWith200) {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let body = page(
        "Login refused",
        &format!(
            r#"<p id="error" data-check="{}">{}</p><p><a href="/login">Try again</a></p>"#,
            escape_attr(r.check.id()),
            escape_text(&r.detail)
        ),
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn acs_post(State(st): St, headers: HeaderMap, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ACS_BODY).await else {
        let r = Rejection::new(
            super::Check::Message,
            format!("the POST body exceeds {MAX_ACS_BODY} bytes"),
        );
        return rejected(&st, &r);
    };
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let responses: Vec<&str> = fields
        .iter()
        .filter(|(k, _)| k == "SAMLResponse")
        .map(|(_, v)| v.as_str())
        .collect();
    let [saml_response] = responses.as_slice() else {
        let r = Rejection::new(
            super::Check::Message,
            format!(
                "expected exactly one SAMLResponse form field, got {}",
                responses.len()
            ),
        );
        return rejected(&st, &r);
    };
    let sid = session_id(&st, &headers);
    let now = OffsetDateTime::now_utc();
    let outstanding = st.sessions.outstanding(sid.as_deref(), now);
    let (result, answered) = acs::consume(&st, saml_response, &outstanding).await;
    match result {
        Err(r) => {
            // A request gets one answer: a rejected one uses it up too.
            if let Some(id) = &answered {
                st.sessions.consume_request(sid.as_deref(), id);
            }
            rejected(&st, &r)
        }
        Ok(accepted) => {
            tracing::info!(user = %accepted.login.uuid, loa = %accepted.login.loa, "reference SP: login accepted");
            st.record_login(accepted.login.clone());
            let new_sid =
                st.sessions
                    .log_in(sid.as_deref(), answered.as_deref(), accepted.login, now);
            let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            let (k, v) = set_cookie(&st, &new_sid);
            resp.headers_mut().insert(k, v);
            resp
        }
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"not logged in"}"#,
    )
        .into_response()
}

/// The session oracle: 200 with the logged-in identity, 401 otherwise.
async fn whoami(State(st): St, headers: HeaderMap) -> Response {
    match st.sessions.login(session_id(&st, &headers).as_deref()) {
        Some(l) => axum::Json(l).into_response(),
        None => unauthorized(),
    }
}

async fn protected(State(st): St, headers: HeaderMap) -> Response {
    match st.sessions.login(session_id(&st, &headers).as_deref()) {
        Some(l) => Html(page(
            "Protected",
            &format!("<p>Hello {}.</p>", escape_text(&l.uuid)),
        ))
        .into_response(),
        None => unauthorized(),
    }
}

async fn metadata(State(st): St) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/samlmetadata+xml; charset=utf-8",
        )],
        st.metadata_xml.clone(),
    )
        .into_response()
}

/// `GET /slo`: an IdP-initiated LogoutRequest on the Redirect binding, or (without one) a
/// local logout.
async fn slo_get(State(st): St, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    match super::slo::read_query(&st, q.as_deref().unwrap_or("")) {
        None => logout(State(st), headers).await,
        Some(inbound) => idp_logout(&st, &headers, inbound),
    }
}

/// `POST /slo`: an IdP-initiated LogoutRequest on the POST binding, or a local logout.
async fn slo_post(State(st): St, headers: HeaderMap, body: Body) -> Response {
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ACS_BODY).await else {
        let r = Rejection::new(super::Check::Logout, "the POST body is too large");
        return logout_refused(&st, &r);
    };
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    match super::slo::read_form(&fields) {
        None => logout(State(st), headers).await,
        Some(inbound) => idp_logout(&st, &headers, inbound),
    }
}

/// Check an IdP-initiated LogoutRequest against this browser's session; when it holds, end
/// the session and answer the IdP with a signed LogoutResponse.
fn idp_logout(
    st: &SpState,
    headers: &HeaderMap,
    inbound: Result<super::slo::Inbound, Rejection>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let sid = session_id(st, headers);
    let login = st.sessions.login(sid.as_deref());
    let accepted = inbound
        .and_then(|i| super::slo::check(st, &i, login.as_ref().map(|l| l.name_id.as_str()), now));
    let accepted = match accepted {
        Ok(a) => a,
        Err(r) => return logout_refused(st, &r),
    };
    let url = match super::slo::response_url(st, &accepted, now) {
        Ok(u) => u,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cannot sign the LogoutResponse: {e}"),
            )
                .into_response();
        }
    };
    let mut resp = (StatusCode::FOUND, [(header::LOCATION, url)]).into_response();
    if !st.has(Flaw::SloIgnoresLogout) {
        st.sessions.log_out(sid.as_deref());
        let (k, v) = clear_cookie(st);
        resp.headers_mut().insert(k, v);
    }
    tracing::info!("reference SP: IdP-initiated logout accepted");
    resp
}

fn logout_refused(st: &SpState, r: &Rejection) -> Response {
    st.record_rejection(r.clone());
    let body = page(
        "Logout refused",
        &format!(
            r#"<p id="error" data-check="{}">{}</p>"#,
            escape_attr(r.check.id()),
            escape_text(&r.detail)
        ),
    );
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Local logout: ends this browser's session.
async fn logout(State(st): St, headers: HeaderMap) -> Response {
    st.sessions.log_out(session_id(&st, &headers).as_deref());
    let mut resp = (StatusCode::FOUND, [(header::LOCATION, "/")]).into_response();
    let (k, v) = clear_cookie(&st);
    resp.headers_mut().insert(k, v);
    resp
}
