//! Single logout, SP-initiated: a signed LogoutRequest on the Redirect or POST binding ends the
//! broker session and is answered with a signed LogoutResponse on the SP's own SLO binding;
//! an SP's LogoutResponse is acknowledged. Every refusal is an [`SloRejection`].

use super::endpoint::auto_post;
use super::ns;
use super::redirect::{self, RedirectError, RedirectMessage, SigAlg};
use super::sp_metadata::SpMetadata;
use super::xml::{XmlError, escape_attr, escape_text, parse_untrusted, text_of};
use super::xmlsec::{EnvelopedSignatureError, XmlSecError, XmlSigner, XmlVerifier};
use crate::broker::BrokerState;
use crate::page::{Refusal, page};
use crate::pki::PkiError;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How long after its `NotOnOrAfter` a LogoutRequest is still honoured (clock skew).
const LOGOUT_GRACE: time::Duration = time::Duration::minutes(5);

/// Why a logout message was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SloRejection {
    /// The LogoutRequest XML was refused by the hardened parser.
    #[error("LogoutRequest XML refused: {0}")]
    Xml(XmlError),
    /// The root is not `samlp:LogoutRequest`.
    #[error("expected samlp:LogoutRequest")]
    NotLogoutRequest,
    /// No `ID`.
    #[error("LogoutRequest has no ID")]
    NoId,
    /// No `Issuer`.
    #[error("LogoutRequest has no Issuer")]
    NoIssuer,
    /// `NotOnOrAfter` is past, beyond the grace period.
    #[error("LogoutRequest expired (NotOnOrAfter {0})")]
    Expired(String),
    /// The Issuer is not a registered SP.
    #[error("unknown SP {0:?} in LogoutRequest")]
    UnknownSp(String),
    /// The Redirect-binding signature is missing, SHA-1, or does not verify.
    #[error(transparent)]
    RedirectSignature(RedirectError),
    /// A POST-binding LogoutRequest without a signature.
    #[error("the LogoutRequest is not signed; NemLog-in requires signed logout requests")]
    Unsigned,
    /// A signature verifies, but over something other than the LogoutRequest.
    #[error("the signature does not cover the LogoutRequest element")]
    SignatureElsewhere,
    /// No signature verifies with the SP's certificates.
    #[error("the LogoutRequest signature does not verify with the SP's signing certificates")]
    SignatureInvalid,
    /// Signing the Redirect-binding LogoutResponse failed.
    #[error(transparent)]
    SignRedirect(PkiError),
    /// Signing the POST-binding LogoutResponse failed.
    #[error(transparent)]
    SignPost(XmlSecError),
    /// The SP's SLO location cannot be a `Location` header.
    #[error("cannot build redirect")]
    RedirectLocation,
    /// The SP's LogoutResponse XML was refused by the hardened parser.
    #[error("SAMLResponse XML refused: {0}")]
    ResponseXml(XmlError),
    /// A `SAMLResponse` that is not a LogoutResponse.
    #[error("expected a LogoutResponse")]
    NotLogoutResponse,
}

impl SloRejection {
    /// All 400, as they always were (signing failures included: the page is where the
    /// developer is looking).
    fn status(&self) -> StatusCode {
        match self {
            SloRejection::Xml(_)
            | SloRejection::NotLogoutRequest
            | SloRejection::NoId
            | SloRejection::NoIssuer
            | SloRejection::Expired(_)
            | SloRejection::UnknownSp(_)
            | SloRejection::RedirectSignature(_)
            | SloRejection::Unsigned
            | SloRejection::SignatureElsewhere
            | SloRejection::SignatureInvalid
            | SloRejection::SignRedirect(_)
            | SloRejection::SignPost(_)
            | SloRejection::RedirectLocation
            | SloRejection::ResponseXml(_)
            | SloRejection::NotLogoutResponse => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<SloRejection> for Refusal {
    fn from(e: SloRejection) -> Self {
        Refusal::new(e.status(), e.to_string())
    }
}

/// The parts of a LogoutRequest the broker uses.
#[derive(Debug)]
struct LogoutRequestInfo {
    id: String,
    issuer: String,
    session_index: Option<String>,
}

/// Parse a LogoutRequest, refusing one whose `NotOnOrAfter` is more than [`LOGOUT_GRACE`]
/// before `now` (the broker's clock).
fn parse_logout_request(xml: &str, now: OffsetDateTime) -> Result<LogoutRequestInfo, SloRejection> {
    let doc = parse_untrusted(xml).map_err(SloRejection::Xml)?;
    let root = doc.root_element();
    if root.tag_name().name() != "LogoutRequest" || root.tag_name().namespace() != Some(ns::SAMLP) {
        return Err(SloRejection::NotLogoutRequest);
    }
    let id = root.attribute("ID").ok_or(SloRejection::NoId)?.to_string();
    let issuer = super::xml::child(root, ns::SAML, "Issuer")
        .map(|n| text_of(n).trim().to_string())
        .ok_or(SloRejection::NoIssuer)?;
    let session_index =
        super::xml::child(root, ns::SAMLP, "SessionIndex").map(|n| text_of(n).trim().to_string());
    if let Some(na) = root.attribute("NotOnOrAfter")
        && let Ok(t) = OffsetDateTime::parse(na, &Rfc3339)
        && t < now - LOGOUT_GRACE
    {
        return Err(SloRejection::Expired(na.to_string()));
    }
    Ok(LogoutRequestInfo {
        id,
        issuer,
        session_index,
    })
}

fn logout_response_xml(
    st: &BrokerState,
    in_response_to: &str,
    destination: &str,
    with_sig_template: bool,
) -> String {
    let id = st.ids.next("lr");
    let now = super::response::fmt_instant(st.clock.now());
    let sig = if with_sig_template {
        super::response::signature_template(&id, Some(&st.keys.idp.cert_b64), false)
    } else {
        String::new()
    };
    format!(
        r#"<samlp:LogoutResponse xmlns:samlp="{}" xmlns:saml="{}" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{}" InResponseTo="{}"><saml:Issuer>{}</saml:Issuer>{sig}<samlp:Status><samlp:StatusCode Value="{}"/></samlp:Status></samlp:LogoutResponse>"#,
        ns::SAMLP,
        ns::SAML,
        escape_attr(destination),
        escape_attr(in_response_to),
        escape_text(&st.entity_id),
        ns::STATUS_SUCCESS
    )
}

/// Whether [`parse_logout_request`] accepts `xml` at `now` (for the fuzz targets, which see
/// no private types).
pub(crate) fn logout_request_info(xml: &str, now: OffsetDateTime) -> bool {
    parse_logout_request(xml, now).is_ok()
}

/// A LogoutRequest on the Redirect binding: the query signature must verify.
pub(crate) fn logout_request_redirect(
    st: &Arc<BrokerState>,
    msg: &RedirectMessage,
) -> Result<Response, SloRejection> {
    let info = parse_logout_request(&msg.xml, st.clock.now())?;
    let sp = st
        .sp(&info.issuer)
        .ok_or_else(|| SloRejection::UnknownSp(info.issuer.clone()))?;
    super::sso::verify_redirect_signature(st, &sp, msg).map_err(SloRejection::RedirectSignature)?;
    finish_logout(st, &sp, &info, msg.relay_state.as_deref())
}

/// A LogoutRequest on the POST binding: its enveloped signature must verify and cover it.
pub(crate) fn logout_request_post(
    st: &Arc<BrokerState>,
    xml: &str,
    relay_state: Option<&str>,
) -> Result<Response, SloRejection> {
    let info = parse_logout_request(xml, st.clock.now())?;
    let sp = st
        .sp(&info.issuer)
        .ok_or_else(|| SloRejection::UnknownSp(info.issuer.clone()))?;
    // A cheap first test so an unsigned request gets the precise sentence.
    if !xml.contains("Signature") {
        return Err(SloRejection::Unsigned);
    }
    st.xml_verifier
        .verify_enveloped(xml, &info.id, &sp.signing_certs)
        .map_err(|e| match e {
            EnvelopedSignatureError::WrongElement => SloRejection::SignatureElsewhere,
            EnvelopedSignatureError::NoValidSignature => SloRejection::SignatureInvalid,
        })?;
    finish_logout(st, &sp, &info, relay_state)
}

/// End the session and answer on the SP's SLO binding: Redirect if it has one, else POST,
/// else a page.
fn finish_logout(
    st: &Arc<BrokerState>,
    sp: &SpMetadata,
    info: &LogoutRequestInfo,
    relay: Option<&str>,
) -> Result<Response, SloRejection> {
    if let Some(si) = &info.session_index {
        st.end_session(&sp.entity_id, si);
    }
    tracing::info!(sp = %sp.entity_id, "SP-initiated logout");
    if let Some(ep) = sp.slo.iter().find(|e| e.binding == ns::BINDING_REDIRECT) {
        let dest = ep
            .response_location
            .clone()
            .unwrap_or_else(|| ep.location.clone());
        let xml = logout_response_xml(st, &info.id, &dest, false);
        let q = redirect::encode_query(
            "SAMLResponse",
            &xml,
            relay,
            Some((&st.keys.idp.signer, SigAlg::RsaSha256)),
        )
        .map_err(SloRejection::SignRedirect)?;
        let sep = if dest.contains('?') { '&' } else { '?' };
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, format!("{dest}{sep}{q}"))
            .body(Body::empty())
            .map_err(|_| SloRejection::RedirectLocation);
    }
    if let Some(ep) = sp.slo.iter().find(|e| e.binding == ns::BINDING_POST) {
        let dest = ep
            .response_location
            .clone()
            .unwrap_or_else(|| ep.location.clone());
        let tpl = logout_response_xml(st, &info.id, &dest, true);
        let signed = st
            .xml_signer
            .sign_enveloped(tpl, &st.keys.idp.signer, false)
            .map_err(SloRejection::SignPost)?;
        return Ok(auto_post(&dest, "SAMLResponse", &B64.encode(signed), relay));
    }
    Ok(Html(page(
        "Logged out",
        "<p>The SP has no SingleLogoutService in its metadata; the broker session is ended.</p>",
    ))
    .into_response())
}

/// An SP's LogoutResponse (to a logout the broker started): acknowledged with a page.
pub(crate) fn logout_response_received(xml: &str) -> Result<Response, SloRejection> {
    let doc = parse_untrusted(xml).map_err(SloRejection::ResponseXml)?;
    if doc.root_element().tag_name().name() != "LogoutResponse" {
        return Err(SloRejection::NotLogoutResponse);
    }
    Ok(Html(page("Logged out", "<p>The SP confirmed the logout.</p>")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logout_request(extra_attrs: &str) -> String {
        format!(
            r#"<samlp:LogoutRequest xmlns:samlp="{}" xmlns:saml="{}" ID="_lo" Version="2.0" IssueInstant="2026-01-01T12:00:00Z"{extra_attrs}><saml:Issuer> https://sp.example </saml:Issuer><saml:NameID>x</saml:NameID><samlp:SessionIndex>_s-1</samlp:SessionIndex></samlp:LogoutRequest>"#,
            ns::SAMLP,
            ns::SAML
        )
    }

    #[test]
    fn logout_requests_expire_on_the_given_clock() {
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        let info = parse_logout_request(&logout_request(""), now).unwrap();
        assert_eq!(
            (info.id.as_str(), info.issuer.as_str()),
            ("_lo", "https://sp.example")
        );
        assert_eq!(info.session_index.as_deref(), Some("_s-1"));
        let stale = logout_request(r#" NotOnOrAfter="2026-01-01T11:50:00Z""#);
        // Ten minutes late is refused on a clock at noon, but not on one ten minutes earlier:
        // the broker's clock decides, not the machine's.
        assert!(matches!(
            parse_logout_request(&stale, now),
            Err(SloRejection::Expired(na)) if na == "2026-01-01T11:50:00Z"
        ));
        assert!(parse_logout_request(&stale, now - time::Duration::minutes(10)).is_ok());
    }

    #[test]
    fn malformed_logout_requests() {
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        assert!(matches!(
            parse_logout_request("<LogoutRequest/>", now),
            Err(SloRejection::NotLogoutRequest)
        ));
        assert!(matches!(
            parse_logout_request(&logout_request("").replace(" ID=\"_lo\"", ""), now),
            Err(SloRejection::NoId)
        ));
        assert!(matches!(
            parse_logout_request("<!DOCTYPE x><x/>", now),
            Err(SloRejection::Xml(XmlError::Doctype))
        ));
        assert_eq!(
            Refusal::from(SloRejection::SignatureElsewhere).why,
            "the signature does not cover the LogoutRequest element"
        );
    }

    #[test]
    fn logout_responses_are_acknowledged() {
        assert!(logout_response_received("<samlp:LogoutResponse xmlns:samlp=\"urn:x\"/>").is_ok());
        assert!(matches!(
            logout_response_received("<Response/>"),
            Err(SloRejection::NotLogoutResponse)
        ));
        assert!(matches!(
            logout_response_received("nope"),
            Err(SloRejection::ResponseXml(_))
        ));
    }
}
