//! A home-grown XML-DSig verifier, for two of the reference SP's flaws only.
//!
//! Teams that find XML-DSig libraries heavy sometimes write the ~100 lines themselves:
//! canonicalise `SignedInfo`, check `SignatureValue`, then for each `Reference` canonicalise the
//! target and compare its digest with `DigestValue`. Two classic slips in such code are modelled
//! here, each behind a [`Bug`]:
//!
//! - [`Bug::DigestValueFirstChild`]: `DigestValue` is read from its *first child node*, so a
//!   comment injected before the real value (`<DigestValue><!--forged-->real</DigestValue>`)
//!   supplies the digest, while exclusive c14n drops the comment and `SignedInfo` still
//!   verifies.
//! - [`Bug::ReferencesFromLastSignedInfo`]: `SignatureValue` is checked over the first
//!   `SignedInfo`, the References are taken from the last one, so an attacker appends a second
//!   `SignedInfo` with digests of the forged content.
//!
//! Without those slips the same code is a correct (if minimal) verifier; the strict SP never
//! uses it (it uses xml-sec, see [`super::xmlsec`]). Canonicalisation is xml-sec's, the RSA
//! check aws-lc-rs's.

use super::xml::DS;
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

fn c14n(
    doc: &Document<'_>,
    visible: &dyn Fn(Node) -> bool,
    algorithm: &str,
    prefix_list: Option<&str>,
) -> Result<Vec<u8>, String> {
    let mut algo = C14nAlgorithm::from_uri(algorithm)
        .ok_or_else(|| format!("unsupported canonicalisation {algorithm}"))?;
    if let Some(list) = prefix_list {
        algo = algo.with_prefix_list(list);
    }
    let mut out = Vec::new();
    canonicalize(doc, Some(visible), &algo, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Verify the Assertion's enveloped signature with one of `keys_spki`, making `bug`.
pub fn verify(assertion_xml: &str, keys_spki: &[Vec<u8>], bug: Bug) -> Result<(), String> {
    let doc = Document::parse(assertion_xml).map_err(|e| e.to_string())?;
    let assertion = doc.root_element();
    let sig = one(assertion, "Signature")?;
    let signed_infos: Vec<_> = ds(sig, "SignedInfo").collect();
    let first = *signed_infos.first().ok_or("no ds:SignedInfo")?;
    let refs_from = match bug {
        Bug::ReferencesFromLastSignedInfo => *signed_infos.last().unwrap_or(&first),
        Bug::DigestValueFirstChild => first,
    };

    // SignatureValue over the first SignedInfo.
    let c14n_method = one(first, "CanonicalizationMethod")?
        .attribute("Algorithm")
        .unwrap_or_default()
        .to_string();
    let signed_bytes = c14n(&doc, &|n| within(n, first), &c14n_method, None)?;
    let method = one(first, "SignatureMethod")?
        .attribute("Algorithm")
        .unwrap_or_default();
    let alg: &'static dyn signature::VerificationAlgorithm = match method {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => {
            &signature::RSA_PKCS1_2048_8192_SHA256
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => {
            &signature::RSA_PKCS1_2048_8192_SHA384
        }
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => {
            &signature::RSA_PKCS1_2048_8192_SHA512
        }
        other => return Err(format!("unsupported SignatureMethod {other}")),
    };
    let value = b64(one(sig, "SignatureValue")?.text().unwrap_or_default())?;
    if !keys_spki.iter().any(|k| {
        UnparsedPublicKey::new(alg, k)
            .verify(&signed_bytes, &value)
            .is_ok()
    }) {
        return Err("SignatureValue does not verify with any IdP key".into());
    }

    // The References.
    let refs: Vec<_> = ds(refs_from, "Reference").collect();
    if refs.is_empty() {
        return Err("no ds:Reference".into());
    }
    for r in refs {
        let id = r
            .attribute("URI")
            .and_then(|u| u.strip_prefix('#'))
            .ok_or("Reference URI is not a same-document #ID")?;
        let target = doc
            .descendants()
            .find(|n| n.is_element() && n.attribute("ID") == Some(id))
            .ok_or_else(|| format!("no element with ID {id}"))?;
        // Transforms: enveloped-signature, then the (exclusive) canonicalisation named last.
        let mut algorithm = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315".to_string();
        let mut prefix_list = None;
        if let Ok(ts) = one(r, "Transforms") {
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
            &doc,
            &|n| within(n, target) && !within(n, sig),
            &algorithm,
            prefix_list,
        )?;
        let digest_alg = match one(r, "DigestMethod")?.attribute("Algorithm") {
            Some("http://www.w3.org/2001/04/xmlenc#sha256") => &digest::SHA256,
            Some("http://www.w3.org/2001/04/xmldsig-more#sha384") => &digest::SHA384,
            Some("http://www.w3.org/2001/04/xmlenc#sha512") => &digest::SHA512,
            other => return Err(format!("unsupported DigestMethod {other:?}")),
        };
        let computed = digest::digest(digest_alg, &bytes);
        let dv = one(r, "DigestValue")?;
        let claimed = match bug {
            Bug::DigestValueFirstChild => dv
                .first_child()
                .and_then(|c| c.text())
                .unwrap_or_default()
                .to_string(),
            Bug::ReferencesFromLastSignedInfo => dv
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
