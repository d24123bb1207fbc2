//! The HTML report: one self-contained file a reviewer opens in a browser.
//!
//! Summary counts, then every finding with its verdict, severity, what the SP did, the
//! rationale and fix, references and the transcript, with the protocol messages decoded (SAML
//! pretty-printed, JWTs split into header and claims; see [`decode`]). Filters by verdict and
//! family are a few lines of inline JavaScript; without JavaScript the filters stay hidden and
//! every finding is shown, and `<details>` opens natively.
//!
//! The file loads nothing: the style and the script are inline, and a Content-Security-Policy
//! `<meta>` allows exactly those two by their SHA-256 hashes and nothing else. Transcripts hold
//! what an SP under test (or a fault plan) produced, i.e. attacker-controlled XML and HTML;
//! every piece of text goes through [`esc`], and the policy is the second line of defence: a
//! `<script>` that slipped through would not run.

mod decode;
#[cfg(test)]
mod tests;

use super::{RunReport, ScenarioResult, Verdict};
use crate::agent::Exchange;
use crate::oracle::Evidence;
use crate::scenario::{Expect, Severity};
use base64::Engine;
use decode::Decoded;
use std::collections::BTreeMap;
use std::fmt::Write;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Characters of a decoded protocol value shown as sent (the decoded form follows).
const RAW_PREVIEW: usize = 120;

/// Render one run as a self-contained HTML page.
pub fn to_html(r: &RunReport) -> String {
    to_html_multi(
        &format!("mitid-harness report: {}", r.sp),
        std::slice::from_ref(r),
    )
}

/// Render several runs (e.g. `demo`, which runs several SPs) as one page: a section per run,
/// one set of filters for all.
pub fn to_html_multi(title: &str, reports: &[RunReport]) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"mitid-harness {}\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        content_security_policy(),
        esc(env!("CARGO_PKG_VERSION")),
        esc(title),
    );
    let _ = writeln!(
        o,
        "<header class=\"page\">\n<h1>{}</h1>\n<p class=\"muted\">Conformance report from mitid-harness {}: how the service provider{} behaved against the mock MitID broker (NemLog-in OIOSAML 3 / OIDC). Every verdict comes from what the SP did, observed through its own session.</p>",
        esc(title),
        esc(env!("CARGO_PKG_VERSION")),
        if reports.len() == 1 { "" } else { "s" },
    );
    if reports.len() > 1 {
        o.push_str("<ul class=\"toc\">\n");
        for (i, r) in reports.iter().enumerate() {
            let _ = writeln!(
                o,
                "<li><a href=\"#r{i}\">{}</a>: {}</li>",
                esc(&r.sp),
                esc(&counts_line(r))
            );
        }
        o.push_str("</ul>\n");
    }
    filters(&mut o, reports);
    o.push_str("</header>\n<main>\n");
    for (i, r) in reports.iter().enumerate() {
        report_section(&mut o, i, r);
    }
    let _ = writeln!(
        o,
        "</main>\n<footer>mitid-harness {}. Mock keys and test identities only; the decoded messages are shown as sent, signatures not re-verified here.</footer>\n<script>{JS}</script>\n</body>\n</html>",
        esc(env!("CARGO_PKG_VERSION"))
    );
    o
}

/// The policy: nothing loads, only our own inline style and script run (by hash). Links to
/// references still work (navigation is not a fetch).
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src '{}'; script-src '{}'; img-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(CSS),
        csp_hash(JS)
    )
}

/// `sha256-<base64>` of an inline element's exact text, as CSP source expressions name it.
fn csp_hash(text: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(d.as_ref())
    )
}

/// How a verdict looks. With [`all_verdicts`], the only place this renderer names verdicts: a
/// new variant (e.g. a warning) needs its CSS class (and a colour in `report.css`), its place
/// in the order, whether its findings start open, and its caption; counts, filters and badges
/// follow from these.
struct VerdictStyle {
    /// CSS class (`v-…`).
    class: &'static str,
    /// Order on the page and in the filters: the most urgent first.
    rank: u8,
    /// Whether its findings are expanded when the page opens.
    open: bool,
    /// The count's caption.
    caption: &'static str,
}

fn verdict_style(v: Verdict) -> VerdictStyle {
    match v {
        Verdict::Fail => VerdictStyle {
            class: "v-fail",
            rank: 0,
            open: true,
            caption: "failed",
        },
        Verdict::Warn => VerdictStyle {
            class: "v-warn",
            rank: 1,
            open: true,
            caption: "warned (signed identity)",
        },
        Verdict::Inconclusive => VerdictStyle {
            class: "v-inconclusive",
            rank: 2,
            open: true,
            caption: "inconclusive",
        },
        Verdict::Pass => VerdictStyle {
            class: "v-pass",
            rank: 3,
            open: false,
            caption: "passed",
        },
        Verdict::Skipped => VerdictStyle {
            class: "v-skipped",
            rank: 4,
            open: false,
            caption: "skipped",
        },
    }
}

/// Every verdict, so the summary shows a zero count too. The match makes the compiler point
/// here when a variant is added.
fn all_verdicts() -> Vec<Verdict> {
    let all = [
        Verdict::Fail,
        Verdict::Warn,
        Verdict::Inconclusive,
        Verdict::Pass,
        Verdict::Skipped,
    ];
    for v in all {
        match v {
            Verdict::Fail
            | Verdict::Warn
            | Verdict::Inconclusive
            | Verdict::Pass
            | Verdict::Skipped => {}
        }
    }
    let mut all = all.to_vec();
    all.sort_by_key(|v| verdict_style(*v).rank);
    all
}

fn severity_style(s: Severity) -> (&'static str, &'static str) {
    match s {
        Severity::Critical => ("s-critical", "critical"),
        Severity::High => ("s-high", "high"),
        Severity::Medium => ("s-medium", "medium"),
        Severity::Info => ("s-info", "info"),
    }
}

fn evidence_text(e: Evidence) -> &'static str {
    match e {
        Evidence::FinalStatus => "the login's final HTTP status only",
        Evidence::ProtectedUrl => "a protected URL (session yes or no)",
        Evidence::Whoami => "a whoami URL naming the logged-in identity",
    }
}

fn expect_text(e: Expect) -> &'static str {
    match e {
        Expect::Accept => "accept: a session for exactly that identity",
        Expect::Reject => "reject: no session",
    }
}

/// Results per verdict, counted from the results themselves (the same numbers as the JSON
/// summary, for any verdict).
fn counts(r: &RunReport) -> BTreeMap<Verdict, usize> {
    let mut m: BTreeMap<Verdict, usize> = all_verdicts().into_iter().map(|v| (v, 0)).collect();
    for x in &r.results {
        *m.entry(x.verdict).or_default() += 1;
    }
    m
}

fn counts_line(r: &RunReport) -> String {
    let c = counts(r);
    all_verdicts()
        .into_iter()
        .map(|v| {
            format!(
                "{} {}",
                c.get(&v).copied().unwrap_or(0),
                verdict_style(v).caption
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn filters(o: &mut String, reports: &[RunReport]) {
    let total: usize = reports.iter().map(|r| r.results.len()).sum();
    let mut verdicts: BTreeMap<Verdict, usize> = BTreeMap::new();
    let mut families: BTreeMap<&str, usize> = BTreeMap::new();
    for x in reports.iter().flat_map(|r| &r.results) {
        *verdicts.entry(x.verdict).or_default() += 1;
        *families.entry(&x.family).or_default() += 1;
    }
    let vs = by_rank(verdicts);
    o.push_str("<form id=\"filters\" hidden>\n<fieldset><legend>Verdict</legend>");
    for (v, n) in vs {
        let _ = write!(
            o,
            "<label><input type=\"checkbox\" name=\"verdict\" value=\"{}\" checked> <span class=\"badge {}\">{}</span> {n}</label>",
            v.as_str(),
            verdict_style(v).class,
            v.as_str()
        );
    }
    o.push_str("<button type=\"button\" data-all=\"verdict\" data-value=\"on\">all</button><button type=\"button\" data-all=\"verdict\" data-value=\"off\">none</button></fieldset>\n<fieldset><legend>Family</legend>");
    for (f, n) in families {
        let _ = write!(
            o,
            "<label><input type=\"checkbox\" name=\"family\" value=\"{}\" checked> {} ({n})</label>",
            esc(f),
            esc(f)
        );
    }
    let _ = write!(
        o,
        "<button type=\"button\" data-all=\"family\" data-value=\"on\">all</button><button type=\"button\" data-all=\"family\" data-value=\"off\">none</button></fieldset>\n<p class=\"muted\"><span id=\"shown\">{total}</span> of {total} findings shown</p>\n</form>\n<noscript><p class=\"muted\">The filters need JavaScript; every finding is shown.</p></noscript>\n"
    );
}

fn report_section(o: &mut String, i: usize, r: &RunReport) {
    let _ = write!(
        o,
        "<section class=\"report\" id=\"r{i}\" data-sp=\"{}\">\n<h2>{}</h2>\n<p class=\"muted\">{} results in {:.1} s; oracle evidence: {}.</p>\n<ul class=\"counts\">",
        esc(&r.sp),
        esc(&r.sp),
        r.results.len(),
        r.duration_ms as f64 / 1000.0,
        evidence_text(r.evidence)
    );
    for (v, n) in by_rank(counts(r)) {
        let st = verdict_style(v);
        let _ = write!(
            o,
            "<li class=\"count {}\" data-verdict=\"{}\"><span class=\"n\">{n}</span>{}</li>",
            st.class,
            v.as_str(),
            st.caption
        );
    }
    o.push_str("</ul>\n");
    let mut by_severity: BTreeMap<std::cmp::Reverse<Severity>, usize> = BTreeMap::new();
    for x in r.results.iter().filter(|x| x.verdict == Verdict::Fail) {
        *by_severity
            .entry(std::cmp::Reverse(x.severity))
            .or_default() += 1;
    }
    if !by_severity.is_empty() {
        let parts: Vec<String> = by_severity
            .iter()
            .map(|(s, n)| format!("{n} {}", severity_style(s.0).1))
            .collect();
        let _ = writeln!(o, "<p>Failures by severity: {}.</p>", parts.join(", "));
    }
    let mut findings: Vec<&ScenarioResult> = r.results.iter().collect();
    findings.sort_by(|a, b| {
        (
            verdict_style(a.verdict).rank,
            std::cmp::Reverse(a.severity),
            &a.family,
            &a.id,
        )
            .cmp(&(
                verdict_style(b.verdict).rank,
                std::cmp::Reverse(b.severity),
                &b.family,
                &b.id,
            ))
    });
    o.push_str("<div class=\"findings\">\n");
    for x in findings {
        finding(o, i, x);
    }
    o.push_str("</div>\n</section>\n");
}

/// Verdict counts in display order.
fn by_rank(m: BTreeMap<Verdict, usize>) -> Vec<(Verdict, usize)> {
    let mut v: Vec<_> = m.into_iter().collect();
    v.sort_by_key(|(v, _)| verdict_style(*v).rank);
    v
}

fn anchor(report: usize, id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("r{report}-{safe}")
}

fn finding(o: &mut String, report: usize, x: &ScenarioResult) {
    let st = verdict_style(x.verdict);
    let (sev_class, sev) = severity_style(x.severity);
    let _ = write!(
        o,
        "<details class=\"finding\" id=\"{}\" data-verdict=\"{}\" data-family=\"{}\" data-severity=\"{sev}\"{}>\n<summary><span class=\"badge {}\">{}</span> <span class=\"sev {sev_class}\">{sev}</span> <code class=\"id\">{}</code> <span class=\"title\">{}</span> <span class=\"fam\">{}</span></summary>\n<div class=\"detail\">\n<p class=\"message\">{}</p>\n<dl class=\"facts\">",
        anchor(report, &x.id),
        x.verdict.as_str(),
        esc(&x.family),
        if st.open { " open" } else { "" },
        st.class,
        x.verdict.as_str(),
        esc(&x.id),
        esc(&x.title),
        esc(&x.family),
        esc(&x.message),
    );
    let mut fact = |k: &str, v: &str| {
        let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    };
    fact("family", &x.family);
    fact("severity", sev);
    fact("the SP must", expect_text(x.expect));
    if let Some(g) = x.grade {
        fact("grade", &format!("{}: {}", g.as_str(), g.meaning()));
    }
    if let Some(w) = &x.waiver {
        let state = if w.expired { "expired" } else { "waived" };
        fact(
            state,
            &format!("until {} (inclusive): {}", w.expires, w.reason),
        );
    }
    if let Some(e) = x.evidence {
        fact("oracle", evidence_text(e));
    }
    if x.duration_ms > 0 {
        fact("time", &format!("{} ms", x.duration_ms));
    }
    o.push_str("</dl>\n");
    if x.steps.len() > 1 {
        o.push_str("<h4>Steps</h4>\n<ol class=\"steps\">");
        for s in &x.steps {
            let _ = write!(
                o,
                "<li><span class=\"badge {}\">{}</span> {}{}</li>",
                verdict_style(s.verdict).class,
                s.verdict.as_str(),
                esc(&s.message),
                s.observed_identity
                    .as_deref()
                    .map(|i| format!(" <span class=\"muted\">(identity {})</span>", esc(i)))
                    .unwrap_or_default()
            );
        }
        o.push_str("</ol>\n");
    }
    if !x.rationale.trim().is_empty() {
        o.push_str("<h4>Why it matters, and the fix</h4>\n<div class=\"rationale\">");
        for para in x.rationale.split("\n\n").filter(|p| !p.trim().is_empty()) {
            let _ = write!(o, "<p>{}</p>", esc(para.trim()));
        }
        o.push_str("</div>\n");
    }
    if !x.references.is_empty() {
        o.push_str("<h4>References</h4>\n<ul class=\"refs\">");
        for r in &x.references {
            let _ = write!(o, "<li>{}</li>", reference(r));
        }
        o.push_str("</ul>\n");
    }
    if !x.transcript.is_empty() {
        transcript(o, &x.transcript);
    }
    o.push_str("</div>\n</details>\n");
}

/// A reference: a link when it is an http(s) URL, text otherwise.
fn reference(r: &str) -> String {
    let t = r.trim();
    if (t.starts_with("https://") || t.starts_with("http://")) && !t.contains(char::is_whitespace) {
        format!("<a href=\"{0}\" rel=\"noreferrer\">{0}</a>", esc(t))
    } else {
        esc(t)
    }
}

fn transcript(o: &mut String, t: &[Exchange]) {
    let http = t.iter().filter(|e| e.method != "NOTE").count();
    let _ = writeln!(
        o,
        "<details class=\"transcript\"><summary>Transcript: {http} HTTP exchange{}</summary>\n<ol class=\"exchanges\">",
        if http == 1 { "" } else { "s" }
    );
    for e in t {
        if e.method == "NOTE" {
            let _ = writeln!(o, "<li class=\"note\">{}</li>", esc(&e.body));
            continue;
        }
        exchange(o, e);
    }
    o.push_str("</ol>\n</details>\n");
}

fn exchange(o: &mut String, e: &Exchange) {
    let status = if e.status == 0 {
        "<span class=\"status st-err\">no answer</span>".to_string()
    } else {
        format!(
            "<span class=\"status{}\">{}</span>",
            if e.status >= 400 { " st-err" } else { "" },
            e.status
        )
    };
    let _ = writeln!(
        o,
        "<li class=\"exchange\">\n<p class=\"req mono\"><span class=\"method\">{}</span> <span class=\"url\">{}</span> → {status} <span class=\"muted\">{} ms</span></p>",
        esc(&e.method),
        esc(&display_url(&e.url)),
        e.elapsed_ms
    );
    if !e.headers.is_empty() {
        o.push_str("<ul class=\"headers\">");
        for (k, v) in &e.headers {
            let v = if k == "location" {
                display_url(v)
            } else {
                v.clone()
            };
            let _ = write!(
                o,
                "<li><span class=\"hn\">{}:</span> {}</li>",
                esc(k),
                esc(&v)
            );
        }
        o.push_str("</ul>\n");
    }
    if !e.form.is_empty() {
        o.push_str("<table class=\"form\"><caption class=\"muted\">form sent</caption>");
        for (k, v) in &e.form {
            let shown = if decode::is_decoded_field(k, v) && v.chars().count() > RAW_PREVIEW {
                let head: String = v.chars().take(RAW_PREVIEW).collect();
                format!("{head}… ({} characters; decoded below)", v.chars().count())
            } else {
                v.clone()
            };
            let _ = write!(
                o,
                "<tr><th class=\"mono\">{}</th><td class=\"mono\">{}</td></tr>",
                esc(k),
                esc(&shown)
            );
        }
        o.push_str("</table>\n");
    }
    for d in decode::decode_exchange(e) {
        decoded(o, &d);
    }
    if let Some(err) = &e.error {
        let _ = writeln!(o, "<p class=\"error\">{}</p>", esc(err));
    }
    if !e.body.is_empty() {
        let _ = writeln!(
            o,
            "<details class=\"body\"><summary>response body ({} bytes kept)</summary><pre>{}</pre></details>",
            e.body.len(),
            esc_text(&e.body)
        );
    }
    o.push_str("</li>\n");
}

/// A URL for reading: the values of protocol messages and signatures in its query are cut to
/// their start (the message is decoded below it; a signature is opaque anyway), so a redirect
/// takes a line, not fifteen.
fn display_url(url: &str) -> String {
    const LONG: usize = 80;
    let Some((base, rest)) = url.split_once('?') else {
        return url.to_string();
    };
    let (query, fragment) = match rest.split_once('#') {
        Some((q, f)) => (q, Some(f)),
        None => (rest, None),
    };
    let params: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v))
                if v.chars().count() > LONG
                    && matches!(
                        k,
                        "SAMLRequest" | "SAMLResponse" | "Signature" | "id_token" | "request"
                    ) =>
            {
                let head: String = v.chars().take(RAW_PREVIEW / 3).collect();
                format!("{k}={head}…({} characters)", v.chars().count())
            }
            _ => kv.to_string(),
        })
        .collect();
    let mut out = format!("{base}?{}", params.join("&"));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn decoded(o: &mut String, d: &Decoded) {
    match d {
        Decoded::Saml {
            source,
            pretty,
            outline,
        } => {
            let _ = write!(
                o,
                "<div class=\"decoded saml\"><p class=\"dlabel\">{}, decoded</p><dl class=\"outline\">",
                esc(source)
            );
            for (k, v) in outline {
                let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
            }
            let _ = writeln!(
                o,
                "</dl><pre class=\"xml\">{}</pre><p class=\"muted\">Indented for reading; the whitespace differs from what was sent.</p></div>",
                esc_text(pretty)
            );
        }
        Decoded::Jwt {
            source,
            header,
            claims,
            times,
            signature_bytes,
            encrypted,
        } => {
            let _ = write!(
                o,
                "<div class=\"decoded jwt\"><p class=\"dlabel\">{}, a {} decoded</p><h4>Header</h4><pre class=\"json\">{}</pre>",
                esc(source),
                if *encrypted { "JWE" } else { "JWT" },
                esc_text(header)
            );
            match claims {
                Some(c) => {
                    let _ = write!(o, "<h4>Claims</h4><pre class=\"json\">{}</pre>", esc_text(c));
                }
                None => o.push_str(
                    "<p class=\"muted\">The claims are encrypted for the RP; the harness holds no RP key.</p>",
                ),
            }
            if !times.is_empty() {
                o.push_str("<dl class=\"outline\">");
                for (k, t) in times {
                    let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(t));
                }
                o.push_str("</dl>");
            }
            let _ = writeln!(
                o,
                "<p class=\"muted\">{} ({signature_bytes} bytes) not verified here; the verdict says whether the RP did.</p></div>",
                if *encrypted {
                    "Ciphertext"
                } else {
                    "Signature"
                }
            );
        }
        Decoded::Failed { source, why } => {
            let _ = writeln!(
                o,
                "<div class=\"decoded failed\"><p class=\"dlabel\">{} could not be decoded</p><p>{}. The value is shown as sent above.</p></div>",
                esc(source),
                esc(why.trim_end_matches('.'))
            );
        }
    }
}

/// Escape text for HTML text and attribute values (quoted with `"`). Control characters other
/// than tab and newline become U+FFFD (CR is dropped), so nothing in a transcript can alter the
/// page's structure.
pub(crate) fn esc(s: &str) -> String {
    escape(s, true)
}

/// Escape element content only (`<pre>` blocks): quotes need no escaping there, and decoded
/// XML is full of them.
fn esc_text(s: &str) -> String {
    escape(s, false)
}

fn escape(s: &str, quotes: bool) -> String {
    let mut o = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' if quotes => o.push_str("&quot;"),
            '\'' if quotes => o.push_str("&#39;"),
            '\n' | '\t' => o.push(c),
            '\r' => {}
            c if c.is_control() => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}
