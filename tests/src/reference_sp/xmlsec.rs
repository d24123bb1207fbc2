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

use xml_sec::api::Operation;
use xml_sec::key_manager::{KeyInventory, KeyUsages};
use xml_sec::policy::{
    CompiledPolicies, PolicyCompileContext, PolicyCompiler, PolicyProfile, ResourcePolicy,
};
use xml_sec::provider::RustCryptoProvider;
use xml_sec::xmldsig::{
    SignatureAlgorithm, SignatureRequirement, VerificationKey, VerificationRequest,
};
use xml_sec::xmlenc::DecryptedContent;
use xml_sec::{NodeIdentity, XmlSecurity};

static PROVIDER: RustCryptoProvider = RustCryptoProvider;

/// Name of the SP's decryption key in the inventory.
const SP_KEY: &str = "sp-encryption";

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
    inventory: KeyInventory,
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
    /// Compile the policies and import the SP's decryption key (PKCS#8 DER).
    pub fn new(sp_key_pkcs8_der: &[u8]) -> Result<XmlCrypto, CryptoSetupError> {
        let mut inventory = KeyInventory::default();
        inventory
            .add_private_der(
                SP_KEY.to_string(),
                sp_key_pkcs8_der,
                None,
                KeyUsages::DECRYPT,
                &ResourcePolicy::default(),
            )
            .map_err(|e| CryptoSetupError::Key(e.to_string()))?;
        Ok(XmlCrypto {
            saml: compile(PolicyProfile::SecureSaml)?,
            modern: compile(PolicyProfile::Modern)?,
            compatible: compile(PolicyProfile::XmlSecCompatible)?,
            inventory,
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
        let resolver = security
            .decryption_key(&self.inventory, SP_KEY)
            .map_err(err)?;
        match security
            .decryptor(&*resolver)
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
