//! The AuthnRequest the reference SP sends: OIOSAML 3 shape (RequestedAuthnContext with the
//! required NSIS LoA, `Comparison="minimum"`, optionally the attribute profile), HTTP-Redirect
//! binding signed with RSA-SHA256 over the query string (NemLog-in refuses unsigned and SHA-1
//! requests). Signing uses the broker library's helpers: that is the SP *sending*; everything
//! the SP *checks* goes through xml-sec.

use super::SpState;
use mitid_mock_broker::saml::authn_request::AuthnRequestBuilder;
use mitid_mock_broker::saml::redirect::{SigAlg, encode_query};
use time::OffsetDateTime;

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
    let xml = AuthnRequestBuilder {
        id: request_id.to_string(),
        issue_instant: now,
        destination: st.idp.sso_redirect.clone(),
        issuer: st.entity_id.clone(),
        acs_url: Some(st.acs_url.clone()),
        loa: Some(st.config.required_loa),
        profile: st.config.profile,
        extra_class_refs: Vec::new(),
        force_authn: false,
        is_passive: false,
    }
    .to_xml();
    // RelayState: NemLog-in requires one (<= 512 chars); the SP does not use it.
    let relay = format!("rs{}", &request_id[1..9.min(request_id.len())]);
    let mut q = encode_query(
        "SAMLRequest",
        &xml,
        Some(&relay),
        Some((&st.signer, SigAlg::RsaSha256)),
    )?;
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
