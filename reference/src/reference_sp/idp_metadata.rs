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
    /// The SingleLogoutService on the HTTP-Redirect binding, if listed (where LogoutResponses
    /// go).
    pub slo_redirect: Option<String>,
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
        let slo_redirect = children(idp, MD, "SingleLogoutService")
            .find(|s| s.attribute("Binding") == Some(BINDING_REDIRECT))
            .and_then(|s| s.attribute("Location"))
            .map(str::to_string);
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
            slo_redirect,
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

/// The X.509 SubjectPublicKeyInfo DER of the RSA key (`modulus`, `exponent`: big-endian
/// magnitudes, as in RSAKeyValue), which is the form xml-sec takes keys in:
/// `SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { SEQUENCE { INTEGER n, INTEGER e } } }`.
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    /// rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters, as an AlgorithmIdentifier.
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let public_key = der(0x30, &[der_uint(modulus), der_uint(exponent)].concat());
    let bit_string = der(0x03, &[&[0u8][..], &public_key].concat());
    der(0x30, &[RSA_ALGORITHM, &bit_string].concat())
}

/// A DER INTEGER holding the unsigned big-endian `magnitude`: leading zeros dropped, one zero
/// put back when the top bit is set (so it does not read as negative).
fn der_uint(magnitude: &[u8]) -> Vec<u8> {
    let first = magnitude
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(magnitude.len());
    let m = &magnitude[first..];
    let content = match m.first() {
        None => vec![0],
        Some(b) if b & 0x80 != 0 => [&[0u8][..], m].concat(),
        Some(_) => m.to_vec(),
    };
    der(0x02, &content)
}

/// One DER TLV (definite length, short or long form).
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_spki_matches_the_certificates_own() {
        let cred = &mitid_mock_broker::pki::MockPki::builtin().attacker;
        let (_, cert) = x509_parser::parse_x509_certificate(cred.cert_der()).unwrap();
        let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = cert.public_key().parsed() else {
            panic!("the attacker key is RSA");
        };
        // x509-parser keeps the INTEGERs' sign octet; RSAKeyValue has none. Both must work.
        let spki = spki_of(cred.cert_der()).unwrap();
        assert_eq!(rsa_spki(rsa.modulus, rsa.exponent), spki);
        let magnitude = |b: &[u8]| b[b.iter().position(|x| *x != 0).unwrap()..].to_vec();
        assert_eq!(
            rsa_spki(&magnitude(rsa.modulus), &magnitude(rsa.exponent)),
            spki
        );
        assert_eq!(der_uint(&[]), [0x02, 0x01, 0x00]);
        assert_eq!(der(0x04, &[7; 200])[..3], [0x04, 0x81, 200]);
    }
}
