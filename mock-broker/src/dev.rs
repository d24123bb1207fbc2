//! The developer page, `GET /dev`: the recent login flows, as a developer would otherwise dig
//! them out of the browser's dev tools — the AuthnRequest or authorization request decoded, the
//! assertion as signed (before encryption, which the browser never shows) or the ID token
//! decoded, which algorithms and key were used, and what the SP or RP did next.
//!
//! Read-only, and everything on it is mock data (test identities, mock keys): it shows nothing a
//! developer running the broker could not see anyway. Cross-site pages cannot read it (no CORS
//! headers, so the same-origin policy applies). Every value is escaped, and the page's
//! Content-Security-Policy forbids scripts altogether, since the flows hold XML and parameters
//! that the SP under test (or whoever can reach the broker) sent.

use crate::broker::{BrokerState, FlowRecord};
use crate::oidc::{OidcFlowRecord, OidcProvider};
use crate::saml::xml::escape_text;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use std::fmt::Write as _;
use std::sync::Arc;

/// Where the page is served.
pub(crate) const DEV_PATH: &str = "/dev";
/// How many flows of each protocol the page shows (the newest).
const SHOWN: usize = 50;
/// Longest protocol message the page shows in full; longer ones are cut with a note.
const MAX_SHOWN_BYTES: usize = 64 * 1024;

/// The page's route, with what it reads.
///
/// The page shows the SPs' messages and the assertions as minted, so it answers the
/// developer's own browser only: a loopback peer naming the broker in `Host`, with no foreign
/// `Origin` ([`crate::control::guard::viewer_guard`]). It needs no control token (a developer
/// opens it by hand) because it only reads, and a page of another origin cannot read it.
pub(crate) fn router(state: Arc<BrokerState>, oidc: Option<Arc<OidcProvider>>) -> Router {
    let access = state.control.clone();
    Router::new()
        .route(
            DEV_PATH,
            get(move || {
                let (state, oidc) = (state.clone(), oidc.clone());
                async move { render(&state, oidc.as_deref()) }
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            access,
            crate::control::guard::viewer_guard,
        ))
}

fn render(st: &BrokerState, oidc: Option<&OidcProvider>) -> Response {
    let now = st.clock.now();
    let mut saml: Vec<FlowRecord> = {
        let g = st.flows.lock().unwrap_or_else(|e| e.into_inner());
        g.values(now).cloned().collect()
    };
    saml.sort_by_key(|f| std::cmp::Reverse(f.received_at));
    saml.truncate(SHOWN);
    let oidc_flows: Vec<(OidcFlowRecord, Vec<crate::oidc::IssuedTokenResponse>)> = oidc
        .map(|p| {
            p.recent_flow_records(SHOWN)
                .into_iter()
                .map(|r| {
                    let t = p.token_responses(&r.key);
                    (r, t)
                })
                .collect()
        })
        .unwrap_or_default();

    let mut body = String::new();
    let _ = write!(
        body,
        "<p>The newest {SHOWN} flows of each protocol, newest first. Reload after a login. \
         Everything here is mock data.</p>\
         <nav><a href=\"#saml\">SAML ({})</a> · <a href=\"#oidc\">OIDC ({})</a></nav>",
        saml.len(),
        oidc_flows.len()
    );
    body.push_str("<h2 id=\"saml\">SAML (OIOSAML 3)</h2>");
    if saml.is_empty() {
        body.push_str("<p class=\"none\">No SAML flow yet.</p>");
    }
    for f in &saml {
        saml_flow(&mut body, f);
    }
    body.push_str("<h2 id=\"oidc\">OIDC</h2>");
    if oidc.is_none() {
        body.push_str("<p class=\"none\">The OIDC provider is off.</p>");
    } else if oidc_flows.is_empty() {
        body.push_str("<p class=\"none\">No OIDC flow yet.</p>");
    }
    for (r, tokens) in &oidc_flows {
        oidc_flow(&mut body, r, tokens);
    }
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>mock broker: recent flows</title>
<style>body{{font-family:sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem}}
.mock{{background:#fde68a;padding:.3rem .6rem;border-radius:.3rem}}
section.flow{{border:1px solid #ccc;border-radius:.4rem;padding:.5rem .8rem;margin:.8rem 0}}
section.flow h3{{margin:.2rem 0 .5rem;font-size:1.05rem}}
table{{border-collapse:collapse}} td,th{{text-align:left;vertical-align:top;padding:.1rem .6rem .1rem 0}}
th{{font-weight:600;white-space:nowrap}}
pre{{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:30rem;white-space:pre-wrap;word-break:break-all}}
.err{{color:#a40000}} .none{{color:#666}} code{{background:#eee;padding:0 .2rem}}</style></head>
<body><p class="mock">MOCK NemLog-in / MitID broker (mitid-harness). Test identities and mock keys only.</p>
<h1>Recent flows</h1>{body}</body></html>"#
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// A row of the facts table.
fn row(out: &mut String, name: &str, value: &str) {
    let _ = write!(
        out,
        "<tr><th>{}</th><td>{}</td></tr>",
        escape_text(name),
        escape_text(value)
    );
}

/// A collapsible block with a protocol message.
fn block(out: &mut String, summary: &str, text: &str, open: bool) {
    let shown = if text.len() > MAX_SHOWN_BYTES {
        let mut cut = MAX_SHOWN_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!(
            "{}\n… ({} more bytes not shown)",
            &text[..cut],
            text.len() - cut
        )
    } else {
        text.to_string()
    };
    let _ = write!(
        out,
        "<details{}><summary>{}</summary><pre>{}</pre></details>",
        if open { " open" } else { "" },
        escape_text(summary),
        escape_text(&shown)
    );
}

fn saml_flow(out: &mut String, f: &FlowRecord) {
    let _ = write!(
        out,
        "<section class=\"flow saml\"><h3>{} — <code>{}</code></h3><table>",
        escape_text(&crate::saml::response::fmt_instant(f.received_at)),
        escape_text(&f.sp_entity_id)
    );
    row(out, "AuthnRequest ID", &f.request_id);
    row(out, "ACS", &f.acs_url);
    if let Some(r) = &f.relay_state {
        row(out, "RelayState", r);
    }
    row(
        out,
        "requested",
        &format!(
            "LoA {}, profile {}, ForceAuthn {}, IsPassive {}",
            f.requested_loa
                .map_or("(none)".to_string(), |l| l.to_string()),
            f.requested_profile
                .map_or("(none)".to_string(), |p| format!("{p:?}")),
            f.force_authn,
            f.is_passive
        ),
    );
    if f.from_sso_session {
        row(
            out,
            "authentication",
            "answered from the browser's SSO session (no new login; the AuthnInstant is the session's)",
        );
    }
    match (&f.identity, f.loa) {
        (Some(id), Some(loa)) => row(out, "logged in", &format!("{id} at {loa}")),
        (Some(id), None) => row(out, "logged in", id),
        (None, _) => row(
            out,
            "logged in",
            "not yet (waiting at the login page, or refused)",
        ),
    }
    if !f.plan.faults.is_empty() {
        let faults: Vec<String> = f
            .plan
            .faults
            .iter()
            .map(|x| serde_json::to_string(x).unwrap_or_else(|_| format!("{x:?}")))
            .collect();
        row(out, "faults (dangerous API)", &faults.join(", "));
    }
    if let Some(xml) = &f.assertion_xml {
        for (name, v) in signature_algorithms(xml) {
            row(out, name, &v);
        }
    }
    match &f.encryption {
        Some((e, why)) => {
            let mut v = format!("data {}, key transport {}", e.data, e.key_transport);
            if let Some(d) = &e.oaep_digest {
                let _ = write!(v, ", OAEP digest {d}");
            }
            if let Some(m) = &e.oaep_mgf {
                let _ = write!(v, ", MGF {m}");
            }
            let _ = write!(v, " ({why})");
            row(out, "encryption", &v);
        }
        None if f.response_xml.is_some() => row(out, "encryption", "none (plaintext assertion)"),
        None => {}
    }
    row(out, "SP used", &endpoints(&f.endpoints));
    if let Some(e) = &f.error {
        let _ = write!(
            out,
            "<tr><th>error</th><td class=\"err\">{}</td></tr>",
            escape_text(e)
        );
    }
    out.push_str("</table>");
    if let Some(x) = &f.request_xml {
        block(out, "AuthnRequest (decoded)", &pretty_xml(x), false);
    }
    if let Some(x) = &f.assertion_xml {
        block(
            out,
            "Assertion as signed, before encryption",
            &pretty_xml(x),
            false,
        );
    }
    if let Some(x) = &f.response_xml {
        block(out, "Response as posted to the ACS", &pretty_xml(x), false);
    }
    out.push_str("</section>");
}

fn oidc_flow(out: &mut String, r: &OidcFlowRecord, tokens: &[crate::oidc::IssuedTokenResponse]) {
    let _ = write!(
        out,
        "<section class=\"flow oidc\"><h3><code>{}</code> at the {} issuer</h3><table>",
        escape_text(&r.client_id),
        escape_text(&r.issuer)
    );
    for (k, v) in &r.request {
        row(out, k, v);
    }
    row(
        out,
        "logged in",
        r.identity
            .as_deref()
            .unwrap_or("not yet (waiting at the chooser, or refused)"),
    );
    row(
        out,
        "RP used",
        &format!(
            "{}; code redeemed {} time(s), userinfo called {} time(s)",
            endpoints(&r.endpoints),
            r.token_redemptions,
            r.userinfo_calls
        ),
    );
    out.push_str("</table>");
    for t in tokens {
        if let Some(idt) = t.response.get("id_token").and_then(|v| v.as_str()) {
            match decode_jwt(idt) {
                Some((header, claims)) => {
                    let alg = header.get("alg").and_then(|v| v.as_str()).unwrap_or("?");
                    let kid = header
                        .get("kid")
                        .and_then(|v| v.as_str())
                        .unwrap_or("(none)");
                    let _ = write!(
                        out,
                        "<p>ID token from <code>{}</code>: alg <code>{}</code>, kid <code>{}</code></p>",
                        escape_text(&t.token_endpoint),
                        escape_text(alg),
                        escape_text(kid)
                    );
                    block(out, "ID token header", &pretty_json(&header), false);
                    block(out, "ID token claims", &pretty_json(&claims), true);
                }
                None => block(out, "ID token (not a decodable JWS)", idt, false),
            }
        }
        block(
            out,
            "Token response as sent",
            &pretty_json(&t.response),
            false,
        );
    }
    out.push_str("</section>");
}

fn endpoints(set: &std::collections::BTreeSet<crate::observed::Endpoint>) -> String {
    let names: Vec<String> = set
        .iter()
        .map(|e| {
            serde_json::to_value(e)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_else(|| format!("{e:?}"))
        })
        .collect();
    names.join(", ")
}

/// The signature's algorithms and the signing certificate's subject, read from the signed
/// assertion (the broker signs with its mock key; a fault may have changed any of these).
fn signature_algorithms(xml: &str) -> Vec<(&'static str, String)> {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return vec![];
    };
    let mut v = vec![];
    let find = |local: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == local)
            .and_then(|n| n.attribute("Algorithm"))
            .map(String::from)
    };
    if let Some(a) = find("SignatureMethod") {
        v.push(("signature", a));
    }
    if let Some(a) = find("DigestMethod") {
        v.push(("digest", a));
    }
    if let Some(a) = find("CanonicalizationMethod") {
        v.push(("canonicalization", a));
    }
    let cert = doc
        .descendants()
        .find(|n| n.tag_name().name() == "X509Certificate")
        .and_then(|n| n.text())
        .map(|t| t.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
    if let Some(der) = cert {
        if let Ok((_, c)) = x509_parser::parse_x509_certificate(&der) {
            v.push(("signing certificate", c.subject().to_string()));
        }
    }
    v
}

/// Header and claims of a compact JWS, when both decode as JSON objects.
fn decode_jwt(jwt: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    let mut parts = jwt.split('.');
    let (h, c) = (parts.next()?, parts.next()?);
    let dec = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .filter(|v| v.is_object())
    };
    Some((dec(h)?, dec(c)?))
}

fn pretty_json(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Indent XML one element per line, for reading. Lexical (tags and text as they are): it never
/// fails, and what it cannot make sense of it leaves as it is. Comments, CDATA and processing
/// instructions keep the current depth.
pub(crate) fn pretty_xml(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + xml.len() / 4);
    let mut depth: usize = 0;
    let mut rest = xml.trim();
    while !rest.is_empty() {
        if let Some(tail) = rest.strip_prefix('<') {
            let end = if tail.starts_with("!--") {
                tail.find("-->").map(|i| i + 3)
            } else if tail.starts_with("![CDATA[") {
                tail.find("]]>").map(|i| i + 3)
            } else {
                tail.find('>').map(|i| i + 1)
            };
            let Some(end) = end else {
                out.push_str(rest);
                break;
            };
            let tag = &rest[..end + 1];
            rest = &rest[end + 1..];
            let closing = tag.starts_with("</");
            let opening = !closing
                && !tag.ends_with("/>")
                && !tag.starts_with("<?")
                && !tag.starts_with("<!");
            if closing {
                depth = depth.saturating_sub(1);
            }
            // A start tag, its text and its end tag on one line: `<a>text</a>`.
            if opening {
                if let Some(lt) = rest.find('<') {
                    let text = &rest[..lt];
                    let after = &rest[lt..];
                    if after.starts_with("</") && !text.contains('\n') {
                        if let Some(gt) = after.find('>') {
                            push_line(&mut out, depth, &format!("{tag}{text}{}", &after[..=gt]));
                            rest = &after[gt + 1..];
                            continue;
                        }
                    }
                }
            }
            push_line(&mut out, depth, tag);
            if opening {
                depth += 1;
            }
        } else {
            let lt = rest.find('<').unwrap_or(rest.len());
            let text = rest[..lt].trim();
            if !text.is_empty() {
                push_line(&mut out, depth, text);
            }
            rest = &rest[lt..];
        }
    }
    out
}

fn push_line(out: &mut String, depth: usize, s: &str) {
    // Deep nesting is an attack shape, not a reason for megabytes of spaces.
    for _ in 0..depth.min(40) {
        out.push_str("  ");
    }
    out.push_str(s);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_xml_indents_elements_and_keeps_short_text_inline() {
        let x = r#"<?xml version="1.0"?><a x="1"><b>text</b><c/><d><!-- c --><e>1</e></d></a>"#;
        assert_eq!(
            pretty_xml(x),
            "<?xml version=\"1.0\"?>\n<a x=\"1\">\n  <b>text</b>\n  <c/>\n  <d>\n    <!-- c -->\n    <e>1</e>\n  </d>\n</a>\n"
        );
    }

    #[test]
    fn pretty_xml_never_fails_on_garbage() {
        for s in [
            "<",
            "<a",
            "</a></b>",
            "text only",
            "<a><![CDATA[<x>",
            "<<<>>>",
            "<!--",
        ] {
            let _ = pretty_xml(s);
        }
        assert_eq!(pretty_xml("</a></b>"), "</a>\n</b>\n");
    }

    #[test]
    fn jwt_decodes_header_and_claims_only_when_json() {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let t = format!("{}.{}.sig", b(r#"{"alg":"RS256"}"#), b(r#"{"sub":"x"}"#));
        let (h, c) = decode_jwt(&t).unwrap();
        assert_eq!(h["alg"], "RS256");
        assert_eq!(c["sub"], "x");
        assert!(decode_jwt("a.b.c").is_none());
        assert!(decode_jwt("nodots").is_none());
    }
}
