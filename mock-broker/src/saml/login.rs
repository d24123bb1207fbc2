//! The interactive half of SSO: the login page (choose a test identity and level) and its form
//! post. Automation never needs it (arm the flow, or add `mock_identity` to the SSO URL); a
//! developer clicking through an SP does. Refusals are [`SsoRejection`]s: this is the same
//! operation as the AuthnRequest that led here.

use super::endpoint::{field, form_fields};
use super::sso::{SsoRejection, respond};
use super::xml::{escape_attr, escape_text};
use crate::broker::{BrokerState, FlowRecord};
use crate::nsis::Loa;
use crate::page::{Refusal, page};
use crate::server::read_capped;
use axum::body::Body;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use std::sync::Arc;

/// The login page for an accepted AuthnRequest.
pub(crate) fn chooser(st: &BrokerState, flow: &FlowRecord) -> Response {
    let mut rows = String::new();
    for (n, i) in st.identities.iter().enumerate() {
        let below = flow.requested_loa.is_some_and(|r| i.loa < r);
        let other_profile = flow.requested_profile.is_some_and(|p| p != i.kind);
        let note = match (below, other_profile) {
            (true, _) => " <em>(below the requested LoA)</em>",
            (false, true) => " <em>(other profile than requested)</em>",
            (false, false) => "",
        };
        rows.push_str(&format!(
            r#"<li><label><input type="radio" name="identity" value="{id}"{chk}> <b>{name}</b> — {kind:?}, {loa}{extra}{note}</label></li>"#,
            id = escape_attr(&i.id),
            chk = if n == 0 { " checked" } else { "" },
            name = escape_text(&i.full_name()),
            kind = i.kind,
            loa = i.loa,
            extra = i.cvr.as_deref().map(|c| format!(", CVR {c}")).unwrap_or_default(),
        ));
    }
    let body = format!(
        r#"<p>Service <code>{sp}</code> asks for {loa}{prof}.</p>
<form method="post" action="/login"><input type="hidden" name="flow" value="{flow}">
<ul style="list-style:none;padding:0">{rows}</ul>
<p><label>Level of assurance: <select name="loa"><option value="">the identity's own</option><option>Low</option><option>Substantial</option><option>High</option></select></label></p>
<p><button type="submit">Log in</button></p></form>"#,
        sp = escape_text(&flow.sp_entity_id),
        loa = flow
            .requested_loa
            .map(|l| format!("NSIS LoA {l} or higher"))
            .unwrap_or_else(|| "no particular LoA".into()),
        prof = flow
            .requested_profile
            .map(|p| format!(", {p:?} profile"))
            .unwrap_or_default(),
        flow = escape_attr(&flow.request_id),
    );
    Html(page("Log in with a test identity", &body)).into_response()
}

/// `POST /login`: the login page's form.
pub(crate) async fn login_post(
    State(st): State<Arc<BrokerState>>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Response {
    let cookie = super::sso_session::cookie_value(&headers);
    let answer = match read_capped(body).await {
        Ok(bytes) => login(&st, &bytes, cookie.as_deref()),
        Err(e) => Err(SsoRejection::from(e)),
    };
    answer.map_err(Refusal::from).into_response()
}

/// The user chose an identity on the login page: a fresh authentication, which replaces the
/// browser's SSO session (`sso_cookie`).
fn login(
    st: &Arc<BrokerState>,
    form: &[u8],
    sso_cookie: Option<&str>,
) -> Result<Response, SsoRejection> {
    let f = form_fields(form);
    let flow_id = field(&f, "flow").ok_or(SsoRejection::MissingFlowField)?;
    let flow = st
        .flow(flow_id)
        .ok_or_else(|| SsoRejection::UnknownLoginFlow(flow_id.to_string()))?;
    if flow.response_b64.is_some() {
        return Err(SsoRejection::FlowCompleted);
    }
    let identity = field(&f, "identity")
        .and_then(|i| st.identities.get(i))
        .cloned()
        .ok_or(SsoRejection::UnknownChosenIdentity)?;
    let loa = match field(&f, "loa")
        .filter(|s| !s.is_empty())
        .map(str::parse::<Loa>)
    {
        None => identity.loa,
        Some(l) => l?,
    };
    let sp = st.sp(&flow.sp_entity_id).ok_or(SsoRejection::SpGone)?;
    respond(
        st,
        &sp,
        &flow.request_id,
        &identity,
        loa,
        Default::default(),
        None,
        super::sso::Authn::Fresh {
            replaces: sso_cookie,
        },
    )
}
