//! The broker's HTML pages: the shell every page shares (with the MOCK banner, so no one
//! mistakes it for NemLog-in), and the refusal page.
//!
//! [`Refusal`] is the only type that renders a refusal. Each SAML operation has its own
//! rejection enum (`InboundRejection`, `SsoRejection`, `SloRejection`) that says its status
//! and sentence in one `From<_> for Refusal`; handlers return `Result<Response, Refusal>` and
//! convert with `?`. This mirrors the OIDC side, where every endpoint error becomes an
//! [`OAuthError`](crate::oidc::error::OAuthError) and only that renders. Both also state the
//! refusal in the [`REFUSAL_HEADER`](crate::control::REFUSAL_HEADER), for programs: the page
//! is for people.

use crate::control::BrokerRefusal;
use crate::saml::xml::escape_text;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// An HTML page with the broker's banner.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{t}</title>
<style>body{{font-family:sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}} .mock{{background:#fde68a;padding:.3rem .6rem;border-radius:.3rem}} code{{background:#eee;padding:0 .2rem}}</style></head>
<body><p class="mock">MOCK NemLog-in / MitID broker (mitid-harness). Test identities and mock keys only.</p>
<h1>{t}</h1>{body}</body></html>"#,
        t = escape_text(title)
    )
}

/// A refused request: an HTTP status and one sentence saying what was wrong.
///
/// SP developers read these pages while debugging, and tests find the sentence in the page's
/// `<p id="error">`, so the sentence is the whole message and is never wrapped in more text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// HTTP status.
    pub(crate) status: StatusCode,
    /// The sentence shown (escaped when rendered).
    pub(crate) why: String,
}

impl Refusal {
    /// A refusal with any status.
    pub(crate) fn new(status: StatusCode, why: impl Into<String>) -> Self {
        Refusal {
            status,
            why: why.into(),
        }
    }

    /// The code stated in the [`REFUSAL_HEADER`](crate::control::REFUSAL_HEADER): OAuth's
    /// vocabulary, chosen by status (the sentence says the rest).
    pub(crate) fn code(&self) -> &'static str {
        match self.status {
            StatusCode::FORBIDDEN => "access_denied",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            s if s.is_server_error() => "server_error",
            _ => "invalid_request",
        }
    }
}

impl IntoResponse for Refusal {
    /// Logged at `warn` (the operator sees refusals without opening the page), then rendered.
    fn into_response(self) -> Response {
        tracing::warn!(status = self.status.as_u16(), "refused: {}", self.why);
        let refusal = BrokerRefusal::new(self.code(), self.why.clone());
        let mut resp = (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            Html(page(
                "Request refused",
                &format!("<p id=\"error\">{}</p>", escape_text(&self.why)),
            )),
        )
            .into_response();
        refusal.stamp(resp.headers_mut());
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refusal_is_an_escaped_sentence_in_the_error_paragraph() {
        let resp = Refusal::new(StatusCode::BAD_REQUEST, "Issuer \"<x>\" & co").into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("<title>Request refused</title>"), "{body}");
        assert!(
            body.contains("<p id=\"error\">Issuer \"&lt;x&gt;\" &amp; co</p>"),
            "{body}"
        );
        assert!(body.contains("MOCK NemLog-in"), "{body}");
    }

    #[test]
    fn a_refusal_states_code_and_sentence_in_the_refusal_header() {
        let resp = Refusal::new(StatusCode::BAD_REQUEST, "Issuer \"<x>\" & co").into_response();
        assert_eq!(
            BrokerRefusal::from_headers(resp.headers()),
            Some(BrokerRefusal::new("invalid_request", "Issuer \"<x>\" & co"))
        );
        let resp = Refusal::new(StatusCode::FORBIDDEN, "loopback only").into_response();
        assert_eq!(
            BrokerRefusal::from_headers(resp.headers()).map(|r| r.code),
            Some("access_denied".to_string())
        );
    }
}
