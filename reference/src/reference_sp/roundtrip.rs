//! The round-trip flaw (docs/advisories.md S10; crewjam/saml CVE-2020-27846, dex
//! CVE-2020-26290): the message is read through Go's `encoding/xml`, written back out and read
//! again, and everything the SP checks comes from the second reading.
//!
//! dex before 2.27 verified the Response (or its assertion) with goxmldsig on an etree parse,
//! serialised the verified tree and `xml.Unmarshal`ed the result; crewjam/saml before 0.4.3
//! verified through etree and read the same bytes with `xml.Unmarshal`. Both parsers are built
//! on `encoding/xml`'s tokenizer, which accepts three forms that are not namespace-well-formed
//! and does not write them back as it read them (Mattermost's disclosure, December 2020, and
//! `mattermost/xml-roundtrip-validator`'s tests):
//!
//! - an `xmlns:` attribute with an empty local name (`xmlns:="…"`): Go before 1.20 takes it for
//!   a declaration of the empty prefix, i.e. a default namespace, and its Encoder skips it
//!   (an attribute with no local name), so the default namespace changes;
//! - a `<!…>` directive inside element content: Go up to 1.15 removed the comments inside it
//!   and wrote `<!` + the rest + `>`, where a `<` and a `!--` the comment had separated now
//!   start a new comment; `xml.Unmarshal` skips directives;
//! - an element name with two colons (`<a:b:c>`): Go before 1.17 split it at the first colon
//!   (prefix `a`, local name `b:c`) and wrote `<b:c xmlns="{a's URI}">`, which the next
//!   reading takes as prefix `b`, local name `c`.
//!
//! [`go_round_trip`] rewrites exactly these forms as that reading, writing and re-reading does
//! and leaves every other byte as it is; undeclared prefixes it leaves behind are then bound as
//! Go's decoder leaves them ([`super::prefix::declare_undeclared`]). The fix (crewjam/saml
//! 0.4.3, dex 2.27, gosaml2 0.6.0) refuses any message with a token that does not survive the
//! round trip; the strict SP refuses them as not namespace-well-formed.

/// The document as the SP reads it after Go's round trip: the three unstable forms inside the
/// root element rewritten, everything else unchanged. A document this scanner cannot follow
/// (an unterminated comment or tag) is returned as it is, for the strict parser to refuse.
pub(crate) fn go_round_trip(text: &str) -> Result<String, String> {
    let Some(out) = rewrite(text) else {
        return Ok(text.to_string());
    };
    super::prefix::declare_undeclared(&out)
}

/// The rewrite; `None` when the scanner cannot follow the markup.
fn rewrite(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Open elements; a directive in the prolog (a DOCTYPE) is left for the DTD checks.
    let mut depth = 0usize;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        let copied = if rest.starts_with("<!--") {
            rest.find("-->")? + 3
        } else if rest.starts_with("<![CDATA[") {
            rest.find("]]>")? + 3
        } else if rest.starts_with("<?") {
            rest.find("?>")? + 2
        } else if rest.starts_with("<!") {
            let end = directive_end(rest)?;
            if depth > 0 {
                // Inside an element: `xml.Unmarshal` skips the directive.
                rest = &rest[end..];
                continue;
            }
            end
        } else if let Some(after) = rest.strip_prefix("</") {
            let close = after.find('>')?;
            let name = after[..close].trim_end();
            out.push_str("</");
            out.push_str(split_name(name).map_or(name, |(_, rewritten)| rewritten));
            out.push('>');
            depth = depth.saturating_sub(1);
            rest = &after[close + 1..];
            continue;
        } else {
            let end = tag_end(rest)?;
            let tag = &rest[..end];
            out.push_str(&start_tag(tag, &out));
            if !tag.ends_with("/>") {
                depth += 1;
            }
            rest = &rest[end..];
            continue;
        };
        out.push_str(&rest[..copied]);
        rest = &rest[copied..];
    }
    out.push_str(rest);
    Some(out)
}

/// Byte length of the directive at the start of `s` (`<!…>`), as Go's tokenizer delimits it:
/// quoted `>` do not end it, nested `<…>` must balance, `<!--…-->` comments are skipped.
fn directive_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 2;
    let mut quote = 0u8;
    let mut depth = 0usize;
    while i < b.len() {
        let c = b[i];
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if b[i..].starts_with(b"<!--") {
            // `i` is at an ASCII `<`, so `i + 4` is a character boundary.
            i += s.get(i + 4..)?.find("-->")? + 4 + 2;
        } else if c == b'<' {
            depth += 1;
        } else if c == b'>' {
            if depth == 0 {
                return Some(i + 1);
            }
            depth -= 1;
        }
        i += 1;
    }
    None
}

/// Byte length of the start tag at the start of `s`, up to its `>` outside quotes.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i + 1),
            (None, _) => {}
        }
    }
    None
}

/// For a name with more than one colon, its first prefix and the name Go writes back (what
/// follows the first colon); `None` for an ordinary name.
fn split_name(name: &str) -> Option<(&str, &str)> {
    if name.matches(':').count() < 2 {
        return None;
    }
    name.split_once(':')
}

/// One start tag (`<…>` or `<…/>`) as written back: a two-colon name loses its first prefix,
/// whose URI becomes the element's default namespace; an `xmlns:` attribute with no local
/// name is dropped. `before` is the output so far, where the prefix's declaration is looked up
/// when the tag itself does not declare it.
fn start_tag(tag: &str, before: &str) -> String {
    let inner = tag
        .strip_prefix('<')
        .unwrap_or(tag)
        .trim_end_matches('>')
        .trim_end_matches('/');
    let name_end = inner
        .find(|c: char| c.is_whitespace())
        .unwrap_or(inner.len());
    let (name, attrs) = inner.split_at(name_end);
    let attrs = drop_empty_xmlns(attrs);
    let close = if tag.ends_with("/>") { "/>" } else { ">" };
    match split_name(name) {
        Some((prefix, rewritten)) => {
            // Go binds the prefix to its in-scope URI (an unbound prefix stays as written).
            let uri = declared_uri(&attrs, prefix)
                .or_else(|| last_declared_uri(before, prefix))
                .unwrap_or_else(|| prefix.to_string());
            format!(r#"<{rewritten} xmlns="{uri}"{attrs}{close}"#)
        }
        None => format!("<{name}{attrs}{close}"),
    }
}

/// `attrs` without any `xmlns:="…"` (an `xmlns:` attribute with an empty local name).
fn drop_empty_xmlns(attrs: &str) -> String {
    let mut out = String::with_capacity(attrs.len());
    let mut rest = attrs;
    while let Some(i) = rest.find("xmlns:=") {
        let after = &rest[i + "xmlns:=".len()..];
        let Some(q @ ('"' | '\'')) = after.chars().next() else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        out.push_str(rest[..i].trim_end());
        rest = &after[1 + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The URI `xmlns:{prefix}` is given in `attrs`, if it is declared there.
fn declared_uri(attrs: &str, prefix: &str) -> Option<String> {
    let needle = format!("xmlns:{prefix}=");
    let i = attrs.find(&needle)?;
    quoted(&attrs[i + needle.len()..])
}

/// The URI of the last `xmlns:{prefix}` declaration in `text` (the nearest one written).
fn last_declared_uri(text: &str, prefix: &str) -> Option<String> {
    let needle = format!("xmlns:{prefix}=");
    let i = text.rfind(&needle)?;
    quoted(&text[i + needle.len()..])
}

/// The value of the quoted string at the start of `s`.
fn quoted(s: &str) -> Option<String> {
    let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let close = s[1..].find(q)?;
    Some(s[1..1 + close].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_documents_are_unchanged() {
        for x in [
            r#"<?xml version="1.0"?><p:R xmlns:p="urn:p" a='x>y'><!-- c <x> --><p:E>t &amp; <![CDATA[<x>]]></p:E><e/></p:R>"#,
            r#"<!DOCTYPE p:R [<!ENTITY e "v"><!-- ]> -->]><p:R xmlns:p="urn:p">&e;</p:R>"#,
            "<R>Søren Ærø <!-- æ --></R>",
        ] {
            assert_eq!(go_round_trip(x).unwrap(), x);
        }
        // What the scanner cannot follow is left to the strict parser.
        assert_eq!(go_round_trip("<a><!-- x").unwrap(), "<a><!-- x");
    }

    #[test]
    fn the_three_forms_are_rewritten_as_go_reads_them_back() {
        // The empty-prefix xmlns is dropped: the element is back in its declared default
        // namespace.
        let x = r#"<R xmlns:n="urn:n"><n:H xmlns="urn:n" xmlns:="urn:other"><V/></n:H></R>"#;
        let r = go_round_trip(x).unwrap();
        assert_eq!(r, r#"<R xmlns:n="urn:n"><n:H xmlns="urn:n"><V/></n:H></R>"#);
        let d = roxmltree::Document::parse(&r).unwrap();
        let v = d.descendants().find(|n| n.has_tag_name("V")).unwrap();
        assert_eq!(v.tag_name().namespace(), Some("urn:n"));

        // The directive inside an element is gone.
        let x = r#"<R><n:H xmlns:n="urn:n"><! <<!-- -->!-- x --> y>mitid</n:H></R>"#;
        assert_eq!(
            go_round_trip(x).unwrap(),
            r#"<R><n:H xmlns:n="urn:n">mitid</n:H></R>"#
        );
        assert_eq!(
            go_round_trip("<R><!X 'æ' <!-- ø -->>æ</R>").unwrap(),
            "<R>æ</R>"
        );

        // The two-colon name: first prefix's URI as default namespace, second prefix kept and
        // bound as Go leaves an undeclared one.
        let x = r#"<R><n:m:H xmlns:n="urn:n">v</n:m:H></R>"#;
        let r = go_round_trip(x).unwrap();
        let d = roxmltree::Document::parse(&r).unwrap();
        let h = d.descendants().find(|n| n.has_tag_name("H")).unwrap();
        assert_eq!(
            h.tag_name().namespace(),
            Some(super::super::prefix::UNDECLARED)
        );
        assert_eq!(h.text(), Some("v"));
        assert!(
            r.contains(r#"<m:H xmlns="urn:n" xmlns:n="urn:n">v</m:H>"#),
            "{r}"
        );
    }
}
