//! The SAML endpoints' HTTP side: IdP metadata, and the one SSO/SLO URL (NemLog-in's
//! metadata lists the same location for both) on the HTTP-Redirect binding (GET) and the
//! HTTP-POST binding (POST, logout only).
//!
//! Reading the message off the binding is one operation with its own rejection,
//! [`InboundRejection`]; what the message then asks for is SSO ([`super::sso`]) or SLO
//! ([`super::slo`]). Nothing here panics on input: query strings and bodies are size-capped
//! before parsing, and XML goes through the hardened parser.

use super::oiosaml4::OiosamlVersion;
use super::redirect::{self, RedirectError, RedirectMessage};
use super::xml::{XmlError, escape_attr, parse_untrusted};
use super::{slo, sso};
use crate::broker::BrokerState;
use crate::page::Refusal;
use crate::server::BodyTooLarge;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::Arc;

/// Why no SAML message could be read from a request to the SSO/SLO endpoint.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InboundRejection {
    /// The Redirect-binding query could not be decoded (too long, bad encoding, deflate
    /// bomb, ...).
    #[error(transparent)]
    Redirect(#[from] RedirectError),
    /// A GET without `SAMLRequest` or `SAMLResponse`: someone opened the URL in a browser.
    #[error(
        "no SAMLRequest parameter: this is the SSO/SLO endpoint of the HTTP-Redirect binding; start the login at your SP"
    )]
    NoSamlRequest,
    /// The POST body is over the cap.
    #[error(transparent)]
    BodyTooLarge(#[from] BodyTooLarge),
    /// A POST without `SAMLRequest` or `SAMLResponse`.
    #[error("POST to the SLO endpoint needs a SAMLRequest or SAMLResponse form field")]
    NoMessageField,
    /// The POST field is not base64.
    #[error("{param} is not valid base64: {why}")]
    NotBase64 {
        /// `SAMLRequest` or `SAMLResponse`.
        param: &'static str,
        /// The decoder's complaint.
        why: String,
    },
    /// The POST field does not decode to UTF-8.
    #[error("{param} is not UTF-8")]
    NotUtf8 {
        /// `SAMLRequest` or `SAMLResponse`.
        param: &'static str,
    },
    /// The request's XML was refused by the hardened parser.
    #[error("{param} XML refused: {error}")]
    Xml {
        /// `SAMLRequest` (the only request parameter parsed here).
        param: &'static str,
        /// Why.
        error: XmlError,
    },
    /// An AuthnRequest on the POST binding.
    #[error(
        "SSO is offered on the HTTP-Redirect binding only (as NemLog-in does); send the AuthnRequest with GET"
    )]
    AuthnRequestOnPost,
    /// A request other than AuthnRequest or LogoutRequest on the Redirect binding.
    #[error("unexpected SAML message {0} on the SSO/SLO endpoint")]
    UnexpectedOnRedirect(String),
    /// A request other than LogoutRequest on the POST binding.
    #[error("unexpected SAML message {0}")]
    UnexpectedOnPost(String),
}

impl InboundRejection {
    /// Every unreadable message is the sender's fault.
    fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            InboundRejection::Redirect(_)
            | InboundRejection::NoSamlRequest
            | InboundRejection::BodyTooLarge(_)
            | InboundRejection::NoMessageField
            | InboundRejection::NotBase64 { .. }
            | InboundRejection::NotUtf8 { .. }
            | InboundRejection::Xml { .. }
            | InboundRejection::AuthnRequestOnPost
            | InboundRejection::UnexpectedOnRedirect(_)
            | InboundRejection::UnexpectedOnPost(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<InboundRejection> for Refusal {
    fn from(e: InboundRejection) -> Self {
        Refusal::new(e.status(), e.to_string())
    }
}

/// A message read off the Redirect binding, by what it asks for.
#[derive(Debug)]
pub(crate) enum RedirectInbound {
    AuthnRequest(RedirectMessage),
    LogoutRequest(RedirectMessage),
    LogoutResponse(RedirectMessage),
}

/// A message read off the POST binding.
#[derive(Debug)]
pub(crate) enum PostInbound {
    LogoutRequest {
        xml: String,
        relay_state: Option<String>,
    },
    LogoutResponse {
        xml: String,
    },
}

/// Read the Redirect binding: a `SAMLResponse` is an SP's LogoutResponse; a `SAMLRequest` is
/// told apart by its root element.
pub(crate) fn read_query(query: &str) -> Result<RedirectInbound, InboundRejection> {
    if query.len() > redirect::MAX_QUERY {
        return Err(RedirectError::TooLong(query.len()).into());
    }
    let has = |p: &str| query.split('&').any(|kv| kv.split('=').next() == Some(p));
    if has("SAMLResponse") {
        let msg = redirect::decode_query(query, "SAMLResponse")?;
        return Ok(RedirectInbound::LogoutResponse(msg));
    }
    if !has("SAMLRequest") {
        return Err(InboundRejection::NoSamlRequest);
    }
    let msg = redirect::decode_query(query, "SAMLRequest")?;
    let root = parse_untrusted(&msg.xml)
        .map(|d| d.root_element().tag_name().name().to_string())
        .map_err(|error| InboundRejection::Xml {
            param: "SAMLRequest",
            error,
        })?;
    match root.as_str() {
        "AuthnRequest" => Ok(RedirectInbound::AuthnRequest(msg)),
        "LogoutRequest" => Ok(RedirectInbound::LogoutRequest(msg)),
        other => Err(InboundRejection::UnexpectedOnRedirect(other.to_string())),
    }
}

/// Read the POST binding (base64, no DEFLATE): only logout messages arrive this way.
pub(crate) fn read_form(bytes: &[u8]) -> Result<PostInbound, InboundRejection> {
    let f = form_fields(bytes);
    let (param, value) = match (field(&f, "SAMLRequest"), field(&f, "SAMLResponse")) {
        (Some(v), _) => ("SAMLRequest", v),
        (None, Some(v)) => ("SAMLResponse", v),
        (None, None) => return Err(InboundRejection::NoMessageField),
    };
    let bytes = B64
        .decode(value.trim().as_bytes())
        .map_err(|e| InboundRejection::NotBase64 {
            param,
            why: e.to_string(),
        })?;
    let xml = String::from_utf8(bytes).map_err(|_| InboundRejection::NotUtf8 { param })?;
    if param == "SAMLResponse" {
        return Ok(PostInbound::LogoutResponse { xml });
    }
    let root = parse_untrusted(&xml)
        .map(|d| d.root_element().tag_name().name().to_string())
        .map_err(|error| InboundRejection::Xml { param, error })?;
    match root.as_str() {
        "AuthnRequest" => Err(InboundRejection::AuthnRequestOnPost),
        "LogoutRequest" => Ok(PostInbound::LogoutRequest {
            xml,
            relay_state: field(&f, "RelayState").map(str::to_string),
        }),
        other => Err(InboundRejection::UnexpectedOnPost(other.to_string())),
    }
}

/// `GET` on the 3.0.3 SSO/SLO URL: the HTTP-Redirect binding.
pub(crate) async fn sso_get(
    State(st): State<Arc<BrokerState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    redirect_binding(&st, &uri, &headers, OiosamlVersion::V3)
}

/// `GET` on the OIOSAML 4.0 SSO/SLO URL.
pub(crate) async fn sso4_get(
    State(st): State<Arc<BrokerState>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    redirect_binding(&st, &uri, &headers, OiosamlVersion::V4)
}

/// `POST` on the OIOSAML 4.0 SSO/SLO URL.
pub(crate) async fn sso4_post(State(st): State<Arc<BrokerState>>, body: Body) -> Response {
    post_binding(&st, body, OiosamlVersion::V4).await
}

/// The HTTP-Redirect binding on the SSO/SLO URL of `version`; an AuthnRequest is answered
/// with the browser's SSO session (its cookie in `headers`).
fn redirect_binding(
    st: &Arc<BrokerState>,
    uri: &Uri,
    headers: &HeaderMap,
    version: OiosamlVersion,
) -> Response {
    let query = uri.query().unwrap_or("");
    let answer = match read_query(query) {
        Err(e) => Err(Refusal::from(e)),
        Ok(RedirectInbound::AuthnRequest(msg)) => {
            let cookie = super::sso_session::cookie_value(headers);
            sso::authn_request_received(st, &msg, query, version, cookie.as_deref())
                .map_err(Refusal::from)
        }
        Ok(RedirectInbound::LogoutRequest(msg)) => {
            slo::logout_request_redirect(st, &msg).map_err(Refusal::from)
        }
        Ok(RedirectInbound::LogoutResponse(msg)) => {
            super::idp_logout::response_received(st, &msg.xml, Some(&msg));
            slo::logout_response_received(&msg.xml).map_err(Refusal::from)
        }
    };
    answer.into_response()
}

/// `POST` on the SSO/SLO URL: the HTTP-POST binding (logout only, as at NemLog-in).
pub(crate) async fn sso_post(State(st): State<Arc<BrokerState>>, body: Body) -> Response {
    post_binding(&st, body, OiosamlVersion::V3).await
}

/// The HTTP-POST binding on the SSO/SLO URL of `version`.
async fn post_binding(st: &Arc<BrokerState>, body: Body, _version: OiosamlVersion) -> Response {
    let answer = match read_body(body).await.and_then(|b| read_form(&b)) {
        Err(e) => Err(Refusal::from(e)),
        Ok(PostInbound::LogoutResponse { xml }) => {
            super::idp_logout::response_received(st, &xml, None);
            slo::logout_response_received(&xml).map_err(Refusal::from)
        }
        Ok(PostInbound::LogoutRequest { xml, relay_state }) => {
            // Logout is the same operation on both versions' URL (SessionIndex, signature).
            slo::logout_request_post(st, &xml, relay_state.as_deref()).map_err(Refusal::from)
        }
    };
    answer.into_response()
}

async fn read_body(body: Body) -> Result<Vec<u8>, InboundRejection> {
    Ok(crate::server::read_capped(body).await?)
}

/// Render the IdP metadata.
pub(crate) fn metadata_xml(st: &BrokerState) -> String {
    idp_metadata_xml(&st.entity_id, &st.sso_url, &st.keys)
}

/// The IdP metadata of a broker with this entityID, SSO (= SLO) URL and keys: what a running
/// broker serves, and what `--print-metadata` prints without starting one.
pub(crate) fn idp_metadata_xml(
    entity_id: &str,
    sso_url: &str,
    keys: &crate::saml::mint::SigningKeys,
) -> String {
    let certs = vec![keys.idp.cert_b64.clone(), keys.idp_next.cert_b64.clone()];
    super::idp_metadata::write_idp_metadata(&super::idp_metadata::IdpMetadataParams {
        entity_id,
        sso_url,
        slo_url: sso_url,
        signing_certs_b64: &certs,
        valid_until: None,
        oiosaml4: false,
    })
}

/// Render the OIOSAML 4.0 IdP metadata.
pub(crate) fn metadata4_xml(st: &BrokerState) -> String {
    idp_metadata4_xml(&st.entity_id, &st.sso4_url, &st.keys)
}

/// The OIOSAML 4.0 IdP metadata: the same entityID and keys, the 4.0 SSO (= SLO) URL.
pub(crate) fn idp_metadata4_xml(
    entity_id: &str,
    sso_url: &str,
    keys: &crate::saml::mint::SigningKeys,
) -> String {
    let certs = vec![keys.idp.cert_b64.clone(), keys.idp_next.cert_b64.clone()];
    super::idp_metadata::write_idp_metadata(&super::idp_metadata::IdpMetadataParams {
        entity_id,
        sso_url,
        slo_url: sso_url,
        signing_certs_b64: &certs,
        valid_until: None,
        oiosaml4: true,
    })
}

/// `GET` the OIOSAML 4.0 IdP metadata.
pub(crate) async fn metadata4(State(st): State<Arc<BrokerState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/samlmetadata+xml; charset=utf-8",
        )],
        metadata4_xml(&st),
    )
        .into_response()
}

/// `GET` the IdP metadata.
pub(crate) async fn metadata(State(st): State<Arc<BrokerState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/samlmetadata+xml; charset=utf-8",
        )],
        metadata_xml(&st),
    )
        .into_response()
}

/// The HTTP-POST binding's auto-submitting form: how responses reach the SP's ACS, and
/// LogoutResponses its POST SingleLogoutService.
pub(crate) fn auto_post(
    action: &str,
    param: &str,
    value: &str,
    relay_state: Option<&str>,
) -> Response {
    let relay = relay_state
        .map(|r| {
            format!(
                r#"<input type="hidden" name="RelayState" value="{}">"#,
                escape_attr(r)
            )
        })
        .unwrap_or_default();
    let html = format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>mock NemLog-in: continue</title></head>
<body onload="document.forms[0].submit()"><p>MOCK NemLog-in broker: sending you back to the service.</p>
<form method="post" action="{}"><input type="hidden" name="{}" value="{}">{relay}<noscript><button type="submit">Continue</button></noscript></form></body></html>"#,
        escape_attr(action),
        escape_attr(param),
        escape_attr(value)
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Html(html),
    )
        .into_response()
}

/// `application/x-www-form-urlencoded` fields in order.
pub(crate) fn form_fields(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

/// The first field named `name`.
pub(crate) fn field<'a>(f: &'a [(String, String)], name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into_bytes()
    }

    #[test]
    fn the_redirect_binding_is_told_apart_by_parameter_and_root() {
        let q = |xml: &str| redirect::encode_query("SAMLRequest", xml, None, None).unwrap();
        assert!(matches!(
            read_query(&q(r#"<samlp:AuthnRequest xmlns:samlp="urn:x"/>"#)),
            Ok(RedirectInbound::AuthnRequest(_))
        ));
        assert!(matches!(
            read_query(&q("<LogoutRequest/>")),
            Ok(RedirectInbound::LogoutRequest(_))
        ));
        let r = redirect::encode_query("SAMLResponse", "<anything/>", None, None).unwrap();
        assert!(matches!(
            read_query(&r),
            Ok(RedirectInbound::LogoutResponse(_))
        ));
        assert!(matches!(
            read_query(&q("<ArtifactResolve/>")),
            Err(InboundRejection::UnexpectedOnRedirect(r)) if r == "ArtifactResolve"
        ));
        assert!(matches!(
            read_query(""),
            Err(InboundRejection::NoSamlRequest)
        ));
        assert!(matches!(
            read_query(&"A".repeat(redirect::MAX_QUERY + 1)),
            Err(InboundRejection::Redirect(RedirectError::TooLong(_)))
        ));
        assert!(matches!(
            read_query(&q("<!DOCTYPE x><x/>")),
            Err(InboundRejection::Xml {
                param: "SAMLRequest",
                error: XmlError::Doctype
            })
        ));
    }

    #[test]
    fn the_post_binding_carries_logout_only() {
        let b64 = |s: &str| B64.encode(s);
        assert!(matches!(
            read_form(&form(&[
                ("SAMLRequest", &b64("<LogoutRequest/>")),
                ("RelayState", "rs")
            ])),
            Ok(PostInbound::LogoutRequest { relay_state: Some(r), .. }) if r == "rs"
        ));
        assert!(matches!(
            read_form(&form(&[("SAMLResponse", &b64("not even xml"))])),
            Ok(PostInbound::LogoutResponse { .. })
        ));
        assert!(matches!(
            read_form(&form(&[("SAMLRequest", &b64("<AuthnRequest/>"))])),
            Err(InboundRejection::AuthnRequestOnPost)
        ));
        assert!(matches!(
            read_form(&form(&[("SAMLRequest", "!!!")])),
            Err(InboundRejection::NotBase64 {
                param: "SAMLRequest",
                ..
            })
        ));
        assert!(matches!(
            read_form(&form(&[("SAMLResponse", &B64.encode([0xff, 0xfe]))])),
            Err(InboundRejection::NotUtf8 {
                param: "SAMLResponse"
            })
        ));
        assert!(matches!(
            read_form(&form(&[("foo", "bar")])),
            Err(InboundRejection::NoMessageField)
        ));
    }

    #[test]
    fn rejections_keep_their_sentences() {
        // The pages SP developers see (and tests/saml_bad_input.rs reads) say exactly this.
        for (e, text) in [
            (
                InboundRejection::NoMessageField,
                "POST to the SLO endpoint needs a SAMLRequest or SAMLResponse form field",
            ),
            (
                InboundRejection::NotUtf8 {
                    param: "SAMLRequest",
                },
                "SAMLRequest is not UTF-8",
            ),
            (
                InboundRejection::UnexpectedOnPost("Foo".into()),
                "unexpected SAML message Foo",
            ),
            (
                InboundRejection::Redirect(RedirectError::TooLong(60_000)),
                "query string is 60000 bytes; the limit is 49152",
            ),
        ] {
            let r = Refusal::from(e);
            assert_eq!(r.status, axum::http::StatusCode::BAD_REQUEST);
            assert_eq!(r.why, text);
        }
    }
}
