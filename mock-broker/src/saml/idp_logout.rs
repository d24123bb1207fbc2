//! Single logout started by the IdP: the broker sends a signed LogoutRequest for one login's
//! session to the SP's SingleLogoutService, and records the SP's LogoutResponse.
//!
//! NemLog-in ends a user's SSO session across every SP it logged the user in to, and SPs must
//! handle the IdP's LogoutRequest on the Redirect, POST and SOAP bindings (digst/OIOSAML.Java
//! `oiosaml/src/main/java/dk/gov/oio/saml/servlet/LogoutRequestHandler.java`: it verifies the
//! request's signature with the IdP metadata, ends the session whose NameID and SessionIndex it
//! names, and answers with a LogoutResponse). The mock sends the two front-channel bindings,
//! through the user's browser (which carries the SP's session cookie); SOAP (a back-channel
//! call the broker would make itself) is not offered.
//!
//! The SLO location comes only from the SP's registered metadata. The message is built as a
//! [`LogoutRequestModel`], takes the logout faults of the dangerous API
//! ([`crate::dangerous::logout`]), is written, signed with the IdP key (Redirect: the query
//! signature; POST: an enveloped signature) and handed to the caller (the harness, over the
//! control API) to deliver in the browser. The SP's LogoutResponse comes back to the SSO/SLO
//! URL, where [`response_received`] records its status and whether its signature verifies
//! with the SP's metadata.

use super::ns;
use super::redirect::{self, RedirectMessage, SigAlg};
use super::xml::{child, escape_attr, escape_text, parse_untrusted};
use super::xmlsec::{XmlSigner, XmlVerifier};
use crate::broker::BrokerState;
use crate::dangerous::SigningKeyChoice;
use crate::dangerous::logout::{
    self, DuplicateOrder, LogoutFault, LogoutFaultContext, LogoutFaultError, LogoutRequestModel,
    LogoutSigning, WrappedPlace,
};
use crate::oidc::error::OAuthError;
use crate::saml::mint::SigningKey;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// How long a LogoutRequest the broker sends is valid (`NotOnOrAfter`). Not found in a public
/// source for NemLog-in (unconfirmed); five minutes matches the SubjectConfirmation lifetime.
pub const LOGOUT_REQUEST_LIFETIME: time::Duration = time::Duration::minutes(5);
/// IdP-initiated logouts remembered (each with its request and the SP's answer).
pub const IDP_LOGOUTS_MAX: usize = 512;
/// How long one is remembered.
pub const IDP_LOGOUTS_TTL: time::Duration = time::Duration::hours(1);

/// The front-channel binding that carries the LogoutRequest to the SP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SloBinding {
    /// HTTP-Redirect (a signed query string).
    #[default]
    Redirect,
    /// HTTP-POST (an auto-submitted form, enveloped signature).
    Post,
}

impl SloBinding {
    /// The binding's URI, as metadata names it.
    pub fn uri(self) -> &'static str {
        match self {
            SloBinding::Redirect => ns::BINDING_REDIRECT,
            SloBinding::Post => ns::BINDING_POST,
        }
    }
}

/// Body of `POST /_mock/saml/logout`: start an IdP-initiated logout of one login's session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpLogoutRequest {
    /// The AuthnRequest ID of the login whose session ends (its flow record names the SP, the
    /// NameID and the SessionIndex).
    pub login_request_id: String,
    /// The binding to send the LogoutRequest on.
    #[serde(default)]
    pub binding: SloBinding,
    /// Deliberate defects in the LogoutRequest.
    #[serde(default)]
    pub faults: Vec<LogoutFault>,
}

/// How the browser delivers the LogoutRequest to the SP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "binding", rename_all = "kebab-case")]
pub enum LogoutDelivery {
    /// GET this URL (the SP's SLO location with the signed query).
    Redirect {
        /// The URL.
        url: String,
    },
    /// POST these form fields to `action` (the SP's SLO location).
    Post {
        /// The form action.
        action: String,
        /// The fields (`SAMLRequest`).
        fields: Vec<(String, String)>,
    },
}

/// Answer to `POST /_mock/saml/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpLogoutStarted {
    /// The LogoutRequest's `ID` (its record is `GET /_mock/saml/logouts/{id}`).
    pub logout_request_id: String,
    /// What the browser must send.
    pub delivery: LogoutDelivery,
}

/// Whether the SP's LogoutResponse was signed with a key from its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseSignature {
    /// It verifies with a signing certificate of the SP's metadata.
    Verified,
    /// It carries no signature.
    Unsigned,
    /// It carries one that does not verify.
    Invalid,
}

/// The SP's LogoutResponse to an IdP-initiated logout, as the broker received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutResponseSeen {
    /// The binding it came on.
    pub binding: SloBinding,
    /// The top-level `StatusCode/@Value`, if any.
    pub status: Option<String>,
    /// Its signature.
    pub signature: ResponseSignature,
}

impl LogoutResponseSeen {
    /// A `Success` status.
    pub fn is_success(&self) -> bool {
        self.status.as_deref() == Some(ns::STATUS_SUCCESS)
    }
}

/// One IdP-initiated logout: what was sent and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpLogoutRecord {
    /// The LogoutRequest's `ID`.
    pub logout_request_id: String,
    /// The login it ends.
    pub login_request_id: String,
    /// The SP.
    pub sp_entity_id: String,
    /// The binding it was sent on.
    pub binding: SloBinding,
    /// The faults it carried.
    pub faults: Vec<LogoutFault>,
    /// The LogoutRequest as sent (before the Redirect binding's encoding).
    pub request_xml: String,
    /// The SP's answer, once it arrives.
    pub response: Option<LogoutResponseSeen>,
}

/// Why an IdP-initiated logout could not be started.
#[derive(Debug, thiserror::Error)]
pub enum IdpLogoutError {
    /// The body is not the call's JSON (or too large).
    #[error("logout: invalid request: {0}")]
    Json(String),
    /// No flow has this AuthnRequest ID.
    #[error("no login flow {0:?}")]
    UnknownFlow(String),
    /// The flow never produced a response, so there is no session to end.
    #[error("login flow {0:?} has no session (no response was sent)")]
    NotLoggedIn(String),
    /// The flow's SP is no longer registered.
    #[error("the SP {0} of this login is no longer registered")]
    SpGone(String),
    /// The SP's metadata lists no SingleLogoutService on this binding: the logout does not
    /// apply to it.
    #[error("the metadata of {sp} lists no SingleLogoutService with binding {binding}")]
    NoSloEndpoint {
        /// The SP.
        sp: String,
        /// The binding asked for.
        binding: &'static str,
    },
    /// A fault could not be applied.
    #[error(transparent)]
    Fault(#[from] LogoutFaultError),
    /// Signing failed.
    #[error("cannot sign the LogoutRequest: {0}")]
    Sign(String),
    /// No IdP-initiated logout has this ID.
    #[error("no IdP-initiated logout {0:?}")]
    UnknownLogout(String),
}

/// The refusal code of [`IdpLogoutError::NoSloEndpoint`], which the harness turns into a
/// SKIPPED verdict.
pub const NO_SLO_ENDPOINT: &str = "no_slo_endpoint";

impl From<IdpLogoutError> for OAuthError {
    fn from(e: IdpLogoutError) -> Self {
        let (status, code) = match &e {
            IdpLogoutError::Json(_) | IdpLogoutError::Fault(_) => {
                (StatusCode::BAD_REQUEST, "invalid_request")
            }
            IdpLogoutError::UnknownFlow(_) | IdpLogoutError::UnknownLogout(_) => {
                (StatusCode::NOT_FOUND, "unknown_flow")
            }
            IdpLogoutError::NotLoggedIn(_) | IdpLogoutError::SpGone(_) => {
                (StatusCode::CONFLICT, "invalid_request")
            }
            IdpLogoutError::NoSloEndpoint { .. } => (StatusCode::NOT_FOUND, NO_SLO_ENDPOINT),
            IdpLogoutError::Sign(_) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        };
        OAuthError::new(status, code, e.to_string())
    }
}

fn key(st: &BrokerState, choice: SigningKeyChoice) -> &SigningKey {
    match choice {
        SigningKeyChoice::Idp => &st.keys.idp,
        SigningKeyChoice::IdpNext => &st.keys.idp_next,
        SigningKeyChoice::Oces2 => &st.keys.oces2,
        SigningKeyChoice::Attacker => &st.keys.attacker,
    }
}

/// Write the LogoutRequest, with a signature template after the Issuer when `signature` is
/// given (the POST binding's enveloped signature).
pub fn write_logout_request(m: &LogoutRequestModel, signature: Option<&str>) -> String {
    let fmt = super::response::fmt_instant;
    let session_index = m
        .session_index
        .as_deref()
        .map(|s| {
            format!(
                "<samlp:SessionIndex>{}</samlp:SessionIndex>",
                escape_text(s)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<samlp:LogoutRequest xmlns:samlp="{samlp}" xmlns:saml="{saml}" ID="{id}" Version="2.0" IssueInstant="{ii}" Destination="{dest}" NotOnOrAfter="{noa}"><saml:Issuer>{iss}</saml:Issuer>{sig}<saml:NameID Format="{nf}">{nid}</saml:NameID>{session_index}</samlp:LogoutRequest>"#,
        samlp = ns::SAMLP,
        saml = ns::SAML,
        id = escape_attr(&m.id),
        ii = fmt(m.issue_instant),
        dest = escape_attr(&m.destination),
        noa = fmt(m.not_on_or_after),
        iss = escape_text(&m.issuer),
        sig = signature.unwrap_or(""),
        nf = escape_attr(&m.name_id_format),
        nid = escape_text(&m.name_id),
    )
}

/// A `saml:Assertion` for `identity` (default: the first identity whose NameID is not the
/// session's), signed with the IdP's own key as every login's assertion is: what an attacker
/// holds after logging in as themself, for [`LogoutFault::WrappedSignedAssertion`]. Its
/// signature is genuine and verifies with the IdP metadata; it just does not sign the
/// LogoutRequest.
fn wrapped_assertion(
    st: &BrokerState,
    model: &LogoutRequestModel,
    identity: Option<&str>,
    now: time::OffsetDateTime,
) -> Result<String, IdpLogoutError> {
    let who = match identity {
        Some(h) => st
            .identities
            .get(h)
            .ok_or_else(|| LogoutFaultError::UnknownIdentity(h.to_string()))?,
        None => st
            .identities
            .iter()
            .find(|i| i.name_id() != model.name_id)
            .ok_or_else(|| LogoutFaultError::UnknownIdentity("<any other identity>".into()))?,
    };
    let id = format!("{}-captured", model.id);
    let k = key(st, SigningKeyChoice::Idp);
    let template = super::response::signature_template(&id, Some(&k.cert_b64), false);
    let xml = format!(
        r#"<saml:Assertion xmlns:saml="{saml}" ID="{id}" Version="2.0" IssueInstant="{ii}"><saml:Issuer>{iss}</saml:Issuer>{template}<saml:Subject><saml:NameID Format="{nf}">{nid}</saml:NameID></saml:Subject></saml:Assertion>"#,
        saml = ns::SAML,
        id = escape_attr(&id),
        ii = super::response::fmt_instant(now),
        iss = escape_text(&st.entity_id),
        nf = ns::NAMEID_PERSISTENT,
        nid = escape_text(&who.name_id()),
    );
    st.xml_signer
        .sign_enveloped(xml, &k.signer, false)
        .map_err(|e| IdpLogoutError::Sign(e.to_string()))
}

/// `xml` (an unsigned LogoutRequest) with `assertion` after its Issuer, as a child or inside
/// `samlp:Extensions`.
fn wrap_into(xml: &str, place: WrappedPlace, assertion: &str) -> String {
    let inner = match place {
        WrappedPlace::Child => assertion.to_string(),
        WrappedPlace::Extensions => format!("<samlp:Extensions>{assertion}</samlp:Extensions>"),
    };
    xml.replacen("</saml:Issuer>", &format!("</saml:Issuer>{inner}"), 1)
}

/// The first identity whose NameID is not the session's: whose own, genuinely signed logout
/// message an attacker holds (they logged in and out themself).
fn other_identity<'a>(
    st: &'a BrokerState,
    model: &LogoutRequestModel,
) -> Result<&'a crate::identity::TestIdentity, IdpLogoutError> {
    st.identities
        .iter()
        .find(|i| i.name_id() != model.name_id)
        .ok_or_else(|| LogoutFaultError::UnknownIdentity("<any other identity>".into()).into())
}

/// The Redirect binding's query for a query-stage fault (S14), and the LogoutRequest whose
/// processing would end the session (the forged one; for `relay-state-extra-equals`, the
/// genuine one). The broker signs with its own IdP key exactly as it signs every Redirect
/// message ([`redirect::encode_query`]), then edits the signed query string: the captured
/// message is genuine NemLog-in output, the forged one has no signature of its own.
fn edited_query(
    st: &BrokerState,
    model: &LogoutRequestModel,
    edit: &LogoutFault,
    now: time::OffsetDateTime,
) -> Result<(String, String), IdpLogoutError> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let sign_err = |e: crate::pki::PkiError| IdpLogoutError::Sign(e.to_string());
    let idp = Some((&*key(st, SigningKeyChoice::Idp).signer, SigAlg::RsaSha256));
    // The forged LogoutRequest: the session's own NameID and SessionIndex (forced logout of
    // the victim), no signature.
    let forged = write_logout_request(model, None);
    let forged_param = |name: &str| format!("{name}={}", enc(&redirect::codec::encode(&forged)));
    // NemLog-in's genuine LogoutRequest for another identity's session at this SP.
    let captured_request = || -> Result<String, IdpLogoutError> {
        let other = other_identity(st, model)?;
        let captured = LogoutRequestModel {
            id: format!("{}-captured", model.id),
            name_id: other.name_id(),
            name_id_format: ns::NAMEID_PERSISTENT.into(),
            session_index: Some(format!("{}-of-{}", model.id, other.id)),
            ..model.clone()
        };
        redirect::encode_query(
            "SAMLRequest",
            &write_logout_request(&captured, None),
            None,
            idp,
        )
        .map_err(sign_err)
    };
    let q = match edit {
        LogoutFault::DuplicateParam { order } => {
            let signed = captured_request()?;
            match order {
                DuplicateOrder::ForgedFirst => format!("{}&{signed}", forged_param("SAMLRequest")),
                DuplicateOrder::SignedFirst => format!("{signed}&{}", forged_param("SAMLRequest")),
            }
        }
        LogoutFault::RequestAndResponse => {
            let response = captured_logout_response(st, model, now);
            let signed =
                redirect::encode_query("SAMLResponse", &response, None, idp).map_err(sign_err)?;
            format!("{}&{signed}", forged_param("SAMLRequest"))
        }
        LogoutFault::EncodedParamName { name } => {
            format!("{}&{}", captured_request()?, forged_param(name))
        }
        LogoutFault::RelayStateExtraEquals { appended } => {
            let relay = format!("{}-relay", model.id);
            let signed = redirect::encode_query("SAMLRequest", &forged, Some(&relay), idp)
                .map_err(sign_err)?;
            let field = format!("&RelayState={}", enc(&relay));
            signed.replacen(&field, &format!("{field}={}", enc(appended)), 1)
        }
        LogoutFault::SignatureError { form } => {
            use crate::dangerous::logout::SignatureErrorForm as F;
            let signed_part = format!(
                "{}&SigAlg={}",
                forged_param("SAMLRequest"),
                enc(form.sig_alg())
            );
            let signature = match form {
                // The attacker's own RSA signature bytes: any value will do, the verify
                // primitive cannot run with this algorithm and NemLog-in's RSA key.
                F::DsaSha1 | F::HmacSha256 | F::UnknownAlg => B64.encode(
                    key(st, SigningKeyChoice::Attacker)
                        .signer
                        .sign_sha256(signed_part.as_bytes())
                        .map_err(sign_err)?,
                ),
                F::NotBase64 => "@@ not base64 @@".to_string(),
                F::Empty => String::new(),
            };
            format!("{signed_part}&Signature={}", enc(&signature))
        }
        LogoutFault::Unsigned
        | LogoutFault::SignWith { .. }
        | LogoutFault::Issuer { .. }
        | LogoutFault::NameIdOf { .. }
        | LogoutFault::Expired { .. }
        | LogoutFault::WrappedSignedAssertion { .. } => {
            unreachable!("query_edit returns query-stage faults only")
        }
    };
    Ok((forged, q))
}

/// A Success LogoutResponse from NemLog-in to this SP, as it answers an SP-initiated logout
/// (signed on the Redirect binding by [`edited_query`]): what an attacker who logged out of
/// this SP themself holds.
fn captured_logout_response(
    st: &BrokerState,
    model: &LogoutRequestModel,
    now: time::OffsetDateTime,
) -> String {
    format!(
        r#"<samlp:LogoutResponse xmlns:samlp="{samlp}" xmlns:saml="{saml}" ID="{id}" Version="2.0" IssueInstant="{ii}" Destination="{dest}" InResponseTo="{irt}"><saml:Issuer>{iss}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{ok}"/></samlp:Status></samlp:LogoutResponse>"#,
        samlp = ns::SAMLP,
        saml = ns::SAML,
        id = escape_attr(&format!("{}-captured-response", model.id)),
        ii = super::response::fmt_instant(now),
        dest = escape_attr(&model.destination),
        irt = escape_attr(&format!("{}-sp-logout", model.id)),
        iss = escape_text(&st.entity_id),
        ok = ns::STATUS_SUCCESS,
    )
}

/// Start an IdP-initiated logout of the session of the login `req.login_request_id`.
pub(crate) fn start(
    st: &Arc<BrokerState>,
    req: IdpLogoutRequest,
) -> Result<IdpLogoutStarted, IdpLogoutError> {
    let flow = st
        .flow(&req.login_request_id)
        .ok_or_else(|| IdpLogoutError::UnknownFlow(req.login_request_id.clone()))?;
    let session_index = flow
        .session_index
        .clone()
        .ok_or_else(|| IdpLogoutError::NotLoggedIn(req.login_request_id.clone()))?;
    let sp = st
        .sp(&flow.sp_entity_id)
        .ok_or_else(|| IdpLogoutError::SpGone(flow.sp_entity_id.clone()))?;
    let destination = sp
        .slo
        .iter()
        .find(|e| e.binding == req.binding.uri())
        .map(|e| e.location.clone())
        .ok_or_else(|| IdpLogoutError::NoSloEndpoint {
            sp: sp.entity_id.clone(),
            binding: req.binding.uri(),
        })?;
    let now = st.clock.now();
    let persistent = flow
        .identity
        .as_deref()
        .and_then(|i| st.identities.get(i))
        .map(|i| i.name_id());
    let name_id = st
        .session_name_id(&sp.entity_id, &session_index)
        .or_else(|| persistent.clone())
        .ok_or_else(|| IdpLogoutError::NotLoggedIn(req.login_request_id.clone()))?;
    // The LogoutRequest names the session by the NameID the SP received: a login that asked
    // for a transient NameID recorded that one, which is not the identity's persistent one.
    let name_id_format = if persistent.as_deref() == Some(name_id.as_str()) {
        ns::NAMEID_PERSISTENT
    } else {
        ns::NAMEID_TRANSIENT
    };
    let mut model = LogoutRequestModel {
        id: st.ids.next("lo"),
        issue_instant: now,
        not_on_or_after: now + LOGOUT_REQUEST_LIFETIME,
        destination: destination.clone(),
        issuer: st.entity_id.clone(),
        name_id,
        name_id_format: name_id_format.into(),
        session_index: Some(session_index.clone()),
    };
    let cx = LogoutFaultContext {
        identities: &st.identities,
        now,
    };
    let signing = logout::apply(&req.faults, &mut model, &cx)?;
    let query_edit = logout::query_edit(&req.faults)?;
    if let (Some(edit), SloBinding::Post) = (query_edit, req.binding) {
        return Err(LogoutFaultError::QueryFaultNeedsRedirect(edit.name()).into());
    }
    let wrapped = match logout::wrapped(&req.faults) {
        Some((place, identity)) => Some((place, wrapped_assertion(st, &model, identity, now)?)),
        None => None,
    };
    let unsigned_xml = |m: &LogoutRequestModel| {
        let xml = write_logout_request(m, None);
        match &wrapped {
            Some((place, assertion)) => wrap_into(&xml, *place, assertion),
            None => xml,
        }
    };
    let (request_xml, delivery) = match (req.binding, signing) {
        (SloBinding::Redirect, _) if query_edit.is_some() => {
            let edit = query_edit.expect("checked by the guard");
            let (xml, q) = edited_query(st, &model, edit, now)?;
            let sep = if destination.contains('?') { '&' } else { '?' };
            let url = format!("{destination}{sep}{q}");
            (xml, LogoutDelivery::Redirect { url })
        }
        (SloBinding::Redirect, signing) => {
            let xml = match signing {
                LogoutSigning::Unsigned => unsigned_xml(&model),
                LogoutSigning::Key(_) => write_logout_request(&model, None),
            };
            let signer = match signing {
                LogoutSigning::Unsigned => None,
                LogoutSigning::Key(k) => Some((&*key(st, k).signer, SigAlg::RsaSha256)),
            };
            let q = redirect::encode_query("SAMLRequest", &xml, None, signer)
                .map_err(|e| IdpLogoutError::Sign(e.to_string()))?;
            let sep = if destination.contains('?') { '&' } else { '?' };
            let url = format!("{destination}{sep}{q}");
            (xml, LogoutDelivery::Redirect { url })
        }
        (SloBinding::Post, LogoutSigning::Unsigned) => {
            let xml = unsigned_xml(&model);
            let fields = vec![("SAMLRequest".to_string(), B64.encode(&xml))];
            (
                xml,
                LogoutDelivery::Post {
                    action: destination.clone(),
                    fields,
                },
            )
        }
        (SloBinding::Post, LogoutSigning::Key(k)) => {
            let k = key(st, k);
            let template = super::response::signature_template(&model.id, Some(&k.cert_b64), false);
            let xml = st
                .xml_signer
                .sign_enveloped(
                    write_logout_request(&model, Some(&template)),
                    &k.signer,
                    false,
                )
                .map_err(|e| IdpLogoutError::Sign(e.to_string()))?;
            let fields = vec![("SAMLRequest".to_string(), B64.encode(&xml))];
            (
                xml,
                LogoutDelivery::Post {
                    action: destination.clone(),
                    fields,
                },
            )
        }
    };
    if req.faults.is_empty() {
        // The IdP's own session of this login ends with the logout it starts.
        st.forget_session(&sp.entity_id, &session_index);
    }
    tracing::info!(sp = %sp.entity_id, logout = %model.id, binding = ?req.binding, faults = req.faults.len(), "IdP-initiated logout started");
    st.record_idp_logout(IdpLogoutRecord {
        logout_request_id: model.id.clone(),
        login_request_id: req.login_request_id,
        sp_entity_id: sp.entity_id.clone(),
        binding: req.binding,
        faults: req.faults,
        request_xml,
        response: None,
    });
    Ok(IdpLogoutStarted {
        logout_request_id: model.id,
        delivery,
    })
}

/// The record of one IdP-initiated logout.
pub(crate) fn record(st: &BrokerState, id: &str) -> Result<IdpLogoutRecord, IdpLogoutError> {
    st.idp_logout(id)
        .ok_or_else(|| IdpLogoutError::UnknownLogout(id.to_string()))
}

/// A LogoutResponse arrived at the SSO/SLO URL: when it answers an IdP-initiated logout,
/// record its status and whether its signature verifies with the SP's metadata. `redirect` is
/// the Redirect-binding message (for its query signature); `None` means the POST binding.
/// Anything unreadable is left to the caller's own handling.
pub(crate) fn response_received(st: &BrokerState, xml: &str, redirect: Option<&RedirectMessage>) {
    let Ok(doc) = parse_untrusted(xml) else {
        return;
    };
    let root = doc.root_element();
    if root.tag_name().name() != "LogoutResponse" || root.tag_name().namespace() != Some(ns::SAMLP)
    {
        return;
    }
    let Some(in_response_to) = root.attribute("InResponseTo") else {
        return;
    };
    let Some(record) = st.idp_logout(in_response_to) else {
        return;
    };
    let status = child(root, ns::SAMLP, "Status")
        .and_then(|s| child(s, ns::SAMLP, "StatusCode"))
        .and_then(|c| c.attribute("Value"))
        .map(str::to_string);
    let sp = st.sp(&record.sp_entity_id);
    let signature = match (redirect, sp) {
        (_, None) => ResponseSignature::Invalid,
        (Some(m), Some(sp)) => match m.signature {
            None => ResponseSignature::Unsigned,
            Some(_) => match super::sso::verify_redirect_signature(st, &sp, m) {
                Ok(()) => ResponseSignature::Verified,
                Err(_) => ResponseSignature::Invalid,
            },
        },
        (None, Some(sp)) => {
            let id = root.attribute("ID").unwrap_or("");
            let signed = root.children().any(|c| {
                c.tag_name().name() == "Signature" && c.tag_name().namespace() == Some(ns::DS)
            });
            if !signed {
                ResponseSignature::Unsigned
            } else if st
                .xml_verifier
                .verify_enveloped(xml, id, &sp.signing_certs)
                .is_ok()
            {
                ResponseSignature::Verified
            } else {
                ResponseSignature::Invalid
            }
        }
    };
    let seen = LogoutResponseSeen {
        binding: if redirect.is_some() {
            SloBinding::Redirect
        } else {
            SloBinding::Post
        },
        status,
        signature,
    };
    tracing::info!(logout = %in_response_to, status = ?seen.status, signature = ?seen.signature, "LogoutResponse to an IdP-initiated logout");
    st.update_idp_logout(in_response_to, |r| r.response = Some(seen));
}

/// `POST /_mock/saml/logout` body → the started logout (shared by the HTTP handler and the
/// in-process control client).
pub(crate) fn start_from_json(
    st: &Arc<BrokerState>,
    body: &[u8],
) -> Result<IdpLogoutStarted, IdpLogoutError> {
    let req: IdpLogoutRequest =
        serde_json::from_slice(body).map_err(|e| IdpLogoutError::Json(e.to_string()))?;
    start(st, req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_request_escapes_and_places_the_signature_after_the_issuer() {
        let now = time::macros::datetime!(2026-01-01 12:00 UTC);
        let m = LogoutRequestModel {
            id: "_lo1".into(),
            issue_instant: now,
            not_on_or_after: now + LOGOUT_REQUEST_LIFETIME,
            destination: "https://sp.example/slo?a=1&b=2".into(),
            issuer: "https://saml.nemlog-in.dk".into(),
            name_id: "x<y".into(),
            name_id_format: ns::NAMEID_PERSISTENT.into(),
            session_index: Some("_s1".into()),
        };
        let xml = write_logout_request(&m, Some("<SIG/>"));
        assert!(xml.contains(r#"Destination="https://sp.example/slo?a=1&amp;b=2""#));
        assert!(xml.contains("</saml:Issuer><SIG/><saml:NameID"));
        assert!(xml.contains("x&lt;y"));
        assert!(xml.contains(r#"NotOnOrAfter="2026-01-01T12:05:00Z""#));
        assert!(parse_untrusted(&write_logout_request(&m, None)).is_ok());
    }

    #[test]
    fn refusal_codes() {
        let e = OAuthError::from(IdpLogoutError::NoSloEndpoint {
            sp: "https://sp".into(),
            binding: ns::BINDING_POST,
        });
        assert_eq!((e.status, e.code), (StatusCode::NOT_FOUND, NO_SLO_ENDPOINT));
        let e = OAuthError::from(IdpLogoutError::UnknownFlow("_x".into()));
        assert_eq!(e.code, "unknown_flow");
    }
}
