//! A browser-like HTTP agent: one cookie jar, redirects followed by hand, every hop recorded.
//!
//! The agent never follows a redirect on its own (reqwest's policy is `none`): the runner must
//! see the hop to the broker to learn the AuthnRequest ID and arm the flow, and every hop goes
//! into the transcript that failure reports show.

use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes of a body kept in the transcript.
pub(crate) const BODY_KEEP: usize = 2048;

/// Characters of an ordinary form value kept in the transcript.
pub(crate) const FORM_VALUE_KEEP: usize = 200;

/// Bytes of a protocol message kept in the transcript: the SAML and OIDC messages themselves
/// ([`is_protocol_field`] form values, token responses) are kept whole up to this bound, so
/// reports can decode them (a truncated base64 message cannot be decoded). A real SAMLResponse
/// is 10-20 KiB of base64; the bound only stops a hostile SP from filling memory.
pub(crate) const PROTOCOL_MESSAGE_KEEP: usize = 256 * 1024;

/// Form fields and JSON members that carry a protocol message (SAML HTTP-POST binding, OIDC
/// form_post and token responses, JWT-secured requests).
pub(crate) fn is_protocol_field(name: &str) -> bool {
    matches!(
        name,
        "SAMLResponse"
            | "SAMLRequest"
            | "id_token"
            | "access_token"
            | "logout_token"
            | "request"
            | "response"
            | "client_assertion"
    )
}

/// A response body that is a token response (JSON with an `id_token`): kept whole like a
/// protocol form value.
fn is_token_response(content_type: Option<&str>, body: &str) -> bool {
    content_type.is_some_and(|c| c.contains("json")) && body.contains("\"id_token\"")
}

/// One request/response pair.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// Form fields sent (values truncated, except protocol messages: see
    /// [`PROTOCOL_MESSAGE_KEEP`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub form: Vec<(String, String)>,
    /// Status code (0 when the request failed).
    pub status: u16,
    /// Selected response headers (Location, Set-Cookie names, Content-Type).
    pub headers: Vec<(String, String)>,
    /// Response body, truncated (token responses less: see [`PROTOCOL_MESSAGE_KEEP`]).
    pub body: String,
    /// Error, when the request failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Milliseconds.
    pub elapsed_ms: u64,
}

/// A response as the agent saw it.
#[derive(Debug, Clone)]
pub struct Page {
    /// Final URL.
    pub url: url::Url,
    /// Status.
    pub status: u16,
    /// Location header, if any.
    pub location: Option<String>,
    /// Content-Type.
    pub content_type: Option<String>,
    /// Every response header (the transcript keeps only a few). The mock broker states why
    /// it refused a request in one of them.
    pub headers: reqwest::header::HeaderMap,
    /// Full body (bounded by [`MAX_BODY`]).
    pub body: String,
}

/// Largest body the agent reads.
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;

/// What went wrong talking to the SP or the broker.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AgentError {
    /// Connection refused, DNS, TLS...
    #[error("cannot reach {url}: {message}")]
    Unreachable {
        /// URL.
        url: String,
        /// Cause.
        message: String,
    },
    /// Timed out.
    #[error("{url} did not answer within {ms} ms")]
    Timeout {
        /// URL.
        url: String,
        /// Timeout.
        ms: u64,
    },
    /// Too many redirects.
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    /// Bad redirect target.
    #[error("redirect to an invalid URL {0:?}")]
    BadLocation(String),
}

/// The agent.
#[derive(Debug)]
pub struct Agent {
    client: reqwest::Client,
    transcript: Vec<Exchange>,
    timeout: Duration,
    max_redirects: usize,
}

/// An auto-submitting (or plain) HTML form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HtmlForm {
    /// `action`, resolved against the page URL.
    pub action: String,
    /// `method` (upper case).
    pub method: String,
    /// Inputs (name, value).
    pub fields: Vec<(String, String)>,
}

impl Agent {
    /// A fresh agent with an empty cookie jar.
    pub fn new(timeout: Duration, max_redirects: usize, extra_roots: &[Vec<u8>]) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let mut b = reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("mitid-harness/", env!("CARGO_PKG_VERSION")))
            .default_headers({
                let mut h = reqwest::header::HeaderMap::new();
                // mod_auth_openidc answers 401 instead of redirecting without it.
                h.insert(
                    reqwest::header::ACCEPT,
                    reqwest::header::HeaderValue::from_static(
                        "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
                    ),
                );
                h
            });
        for der in extra_roots {
            if let Ok(c) = reqwest::Certificate::from_der(der) {
                b = b.add_root_certificate(c);
            }
        }
        Agent {
            client: b.build().unwrap_or_default(),
            transcript: Vec::new(),
            timeout,
            max_redirects,
        }
    }

    /// The transcript so far.
    pub fn transcript(&self) -> &[Exchange] {
        &self.transcript
    }

    /// Take the transcript.
    pub fn take_transcript(&mut self) -> Vec<Exchange> {
        std::mem::take(&mut self.transcript)
    }

    /// Max redirects.
    pub fn max_redirects(&self) -> usize {
        self.max_redirects
    }

    fn classify(&self, url: &str, e: reqwest::Error) -> AgentError {
        if e.is_timeout() {
            AgentError::Timeout {
                url: url.to_string(),
                ms: self.timeout.as_millis() as u64,
            }
        } else {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            AgentError::Unreachable {
                url: url.to_string(),
                message: msg,
            }
        }
    }

    /// One request, no redirect following.
    pub async fn request(
        &mut self,
        method: &str,
        url: &str,
        form: Option<&[(String, String)]>,
    ) -> Result<Page, AgentError> {
        self.request_with_headers(method, url, form, &[]).await
    }

    /// [`Agent::request`] with extra request headers, sent as given (names are sent in lower
    /// case, as HTTP/1.1 allows: they are case-insensitive). `OPTIONS` is sent as such (a CORS
    /// preflight); any other method but `POST` as `GET`. The transcript does not list the
    /// headers: the caller notes them.
    pub async fn request_with_headers(
        &mut self,
        method: &str,
        url: &str,
        form: Option<&[(String, String)]>,
        headers: &[(String, String)],
    ) -> Result<Page, AgentError> {
        let started = Instant::now();
        let parsed = url::Url::parse(url).map_err(|_| AgentError::BadLocation(url.to_string()))?;
        let mut rb = match (method, form) {
            ("POST", Some(f)) => self.client.post(parsed.clone()).form(f),
            ("POST", None) => self.client.post(parsed.clone()),
            ("OPTIONS", _) => self
                .client
                .request(reqwest::Method::OPTIONS, parsed.clone()),
            _ => self.client.get(parsed.clone()),
        };
        for (name, value) in headers {
            rb = rb.header(name.as_str(), value.as_str());
        }
        let mut ex = Exchange {
            method: method.to_string(),
            url: url.to_string(),
            form: form
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| {
                    let keep = if is_protocol_field(k) {
                        PROTOCOL_MESSAGE_KEEP
                    } else {
                        FORM_VALUE_KEEP
                    };
                    (k.clone(), truncate(v, keep))
                })
                .collect(),
            status: 0,
            headers: vec![],
            body: String::new(),
            error: None,
            elapsed_ms: 0,
        };
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                let err = self.classify(url, e);
                ex.error = Some(err.to_string());
                ex.elapsed_ms = started.elapsed().as_millis() as u64;
                self.transcript.push(ex);
                return Err(err);
            }
        };
        let status = resp.status().as_u16();
        let hdr = |n: reqwest::header::HeaderName| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let location = hdr(reqwest::header::LOCATION);
        let content_type = hdr(reqwest::header::CONTENT_TYPE);
        let mut headers = Vec::new();
        if let Some(l) = &location {
            headers.push(("location".into(), l.clone()));
        }
        if let Some(c) = &content_type {
            headers.push(("content-type".into(), c.clone()));
        }
        for c in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            if let Ok(s) = c.to_str() {
                let name = s.split('=').next().unwrap_or("");
                headers.push(("set-cookie".into(), format!("{name}=…")));
            }
        }
        let response_headers = resp.headers().clone();
        let mut resp = resp;
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    if body.len() + c.len() > MAX_BODY {
                        break;
                    }
                    body.extend_from_slice(&c);
                }
                Ok(None) => break,
                Err(e) => {
                    let err = self.classify(url, e);
                    ex.error = Some(err.to_string());
                    break;
                }
            }
        }
        let body = String::from_utf8_lossy(&body).into_owned();
        ex.status = status;
        ex.headers = headers;
        let keep = if is_token_response(content_type.as_deref(), &body) {
            PROTOCOL_MESSAGE_KEEP
        } else {
            BODY_KEEP
        };
        ex.body = truncate(&body, keep);
        ex.elapsed_ms = started.elapsed().as_millis() as u64;
        self.transcript.push(ex);
        Ok(Page {
            url: parsed,
            status,
            location,
            content_type,
            headers: response_headers,
            body,
        })
    }

    /// Resolve a Location against the page URL.
    pub fn resolve(page: &Page, location: &str) -> Result<String, AgentError> {
        page.url
            .join(location)
            .map(|u| u.to_string())
            .map_err(|_| AgentError::BadLocation(location.to_string()))
    }

    /// Record a response the broker sent the SP on the back channel (a token response), which
    /// the agent never sees: a note saying so, then the exchange as the broker answered it.
    pub fn back_channel(&mut self, url: &str, json: &serde_json::Value) {
        self.note(format!(
            "the RP's back-channel request to {url}, as the broker answered it"
        ));
        let body = serde_json::to_string(json).unwrap_or_default();
        self.transcript.push(Exchange {
            method: "POST".into(),
            url: url.to_string(),
            form: vec![],
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: truncate(&body, PROTOCOL_MESSAGE_KEEP),
            error: None,
            elapsed_ms: 0,
        });
    }

    /// Record a note in the transcript (e.g. "armed flow X").
    pub fn note(&mut self, what: impl Into<String>) {
        self.transcript.push(Exchange {
            method: "NOTE".into(),
            url: String::new(),
            form: vec![],
            status: 0,
            headers: vec![],
            body: what.into(),
            error: None,
            elapsed_ms: 0,
        });
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} bytes total]", &s[..end], s.len())
}

/// Find the first HTML form in a page (the SAML HTTP-POST binding's auto-post form, or the
/// broker's chooser). A small tolerant scanner: real SPs and brokers emit everything from
/// XHTML to sloppy HTML, and only `form`/`input` attributes matter here.
pub(crate) fn find_form(page_url: &url::Url, html: &str) -> Option<HtmlForm> {
    let lower = html.to_ascii_lowercase();
    let fstart = lower.find("<form")?;
    let fend = lower[fstart..]
        .find("</form")
        .map(|e| e + fstart)
        .unwrap_or(html.len());
    let tag_end = lower[fstart..].find('>')? + fstart;
    let form_tag = &html[fstart..tag_end];
    let action = attr(form_tag, "action").unwrap_or_default();
    let action = page_url.join(&html_unescape(&action)).ok()?.to_string();
    let method = attr(form_tag, "method")
        .unwrap_or_else(|| "GET".into())
        .to_ascii_uppercase();
    let mut fields = Vec::new();
    let mut pos = tag_end;
    while let Some(i) = lower[pos..fend].find("<input") {
        let s = pos + i;
        let e = lower[s..].find('>').map(|e| e + s).unwrap_or(fend);
        let tag = &html[s..e];
        if let Some(name) = attr(tag, "name") {
            let ty = attr(tag, "type").unwrap_or_default().to_ascii_lowercase();
            if ty != "submit"
                && ty != "button"
                && (ty != "radio" || tag.to_ascii_lowercase().contains("checked"))
            {
                fields.push((
                    html_unescape(&name),
                    html_unescape(&attr(tag, "value").unwrap_or_default()),
                ));
            }
        }
        pos = e;
    }
    Some(HtmlForm {
        action,
        method,
        fields,
    })
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        let before_ok = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[at + name.len()..].trim_start();
        if before_ok && rest.starts_with('=') {
            let raw_rest = &tag[tag.len() - rest.len() + 1..];
            let raw_rest = raw_rest.trim_start();
            let (q, body) = match raw_rest.chars().next()? {
                '"' => ('"', &raw_rest[1..]),
                '\'' => ('\'', &raw_rest[1..]),
                _ => (' ', raw_rest),
            };
            let end = body
                .find(|c: char| {
                    if q == ' ' {
                        c.is_whitespace() || c == '>'
                    } else {
                        c == q
                    }
                })
                .unwrap_or(body.len());
            return Some(body[..end].to_string());
        }
        from = at + name.len();
    }
    None
}

/// Decode the HTML entities that appear in attribute values.
pub(crate) fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(semi) = tail.find(';').filter(|&p| p <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let ent = &tail[1..semi];
        let rep = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match rep {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_auto_post_forms() {
        let base = url::Url::parse("http://127.0.0.1:1/idp/").unwrap();
        let html = r#"<html><body onload="document.forms[0].submit()"><FORM METHOD="post" ACTION="http://sp/acs?a=1&amp;b=2">
<input type="hidden" name="SAMLResponse" value="PHg+&#x2B;"/><input type='hidden' name='RelayState' value='/p?q=1&amp;r'>
<input type="submit" value="Go"></FORM></body></html>"#;
        let f = find_form(&base, html).unwrap();
        assert_eq!(f.action, "http://sp/acs?a=1&b=2");
        assert_eq!(f.method, "POST");
        assert_eq!(
            f.fields,
            vec![
                ("SAMLResponse".to_string(), "PHg++".to_string()),
                ("RelayState".to_string(), "/p?q=1&r".to_string())
            ]
        );
        assert!(find_form(&base, "<p>no form</p>").is_none());
        let rel = find_form(
            &base,
            r#"<form method=post action=/login><input name=flow value=x></form>"#,
        )
        .unwrap();
        assert_eq!(rel.action, "http://127.0.0.1:1/login");
        assert_eq!(rel.fields, vec![("flow".to_string(), "x".to_string())]);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "æøå".repeat(2000);
        let t = truncate(&s, 101);
        assert!(t.contains("bytes total"));
    }
}
