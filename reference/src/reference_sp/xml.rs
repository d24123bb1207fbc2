//! Namespace-aware XML helpers for reading SAML with roxmltree (DTDs refused, size capped).
//!
//! Elements are matched on namespace URI and local name, never on prefix. Text is read with
//! [`full_text`] (every text node, so a comment inside a value cannot truncate it); the flawed
//! [`first_text`] exists only so the `FirstTextNode` flaw can reproduce the comment-truncation
//! bug.

/// Largest SAML response the ACS accepts (decoded bytes).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Largest node count of a parsed response.
pub const MAX_NODES: u32 = 50_000;

/// SAML 2.0 assertion namespace.
pub const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol namespace.
pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// XML-DSig namespace.
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML-Enc namespace.
pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

/// Parse untrusted XML: no DTD (roxmltree then never resolves or fetches anything), node cap,
/// and no start tag that declares the default namespace twice.
///
/// roxmltree 0.21 refuses a duplicated attribute and a duplicated prefixed declaration, but
/// not `xmlns="…" xmlns="…"` (it binds the first): not well-formed (XML 1.0 "Unique Att
/// Spec"), and the form whose meaning xmldom ≤ 0.4.0 changed on a round trip
/// (CVE-2021-21366, docs/advisories.md S10), so it is refused here.
pub fn parse(text: &str) -> Result<roxmltree::Document<'_>, roxmltree::Error> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..Default::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts)?;
    // An element's own declarations come first among its namespaces; an inherited default
    // namespace is not copied when the element declares one, so two unnamed entries can only
    // be two declarations in its own start tag.
    if let Some(n) = doc
        .descendants()
        .filter(|n| n.is_element())
        .find(|n| n.namespaces().filter(|ns| ns.name().is_none()).count() > 1)
    {
        return Err(roxmltree::Error::DuplicatedNamespace(
            "xmlns".to_string(),
            doc.text_pos_at(n.range().start),
        ));
    }
    Ok(doc)
}

/// Whether `n` is the element `{ns}local`.
pub fn is(n: roxmltree::Node<'_, '_>, ns: &str, local: &str) -> bool {
    n.is_element() && n.tag_name().name() == local && n.tag_name().namespace() == Some(ns)
}

/// Child elements `{ns}local`.
pub fn children<'a, 'i: 'a>(
    n: roxmltree::Node<'a, 'i>,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    n.children().filter(move |c| is(*c, ns, local))
}

/// First child element `{ns}local`.
pub fn child<'a, 'i: 'a>(
    n: roxmltree::Node<'a, 'i>,
    ns: &'a str,
    local: &'a str,
) -> Option<roxmltree::Node<'a, 'i>> {
    children(n, ns, local).next()
}

/// `{ns}local` of an element, for messages.
pub fn qname(n: roxmltree::Node<'_, '_>) -> String {
    format!(
        "{{{}}}{}",
        n.tag_name().namespace().unwrap_or(""),
        n.tag_name().name()
    )
}

/// All descendant text of an element, concatenated (comments are not text and are skipped,
/// but the text on both sides of a comment is kept).
pub fn full_text(n: roxmltree::Node<'_, '_>) -> String {
    n.descendants()
        .filter(|d| d.is_text())
        .filter_map(|d| d.text())
        .collect()
}

/// Only the first text child: the comment-truncation bug, for the `FirstTextNode` flaw.
pub fn first_text(n: roxmltree::Node<'_, '_>) -> String {
    n.children()
        .find(|c| c.is_text())
        .and_then(|c| c.text())
        .unwrap_or_default()
        .to_string()
}

/// The source text of an element as a standalone document: its own bytes, with every in-scope
/// namespace declaration it inherits added to its start tag. (Cutting an element out of a
/// larger document must not change what its prefixes mean.)
pub fn standalone(n: roxmltree::Node<'_, '_>, source: &str) -> String {
    let text = &source[n.range()];
    let Some(tag_end) = start_tag_end(text) else {
        return text.to_string();
    };
    let start_tag = &text[..tag_end];
    let mut extra = String::new();
    for ns in n.namespaces() {
        let (decl, prefix_ok) = match ns.name() {
            Some("xml") => continue,
            Some(p) => (format!("xmlns:{p}="), true),
            None => ("xmlns=".to_string(), true),
        };
        if prefix_ok && !start_tag.contains(&decl) {
            extra.push(' ');
            extra.push_str(&decl);
            extra.push('"');
            extra.push_str(&escape_attr(ns.uri()));
            extra.push('"');
        }
    }
    // Insert after the element name.
    let name_end = start_tag
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace() || *c == '>' || *c == '/')
        .map(|(i, _)| i)
        .unwrap_or(tag_end);
    format!("{}{}{}", &text[..name_end], extra, &text[name_end..])
}

/// Like [`standalone`], but without the direct children for which `skip` is true.
pub fn standalone_without(
    n: roxmltree::Node<'_, '_>,
    source: &str,
    skip: impl Fn(roxmltree::Node<'_, '_>) -> bool,
) -> String {
    let whole = standalone(n, source);
    let extra = whole.len() - n.range().len();
    // `standalone` only inserted declarations into the start tag, so children keep their
    // offsets relative to the end of the element.
    let base = n.range().start;
    let mut out = String::with_capacity(whole.len());
    let mut at = 0;
    for c in n.children().filter(|c| c.is_element() && skip(*c)) {
        let (s, e) = (c.range().start - base + extra, c.range().end - base + extra);
        out.push_str(&whole[at..s]);
        at = e;
    }
    out.push_str(&whole[at..]);
    out
}

/// Insert `content` right after the start tag that begins `element_text`.
pub fn insert_after_start_tag(element_text: &str, content: &str) -> String {
    match start_tag_end(element_text) {
        Some(i) if !element_text[..i].ends_with('/') => {
            format!("{}{content}{}", &element_text[..=i], &element_text[i + 1..])
        }
        _ => element_text.to_string(),
    }
}

/// Byte offset of the `>` that closes the start tag at the beginning of `text` (quotes aware).
fn start_tag_end(text: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Escape an attribute value.
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Escape text content.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reading_and_standalone_subtrees() {
        let src = r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b"><b:x k="1>2">one<!--c-->two</b:x></a:r>"#;
        let doc = parse(src).unwrap();
        let x = doc.root_element().first_element_child().unwrap();
        assert_eq!(full_text(x), "onetwo");
        assert_eq!(first_text(x), "one");
        let alone = standalone(x, src);
        let d2 = parse(&alone).unwrap();
        assert!(is(d2.root_element(), "urn:b", "x"));
        assert_eq!(d2.root_element().attribute("k"), Some("1>2"));
        assert!(parse("<!DOCTYPE x><x/>").is_err());
        let without = standalone_without(doc.root_element(), src, |c| c.tag_name().name() == "x");
        assert_eq!(without, r#"<a:r xmlns:a="urn:a" xmlns:b="urn:b"></a:r>"#);
        assert_eq!(
            insert_after_start_tag("<p a='>'>t</p>", "<i/>"),
            "<p a='>'><i/>t</p>"
        );
    }
}

#[cfg(test)]
mod duplicate_default_namespace_tests {
    #[test]
    fn a_default_namespace_declared_twice_is_refused() {
        assert!(super::parse(r#"<R><A xmlns="urn:a" xmlns="urn:b"><N/></A></R>"#).is_err());
        assert!(super::parse(r#"<R><A xmlns="urn:a" xmlns="urn:a"/></R>"#).is_err());
        // A redeclaration on a descendant is fine.
        assert!(super::parse(r#"<R xmlns="urn:a"><A xmlns="urn:b"><N xmlns=""/></A></R>"#).is_ok());
        assert!(super::parse(r#"<R xmlns="urn:a"><A><N/></A></R>"#).is_ok());
    }
}
