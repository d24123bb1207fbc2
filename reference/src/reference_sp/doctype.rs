//! DOCTYPE handling. The strict SP never gets here: its parser refuses any DTD before reading
//! a byte of SAML (and so can never fetch anything). This module is the `ResolveDoctype` flaw:
//! a hand-rolled imitation of an XXE-vulnerable parser that fetches each external entity's
//! SYSTEM URL and substitutes the result. To honour the loopback-only rule it fetches only
//! `http://127.0.0.1…` / `http://localhost…` URLs (the broker's fetch recorder lives there);
//! anything else is substituted with nothing.
//!
//! The milder parser mistakes of docs/advisories.md S8 live here too, each a DTD-reading
//! pre-pass before the strict (DTD-refusing) parser reads the result:
//! - [`expand_internal`] (the `AcceptInternalDtd` flaw: libxml2/Nokogiri, REXML or Xerces with
//!   external entities and the network off, the internal subset and internal entities still
//!   honoured: ruby-saml before CVE-2025-25291's fix refused no DOCTYPE);
//! - [`strip_entityless`] (the `AcceptDtdWithoutEntities` flaw: refuse a DOCTYPE only when it
//!   declares entities, defusedxml's default `forbid_dtd=False, forbid_entities=True`);
//! - [`drop_entity_references`] (the `SkipEntityReferences` flaw's reader view: Xerces keeps
//!   entity-reference nodes, the canonicaliser expands them, XMLTooling before
//!   CVE-2018-0486's fix read only the Text children and so never saw their content).

use std::time::Duration;

/// Largest entity body read.
const MAX_ENTITY_BYTES: usize = 64 * 1024;
/// Most entities processed.
const MAX_ENTITIES: usize = 8;

/// Why a DOCTYPE could not even be resolved by the flawed parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DoctypeError {
    /// The DOCTYPE declaration never ends.
    #[error("unterminated DOCTYPE declaration")]
    Unterminated,
    /// An external entity is declared; the parser loads none, so the document is refused.
    #[error("the DOCTYPE declares external entity {0:?}, which this parser does not load")]
    External(String),
    /// The DOCTYPE declares entities (the only thing the entity-only check looks for).
    #[error("the DOCTYPE declares entities, refused")]
    DeclaresEntities,
    /// Entity expansion exceeded the parser's bounds (a billion-laughs guard).
    #[error("entity expansion exceeds {MAX_EXPANDED_BYTES} bytes or {MAX_EXPANSION_ROUNDS} levels")]
    ExpansionLimit,
}

/// Largest document after internal-entity expansion (libxml2 has a similar amplification guard).
const MAX_EXPANDED_BYTES: usize = 1024 * 1024;
/// Deepest nesting of entity references inside entity values.
const MAX_EXPANSION_ROUNDS: usize = 4;

/// The DOCTYPE of `xml` as (start, end) byte offsets, if there is one.
fn locate(xml: &str) -> Result<Option<(usize, usize)>, DoctypeError> {
    let Some(start) = xml.find("<!DOCTYPE") else {
        return Ok(None);
    };
    let end = doctype_end(&xml[start..]).ok_or(DoctypeError::Unterminated)? + start;
    Ok(Some((start, end)))
}

/// `AcceptInternalDtd`: drop the DOCTYPE and expand its internal entities into the document
/// (their replacement text is markup, as in XML), refusing any external entity declaration.
/// Unchanged when there is no DOCTYPE. Bounded: a few levels of nesting, 1 MiB of output.
pub fn expand_internal(xml: &str) -> Result<String, DoctypeError> {
    let Some((start, end)) = locate(xml)? else {
        return Ok(xml.to_string());
    };
    let entities = parse_entities(&xml[start..end]);
    if let Some(e) = entities.iter().find(|e| e.value.is_none()) {
        return Err(DoctypeError::External(e.name.clone()));
    }
    let rest = format!("{}{}", &xml[..start], &xml[end..]);
    expand(rest, &entities)
}

/// `rest` (a document without its DOCTYPE) with every reference to one of `entities` expanded,
/// bounded as [`expand_internal`] says.
fn expand(mut rest: String, entities: &[Entity]) -> Result<String, DoctypeError> {
    for _ in 0..MAX_EXPANSION_ROUNDS {
        let mut changed = false;
        for e in entities.iter().take(MAX_ENTITIES) {
            let reference = format!("&{};", e.name);
            if rest.contains(&reference) {
                rest = rest.replace(&reference, e.value.as_deref().unwrap_or_default());
                changed = true;
            }
            if rest.len() > MAX_EXPANDED_BYTES {
                return Err(DoctypeError::ExpansionLimit);
            }
        }
        if !changed {
            return Ok(rest);
        }
    }
    if entities
        .iter()
        .any(|e| rest.contains(&format!("&{};", e.name)))
    {
        return Err(DoctypeError::ExpansionLimit);
    }
    Ok(rest)
}

/// `IdEntityReferenceDifferential`, the Reference lookup's view: as [`expand_internal`], except
/// that an `ID` attribute whose value holds a reference to one of the DTD's entities keeps it
/// unexpanded (written `&amp;name;`, so it reads as the literal text `&name;`): libxml2 without
/// entity substitution keeps an entity-reference child in the attribute, and its XPath
/// `@ID = "…"` comparison never matches such an attribute (`xmlXPathNodeValHash` skips the
/// reference). Every other reference is expanded, as the canonicaliser does. The reader's view
/// of the same document is [`expand_internal`]'s.
pub fn literal_id_view(xml: &str) -> Result<String, DoctypeError> {
    let Some((start, end)) = locate(xml)? else {
        return Ok(xml.to_string());
    };
    let entities = parse_entities(&xml[start..end]);
    if let Some(e) = entities.iter().find(|e| e.value.is_none()) {
        return Err(DoctypeError::External(e.name.clone()));
    }
    let body = &xml[end..];
    let mut rest = String::with_capacity(xml.len());
    rest.push_str(&xml[..start]);
    let mut pos = 0;
    while let Some(found) = body[pos..].find(" ID=\"") {
        let value_start = pos + found + " ID=\"".len();
        let Some(len) = body[value_start..].find('"') else {
            break;
        };
        let mut value = body[value_start..value_start + len].to_string();
        for e in entities.iter().take(MAX_ENTITIES) {
            value = value.replace(&format!("&{};", e.name), &format!("&amp;{};", e.name));
        }
        rest.push_str(&body[pos..value_start]);
        rest.push_str(&value);
        pos = value_start + len;
    }
    rest.push_str(&body[pos..]);
    expand(rest, &entities)
}

/// `AcceptDtdWithoutEntities`: refuse a DOCTYPE that contains `<!ENTITY`, drop any other one
/// unread (its `<!ATTLIST>` and comments go with it). Unchanged when there is no DOCTYPE.
pub fn strip_entityless(xml: &str) -> Result<String, DoctypeError> {
    let Some((start, end)) = locate(xml)? else {
        return Ok(xml.to_string());
    };
    if xml[start..end].contains("<!ENTITY") {
        return Err(DoctypeError::DeclaresEntities);
    }
    Ok(format!("{}{}", &xml[..start], &xml[end..]))
}

/// `SkipEntityReferences`, the reader's view: the DOCTYPE dropped and every reference to one of
/// its internal entities removed unexpanded (as a reader that skips entity-reference nodes sees
/// the text), refusing external entities as [`expand_internal`] does. The verifier's view of
/// the same document is [`expand_internal`]'s. Unchanged when there is no DOCTYPE.
pub fn drop_entity_references(xml: &str) -> Result<String, DoctypeError> {
    let Some((start, end)) = locate(xml)? else {
        return Ok(xml.to_string());
    };
    let entities = parse_entities(&xml[start..end]);
    if let Some(e) = entities.iter().find(|e| e.value.is_none()) {
        return Err(DoctypeError::External(e.name.clone()));
    }
    let mut rest = format!("{}{}", &xml[..start], &xml[end..]);
    for e in entities.iter().take(MAX_ENTITIES) {
        rest = rest.replace(&format!("&{};", e.name), "");
    }
    Ok(rest)
}

/// One `<!ENTITY name SYSTEM "url">` or `<!ENTITY name "value">`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entity {
    name: String,
    system: Option<String>,
    value: Option<String>,
}

/// Remove the DOCTYPE from `xml`, resolving its entities as a vulnerable parser would (fetching
/// loopback SYSTEM URLs). Returns the document without DTD; unchanged when there is none.
pub async fn resolve(xml: &str) -> Result<String, DoctypeError> {
    let Some(start) = xml.find("<!DOCTYPE") else {
        return Ok(xml.to_string());
    };
    let end = doctype_end(&xml[start..]).ok_or(DoctypeError::Unterminated)? + start;
    let decl = &xml[start..end];
    let entities = parse_entities(decl);
    let mut rest = format!("{}{}", &xml[..start], &xml[end..]);
    for e in entities.into_iter().take(MAX_ENTITIES) {
        let text = match (&e.system, &e.value) {
            (Some(url), _) if is_loopback_http(url) => fetch(url).await.unwrap_or_default(),
            (Some(_), _) => String::new(),
            (None, Some(v)) => v.clone(),
            (None, None) => String::new(),
        };
        rest = rest.replace(&format!("&{};", e.name), &super::xml::escape_text(&text));
    }
    Ok(rest)
}

/// Offset just past the `>` closing a DOCTYPE (internal subset in `[...]` respected).
fn doctype_end(s: &str) -> Option<usize> {
    let mut in_subset = false;
    let mut quote: Option<char> = None;
    let mut skip_to = 0;
    for (i, c) in s.char_indices() {
        if i < skip_to {
            continue;
        }
        // A comment in the internal subset may hold quotes, brackets and `>` freely.
        if quote.is_none() && in_subset && s[i..].starts_with("<!--") {
            skip_to = i + 4 + s[i + 4..].find("-->")? + 3;
            continue;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => in_subset = true,
            (None, ']') => in_subset = false,
            (None, '>') if !in_subset => return Some(i + 1),
            _ => {}
        }
    }
    None
}

fn parse_entities(decl: &str) -> Vec<Entity> {
    let mut out = Vec::new();
    for part in decl.split("<!ENTITY").skip(1) {
        let body = part.split('>').next().unwrap_or("");
        let mut words = body.split_whitespace();
        let Some(name) = words.next() else { continue };
        let quoted = |s: &str| -> Option<String> {
            let s = s.trim();
            let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let inner = &s[1..];
            inner.find(q).map(|e| inner[..e].to_string())
        };
        let after_name = body.trim_start()[name.len()..].trim_start();
        let entity = if let Some(sys) = after_name.strip_prefix("SYSTEM") {
            Entity {
                name: name.to_string(),
                system: quoted(sys),
                value: None,
            }
        } else {
            Entity {
                name: name.to_string(),
                system: None,
                value: quoted(after_name),
            }
        };
        out.push(entity);
    }
    out
}

fn is_loopback_http(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| {
        u.scheme() == "http"
            && match u.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d == "localhost",
                None => false,
            }
    })
}

async fn fetch(url: &str) -> Option<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()?;
    let resp = client.get(url).send().await.ok()?;
    let body = resp.bytes().await.ok()?;
    let body = &body[..body.len().min(MAX_ENTITY_BYTES)];
    Some(String::from_utf8_lossy(body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_are_parsed() {
        let d = r#"<!DOCTYPE r [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x"><!ENTITY v "val">]>"#;
        assert_eq!(doctype_end(d), Some(d.len()));
        let e = parse_entities(d);
        assert_eq!(e[0].system.as_deref(), Some("http://127.0.0.1:9/x"));
        assert_eq!(e[1].value.as_deref(), Some("val"));
        assert!(is_loopback_http("http://127.0.0.1:9/x"));
        assert!(!is_loopback_http("http://example.com/x"));
        assert!(!is_loopback_http("file:///etc/passwd"));
    }

    #[test]
    fn internal_entities_expand_and_external_ones_are_refused() {
        let x = r#"<?xml version="1.0"?><!DOCTYPE r [<!-- it's <ds:Signature> ] --><!ATTLIST r ID ID #IMPLIED><!ENTITY a "x&b;"><!ENTITY b "y">]><r d="1&a;"/>"#;
        assert_eq!(
            expand_internal(x).unwrap(),
            r#"<?xml version="1.0"?><r d="1xy"/>"#
        );
        let ext = r#"<!DOCTYPE r [<!ENTITY e SYSTEM "http://127.0.0.1:9/">]><r>&e;</r>"#;
        assert_eq!(
            expand_internal(ext),
            Err(DoctypeError::External("e".into()))
        );
        let laughs = r#"<!DOCTYPE r [<!ENTITY a "&a;&a;">]><r>&a;</r>"#;
        assert_eq!(expand_internal(laughs), Err(DoctypeError::ExpansionLimit));
        assert_eq!(expand_internal("<r/>").unwrap(), "<r/>");
    }

    #[test]
    fn the_reader_view_drops_references_unexpanded() {
        let x = r#"<!DOCTYPE r [<!ENTITY n "-4d5e">]><r><id>8f3c&n;</id></r>"#;
        assert_eq!(drop_entity_references(x).unwrap(), "<r><id>8f3c</id></r>");
        assert_eq!(
            expand_internal(x).unwrap(),
            "<r><id>8f3c-4d5e</id></r>",
            "the verifier's view of the same document"
        );
        let ext = r#"<!DOCTYPE r [<!ENTITY e SYSTEM "http://127.0.0.1:9/">]><r>&e;</r>"#;
        assert_eq!(
            drop_entity_references(ext),
            Err(DoctypeError::External("e".into()))
        );
        assert_eq!(drop_entity_references("<r/>").unwrap(), "<r/>");
    }

    #[test]
    fn the_lookup_view_keeps_entity_ids_literal() {
        let x = r#"<!DOCTYPE r [<!ENTITY i "_a">]><r><a ID="&i;" n="&i;"/><a ID="_a"/></r>"#;
        assert_eq!(
            literal_id_view(x).unwrap(),
            r#"<r><a ID="&amp;i;" n="_a"/><a ID="_a"/></r>"#
        );
        assert_eq!(
            expand_internal(x).unwrap(),
            r#"<r><a ID="_a" n="_a"/><a ID="_a"/></r>"#,
            "the reader's view of the same document"
        );
        assert_eq!(literal_id_view("<r ID=\"x\"/>").unwrap(), "<r ID=\"x\"/>");
    }

    #[test]
    fn only_entity_free_doctypes_are_stripped() {
        let attlist = r#"<!DOCTYPE r [<!ATTLIST r ID ID #IMPLIED>]><r/>"#;
        assert_eq!(strip_entityless(attlist).unwrap(), "<r/>");
        assert_eq!(strip_entityless("<!DOCTYPE r><r/>").unwrap(), "<r/>");
        let ent = r#"<!DOCTYPE r [<!ENTITY a "b">]><r/>"#;
        assert_eq!(strip_entityless(ent), Err(DoctypeError::DeclaresEntities));
        assert_eq!(
            strip_entityless("<!DOCTYPE r [<r/>"),
            Err(DoctypeError::Unterminated)
        );
    }

    #[tokio::test]
    async fn non_loopback_entities_are_not_fetched() {
        let x = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "http://example.invalid/">]><r>a&e;b</r>"#;
        assert_eq!(
            resolve(x).await.unwrap(),
            r#"<?xml version="1.0"?><r>ab</r>"#
        );
    }
}
