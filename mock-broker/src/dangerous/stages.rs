//! Which stage of the mint pipeline each fault acts at: the one exhaustive `match` over
//! [`Fault`].
//!
//! A fault that no stage applies would let a scenario pass while testing nothing, so
//! [`FaultPlan::stages`] matches every variant by name, with no wildcard arm: a new variant does
//! not compile until it is given a stage and a function. The stages, in pipeline order:
//!
//! | stage | acts on | faults |
//! |---|---|---|
//! | model | the [`ResponseModel`], before any XML | `set`, `remove`, `set-attribute`, `remove-attribute`, `remove-name-format`, `add-audience`, `legacy-oiosaml2`, `attribute-profile`, `oiosaml303-assertion`, `status`, `no-assertion`, `privileges` |
//! | crypto | [`CryptoChoices`]: key, KeyInfo, what is signed, SHA-1, encryption | `sign-with`, `key-info`, `unsigned-assertion`, `sign-response`, `sha1`, `no-encryption`, `encrypt-with`; part of `signed-foreign-element` and `xsw` 1–2 |
//! | signed assertion | the first assertion's XML, just signed | `comment-in-name-id`, `comment-in-attribute`, `tamper-after-signing`, `digest-value-comment`, `two-signed-info`, `hmac-key-confusion`, `signature-error`, `void-c14n`, `smuggle-in-signature`, `pi-in-signed-text` |
//! | assembly | the [`Assembly`] of elements, before encryption | `append-unsigned-assertion`, `signed-element-as-first-root`, `signed-foreign-element`, `xsw` 3–8, `digest-value-elsewhere`, `xsw-duplicate-id`, `xsw-signature-in-evil`, `xsw-assertion-signature-on-response`, `namespace-confusion` (all but `undeclared-prefix`), `entity-ref-id` |
//! | response | the written (and signed) Response | `xsw` 1–2 |
//! | document | the final XML text | `doctype`, `replace-text`, `void-c14n` on the Response, `namespace-confusion { variant = "undeclared-prefix" }`, the Response DTD of `entity-ref-id { placement = "extensions" }` |
//!
//! Within a stage, faults apply in plan order; crypto choices are settings, so the last one
//! wins. A Response is wrapped once: the first XSW1/XSW2 of a plan does it.

use super::crypto::CryptoChoices;
use super::{
    DuplicateAttributeVariant, EntityRefIdPlacement, Fault, FaultError, FaultPlan,
    NamespaceVariant, VoidC14nOn, XswVariant, document, duplicate_attribute, model, namespace,
    roundtrip, signed_assertion, wrapping,
};
use crate::identity::TestIdentity;
use crate::saml::assertion::{AssertionModel, ResponseModel};
use crate::saml::mint::{Assembly, MintError, MintInput, SigningKey};
use crate::saml::response::write_assertion;
use crate::saml::xmlsec::{EncryptionAlgorithms, XmlEncryptor, XmlSigner};

/// A model-stage fault, ready to apply.
pub(crate) type ModelStep<'p> =
    Box<dyn Fn(&mut ResponseModel, &MintInput<'_>) -> Result<(), FaultError> + 'p>;
/// An assembly-stage fault, ready to apply.
pub(crate) type AssemblyStep<'p> =
    Box<dyn Fn(&mut Assembly, &StageContext<'_>) -> Result<(), MintError> + 'p>;
/// A fault that edits XML text (the signed assertion, the Response, the final document).
pub(crate) type XmlStep<'p> =
    Box<dyn Fn(&mut String, &StageContext<'_>) -> Result<(), MintError> + 'p>;

/// A fault plan sorted into the pipeline's stages.
pub(crate) struct Stages<'p> {
    /// Edits of the model, in plan order.
    pub model: Vec<ModelStep<'p>>,
    /// The crypto decisions.
    pub crypto: CryptoChoices,
    /// Edits of the first assertion's XML right after signing, in plan order.
    pub signed_assertion: Vec<XmlStep<'p>>,
    /// Element faults on the assembly, in plan order.
    pub assembly: Vec<AssemblyStep<'p>>,
    /// The wrapping of the signed Response (XSW1/XSW2), if any.
    pub response: Option<XmlStep<'p>>,
    /// Edits of the final XML, in plan order.
    pub document: Vec<XmlStep<'p>>,
}

impl FaultPlan {
    /// Sort the plan into stages: each fault's stage, and the function that applies it.
    pub(crate) fn stages(&self) -> Stages<'_> {
        let mut s = Stages::empty();
        for fault in &self.faults {
            match fault {
                // ---- model ----
                Fault::Set { path, value } => {
                    s.add_model(move |m, i| model::set(m, &i.ctx, *path, value))
                }
                Fault::Remove { path } => s.add_model(move |m, _| model::remove(m, *path)),
                Fault::SetAttribute {
                    name,
                    values,
                    name_format,
                } => s.add_model(move |m, i| {
                    model::set_attribute(m, &i.ctx, name, values, name_format.as_deref())
                }),
                Fault::RemoveAttribute { name } => s.add_model(move |m, _| {
                    model::remove_attribute(m, name);
                    Ok(())
                }),
                Fault::RemoveNameFormat { name } => s.add_model(move |m, _| {
                    model::remove_name_format(m, name.as_deref());
                    Ok(())
                }),
                Fault::AddAudience { value, separate } => {
                    s.add_model(move |m, i| model::add_audience(m, &i.ctx, value, *separate))
                }
                Fault::LegacyOiosaml2 => s.add_model(|m, i| {
                    model::legacy_oiosaml2(m, &i.ctx, i.identity);
                    Ok(())
                }),
                Fault::AttributeProfile { profile } => s.add_model(move |m, i| {
                    model::attribute_profile(m, i, *profile);
                    Ok(())
                }),
                Fault::Oiosaml303Assertion => s.add_model(|m, i| {
                    model::oiosaml303_assertion(m, &i.ctx, i.identity, i.loa);
                    Ok(())
                }),
                Fault::Status {
                    code,
                    sub_code,
                    message,
                } => s.add_model(move |m, _| {
                    model::status(m, code, sub_code.as_deref(), message.as_deref());
                    Ok(())
                }),
                Fault::NoAssertion => s.add_model(|m, _| {
                    model::no_assertion(m);
                    Ok(())
                }),

                // ---- crypto ----
                Fault::SignWith { key } => s.crypto.key = *key,
                Fault::KeyInfo { cert } => s.crypto.key_info = *cert,
                Fault::UnsignedAssertion => s.crypto.sign_assertion = false,
                Fault::SignResponse => s.crypto.sign_response = true,
                Fault::Sha1 => s.crypto.sha1 = true,
                Fault::NoEncryption => s.crypto.encrypt = false,
                Fault::EncryptWith {
                    data,
                    key_transport,
                } => s.crypto.encrypt_with = Some(CryptoChoices::encrypt_with(data, key_transport)),

                // ---- signed assertion ----
                Fault::CommentInNameId { after } => s.add_signed_assertion(move |x, _| {
                    signed_assertion::comment_in_name_id(x, *after);
                    Ok(())
                }),
                Fault::CommentInAttribute { name, after } => s.add_signed_assertion(move |x, _| {
                    signed_assertion::comment_in_attribute(x, name, *after);
                    Ok(())
                }),
                Fault::TamperAfterSigning { victim } => s.add_signed_assertion(for_victim(
                    signed_assertion::tamper_after_signing,
                    victim,
                )),
                Fault::DigestValueComment => {
                    s.add_signed_assertion(signed_assertion::digest_value_comment)
                }
                Fault::TwoSignedInfo => s.add_signed_assertion(signed_assertion::two_signed_info),

                // ---- assembly (and response) ----
                Fault::AppendUnsignedAssertion { victim } => {
                    s.add_assembly(for_victim(wrapping::append_unsigned_assertion, victim))
                }
                Fault::SignedElementAsFirstRoot { victim } => {
                    s.add_assembly(for_victim(wrapping::signed_element_as_first_root, victim))
                }
                Fault::SignedForeignElement {
                    keep_assertion_signature,
                } => {
                    // The crypto stage's part: the assertion goes unsigned unless it keeps its
                    // signature (for another fault to invalidate).
                    if !keep_assertion_signature {
                        s.crypto.sign_assertion = false;
                    }
                    s.add_assembly(wrapping::signed_foreign_element)
                }
                Fault::Xsw { variant, victim } => match variant {
                    XswVariant::Xsw1 => s.wrap_response(for_victim(wrapping::xsw1, victim)),
                    XswVariant::Xsw2 => s.wrap_response(for_victim(wrapping::xsw2, victim)),
                    XswVariant::Xsw3 => s.add_assembly(for_victim(wrapping::xsw3, victim)),
                    XswVariant::Xsw4 => s.add_assembly(for_victim(wrapping::xsw4, victim)),
                    XswVariant::Xsw5 => s.add_assembly(for_victim(wrapping::xsw5, victim)),
                    XswVariant::Xsw6 => s.add_assembly(for_victim(wrapping::xsw6, victim)),
                    XswVariant::Xsw7 => s.add_assembly(for_victim(wrapping::xsw7, victim)),
                    XswVariant::Xsw8 => s.add_assembly(for_victim(wrapping::xsw8, victim)),
                },

                // ---- document ----
                Fault::Doctype { subset } => s.add_document(move |x, cx| {
                    document::doctype(x, *subset, cx.input.fetch_recorder_url.as_deref())
                }),
                Fault::ReplaceText { find, replace } => s.add_document(move |x, _| {
                    document::replace_text(x, find, replace);
                    Ok(())
                }),

                // ---- issue 13: published SAML bypass advisories ----
                Fault::DigestValueElsewhere { position } => {
                    s.add_assembly(move |a, cx| wrapping::digest_value_elsewhere(a, cx, *position))
                }
                Fault::XswDuplicateId {
                    original,
                    signature,
                    victim,
                } => s.add_assembly(move |a, cx| {
                    wrapping::xsw_duplicate_id(a, cx, victim, *original, *signature)
                }),
                Fault::XswSignatureInEvil { original, victim } => s.add_assembly(move |a, cx| {
                    wrapping::xsw_signature_in_evil(a, cx, victim, *original)
                }),
                Fault::XswAssertionSignatureOnResponse { original, victim } => {
                    s.add_assembly(move |a, cx| {
                        wrapping::xsw_assertion_signature_on_response(a, cx, victim, *original)
                    })
                }
                Fault::HmacKeyConfusion {
                    alg,
                    encoding,
                    without_key_info,
                } => s.add_signed_assertion(move |x, cx| {
                    signed_assertion::hmac_key_confusion(x, cx, *alg, *encoding, *without_key_info)
                }),
                Fault::SignatureError { kind } => s.add_signed_assertion(move |x, cx| {
                    signed_assertion::signature_error(x, cx, *kind)
                }),
                Fault::SmuggleInSignature {
                    element,
                    place,
                    victim,
                } => s.add_signed_assertion(move |x, cx| {
                    signed_assertion::smuggle_in_signature(x, cx, *element, *place, victim)
                }),
                // ---- issue 15: OIO BPP privileges (model: signed like a genuine login) ----
                Fault::Privileges { groups } => {
                    s.add_model(move |m, _| model::privileges(m, groups))
                }
                Fault::NamespaceConfusion { variant, victim } => match variant {
                    NamespaceVariant::UndeclaredPrefix => s.add_document(|x, _| {
                        namespace::undeclared_prefix(x);
                        Ok(())
                    }),
                    NamespaceVariant::WrongUriEvilFirst
                    | NamespaceVariant::GenuineOddPrefix
                    | NamespaceVariant::OddPrefixEvil
                    | NamespaceVariant::DsWrongUri => {
                        s.add_assembly(move |a, cx| namespace::assembly(a, cx, *variant, victim))
                    }
                },
                // ---- S15: a processing instruction inside signed text ----
                Fault::PiInSignedText {
                    target,
                    split,
                    victim,
                } => s.add_signed_assertion(move |x, cx| {
                    signed_assertion::pi_in_signed_text(x, cx, *target, *split, victim)
                }),
                // ---- S8 remainder: an entity reference in the ID of an evil assertion ----
                Fault::EntityRefId {
                    placement,
                    signature,
                    victim,
                } => {
                    s.add_assembly(move |a, cx| {
                        wrapping::entity_ref_id(a, cx, victim, *placement, *signature)
                    });
                    // In plaintext the DTD belongs to the Response, written after the assembly.
                    if *placement == EntityRefIdPlacement::Extensions {
                        s.add_document(document::entity_id_doctype);
                    }
                }
                // ---- S10: forms Go's encoding/xml does not write back unchanged ----
                Fault::Roundtrip { variant } => s.add_document(move |x, _| {
                    roundtrip::insert(x, *variant);
                    Ok(())
                }),
                // ---- S10: xmldom ≤ 0.4.0 duplicated attributes (CVE-2021-21366) ----
                Fault::DuplicateAttribute { variant, victim } => match variant {
                    DuplicateAttributeVariant::XmlnsEvilFirst
                    | DuplicateAttributeVariant::DefaultXmlnsEvilFirst => {
                        s.add_assembly(move |a, cx| {
                            duplicate_attribute::assembly(a, cx, *variant, victim)
                        })
                    }
                    DuplicateAttributeVariant::DefaultXmlnsSameUri
                    | DuplicateAttributeVariant::PlainAttribute => s.add_document(move |x, _| {
                        duplicate_attribute::insert(x, *variant);
                        Ok(())
                    }),
                },
                Fault::VoidC14n { on } => {
                    s.add_signed_assertion(move |x, cx| signed_assertion::void_c14n(x, cx, *on));
                    // The Response is written after the assertion: its part is a text edit.
                    if *on == VoidC14nOn::Response {
                        s.add_document(|x, _| {
                            document::relative_namespace_on_response(x);
                            Ok(())
                        });
                    }
                }
            }
        }
        s
    }
}

impl<'p> Stages<'p> {
    /// No faults: every stage does what a correct login does.
    fn empty() -> Self {
        Stages {
            model: Vec::new(),
            crypto: CryptoChoices::default(),
            signed_assertion: Vec::new(),
            assembly: Vec::new(),
            response: None,
            document: Vec::new(),
        }
    }

    fn add_model(
        &mut self,
        f: impl Fn(&mut ResponseModel, &MintInput<'_>) -> Result<(), FaultError> + 'p,
    ) {
        self.model.push(Box::new(f));
    }

    fn add_signed_assertion(
        &mut self,
        f: impl Fn(&mut String, &StageContext<'_>) -> Result<(), MintError> + 'p,
    ) {
        self.signed_assertion.push(Box::new(f));
    }

    fn add_assembly(
        &mut self,
        f: impl Fn(&mut Assembly, &StageContext<'_>) -> Result<(), MintError> + 'p,
    ) {
        self.assembly.push(Box::new(f));
    }

    /// XSW1/XSW2 need a signed Response to wrap, so the crypto stage signs it; a Response can
    /// be wrapped only once, so the first of them wins.
    fn wrap_response(
        &mut self,
        f: impl Fn(&mut String, &StageContext<'_>) -> Result<(), MintError> + 'p,
    ) {
        self.crypto.sign_response = true;
        if self.response.is_none() {
            self.response = Some(Box::new(f));
        }
    }

    fn add_document(
        &mut self,
        f: impl Fn(&mut String, &StageContext<'_>) -> Result<(), MintError> + 'p,
    ) {
        self.document.push(Box::new(f));
    }
}

/// A fault function that names a victim, bound to the victim its fault names.
fn for_victim<'p, T>(
    f: fn(&mut T, &StageContext<'_>, &Option<String>) -> Result<(), MintError>,
    victim: &'p Option<String>,
) -> impl Fn(&mut T, &StageContext<'_>) -> Result<(), MintError> + 'p
where
    T: 'p,
{
    move |target, cx| f(target, cx, victim)
}

/// What the stages after the model need: the input, the faulted model, the crypto choices
/// and the XML-security implementations. The pipeline signs and encrypts the genuine elements
/// through it too, so a forged element is always made exactly like a genuine one.
#[derive(Debug)]
pub(crate) struct StageContext<'a> {
    /// The mint's input.
    pub input: &'a MintInput<'a>,
    /// The model after the model stage.
    pub model: &'a ResponseModel,
    /// The crypto decisions.
    pub crypto: &'a CryptoChoices,
    /// The encryption algorithms (`None`: plaintext), from the crypto choices and the SP.
    pub encryption: Option<EncryptionAlgorithms>,
    /// XML-DSig.
    pub signer: &'a dyn XmlSigner,
    /// XML-Enc.
    pub encryptor: &'a dyn XmlEncryptor,
}

impl<'a> StageContext<'a> {
    /// The context for `model` under `crypto`.
    pub(crate) fn new(
        input: &'a MintInput<'a>,
        model: &'a ResponseModel,
        crypto: &'a CryptoChoices,
        signer: &'a dyn XmlSigner,
        encryptor: &'a dyn XmlEncryptor,
    ) -> Self {
        StageContext {
            input,
            model,
            crypto,
            encryption: crypto.encryption(&input.encryption),
            signer,
            encryptor,
        }
    }

    /// `a` written with an enveloped signature by `key`, under the crypto choices.
    pub(crate) fn sign_assertion(
        &self,
        a: &AssertionModel,
        key: &SigningKey,
    ) -> Result<String, MintError> {
        let id = a.id.clone().unwrap_or_default();
        let tpl = self.crypto.signature_template(&id, key)?;
        let xml = write_assertion(a, Some(&tpl));
        Ok(self
            .signer
            .sign_enveloped(xml, &key.signer, self.crypto.sha1)?)
    }

    /// An assertion element as it goes into the Response: a `saml:EncryptedAssertion` when the
    /// plan encrypts, else as is.
    pub(crate) fn seal(&self, assertion: &str) -> Result<String, MintError> {
        match &self.encryption {
            Some(algs) => {
                let cert = self
                    .input
                    .sp_encryption_cert
                    .ok_or(MintError::NoEncryptionCert)?;
                let ed = self.encryptor.encrypt_element(assertion, cert, algs)?;
                Ok(format!(
                    "<saml:EncryptedAssertion>{ed}</saml:EncryptedAssertion>"
                ))
            }
            None => Ok(assertion.to_string()),
        }
    }

    /// The identity a forging fault names, or by default another identity of the same kind
    /// (person or professional) than the one logging in, else any other.
    pub(crate) fn victim(&self, name: &Option<String>) -> Result<&'a TestIdentity, FaultError> {
        let input = self.input;
        match name {
            Some(n) => input
                .identities
                .get(n)
                .ok_or_else(|| FaultError::UnknownIdentity(n.clone())),
            None => input
                .identities
                .iter()
                .find(|i| i.kind == input.identity.kind && i.id != input.identity.id)
                .or_else(|| input.identities.iter().find(|i| i.id != input.identity.id))
                .ok_or_else(|| FaultError::UnknownIdentity("<any other identity>".into())),
        }
    }

    /// A well-formed assertion for the victim, as the IdP would issue it. Its ID is derived
    /// from this response's own (seeded) assertion ID plus `suffix`, never fixed: an SP that
    /// accepted one forgery must not reject the next as a replay of the same ID.
    pub(crate) fn evil_assertion(
        &self,
        victim: &Option<String>,
        suffix: &str,
    ) -> Result<AssertionModel, MintError> {
        let v = self.victim(victim)?;
        let mut c = self.input.ctx.clone();
        c.assertion_id = format!("{}{suffix}", self.input.ctx.assertion_id);
        Ok(self
            .input
            .genuine_response(&c, v, self.input.loa)
            .assertions
            .remove(0))
    }
}
