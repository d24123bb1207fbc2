//! The IdP metadata the reference SP trusts: entityID, the Redirect-binding SSO URL and the
//! signing certificates. Assertion signatures are verified with these keys and no others
//! (never with a certificate the message carries itself).

use super::xml::{self, child, children, is};
use base64::Engine;

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// One signing certificate from the IdP metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpSigningCert {
    /// DER certificate.
    pub der: Vec<u8>,
    /// Its SubjectPublicKeyInfo (DER), what the verifier is given.
    pub spki: Vec<u8>,
}

/// What the SP needs from the IdP metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    /// entityID (Issuer of responses and assertions).
    pub entity_id: String,
    /// `SingleSignOnService` with the HTTP-Redirect binding.
    pub sso_redirect: String,
    /// Signing certificates (NemLog-in lists two during key rotation).
    pub signing_certs: Vec<IdpSigningCert>,
}

/// Why IdP metadata is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdpMetadataError {
    /// Not well-formed, or has a DTD.
    #[error("IdP metadata is not acceptable XML: {0}")]
    Xml(String),
    /// The root is not an EntityDescriptor.
    #[error("IdP metadata root is {0}, expected md:EntityDescriptor")]
    NotEntityDescriptor(String),
    /// No entityID.
    #[error("IdP metadata has no entityID")]
    NoEntityId,
    /// No IDPSSODescriptor.
    #[error("IdP metadata has no md:IDPSSODescriptor")]
    NoIdpDescriptor,
    /// No SSO endpoint for the Redirect binding.
    #[error("IdP metadata has no SingleSignOnService with the HTTP-Redirect binding")]
    NoRedirectSso,
    /// No signing certificate.
    #[error("IdP metadata has no signing certificate (KeyDescriptor use=\"signing\")")]
    NoSigningCert,
    /// A certificate does not decode.
    #[error("IdP metadata signing certificate #{0} is unusable: {1}")]
    BadCert(usize, String),
}

impl IdpMetadata {
    /// Parse IdP metadata (an `md:EntityDescriptor` with an `md:IDPSSODescriptor`).
    pub fn parse(text: &str) -> Result<IdpMetadata, IdpMetadataError> {
        let doc = xml::parse(text).map_err(|e| IdpMetadataError::Xml(e.to_string()))?;
        let root = doc.root_element();
        if !is(root, MD, "EntityDescriptor") {
            return Err(IdpMetadataError::NotEntityDescriptor(xml::qname(root)));
        }
        let entity_id = root
            .attribute("entityID")
            .filter(|e| !e.is_empty())
            .ok_or(IdpMetadataError::NoEntityId)?
            .to_string();
        let idp = child(root, MD, "IDPSSODescriptor").ok_or(IdpMetadataError::NoIdpDescriptor)?;
        let sso_redirect = children(idp, MD, "SingleSignOnService")
            .find(|s| s.attribute("Binding") == Some(BINDING_REDIRECT))
            .and_then(|s| s.attribute("Location"))
            .ok_or(IdpMetadataError::NoRedirectSso)?
            .to_string();
        let mut signing_certs = Vec::new();
        for kd in children(idp, MD, "KeyDescriptor")
            .filter(|k| matches!(k.attribute("use"), None | Some("signing")))
        {
            for c in kd
                .descendants()
                .filter(|n| is(*n, xml::DS, "X509Certificate"))
            {
                let n = signing_certs.len() + 1;
                let b64: String = xml::full_text(c).split_whitespace().collect();
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| IdpMetadataError::BadCert(n, e.to_string()))?;
                let spki = spki_of(&der).map_err(|e| IdpMetadataError::BadCert(n, e))?;
                signing_certs.push(IdpSigningCert { der, spki });
            }
        }
        if signing_certs.is_empty() {
            return Err(IdpMetadataError::NoSigningCert);
        }
        Ok(IdpMetadata {
            entity_id,
            sso_redirect,
            signing_certs,
        })
    }
}

/// The SubjectPublicKeyInfo of a DER certificate.
pub fn spki_of(cert_der: &[u8]) -> Result<Vec<u8>, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    Ok(cert.tbs_certificate.subject_pki.raw.to_vec())
}
