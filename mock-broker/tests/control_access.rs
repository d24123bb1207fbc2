//! The control API is safe by construction (issue 14 item 1) and the HTTP server refuses with
//! a body and does not keep half-sent requests (item 5), tested over real sockets the way an
//! attacker on the developer's machine (or a web page in their browser) would try.
//!
//! Each test here fails on the broker before these changes: `/_mock/arm` took `text/plain`
//! and ignored Origin and Host, no control call needed a token, a half-sent request line held
//! its connection open forever, and 405 / 414 / 431 were answered with empty bodies.

use mitid_mock_broker::control::{
    BrokerRefusal, ControlClient, ControlClientError, ControlToken, SamlArmRequest,
};
use mitid_mock_broker::{ArmedLogin, Broker, FaultPlan, RunningBroker, TlsMode};
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .no_proxy()
        .build()
        .unwrap()
}

const ARM: &str = r#"{"request_id":"_forged","identity":"anna","plan":{"faults":[{"fault":"unsigned-assertion"}]}}"#;

async fn broker() -> RunningBroker {
    Broker::builder().start().await.unwrap()
}

/// POST the forged arm call with these extra headers; status, refusal and whether it armed.
async fn try_arm(
    broker: &RunningBroker,
    headers: &[(&str, &str)],
) -> (StatusCode, Option<BrokerRefusal>, bool) {
    let mut rb = http().post(format!("{}/_mock/arm", broker.base_url()));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let resp = rb.body(ARM).send().await.unwrap();
    let status = resp.status();
    let refusal = BrokerRefusal::from_headers(resp.headers());
    if !status.is_success() {
        let body: serde_json::Value = resp.json().await.expect("a JSON refusal");
        assert_eq!(
            body["error"].as_str(),
            refusal.as_ref().map(|r| r.code.as_str()),
            "body and header state the same refusal"
        );
    }
    let armed = broker.state().is_armed("_forged");
    (status, refusal, armed)
}

fn bearer(broker: &RunningBroker) -> String {
    format!("Bearer {}", broker.control_token().unwrap())
}

#[tokio::test]
async fn a_text_plain_or_form_arm_is_415_and_arms_nothing() {
    let b = broker().await;
    let auth = bearer(&b);
    for ct in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut h = vec![("authorization", auth.as_str())];
        if let Some(ct) = ct {
            h.push(("content-type", ct));
        }
        let (s, r, armed) = try_arm(&b, &h).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        let r = r.expect("the refusal header");
        assert_eq!(r.code, "invalid_request");
        assert!(r.description.contains("application/json"), "{r}");
        assert!(!armed, "{ct:?} armed a login");
    }
    // The same call as JSON, with the token, arms.
    let (s, _, armed) = try_arm(
        &b,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(armed);
}

#[tokio::test]
async fn a_foreign_origin_or_cross_site_fetch_is_refused() {
    let b = broker().await;
    let auth = bearer(&b);
    let own = b.base_url().to_string();
    for (k, v) in [
        ("origin", "https://attacker.example"),
        ("origin", "null"),
        ("origin", "http://127.0.0.1:1"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let (s, r, armed) = try_arm(
            &b,
            &[
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
                (k, v),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{k}: {v}");
        assert_eq!(r.unwrap().code, "access_denied");
        assert!(!armed, "{k}: {v} armed a login");
    }
    // The broker's own origin is no foreign one.
    let (s, _, _) = try_arm(
        &b,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("origin", own.as_str()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_foreign_host_is_refused_as_dns_rebinding() {
    let b = broker().await;
    let auth = bearer(&b);
    let port = b.addr().port();
    let rebound = format!("attacker.example:{port}");
    let other_port = format!("127.0.0.1:{}", port.wrapping_add(1));
    for host in [rebound.as_str(), other_port.as_str(), "attacker.example"] {
        let (s, r, armed) = try_arm(
            &b,
            &[
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
                ("host", host),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{host}");
        let r = r.unwrap();
        assert_eq!(r.code, "access_denied");
        assert!(r.description.contains("Host"), "{r}");
        assert!(!armed, "{host} armed a login");
    }
    // The loopback names with the broker's port are its own.
    let localhost = format!("localhost:{port}");
    let (s, _, _) = try_arm(
        &b,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("host", localhost.as_str()),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_on_every_control_call() {
    let b = broker().await;
    let base = b.base_url().to_string();
    let wrong = "Bearer not-the-token-of-this-broker";
    for auth in [None, Some(wrong), Some("Basic YTpi")] {
        let mut h = vec![("content-type", "application/json")];
        if let Some(a) = auth {
            h.push(("authorization", a));
        }
        let (s, r, armed) = try_arm(&b, &h).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{auth:?}");
        let r = r.unwrap();
        assert_eq!(r.code, "invalid_token");
        assert!(!armed);
        // Reading records is control too: the fetch list, flow records, OIDC calls.
        for (method, path, body) in [
            ("GET", "/_mock/fetches", ""),
            ("GET", "/_mock/flows/_x", ""),
            (
                "POST",
                "/_mock/oidc/arm",
                r#"{"key":{"state":"s"},"plan":{"faults":[]}}"#,
            ),
            (
                "POST",
                "/_mock/oidc/preselect",
                r#"{"key":{"state":"s"},"identity":"anna"}"#,
            ),
            (
                "POST",
                "/_mock/oidc/rotate",
                r#"{"issuer":"signaturgruppen"}"#,
            ),
            (
                "POST",
                "/_mock/oidc/restore-keys",
                r#"{"issuer":"signaturgruppen"}"#,
            ),
            ("POST", "/_mock/oidc/flow", r#"{"key":{"state":"s"}}"#),
        ] {
            let mut rb = http()
                .request(method.parse().unwrap(), format!("{base}{path}"))
                .header("content-type", "application/json");
            if let Some(a) = auth {
                rb = rb.header("authorization", a);
            }
            if !body.is_empty() {
                rb = rb.body(body);
            }
            let resp = rb.send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path} {auth:?}");
            assert!(
                resp.headers()
                    .get("www-authenticate")
                    .is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")),
                "{path}"
            );
            assert_eq!(
                BrokerRefusal::from_headers(resp.headers()).map(|r| r.code),
                Some("invalid_token".into())
            );
        }
    }
    // The client reports a wrong token as the broker's refusal, not as a transport problem.
    let c = ControlClient::new(b.base_url())
        .unwrap()
        .with_token("x".repeat(43));
    let err = c.fetches().await.unwrap_err();
    assert!(
        matches!(&err, ControlClientError::Refused { status: 401, code, description }
            if code == "invalid_token" && description.contains("not this broker's")),
        "{err:?}"
    );
    assert!(
        c.health().await.is_err(),
        "health checks a token that is sent"
    );
    let c = ControlClient::new(b.base_url()).unwrap();
    let err = c.fetches().await.unwrap_err();
    assert!(
        matches!(&err, ControlClientError::Refused { status: 401, description, .. }
            if description.contains("Authorization: Bearer")),
        "{err:?}"
    );
    // With the broker's token it works.
    let c = ControlClient::over_http(&b).unwrap();
    c.health().await.unwrap();
    assert!(c.fetches().await.unwrap().is_empty());
}

#[tokio::test]
async fn public_endpoints_need_no_token() {
    let b = broker().await;
    let base = b.base_url().to_string();
    for path in [
        "/_mock/health",
        "/idp/saml/3.0/metadata",
        "/metadata",
        "/",
        "/_mock/fetch/_some-flow",
        "/_mock/oidc/attacker/jwks.json",
        "/signaturgruppen/op/.well-known/openid-configuration",
    ] {
        let resp = http()
            .get(format!("{base}{path}"))
            .header("origin", "https://attacker.example")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(b.state().fetches().len(), 1, "the trap still records");
}

#[tokio::test]
async fn without_a_token_on_loopback_the_other_checks_remain() {
    let b = Broker::builder()
        .control_token(ControlToken::Disabled)
        .start()
        .await
        .unwrap();
    assert_eq!(b.control_token(), None);
    let json = ("content-type", "application/json");
    let (s, _, armed) = try_arm(&b, &[("content-type", "text/plain")]).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(!armed);
    let (s, _, armed) = try_arm(&b, &[json, ("origin", "https://attacker.example")]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!armed);
    let host = format!("attacker.example:{}", b.addr().port());
    let (s, _, armed) = try_arm(&b, &[json, ("host", host.as_str())]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(!armed);
    // The harness's own call needs nothing more.
    let (s, _, armed) = try_arm(&b, &[json]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(armed);
    // A browser's preflight is never granted: no CORS headers, ever.
    let resp = http()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/_mock/arm", b.base_url()),
        )
        .header("origin", "https://attacker.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(!resp.status().is_success());
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    // Off loopback, no token is no option.
    let err = Broker::builder()
        .bind("0.0.0.0:0".parse().unwrap())
        .allow_non_loopback(true)
        .control_token(ControlToken::Disabled)
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    // A hand-chosen token is required as chosen.
    let b = Broker::builder()
        .control_token(ControlToken::Fixed("0123456789abcdef-shared".into()))
        .start()
        .await
        .unwrap();
    assert_eq!(b.control_token(), Some("0123456789abcdef-shared"));
    let c = ControlClient::new(b.base_url())
        .unwrap()
        .with_token("0123456789abcdef-shared");
    c.arm(&SamlArmRequest {
        request_id: "_shared".into(),
        login: ArmedLogin {
            identity: "anna".into(),
            loa: None,
            plan: FaultPlan::none(),
            profile: None,
        },
    })
    .await
    .unwrap();
    assert!(
        Broker::builder()
            .control_token(ControlToken::Fixed("short".into()))
            .start()
            .await
            .is_err()
    );
}

/// A raw connection that sends part of a request line and stops: closed once the header read
/// timeout has passed, not held forever.
#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_read_timeout() {
    let timeout = Duration::from_millis(300);
    let b = Broker::builder()
        .header_read_timeout(timeout)
        .start()
        .await
        .unwrap();
    for partial in [
        &b"GET /idp/saml/3.0/metad"[..],
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\r\n",
    ] {
        let mut s = tokio::net::TcpStream::connect(b.addr()).await.unwrap();
        s.write_all(partial).await.unwrap();
        let t0 = Instant::now();
        let mut buf = Vec::new();
        let read =
            tokio::time::timeout(timeout + Duration::from_secs(3), s.read_to_end(&mut buf)).await;
        assert!(
            read.is_ok(),
            "the connection was still open {:?} after a partial request",
            t0.elapsed()
        );
        assert!(
            t0.elapsed() >= timeout / 2,
            "closed too early: {:?}",
            t0.elapsed()
        );
    }
    // A complete request on a fresh connection is still served.
    let resp = http()
        .get(format!("{}/_mock/health", b.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "ok");
}

/// Status, headers and body of one raw request.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    // The server may answer and close while a huge request is still being written.
    let _ = s.write_all(request).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("the broker answers and closes");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[track_caller]
fn assert_page(status: u16, head: &str, body: &str, want: u16, needle: &str) {
    assert_eq!(status, want, "{head}\n{body}");
    assert!(head.contains("x-mock-broker-error: error="), "{head}");
    assert!(
        body.contains("<p id=\"error\">"),
        "an empty or foreign body: {body:?}"
    );
    assert!(body.contains(needle), "{needle:?} not in {body}");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("content-length");
    assert_eq!(len, body.len());
}

#[tokio::test]
async fn uri_and_header_limit_refusals_have_the_refusal_page() {
    let b = broker().await;
    let a = b.addr();
    // 414: over the 65,534-byte URI limit of hyper.
    let req = format!(
        "GET /idp/saml/3.0/?SAMLRequest={} HTTP/1.1\r\nHost: {a}\r\n\r\n",
        "A".repeat(70 * 1024)
    );
    let (s, head, body) = raw(a, req.as_bytes()).await;
    assert_page(s, &head, &body, 414, "65,534 bytes");
    // 431: more header fields than the server reads.
    let mut req = format!("GET / HTTP/1.1\r\nHost: {a}\r\n");
    for i in 0..150 {
        req.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    req.push_str("\r\n");
    let (s, head, body) = raw(a, req.as_bytes()).await;
    assert_page(s, &head, &body, 431, "header section");
    // 400: not HTTP at all.
    let (s, head, body) = raw(a, b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_page(s, &head, &body, 400, "not valid HTTP");
    // The broker still serves.
    let resp = http()
        .get(format!("{}/_mock/health", b.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_methods_get_a_refusal_with_a_body() {
    let b = broker().await;
    let base = b.base_url().to_string();
    // SAML endpoints and the index: the HTML refusal page.
    for (method, path) in [
        ("PUT", "/idp/saml/3.0/metadata"),
        ("DELETE", "/idp/saml/3.0/"),
        ("GET", "/login"),
        ("POST", "/"),
    ] {
        let resp = http()
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let r = BrokerRefusal::from_headers(resp.headers()).expect("refusal header");
        assert_eq!(r.code, "method_not_allowed");
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("<p id=\"error\">method"),
            "{method} {path}: {body}"
        );
    }
    // Control and OIDC endpoints: the OAuth JSON refusal.
    let auth = bearer(&b);
    for (method, path) in [
        ("GET", "/_mock/arm"),
        ("DELETE", "/_mock/fetches"),
        ("POST", "/_mock/health"),
        ("GET", "/signaturgruppen/op/connect/token"),
    ] {
        let resp = http()
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert!(BrokerRefusal::from_headers(resp.headers()).is_some());
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| d.contains("method")),
            "{body}"
        );
    }
    // Unknown paths: the 404 page.
    let resp = http().get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.text().await.unwrap().contains("no such endpoint"));
}

#[tokio::test]
async fn over_https_the_guard_and_the_refusal_pages_hold_too() {
    let b = Broker::builder()
        .tls(TlsMode::MockCa)
        .start()
        .await
        .unwrap();
    assert!(b.base_url().starts_with("https://"));
    let c = ControlClient::over_http(&b).unwrap();
    c.arm(&SamlArmRequest {
        request_id: "_tls".into(),
        login: ArmedLogin {
            identity: "anna".into(),
            loa: None,
            plan: FaultPlan::none(),
            profile: None,
        },
    })
    .await
    .unwrap();
    let err = ControlClient::new(b.base_url())
        .unwrap()
        .fetches()
        .await
        .unwrap_err();
    assert!(
        matches!(err, ControlClientError::Refused { status: 401, .. }),
        "{err:?}"
    );
    // 431 through TLS, where hyper writes one flat buffer.
    let ca = reqwest::Certificate::from_der(
        mitid_mock_broker::pki::MockPki::builtin().tls_ca.cert_der(),
    )
    .unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(ca)
        .no_proxy()
        .build()
        .unwrap();
    let mut rb = https.get(format!("{}/", b.base_url()));
    for i in 0..150 {
        rb = rb.header(format!("x-filler-{i}"), i.to_string());
    }
    let resp = rb.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(BrokerRefusal::from_headers(resp.headers()).is_some());
    assert!(resp.text().await.unwrap().contains("header section"));
}
