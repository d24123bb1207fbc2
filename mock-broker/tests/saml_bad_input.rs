//! Hostile and broken input on every SAML endpoint of the broker.
//!
//! Each case must get an HTTP 400 page whose error paragraph names the problem (SP developers
//! debug with these pages), must not panic or hang the server (every test ends by checking the
//! broker still answers), and must not make the broker fetch anything: external entities point
//! at a loopback [`Tripwire`] and at the broker's own fetch trap, and both are checked.

mod saml_support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mitid_mock_broker::pki::MockPki;
use mitid_mock_broker::saml::redirect::{self, SigAlg};
use mitid_mock_broker::{ArmedLogin, Broker, FaultPlan, RunningBroker};
use saml_support::*;

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The text of the refusal page's error paragraph, or the `error_description` of a control
/// API refusal (JSON, for programs).
fn error_text(body: &str) -> String {
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(body) {
        if let Some(d) = o.get("error_description").and_then(|d| d.as_str()) {
            return d.to_string();
        }
    }
    let start = body
        .find("<p id=\"error\">")
        .map(|i| i + "<p id=\"error\">".len());
    let Some(s) = start else {
        panic!("not a refusal page: {body}")
    };
    let e = body[s..].find("</p>").expect("closed paragraph") + s;
    body[s..e]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

/// Assert a 400 refusal page mentioning every `needles` (case-insensitive).
#[track_caller]
fn assert_refused(status: u16, body: &str, needles: &[&str]) {
    assert_eq!(status, 400, "expected HTTP 400, got {status}: {body}");
    let msg = error_text(body);
    for n in needles {
        assert!(
            msg.to_lowercase().contains(&n.to_lowercase()),
            "error message {msg:?} should mention {n:?}"
        );
    }
}

/// Assert a 400 control-API refusal (JSON `{"error", "error_description"}`) mentioning every
/// `needles` (case-insensitive).
#[track_caller]
fn assert_control_refused(status: u16, body: &str, needles: &[&str]) {
    assert_eq!(status, 400, "expected HTTP 400, got {status}: {body}");
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON refusal");
    assert_eq!(v["error"], "invalid_request", "{body}");
    let msg = v["error_description"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    for n in needles {
        assert!(
            msg.contains(&n.to_lowercase()),
            "error message {msg:?} should mention {n:?}"
        );
    }
}

/// The broker still serves after the bad input (no panic took the server down), and it made
/// no fetch of its own trap.
async fn assert_alive_and_no_fetch(broker: &RunningBroker) {
    let (status, body) = get(&format!("{}/_mock/health", broker.base_url())).await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    assert!(
        broker.state().fetches().is_empty(),
        "the broker fetched an external entity"
    );
}

async fn get_sso_query(broker: &RunningBroker, query: &str) -> (u16, String) {
    get(&format!("{}?{query}", broker.sso_url())).await
}

async fn post_form(url: &str, body: Vec<u8>) -> Result<(u16, String), reqwest::Error> {
    let r = http()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let s = r.status().as_u16();
    Ok((s, r.text().await?))
}

#[tokio::test]
async fn bad_base64_bad_deflate_and_deflate_bomb() {
    let broker = start().await;
    let (s, b) = get_sso_query(&broker, "SAMLRequest=%21%21not-base64%21%21").await;
    assert_refused(s, &b, &["SAMLRequest", "base64"]);

    let (s, b) = get_sso_query(
        &broker,
        &format!(
            "SAMLRequest={}",
            enc(&B64.encode(b"plain text, not deflate"))
        ),
    )
    .await;
    assert_refused(s, &b, &["SAMLRequest", "DEFLATE"]);

    // 20 MB of one byte compresses to ~20 KB: under the query cap, far over the inflate cap.
    let bomb = deflate_bytes(&vec![b'A'; 20 * 1024 * 1024]);
    let q = format!("SAMLRequest={}", enc(&B64.encode(&bomb)));
    assert!(
        q.len() < redirect::MAX_QUERY,
        "bomb must get past the query cap to test the inflate cap"
    );
    let t = std::time::Instant::now();
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["deflate bomb"]);
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "the bomb is stopped early"
    );

    // Not UTF-8 after inflation.
    let (s, b) = get_sso_query(
        &broker,
        &format!(
            "SAMLRequest={}",
            enc(&B64.encode(deflate_bytes(&[0xff, 0xfe, 0x00])))
        ),
    )
    .await;
    assert_refused(s, &b, &["UTF-8"]);

    // Not XML.
    let q = redirect::encode_query("SAMLRequest", "this is not <xml", None, None).unwrap();
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["XML"]);

    // Bad percent-encoding and duplicated parameters.
    let (s, b) = get_sso_query(&broker, "SAMLRequest=%zz").await;
    assert_refused(s, &b, &["URL encoding"]);
    let (s, b) = get_sso_query(&broker, "SAMLRequest=a&SAMLRequest=b").await;
    assert_refused(s, &b, &["more than once"]);

    // No SAMLRequest at all.
    let (s, b) = get(broker.sso_url()).await;
    assert_refused(s, &b, &["no SAMLRequest"]);
    assert_alive_and_no_fetch(&broker).await;
}

/// Send a GET over a raw socket; the status code, or `None` if the server closed the connection.
async fn raw_get_status(addr: std::net::SocketAddr, target: &str) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    // The server may close while we are still writing a huge request line.
    let _ = s.write_all(req.as_bytes()).await;
    let mut buf = Vec::new();
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the broker must not hang on a huge request line"
    );
    let head = String::from_utf8_lossy(&buf);
    head.strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
}

fn deflate_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn doctype_and_external_entities_are_refused_without_any_fetch() {
    let broker = start().await;
    let trip = Tripwire::new();
    let trap = broker.state().fetch_trap_url("xxe-authnrequest");
    for (n, target) in [&trip.url, &trap].into_iter().enumerate() {
        let mut req = request(&broker, &format!("_req-xxe-{n}"));
        req.issuer = "&xxe;".into();
        let xml = req.to_xml().replace(
            "<saml:Issuer>&amp;xxe;</saml:Issuer>",
            "<saml:Issuer>&xxe;</saml:Issuer>",
        );
        let xml = format!(
            r#"<?xml version="1.0"?><!DOCTYPE samlp:AuthnRequest [<!ENTITY xxe SYSTEM "{target}">]>{xml}"#
        );
        assert!(xml.contains("<saml:Issuer>&xxe;</saml:Issuer>"));
        // Signed properly, so the DTD is the only thing wrong.
        let (s, b) = get_sso_query(&broker, &signed_query(&xml, None)).await;
        assert_refused(s, &b, &["DOCTYPE"]);
    }
    // Internal entity expansion ("billion laughs") is refused the same way.
    let laughs = format!(
        r#"<!DOCTYPE a [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;&l;&l;&l;&l;&l;&l;&l;">]>{}"#,
        request(&broker, "_req-lol").to_xml()
    );
    let (s, b) = get_sso_query(&broker, &signed_query(&laughs, None)).await;
    assert_refused(s, &b, &["DOCTYPE"]);
    // The same on the POST (SLO) endpoint.
    let lo = format!(
        r#"<!DOCTYPE x [<!ENTITY xxe SYSTEM "{}">]><samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"/>"#,
        trip.url
    );
    let (s, b) = post_form(
        broker.sso_url(),
        format!("SAMLRequest={}", enc(&B64.encode(lo))).into_bytes(),
    )
    .await
    .unwrap();
    assert_refused(s, &b, &["DOCTYPE"]);
    assert!(
        !trip.was_contacted(),
        "nothing may connect to the entity's URL"
    );
    assert_alive_and_no_fetch(&broker).await;
}

#[tokio::test]
async fn ten_megabyte_bodies_and_huge_queries() {
    let broker = start().await;
    let big = vec![b'a'; 10 * 1024 * 1024];
    for path in ["/login", "/idp/saml/3.0/"] {
        let url = format!("{}{path}", broker.base_url());
        let mut body = b"SAMLRequest=".to_vec();
        body.extend_from_slice(&big);
        match post_form(&url, body).await {
            // The control API says 413 Payload Too Large in JSON; the SAML endpoints answer
            // with their refusal page.
            Ok((413, b)) if path.starts_with("/_mock/") => {
                assert!(error_text(&b).contains("larger than"), "{b}")
            }
            Ok((s, b)) => assert_refused(s, &b, &["larger than"]),
            // The broker may answer and close before the client finished sending 10 MB; a
            // reset connection is then acceptable, but the server must survive it (below).
            Err(e) => eprintln!("{path}: connection closed while sending 10 MB: {e}"),
        }
    }
    // The control API takes JSON with its token only; 10 MB of it is refused as too large.
    let resp = http()
        .post(format!("{}/_mock/arm", broker.base_url()))
        .header("content-type", "application/json")
        .bearer_auth(broker.control_token().unwrap())
        .body(big.clone())
        .send()
        .await;
    match resp {
        Ok(r) => {
            assert_eq!(r.status(), 413);
            assert!(r.text().await.unwrap().contains("larger than"));
        }
        Err(e) => eprintln!("/_mock/arm: connection closed while sending 10 MB: {e}"),
    }
    // Over the broker's own query cap, under the URI limits of hyper: the broker's page.
    let q = format!("SAMLRequest={}", "A".repeat(redirect::MAX_QUERY + 10));
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["query string", "limit"]);
    // Over hyper's own URI limit (64 KiB) and far over it (1 MiB of request line): hyper refuses
    // before the broker's handler runs (414/431 or a closed connection). Sent over a raw socket,
    // because HTTP clients will not even build such a request. No 2xx, and the broker survives.
    for len in [70 * 1024, 1024 * 1024] {
        let status = raw_get_status(
            broker.addr(),
            &format!("/idp/saml/3.0/?SAMLRequest={}", "A".repeat(len)),
        )
        .await;
        if let Some(s) = status {
            assert!((400..500).contains(&s), "query of {len} bytes: HTTP {s}");
        }
    }
    assert_alive_and_no_fetch(&broker).await;
}

#[tokio::test]
async fn unknown_sp_and_acs_not_in_metadata() {
    let broker = start().await;
    let mut req = request(&broker, "_req-unknown-sp");
    req.issuer = "https://unknown-sp.invalid".into();
    let (s, b) = get(&sso_url(&broker, &req, None)).await;
    assert_refused(s, &b, &["unknown SP", "unknown-sp.invalid"]);

    let mut req = request(&broker, "_req-evil-acs");
    req.acs_url = Some("https://attacker.invalid/acs".into());
    let (s, b) = get(&sso_url(&broker, &req, None)).await;
    assert_refused(
        s,
        &b,
        &[
            "AssertionConsumerServiceURL",
            "attacker.invalid",
            "not an HTTP-POST AssertionConsumerService",
        ],
    );

    // ACS index not in metadata.
    let mut req = request(&broker, "_req-bad-index");
    req.acs_url = None;
    let xml = req.to_xml().replacen(
        " Destination=",
        " AssertionConsumerServiceIndex=\"7\" Destination=",
        1,
    );
    let (s, b) = get_sso_query(&broker, &signed_query(&xml, None)).await;
    assert_refused(s, &b, &["AssertionConsumerServiceIndex 7"]);

    // A Redirect ProtocolBinding (NemLog-in answers with POST only).
    let xml = request(&broker, "_req-redirect-binding")
        .to_xml()
        .replace("bindings:HTTP-POST", "bindings:HTTP-Redirect");
    let (s, b) = get_sso_query(&broker, &signed_query(&xml, None)).await;
    assert_refused(s, &b, &["ProtocolBinding"]);
    assert_alive_and_no_fetch(&broker).await;
}

#[tokio::test]
async fn unsigned_sha1_and_wrong_key_requests() {
    let broker = start().await;
    let xml = request(&broker, "_req-unsigned").to_xml();
    let q = redirect::encode_query("SAMLRequest", &xml, None, None).unwrap();
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["not signed"]);

    let sp = MockPki::builtin().sp.rsa_signer().unwrap();
    let xml = request(&broker, "_req-sha1").to_xml();
    let q =
        redirect::encode_query("SAMLRequest", &xml, None, Some((&sp, SigAlg::RsaSha1))).unwrap();
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["SHA-1", "rsa-sha256"]);

    let attacker = MockPki::builtin().attacker.rsa_signer().unwrap();
    let xml = request(&broker, "_req-wrong-key").to_xml();
    let q = redirect::encode_query(
        "SAMLRequest",
        &xml,
        None,
        Some((&attacker, SigAlg::RsaSha256)),
    )
    .unwrap();
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["signature does not verify", "metadata"]);

    // A valid signature, but the signed octets were changed afterwards (RelayState added).
    let q = format!(
        "{}&RelayState=added-later",
        signed_query(&request(&broker, "_req-relay-added").to_xml(), None)
    );
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["signature does not verify"]);

    // SigAlg without Signature, and an unknown SigAlg.
    let q = format!(
        "{}&SigAlg={}",
        redirect::encode_query("SAMLRequest", &xml, None, None).unwrap(),
        enc(mitid_mock_broker::saml::ns::ALG_RSA_SHA256)
    );
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["SigAlg and Signature"]);
    let q = signed_query(&request(&broker, "_req-odd-alg").to_xml(), None).replace(
        &enc(mitid_mock_broker::saml::ns::ALG_RSA_SHA256),
        &enc("http://example.invalid/alg"),
    );
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["unsupported SigAlg"]);
    assert_alive_and_no_fetch(&broker).await;
}

#[tokio::test]
async fn expired_future_and_missing_fields() {
    let broker = start().await;
    let now = time::OffsetDateTime::now_utc();
    let mut req = request(&broker, "_req-expired");
    req.issue_instant = now - time::Duration::hours(1);
    let (s, b) = get(&sso_url(&broker, &req, None)).await;
    assert_refused(s, &b, &["IssueInstant", "expired or from the future"]);

    let mut req = request(&broker, "_req-future");
    req.issue_instant = now + time::Duration::minutes(30);
    let (s, b) = get(&sso_url(&broker, &req, None)).await;
    assert_refused(s, &b, &["IssueInstant", "expired or from the future"]);

    let req = request(&broker, "_req-no-dest");
    let xml = req
        .to_xml()
        .replace(&format!(" Destination=\"{}\"", broker.sso_url()), "");
    assert!(!xml.contains("Destination"));
    let (s, b) = get_sso_query(&broker, &signed_query(&xml, None)).await;
    assert_refused(s, &b, &["no Destination"]);

    let mut req = request(&broker, "_req-wrong-dest");
    req.destination = "https://elsewhere.invalid/sso".into();
    let (s, b) = get(&sso_url(&broker, &req, None)).await;
    assert_refused(s, &b, &["Destination", "elsewhere.invalid"]);

    let xml = request(&broker, "_req-bad-instant").to_xml().replacen(
        "IssueInstant=\"",
        "IssueInstant=\"yesterday-",
        1,
    );
    let (s, b) = get_sso_query(&broker, &signed_query(&xml, None)).await;
    assert_refused(s, &b, &["IssueInstant", "xs:dateTime"]);

    let xml = request(&broker, "_req-no-issuer").to_xml();
    let xml = xml.replace(&format!("<saml:Issuer>{SP_ENTITY_ID}</saml:Issuer>"), "");
    let (s, b) = get_sso_query(&broker, &signed_query(&xml, None)).await;
    assert_refused(s, &b, &["no Issuer"]);

    let xml = request(&broker, "_req-v1")
        .to_xml()
        .replace("Version=\"2.0\"", "Version=\"1.1\"");
    let (s, b) = get_sso_query(&broker, &signed_query(&xml, None)).await;
    assert_refused(s, &b, &["Version"]);

    let xml = request(&broker, "_req-noid")
        .to_xml()
        .replace("ID=\"_req-noid\" ", "");
    let (s, b) = get_sso_query(&broker, &signed_query(&xml, None)).await;
    assert_refused(s, &b, &["no ID"]);
    assert_alive_and_no_fetch(&broker).await;
}

#[tokio::test]
async fn reused_request_id_is_refused() {
    let broker = start().await;
    let req = request(&broker, "_req-reused");
    let url = format!("{}&mock_identity=anna", sso_url(&broker, &req, None));
    let first = sso(&url).await;
    assert_eq!(first.param, "SAMLResponse");
    // Even re-signed with a fresh instant, the same ID is a replay.
    let mut again = request(&broker, "_req-reused");
    again.issue_instant += time::Duration::seconds(1);
    let (s, b) = get(&format!(
        "{}&mock_identity=anna",
        sso_url(&broker, &again, None)
    ))
    .await;
    assert_refused(s, &b, &["_req-reused", "already used"]);
    assert_alive_and_no_fetch(&broker).await;
}

#[tokio::test]
async fn unknown_identities_and_bad_preselection() {
    let broker = start().await;
    // Control API: unknown identity, malformed JSON, missing fields.
    let arm_url = format!("{}/_mock/arm", broker.base_url());
    let token = broker.control_token().unwrap().to_string();
    let post_json = |body: String| {
        let url = arm_url.clone();
        let token = token.clone();
        async move {
            let r = http()
                .post(url)
                .header("content-type", "application/json")
                .bearer_auth(token)
                .body(body)
                .send()
                .await
                .unwrap();
            let s = r.status().as_u16();
            (s, r.text().await.unwrap())
        }
    };
    let (s, b) = post_json(r#"{"request_id":"_x","identity":"nobody"}"#.into()).await;
    assert_control_refused(s, &b, &["unknown identity", "nobody"]);
    let (s, b) = post_json("{not json".into()).await;
    assert_control_refused(s, &b, &["invalid JSON"]);
    let (s, b) = post_json(r#"{"identity":"anna"}"#.into()).await;
    assert_control_refused(s, &b, &["invalid JSON", "request_id"]);
    let (s, b) = post_json(
        r#"{"request_id":"_x","identity":"anna","plan":{"faults":[{"fault":"no-such-fault"}]}}"#
            .into(),
    )
    .await;
    assert_control_refused(s, &b, &["invalid JSON"]);
    // A good arm call works (the refusals above are not blanket failures).
    let (s, _) = post_json(r#"{"request_id":"_req-armed-http","identity":"bo"}"#.into()).await;
    assert_eq!(s, 200);
    let post = sso(&sso_url(
        &broker,
        &request(&broker, "_req-armed-http"),
        None,
    ))
    .await;
    let a = decrypt_assertion(&post.xml);
    let bo = broker.state().identities().get("bo").unwrap();
    assert_eq!(
        text_of(&a, mitid_mock_broker::saml::ns::SAML, "NameID"),
        Some(bo.name_id())
    );

    // In-process arming does not validate; the SSO endpoint then refuses clearly.
    broker
        .arm(
            "_req-armed-ghost",
            ArmedLogin {
                identity: "ghost".into(),
                loa: None,
                plan: FaultPlan::none(),
                profile: None,
            },
        )
        .expect("armed");
    let (s, b) = get(&sso_url(
        &broker,
        &request(&broker, "_req-armed-ghost"),
        None,
    ))
    .await;
    assert_refused(s, &b, &["armed identity", "ghost"]);

    // Query preselection.
    let (s, b) = get(&format!(
        "{}&mock_identity=ghost",
        sso_url(&broker, &request(&broker, "_req-q-ghost"), None)
    ))
    .await;
    assert_refused(s, &b, &["mock_identity", "ghost"]);
    let (s, b) = get(&format!(
        "{}&mock_identity=anna&mock_loa=Extreme",
        sso_url(&broker, &request(&broker, "_req-q-loa"), None)
    ))
    .await;
    assert_refused(s, &b, &["Extreme"]);

    // The chooser's POST /login: unknown flow, unknown identity, missing field.
    let login = format!("{}/login", broker.base_url());
    let (s, b) = post_form(&login, b"flow=_nope&identity=anna".to_vec())
        .await
        .unwrap();
    assert_refused(s, &b, &["unknown or expired login flow"]);
    let (s, b) = post_form(&login, b"identity=anna".to_vec()).await.unwrap();
    assert_refused(s, &b, &["flow"]);
    let (status, _) = get(&sso_url(
        &broker,
        &request(&broker, "_req-chooser-bad"),
        None,
    ))
    .await;
    assert_eq!(status, 200, "chooser page");
    let (s, b) = post_form(&login, b"flow=_req-chooser-bad&identity=ghost".to_vec())
        .await
        .unwrap();
    assert_refused(s, &b, &["identity"]);
    let (s, b) = post_form(
        &login,
        b"flow=_req-chooser-bad&identity=anna&loa=Ultra".to_vec(),
    )
    .await
    .unwrap();
    assert_refused(s, &b, &["Ultra"]);
    assert_alive_and_no_fetch(&broker).await;
}

#[tokio::test]
async fn post_endpoint_refusals() {
    let broker = start().await;
    // AuthnRequest on POST: SSO is Redirect-only, as at NemLog-in.
    let xml = request(&broker, "_req-post").to_xml();
    let (s, b) = post_form(
        broker.sso_url(),
        format!("SAMLRequest={}", enc(&B64.encode(&xml))).into_bytes(),
    )
    .await
    .unwrap();
    assert_refused(s, &b, &["HTTP-Redirect binding only"]);
    // Bad base64 / not UTF-8 / no field.
    let (s, b) = post_form(broker.sso_url(), b"SAMLRequest=%21%21%21".to_vec())
        .await
        .unwrap();
    assert_refused(s, &b, &["base64"]);
    let (s, b) = post_form(
        broker.sso_url(),
        format!("SAMLRequest={}", enc(&B64.encode([0xff, 0xfe]))).into_bytes(),
    )
    .await
    .unwrap();
    assert_refused(s, &b, &["UTF-8"]);
    let (s, b) = post_form(broker.sso_url(), b"foo=bar".to_vec())
        .await
        .unwrap();
    assert_refused(s, &b, &["SAMLRequest or SAMLResponse"]);
    // Unsigned LogoutRequest on POST.
    let lo = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lo-unsigned" Version="2.0" IssueInstant="{}"><saml:Issuer>{SP_ENTITY_ID}</saml:Issuer><saml:NameID>x</saml:NameID></samlp:LogoutRequest>"#,
        mitid_mock_broker::saml::response::fmt_instant(time::OffsetDateTime::now_utc())
    );
    let (s, b) = post_form(
        broker.sso_url(),
        format!("SAMLRequest={}", enc(&B64.encode(&lo))).into_bytes(),
    )
    .await
    .unwrap();
    assert_refused(s, &b, &["not signed"]);
    // Unsigned and unknown-SP LogoutRequests on Redirect.
    let q = redirect::encode_query("SAMLRequest", &lo, None, None).unwrap();
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["not signed"]);
    let q = signed_query(
        &lo.replace(SP_ENTITY_ID, "https://unknown-sp.invalid"),
        None,
    );
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["unknown SP"]);
    // Some other SAML message on the SSO endpoint.
    let q = signed_query(
        r#"<samlp:ArtifactResolve xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>"#,
        None,
    );
    let (s, b) = get_sso_query(&broker, &q).await;
    assert_refused(s, &b, &["ArtifactResolve"]);
    assert_alive_and_no_fetch(&broker).await;
}

#[tokio::test]
async fn control_api_binds_loopback_only() {
    // The control API refuses non-loopback peers; the broker cannot be reached from one without
    // binding off loopback, which the builder refuses unless explicitly allowed. (Connecting
    // from a non-loopback address would need a second network interface, which the loopback-only
    // rule for tests forbids, so the peer check itself is not exercised over the network here.)
    let err = Broker::builder()
        .bind("0.0.0.0:0".parse().unwrap())
        .start()
        .await
        .expect_err("non-loopback bind refused by default");
    assert!(err.to_string().contains("loopback"), "{err}");
    let broker = start().await;
    let (s, body) = get(&format!("{}/_mock/flows/_nope", broker.base_url())).await;
    assert_eq!(s, 401, "a control call without the token: {body}");
    let resp = http()
        .get(format!("{}/_mock/flows/_nope", broker.base_url()))
        .bearer_auth(broker.control_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let (s, body) = get(&format!("{}/no/such/endpoint", broker.base_url())).await;
    assert_eq!(s, 404);
    assert!(error_text(&body).contains("no such endpoint"));
}
