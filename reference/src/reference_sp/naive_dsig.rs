//! A home-grown XML-DSig verifier, for the reference SP's naive-verifier flaws only.
//!
//! Teams that find XML-DSig libraries heavy sometimes write the ~100 lines themselves:
//! canonicalise `SignedInfo`, check `SignatureValue`, then for each `Reference` canonicalise the
//! target and compare its digest with `DigestValue`. Classic slips in such code are modelled
//! here, each behind a [`Bug`]:
//!
//! - [`Bug::DigestValueFirstChild`]: `DigestValue` is read from its *first child node*, so a
//!   comment injected before the real value (`<DigestValue><!--forged-->real</DigestValue>`)
//!   supplies the digest, while exclusive c14n drops the comment and `SignedInfo` still
//!   verifies.
//! - [`Bug::ReferencesFromLastSignedInfo`]: `SignatureValue` is checked over the first
//!   `SignedInfo`, the References are taken from the last one, so an attacker appends a second
//!   `SignedInfo` with digests of the forged content.
//! - [`Bug::DigestValueFromDocument`] (issue 13, ruby-saml CVE-2024-45409): `Reference`,
//!   `Transforms`, `DigestMethod` and `DigestValue` are looked up from the document root, so a
//!   forged digest placed earlier in the Response is compared.
//! - [`Bug::HmacWithIdpCert`] (xml-crypto GHSA-c27r-x354-4m68): the document's SignatureMethod
//!   is obeyed, and an HMAC is keyed with the IdP's public certificate.
//! - [`Bug::VerifyErrorAsSuccess`] (SimpleSAMLphp CVE-2016-9814): a verify primitive that
//!   cannot run (-1) counts as success.
//! - [`Bug::C14nErrorAsEmpty`] (ruby-saml CVE-2025-66568 with Nokogiri < 1.19.1, xmlseclibs
//!   < 3.1.4 CVE-2025-66475): a canonicalisation that *fails* yields `""`, which is then
//!   digested and verified as if it were the canonical form.
//!
//! - [`Bug::PiAsText`] (docs/advisories.md S15; xml-crypto's canonicalisers up to 6.1.2,
//!   OneUptime #2988): a processing instruction is canonicalised as its bare data text, so a
//!   signed value can be split into text and a PI that the reader skips.
//!
//! Without those slips the same code is a correct (if minimal) verifier; the strict SP never
//! uses it (it uses xml-sec, see [`super::xmlsec`]). Canonicalisation is xml-sec's, the RSA
//! check aws-lc-rs's.

use super::xml::{DS, SAML};
use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, UnparsedPublicKey};
use base64::Engine;
use xml_sec::c14n::{C14nAlgorithm, canonicalize};
use xml_sec::{Document, Node};

/// Which slip the verifier makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// `DigestValue` = the text of its first child node (a comment, if one was injected).
    DigestValueFirstChild,
    /// References from the last `SignedInfo`, `SignatureValue` over the first.
    ReferencesFromLastSignedInfo,
    // ---- issue 13 ----
    /// `Reference`, `Transforms`, `DigestMethod` and `DigestValue` looked up from the root of
    /// the whole document (ruby-saml's `//ds:DigestValue`), first match.
    DigestValueFromDocument,
    /// An HMAC SignatureMethod is verified with the IdP certificate, in this byte form, as key.
    HmacWithIdpCert(KeyForm),
    /// An error of the verify primitive (-1) counts as success; only a computed mismatch (0)
    /// fails.
    VerifyErrorAsSuccess,
    /// A canonicalisation that fails returns the empty string instead of an error: Nokogiri <
    /// 1.19.1 ignored `xmlC14NExecute`'s -1 and returned `""`; PHP's `DOMNode::C14N()` returns
    /// `false`, which xmlseclibs < 3.1.4 passed on to `hash()` and `openssl_verify()` as `""`.
    /// Verified as those callers do: in the whole Response (the decrypted assertion in place),
    /// SignedInfo canonicalised first, then the Signature detached from the tree (their
    /// enveloped-signature transform) before the referenced element is canonicalised.
    C14nErrorAsEmpty,
    /// A processing instruction is canonicalised as its data, escaped like text, with neither
    /// `<?`, target nor `?>`; a PI with no data is an error. This is xml-crypto's
    /// `processInner` up to 6.1.2 (`src/exclusive-canonicalization.ts` and
    /// `src/c14n-canonicalization.ts`): after the comment case it returns
    /// `encodeSpecialCharactersInText(node.data)` for any node with a truthy `data`, which a
    /// ProcessingInstruction has, and throws "Unable to canonicalize node type" for the rest
    /// (an element is handled before that throw; a PI with empty data reaches it). node-saml
    /// then read the profile from the original document (`textContent`, which skips PIs), not
    /// from the signed bytes, until 5.1.0 (fix 31ead9411ebc3e2385086fa9149b6c17732bca10).
    PiAsText,
}

/// The byte form of the IdP certificate a [`Bug::HmacWithIdpCert`] verifier uses as HMAC key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// `-----BEGIN CERTIFICATE-----` PEM, LF line ends, final newline.
    CertPem,
    /// Base64 DER on one line, as the metadata's `X509Certificate` text.
    CertBase64,
    /// DER.
    CertDer,
    /// `-----BEGIN PUBLIC KEY-----` PEM of the SubjectPublicKeyInfo.
    SpkiPem,
}

/// The IdP's signing keys as the verifier knows them.
#[derive(Debug, Clone, Copy)]
pub struct IdpKeys<'a> {
    /// SubjectPublicKeyInfo DER of each metadata signing certificate.
    pub spki: &'a [Vec<u8>],
    /// The certificates' DER.
    pub certs_der: &'a [Vec<u8>],
}

/// What the verify primitive says, PHP-`openssl_verify`-style: 1, 0 or -1.
enum Outcome {
    Valid,
    Invalid,
    Error(String),
}

fn b64(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(s.split_ascii_whitespace().collect::<String>())
        .map_err(|e| format!("bad base64: {e}"))
}

fn ds<'a, 'i>(n: Node<'a, 'i>, name: &str) -> impl Iterator<Item = Node<'a, 'i>> + use<'a, 'i> {
    let name = name.to_string();
    n.children().filter(move |c| {
        c.is_element() && c.tag_name().namespace() == Some(DS) && c.tag_name().name() == name
    })
}

fn one<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Result<Node<'a, 'i>, String> {
    ds(n, name).next().ok_or_else(|| format!("no ds:{name}"))
}

fn within(n: Node<'_, '_>, apex: Node<'_, '_>) -> bool {
    n.ancestors().any(|a| a.id() == apex.id())
}

/// The canonical form of the `visible` nodes of `doc`. The canonicaliser fails, as Canonical
/// XML 1.0 §2.3 and libxml2 require, when any namespace declaration in the document has a
/// relative URI; under [`Bug::C14nErrorAsEmpty`] a failed run yields `""` (an algorithm the
/// verifier does not know is still an error: that is refused before canonicalising).
fn c14n(
    doc: &Document<'_>,
    visible: &dyn Fn(Node) -> bool,
    algorithm: &str,
    prefix_list: Option<&str>,
    bug: Bug,
) -> Result<Vec<u8>, String> {
    let mut algo = C14nAlgorithm::from_uri(algorithm)
        .ok_or_else(|| format!("unsupported canonicalisation {algorithm}"))?;
    if let Some(list) = prefix_list {
        algo = algo.with_prefix_list(list);
    }
    let mut out = Vec::new();
    match canonicalize(doc, Some(visible), &algo, &mut out) {
        Ok(()) => Ok(out),
        // The slip: the failure is not checked, and the empty output is used.
        Err(_) if bug == Bug::C14nErrorAsEmpty => Ok(Vec::new()),
        Err(e) => Err(format!("canonicalisation failed: {e}")),
    }
}

/// Verify the Assertion's enveloped signature with one of the IdP `keys`, making `bug`.
/// `document_xml` is the Response with the decrypted assertion in place, which only
/// [`Bug::DigestValueFromDocument`] looks at (its assertion is the Response's Assertion child).
pub fn verify(
    assertion_xml: &str,
    document_xml: &str,
    keys: IdpKeys<'_>,
    bug: Bug,
) -> Result<(), String> {
    // The slip: the canonicaliser sees every PI of the signed assertion as text.
    let flattened;
    let assertion_xml = if bug == Bug::PiAsText {
        flattened = flatten_processing_instructions(assertion_xml)?;
        flattened.as_str()
    } else {
        assertion_xml
    };
    let from_document = bug == Bug::DigestValueFromDocument;
    let whole_document = from_document || bug == Bug::C14nErrorAsEmpty;
    let doc = Document::parse(if whole_document {
        document_xml
    } else {
        assertion_xml
    })
    .map_err(|e| e.to_string())?;
    let root = doc.root_element();
    let is_assertion = |n: &Node<'_, '_>| {
        n.is_element()
            && n.tag_name().namespace() == Some(SAML)
            && n.tag_name().name() == "Assertion"
    };
    let assertion = if is_assertion(&root) {
        root
    } else {
        root.children()
            .find(is_assertion)
            .ok_or("no saml:Assertion in the Response")?
    };
    // The document-wide lookup: the first element of that name anywhere (`//ds:name`).
    let first_in_document = |name: &str| {
        doc.descendants().find(|n| {
            n.is_element() && n.tag_name().namespace() == Some(DS) && n.tag_name().name() == name
        })
    };
    let sig = one(assertion, "Signature")?;
    let signed_infos: Vec<_> = ds(sig, "SignedInfo").collect();
    let first = *signed_infos.first().ok_or("no ds:SignedInfo")?;
    let refs_from = match bug {
        Bug::ReferencesFromLastSignedInfo => *signed_infos.last().unwrap_or(&first),
        Bug::DigestValueFirstChild
        | Bug::DigestValueFromDocument
        | Bug::HmacWithIdpCert(_)
        | Bug::VerifyErrorAsSuccess
        | Bug::C14nErrorAsEmpty
        | Bug::PiAsText => first,
    };

    // SignatureValue over the first SignedInfo.
    let c14n_method = one(first, "CanonicalizationMethod")?
        .attribute("Algorithm")
        .unwrap_or_default()
        .to_string();
    let signed_bytes = c14n(&doc, &|n| within(n, first), &c14n_method, None, bug)?;
    let method = one(first, "SignatureMethod")?
        .attribute("Algorithm")
        .unwrap_or_default();
    let value = one(sig, "SignatureValue")?.text().unwrap_or_default();
    match signature_outcome(method, value, &signed_bytes, keys, bug) {
        Outcome::Valid => {}
        Outcome::Invalid => return Err("SignatureValue does not verify with any IdP key".into()),
        // The slip: "not 0" is success.
        Outcome::Error(_) if bug == Bug::VerifyErrorAsSuccess => {}
        Outcome::Error(e) => return Err(e),
    }

    // The References.
    // The C14nErrorAsEmpty callers detach the Signature before digesting (enveloped
    // transform): the references are canonicalised in the document without it.
    let detached_text;
    let detached_doc;
    let (ref_doc, sig_in_ref_doc) = if bug == Bug::C14nErrorAsEmpty {
        let range = sig.range();
        detached_text = format!(
            "{}{}",
            &document_xml[..range.start],
            &document_xml[range.end..]
        );
        detached_doc = Document::parse(&detached_text).map_err(|e| e.to_string())?;
        (&detached_doc, None)
    } else {
        (&doc, Some(sig))
    };
    let refs: Vec<_> = if from_document {
        first_in_document("Reference").into_iter().collect()
    } else {
        ds(refs_from, "Reference").collect()
    };
    if refs.is_empty() {
        return Err("no ds:Reference".into());
    }
    for r in refs {
        let id = r
            .attribute("URI")
            .and_then(|u| u.strip_prefix('#'))
            .ok_or("Reference URI is not a same-document #ID")?;
        let mut with_id = ref_doc
            .descendants()
            .filter(|n| n.is_element() && n.attribute("ID") == Some(id));
        let target = with_id
            .next()
            .ok_or_else(|| format!("no element with ID {id}"))?;
        // The whole-document verifier refuses a duplicated ID (the duplicate-ID wrapping is
        // another flaw's slip, not this one's); the others see only the assertion.
        if bug == Bug::C14nErrorAsEmpty && with_id.next().is_some() {
            return Err(format!("ID {id} is not unique in the document"));
        }
        // Transforms: enveloped-signature, then the (exclusive) canonicalisation named last.
        let mut algorithm = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315".to_string();
        let mut prefix_list = None;
        let transforms = if from_document {
            first_in_document("Transforms").ok_or_else(|| "no ds:Transforms".to_string())
        } else {
            one(r, "Transforms")
        };
        if let Ok(ts) = transforms {
            for t in ds(ts, "Transform") {
                let a = t.attribute("Algorithm").unwrap_or_default();
                if a != "http://www.w3.org/2000/09/xmldsig#enveloped-signature" {
                    algorithm = a.to_string();
                    prefix_list = t
                        .children()
                        .find(|c| c.is_element() && c.tag_name().name() == "InclusiveNamespaces")
                        .and_then(|c| c.attribute("PrefixList"));
                }
            }
        }
        let bytes = c14n(
            ref_doc,
            &|n| within(n, target) && !sig_in_ref_doc.is_some_and(|s| within(n, s)),
            &algorithm,
            prefix_list,
            bug,
        )?;
        let digest_method = if from_document {
            first_in_document("DigestMethod").ok_or("no ds:DigestMethod")?
        } else {
            one(r, "DigestMethod")?
        };
        let digest_alg = match digest_method.attribute("Algorithm") {
            // Reached only when the SP accepts SHA-1.
            Some("http://www.w3.org/2000/09/xmldsig#sha1") => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Some("http://www.w3.org/2001/04/xmlenc#sha256") => &digest::SHA256,
            Some("http://www.w3.org/2001/04/xmldsig-more#sha384") => &digest::SHA384,
            Some("http://www.w3.org/2001/04/xmlenc#sha512") => &digest::SHA512,
            other => return Err(format!("unsupported DigestMethod {other:?}")),
        };
        let computed = digest::digest(digest_alg, &bytes);
        let dv = if from_document {
            first_in_document("DigestValue").ok_or("no ds:DigestValue")?
        } else {
            one(r, "DigestValue")?
        };
        let claimed = match bug {
            Bug::DigestValueFirstChild => dv
                .first_child()
                .and_then(|c| c.text())
                .unwrap_or_default()
                .to_string(),
            Bug::ReferencesFromLastSignedInfo
            | Bug::DigestValueFromDocument
            | Bug::HmacWithIdpCert(_)
            | Bug::VerifyErrorAsSuccess
            | Bug::C14nErrorAsEmpty
            | Bug::PiAsText => dv
                .children()
                .filter(|c| c.is_text())
                .filter_map(|c| c.text())
                .collect(),
        };
        if b64(&claimed)? != computed.as_ref() {
            return Err(format!("digest of #{id} does not match its DigestValue"));
        }
    }
    Ok(())
}

/// [`Bug::PiAsText`]: `xml` with every processing instruction inside its root element replaced
/// by its data, escaped as text (what the flattening canonicaliser writes for it), so that the
/// ordinary canonicalisation of the result is the flattening one of the original. A PI without
/// data cannot be flattened: an error, as xml-crypto's throw is.
fn flatten_processing_instructions(xml: &str) -> Result<String, String> {
    let doc = super::xml::parse(xml).map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(xml.len());
    let mut at = 0;
    for pi in doc
        .root_element()
        .descendants()
        .filter(|n| n.node_type() == roxmltree::NodeType::PI)
    {
        let data = pi
            .pi()
            .and_then(|p| p.value)
            .filter(|v| !v.is_empty())
            .ok_or("unable to canonicalise a processing instruction without data")?;
        let range = pi.range();
        out.push_str(&xml[at..range.start]);
        out.push_str(&super::xml::escape_text(data));
        at = range.end;
    }
    out.push_str(&xml[at..]);
    Ok(out)
}

/// Check `value` over `signed` with the method the document names, returning 1 / 0 / -1 as a
/// C verify primitive would: -1 when it cannot even run (no decodable value, a value of the
/// wrong length for the key, a method that does not fit an RSA key or is unknown).
fn signature_outcome(
    method: &str,
    value: &str,
    signed: &[u8],
    keys: IdpKeys<'_>,
    bug: Bug,
) -> Outcome {
    use aws_lc_rs::hmac;
    let hmac_alg = match method {
        "http://www.w3.org/2000/09/xmldsig#hmac-sha1" => Some(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY),
        "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256" => Some(hmac::HMAC_SHA256),
        _ => None,
    };
    if let Some(alg) = hmac_alg {
        let Bug::HmacWithIdpCert(form) = bug else {
            return Outcome::Error(format!("{method} is not an IdP signature method"));
        };
        let Ok(mac) = b64(value) else {
            return Outcome::Error("SignatureValue is not base64".into());
        };
        // The slip: the IdP's public certificate, in some byte form, as the HMAC secret.
        return if keys.certs_der.iter().zip(keys.spki).any(|(der, spki)| {
            let key = key_bytes(form, der, spki);
            hmac::verify(&hmac::Key::new(alg, &key), signed, &mac).is_ok()
        }) {
            Outcome::Valid
        } else {
            Outcome::Invalid
        };
    }
    let alg: &'static dyn signature::VerificationAlgorithm = match method {
        // Reached only when the SP accepts SHA-1 (verify_assertion refuses it before).
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => {
            &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
            &signature::RSA_PKCS1_2048_8192_SHA256
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => {
            &signature::RSA_PKCS1_2048_8192_SHA384
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            &signature::RSA_PKCS1_2048_8192_SHA512
        }
        other => return Outcome::Error(format!("unsupported SignatureMethod {other}")),
    };
    let value = match b64(value) {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => return Outcome::Error("empty SignatureValue".into()),
        Err(e) => return Outcome::Error(e),
    };
    if keys.spki.iter().all(|k| rsa_modulus_len(k).is_none()) {
        return Outcome::Error(format!("{method} needs an RSA key; the IdP has none"));
    }
    // A value of the wrong length is a 0, not a -1: OpenSSL's RSA_verify reports "wrong
    // signature length" as a failed verification.
    if keys.spki.iter().any(|k| {
        UnparsedPublicKey::new(alg, k)
            .verify(signed, &value)
            .is_ok()
    }) {
        Outcome::Valid
    } else {
        Outcome::Invalid
    }
}

/// The modulus length in bytes of an RSA SubjectPublicKeyInfo.
fn rsa_modulus_len(spki: &[u8]) -> Option<usize> {
    use x509_parser::prelude::FromDer;
    let (_, info) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki).ok()?;
    match info.parsed().ok()? {
        x509_parser::public_key::PublicKey::RSA(rsa) => {
            let m = rsa.modulus;
            Some(m.len() - m.iter().take_while(|b| **b == 0).count())
        }
        _ => None,
    }
}

/// The IdP certificate in the byte form `form`.
fn key_bytes(form: KeyForm, der: &[u8], spki: &[u8]) -> Vec<u8> {
    let engine = &base64::engine::general_purpose::STANDARD;
    let pem = |label: &str, body: &[u8]| {
        let text = engine.encode(body);
        let mut out = format!("-----BEGIN {label}-----\n");
        for line in text.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(line));
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----\n"));
        out.into_bytes()
    };
    match form {
        KeyForm::CertPem => pem("CERTIFICATE", der),
        KeyForm::CertBase64 => engine.encode(der).into_bytes(),
        KeyForm::CertDer => der.to_vec(),
        KeyForm::SpkiPem => pem("PUBLIC KEY", spki),
    }
}

#[cfg(test)]
mod tests {
    use super::flatten_processing_instructions as flatten;

    /// xml-crypto's flattening: a PI becomes its data escaped as text, wherever it sits in the
    /// element; a PI without data is an error; nothing else changes.
    #[test]
    fn processing_instructions_flatten_to_their_data() {
        assert_eq!(
            flatten(r#"<a k="1"><b><?x mock-?>V</b><c>V1<?p a&b<c?>V2</c></a>"#).unwrap(),
            r#"<a k="1"><b>mock-V</b><c>V1a&amp;b&lt;cV2</c></a>"#
        );
        assert_eq!(
            flatten("<a><b>no PI</b></a>").unwrap(),
            "<a><b>no PI</b></a>"
        );
        assert!(flatten("<a><?x?>V</a>").is_err());
    }
}
