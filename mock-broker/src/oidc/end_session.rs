//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). The mock keeps no browser
//! session, so logging out only means sending the browser back, and only to a
//! `post_logout_redirect_uri` registered for the client by exact string match.

use super::error::{OAuthError, error_page, html_response};
use super::params::{self, ParamError, Params};
use super::router::IssuerCtx;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a logout request was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EndSessionError {
    #[error(transparent)]
    Params(#[from] ParamError),
    #[error("post_logout_redirect_uri needs client_id or an id_token_hint naming the client")]
    NoClient,
    #[error("unknown client {0:?}")]
    UnknownClient(String),
    #[error("post_logout_redirect_uri {0:?} is not registered for this client")]
    Unregistered(String),
}

impl From<EndSessionError> for OAuthError {
    fn from(e: EndSessionError) -> Self {
        match e {
            EndSessionError::Params(p) => p.into(),
            _ => OAuthError::invalid_request(e.to_string()),
        }
    }
}

/// The audience of an ID token hint, read without verification (it only picks the client
/// whose registered URIs are then matched exactly).
fn hint_client(hint: &str) -> Option<String> {
    let payload = hint.split('.').nth(1)?;
    let raw = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    match v.get("aud")? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(a) => a.first()?.as_str().map(String::from),
        _ => None,
    }
}

/// The broker session id (`neb_sid`, Idura's `sessionindex`, or `sid`) of an ID token hint,
/// read without verification: it only marks which flow's logout this was.
fn hint_session(hint: &str) -> Option<String> {
    let payload = hint.split('.').nth(1)?;
    let raw = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    ["neb_sid", "sessionindex", "sid"]
        .iter()
        .find_map(|k| v.get(*k)?.as_str().map(String::from))
}

/// `GET|POST {issuer}/connect/endsession` (or `/oidc/logout`).
pub(crate) async fn end_session(State(ctx): State<IssuerCtx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let wants_json = params::wants_json(&parts.headers);
    let parsed = if parts.method == Method::POST {
        params::read_form(&parts.headers, body).await
    } else {
        Params::parse(parts.uri.query().unwrap_or("").as_bytes())
    };
    if let Some(sid) = parsed
        .as_ref()
        .ok()
        .and_then(|p| p.get("id_token_hint"))
        .and_then(hint_session)
    {
        ctx.p.record_end_session(ctx.issuer, &sid);
    }
    let result = parsed.map_err(EndSessionError::from).and_then(|p| {
        let Some(target) = p.get("post_logout_redirect_uri") else {
            return Ok(None);
        };
        let client_id = p
            .get("client_id")
            .map(String::from)
            .or_else(|| p.get("id_token_hint").and_then(hint_client))
            .ok_or(EndSessionError::NoClient)?;
        let iss = &ctx.p.issuers[ctx.issuer];
        let client = ctx
            .p
            .clients
            .get(&client_id)
            .filter(|c| c.registered_at(&iss.cfg.id))
            .ok_or_else(|| EndSessionError::UnknownClient(client_id.clone()))?;
        if !client
            .cfg
            .post_logout_redirect_uris
            .iter()
            .any(|u| u == target)
        {
            return Err(EndSessionError::Unregistered(target.to_string()));
        }
        let mut u = url::Url::parse(target)
            .map_err(|_| EndSessionError::Unregistered(target.to_string()))?;
        if let Some(state) = p.get("state") {
            u.query_pairs_mut().append_pair("state", state);
        }
        Ok(Some(u.to_string()))
    });
    match result {
        Ok(Some(loc)) => {
            let mut resp = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&loc) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Ok(None) => html_response(
            StatusCode::OK,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Logged out</title></head>\
             <body><h1>You are logged out of the mock MitID broker.</h1></body></html>\n"
                .to_string(),
        ),
        Err(e) => error_page(&e.into(), wants_json),
    }
}
