//! How errors leave the provider: RFC 6749 §5.2 JSON bodies for back-channel endpoints and a
//! plain HTML page for browser-facing failures that must not redirect (unknown client,
//! unregistered redirect URI: the mock is never an open redirector).
//!
//! Each endpoint has its own error enum; each converts to an [`OAuthError`] in one `From` impl,
//! and [`OAuthError`] is the only type that renders a response. Every rendering (JSON or page)
//! also states the code and description in the
//! [`REFUSAL_HEADER`](crate::control::REFUSAL_HEADER), so programs never read the page.

use crate::control::BrokerRefusal;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An OAuth 2.0 error as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status.
    pub status: StatusCode,
    /// The `error` code (`invalid_request`, `invalid_client`, ...).
    pub code: &'static str,
    /// Human-readable `error_description`.
    pub description: String,
    /// `WWW-Authenticate` value for 401 answers.
    pub www_authenticate: Option<String>,
}

impl OAuthError {
    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// Any status and code.
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            code,
            description: description.into(),
            www_authenticate: None,
        }
    }

    /// The refusal as stated in the [`REFUSAL_HEADER`](crate::control::REFUSAL_HEADER).
    pub fn refusal(&self) -> BrokerRefusal {
        BrokerRefusal::new(self.code, self.description.clone())
    }

    /// Add a `WWW-Authenticate` challenge.
    pub fn with_challenge(mut self, challenge: impl Into<String>) -> Self {
        self.www_authenticate = Some(challenge.into());
        self
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.code, "error_description": self.description });
        let mut resp = (self.status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        self.refusal().stamp(h);
        if let Some(c) = self
            .www_authenticate
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            h.insert(header::WWW_AUTHENTICATE, c);
        }
        resp
    }
}

/// Escape text for HTML element content and double-quoted attributes.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A browser-facing error page. It shows the OAuth error code so automation can assert on it,
/// and never redirects. A client that asks for JSON (`Accept: application/json` without
/// `text/html`) gets the RFC 6749 JSON body instead.
pub(crate) fn error_page(err: &OAuthError, wants_json: bool) -> Response {
    if wants_json {
        return err.clone().into_response();
    }
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mock broker: {code}</title></head>\
         <body><h1>Login cannot continue</h1><p>The mock MitID broker refused this request.</p>\
         <p>error: <code id=\"error\">{code}</code></p><p id=\"error_description\">{desc}</p></body></html>\n",
        code = html_escape(err.code),
        desc = html_escape(&err.description),
    );
    let mut resp = html_response(err.status, body);
    err.refusal().stamp(resp.headers_mut());
    resp
}

/// An HTML response that must not be cached or framed.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_page_states_code_and_description_in_the_refusal_header() {
        let err = OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "unknown client \"x\"",
        );
        for wants_json in [false, true] {
            let resp = error_page(&err, wants_json);
            assert_eq!(
                BrokerRefusal::from_headers(resp.headers()),
                Some(BrokerRefusal::new("invalid_client", "unknown client \"x\"")),
                "wants_json={wants_json}"
            );
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
