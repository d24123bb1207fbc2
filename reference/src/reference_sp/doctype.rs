//! DOCTYPE handling. The strict SP never gets here: its parser refuses any DTD before reading
//! a byte of SAML (and so can never fetch anything). This module is the `ResolveDoctype` flaw:
//! a hand-rolled imitation of an XXE-vulnerable parser that fetches each external entity's
//! SYSTEM URL and substitutes the result. To honour the loopback-only rule it fetches only
//! `http://127.0.0.1…` / `http://localhost…` URLs (the broker's fetch recorder lives there);
//! anything else is substituted with nothing.

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
    for (i, c) in s.char_indices() {
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

    #[tokio::test]
    async fn non_loopback_entities_are_not_fetched() {
        let x = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "http://example.invalid/">]><r>a&e;b</r>"#;
        assert_eq!(
            resolve(x).await.unwrap(),
            r#"<?xml version="1.0"?><r>ab</r>"#
        );
    }
}
