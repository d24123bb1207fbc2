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
//!
//! The Redirect binding signs the raw query octets, not the XML (SAML Bindings 3.4.4.1), so the
//! query is read strictly (issue 13, S14): every binding parameter literally named and present
//! once, no SAMLResponse beside the SAMLRequest, and the signature checked over exactly the
//! octets of the values that are then processed. The `redirect-*` flaws model the libraries
//! that built the two from different occurrences or spellings (simplesamlphp/saml2
//! CVE-2025-27773, CVE-2026-117691, Sustainsys.Saml2 CVE-2026-134822) or read a verify error
//! as success (simplesamlphp/saml2 CVE-2018-7711).

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
        /// The `Signature` value, URL-decoded (base64 text, decoded when verified).
        signature: Option<String>,
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

/// The Redirect binding's own parameters (SAML Bindings 3.4.4.1): the only names whose
/// spelling and number matter.
const BINDING_PARAMS: [&str; 5] = [
    "SAMLRequest",
    "SAMLResponse",
    "RelayState",
    "SigAlg",
    "Signature",
];

/// One `name=value` pair of the raw query: the name as sent and percent-decoded, the value as
/// sent (the signature covers the octets as sent).
struct Pair<'q> {
    raw_name: &'q str,
    name: String,
    value: &'q str,
}

fn pairs(query: &str) -> Vec<Pair<'_>> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Pair {
                raw_name: k,
                name: pct(k),
                value: v,
            }
        })
        .collect()
}

/// What the SP takes from the query: the raw values it processes, and the octets it verifies
/// the signature over. A correct SP builds both from the same, single occurrences.
struct Selected<'q> {
    request: &'q str,
    relay_state: Option<&'q str>,
    sig_alg: Option<&'q str>,
    signature: Option<&'q str>,
    signed_octets: String,
}

/// `name=value&…` of the parts the Redirect binding signs, in its order.
fn octets(message: (&str, &str), relay_state: Option<&str>, sig_alg: Option<&str>) -> String {
    let mut o = format!("{}={}", message.0, message.1);
    if let Some(r) = relay_state {
        o.push_str(&format!("&RelayState={r}"));
    }
    if let Some(a) = sig_alg {
        o.push_str(&format!("&SigAlg={a}"));
    }
    o
}

/// Read the Redirect binding from the raw query: `None` when it carries no `SAMLRequest`
/// (the local-logout link, or a LogoutResponse coming back).
pub(crate) fn read_query(st: &SpState, query: &str) -> Option<Result<Inbound, Rejection>> {
    let pairs = pairs(query);
    if !pairs.iter().any(|p| p.name == "SAMLRequest") {
        return None;
    }
    let selected = if st.has(Flaw::RedirectVerifyLastProcessFirst) {
        last_process_first(&pairs)
    } else if st.has(Flaw::RedirectLiteralNameCheck) {
        literal_name_check(&pairs)
    } else {
        strict(st, &pairs)
    };
    Some(selected.and_then(decode_selected))
}

/// The correct reading: every binding parameter spelled literally and present at most once,
/// never both SAMLRequest and SAMLResponse, and the signed octets built from exactly the values
/// that are processed (simplesamlphp/saml2 4.17.0's fix refuses duplicated parameters and a
/// SAMLRequest beside a SAMLResponse, and reads the message from the signed string itself).
fn strict<'q>(st: &SpState, pairs: &[Pair<'q>]) -> Result<Selected<'q>, Rejection> {
    if let Some(p) = pairs
        .iter()
        .find(|p| p.raw_name != p.name && BINDING_PARAMS.contains(&p.name.as_str()))
    {
        return reject(format!(
            "query parameter name {:?} is a percent-encoded {}: the Redirect binding's parameters are named literally, and a second spelling of a signed parameter is a forgery",
            p.raw_name, p.name
        ));
    }
    let one = |name: &str| -> Result<Option<&'q str>, Rejection> {
        let mut it = pairs.iter().filter(|p| p.name == name);
        let first = it.next().map(|p| p.value);
        if it.next().is_some() {
            return reject(format!(
                "query parameter {name} appears more than once: which one is signed is ambiguous"
            ));
        }
        Ok(first)
    };
    let Some(request) = one("SAMLRequest")? else {
        return reject("no SAMLRequest");
    };
    if one("SAMLResponse")?.is_some() {
        return reject("the query carries both SAMLRequest and SAMLResponse");
    }
    let relay_state = one("RelayState")?;
    let sig_alg = one("SigAlg")?;
    let signature = one("Signature")?;
    // The flaw: the signed string rebuilt from each value cut at its next `=`.
    let signed = |v: &'q str| -> &'q str {
        if st.has(Flaw::RedirectValueSplitAtEquals) {
            v.split('=').next().unwrap_or(v)
        } else {
            v
        }
    };
    Ok(Selected {
        request,
        relay_state,
        sig_alg,
        signature,
        signed_octets: octets(
            ("SAMLRequest", signed(request)),
            relay_state.map(signed),
            sig_alg.map(signed),
        ),
    })
}

/// [`Flaw::RedirectVerifyLastProcessFirst`]: the signed string from the last occurrence of
/// SAMLRequest-or-SAMLResponse (under its decoded name), RelayState and SigAlg, as
/// simplesamlphp/saml2's `parseQuery()` overwrote `$sigQuery` in its loop before 4.17.0; the
/// message processed from the first `SAMLRequest`, preferred to any SAMLResponse.
fn last_process_first<'q>(pairs: &[Pair<'q>]) -> Result<Selected<'q>, Rejection> {
    let last = |name: &str| pairs.iter().rev().find(|p| p.name == name).map(|p| p.value);
    let first = |name: &str| pairs.iter().find(|p| p.name == name).map(|p| p.value);
    let Some(signed_message) = pairs
        .iter()
        .rev()
        .find(|p| p.name == "SAMLRequest" || p.name == "SAMLResponse")
    else {
        return reject("no SAMLRequest");
    };
    let Some(request) = first("SAMLRequest") else {
        return reject("no SAMLRequest");
    };
    Ok(Selected {
        request,
        relay_state: first("RelayState"),
        sig_alg: last("SigAlg"),
        signature: last("Signature"),
        signed_octets: octets(
            (&signed_message.name, signed_message.value),
            last("RelayState"),
            last("SigAlg"),
        ),
    })
}

/// [`Flaw::RedirectLiteralNameCheck`]: the signature check looks the parameters up by their
/// literal names (first match in the raw query), the message and RelayState are read from the
/// percent-decoded parameters, where a later one replaces an earlier one (PHP's `$_GET`,
/// Python's `dict(parse_qsl(...))`).
fn literal_name_check<'q>(pairs: &[Pair<'q>]) -> Result<Selected<'q>, Rejection> {
    let literal = |name: &str| pairs.iter().find(|p| p.raw_name == name).map(|p| p.value);
    let decoded = |name: &str| pairs.iter().rev().find(|p| p.name == name).map(|p| p.value);
    let (Some(signed_request), Some(request)) = (literal("SAMLRequest"), decoded("SAMLRequest"))
    else {
        return reject("no SAMLRequest");
    };
    Ok(Selected {
        request,
        relay_state: decoded("RelayState"),
        sig_alg: literal("SigAlg"),
        signature: literal("Signature"),
        signed_octets: octets(
            ("SAMLRequest", signed_request),
            literal("RelayState"),
            literal("SigAlg"),
        ),
    })
}

fn decode_selected(sel: Selected<'_>) -> Result<Inbound, Rejection> {
    let deflated = B64
        .decode(pct(sel.request).as_bytes())
        .or_else(|_| reject("SAMLRequest is not base64"))?;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .take(MAX_INFLATED)
        .read_to_string(&mut xml)
        .or_else(|_| reject("SAMLRequest does not inflate to UTF-8 XML"))?;
    Ok(Inbound::Redirect {
        xml,
        relay_state: sel.relay_state.map(pct),
        sig_alg: sel.sig_alg.map(pct),
        signature: sel.signature.map(pct),
        // SAML Bindings 3.4.4.1: the signature covers the parameters exactly as received.
        signed_octets: sel.signed_octets.into_bytes(),
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

/// What checking a query signature came to, as a C verify primitive reports it (1 / 0 / -1),
/// plus the SP's own policy refusal.
enum QueryVerify {
    /// 1: it verifies with an IdP metadata key.
    Valid,
    /// 0: computed, and it does not match.
    Invalid,
    /// -1: the primitive cannot run (an algorithm that does not fit an RSA key or is unknown,
    /// a value that is not base64 or is empty).
    Error(String),
    /// An RSA algorithm the SP refuses (SHA-1): refused before any primitive runs.
    Refused(String),
}

/// The Redirect binding's signature: RSA-SHA256 over the octets by an IdP metadata key.
fn verify_redirect(
    st: &SpState,
    sig_alg: Option<&str>,
    signature: Option<&str>,
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
    match query_signature(st, alg, sig, octets) {
        QueryVerify::Valid => Ok(()),
        // The flaw: `if (!$key->verifySignature(...))` with OpenSSL's -1 (CVE-2018-7711).
        QueryVerify::Error(_) if st.has(Flaw::RedirectVerifyErrorAsSuccess) => Ok(()),
        QueryVerify::Error(why) => reject(format!("the query signature cannot be checked: {why}")),
        QueryVerify::Refused(why) => reject(why),
        QueryVerify::Invalid => {
            reject("the LogoutRequest's query signature does not verify with the IdP metadata keys")
        }
    }
}

/// Check the query signature `sig_b64` (algorithm `alg`) over `octets` with the IdP metadata
/// keys.
fn query_signature(st: &SpState, alg: &str, sig_b64: &str, octets: &[u8]) -> QueryVerify {
    match alg {
        RSA_SHA256 => {}
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => {
            return QueryVerify::Refused(format!("SigAlg {alg} is not rsa-sha256"));
        }
        other => {
            return QueryVerify::Error(format!(
                "SigAlg {other} is not rsa-sha256 and does not fit the IdP's RSA key"
            ));
        }
    }
    let sig = match B64.decode(sig_b64.as_bytes()) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => return QueryVerify::Error("the Signature is empty".into()),
        Err(_) => return QueryVerify::Error("the Signature is not base64".into()),
    };
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
        if key.verify(octets, &sig).is_ok() {
            return QueryVerify::Valid;
        }
    }
    QueryVerify::Invalid
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Which raw SAMLRequest each reading processes and which octets it verifies.
    fn read(
        f: for<'a, 'q> fn(&'a [Pair<'q>]) -> Result<Selected<'q>, Rejection>,
        q: &str,
    ) -> (String, String) {
        let p = pairs(q);
        let s = f(&p).unwrap_or_else(|_| panic!("{q}"));
        (s.request.to_string(), s.signed_octets)
    }

    #[test]
    fn the_flawed_readings_verify_one_occurrence_and_process_another() {
        let forged_first = "SAMLRequest=F&SAMLRequest=G&SigAlg=A&Signature=S";
        assert_eq!(
            read(last_process_first, forged_first),
            ("F".into(), "SAMLRequest=G&SigAlg=A".into())
        );
        assert_eq!(
            read(literal_name_check, forged_first),
            ("G".into(), "SAMLRequest=F&SigAlg=A".into())
        );
        let with_response = "SAMLRequest=F&SAMLResponse=G&SigAlg=A&Signature=S";
        assert_eq!(
            read(last_process_first, with_response),
            ("F".into(), "SAMLResponse=G&SigAlg=A".into())
        );
        let encoded = "SAMLRequest=G&SigAlg=A&Signature=S&SAM%4cRequest=F";
        assert_eq!(
            read(literal_name_check, encoded),
            ("F".into(), "SAMLRequest=G&SigAlg=A".into())
        );
        assert_eq!(
            read(last_process_first, encoded),
            ("G".into(), "SAMLRequest=F&SigAlg=A".into())
        );
        let relay = "SAMLRequest=G&RelayState=r=x&SigAlg=A&Signature=S";
        assert_eq!(
            read(last_process_first, relay).1,
            "SAMLRequest=G&RelayState=r=x&SigAlg=A"
        );
    }
}
