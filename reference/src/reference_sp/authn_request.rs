//! The AuthnRequest the reference SP sends: OIOSAML 3 shape (RequestedAuthnContext with the
//! required NSIS LoA, `Comparison="minimum"`, optionally the attribute profile), HTTP-Redirect
//! binding signed with RSA-SHA256 over the query string (NemLog-in refuses unsigned and SHA-1
//! requests). The XML comes from the broker library's builder and the RSA operation from its
//! key type: that is the SP *sending*; everything the SP *checks* goes through xml-sec. The
//! binding's encoding (DEFLATE, base64, URL encoding, the signed octets) is written here, not
//! taken from the broker's Redirect-binding codec: the broker decodes with that codec, and an
//! encoder and decoder from one codebase could share a bug that cancels out in the round trip.

use super::SpState;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mitid_mock_broker::saml::authn_request::AuthnRequestBuilder;
use std::io::Write as _;
use time::OffsetDateTime;

const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// OIOSAML 4.0 LoA `AuthnContextClassRef` prefix (FoxIDs `NemLoginOiosaml400LoaPrefix`).
const LOA4_PREFIX: &str = "https://data.gov.dk/concept/core/loa/";

/// Building the redirect failed (signing key problem).
#[derive(Debug, thiserror::Error)]
#[error("signing the AuthnRequest: {0}")]
pub struct AuthnRequestError(#[from] mitid_mock_broker::pki::PkiError);

/// The URL to send the browser to: the IdP's Redirect SSO endpoint with the signed request,
/// plus `extras` (unsigned, for the mock broker's non-interactive identity choice).
pub(crate) fn redirect_url(
    st: &SpState,
    request_id: &str,
    now: OffsetDateTime,
    extras: &[(String, String)],
) -> Result<String, AuthnRequestError> {
    // OIOSAML 4.0: the 4.0 LoA URI and the requested attribute profiles in the extension,
    // instead of the 3.0.3 LoA and person/professional class refs.
    let (loa, profile, extra_class_refs, requested_profiles) = match &st.config.oiosaml4 {
        None => (
            Some(st.config.required_loa),
            st.config.profile,
            Vec::new(),
            Vec::new(),
        ),
        Some(o) => (
            None,
            None,
            vec![format!("{LOA4_PREFIX}{}", st.config.required_loa.name())],
            o.requested_profiles
                .iter()
                .map(|p| p.uri().to_string())
                .collect(),
        ),
    };
    let xml = AuthnRequestBuilder {
        id: request_id.to_string(),
        issue_instant: now,
        destination: st.idp.sso_redirect.clone(),
        issuer: st.entity_id.clone(),
        acs_url: Some(st.acs_url.clone()),
        loa,
        profile,
        extra_class_refs,
        requested_profiles,
        force_authn: false,
        is_passive: false,
    }
    .to_xml();
    // RelayState: NemLog-in requires one (<= 512 chars); the SP does not use it.
    let relay = format!("rs{}", &request_id[1..9.min(request_id.len())]);
    let mut q = signed_query(st, &xml, &relay)?;
    for (k, v) in extras {
        q.push('&');
        q.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair(k, v)
                .finish(),
        );
    }
    let sep = if st.idp.sso_redirect.contains('?') {
        '&'
    } else {
        '?'
    };
    Ok(format!("{}{sep}{q}", st.idp.sso_redirect))
}

/// `SAMLRequest=…&RelayState=…&SigAlg=…&Signature=…` per SAML Bindings §3.4.4.1: raw DEFLATE,
/// base64, URL encoding; the signature covers the first three parameters exactly as sent.
fn signed_query(st: &SpState, xml: &str, relay: &str) -> Result<String, AuthnRequestError> {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    deflater
        .write_all(xml.as_bytes())
        .expect("writing to a Vec cannot fail");
    let deflated = deflater.finish().expect("writing to a Vec cannot fail");
    let mut q = format!(
        "SAMLRequest={}&RelayState={}&SigAlg={}",
        enc(&B64.encode(deflated)),
        enc(relay),
        enc(RSA_SHA256)
    );
    let signature = st.signer.sign_sha256(q.as_bytes())?;
    q.push_str("&Signature=");
    q.push_str(&enc(&B64.encode(signature)));
    Ok(q)
}
