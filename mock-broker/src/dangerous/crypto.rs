//! The crypto stage: which key signs, what the signature's KeyInfo offers, what is signed at all,
//! SHA-1 instead of SHA-256, and whether and how the assertion is encrypted.
//!
//! These faults do not edit anything; they are choices the pipeline asks about while it signs
//! and encrypts, so the stage folds them into one [`CryptoChoices`] value before any XML is
//! written. Its [`Default`] is a correct NemLog-in login.

use super::{KeyInfoChoice, SigningKeyChoice};
use crate::saml::mint::{MintError, SigningKey};
use crate::saml::response::signature_template;
use crate::saml::xmlsec::{EncryptionAlgorithms, XmlSecError};

/// The crypto decisions of one mint, after the plan's crypto-stage faults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CryptoChoices {
    /// The assertion's (and a signed Response's) key; the last `sign-with` wins.
    pub key: SigningKeyChoice,
    /// What KeyInfo carries; the last `key-info` wins.
    pub key_info: KeyInfoChoice,
    /// Sign each assertion (`unsigned-assertion` and `signed-foreign-element` turn it off).
    pub sign_assertion: bool,
    /// Sign the Response too (`sign-response`, and XSW1/XSW2, which need a signed Response to
    /// wrap).
    pub sign_response: bool,
    /// RSA-SHA1 with a SHA-1 digest (`sha1`).
    pub sha1: bool,
    /// Encrypt the assertions (`no-encryption` turns it off).
    pub encrypt: bool,
    /// Algorithms overriding the SP's metadata and the default; the last `encrypt-with` wins.
    pub encrypt_with: Option<EncryptionAlgorithms>,
}

impl Default for CryptoChoices {
    fn default() -> Self {
        CryptoChoices {
            key: SigningKeyChoice::Idp,
            key_info: KeyInfoChoice::Signer,
            sign_assertion: true,
            sign_response: false,
            sha1: false,
            encrypt: true,
            encrypt_with: None,
        }
    }
}

impl CryptoChoices {
    /// `encrypt-with { data, key_transport }`: exactly these two algorithms, with the OAEP
    /// digest and MGF left to their defaults.
    pub(crate) fn encrypt_with(data: &str, key_transport: &str) -> EncryptionAlgorithms {
        EncryptionAlgorithms {
            data: data.to_string(),
            key_transport: key_transport.to_string(),
            oaep_digest: None,
            oaep_mgf: None,
        }
    }

    /// The algorithms the assertions are encrypted with (`None`: sent in plaintext), given the
    /// ones chosen for this SP.
    pub(crate) fn encryption(&self, for_sp: &EncryptionAlgorithms) -> Option<EncryptionAlgorithms> {
        self.encrypt
            .then(|| self.encrypt_with.clone().unwrap_or_else(|| for_sp.clone()))
    }

    /// A `ds:Signature` template for the element with ID `id`, signed by `key`, with the
    /// KeyInfo this plan asks for.
    pub(crate) fn signature_template(
        &self,
        id: &str,
        key: &SigningKey,
    ) -> Result<String, MintError> {
        Ok(match self.key_info {
            KeyInfoChoice::Signer => signature_template(id, Some(&key.cert_b64), self.sha1),
            KeyInfoChoice::None => signature_template(id, None, self.sha1),
            KeyInfoChoice::KeyValue => with_key_info(
                signature_template(id, None, self.sha1),
                &rsa_key_value(&key.cert_b64)?,
            ),
        })
    }
}

/// `<ds:KeyInfo>` carrying the bare RSA public key of `cert_b64` as `ds:RSAKeyValue`
/// (XML-DSig 4.4.2.2: Modulus and Exponent as base64 big-endian CryptoBinary, no leading zero
/// octets). The key is taken from the signer's own certificate, so the signature verifies with
/// exactly the key KeyInfo offers.
fn rsa_key_value(cert_b64: &str) -> Result<String, MintError> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let der = b64
        .decode(cert_b64)
        .map_err(|e| XmlSecError::Library(format!("signing certificate is not base64: {e}")))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| XmlSecError::Library(format!("signing certificate: {e}")))?;
    let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = cert.public_key().parsed() else {
        return Err(
            XmlSecError::Unsupported("ds:RSAKeyValue for a non-RSA signing key".into()).into(),
        );
    };
    let unsigned = |b: &[u8]| -> String {
        let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b64.encode(&b[first..])
    };
    Ok(format!(
        "<ds:KeyInfo><ds:KeyValue><ds:RSAKeyValue><ds:Modulus>{}</ds:Modulus><ds:Exponent>{}</ds:Exponent></ds:RSAKeyValue></ds:KeyValue></ds:KeyInfo>",
        unsigned(rsa.modulus),
        unsigned(rsa.exponent)
    ))
}

/// A Signature template (written without KeyInfo) with `key_info` as its last child, where
/// XML-DSig puts KeyInfo (after SignatureValue).
fn with_key_info(template: String, key_info: &str) -> String {
    match template.rfind("</ds:Signature>") {
        Some(end) => format!("{}{key_info}{}", &template[..end], &template[end..]),
        None => template,
    }
}
