//! Decryption and signature verification for the reference SP, with the `xml-sec` crate.
//!
//! The broker signs and encrypts with bergshamra. If the SP verified with bergshamra too, a bug
//! shared by signer and verifier (a canonicalisation slip, a lax reference resolver) would make
//! every scenario pass while proving nothing: we would be grading our own homework. `xml-sec`
//! shares no code with bergshamra, so an assertion the strict SP accepts really is a valid
//! XML-DSig signature by an independent implementation.
//!
//! Three policy sets are compiled once:
//! - `SecureSaml` (strict): SAML signature placement, enveloped + exc-c14n only, modern
//!   algorithms, and "expected target" evidence: the signature must cover the very element the
//!   SP is about to consume.
//! - `Modern`: the same algorithms without the SAML placement rules, for the deliberately naive
//!   `AnySignatureInDocument` flaw (a signature anywhere, over anything).
//! - `XmlSecCompatible`: also permits SHA-1, for the `AcceptSha1` flaw only.
//!
//! The RSA-OAEP private-key operation itself (unwrapping the AES key) is delegated through
//! xml-sec's `KeyRecoveryKey` hook to aws-lc-rs: xml-sec still parses and checks the
//! EncryptedData/EncryptedKey structure and algorithms and does the AES-GCM decryption, but the
//! RustCrypto 3072-bit RSA private operation cost ~20 ms per login, which the thousands of
//! logins of the discrimination tests cannot afford. (The broker encrypts with bergshamra; the
//! shared piece is only the RSA primitive, not any XML-Enc processing.)

use std::sync::Arc;
use xml_sec::api::Operation;
use xml_sec::policy::{CompiledPolicies, PolicyCompileContext, PolicyCompiler, PolicyProfile};
use xml_sec::provider::{
    CryptoProvider, KeyRecoveryKey, ProviderError, ProviderOperation, RustCryptoProvider,
};
use xml_sec::xmldsig::{
    SignatureAlgorithm, SignatureRequirement, VerificationKey, VerificationRequest,
};
use xml_sec::xmlenc::{
    DecryptedContent, OaepDigestAlgorithm, PrivateKeyDecryptor, RsaOaepParameters,
};
use xml_sec::{NodeIdentity, XmlSecurity};

static PROVIDER: RustCryptoProvider = RustCryptoProvider;

/// Which verification policy to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyPolicy {
    /// SAML placement, modern algorithms (the strict SP).
    SecureSaml,
    /// Modern algorithms, any placement (the naive XSW-vulnerable flaw).
    Modern,
    /// Legacy algorithms (SHA-1) allowed (the `AcceptSha1` flaw).
    Compatible,
}

/// Setting up the crypto failed (bad key or policy compilation).
#[derive(Debug, thiserror::Error)]
pub enum CryptoSetupError {
    /// A policy did not compile.
    #[error("xml-sec policy {0:?}: {1}")]
    Policy(PolicyProfile, String),
    /// The SP private key did not import.
    #[error("SP private key: {0}")]
    Key(String),
}

/// A decryption or verification failure, in words for the rejection page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CryptoError(pub String);

fn err(e: impl std::fmt::Display) -> CryptoError {
    CryptoError(e.to_string())
}

/// The SP's XML security engine.
pub struct XmlCrypto {
    saml: CompiledPolicies,
    modern: CompiledPolicies,
    compatible: CompiledPolicies,
    decryptor: PrivateKeyDecryptor,
}

impl std::fmt::Debug for XmlCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("XmlCrypto(xml-sec)")
    }
}

fn compile(profile: PolicyProfile) -> Result<CompiledPolicies, CryptoSetupError> {
    PolicyCompiler::new(profile, &PROVIDER, None)
        .and_then(|c| {
            c.compile(&PolicyCompileContext {
                external_resources: false,
                target_evidence: true,
            })
        })
        .map_err(|e| CryptoSetupError::Policy(profile, e.to_string()))
}

impl XmlCrypto {
    /// Compile the policies and load the SP's decryption key (PKCS#8 DER) and certificate.
    pub fn new(sp_key_pkcs8_der: &[u8], sp_cert_der: &[u8]) -> Result<XmlCrypto, CryptoSetupError> {
        let key = AwsLcRecoveryKey::new(sp_key_pkcs8_der, sp_cert_der)?;
        Ok(XmlCrypto {
            saml: compile(PolicyProfile::SecureSaml)?,
            modern: compile(PolicyProfile::Modern)?,
            compatible: compile(PolicyProfile::XmlSecCompatible)?,
            decryptor: PrivateKeyDecryptor::provider_key(Arc::new(key)),
        })
    }

    fn security(&self, p: VerifyPolicy) -> Result<XmlSecurity<'_>, CryptoError> {
        let policies = match p {
            VerifyPolicy::SecureSaml => &self.saml,
            VerifyPolicy::Modern => &self.modern,
            VerifyPolicy::Compatible => &self.compatible,
        };
        XmlSecurity::new(policies, &PROVIDER).map_err(err)
    }

    /// Decrypt a standalone `xenc:EncryptedData` element with the SP key; the plaintext must be
    /// XML (an element).
    pub fn decrypt(&self, encrypted_data_xml: &str) -> Result<String, CryptoError> {
        let security = self.security(VerifyPolicy::SecureSaml)?;
        match security
            .decryptor(&self.decryptor)
            .map_err(err)?
            .decrypt_fragment(encrypted_data_xml)
        {
            Ok(DecryptedContent::Xml(x)) => Ok(x),
            Ok(DecryptedContent::Bytes(_)) => Err(CryptoError(
                "EncryptedData decrypted to binary data, not XML".into(),
            )),
            Err(e) => Err(err(e)),
        }
    }

    /// Verify that `xml`'s target element (its root when `target_id` is `None`, else the
    /// element with that ID) is covered by a valid signature made with one of `trusted_spkis`,
    /// under `policy`. `algorithm_uri` is the SignatureMethod the document names (the key is
    /// bound to exactly that algorithm, so a document cannot pick a weaker one than the
    /// policy allows).
    pub fn verify_target(
        &self,
        xml: &str,
        target_id: Option<&str>,
        algorithm_uri: &str,
        trusted_spkis: &[Vec<u8>],
        policy: VerifyPolicy,
        requirement: SignatureRequirement,
    ) -> Result<(), CryptoError> {
        let algorithm = SignatureAlgorithm::from_uri(algorithm_uri)
            .ok_or_else(|| CryptoError(format!("unsupported SignatureMethod {algorithm_uri:?}")))?;
        let security = self.security(policy)?;
        let document = security
            .parse_document(xml.to_string(), Operation::Verify)
            .map_err(err)?;
        let target: NodeIdentity = match target_id {
            None => document.with_view(|v| v.root_element()),
            Some(id) => document
                .with_view(|v| v.node_for_id(id, &[]))
                .ok_or_else(|| {
                    CryptoError(format!("signed element ID {id:?} is absent or not unique"))
                })?,
        };
        let mut last = CryptoError("no trusted IdP signing key".into());
        for spki in trusted_spkis {
            let key = VerificationKey {
                algorithm,
                public_key_bytes: spki.clone(),
                certificate_der: None,
                name: None,
            };
            let verifier = security.verifier().map_err(err)?.key(&key);
            let request = VerificationRequest {
                expected_targets: &[target],
                signatures: requirement,
                ..Default::default()
            };
            match verifier.verify(&document, &request) {
                Ok(evidence) => match evidence.accepted(&document) {
                    Ok(true) => return Ok(()),
                    Ok(false) => {
                        last = CryptoError(describe_failure(&evidence));
                    }
                    Err(e) => last = err(e),
                },
                Err(e) => last = err(e),
            }
        }
        Err(last)
    }
}

fn describe_failure(evidence: &xml_sec::xmldsig::VerifyEvidence) -> String {
    let reasons: Vec<String> = evidence
        .signatures()
        .iter()
        .map(|s| match s.result() {
            Ok(r) => format!("{:?}", r.status),
            Err(e) => e.to_string(),
        })
        .collect();
    if reasons.is_empty() {
        "the document carries no signature".into()
    } else {
        format!(
            "no valid signature by a trusted IdP key covers the assertion ({})",
            reasons.join("; ")
        )
    }
}

/// The SP's RSA key as an xml-sec key-recovery handle, with the private operation in aws-lc-rs.
struct AwsLcRecoveryKey {
    key: aws_lc_rs::rsa::OaepPrivateDecryptingKey,
    modulus_bits: usize,
    exponent: Option<u64>,
    ciphertext_len: usize,
}

impl AwsLcRecoveryKey {
    fn new(pkcs8: &[u8], cert_der: &[u8]) -> Result<Self, CryptoSetupError> {
        let bad = |e: String| CryptoSetupError::Key(e);
        let private = aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(pkcs8)
            .map_err(|e| bad(e.to_string()))?;
        let key = aws_lc_rs::rsa::OaepPrivateDecryptingKey::new(private)
            .map_err(|e| bad(e.to_string()))?;
        let (_, cert) =
            x509_parser::parse_x509_certificate(cert_der).map_err(|e| bad(e.to_string()))?;
        let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = cert.public_key().parsed() else {
            return Err(bad("the SP certificate does not hold an RSA key".into()));
        };
        let modulus = strip_zeros(rsa.modulus);
        let exponent = strip_zeros(rsa.exponent);
        let modulus_bits = match modulus.first() {
            Some(b) => modulus.len() * 8 - b.leading_zeros() as usize,
            None => 0,
        };
        if modulus_bits != key.key_size_bits() {
            return Err(bad(
                "the SP certificate does not match the SP private key".into()
            ));
        }
        Ok(AwsLcRecoveryKey {
            key,
            modulus_bits,
            exponent: (exponent.len() <= 8)
                .then(|| exponent.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b))),
            ciphertext_len: modulus.len(),
        })
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
    &b[i..]
}

impl KeyRecoveryKey for AwsLcRecoveryKey {
    fn rsa_modulus_bits(&self) -> usize {
        self.modulus_bits
    }

    fn rsa_public_exponent(&self) -> Option<u64> {
        self.exponent
    }

    fn ciphertext_len(&self) -> usize {
        self.ciphertext_len
    }

    fn recover_with_provider(
        &self,
        _provider: &dyn CryptoProvider,
        parameters: &RsaOaepParameters,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, ProviderError> {
        use OaepDigestAlgorithm as D;
        use aws_lc_rs::rsa::{
            OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
            OAEP_SHA512_MGF1SHA512,
        };
        let algorithm = match (parameters.digest, parameters.mgf_digest) {
            (D::Sha1, D::Sha1) => &OAEP_SHA1_MGF1SHA1,
            (D::Sha256, D::Sha256) => &OAEP_SHA256_MGF1SHA256,
            (D::Sha384, D::Sha384) => &OAEP_SHA384_MGF1SHA384,
            (D::Sha512, D::Sha512) => &OAEP_SHA512_MGF1SHA512,
            (d, m) => {
                return Err(ProviderError::Unsupported {
                    operation: ProviderOperation::KeyRecovery,
                    algorithm: Some(format!("RSA-OAEP digest {d:?} with MGF1 {m:?}")),
                });
            }
        };
        let mut out = vec![0u8; self.ciphertext_len];
        let label = (!parameters.label.is_empty()).then_some(parameters.label.as_slice());
        let plain = self
            .key
            .decrypt(algorithm, ciphertext, &mut out, label)
            .map_err(|_| ProviderError::AuthenticationFailed)?;
        Ok(plain.to_vec())
    }
}
