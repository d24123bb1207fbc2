//! Small XML helpers: escaping for the writers, and the one hardened parser entry point.
//!
//! The broker writes every SAML message itself (string building with escaping): that keeps the
//! exact bytes under our control, which the dangerous API needs (a fault can change any byte
//! after signing), and it is several times faster than a DOM writer. Every inbound XML document
//! goes through [`parse_untrusted`], which refuses DTDs (so no XXE, no entity expansion, no
//! external fetch) and caps size and node count.

/// Largest inbound XML document the broker parses (AuthnRequests, LogoutRequests, metadata).
pub const MAX_XML_BYTES: usize = 1024 * 1024;
/// Largest node count of an inbound XML document.
pub const MAX_XML_NODES: u32 = 50_000;

/// Escape text content.
pub fn escape_text(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '\r']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Escape an attribute value (double-quoted).
pub fn escape_attr(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\r', '\n', '\t']) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\n' => out.push_str("&#xA;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Why an inbound XML document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Over [`MAX_XML_BYTES`].
    #[error("XML document is {0} bytes; the limit is {MAX_XML_BYTES}")]
    TooLarge(usize),
    /// A DOCTYPE was present. SAML forbids DTDs; refusing them stops XXE and entity bombs.
    #[error(
        "XML document contains a DOCTYPE declaration; DTDs are not allowed in SAML messages (XXE / entity expansion)"
    )]
    Doctype,
    /// Not well-formed.
    #[error("XML is not well-formed: {0}")]
    Malformed(String),
}

/// Parse an untrusted XML document: DTD refused, size and node count capped.
pub fn parse_untrusted(text: &str) -> Result<roxmltree::Document<'_>, XmlError> {
    if text.len() > MAX_XML_BYTES {
        return Err(XmlError::TooLarge(text.len()));
    }
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_XML_NODES,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts).map_err(|e| match e {
        roxmltree::Error::DtdDetected => XmlError::Doctype,
        other => XmlError::Malformed(other.to_string()),
    })
}

/// First child element with the given namespace and local name.
pub fn child<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ns: &str,
    local: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| {
        c.is_element() && c.tag_name().name() == local && c.tag_name().namespace() == Some(ns)
    })
}

/// All child elements with the given namespace and local name.
pub fn children<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    ns: &'a str,
    local: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    node.children().filter(move |c| {
        c.is_element() && c.tag_name().name() == local && c.tag_name().namespace() == Some(ns)
    })
}

/// Concatenated text of all text descendants (not just the first text node: reading only the
/// first node is the comment-truncation bug class).
pub fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_text("a<b&c>"), "a&lt;b&amp;c&gt;");
        assert_eq!(escape_attr("\"x\"\n"), "&quot;x&quot;&#xA;");
        assert!(matches!(
            escape_text("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn refuses_dtd_and_big_docs() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
        assert_eq!(parse_untrusted(xxe).unwrap_err(), XmlError::Doctype);
        let big = format!("<a>{}</a>", "x".repeat(MAX_XML_BYTES));
        assert!(matches!(parse_untrusted(&big), Err(XmlError::TooLarge(_))));
        assert!(matches!(
            parse_untrusted("<a><b></a>"),
            Err(XmlError::Malformed(_))
        ));
        let doc = parse_untrusted("<a>x<!--c-->y</a>").unwrap();
        assert_eq!(text_of(doc.root_element()), "xy");
    }
}
