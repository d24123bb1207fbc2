//! An OIDC relying party whose ID-token check is the `jsonwebtoken` crate, for the mitid-harness
//! interop tier: one process per row, against the row's own mock broker (Signaturgruppen-style
//! issuer).
//!
//! jsonwebtoken is a JWT library, not an OIDC client, so the app does the authorization code
//! flow itself (state, nonce, client_secret_basic at the token endpoint, userinfo with its `sub`
//! compared) and checks the ID token the way the crate's documentation shows:
//!
//! ```text
//! let header = decode_header(id_token)?;
//! let key = DecodingKey::from_jwk(<the JWKS key with header.kid>)?;
//! let mut validation = Validation::new(header.alg);   // after checking alg is advertised
//! validation.validate_nbf = true;                     // off by default
//! validation.set_issuer(&[ISSUER]);
//! validation.set_audience(&[CLIENT_ID]);
//! let claims = decode::<serde_json::Value>(id_token, &key, &validation)?.claims;
//! ```
//!
//! Otherwise the defaults stay: `exp` required, `iss` and `aud` checked when present. The jsonwebtoken release comes
//! from the manifest that builds this file: `Cargo.toml` (current) or `10.2.0/Cargo.toml`, the
//! release before CVE-2026-25537's fix, where a time claim of the wrong JSON type (a string
//! `nbf` or `exp`) failed to parse and was then treated as absent, so a string `nbf` was not
//! checked even with `validate_nbf`.
//!
//! Environment: PORT, ISSUER, CLIENT_ID, CLIENT_SECRET. Routes: /login (302 to the broker),
//! /callback (the redirect URI), /whoami (200 "user=<MitID UUID>" with a session, 401
//! without).

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use serde_json::Value;
use tiny_http::{Header, Request, Response, Server};

/// Sessions (cookie value -> state), bounded: the oldest half is dropped when it is full.
const MAX_SESSIONS: usize = 4096;

/// A counter for ages and the sessions by cookie value, each with the age of its last write.
type Sessions = (u64, HashMap<String, (u64, Session)>);

#[derive(Default, Clone)]
struct Session {
    state: Option<String>,
    nonce: Option<String>,
    user: Option<String>,
}

struct App {
    base: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    http: ureq::Agent,
    metadata: Mutex<Option<Value>>,
    sessions: Mutex<Sessions>,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set"))
}

fn random_token() -> String {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).expect("system RNG");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl App {
    fn discovery(&self) -> Result<Value, String> {
        let mut m = self.metadata.lock().unwrap();
        if m.is_none() {
            let url = format!("{}/.well-known/openid-configuration", self.issuer);
            let v: Value = self
                .http
                .get(&url)
                .call()
                .map_err(|e| format!("discovery: {e}"))?
                .into_json()
                .map_err(|e| format!("discovery: {e}"))?;
            *m = Some(v);
        }
        Ok(m.clone().expect("set above"))
    }

    fn session(&self, req: &Request) -> (String, Session) {
        let id = req
            .headers()
            .iter()
            .filter(|h| h.field.equiv("Cookie"))
            .flat_map(|h| h.value.as_str().split(';'))
            .filter_map(|c| c.trim().strip_prefix("rp_sid="))
            .next()
            .map(str::to_owned);
        let s = self.sessions.lock().unwrap();
        match id.and_then(|id| s.1.get(&id).map(|(_, v)| (id, v.clone()))) {
            Some(found) => found,
            None => (random_token(), Session::default()),
        }
    }

    fn store(&self, id: &str, session: Session) {
        let mut s = self.sessions.lock().unwrap();
        if s.1.len() >= MAX_SESSIONS && !s.1.contains_key(id) {
            let mut ages: Vec<u64> = s.1.values().map(|(t, _)| *t).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            s.1.retain(|_, (t, _)| *t > cut);
        }
        s.0 += 1;
        let t = s.0;
        s.1.insert(id.to_owned(), (t, session));
    }

    fn login(&self, req: &Request) -> Result<Response<std::io::Cursor<Vec<u8>>>, String> {
        let m = self.discovery()?;
        let (id, mut session) = self.session(req);
        let (state, nonce) = (random_token(), random_token());
        session.state = Some(state.clone());
        session.nonce = Some(nonce.clone());
        self.store(&id, session);
        let mut url = url::Url::parse(m["authorization_endpoint"].as_str().unwrap_or_default())
            .map_err(|e| format!("authorization_endpoint: {e}"))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", &format!("{}/callback", self.base))
            .append_pair("scope", "openid mitid")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce);
        Ok(redirect(url.as_str()).with_header(cookie(&id)))
    }

    fn callback(&self, req: &Request) -> Result<(String, Session), String> {
        let (id, mut session) = self.session(req);
        let (state, nonce) = (session.state.take(), session.nonce.take());
        self.store(&id, session.clone());
        let query: HashMap<String, String> = url::Url::parse(&format!("http://x{}", req.url()))
            .map_err(|e| e.to_string())?
            .query_pairs()
            .into_owned()
            .collect();
        if let Some(e) = query.get("error") {
            return Err(format!("authorization error {e}"));
        }
        if state.is_none() || query.get("state") != state.as_ref() {
            return Err("state mismatch".into());
        }
        let m = self.discovery()?;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            url::form_urlencoded::byte_serialize(self.client_id.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(self.client_secret.as_bytes()).collect::<String>()
        ));
        let token: Value = self
            .http
            .post(m["token_endpoint"].as_str().unwrap_or_default())
            .set("Authorization", &format!("Basic {basic}"))
            .send_form(&[
                ("grant_type", "authorization_code"),
                ("code", query.get("code").map(String::as_str).unwrap_or("")),
                ("redirect_uri", &format!("{}/callback", self.base)),
            ])
            .map_err(|e| format!("token endpoint: {e}"))?
            .into_json()
            .map_err(|e| format!("token response: {e}"))?;
        let id_token = token["id_token"].as_str().ok_or("no ID token")?;

        let header = decode_header(id_token).map_err(|e| format!("header: {e}"))?;
        let advertised = m["id_token_signing_alg_values_supported"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let alg_name = serde_json::to_value(header.alg).map_err(|e| e.to_string())?;
        if !advertised.contains(&alg_name) {
            return Err(format!("alg {alg_name} is not advertised"));
        }
        let jwks: JwkSet = self
            .http
            .get(m["jwks_uri"].as_str().unwrap_or_default())
            .call()
            .map_err(|e| format!("jwks_uri: {e}"))?
            .into_json()
            .map_err(|e| format!("jwks: {e}"))?;
        let kid = header.kid.as_deref().ok_or("no kid")?;
        let jwk = jwks
            .find(kid)
            .ok_or_else(|| format!("no JWKS key with kid {kid:?}"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key: {e}"))?;
        let mut validation = Validation::new(header.alg);
        // `nbf` is not validated by default; an RP that honours it (OIDC allows it in ID
        // tokens) turns it on, and that is the setting CVE-2026-25537 is about.
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.client_id]);
        let claims = decode::<Value>(id_token, &key, &validation)
            .map_err(|e| format!("ID token: {e}"))?
            .claims;
        if claims.get("nonce").and_then(Value::as_str) != nonce.as_deref() {
            return Err("nonce mismatch".into());
        }
        let at = token["access_token"].as_str().unwrap_or_default();
        let info: Value = self
            .http
            .get(m["userinfo_endpoint"].as_str().unwrap_or_default())
            .set("Authorization", &format!("Bearer {at}"))
            .call()
            .map_err(|e| format!("userinfo: {e}"))?
            .into_json()
            .map_err(|e| format!("userinfo: {e}"))?;
        // OIDC Core 5.3.2: userinfo's `sub` must equal the ID token's.
        if info.get("sub") != claims.get("sub") {
            return Err(format!(
                "userinfo sub {} is not the ID token's",
                info["sub"]
            ));
        }
        let uuid = claims
            .get("mitid.uuid")
            .or_else(|| info.get("mitid.uuid"))
            .and_then(Value::as_str)
            .unwrap_or("(session-without-mitid.uuid)");
        session.user = Some(format!(
            "user={uuid}\nsub={}\n",
            claims["sub"].as_str().unwrap_or("")
        ));
        Ok((id, session))
    }
}

fn text(status: u16, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(status)
        .with_header(Header::from_bytes("Content-Type", "text/plain").expect("static header"))
}

fn redirect(to: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    text(302, "").with_header(Header::from_bytes("Location", to).expect("URL is a header value"))
}

fn cookie(id: &str) -> Header {
    Header::from_bytes(
        "Set-Cookie",
        format!("rp_sid={id}; Path=/; HttpOnly; SameSite=Lax"),
    )
    .expect("token is a header value")
}

fn main() {
    let port: u16 = env("PORT").parse().expect("PORT is a port number");
    let app = App {
        base: format!("http://127.0.0.1:{port}"),
        issuer: env("ISSUER"),
        client_id: env("CLIENT_ID"),
        client_secret: env("CLIENT_SECRET"),
        http: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(20))
            .redirects(0)
            .build(),
        metadata: Mutex::new(None),
        sessions: Mutex::new((0, HashMap::new())),
    };
    let server = Server::http(("127.0.0.1", port)).expect("bind");
    eprintln!("jsonwebtoken RP on {}, issuer {}", app.base, app.issuer);
    let app = std::sync::Arc::new(app);
    let mut workers = Vec::new();
    let server = std::sync::Arc::new(server);
    for _ in 0..4 {
        let (app, server) = (app.clone(), server.clone());
        workers.push(std::thread::spawn(move || {
            for mut req in server.incoming_requests() {
                let mut sink = Vec::new();
                let _ = req.as_reader().take(1 << 20).read_to_end(&mut sink);
                let path = req.url().split('?').next().unwrap_or("").to_owned();
                let resp = match path.as_str() {
                    "/login" => app
                        .login(&req)
                        .unwrap_or_else(|e| text(502, &format!("broker unavailable: {e}\n"))),
                    "/callback" => match app.callback(&req) {
                        Ok((id, session)) => {
                            app.store(&id, session);
                            redirect("/whoami").with_header(cookie(&id))
                        }
                        Err(why) => {
                            eprintln!("login refused: {why}");
                            text(401, &format!("login refused: {why}\n"))
                        }
                    },
                    "/whoami" => match app.session(&req).1.user {
                        Some(u) => text(200, &u),
                        None => text(401, "not logged in\n"),
                    },
                    _ => text(404, "not found\n"),
                };
                let _ = req.respond(resp);
            }
        }));
    }
    for w in workers {
        let _ = w.join();
    }
}
