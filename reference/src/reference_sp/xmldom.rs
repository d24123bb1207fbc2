//! The `XmldomReserializeBeforeRead` flaw (docs/advisories.md S10, the namespace half of xmldom
//! CVE-2021-21366 / GHSA-h6q6-9hqw-rwfv): what xmldom up to 0.4.0 makes of a start tag that
//! carries an attribute twice, on the first parse and after serialise → parse.
//!
//! Facts from the 0.4.0 sources (and checked by running xmldom 0.4.0 from npm):
//! - `sax.js` `appendElement` walks a tag's attributes from the last to the first, so of two
//!   declarations of one prefix (or of the default namespace) the *first* in the text binds the
//!   names of the element, its attributes and its content;
//! - `dom-parser.js` `startElement` adds each attribute with `setAttributeNode`, which replaces
//!   one of the same name: the DOM keeps one attribute, in the first one's place, with the
//!   *last* value;
//! - `dom.js` `serializeToString` writes the attributes and then, for the element and each
//!   prefixed attribute whose namespace is not the last one it recorded for that prefix
//!   (`needNamespaceDefine`; the record is never unwound after an element ends), one more
//!   declaration.
//!
//! So `<saml:Assertion xmlns:saml="A" xmlns:saml="B">` is in `A` on the first parse and is
//! written `<saml:Assertion xmlns:saml="B" xmlns:saml="A">`, in `B` when parsed again. The fix
//! (0.5.0, merge d4201b9) makes a duplicated attribute a fatal error; the strict SP's parser
//! refuses it too (see `xml::parse`).
//!
//! The views are text, so the strict parser reads them: [`first_parse`] collapses each
//! duplicate to what the first parse means by it, [`round_trip`] writes the document as the
//! 0.4.0 serialiser does and collapses that the same way (the second parse).

/// Namespace of the `xml` prefix.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// One attribute of a start tag as written: name, quote and raw value.
#[derive(Clone)]
struct Attr {
    name: String,
    quote: char,
    value: String,
}

impl Attr {
    /// The prefix a namespace declaration declares (`""` for the default namespace).
    fn declares(&self) -> Option<&str> {
        if self.name == "xmlns" {
            Some("")
        } else {
            self.name.strip_prefix("xmlns:")
        }
    }

    fn write(&self, out: &mut String) {
        out.push(' ');
        out.push_str(&self.name);
        out.push('=');
        out.push(self.quote);
        out.push_str(&self.value);
        out.push(self.quote);
    }
}

/// A start tag: name, attributes, and whether it closes itself.
struct Tag {
    name: String,
    attrs: Vec<Attr>,
    empty: bool,
}

impl Tag {
    fn has_duplicates(&self) -> bool {
        self.attrs
            .iter()
            .enumerate()
            .any(|(i, a)| self.attrs[..i].iter().any(|b| b.name == a.name))
    }

    /// The attributes as the first parse means them: one per name, in the first one's place;
    /// a namespace declaration with the first value (the one that binds), any other attribute
    /// with the last (the one the DOM keeps).
    fn collapsed(&self, dom: bool) -> Vec<Attr> {
        let mut out: Vec<Attr> = Vec::with_capacity(self.attrs.len());
        for a in &self.attrs {
            match out.iter_mut().find(|b| b.name == a.name) {
                Some(b) if dom || a.declares().is_none() => *b = a.clone(),
                Some(_) => {}
                None => out.push(a.clone()),
            }
        }
        out
    }

    fn write(&self, attrs: &[Attr], out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for a in attrs {
            a.write(out);
        }
        out.push_str(if self.empty { "/>" } else { ">" });
    }
}

/// The pieces of a document: start tags, and everything else as written.
enum Piece<'t> {
    Start(Tag, &'t str),
    End,
    Other(&'t str),
}

/// Split `text` into pieces; `None` where it is not something the scanner can follow.
fn pieces(text: &str) -> Option<Vec<Piece<'_>>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let len = if !rest.starts_with('<') {
            rest.find('<').unwrap_or(rest.len())
        } else if rest.starts_with("<!--") {
            rest.find("-->")? + 3
        } else if rest.starts_with("<![CDATA[") {
            rest.find("]]>")? + 3
        } else if rest.starts_with("<?") {
            rest.find("?>")? + 2
        } else if rest.starts_with("<!") {
            rest.find('>')? + 1
        } else if rest.starts_with("</") {
            let len = rest.find('>')? + 1;
            out.push(Piece::Other(&rest[..len]));
            out.push(Piece::End);
            rest = &rest[len..];
            continue;
        } else {
            let (tag, len) = start_tag(rest)?;
            out.push(Piece::Start(tag, &rest[..len]));
            rest = &rest[len..];
            continue;
        };
        out.push(Piece::Other(&rest[..len]));
        rest = &rest[len..];
    }
    Some(out)
}

/// The start tag at the start of `s` and its byte length.
fn start_tag(s: &str) -> Option<(Tag, usize)> {
    let body = &s[1..];
    let name_len = body.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
    let name = body[..name_len].to_string();
    let mut i = 1 + name_len;
    let mut attrs = Vec::new();
    loop {
        let rest = &s[i..];
        let trimmed = rest.trim_start();
        i += rest.len() - trimmed.len();
        if trimmed.starts_with("/>") {
            return Some((
                Tag {
                    name,
                    attrs,
                    empty: true,
                },
                i + 2,
            ));
        }
        if trimmed.starts_with('>') {
            return Some((
                Tag {
                    name,
                    attrs,
                    empty: false,
                },
                i + 1,
            ));
        }
        let eq = trimmed.find('=')?;
        let attr_name = trimmed[..eq].trim_end().to_string();
        if attr_name.is_empty() || attr_name.contains(['<', '>', '/']) {
            return None;
        }
        let after = trimmed[eq + 1..].trim_start();
        let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let close = after[1..].find(quote)?;
        attrs.push(Attr {
            name: attr_name,
            quote,
            value: after[1..1 + close].to_string(),
        });
        i += trimmed.len() - after.len() + 1 + close + 1;
    }
}

/// `text` with every duplicated attribute collapsed as xmldom ≤ 0.4.0's parse means it (the
/// first namespace declaration binds; the last value of any other attribute is kept). Tags
/// without a duplicate are left byte for byte; `None` when the scanner cannot follow `text`.
pub(crate) fn first_parse(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for p in pieces(text)? {
        match p {
            Piece::Start(t, _) if t.has_duplicates() => t.write(&t.collapsed(false), &mut out),
            Piece::Start(_, raw) => out.push_str(raw),
            Piece::End => {}
            Piece::Other(s) => out.push_str(s),
        }
    }
    Some(out)
}

/// `text` parsed, serialised and parsed again by xmldom ≤ 0.4.0, as [`first_parse`] text.
pub(crate) fn round_trip(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 64);
    // The bindings of the first parse, innermost last (one frame per open element).
    let mut scope: Vec<Vec<(String, String)>> = Vec::new();
    // The serialiser's record of declarations written, never unwound.
    let mut visible: Vec<(String, String)> = Vec::new();
    let lookup = |scope: &[Vec<(String, String)>], prefix: &str| -> Option<String> {
        if prefix == "xml" {
            return Some(XML_NS.to_string());
        }
        scope
            .iter()
            .rev()
            .find_map(|f| f.iter().find(|(p, _)| p == prefix).map(|(_, u)| u.clone()))
    };
    // `needNamespaceDefine`: the last declaration recorded for `prefix` is not `uri`.
    let needs = |visible: &[(String, String)], prefix: &str, uri: &str| -> bool {
        if prefix == "xml" && uri == XML_NS {
            return false;
        }
        visible
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .is_none_or(|(_, u)| u != uri)
    };
    for p in pieces(text)? {
        match p {
            Piece::Start(t, _) => {
                // First parse: the first declaration of a prefix binds.
                let mut frame: Vec<(String, String)> = Vec::new();
                for a in &t.attrs {
                    if let Some(prefix) = a.declares()
                        && !frame.iter().any(|(p, _)| p == prefix)
                    {
                        frame.push((prefix.to_string(), a.value.clone()));
                    }
                }
                scope.push(frame);
                let dom = t.collapsed(true);
                for a in &dom {
                    if let Some(prefix) = a.declares() {
                        visible.push((prefix.to_string(), a.value.clone()));
                    }
                }
                out.push('<');
                out.push_str(&t.name);
                for a in &dom {
                    if a.declares().is_none()
                        && let Some((prefix, _)) = a.name.split_once(':')
                        && let Some(uri) = lookup(&scope, prefix)
                        && needs(&visible, prefix, &uri)
                    {
                        out.push_str(&format!(r#" xmlns:{prefix}="{uri}""#));
                        visible.push((prefix.to_string(), uri));
                    }
                    a.write(&mut out);
                }
                let prefix = t.name.split_once(':').map_or("", |(p, _)| p);
                if let Some(uri) = lookup(&scope, prefix)
                    && needs(&visible, prefix, &uri)
                {
                    if prefix.is_empty() {
                        out.push_str(&format!(r#" xmlns="{uri}""#));
                    } else {
                        out.push_str(&format!(r#" xmlns:{prefix}="{uri}""#));
                    }
                    visible.push((prefix.to_string(), uri));
                }
                out.push_str(if t.empty { "/>" } else { ">" });
                if t.empty {
                    scope.pop();
                }
            }
            Piece::End => {
                scope.pop();
            }
            Piece::Other(s) => out.push_str(s),
        }
    }
    first_parse(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

    #[test]
    fn documents_without_duplicates_are_unchanged() {
        let x = r#"<?xml version="1.0"?><p:R xmlns:p="urn:p" a='x"y'><!-- <c a="1" a="2"> --><p:E xml:lang="da">t &amp; <![CDATA[<x a="1" a="1">]]></p:E><e/></p:R>"#;
        assert_eq!(first_parse(x).unwrap(), x);
        assert_eq!(round_trip(x).unwrap(), x);
    }

    #[test]
    fn a_prefix_declared_twice_moves_to_the_last_uri_on_the_round_trip() {
        let x = format!(
            r#"<saml:Assertion xmlns:saml="urn:other" xmlns:saml="{S}" ID="evil"><saml:NameID>v</saml:NameID><saml:Assertion xmlns:saml="{S}" ID="g"/></saml:Assertion>"#
        );
        let first = first_parse(&x).unwrap();
        let d = roxmltree::Document::parse(&first).unwrap();
        assert_eq!(d.root_element().tag_name().namespace(), Some("urn:other"));
        let ids: Vec<_> = d
            .descendants()
            .filter(|n| n.tag_name().namespace() == Some(S))
            .filter_map(|n| n.attribute("ID"))
            .collect();
        assert_eq!(ids, ["g"]);
        let again = round_trip(&x).unwrap();
        let d = roxmltree::Document::parse(&again).unwrap();
        assert_eq!(d.root_element().tag_name().namespace(), Some(S), "{again}");
        let name_id = d.descendants().find(|n| n.has_tag_name("NameID")).unwrap();
        assert_eq!(name_id.tag_name().namespace(), Some(S));
    }

    #[test]
    fn the_default_namespace_declared_twice_moves_too() {
        let x =
            format!(r#"<Assertion xmlns="urn:other" xmlns="{S}"><NameID>v</NameID></Assertion>"#);
        let first = first_parse(&x).unwrap();
        assert_eq!(
            first,
            r#"<Assertion xmlns="urn:other"><NameID>v</NameID></Assertion>"#
        );
        let again = round_trip(&x).unwrap();
        let d = roxmltree::Document::parse(&again).unwrap();
        assert_eq!(d.root_element().tag_name().namespace(), Some(S), "{again}");
    }

    #[test]
    fn a_plain_duplicate_keeps_the_last_value() {
        let x = r#"<R a="1" b='2' a="3"/>"#;
        assert_eq!(first_parse(x).unwrap(), r#"<R a="3" b='2'/>"#);
        assert_eq!(round_trip(x).unwrap(), r#"<R a="3" b='2'/>"#);
    }
}
