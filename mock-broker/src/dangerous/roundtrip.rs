//! `roundtrip` (docs/advisories.md S10; crewjam/saml CVE-2020-27846, dex CVE-2020-26290):
//! token forms that Go's `encoding/xml` reads but does not write back unchanged.
//!
//! Mattermost's disclosure (December 2020) showed three: attribute namespace prefixes,
//! directives inside elements and element names with more than one colon mutate when a
//! document goes through `xml.Decoder` and `xml.Encoder`, so an SP that verifies one parse and
//! reads another (dex serialised the verified etree element and unmarshalled the result;
//! crewjam/saml read with `xml.Unmarshal` what it had verified through etree) can read
//! something other than what it verified. The fixes (crewjam/saml 0.4.3, dex 2.27, gosaml2
//! 0.6.0) run `github.com/mattermost/xml-roundtrip-validator` on every message and refuse one
//! with any such token. None of the forms is namespace-well-formed XML, so a strict parser
//! refuses the message outright; the fault places each in a `samlp:Extensions` of the
//! Response, outside the signed and encrypted assertion, so the genuine login is intact.

use super::RoundtripVariant;

/// The (declared) prefix of the element that carries each form.
pub(crate) const PREFIX: &str = "nlx";
/// What that prefix is bound to.
pub(crate) const NS: &str = "urn:mock:nemlogin-extension";

/// The element holding `variant`'s form, as it is sent.
pub(crate) fn element(variant: RoundtripVariant) -> String {
    let p = PREFIX;
    match variant {
        // An `xmlns:` with no local name, after the element's own default namespace.
        RoundtripVariant::AttrXmlnsPrefix => format!(
            r#"<{p}:LoginHint xmlns:{p}="{NS}" xmlns="{NS}" xmlns:="urn:mock:roundtrip"><Value>mitid</Value></{p}:LoginHint>"#
        ),
        // The validator's directive case (its comment rejoins `<` and `!--` when written back).
        RoundtripVariant::DirectiveInElement => format!(
            r#"<{p}:LoginHint xmlns:{p}="{NS}"><! <<!-- -->!-- x --> y>mitid</{p}:LoginHint>"#
        ),
        // Two colons in the start and end tag names.
        RoundtripVariant::DoubleColonName => {
            format!(r#"<{p}:mitid:LoginHint xmlns:{p}="{NS}">mitid</{p}:mitid:LoginHint>"#)
        }
    }
}

/// Put `variant`'s element in the Response's `samlp:Extensions` (its schema place, before
/// `samlp:Status`; inside an Extensions another fault wrote).
pub(crate) fn insert(response: &mut String, variant: RoundtripVariant) {
    super::document::insert_in_extensions(response, &element(variant));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::ns;

    #[test]
    fn every_form_makes_the_response_refused_by_a_strict_parser() {
        for v in [
            RoundtripVariant::AttrXmlnsPrefix,
            RoundtripVariant::DirectiveInElement,
            RoundtripVariant::DoubleColonName,
        ] {
            let mut r = format!(
                r#"<samlp:Response xmlns:samlp="{}"><samlp:Status/></samlp:Response>"#,
                ns::SAMLP
            );
            assert!(roxmltree::Document::parse(&r).is_ok());
            insert(&mut r, v);
            assert!(r.contains("<samlp:Extensions><nlx:"), "{r}");
            assert!(roxmltree::Document::parse(&r).is_err(), "{v:?}: {r}");
        }
        // Inside an existing Extensions.
        let mut r = format!(
            r#"<samlp:Response xmlns:samlp="{}"><samlp:Extensions></samlp:Extensions><samlp:Status/></samlp:Response>"#,
            ns::SAMLP
        );
        insert(&mut r, RoundtripVariant::DoubleColonName);
        assert_eq!(r.matches("<samlp:Extensions>").count(), 1);
        assert!(
            r.contains("</nlx:mitid:LoginHint></samlp:Extensions>"),
            "{r}"
        );
    }
}
