//! The namespace flaws (docs/advisories.md S9; ruby-saml CVE-2025-25292, CVE-2025-66567):
//! reading by qualified name, and parsing documents that are not namespace-well-formed.
//!
//! ruby-saml before 1.18.0 verified with Nokogiri, which names an element by namespace URI
//! and local name, and read with REXML XPath expressions written with fixed prefixes
//! (`/p:Response/a:Assertion[@ID=$id]`, `//ds:Signature`). Wherever the two resolve a name
//! differently, the element verified is not the element read. [`Flaw::MatchByPrefix`] keeps
//! that split in its simplest form: the verifier's view is namespace-aware, the reader's
//! takes `saml:` and `ds:` to mean the SAML and XML-DSig namespaces whatever the document
//! declares. The fix (1.18.0, commit e9c1cdbd) makes the reader read only what the verifier
//! canonicalised; the strict SP has one namespace-aware view for both.
//!
//! [`Flaw::MatchByPrefix`]: super::flaw::Flaw::MatchByPrefix

use super::xml::{self, DS, SAML, is};

/// The URI an undeclared prefix is bound to under `TolerateUndeclaredPrefix`: libxml2 keeps
/// such an element in no namespace; this names that "no known namespace" for roxmltree.
pub(crate) const UNDECLARED: &str = "urn:mock:undeclared-prefix";

/// How many undeclared prefixes the tolerant pre-pass declares before giving up.
const MAX_UNDECLARED: usize = 16;

/// The qualified name of element `n` as written in `source` (`saml:Assertion`, `a:Assertion`).
pub(crate) fn qualified_name<'s>(n: roxmltree::Node<'_, '_>, source: &'s str) -> &'s str {
    let text = &source[n.range()];
    let body = text.strip_prefix('<').unwrap_or(text);
    let end = body
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(body.len());
    &body[..end]
}

/// The prefixes the reader takes as fixed, and what it takes them to mean.
const FIXED: &[(&str, &str)] = &[("saml", SAML), ("ds", DS)];

/// The reader's view of a (decrypted) assertion under `MatchByPrefix`: every declaration of
/// `saml` and `ds` dropped and the fixed meanings declared on the root, so that elements
/// *named* `saml:…`/`ds:…` are what the SP reads, whatever namespace they are in.
pub(crate) fn reader_view(assertion_xml: &str) -> String {
    let mut out = assertion_xml.to_string();
    for (prefix, _) in FIXED {
        out = drop_declarations(&out, prefix);
    }
    let decls: String = FIXED
        .iter()
        .map(|(p, uri)| format!(r#" xmlns:{p}="{uri}""#))
        .collect();
    insert_after_root_name(&out, &decls)
}

/// The verifier's view under `MatchByPrefix`: the first element of the decrypted document that
/// *is* a SAML assertion (namespace URI and local name), cut out with its in-scope
/// declarations; `None` when there is none.
pub(crate) fn verifier_view(assertion_xml: &str) -> Option<String> {
    let doc = xml::parse(assertion_xml).ok()?;
    let a = doc.descendants().find(|n| is(*n, SAML, "Assertion"))?;
    Some(xml::standalone(a, assertion_xml))
}

/// `text` without any `xmlns:<prefix>="…"` (or `'…'`) declaration.
fn drop_declarations(text: &str, prefix: &str) -> String {
    let needle = format!("xmlns:{prefix}=");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&needle) {
        // Only a declaration when it follows whitespace inside a tag.
        let before = &rest[..i];
        let after = &rest[i + needle.len()..];
        let quote = after.chars().next();
        match (before.chars().last(), quote) {
            (Some(w), Some(q @ ('"' | '\''))) if w.is_whitespace() => {
                let Some(close) = after[1..].find(q) else {
                    break;
                };
                out.push_str(before.trim_end());
                rest = &after[1 + close + 1..];
            }
            _ => {
                out.push_str(&rest[..i + needle.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text` with `insert` placed right after the name of its first element's start tag.
fn insert_after_root_name(text: &str, insert: &str) -> String {
    let Some(start) = root_start(text) else {
        return text.to_string();
    };
    let name_end = text[start + 1..]
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .map_or(text.len(), |i| start + 1 + i);
    format!("{}{insert}{}", &text[..name_end], &text[name_end..])
}

/// Byte offset of the `<` of the first element start tag (after any declaration, processing
/// instruction or comment).
fn root_start(text: &str) -> Option<usize> {
    let mut at = 0;
    while let Some(i) = text[at..].find('<') {
        let i = at + i;
        let next = text[i + 1..].chars().next()?;
        if next.is_alphabetic() || next == '_' {
            return Some(i);
        }
        at = i + 1;
    }
    None
}

/// `TolerateUndeclaredPrefix`: `text` with every prefix that is used but declared nowhere in
/// scope declared on the root as [`UNDECLARED`], so the document parses as libxml2 in its
/// recovering mode reads it. `Err` with the parser's message for any other error.
pub(crate) fn declare_undeclared(text: &str) -> Result<String, String> {
    let mut out = text.to_string();
    for _ in 0..MAX_UNDECLARED {
        let undeclared = match xml::parse(&out) {
            Err(roxmltree::Error::UnknownNamespace(prefix, _)) => prefix,
            _ => return Ok(out),
        };
        out = insert_after_root_name(&out, &format!(r#" xmlns:{undeclared}="{UNDECLARED}""#));
    }
    Err(format!(
        "more than {MAX_UNDECLARED} undeclared namespace prefixes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVIL: &str = r#"<saml:Assertion xmlns:saml="urn:mock:not-saml-assertion" ID="_evil"><saml:Issuer>i</saml:Issuer><ds:Signature xmlns:ds="urn:mock:not-dsig"/><a:Assertion xmlns:a="urn:oasis:names:tc:SAML:2.0:assertion" ID="_good"><a:Issuer>i</a:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></a:Assertion></saml:Assertion>"#;

    #[test]
    fn the_two_views_pick_different_assertions() {
        let read = reader_view(EVIL);
        let d = xml::parse(&read).unwrap();
        let root = d.root_element();
        assert!(is(root, SAML, "Assertion"));
        assert_eq!(root.attribute("ID"), Some("_evil"));
        // The bogus signature now reads as a DS Signature.
        assert!(root.children().any(|c| is(c, DS, "Signature")));
        assert_eq!(qualified_name(root, &read), "saml:Assertion");

        let verified = verifier_view(EVIL).unwrap();
        let d = xml::parse(&verified).unwrap();
        assert_eq!(d.root_element().attribute("ID"), Some("_good"));
        assert_eq!(qualified_name(d.root_element(), &verified), "a:Assertion");
    }

    #[test]
    fn a_usual_assertion_reads_the_same_in_both_views() {
        let x = r#"<?xml version="1.0"?><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a"><saml:Issuer>i</saml:Issuer><ds:Signature xmlns:ds='http://www.w3.org/2000/09/xmldsig#'/></saml:Assertion>"#;
        let read = reader_view(x);
        let d = xml::parse(&read).unwrap();
        assert_eq!(d.root_element().attribute("ID"), Some("_a"));
        assert!(d.root_element().children().any(|c| is(c, DS, "Signature")));
        assert_eq!(verifier_view(x).map(|v| v.contains("_a")), Some(true));
        // Text that only looks like a declaration is kept.
        assert_eq!(
            drop_declarations("<x>xmlns:saml=</x>", "saml"),
            "<x>xmlns:saml=</x>"
        );
    }

    #[test]
    fn undeclared_prefixes_are_declared_only_by_the_tolerant_pass() {
        let x = r#"<p:R xmlns:p="urn:p"><p:E><nlx:Hint>h</nlx:Hint><q:X/></p:E></p:R>"#;
        assert!(xml::parse(x).is_err());
        let fixed = declare_undeclared(x).unwrap();
        let d = xml::parse(&fixed).unwrap();
        let hint = d
            .descendants()
            .find(|n| n.tag_name().name() == "Hint")
            .unwrap();
        assert_eq!(hint.tag_name().namespace(), Some(UNDECLARED));
        // A well-formed document is unchanged; other errors stay errors.
        assert_eq!(declare_undeclared("<a/>").unwrap(), "<a/>");
        assert_eq!(declare_undeclared("<a>").unwrap(), "<a>");
    }
}
