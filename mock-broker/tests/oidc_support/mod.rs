//! Shared helpers for the OIDC provider tests: start the provider on 127.0.0.1:0 and drive
//! flows over real HTTP with reqwest (no redirects followed).
#![allow(dead_code)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use mitid_mock_broker::IdentityStore;
use mitid_mock_broker::oidc::{
    ClientConfig, OidcConfig, OidcFaultPlan, OidcKeys, OidcProvider, SigningAlg, SigningKey,
};
use mitid_mock_broker::pki::MockPki;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) const REDIRECT: &str = "http://127.0.0.1:9/cb";
pub(crate) const SECRET: &str = "mock-rp-secret";

pub(crate) struct Mock {
    pub base: String,
    pub provider: Arc<OidcProvider>,
    pub http: reqwest::Client,
}

/// The built-in mock PKI.
pub(crate) fn pki() -> &'static MockPki {
    MockPki::builtin()
}

/// The PKCS#8 key of a mock PKI credential.
pub(crate) fn pkcs8(name: &str) -> Vec<u8> {
    let pki = pki();
    let (_, c) = pki
        .all()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no credential {name}"));
    c.key_pkcs8_der().unwrap().to_vec()
}

/// The public JWK of a mock credential, as the client's registered JWKS entry.
pub(crate) fn jwk_of(name: &str, kid: &str) -> Value {
    let k = SigningKey::from_pkcs8(name, &pkcs8(name), None).unwrap();
    let mut j = k.public_jwk_json();
    j["kid"] = json!(kid);
    j
}

pub(crate) fn client(id: &str) -> ClientConfig {
    let mut c = ClientConfig::with_secret(id, SECRET, REDIRECT);
    c.post_logout_redirect_uris = vec!["http://127.0.0.1:9/bye".into()];
    c
}

/// Clients: `rp` (secret, RS256), `rp-es256` (secret, ES256 ID tokens), `rp-jwt`
/// (private_key_jwt with the `sp` RSA key and the `tls_server` P-256 key), `rp-public`.
pub(crate) fn config() -> OidcConfig {
    let mut cfg = OidcConfig::default();
    cfg.clients.push(client("rp"));
    let mut es = client("rp-es256");
    es.id_token_signed_response_alg = Some(SigningAlg::ES256);
    cfg.clients.push(es);
    let mut jwt = client("rp-jwt");
    jwt.client_secret = None;
    jwt.jwks = Some(json!({ "keys": [jwk_of("sp", "rp-rsa"), jwk_of("tls_server", "rp-ec")] }));
    cfg.clients.push(jwt);
    let mut public = client("rp-public");
    public.client_secret = None;
    cfg.clients.push(public);
    cfg
}

pub(crate) async fn start(config: OidcConfig) -> Mock {
    start_with_clock(config, None).await
}

/// Start with an injected clock (e.g. a `ManualClock` the test moves).
pub(crate) async fn start_with_clock(
    config: OidcConfig,
    clock: Option<Arc<dyn mitid_mock_broker::oidc::Clock>>,
) -> Mock {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let keys = OidcKeys::from_pki(pki()).unwrap();
    let mut provider = OidcProvider::new(config, &base, IdentityStore::builtin(), keys).unwrap();
    if let Some(c) = clock {
        provider = provider.with_clock(c);
    }
    let provider = Arc::new(provider);
    let app = provider.clone().router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    Mock {
        base,
        provider,
        http,
    }
}

pub(crate) struct Flow {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub challenge: String,
}

impl Flow {
    pub(crate) fn new(tag: &str) -> Flow {
        let verifier = format!("{tag}-verifier-{}", uuid::Uuid::new_v4().simple());
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        Flow {
            state: format!("state-{tag}-{}", uuid::Uuid::new_v4().simple()),
            nonce: format!("nonce-{tag}-{}", uuid::Uuid::new_v4().simple()),
            verifier,
            challenge: B64.encode(digest.as_ref()),
        }
    }
}

impl Mock {
    pub(crate) async fn discovery(&self, issuer: &str) -> Value {
        let url = self.provider.discovery_url(issuer).unwrap();
        self.http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub(crate) async fn endpoint(&self, issuer: &str, name: &str) -> String {
        self.discovery(issuer).await[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name}"))
            .to_string()
    }

    /// Authorization URL with PKCE S256, state, nonce and the given extra parameters (which
    /// replace defaults of the same name).
    pub(crate) async fn authorize_url(
        &self,
        issuer: &str,
        client: &str,
        flow: &Flow,
        extra: &[(&str, &str)],
    ) -> String {
        let ep = self.endpoint(issuer, "authorization_endpoint").await;
        let mut pairs: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", REDIRECT),
            ("scope", "openid mitid ssn"),
            ("state", &flow.state),
            ("nonce", &flow.nonce),
            ("code_challenge", &flow.challenge),
            ("code_challenge_method", "S256"),
        ];
        // Extra parameters replace defaults of the same name.
        pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        pairs.extend_from_slice(extra);
        let mut u = url::Url::parse(&ep).unwrap();
        u.query_pairs_mut().extend_pairs(pairs);
        u.to_string()
    }

    /// GET the authorization URL and return the redirect's parameters (panics on no redirect).
    pub(crate) async fn authorize(&self, url: &str) -> HashMap<String, String> {
        let resp = self.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap());
        location_params(&resp)
    }

    /// Redeem a code with client_secret_basic.
    pub(crate) async fn token(
        &self,
        issuer: &str,
        client: &str,
        code: &str,
        flow: &Flow,
    ) -> reqwest::Response {
        let ep = self.endpoint(issuer, "token_endpoint").await;
        self.http
            .post(ep)
            .basic_auth(client, Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &flow.verifier),
            ])
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn userinfo(&self, issuer: &str, access_token: &str) -> reqwest::Response {
        let ep = self.endpoint(issuer, "userinfo_endpoint").await;
        self.http
            .get(ep)
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap()
    }

    /// A whole flow for client `rp` as `identity` with `plan` armed by state; returns the
    /// authorization response parameters, the token response and (if tokens came) userinfo.
    pub(crate) async fn run(
        &self,
        issuer: &str,
        identity: &str,
        plan: Option<OidcFaultPlan>,
    ) -> (HashMap<String, String>, Value, Option<Value>) {
        let flow = Flow::new("run");
        if let Some(plan) = plan {
            self.provider
                .arm(
                    mitid_mock_broker::oidc::FlowKey::State(flow.state.clone()),
                    plan,
                )
                .unwrap();
        }
        let url = self
            .authorize_url(issuer, "rp", &flow, &[("mock_identity", identity)])
            .await;
        let params = self.authorize(&url).await;
        let Some(code) = params.get("code") else {
            return (params, Value::Null, None);
        };
        let tok: Value = self
            .token(issuer, "rp", code, &flow)
            .await
            .json()
            .await
            .unwrap();
        let ui = match tok["access_token"].as_str() {
            Some(at) => Some(self.userinfo(issuer, at).await.json().await.unwrap()),
            None => None,
        };
        (params, tok, ui)
    }
}

pub(crate) fn location_params(resp: &reqwest::Response) -> HashMap<String, String> {
    let loc = resp.headers()["location"].to_str().unwrap();
    let u = url::Url::parse(loc).unwrap();
    assert!(loc.starts_with(REDIRECT), "redirect went to {loc}");
    u.query_pairs().into_owned().collect()
}

/// Decode a compact JWS into (header, payload, signature bytes, signing input).
pub(crate) fn decode_jws(jwt: &str) -> (Value, Value, Vec<u8>, String) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let h = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
    let p = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    let s = B64.decode(parts[2]).unwrap();
    (h, p, s, format!("{}.{}", parts[0], parts[1]))
}

/// A client assertion for `rp-jwt`, signed with the `sp` RSA key (or the `tls_server` P-256
/// key when `ec`), with claims overridden by `edit`.
pub(crate) fn client_assertion(
    aud: &str,
    ec: bool,
    edit: impl FnOnce(&mut Value, &mut Value),
) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut header = json!({ "alg": if ec { "ES256" } else { "RS256" }, "kid": if ec { "rp-ec" } else { "rp-rsa" } });
    let mut claims = json!({
        "iss": "rp-jwt", "sub": "rp-jwt", "aud": aud, "exp": now + 60, "iat": now,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    edit(&mut header, &mut claims);
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let rng = SystemRandom::new();
    let sig = if ec {
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8("tls_server"))
            .unwrap();
        kp.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec()
    } else {
        let kp = RsaKeyPair::from_pkcs8(&pkcs8("sp")).unwrap();
        let mut sig = vec![0; kp.public_modulus_len()];
        kp.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
            .unwrap();
        sig
    };
    format!("{input}.{}", B64.encode(sig))
}
