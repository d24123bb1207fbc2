//! Bad input on every endpoint gets an RFC 6749-style error with the right status, never a
//! panic, a hang or a 500.

mod oidc_support;

use oidc_support::*;
use reqwest::Method;
use serde_json::Value;

struct Case {
    name: &'static str,
    method: Method,
    /// Endpoint key in discovery, or an absolute path starting with '/'.
    endpoint: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    basic: Option<(&'static str, &'static str)>,
    header: Option<(&'static str, &'static str)>,
    status: u16,
    error: &'static str,
}

fn case(name: &'static str, method: Method, endpoint: &'static str) -> Case {
    Case {
        name,
        method,
        endpoint,
        content_type: Some("application/x-www-form-urlencoded"),
        body: vec![],
        basic: None,
        header: None,
        status: 400,
        error: "invalid_request",
    }
}

impl Case {
    fn body(mut self, b: &str) -> Self {
        self.body = b.as_bytes().to_vec();
        self
    }
    fn raw(mut self, b: Vec<u8>) -> Self {
        self.body = b;
        self
    }
    fn ct(mut self, c: Option<&'static str>) -> Self {
        self.content_type = c;
        self
    }
    fn basic(mut self, id: &'static str, secret: &'static str) -> Self {
        self.basic = Some((id, secret));
        self
    }
    fn header(mut self, k: &'static str, v: &'static str) -> Self {
        self.header = Some((k, v));
        self
    }
    fn expect(mut self, status: u16, error: &'static str) -> Self {
        self.status = status;
        self.error = error;
        self
    }
}

#[tokio::test]
async fn every_endpoint_answers_bad_input_with_a_json_error() {
    let mock = start(config()).await;
    let huge = vec![b'a'; 200 * 1024];
    let token_ok =
        "grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb";
    let post = Method::POST;
    let get = Method::GET;
    let cases = vec![
        // Token endpoint.
        case("token GET", get.clone(), "token_endpoint").expect(405, "invalid_request"),
        case("token JSON body", post.clone(), "token_endpoint")
            .ct(Some("application/json"))
            .body("{}")
            .expect(415, "invalid_request"),
        case("token no content type", post.clone(), "token_endpoint")
            .ct(None)
            .body(token_ok)
            .expect(415, "invalid_request"),
        case("token huge body", post.clone(), "token_endpoint")
            .raw(huge.clone())
            .expect(413, "invalid_request"),
        case("token duplicate params", post.clone(), "token_endpoint")
            .body("grant_type=authorization_code&grant_type=authorization_code")
            .basic("rp", SECRET),
        case("token no grant_type", post.clone(), "token_endpoint")
            .body("code=x")
            .basic("rp", SECRET),
        case("token unknown grant_type", post.clone(), "token_endpoint")
            .body("grant_type=urn:mock:nope")
            .basic("rp", SECRET)
            .expect(400, "unsupported_grant_type"),
        case("token refresh grant", post.clone(), "token_endpoint")
            .body("grant_type=refresh_token&refresh_token=x")
            .basic("rp", SECRET)
            .expect(400, "unsupported_grant_type"),
        case("token no client auth", post.clone(), "token_endpoint")
            .body(token_ok)
            .expect(401, "invalid_client"),
        case("token wrong secret", post.clone(), "token_endpoint")
            .body(token_ok)
            .basic("rp", "wrong")
            .expect(401, "invalid_client"),
        case("token unknown client", post.clone(), "token_endpoint")
            .body(token_ok)
            .basic("nobody", SECRET)
            .expect(401, "invalid_client"),
        case("token malformed basic", post.clone(), "token_endpoint")
            .body(token_ok)
            .header("authorization", "Basic %%%"),
        case("token two auth methods", post.clone(), "token_endpoint")
            .body("grant_type=authorization_code&code=x&client_id=rp&client_secret=mock-rp-secret")
            .basic("rp", SECRET),
        case("token assertion not a JWT", post.clone(), "token_endpoint")
            .body("grant_type=authorization_code&code=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=abc")
            .expect(401, "invalid_client"),
        case("token assertion garbage parts", post.clone(), "token_endpoint")
            .body("grant_type=authorization_code&code=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=%21%21.%7B%7D.x")
            .expect(401, "invalid_client"),
        case("token assertion JSON array", post.clone(), "token_endpoint")
            .body("grant_type=authorization_code&code=x&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=WzFd.WzFd.AA")
            .expect(401, "invalid_client"),
        case("token wrong assertion type", post.clone(), "token_endpoint")
            .body("grant_type=authorization_code&code=x&client_assertion_type=saml&client_assertion=abc"),
        case("token unknown code", post.clone(), "token_endpoint")
            .body(token_ok)
            .basic("rp", SECRET)
            .expect(400, "invalid_grant"),
        case("token missing code", post.clone(), "token_endpoint")
            .body("grant_type=authorization_code")
            .basic("rp", SECRET),
        case("token invalid utf-8", post.clone(), "token_endpoint")
            .raw(b"grant_type=\xff\xfe&code=%ff".to_vec())
            .basic("rp", SECRET)
            .expect(400, "unsupported_grant_type"),
        // Userinfo.
        case("userinfo no token", get.clone(), "userinfo_endpoint")
            .ct(None)
            .expect(401, "invalid_token"),
        case("userinfo unknown token", get.clone(), "userinfo_endpoint")
            .ct(None)
            .header("authorization", "Bearer nope")
            .expect(401, "invalid_token"),
        case("userinfo basic scheme", get.clone(), "userinfo_endpoint")
            .ct(None)
            .header("authorization", "Basic eDp5"),
        case("userinfo token twice", post.clone(), "userinfo_endpoint")
            .body("access_token=a")
            .header("authorization", "Bearer a"),
        case("userinfo huge body", post.clone(), "userinfo_endpoint")
            .raw(huge.clone())
            .expect(413, "invalid_request"),
        case("userinfo DELETE", Method::DELETE, "userinfo_endpoint")
            .ct(None)
            .expect(405, "invalid_request"),
        // Authorization endpoint (asks for JSON so the body is machine-readable).
        case("authorize JSON body", post.clone(), "authorization_endpoint")
            .ct(Some("application/json"))
            .body("{}")
            .header("accept", "application/json")
            .expect(415, "invalid_request"),
        case("authorize huge body", post.clone(), "authorization_endpoint")
            .raw(huge.clone())
            .header("accept", "application/json")
            .expect(413, "invalid_request"),
        case("authorize duplicate client_id", post.clone(), "authorization_endpoint")
            .body("client_id=rp&client_id=rp")
            .header("accept", "application/json"),
        case("authorize missing client_id", post.clone(), "authorization_endpoint")
            .body("response_type=code")
            .header("accept", "application/json"),
        case("authorize unknown client", post.clone(), "authorization_endpoint")
            .body("client_id=nobody&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb")
            .header("accept", "application/json")
            .expect(400, "invalid_client"),
        case("authorize bad request_uri", post.clone(), "authorization_endpoint")
            .body("client_id=rp&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Anope")
            .header("accept", "application/json")
            .expect(400, "invalid_request_uri"),
        case("authorize PUT", Method::PUT, "authorization_endpoint").expect(405, "invalid_request"),
        // Chooser form.
        case("login unknown txn", post.clone(), "/signaturgruppen/op/mock/login")
            .body("txn=nope&identity=anna")
            .header("accept", "application/json"),
        // End session.
        case("end session unregistered uri", get.clone(), "/signaturgruppen/op/connect/endsession?client_id=rp&post_logout_redirect_uri=http%3A%2F%2Fevil.example%2F")
            .ct(None)
            .header("accept", "application/json"),
        case("end session no client", get.clone(), "/signaturgruppen/op/connect/endsession?post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fbye&id_token_hint=garbage")
            .ct(None)
            .header("accept", "application/json"),
        // Discovery and JWKS.
        case("discovery POST", post.clone(), "/signaturgruppen/op/.well-known/openid-configuration")
            .expect(405, "invalid_request"),
        // Control API.
        case("arm not JSON", post.clone(), "/_mock/oidc/arm")
            .body("key=x")
            .expect(415, "invalid_request"),
        case("arm bad JSON", post.clone(), "/_mock/oidc/arm")
            .ct(Some("application/json"))
            .body("{\"key\":"),
        case("arm unknown fault", post.clone(), "/_mock/oidc/arm")
            .ct(Some("application/json"))
            .body("{\"key\":{\"state\":\"s\"},\"plan\":{\"faults\":[{\"fault\":\"explode\"}]}}"),
        case("arm empty key", post.clone(), "/_mock/oidc/arm")
            .ct(Some("application/json"))
            .body("{\"key\":{\"state\":\"\"},\"plan\":{\"faults\":[]}}"),
        case("preselect unknown identity", post.clone(), "/_mock/oidc/preselect")
            .ct(Some("application/json"))
            .body("{\"key\":{\"client_id\":\"rp\"},\"identity\":\"nobody\"}"),
        case("rotate unknown issuer", post.clone(), "/_mock/oidc/rotate")
            .ct(Some("application/json"))
            .body("{\"issuer\":\"nope\"}"),
        case("control huge body", post.clone(), "/_mock/oidc/arm")
            .ct(Some("application/json"))
            .raw(huge.clone())
            .expect(413, "invalid_request"),
    ];
    let idura_cases = vec![
        case("par no client auth", post.clone(), "pushed_authorization_request_endpoint")
            .body("response_type=code")
            .expect(401, "invalid_client"),
        case("par wrong content type", post.clone(), "pushed_authorization_request_endpoint")
            .ct(Some("text/plain"))
            .body("x")
            .expect(415, "invalid_request"),
        case("par pushes request_uri", post.clone(), "pushed_authorization_request_endpoint")
            .body("request_uri=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb")
            .basic("rp", SECRET),
        case("par bad redirect", post.clone(), "pushed_authorization_request_endpoint")
            .body("response_type=code&scope=openid&redirect_uri=http%3A%2F%2Fevil.example%2F")
            .basic("rp", SECRET),
        case("par nemid acr", post.clone(), "pushed_authorization_request_endpoint")
            .body("response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&acr_values=urn%3Agrn%3Aauthn%3Adk%3Anemid%3Apoces")
            .basic("rp", SECRET),
    ];
    let sg = mock.discovery("signaturgruppen").await;
    let idura = mock.discovery("idura").await;
    let mut failures = vec![];
    for (disc, cases) in [(&sg, cases), (&idura, idura_cases)] {
        for c in cases {
            let url = if c.endpoint.starts_with('/') {
                format!("{}{}", mock.base, c.endpoint)
            } else {
                disc[c.endpoint].as_str().unwrap().to_string()
            };
            let mut rb = mock.http.request(c.method.clone(), &url);
            if let Some(ct) = c.content_type {
                rb = rb.header("content-type", ct);
            }
            if let Some((id, s)) = c.basic {
                rb = rb.basic_auth(id, Some(s));
            }
            if let Some((k, v)) = c.header {
                rb = rb.header(k, v);
            }
            if !c.body.is_empty() {
                rb = rb.body(c.body.clone());
            }
            if c.endpoint.starts_with("/_mock/") {
                // The control calls need the provider's control token.
                rb = rb.bearer_auth(mock.provider.control_token().unwrap());
            }
            let resp = rb.send().await.unwrap();
            let status = resp.status().as_u16();
            let is_json = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            let text = resp.text().await.unwrap();
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if status != c.status || !is_json || body["error"] != c.error {
                failures.push(format!(
                    "{}: got {status} {text:?}, want {} {}",
                    c.name, c.status, c.error
                ));
            }
            if status != 405 && status != 415 && status != 413 && c.status < 500 {
                assert!(
                    body["error_description"].is_string(),
                    "{}: no description",
                    c.name
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The server is still healthy after all of that.
    let (_, tok, _) = mock.run("signaturgruppen", "anna", None).await;
    assert!(tok["id_token"].is_string());
}

#[tokio::test]
async fn browser_facing_errors_default_to_html() {
    let mock = start(config()).await;
    let ep = mock
        .endpoint("signaturgruppen", "authorization_endpoint")
        .await;
    let resp = mock
        .http
        .get(format!("{ep}?client_id=rp&client_id=rp"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("<code id=\"error\">invalid_request</code>"),
        "{body}"
    );
    assert!(body.contains("more than once"));
}

#[tokio::test]
async fn control_endpoints_refuse_without_peer_address() {
    // Served without connect info, the control calls fail closed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let keys =
        mitid_mock_broker::oidc::OidcKeys::from_pki(mitid_mock_broker::pki::MockPki::builtin())
            .unwrap();
    let p = std::sync::Arc::new(
        mitid_mock_broker::oidc::OidcProvider::new(
            config(),
            &base,
            mitid_mock_broker::IdentityStore::builtin(),
            keys,
        )
        .unwrap(),
    );
    let app = p.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let resp = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{base}/_mock/oidc/rotate"))
        .json(&serde_json::json!({ "issuer": "idura" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "access_denied"
    );
}
