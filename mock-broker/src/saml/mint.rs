//! Minting a login response: model -> faults -> XML -> sign -> wrap -> encrypt -> Response.
//!
//! This is the one pipeline behind the SSO endpoint, the `mint` CLI command and the benchmarks.
//! It runs the stages of the fault plan ([`crate::dangerous`]) at their points of the data path,
//! so a correct login is simply the empty plan: every stage then does what NemLog-in does.
//! What each fault does, and at which stage, is the dangerous module's business; this module
//! only orders the stages.

use super::assertion::{ModelContext, ResponseModel, oiosaml3_response};
use super::response::{write_assertion, write_response};
use super::xmlsec::{EncryptionAlgorithms, XmlEncryptor, XmlSecError, XmlSigner};
use crate::dangerous::{FaultError, FaultPlan, SigningKeyChoice, StageContext};
use crate::identity::{IdentityStore, TestIdentity};
use crate::nsis::Loa;
use crate::pki::RsaSigner;
use std::sync::Arc;

/// Placeholder expansion in fault values (kept here for callers of the earlier path).
pub use crate::dangerous::expand_placeholders;

/// A signing key with the certificate that goes into KeyInfo.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// The parsed private key.
    pub signer: Arc<RsaSigner>,
    /// Base64 DER of the certificate.
    pub cert_b64: String,
}

/// The keys a broker can sign with (the dangerous choices included).
#[derive(Debug, Clone)]
pub struct SigningKeys {
    /// The OCES3 IdP key published in metadata.
    pub idp: SigningKey,
    /// The second OCES3 IdP key (rotation), also published.
    pub idp_next: SigningKey,
    /// The OCES2-era key, not published.
    pub oces2: SigningKey,
    /// The self-signed attacker key.
    pub attacker: SigningKey,
}

impl SigningKeys {
    /// The mock keys from the built-in PKI fixtures.
    pub fn mock() -> Result<Self, crate::pki::PkiError> {
        let pki = crate::pki::MockPki::builtin();
        let k = |c: &crate::pki::Credential| -> Result<SigningKey, crate::pki::PkiError> {
            Ok(SigningKey {
                signer: Arc::new(c.rsa_signer()?),
                cert_b64: c.cert_base64(),
            })
        };
        Ok(SigningKeys {
            idp: k(&pki.idp_oces3)?,
            idp_next: k(&pki.idp_oces3_next)?,
            oces2: k(&pki.idp_oces2)?,
            attacker: k(&pki.attacker)?,
        })
    }

    /// The mock keys, but with the user's own IdP key and certificate in place of the mock
    /// OCES3 IdP credential (e.g. a test certificate their SP already trusts).
    pub fn with_idp(cred: &crate::pki::Credential) -> Result<Self, crate::pki::PkiError> {
        let mut k = Self::mock()?;
        k.idp = SigningKey {
            signer: Arc::new(cred.rsa_signer()?),
            cert_b64: cred.cert_base64(),
        };
        Ok(k)
    }

    pub(crate) fn choose(&self, c: SigningKeyChoice) -> &SigningKey {
        match c {
            SigningKeyChoice::Idp => &self.idp,
            SigningKeyChoice::IdpNext => &self.idp_next,
            SigningKeyChoice::Oces2 => &self.oces2,
            SigningKeyChoice::Attacker => &self.attacker,
        }
    }
}

/// Everything one mint needs.
#[derive(Debug)]
pub struct MintInput<'a> {
    /// Model context (entity IDs, ACS, IDs, clock).
    pub ctx: ModelContext,
    /// Who logs in.
    pub identity: &'a TestIdentity,
    /// At which LoA.
    pub loa: Loa,
    /// All identities (victims of wrapping faults are looked up here).
    pub identities: &'a IdentityStore,
    /// The SP's encryption certificate (DER), from its metadata.
    pub sp_encryption_cert: Option<&'a [u8]>,
    /// Encryption algorithms chosen for this SP.
    pub encryption: EncryptionAlgorithms,
    /// Faults to apply.
    pub plan: &'a FaultPlan,
    /// Signing keys.
    pub keys: &'a SigningKeys,
    /// URL of the broker's fetch recorder for this flow (DOCTYPE fault).
    pub fetch_recorder_url: Option<String>,
    /// OIOSAML 4.0: the profile and specVersion of the assertion (`None`: OIOSAML 3.0.3).
    pub oiosaml4: Option<super::oiosaml4::Oiosaml4Assertion>,
}

impl MintInput<'_> {
    /// The response NemLog-in would send for `identity` at `loa` in this input's profile
    /// version (what the model stage starts from, and what forged assertions imitate). A
    /// 4.0 identity that does not fit the flow's profile gets the default profile of its own
    /// kind.
    pub(crate) fn genuine_response(
        &self,
        ctx: &ModelContext,
        identity: &TestIdentity,
        loa: Loa,
    ) -> ResponseModel {
        match &self.oiosaml4 {
            None => oiosaml3_response(ctx, identity, loa),
            Some(a) => {
                let mut a = a.clone();
                if !a.profile.fits(identity) {
                    a.profile = super::oiosaml4::AttributeProfile::default_for(identity);
                }
                super::oiosaml4::oiosaml4_response(ctx, identity, loa, &a)
            }
        }
    }
}

/// The result of a mint.
#[derive(Debug, Clone)]
pub struct Minted {
    /// The final `samlp:Response` XML (what is base64-encoded into `SAMLResponse`).
    pub response_xml: String,
    /// The (first) assertion as signed, before encryption, for debugging.
    pub signed_assertion_xml: Option<String>,
    /// The encryption algorithms used, when the assertion was encrypted.
    pub encryption: Option<EncryptionAlgorithms>,
    /// The model after faults (what the response claims).
    pub model: ResponseModel,
}

/// Errors while minting.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// A fault could not be applied.
    #[error(transparent)]
    Fault(#[from] FaultError),
    /// Signing or encryption failed.
    #[error(transparent)]
    XmlSec(#[from] XmlSecError),
    /// The SP has no encryption certificate but the profile requires encryption.
    #[error(
        "the SP's metadata has no encryption certificate (KeyDescriptor use=\"encryption\"); OIOSAML 3 requires encrypted assertions"
    )]
    NoEncryptionCert,
}

/// What the Response is assembled from besides its model: the assertions in order, and the
/// elements that structural faults place around them.
#[derive(Debug, Default)]
pub(crate) struct Assembly {
    /// The assertions, each signed (or not) as the crypto stage chose.
    pub fragments: Vec<Fragment>,
    /// Finished elements written inside the Response before the assertions (never encrypted).
    pub prefix: Vec<String>,
    /// `samlp:Extensions`. It has a fixed place in the Response (after Issuer and Signature,
    /// before Status), so it is inserted there when the Response is written.
    pub extensions: Option<String>,
    /// A top-level element written before the Response (a second root).
    pub first_root: Option<String>,
    /// A `ds:Signature` written where a Response signature sits (after the Issuer) in a
    /// Response that is not itself signed (`xsw-assertion-signature-on-response`, issue 13).
    pub response_signature: Option<String>,
}

/// One assertion element of the [`Assembly`].
#[derive(Debug)]
pub(crate) struct Fragment {
    /// The assertion's XML.
    pub xml: String,
    /// Encrypt it when the plan encrypts (a fault may send one in plaintext regardless).
    pub encrypt: bool,
}

impl Fragment {
    /// An assertion that is encrypted when the plan encrypts.
    pub(crate) fn assertion(xml: String) -> Self {
        Fragment { xml, encrypt: true }
    }
}

/// Mint a response under the plan: model faults, then sign each assertion, edit the signed
/// one, assemble, encrypt, write (and perhaps sign) the Response, wrap it, edit the document.
pub fn mint(
    input: &MintInput<'_>,
    signer: &dyn XmlSigner,
    encryptor: &dyn XmlEncryptor,
) -> Result<Minted, MintError> {
    let stages = input.plan.stages();

    // ---- model ----
    let mut model = input.genuine_response(&input.ctx, input.identity, input.loa);
    for fault in &stages.model {
        fault(&mut model, input)?;
    }

    let crypto = &stages.crypto;
    let cx = StageContext::new(input, &model, crypto, signer, encryptor);
    let key = input.keys.choose(crypto.key);

    // ---- assertions, signed, and the first one's post-signing edits ----
    let mut asm = Assembly::default();
    for a in &model.assertions {
        let xml = if crypto.sign_assertion {
            cx.sign_assertion(a, key)?
        } else {
            write_assertion(a, None)
        };
        asm.fragments.push(Fragment::assertion(xml));
    }
    let signed_first = asm.fragments.first().map(|f| f.xml.clone());
    if let Some(first) = asm.fragments.first_mut() {
        for fault in &stages.signed_assertion {
            fault(&mut first.xml, &cx)?;
        }
    }

    // ---- assembly ----
    for fault in &stages.assembly {
        fault(&mut asm, &cx)?;
    }

    // ---- encryption ----
    let mut elements = std::mem::take(&mut asm.prefix);
    for f in &asm.fragments {
        elements.push(if f.encrypt {
            cx.seal(&f.xml)?
        } else {
            f.xml.clone()
        });
    }

    // ---- response ----
    let extensions = asm.extensions.as_deref();
    let mut response_xml = if crypto.sign_response {
        let tpl = crypto.signature_template(model.id.as_deref().unwrap_or_default(), key)?;
        let xml = with_extensions(
            write_response_with_signature(&model, &elements, Some(&tpl)),
            extensions,
        );
        signer.sign_enveloped(xml, &key.signer, crypto.sha1)?
    } else {
        with_extensions(
            write_response_with_signature(&model, &elements, asm.response_signature.as_deref()),
            extensions,
        )
    };
    if let Some(wrap) = &stages.response {
        wrap(&mut response_xml, &cx)?;
    }
    if let Some(root) = asm.first_root {
        response_xml = format!("{root}{response_xml}");
    }

    // ---- document ----
    for fault in &stages.document {
        fault(&mut response_xml, &cx)?;
    }

    let encryption = cx.encryption;
    Ok(Minted {
        response_xml,
        signed_assertion_xml: signed_first,
        encryption,
        model,
    })
}

/// `response` with `samlp:Extensions` in its place: before Status, or last when there is none.
fn with_extensions(response: String, extensions: Option<&str>) -> String {
    match extensions {
        Some(e) => match response.find("<samlp:Status") {
            Some(p) => format!("{}{e}{}", &response[..p], &response[p..]),
            None => response.replacen("</samlp:Response>", &format!("{e}</samlp:Response>"), 1),
        },
        None => response,
    }
}

/// The Response written around `fragments`, with `sig` (a Signature or its template, or what a
/// wrapping fault puts there) right after its Issuer, or first when it has none.
pub(crate) fn write_response_with_signature(
    model: &ResponseModel,
    fragments: &[String],
    sig: Option<&str>,
) -> String {
    match sig {
        None => write_response(model, fragments),
        Some(sig) => {
            let base = write_response(model, fragments);
            match base.find("</saml:Issuer>") {
                Some(p) if model.issuer.is_some() => {
                    let at = p + "</saml:Issuer>".len();
                    format!("{}{}{}", &base[..at], sig, &base[at..])
                }
                _ => {
                    let at = base.find('>').map(|p| p + 1).unwrap_or(0);
                    format!("{}{}{}", &base[..at], sig, &base[at..])
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dangerous::Fault;
    use crate::saml::ns;

    fn ctx() -> ModelContext {
        ModelContext {
            idp_entity_id: "https://idp.example".into(),
            sp_entity_id: "https://sp.example".into(),
            acs_url: "https://sp.example/acs".into(),
            in_response_to: Some("_req".into()),
            now: time::macros::datetime!(2026-01-01 12:00:00.987 UTC),
            authn_instant: None,
            response_id: "_r".into(),
            assertion_id: "_a".into(),
            session_index: "_s".into(),
            requested_attributes: None,
            conditions_lifetime: time::Duration::hours(1),
            confirmation_lifetime: time::Duration::minutes(5),
            transient_name_id: None,
        }
    }

    #[test]
    fn remove_name_format_drops_only_the_named_attribute_or_all() {
        let ids = IdentityStore::builtin();
        let keys = SigningKeys::mock().unwrap();
        let mint_with = |faults: Vec<Fault>| {
            let plan = FaultPlan::new(faults.into_iter().chain([Fault::NoEncryption]).collect());
            let input = MintInput {
                ctx: ctx(),
                identity: ids.get("anna").unwrap(),
                loa: Loa::Substantial,
                identities: &ids,
                sp_encryption_cert: None,
                encryption: super::super::xmlsec::EncryptionAlgorithms::nemlogin_default(),
                plan: &plan,
                keys: &keys,
                fetch_recorder_url: None,
                oiosaml4: None,
            };
            let b = super::super::xmlsec::Bergshamra;
            mint(&input, &b, &b).unwrap().response_xml
        };
        let loa = format!(r#"<saml:Attribute Name="{}" NameFormat="#, ns::attr::LOA);
        let spec = format!(
            r#"<saml:Attribute Name="{}" NameFormat="#,
            ns::attr::SPEC_VERSION
        );
        let one = mint_with(vec![Fault::RemoveNameFormat {
            name: Some(ns::attr::LOA.into()),
        }]);
        assert!(!one.contains(&loa) && one.contains(&spec), "{one}");
        let all = mint_with(vec![Fault::RemoveNameFormat { name: None }]);
        assert!(!all.contains("NameFormat="), "{all}");
        assert!(all.contains(&format!(r#"<saml:Attribute Name="{}""#, ns::attr::LOA)));
    }
}
