//! A certificate with (optionally) its private key: the unit the broker signs, encrypts and
//! publishes metadata with.
//!
//! Loading checks that the key belongs to the certificate. A user who points the broker at a key
//! and a certificate from two different pairs otherwise gets assertions that no SP can verify,
//! which is far harder to diagnose than an error at start-up.

use super::der::{self, tag};
use super::dn;
use super::error::PkiError;
use super::key::{self, KeyAlg, PrivateKey};
use super::signer::{EcSigner, RsaSigner, spki_bit_string};
use base64::Engine as _;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate};

/// A certificate, its parsed facts, and optionally its private key. Cheap to clone (`Arc`).
#[derive(Clone)]
pub struct Credential {
    inner: Arc<Inner>,
}

struct Inner {
    cert_der: Vec<u8>,
    key: Option<PrivateKey>,
    subject: String,
    issuer: String,
    spki_der: Vec<u8>,
    public_alg: Option<KeyAlg>,
    key_bits: usize,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    rsa_signer: OnceLock<RsaSigner>,
    ec_signer: OnceLock<EcSigner>,
}

impl std::fmt::Debug for Credential {
    // Never prints key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("subject", &self.inner.subject)
            .field("issuer", &self.inner.issuer)
            .field("key_bits", &self.inner.key_bits)
            .field("has_private_key", &self.inner.key.is_some())
            .finish()
    }
}

impl Credential {
    /// Loads a credential from PEM text: an optional private key (PKCS#8 "PRIVATE KEY", PKCS#1
    /// "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY") and a certificate (the first "CERTIFICATE"
    /// block is used, so a chain file works).
    pub fn from_pem(key_pem: Option<&str>, cert_pem: &str) -> Result<Credential, PkiError> {
        Self::from_pem_named(key_pem, cert_pem, "key PEM text", "certificate PEM text")
    }

    /// Loads a key file and a certificate file (PEM, as for [`Credential::from_pem`]).
    pub fn from_pem_files(key: &Path, cert: &Path) -> Result<Credential, PkiError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| PkiError::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        let key_text = read(key)?;
        let cert_text = read(cert)?;
        Self::from_pem_named(
            Some(&key_text),
            &cert_text,
            &key.display().to_string(),
            &cert.display().to_string(),
        )
    }

    /// A certificate-only credential from DER, e.g. a certificate taken from SP metadata.
    pub fn from_cert_der(cert_der: &[u8]) -> Result<Credential, PkiError> {
        Self::build(None, cert_der, "", "certificate DER")
    }

    /// Like [`Credential::from_pem`], naming the sources in error messages.
    pub(crate) fn from_pem_named(
        key_pem: Option<&str>,
        cert_pem: &str,
        key_source: &str,
        cert_source: &str,
    ) -> Result<Credential, PkiError> {
        let cert_der = cert_der_from_pem(cert_pem).map_err(|reason| PkiError::Cert {
            source_name: cert_source.into(),
            reason,
        })?;
        let key = match key_pem {
            Some(text) => Some(key::from_pem(text).map_err(|reason| PkiError::Key {
                source_name: key_source.into(),
                reason,
            })?),
            None => None,
        };
        Self::build(key, &cert_der, key_source, cert_source)
    }

    fn build(
        key: Option<PrivateKey>,
        cert_der: &[u8],
        key_source: &str,
        cert_source: &str,
    ) -> Result<Credential, PkiError> {
        let cert_err = |reason: String| PkiError::Cert {
            source_name: cert_source.into(),
            reason,
        };
        let (rest, cert) = X509Certificate::from_der(cert_der)
            .map_err(|e| cert_err(format!("not an X.509 certificate: {e}")))?;
        if !rest.is_empty() {
            return Err(cert_err("trailing bytes after the certificate".into()));
        }
        let cert_der = &cert_der[..cert_der.len() - rest.len()];
        let spki_der = cert.public_key().raw.to_vec();
        let alg_oid = cert.public_key().algorithm.algorithm.to_id_string();
        let (public_alg, key_bits) = match alg_oid.as_str() {
            "1.2.840.113549.1.1.1" => {
                let public = key::rsa_public_of_spki(&spki_der)
                    .map_err(|e| cert_err(format!("RSA public key: {e}")))?;
                (Some(KeyAlg::Rsa), public.bits())
            }
            "1.2.840.10045.2.1" => {
                let p256 = der::oid(key::OID_P256);
                let curve_ok = cert
                    .public_key()
                    .algorithm
                    .parameters
                    .as_ref()
                    .is_some_and(|p| p.tag().0 == u32::from(tag::OID) && p.data == &p256[2..]);
                if curve_ok {
                    (Some(KeyAlg::EcP256), 256)
                } else {
                    (None, 0)
                }
            }
            _ => (None, 0),
        };
        let subject = dn::to_rfc4514(cert.subject());
        let issuer = dn::to_rfc4514(cert.issuer());

        if let Some(k) = &key {
            let mismatch = || PkiError::KeyMismatch {
                key_source: key_source.into(),
                cert_source: cert_source.into(),
                subject: subject.clone(),
            };
            if Some(k.alg) != public_alg {
                return Err(mismatch());
            }
            let derived = key::spki_of(k).map_err(|reason| PkiError::Key {
                source_name: key_source.into(),
                reason,
            })?;
            let same = match k.alg {
                KeyAlg::Rsa => {
                    key::rsa_public_of_spki(&derived).ok()
                        == key::rsa_public_of_spki(&spki_der).ok()
                }
                KeyAlg::EcP256 => spki_bit_string(&derived) == spki_bit_string(&spki_der),
            };
            if !same {
                return Err(mismatch());
            }
        }

        Ok(Credential {
            inner: Arc::new(Inner {
                cert_der: cert_der.to_vec(),
                key,
                subject,
                issuer,
                spki_der,
                public_alg,
                key_bits,
                not_before: cert.validity().not_before.to_datetime(),
                not_after: cert.validity().not_after.to_datetime(),
                rsa_signer: OnceLock::new(),
                ec_signer: OnceLock::new(),
            }),
        })
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.inner.cert_der
    }

    /// The certificate as PEM (LF line endings).
    pub fn cert_pem(&self) -> String {
        pem_lf("CERTIFICATE", &self.inner.cert_der)
    }

    /// Single-line base64 of the DER certificate: the content of `ds:X509Certificate` and of
    /// an `x5c` entry.
    pub fn cert_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.inner.cert_der)
    }

    /// The private key as PKCS#8 DER, if the credential has one.
    pub fn key_pkcs8_der(&self) -> Option<&[u8]> {
        self.inner.key.as_ref().map(|k| k.pkcs8.as_slice())
    }

    /// The private key as PKCS#8 PEM ("PRIVATE KEY").
    pub fn key_pkcs8_pem(&self) -> Option<String> {
        self.key_pkcs8_der().map(|d| pem_lf("PRIVATE KEY", d))
    }

    /// The RSA private key as PKCS#1 PEM ("RSA PRIVATE KEY"), the form
    /// `openidconnect::core::CoreRsaPrivateSigningKey::from_pem` requires. `None` for EC keys.
    pub fn key_pkcs1_pem(&self) -> Option<String> {
        let key = self.inner.key.as_ref()?;
        key.pkcs1.as_ref().map(|d| pem_lf("RSA PRIVATE KEY", d))
    }

    /// The certificate's SubjectPublicKeyInfo, DER.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.inner.spki_der.clone()
    }

    /// Subject as an RFC 4514 string (last RDN first), e.g.
    /// `C=DK,organizationIdentifier=NTRDK-…,O=…,serialNumber=UI:DK-O:G:…,CN=…`.
    pub fn subject(&self) -> String {
        self.inner.subject.clone()
    }

    /// Issuer as an RFC 4514 string; the value for `ds:X509IssuerName`.
    pub fn issuer(&self) -> String {
        self.inner.issuer.clone()
    }

    /// Public key size in bits (RSA modulus bits; 256 for P-256; 0 if unknown).
    pub fn key_bits(&self) -> usize {
        self.inner.key_bits
    }

    /// Whether the certificate's key is RSA.
    pub fn is_rsa(&self) -> bool {
        self.inner.public_alg == Some(KeyAlg::Rsa)
    }

    /// Whether the certificate's key is EC P-256.
    pub fn is_ec(&self) -> bool {
        self.inner.public_alg == Some(KeyAlg::EcP256)
    }

    /// Whether a private key was loaded.
    pub fn has_private_key(&self) -> bool {
        self.inner.key.is_some()
    }

    /// Start of the validity period.
    pub fn not_before(&self) -> OffsetDateTime {
        self.inner.not_before
    }

    /// End of the validity period.
    pub fn not_after(&self) -> OffsetDateTime {
        self.inner.not_after
    }

    /// The RSA signer for this credential's key, parsed on first use and cached.
    pub fn rsa_signer(&self) -> Result<RsaSigner, PkiError> {
        if let Some(s) = self.inner.rsa_signer.get() {
            return Ok(s.clone());
        }
        let key = self.private_key(KeyAlg::Rsa, "an RSA key")?;
        let signer = RsaSigner::new(&self.inner.subject, &key.pkcs8, self.inner.key_bits)?;
        let _ = self.inner.rsa_signer.set(signer.clone());
        Ok(signer)
    }

    /// The ES256 signer for this credential's P-256 key, parsed on first use and cached.
    pub fn ec_signer(&self) -> Result<EcSigner, PkiError> {
        if let Some(s) = self.inner.ec_signer.get() {
            return Ok(s.clone());
        }
        let key = self.private_key(KeyAlg::EcP256, "an EC P-256 key")?;
        let signer = EcSigner::new(&self.inner.subject, &key.pkcs8)?;
        let _ = self.inner.ec_signer.set(signer.clone());
        Ok(signer)
    }

    fn private_key(&self, want: KeyAlg, wanted: &'static str) -> Result<&PrivateKey, PkiError> {
        let key = self
            .inner
            .key
            .as_ref()
            .ok_or_else(|| PkiError::NoPrivateKey {
                subject: self.inner.subject.clone(),
            })?;
        if key.alg != want {
            return Err(PkiError::WrongKeyType {
                subject: self.inner.subject.clone(),
                wanted,
                actual: key.alg.name(),
            });
        }
        Ok(key)
    }
}

/// The first CERTIFICATE block of a PEM text, DER-decoded.
fn cert_der_from_pem(text: &str) -> Result<Vec<u8>, String> {
    let blocks = pem::parse_many(text).map_err(|e| format!("not valid PEM: {e}"))?;
    if let Some(b) = blocks.iter().find(|b| b.tag() == "CERTIFICATE") {
        return Ok(b.contents().to_vec());
    }
    if blocks.is_empty() {
        return Err("no PEM block found (expected \"-----BEGIN CERTIFICATE-----\")".into());
    }
    let tags: Vec<&str> = blocks.iter().map(|b| b.tag()).collect();
    Err(format!("no CERTIFICATE block; found {tags:?}"))
}

/// PEM with LF line endings (the `pem` crate defaults to CRLF).
pub(crate) fn pem_lf(tag: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(tag, der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
