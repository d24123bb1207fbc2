use super::decode::{Decoded, decode_exchange, decode_jwt, pretty_xml};
use super::*;
use crate::report::StepResult;
use mitid_mock_broker::saml::redirect::codec;
use std::time::Duration;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A SAML Response with a plaintext, signed assertion, and attacker-controlled markup inside.
const RESPONSE: &str = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" InResponseTo="_req1" Destination="http://127.0.0.1:9/acs"><saml:Issuer>https://mock.broker</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a1"><saml:Issuer>https://mock.broker</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature><saml:Subject><saml:NameID>&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>"#;

const AUTHN_REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_req1" AssertionConsumerServiceURL="http://127.0.0.1:9/acs"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">http://127.0.0.1:9/sp</saml:Issuer></samlp:AuthnRequest>"#;

fn jwt(header: &str, claims: &str) -> String {
    format!(
        "{}.{}.{}",
        B64URL.encode(header),
        B64URL.encode(claims),
        B64URL.encode([7u8; 32])
    )
}

fn id_token() -> String {
    jwt(
        r#"{"alg":"RS256","kid":"mock-1","typ":"JWT"}"#,
        r#"{"iss":"http://127.0.0.1:9/op","sub":"<script>alert('sub')</script>","aud":["rp"],"iat":1767225600,"exp":1767225900,"nonce":"n-1"}"#,
    )
}

fn ex(method: &str, url: &str, status: u16) -> Exchange {
    Exchange {
        method: method.into(),
        url: url.into(),
        form: vec![],
        status,
        headers: vec![],
        body: String::new(),
        error: None,
        elapsed_ms: 3,
    }
}

fn note(text: &str) -> Exchange {
    Exchange {
        body: text.into(),
        ..ex("NOTE", "", 0)
    }
}

fn result(
    id: &str,
    family: &str,
    severity: Severity,
    verdict: Verdict,
    message: &str,
) -> ScenarioResult {
    ScenarioResult::inbound(
        id.into(),
        format!("title of {id}"),
        family.into(),
        severity,
        verdict,
        message.into(),
        "Verify the signature <b>before</b> reading anything.\n\nThen check the rest.".into(),
        vec![
            "OIOSAML 3.0.3 §3.1".into(),
            "https://example.org/spec?a=1&b=\"2\"".into(),
        ],
    )
}

/// A fixed report exercising every part of the page: all verdicts, a multi-step finding, a
/// SAML login (Redirect and POST bindings), an OIDC form_post with an ID token, a token
/// response, malformed and truncated messages, and markup in every attacker-reachable field.
fn fixture() -> RunReport {
    let sso = format!(
        "http://127.0.0.1:8/sso?SAMLRequest={}&RelayState=%3Cscript%3E",
        url::form_urlencoded::byte_serialize(codec::encode(AUTHN_REQUEST).as_bytes())
            .collect::<String>()
    );
    let mut fail = result(
        "signature.unsigned-assertion",
        "signature",
        Severity::Critical,
        Verdict::Fail,
        "the SP created a session as \"<script>x</script>\" although it must reject this response",
    );
    fail.expect = Expect::Reject;
    fail.grade = Some(crate::grade::Grade::ForgedIdentity);
    fail.evidence = Some(Evidence::Whoami);
    fail.duration_ms = 42;
    fail.transcript = vec![
        Exchange {
            headers: vec![("location".into(), sso.clone())],
            ..ex("GET", "http://127.0.0.1:9/login", 302)
        },
        note("armed broker flow _req1 as anna with scenario signature.unsigned-assertion"),
        Exchange {
            headers: vec![("content-type".into(), "text/html".into())],
            body: "<html><body onload=\"document.forms[0].submit()\"><script>alert('body')</script></body></html>".into(),
            ..ex("GET", &sso, 200)
        },
        Exchange {
            form: vec![
                ("SAMLResponse".into(), B64.encode(RESPONSE)),
                ("RelayState".into(), "<img src=x onerror=alert(1)>".into()),
            ],
            headers: vec![
                ("location".into(), "/whoami".into()),
                ("set-cookie".into(), "session=…".into()),
            ],
            ..ex("POST", "http://127.0.0.1:9/acs", 302)
        },
    ];
    let mut oidc = result(
        "oidc.id-token-nonce",
        "oidc-id-token",
        Severity::High,
        Verdict::Pass,
        "rejected: no session afterwards (oracle answered 401)",
    );
    oidc.expect = Expect::Reject;
    oidc.steps = vec![
        StepResult {
            verdict: Verdict::Pass,
            message: "logged in as the right identity".into(),
            observed_identity: Some("anna <a@b>".into()),
            grade: None,
        },
        StepResult {
            verdict: Verdict::Pass,
            message: "rejected: no session afterwards".into(),
            observed_identity: None,
            grade: None,
        },
    ];
    oidc.transcript = vec![
        note("step 1 of 2: OidcLogin, expect Accept"),
        Exchange {
            form: vec![
                ("id_token".into(), id_token()),
                ("state".into(), "s-1".into()),
            ],
            ..ex("POST", "http://127.0.0.1:9/callback", 302)
        },
        Exchange {
            headers: vec![("content-type".into(), "application/json".into())],
            body: format!(
                r#"{{"access_token":"opaque","token_type":"Bearer","id_token":"{}"}}"#,
                id_token()
            ),
            ..ex("POST", "http://127.0.0.1:8/op/token", 200)
        },
    ];
    let mut broken = result(
        "saml.malformed",
        "signature",
        Severity::Medium,
        Verdict::Inconclusive,
        "SP unreachable or too slow",
    );
    broken.transcript = vec![
        Exchange {
            form: vec![
                ("SAMLResponse".into(), "!!not base64!!".into()),
                ("id_token".into(), "not.a-jwt".into()),
            ],
            error: Some("cannot reach http://127.0.0.1:9/acs: connection refused".into()),
            ..ex("POST", "http://127.0.0.1:9/acs", 0)
        },
        ex(
            "GET",
            "http://127.0.0.1:8/sso?SAMLRequest=PHg%2BdW5jb21wcmVzc2VkPC94Pg%3D%3D",
            400,
        ),
    ];
    let skipped = result(
        "oidc.pkce",
        "oidc-id-token",
        Severity::Info,
        Verdict::Skipped,
        "does not apply: the RP sends no code_challenge",
    );
    let mut warn = result(
        "saml-xsw.3",
        "saml-xsw",
        Severity::Critical,
        Verdict::Warn,
        "the SP accepted a response it must reject, but logged in the identity the broker genuinely signed",
    );
    warn.grade = Some(crate::grade::Grade::SignedIdentity);
    RunReport::new(
        "reference SP <strict> & \"friends\"",
        Evidence::Whoami,
        vec![skipped, oidc, broken, fail, warn],
        Duration::from_millis(1234),
        crate::gate::GatePolicy::default(),
        None,
        time::macros::date!(2026 - 12 - 03),
    )
}

/// The elements the renderer writes; anything else in the output came from a transcript.
const ELEMENTS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h4", "p",
    "ul", "ol", "li", "a", "form", "fieldset", "legend", "label", "input", "span", "button",
    "noscript", "main", "section", "div", "details", "summary", "code", "dl", "dt", "dd", "pre",
    "table", "caption", "tr", "th", "td", "footer", "script",
];

/// The text of every tag in the page (after `<`, before `>`), outside the style and script
/// elements' content.
fn elements(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let tail = &rest[i + 1..];
        let end = tail.find('>').expect("an unclosed tag");
        let tag = &tail[..end];
        out.push(tag);
        rest = &tail[end + 1..];
        for raw in ["style", "script"] {
            if tag == raw {
                let close = format!("</{raw}>");
                let e = rest.find(&close).expect("closed");
                rest = &rest[e..];
            }
        }
    }
    out
}

/// Attribute names of a tag (values are double-quoted or bare).
fn attribute_names(tag: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = tag
        .find(char::is_whitespace)
        .map(|i| &tag[i..])
        .unwrap_or("");
    loop {
        rest = rest.trim_start();
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        if end == 0 {
            return names;
        }
        names.push(&rest[..end]);
        rest = &rest[end..];
        if let Some(v) = rest.strip_prefix("=\"") {
            let close = v.find('"').expect("a closed attribute value");
            rest = &v[close + 1..];
        } else if let Some(v) = rest.strip_prefix('=') {
            rest = v.find(char::is_whitespace).map(|i| &v[i..]).unwrap_or("");
        }
    }
}

fn count(hay: &str, needle: &str) -> usize {
    hay.to_ascii_lowercase().matches(needle).count()
}

#[test]
fn the_fixed_report_renders_deterministically() {
    let html = to_html(&fixture());
    assert_eq!(html, to_html(&fixture()));
    insta::with_settings!({
        snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/report"),
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("html_report", html);
    });
}

#[test]
fn markup_in_a_transcript_is_inert() {
    let html = to_html(&fixture());
    // Ours is the only script element, and every element is one the renderer writes, with no
    // event handler, style or src attribute: escaped text never contains a raw `<`.
    assert_eq!(count(&html, "<script"), 1, "{html}");
    for tag in elements(&html) {
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '>')
            .next()
            .unwrap_or("");
        assert!(ELEMENTS.contains(&name), "unexpected element <{tag}>");
        for attr in attribute_names(tag) {
            let a = attr.to_ascii_lowercase();
            assert!(
                !a.starts_with("on") && !a.starts_with("style") && !a.starts_with("src"),
                "attribute {attr} in <{tag}>"
            );
        }
    }
    // The attacker's markup is there, as text.
    assert!(html.contains("&lt;script&gt;alert('body')&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // Inside the decoded assertion, the XML-escaped text stays escaped one level more.
    assert!(html.contains("&amp;lt;/pre&amp;gt;&amp;lt;script&amp;gt;"));
    // In decoded JWT claims too.
    assert!(html.contains("&lt;script&gt;alert('sub')&lt;/script&gt;"));
    // And in the report's own fields (SP name, messages, rationale, references).
    assert!(html.contains("reference SP &lt;strict&gt; &amp; &quot;friends&quot;"));
    assert!(html.contains("Verify the signature &lt;b&gt;before&lt;/b&gt;"));
    assert!(html.contains("href=\"https://example.org/spec?a=1&amp;b=&quot;2&quot;\""));
}

#[test]
fn the_policy_allows_exactly_the_inline_style_and_script() {
    let html = to_html(&fixture());
    let between = |open: &str, close: &str| {
        let s = html.find(open).unwrap() + open.len();
        let e = html[s..].find(close).unwrap() + s;
        html[s..e].to_string()
    };
    let style = between("<style>", "</style>");
    let script = between("<script>", "</script>");
    let policy = between("Content-Security-Policy\" content=\"", "\"");
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    assert!(policy.contains(&format!("style-src '{}'", csp_hash(&style))));
    assert!(policy.contains(&format!("script-src '{}'", csp_hash(&script))));
    assert!(!policy.contains("unsafe"));
    // Style attributes would need 'unsafe-hashes': there are none, and nothing loads.
    for tag in elements(&html) {
        assert!(
            !tag.contains(" style=") && !tag.contains(" src="),
            "<{tag}>"
        );
        assert!(
            !tag.starts_with("link") && !tag.starts_with("img"),
            "<{tag}>"
        );
    }
    // The known value of the hash format (RFC 6234 test vector "abc").
    assert_eq!(
        csp_hash("abc"),
        "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
}

#[test]
fn counts_and_filters_match_the_report() {
    let r = fixture();
    let html = to_html(&r);
    let s = r.summary;
    for (v, n) in [
        ("FAIL", s.failed),
        ("PASS", s.passed),
        ("INCONCLUSIVE", s.inconclusive),
        ("SKIPPED", s.skipped),
    ] {
        assert!(
            html.contains(&format!(
                "data-verdict=\"{v}\"><span class=\"n\">{n}</span>"
            )),
            "{v}"
        );
        assert!(html.contains(&format!("name=\"verdict\" value=\"{v}\" checked")));
    }
    assert_eq!(count(&html, "class=\"finding\" id="), r.results.len());
    assert!(html.contains("name=\"family\" value=\"signature\" checked"));
    assert!(html.contains("name=\"family\" value=\"oidc-id-token\" checked"));
    // Without JavaScript the filters stay hidden and every finding is shown.
    assert!(html.contains("<form id=\"filters\" hidden>"));
    assert!(html.contains("<noscript>"));
    // Failures first, and open.
    let fail = html.find("data-verdict=\"FAIL\" data-family").unwrap();
    let pass = html.find("data-verdict=\"PASS\" data-family").unwrap();
    assert!(fail < pass);
    assert!(html.contains("data-severity=\"critical\" open>"));
}

#[test]
fn several_reports_share_one_page() {
    let (a, mut b) = (fixture(), fixture());
    b.sp = "second SP".into();
    let html = to_html_multi("demo", &[a, b]);
    assert!(html.contains("<section class=\"report\" id=\"r0\""));
    assert!(html.contains("<section class=\"report\" id=\"r1\" data-sp=\"second SP\""));
    assert!(html.contains("href=\"#r1\""));
    assert_eq!(count(&html, "<form id=\"filters\""), 1);
    assert!(html.contains("id=\"r1-signature.unsigned-assertion\""));
    assert!(html.contains("<span id=\"shown\">10</span> of 10 findings"));
}

#[test]
fn saml_messages_are_decoded_from_both_bindings() {
    let post = Exchange {
        form: vec![("SAMLResponse".into(), B64.encode(RESPONSE))],
        ..ex("POST", "http://sp/acs", 200)
    };
    let d = decode_exchange(&post);
    let [
        Decoded::Saml {
            source,
            pretty,
            outline,
        },
    ] = d.as_slice()
    else {
        panic!("{d:?}");
    };
    assert!(source.contains("HTTP-POST"), "{source}");
    assert!(
        pretty.contains("\n    <saml:Issuer>https://mock.broker</saml:Issuer>"),
        "{pretty}"
    );
    let get = |k: &str| {
        outline
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("message"), Some("Response"));
    assert_eq!(get("ID"), Some("_r1"));
    assert_eq!(get("status"), Some("Success"));
    assert_eq!(get("assertions"), Some("1 in plaintext"));
    assert_eq!(get("signatures"), Some("on Assertion"));

    let redirect = ex(
        "GET",
        &format!(
            "http://broker/sso?SAMLRequest={}",
            url::form_urlencoded::byte_serialize(codec::encode(AUTHN_REQUEST).as_bytes())
                .collect::<String>()
        ),
        200,
    );
    let d = decode_exchange(&redirect);
    let [
        Decoded::Saml {
            source, outline, ..
        },
    ] = d.as_slice()
    else {
        panic!("{d:?}");
    };
    assert!(source.contains("HTTP-Redirect"));
    assert!(outline.contains(&("message", "AuthnRequest".into())));
    assert!(outline.contains(&(
        "AssertionConsumerServiceURL",
        "http://127.0.0.1:9/acs".into()
    )));
}

#[test]
fn a_doctype_is_reported_not_parsed() {
    let xml = "<!DOCTYPE r [<!ENTITY e SYSTEM \"http://x/\">]><samlp:Response>&e;</samlp:Response>";
    let post = Exchange {
        form: vec![("SAMLResponse".into(), B64.encode(xml))],
        ..ex("POST", "http://sp/acs", 200)
    };
    let d = decode_exchange(&post);
    let [
        Decoded::Saml {
            pretty, outline, ..
        },
    ] = d.as_slice()
    else {
        panic!("{d:?}");
    };
    assert_eq!(outline[0].0, "not parsed");
    assert!(outline[0].1.contains("DOCTYPE"), "{outline:?}");
    assert!(
        pretty.starts_with(
            "<!DOCTYPE r [<!ENTITY e SYSTEM \"http://x/\">]>\n<samlp:Response>&e;</samlp:Response>"
        ),
        "{pretty}"
    );
}

#[test]
fn jwts_are_decoded_into_header_and_claims() {
    let Decoded::Jwt {
        header,
        claims,
        times,
        signature_bytes,
        encrypted,
        ..
    } = decode_jwt("id_token", &id_token())
    else {
        panic!();
    };
    assert!(header.contains("\"kid\": \"mock-1\""), "{header}");
    assert!(claims.unwrap().contains("\"nonce\": \"n-1\""));
    assert_eq!(
        times,
        vec![
            ("iat".to_string(), "2026-01-01T00:00:00Z".to_string()),
            ("exp".to_string(), "2026-01-01T00:05:00Z".to_string())
        ]
    );
    assert_eq!(signature_bytes, 32);
    assert!(!encrypted);
    // A JWE: only the header is readable.
    let jwe = format!(
        "{}.a2V5.aXY.{}.dGFn",
        B64URL.encode(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#),
        B64URL.encode([1u8; 48])
    );
    assert!(matches!(
        decode_jwt("id_token", &jwe),
        Decoded::Jwt {
            encrypted: true,
            claims: None,
            signature_bytes: 48,
            ..
        }
    ));
    // Found in a form, a token response and a URL fragment; opaque access tokens are left alone.
    let token_response = Exchange {
        body: format!(r#"{{"access_token":"opaque","id_token":"{}"}}"#, id_token()),
        ..ex("POST", "http://op/token", 200)
    };
    let d = decode_exchange(&token_response);
    assert_eq!(d.len(), 1);
    assert!(
        matches!(&d[0], Decoded::Jwt { source, .. } if source == "id_token (in the JSON response)")
    );
    let fragment = ex(
        "GET",
        &format!("http://rp/cb#state=s&id_token={}", id_token()),
        200,
    );
    assert_eq!(decode_exchange(&fragment).len(), 1);
}

#[test]
fn malformed_messages_get_a_clear_note() {
    let why = |name: &str, value: &str| -> String {
        let e = Exchange {
            form: vec![(name.into(), value.into())],
            ..ex("POST", "http://sp/acs", 200)
        };
        match decode_exchange(&e).as_slice() {
            [Decoded::Failed { why, .. }] => why.clone(),
            other => panic!("{name}={value:?}: {other:?}"),
        }
    };
    assert!(why("SAMLResponse", "!!not base64!!").contains("not valid base64"));
    assert!(
        why("SAMLResponse", &B64.encode([0xff, 0xfe, 0x00])).contains("not UTF-8"),
        "{}",
        why("SAMLResponse", &B64.encode([0xff, 0xfe, 0x00]))
    );
    assert!(why("SAMLResponse", "PHg+… [30000 bytes total]").contains("keeps only the start"));
    assert!(why("id_token", "not.a-jwt").contains("2 dot-separated parts"));
    assert!(why("id_token", "eyJ!.e30.AA").contains("header is not base64url"));
    assert!(
        why("id_token", &format!("{}.e30.AA", B64URL.encode("[1,"))).contains("header is not JSON")
    );
    assert!(
        why("id_token", &format!("{}.bm9wZQ.AA", B64URL.encode("{}")))
            .contains("claims is not JSON")
    );
    // The Redirect binding: uncompressed XML gets the codec's advice.
    let e = ex(
        "GET",
        "http://broker/sso?SAMLRequest=PHg%2BdW5jb21wcmVzc2VkPC94Pg%3D%3D",
        400,
    );
    let d = decode_exchange(&e);
    let [Decoded::Failed { why, .. }] = d.as_slice() else {
        panic!("{d:?}");
    };
    assert!(why.contains("uncompressed XML"), "{why}");
}

#[test]
fn hostile_input_never_panics() {
    // Deep nesting: indentation is capped, so the output stays linear in the input.
    let deep = "<a>".repeat(20_000);
    let p = pretty_xml(&deep);
    assert!(p.len() < deep.len() * 20, "{}", p.len());
    // Unterminated markup of every kind, quotes, brackets, multi-byte characters.
    for s in [
        "<",
        "<!--",
        "<![CDATA[x",
        "<?pi",
        "<!DOCTYPE [",
        "<a b='>",
        "</",
        "<a>æ</b>ø<",
        "<a/><b>",
        "]]>",
        "<<<>>>",
        "\"'<'\"",
        "<a>\u{0}</a>",
    ] {
        let _ = pretty_xml(s);
        let _ = esc(s);
        let _ = decode_jwt("t", s);
        let e = Exchange {
            form: vec![
                ("SAMLResponse".into(), s.into()),
                ("id_token".into(), s.into()),
            ],
            body: s.into(),
            ..ex(
                "POST",
                &format!("http://x/?SAMLRequest={s}#id_token={s}"),
                200,
            )
        };
        let _ = decode_exchange(&e);
    }
    // Pseudo-random base64 and JWT-shaped garbage.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bytes: Vec<u8> = x
            .to_le_bytes()
            .iter()
            .cycle()
            .take((x % 97) as usize)
            .copied()
            .collect();
        let b = B64.encode(&bytes);
        let _ = decode_jwt("t", &format!("eyJ{}.{}.{}", &b, &b, &b));
        let e = Exchange {
            form: vec![("SAMLResponse".into(), b.clone())],
            ..ex("GET", &format!("http://x/?SAMLRequest={b}"), 200)
        };
        let _ = decode_exchange(&e);
        let _ = pretty_xml(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn long_protocol_values_are_cut_in_urls_only_for_display() {
    let long = "A".repeat(500);
    let u = format!("http://b/sso?SAMLRequest={long}&RelayState=r&Signature={long}#frag");
    let shown = display_url(&u);
    assert_eq!(
        shown,
        format!(
            "http://b/sso?SAMLRequest={}…(500 characters)&RelayState=r&Signature={}…(500 characters)#frag",
            "A".repeat(40),
            "A".repeat(40)
        )
    );
    assert_eq!(display_url("http://b/x?a=1"), "http://b/x?a=1");
    assert_eq!(display_url("not a url æ"), "not a url æ");
    // The full value is still what gets decoded.
    let e = ex("GET", &format!("http://b/sso?SAMLRequest={long}"), 200);
    assert!(matches!(
        decode_exchange(&e).as_slice(),
        [Decoded::Failed { .. }]
    ));
}

#[test]
fn escaping() {
    assert_eq!(
        esc("<a href=\"x\" title='y'>&amp;</a>"),
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
    );
    assert_eq!(esc("a\r\nb\tc\u{0}\u{1b}d"), "a\nb\tc\u{FFFD}\u{FFFD}d");
    assert_eq!(esc("æøå ✓"), "æøå ✓");
    // Element content keeps its quotes (decoded XML is full of them).
    assert_eq!(
        esc_text("<a b=\"c\" d='e'>&</a>\r\n"),
        "&lt;a b=\"c\" d='e'&gt;&amp;&lt;/a&gt;\n"
    );
}

/// Every grade is shown with what it means; a malformed message says no identity was forged.
#[test]
fn grades_say_what_the_sp_let_through() {
    let html = to_html(&crate::report::tests::fixed_report());
    for g in [
        crate::grade::Grade::ForgedIdentity,
        crate::grade::Grade::SignedIdentity,
        crate::grade::Grade::UnknownIdentity,
        crate::grade::Grade::MalformedMessage,
    ] {
        let fact = format!("<dt>grade</dt><dd>{}: {}</dd>", g.as_str(), g.meaning());
        assert!(html.contains(&fact), "{fact}");
    }
    assert!(html.contains("malformed-message: the SP accepted a malformed message; the session is the genuine signed user: no identity forged"));
}
