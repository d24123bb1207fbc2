//! The reference SP's SingleLogoutService: IdP-initiated logout on the HTTP-Redirect and
//! HTTP-POST bindings, the way digst/OIOSAML.Java's `servlet/LogoutRequestHandler.java`
//! handles it.
//!
//! A LogoutRequest ends this browser's session only when it is signed by a key from the IdP
//! metadata (the Redirect binding's query signature, checked here with aws-lc-rs over the
//! octets as received; the POST binding's enveloped signature, checked with xml-sec), its
//! Issuer is the IdP's entityID, it is not past its `NotOnOrAfter`, its `Destination` (when
//! present) is this endpoint, and its NameID is the session's user. The SP then answers the
//! IdP with a signed LogoutResponse (Success) on the Redirect binding. A refused request gets
//! an error page and the session stays: nothing here trusts the broker's code; the binding is
//! decoded, and the signature checked, by this module alone. Each [`Flaw`] of the `slo-*`
//! family switches off one of these rules.

use super::SpState;
use super::check::{Check, Rejection};
use super::flaw::Flaw;
use super::xml::{self, child, escape_attr, escape_text, is};
use super::xmlsec::VerifyPolicy;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::io::{Read as _, Write as _};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use xml_sec::xmldsig::SignatureRequirement;

const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// Largest inflated LogoutRequest read.
const MAX_INFLATED: u64 = 256 * 1024;

/// A LogoutRequest as it arrived, before any check.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// From the query string: the XML and the signature parts.
    Redirect {
        xml: String,
        relay_state: Option<String>,
        sig_alg: Option<String>,
        signature: Option<Vec<u8>>,
        signed_octets: Vec<u8>,
    },
    /// From a form: the XML (its signature is inside).
    Post {
        xml: String,
        relay_state: Option<String>,
    },
}

impl Inbound {
    fn xml(&self) -> &str {
        match self {
            Inbound::Redirect { xml, .. } | Inbound::Post { xml, .. } => xml,
        }
    }

    fn relay_state(&self) -> Option<&str> {
        match self {
            Inbound::Redirect { relay_state, .. } | Inbound::Post { relay_state, .. } => {
                relay_state.as_deref()
            }
        }
    }
}

fn reject<T>(detail: impl Into<String>) -> Result<T, Rejection> {
    Err(Rejection::new(Check::Logout, detail))
}

fn pct(raw: &str) -> String {
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Read the Redirect binding from the raw query: `None` when it carries no `SAMLRequest`
/// (the local-logout link).
pub(crate) fn read_query(query: &str) -> Option<Result<Inbound, Rejection>> {
    let raw = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    };
    let request = raw("SAMLRequest")?;
    Some(decode_query(request, raw))
}

fn decode_query<'q>(
    request: &str,
    raw: impl Fn(&str) -> Option<&'q str>,
) -> Result<Inbound, Rejection> {
    let deflated = B64
        .decode(pct(request).as_bytes())
        .or_else(|_| reject("SAMLRequest is not base64"))?;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .take(MAX_INFLATED)
        .read_to_string(&mut xml)
        .or_else(|_| reject("SAMLRequest does not inflate to UTF-8 XML"))?;
    // SAML Bindings 3.4.4.1: the signature covers the parameters exactly as received.
    let mut octets = format!("SAMLRequest={request}");
    if let Some(r) = raw("RelayState") {
        octets.push_str(&format!("&RelayState={r}"));
    }
    if let Some(a) = raw("SigAlg") {
        octets.push_str(&format!("&SigAlg={a}"));
    }
    let signature = match raw("Signature") {
        Some(s) => Some(
            B64.decode(pct(s).as_bytes())
                .or_else(|_| reject("Signature is not base64"))?,
        ),
        None => None,
    };
    Ok(Inbound::Redirect {
        xml,
        relay_state: raw("RelayState").map(pct),
        sig_alg: raw("SigAlg").map(pct),
        signature,
        signed_octets: octets.into_bytes(),
    })
}

/// Read the POST binding from the form fields: `None` when there is no `SAMLRequest`.
pub(crate) fn read_form(fields: &[(String, String)]) -> Option<Result<Inbound, Rejection>> {
    let get = |n: &str| fields.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let request = get("SAMLRequest")?;
    let xml = B64
        .decode(request.trim().as_bytes())
        .or_else(|_| reject("SAMLRequest is not base64"))
        .and_then(|b| String::from_utf8(b).or_else(|_| reject("SAMLRequest is not UTF-8")));
    Some(xml.map(|xml| Inbound::Post {
        xml,
        relay_state: get("RelayState"),
    }))
}

/// The Redirect binding's signature: RSA-SHA256 over the octets by an IdP metadata key.
fn verify_redirect(
    st: &SpState,
    sig_alg: Option<&str>,
    signature: Option<&[u8]>,
    octets: &[u8],
    xml_text: &str,
) -> Result<(), Rejection> {
    let (Some(alg), Some(sig)) = (sig_alg, signature) else {
        if st.has(Flaw::SloUnsignedAccepted) {
            return Ok(());
        }
        if st.has(Flaw::SloAnySignatureInMessage) {
            // "An XML signature or a query signature": without the latter, any XML one.
            return any_signature_in_message(st, xml_text);
        }
        return reject("the LogoutRequest is not signed (no Signature/SigAlg)");
    };
    if alg != RSA_SHA256 {
        return reject(format!("SigAlg {alg} is not rsa-sha256"));
    }
    for cert in &st.idp.signing_certs {
        let Ok((_, c)) = x509_parser::parse_x509_certificate(&cert.der) else {
            continue;
        };
        let key = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            c.tbs_certificate
                .subject_pki
                .subject_public_key
                .data
                .as_ref(),
        );
        if key.verify(octets, sig).is_ok() {
            return Ok(());
        }
    }
    reject("the LogoutRequest's query signature does not verify with the IdP metadata keys")
}

/// The POST binding's enveloped signature over the LogoutRequest, by an IdP metadata key.
fn verify_post(st: &SpState, xml_text: &str, id: &str) -> Result<(), Rejection> {
    let doc = xml::parse(xml_text).or_else(|e| reject(format!("LogoutRequest XML: {e}")))?;
    let sig = child(doc.root_element(), xml::DS, "Signature");
    let Some(sig) = sig else {
        if st.has(Flaw::SloUnsignedAccepted) {
            return Ok(());
        }
        if st.has(Flaw::SloAnySignatureInMessage) {
            return any_signature_in_message(st, xml_text);
        }
        return reject("the LogoutRequest is not signed (no ds:Signature)");
    };
    let method = sig
        .descendants()
        .find(|n| is(*n, xml::DS, "SignatureMethod"))
        .and_then(|n| n.attribute("Algorithm"))
        .unwrap_or("");
    if method != RSA_SHA256 {
        return reject(format!("SignatureMethod {method:?} is not rsa-sha256"));
    }
    verify_with_idp_keys(st, xml_text, id, method)
        .or_else(|e| reject(format!("LogoutRequest signature: {e}")))
}

/// Whether a signature in `xml_text` over the element with ID `id` verifies under `method`
/// with one of the IdP metadata keys.
fn verify_with_idp_keys(
    st: &SpState,
    xml_text: &str,
    id: &str,
    method: &str,
) -> Result<(), super::xmlsec::CryptoError> {
    let keys: Vec<Vec<u8>> = st
        .idp
        .signing_certs
        .iter()
        .map(|c| c.spki.clone())
        .collect();
    st.crypto.verify_target(
        xml_text,
        Some(id),
        method,
        &keys,
        VerifyPolicy::SecureSaml,
        SignatureRequirement::All,
    )
}

/// The [`Flaw::SloAnySignatureInMessage`] check: some `ds:Signature` anywhere in the message
/// verifies, with an IdP metadata key, over the element its own Reference names.
fn any_signature_in_message(st: &SpState, xml_text: &str) -> Result<(), Rejection> {
    let doc = xml::parse(xml_text).or_else(|e| reject(format!("LogoutRequest XML: {e}")))?;
    for sig in doc.descendants().filter(|n| is(*n, xml::DS, "Signature")) {
        let Some(target) = sig
            .descendants()
            .find(|n| is(*n, xml::DS, "Reference"))
            .and_then(|r| r.attribute("URI"))
            .and_then(|u| u.strip_prefix('#'))
        else {
            continue;
        };
        let method = sig
            .descendants()
            .find(|n| is(*n, xml::DS, "SignatureMethod"))
            .and_then(|n| n.attribute("Algorithm"))
            .unwrap_or("");
        if verify_with_idp_keys(st, xml_text, target, method).is_ok() {
            return Ok(());
        }
    }
    reject("the LogoutRequest is not signed, and no signature inside it verifies")
}

/// What an accepted LogoutRequest asks for.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// Its `ID` (the LogoutResponse's InResponseTo).
    pub id: String,
    /// Its RelayState, echoed back.
    pub relay_state: Option<String>,
}

/// Check a LogoutRequest against this browser's session (`session_name_id`: the NameID the
/// session's login carried, if logged in).
pub(crate) fn check(
    st: &SpState,
    inbound: &Inbound,
    session_name_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<Accepted, Rejection> {
    let text = inbound.xml();
    let doc = xml::parse(text).or_else(|e| reject(format!("LogoutRequest XML: {e}")))?;
    let root = doc.root_element();
    if !is(root, xml::SAMLP, "LogoutRequest") {
        return reject(format!(
            "expected samlp:LogoutRequest, got {}",
            xml::qname(root)
        ));
    }
    let Some(id) = root
        .attribute("ID")
        .filter(|i| !i.is_empty())
        .map(str::to_string)
    else {
        return reject("LogoutRequest has no ID");
    };
    if !st.has(Flaw::SloNoSignatureCheck) {
        match inbound {
            Inbound::Redirect {
                sig_alg,
                signature,
                signed_octets,
                ..
            } => verify_redirect(
                st,
                sig_alg.as_deref(),
                signature.as_deref(),
                signed_octets,
                text,
            )?,
            Inbound::Post { .. } => verify_post(st, text, &id)?,
        }
    }
    if !st.has(Flaw::SloAnyIssuer) {
        let issuer = child(root, xml::SAML, "Issuer").map(xml::full_text);
        if issuer.as_deref().map(str::trim) != Some(st.idp.entity_id.as_str()) {
            return reject(format!(
                "LogoutRequest Issuer {issuer:?} is not the IdP {}",
                st.idp.entity_id
            ));
        }
    }
    let own = format!("{}/slo", st.base_url);
    if let Some(d) = root.attribute("Destination")
        && d != own
    {
        return reject(format!("LogoutRequest Destination {d:?} is not {own}"));
    }
    let skip_expiry = st.has(Flaw::SloNoExpiryCheck)
        || (matches!(inbound, Inbound::Post { .. }) && st.has(Flaw::SloPostNoExpiryCheck));
    if !skip_expiry {
        match root
            .attribute("NotOnOrAfter")
            .map(|t| OffsetDateTime::parse(t, &Rfc3339))
        {
            None => {}
            Some(Err(_)) => return reject("LogoutRequest NotOnOrAfter is not an xs:dateTime"),
            Some(Ok(t)) if now >= t + st.config.clock_skew => {
                return reject(format!("LogoutRequest expired at {t}"));
            }
            Some(Ok(_)) => {}
        }
    }
    let name_id = child(root, xml::SAML, "NameID").map(|n| xml::full_text(n).trim().to_string());
    let Some(session_name_id) = session_name_id else {
        return reject("no session in this browser to log out");
    };
    if !st.has(Flaw::SloNameIdUnchecked) && name_id.as_deref() != Some(session_name_id) {
        return reject(format!(
            "LogoutRequest NameID {name_id:?} is not this session's user"
        ));
    }
    Ok(Accepted {
        id,
        relay_state: inbound.relay_state().map(str::to_string),
    })
}

/// The signed Redirect-binding URL of the Success LogoutResponse to `accepted`, at the IdP's
/// SingleLogoutService.
pub(crate) fn response_url(
    st: &SpState,
    accepted: &Accepted,
    now: OffsetDateTime,
) -> Result<String, mitid_mock_broker::pki::PkiError> {
    let dest = st
        .idp
        .slo_redirect
        .as_deref()
        .unwrap_or(&st.idp.sso_redirect);
    let instant = now
        .replace_nanosecond(0)
        .unwrap_or(now)
        .format(&Rfc3339)
        .unwrap_or_default();
    let xml_text = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="{samlp}" xmlns:saml="{saml}" ID="_{id}" Version="2.0" IssueInstant="{instant}" Destination="{dest}" InResponseTo="{irt}"><saml:Issuer>{iss}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{STATUS_SUCCESS}"/></samlp:Status></samlp:LogoutResponse>"#,
        samlp = xml::SAMLP,
        saml = xml::SAML,
        id = uuid::Uuid::new_v4().simple(),
        dest = escape_attr(dest),
        irt = escape_attr(&accepted.id),
        iss = escape_text(&st.entity_id),
    );
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    deflater
        .write_all(xml_text.as_bytes())
        .expect("writing to a Vec cannot fail");
    let deflated = deflater.finish().expect("writing to a Vec cannot fail");
    let mut q = format!("SAMLResponse={}", enc(&B64.encode(deflated)));
    if let Some(r) = &accepted.relay_state {
        q.push_str(&format!("&RelayState={}", enc(r)));
    }
    q.push_str(&format!("&SigAlg={}", enc(RSA_SHA256)));
    let signature = st.signer.sign_sha256(q.as_bytes())?;
    q.push_str(&format!("&Signature={}", enc(&B64.encode(signature))));
    let sep = if dest.contains('?') { '&' } else { '?' };
    Ok(format!("{dest}{sep}{q}"))
}
