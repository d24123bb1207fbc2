//! A minimal browser for the reference SP tests: one SP-initiated login through the mock
//! broker, with the fault plan armed for exactly that flow.
//!
//! The harness has its own, far more complete agent (transcripts, oracles); this one exists so
//! the reference SPs can be tested on their own, and so a failure here points at the SP or the
//! broker rather than at the runner.

use mitid_mock_broker::saml::{authn_request, redirect};
use mitid_mock_broker::{ArmedLogin, RunningBroker};

/// Something in the flow did not go as a browser would expect.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// HTTP failure.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// An unexpected answer.
    #[error("{0}")]
    Unexpected(String),
}

fn unexpected(s: impl Into<String>) -> FlowError {
    FlowError::Unexpected(s.into())
}

/// A browser: cookies kept, redirects not followed (each hop is looked at).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("a reqwest client with default TLS builds")
}

/// The auto-post form the broker answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostForm {
    /// `action` (the ACS URL).
    pub action: String,
    /// Hidden fields in order (`SAMLResponse`, `RelayState`).
    pub fields: Vec<(String, String)>,
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#xA;", "\n")
        .replace("&#xD;", "\r")
        .replace("&#x9;", "\t")
        .replace("&amp;", "&")
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// Parse an HTTP-POST binding page (`<form action=...><input type="hidden" ...>`).
pub fn parse_post_form(html: &str) -> Option<PostForm> {
    let form_at = html.find("<form")?;
    let form_tag = &html[form_at..form_at + html[form_at..].find('>')?];
    let action = unescape(attr(form_tag, "action")?);
    let mut fields = Vec::new();
    let mut rest = &html[form_at..];
    while let Some(i) = rest.find("<input") {
        let end = rest[i..].find('>').map(|e| i + e).unwrap_or(rest.len());
        let tag = &rest[i..end];
        if let (Some(n), Some(v)) = (attr(tag, "name"), attr(tag, "value")) {
            fields.push((unescape(n), unescape(v)));
        }
        rest = &rest[end..];
    }
    Some(PostForm { action, fields })
}

/// The outcome of one login.
#[derive(Debug)]
pub struct LoginOutcome {
    /// The AuthnRequest ID the SP sent.
    pub request_id: String,
    /// What the broker posted.
    pub form: PostForm,
    /// Status of the SP's answer to the POST.
    pub acs_status: u16,
    /// Its body.
    pub acs_body: String,
}

/// Start a login at `login_url`, arm `armed` for the AuthnRequest (or let the broker show its
/// chooser... which this browser cannot click: pass `None` only with `?mock_identity=` in the
/// URL), and post the broker's answer to the ACS.
pub async fn login(
    client: &reqwest::Client,
    login_url: &str,
    broker: &RunningBroker,
    armed: Option<ArmedLogin>,
) -> Result<LoginOutcome, FlowError> {
    let r = client.get(login_url).send().await?;
    if r.status().as_u16() != 302 {
        return Err(unexpected(format!(
            "GET {login_url}: expected 302, got {}",
            r.status()
        )));
    }
    let location = r
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unexpected("login redirect without Location"))?
        .to_string();
    let query = location
        .split_once('?')
        .map(|(_, q)| q)
        .ok_or_else(|| unexpected(format!("login redirect has no query: {location}")))?;
    let msg = redirect::decode_query(query, "SAMLRequest")
        .map_err(|e| unexpected(format!("SAMLRequest: {e}")))?;
    let req =
        authn_request::parse(&msg.xml).map_err(|e| unexpected(format!("AuthnRequest: {e}")))?;
    if let Some(a) = armed {
        broker
            .arm(&req.id, a)
            .map_err(|e| unexpected(format!("arm: {e}")))?;
    }
    let r = client.get(&location).send().await?;
    let status = r.status();
    let page = r.text().await?;
    if !status.is_success() {
        return Err(unexpected(format!("broker answered {status}: {page}")));
    }
    let form = parse_post_form(&page)
        .ok_or_else(|| unexpected(format!("no auto-post form in the broker's answer: {page}")))?;
    let (acs_status, acs_body) = post_form(client, &form).await?;
    Ok(LoginOutcome {
        request_id: req.id,
        form,
        acs_status,
        acs_body,
    })
}

/// POST a form (as the browser's auto-submit would); returns status and body.
pub async fn post_form(
    client: &reqwest::Client,
    form: &PostForm,
) -> Result<(u16, String), FlowError> {
    let r = client.post(&form.action).form(&form.fields).send().await?;
    let status = r.status().as_u16();
    Ok((status, r.text().await?))
}

/// Ask the SP's whoami: `Some(json)` when logged in (200), `None` on 401.
pub async fn whoami(
    client: &reqwest::Client,
    whoami_url: &str,
) -> Result<Option<serde_json::Value>, FlowError> {
    let r = client.get(whoami_url).send().await?;
    match r.status().as_u16() {
        200 => Ok(Some(r.json().await?)),
        401 => Ok(None),
        s => Err(unexpected(format!("whoami answered {s}"))),
    }
}
