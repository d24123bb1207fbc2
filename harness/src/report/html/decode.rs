//! Turning the protocol messages in a transcript back into something a person can read: SAML
//! messages (HTTP-POST binding: base64; HTTP-Redirect binding: DEFLATE + base64, through the
//! broker's one codec) pretty-printed, and JWTs split into header and claims.
//!
//! Everything here reads what an SP under test (or a fault plan) produced, so it is hostile
//! input: every decoder is bounded and total. A value that cannot be decoded becomes a
//! [`Decoded::Failed`] saying why, shown next to the value as sent; nothing here panics.

use crate::agent::{Exchange, PROTOCOL_MESSAGE_KEEP, is_protocol_field};
use base64::Engine;
use mitid_mock_broker::saml::redirect::codec::{self, Base64Reading, CodecError};

/// Most levels of indentation in pretty-printed XML: a hostile message nested thousands of
/// levels deep would otherwise grow quadratically when indented.
const MAX_INDENT: usize = 24;

/// One protocol message found in an exchange, decoded for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A SAML message.
    Saml {
        /// Where it was found, e.g. "SAMLResponse (HTTP-POST form field)".
        source: String,
        /// The XML, pretty-printed.
        pretty: String,
        /// A few facts read from it (message, ID, issuer, status, assertions, signatures).
        outline: Vec<(&'static str, String)>,
    },
    /// A JWT (JWS; for a JWE only the header is readable).
    Jwt {
        /// Where it was found, e.g. "id_token (token response)".
        source: String,
        /// The JOSE header, pretty-printed JSON.
        header: String,
        /// The claims, pretty-printed JSON (None for a JWE).
        claims: Option<String>,
        /// Time claims (`iat`, `exp`, ...) as UTC dates.
        times: Vec<(String, String)>,
        /// Length of the signature in bytes (JWS), or of the ciphertext (JWE).
        signature_bytes: usize,
        /// A JWE (five parts): the claims are encrypted.
        encrypted: bool,
    },
    /// A protocol message that could not be decoded.
    Failed {
        /// Where it was found.
        source: String,
        /// Why, as a sentence.
        why: String,
    },
}

/// Every protocol message in one exchange: SAML messages and JWTs in the request URL (query and
/// fragment), in the form sent, and in a JSON response body (a token response).
pub(crate) fn decode_exchange(ex: &Exchange) -> Vec<Decoded> {
    let mut out = Vec::new();
    if let Ok(u) = url::Url::parse(&ex.url) {
        for (k, v) in u.query_pairs() {
            decode_field(&k, &v, Carrier::Query, &mut out);
        }
        if let Some(f) = u.fragment() {
            for (k, v) in url::form_urlencoded::parse(f.as_bytes()) {
                decode_field(&k, &v, Carrier::Fragment, &mut out);
            }
        }
    }
    for (k, v) in &ex.form {
        decode_field(k, v, Carrier::Form, &mut out);
    }
    if ex.body.trim_start().starts_with('{') {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(&ex.body) {
            for (k, v) in &m {
                if let serde_json::Value::String(s) = v {
                    decode_field(k, s, Carrier::Json, &mut out);
                }
            }
        }
    }
    out
}

/// Whether a form field's value is shown decoded (so the raw value can be shortened).
pub(crate) fn is_decoded_field(name: &str, value: &str) -> bool {
    matches!(name, "SAMLResponse" | "SAMLRequest")
        || (is_protocol_field(name) && looks_like_jwt(value))
}

#[derive(Debug, Clone, Copy)]
enum Carrier {
    Query,
    Fragment,
    Form,
    Json,
}

impl Carrier {
    fn describe(self) -> &'static str {
        match self {
            Carrier::Query => "query parameter",
            Carrier::Fragment => "URL fragment parameter",
            Carrier::Form => "form field",
            Carrier::Json => "in the JSON response",
        }
    }
}

fn decode_field(name: &str, value: &str, carrier: Carrier, out: &mut Vec<Decoded>) {
    let source = |binding: &str| format!("{name} ({binding}{})", carrier.describe());
    match name {
        "SAMLResponse" | "SAMLRequest" => {
            let (source, xml) = match carrier {
                // The HTTP-Redirect binding carries messages in the query string, deflated.
                Carrier::Query | Carrier::Fragment => {
                    (source("HTTP-Redirect binding, "), redirect_binding(value))
                }
                Carrier::Form | Carrier::Json => {
                    (source("HTTP-POST binding, "), post_binding(value))
                }
            };
            out.push(match xml {
                Ok(xml) => Decoded::Saml {
                    source,
                    pretty: pretty_xml(&xml),
                    outline: saml_outline(&xml),
                },
                Err(why) => Decoded::Failed { source, why },
            });
        }
        _ if is_protocol_field(name) || name.ends_with("_token") => {
            // An opaque access token is not an error; an ID or logout token must be a JWT.
            let must_be_jwt = matches!(name, "id_token" | "logout_token");
            if looks_like_jwt(value) || must_be_jwt {
                out.push(decode_jwt(&source(""), value));
            }
        }
        _ => {}
    }
}

/// The agent marks a value it cut short; a cut value cannot be decoded.
fn truncated(value: &str) -> bool {
    value.ends_with(" bytes total]") && value.contains("… [")
}

fn truncated_note() -> String {
    format!(
        "the transcript keeps only the start of this value (it is longer than {} KiB, or was recorded by an older harness), so it cannot be decoded",
        PROTOCOL_MESSAGE_KEEP / 1024
    )
}

fn codec_error(e: &CodecError) -> String {
    let hint = match e {
        CodecError::Inflate { hint: Some(h), .. } => h.advice(),
        CodecError::Inflate { hint: None, .. }
        | CodecError::TooLong { .. }
        | CodecError::Base64(_)
        | CodecError::DeflateBomb
        | CodecError::NotUtf8 => "",
    };
    format!("the value {e}{hint}")
}

/// HTTP-Redirect binding: base64 of raw DEFLATE, through the broker's codec and its limits.
fn redirect_binding(value: &str) -> Result<String, String> {
    if truncated(value) {
        return Err(truncated_note());
    }
    codec::decode(value, Base64Reading::Tolerant).map_err(|e| codec_error(&e))
}

/// HTTP-POST binding: base64 of the XML itself.
fn post_binding(value: &str) -> Result<String, String> {
    if truncated(value) {
        return Err(truncated_note());
    }
    let bytes =
        codec::decode_base64(value, Base64Reading::Tolerant).map_err(|e| codec_error(&e))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the value is base64 of {} bytes that are not UTF-8 text (the HTTP-POST binding carries the XML itself, not DEFLATE)",
            e.as_bytes().len()
        )
    })
}

/// Indent XML for reading. A tolerant tokenizer, not a parser: it keeps every tag exactly as
/// sent (prefixes, attribute order, odd namespaces: what a reviewer of a signature-wrapping
/// fault needs to see) and copes with malformed input by printing it as it comes.
pub(crate) fn pretty_xml(xml: &str) -> String {
    let toks = tokens(xml);
    let mut out = String::with_capacity(xml.len() + xml.len() / 4);
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        match toks[i] {
            Tok::Open(t) => {
                // <a>text</a> and <a></a> stay on one line.
                match (toks.get(i + 1), toks.get(i + 2)) {
                    (Some(Tok::Text(x)), Some(Tok::Close(c))) => {
                        line(&mut out, depth, &format!("{t}{x}{c}"));
                        i += 3;
                        continue;
                    }
                    (Some(Tok::Close(c)), _) => {
                        line(&mut out, depth, &format!("{t}{c}"));
                        i += 2;
                        continue;
                    }
                    _ => {
                        line(&mut out, depth, t);
                        depth += 1;
                    }
                }
            }
            Tok::Close(t) => {
                depth = depth.saturating_sub(1);
                line(&mut out, depth, t);
            }
            Tok::Other(t) | Tok::Text(t) => line(&mut out, depth, t),
        }
        i += 1;
    }
    out
}

fn line(out: &mut String, depth: usize, text: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    for _ in 0..depth.min(MAX_INDENT) {
        out.push_str("  ");
    }
    out.push_str(text);
}

#[derive(Debug, Clone, Copy)]
enum Tok<'a> {
    Open(&'a str),
    Close(&'a str),
    /// Empty elements, comments, CDATA, processing instructions, DOCTYPE.
    Other(&'a str),
    /// Text, trimmed; whitespace-only text is dropped.
    Text(&'a str),
}

fn tokens(xml: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut rest = xml;
    while !rest.is_empty() {
        if rest.starts_with('<') {
            let end = markup_end(rest);
            let t = &rest[..end];
            rest = &rest[end..];
            toks.push(if t.starts_with("</") {
                Tok::Close(t)
            } else if t.starts_with("<!") || t.starts_with("<?") || t.ends_with("/>") {
                Tok::Other(t)
            } else {
                Tok::Open(t)
            });
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let t = rest[..end].trim();
            if !t.is_empty() {
                toks.push(Tok::Text(t));
            }
            rest = &rest[end..];
        }
    }
    toks
}

/// Byte length of the markup at the start of `s` (which starts with `<`): up to the `>` that
/// closes it, or the rest of the input when it never closes.
fn markup_end(s: &str) -> usize {
    let closing = |pat: &str| s.find(pat).map(|i| i + pat.len()).unwrap_or(s.len());
    if s.starts_with("<!--") {
        return closing("-->");
    }
    if s.starts_with("<![CDATA[") {
        return closing("]]>");
    }
    if s.starts_with("<?") {
        return closing("?>");
    }
    // Tags and declarations: the first `>` outside quotes (and, for a DOCTYPE, outside its
    // internal subset).
    let mut quote = None;
    let mut brackets = 0usize;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => brackets += 1,
            (None, ']') => brackets = brackets.saturating_sub(1),
            (None, '>') if brackets == 0 => return i + 1,
            (None, _) => {}
        }
    }
    s.len()
}

/// A few facts a reviewer looks for first, read with the broker's hardened parser (no DTD). The
/// parser's refusal is itself a fact worth showing (a DOCTYPE in a SAML message is a fault).
fn saml_outline(xml: &str) -> Vec<(&'static str, String)> {
    let doc = match mitid_mock_broker::saml::xml::parse_untrusted(xml) {
        Ok(d) => d,
        Err(e) => return vec![("not parsed", e.to_string())],
    };
    let root = doc.root_element();
    let mut o = vec![("message", root.tag_name().name().to_string())];
    let attr = |n: &'static str| root.attribute(n).map(|v| (n, v.to_string()));
    o.extend(attr("ID"));
    if let Some(i) = root.children().find(|c| c.tag_name().name() == "Issuer") {
        o.push(("Issuer", mitid_mock_broker::saml::xml::text_of(i)));
    }
    o.extend(attr("Destination"));
    o.extend(attr("InResponseTo"));
    o.extend(attr("AssertionConsumerServiceURL"));
    if let Some(s) = root
        .descendants()
        .find(|c| c.tag_name().name() == "StatusCode")
        .and_then(|s| s.attribute("Value"))
    {
        o.push(("status", s.rsplit(':').next().unwrap_or(s).to_string()));
    }
    let count = |local: &str| {
        doc.descendants()
            .filter(|n| n.is_element() && n.tag_name().name() == local)
            .count()
    };
    let (plain, encrypted) = (count("Assertion"), count("EncryptedAssertion"));
    if plain + encrypted > 0 || root.tag_name().name() == "Response" {
        o.push((
            "assertions",
            match (plain, encrypted) {
                (0, 0) => "none".to_string(),
                (p, 0) => format!("{p} in plaintext"),
                (0, e) => format!(
                    "{e} encrypted for the SP (the harness holds no SP key, so its content is not shown)"
                ),
                (p, e) => format!("{p} in plaintext, {e} encrypted"),
            },
        ));
    }
    let signed: Vec<String> = doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Signature")
        .map(|s| {
            s.parent_element()
                .map(|p| p.tag_name().name().to_string())
                .unwrap_or_default()
        })
        .collect();
    o.push((
        "signatures",
        match (signed.is_empty(), encrypted > 0) {
            (true, false) => "none".into(),
            (true, true) => "none outside the encrypted assertion".into(),
            (false, _) => format!("on {}", signed.join(", ")),
        },
    ));
    o
}

/// A compact JWS (three parts) or JWE (five parts) whose header starts like JSON.
pub(crate) fn looks_like_jwt(v: &str) -> bool {
    let dots = v.bytes().filter(|b| *b == b'.').count();
    (dots == 2 || dots == 4)
        && v.starts_with("eyJ")
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

fn b64url(part: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| format!("is not base64url: {e}"))
}

fn pretty_json(bytes: &[u8]) -> Result<(String, serde_json::Value), String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("is not JSON: {e}"))?;
    Ok((serde_json::to_string_pretty(&v).unwrap_or_default(), v))
}

/// Split a JWT into header and claims. The signature is not verified: the report shows what
/// was sent; whether the RP verified it is what the verdict says.
pub(crate) fn decode_jwt(source: &str, token: &str) -> Decoded {
    let failed = |why: String| Decoded::Failed {
        source: source.to_string(),
        why,
    };
    if truncated(token) {
        return failed(truncated_note());
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 && parts.len() != 5 {
        return failed(format!(
            "the value is not a compact JWT: it has {} dot-separated parts (a JWS has 3, a JWE 5)",
            parts.len()
        ));
    }
    let header = match b64url(parts[0]).and_then(|h| pretty_json(&h)) {
        Ok((h, _)) => h,
        Err(e) => return failed(format!("the JWT header {e}")),
    };
    if parts.len() == 5 {
        return Decoded::Jwt {
            source: source.to_string(),
            header,
            claims: None,
            times: vec![],
            signature_bytes: b64url(parts[3]).map(|c| c.len()).unwrap_or(0),
            encrypted: true,
        };
    }
    let (claims, value) = match b64url(parts[1]).and_then(|c| pretty_json(&c)) {
        Ok(c) => c,
        Err(e) => return failed(format!("the JWT claims {e}")),
    };
    let signature_bytes = match b64url(parts[2]) {
        Ok(s) => s.len(),
        Err(e) => return failed(format!("the JWT signature {e}")),
    };
    let times = ["iat", "nbf", "exp", "auth_time"]
        .iter()
        .filter_map(|k| {
            let secs = value.get(*k)?.as_i64()?;
            let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
            let f = t
                .format(&time::format_description::well_known::Rfc3339)
                .ok()?;
            Some((k.to_string(), f))
        })
        .collect();
    Decoded::Jwt {
        source: source.to_string(),
        header,
        claims: Some(claims),
        times,
        signature_bytes,
        encrypted: false,
    }
}
