//! Soak benchmark (not a test): the broker as a developer leaves it running — for minutes, under
//! steady SAML and OIDC logins with hostile traffic mixed in — sampled every 10 s for errors,
//! latency and the broker process's resident memory, which must stay flat after warm-up.
//!
//! ```text
//! cargo run --release -p mitid-mock-broker --example soak -- [--seconds 600] [--rate N] [--hostile 20]
//! ```
//!
//! The broker runs in its own process (this binary started again with `--serve`), so its RSS is
//! read from `/proc/<pid>/status` without the driver's memory in it. The login rate defaults to
//! half the signing bound measured at start (RSA-3072 PKCS#1 signatures per second on all cores
//! with aws-lc-rs: each login costs the broker one such signature, the SAML assertion's or the
//! ID token's), split evenly between SAML and OIDC; the rate is open-loop (a ticker starts a
//! login whether or not the previous one finished, at most 64 in flight, excess ticks counted as
//! shed) so slow answers show in the latency rather than lowering the load.
//!
//! A SAML login: a signed Redirect-binding AuthnRequest with a fresh ID (signed by the driver,
//! outside the timed part) answered with the auto-post form carrying a signed, encrypted
//! Response. An OIDC login: authorize (identity preselected) -> code -> token (client secret,
//! PKCE) -> userinfo. Hostile traffic, round robin at `--hostile` requests per second: control
//! calls without the token, cross-site or through a foreign Host; oversized and flooding arms;
//! fetch-trap hits with large tokens and User-Agents; garbage, unsigned and replayed
//! AuthnRequests; over-long URIs; wrong methods; unknown OIDC clients, invented codes, huge
//! `state`s; raw non-HTTP bytes; and a pool of connections that send half a request head and
//! stall (the header-read timeout must close them). Every hostile answer is checked against what
//! the broker must say; anything else (a 5xx, a replay accepted, a stalled connection left open,
//! a transport error) is an error, counted by kind.

mod common;

use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64STD, URL_SAFE_NO_PAD as B64};
use mitid_mock_broker::oidc::ClientConfig;
use mitid_mock_broker::pki::MockPki;
use mitid_mock_broker::saml::authn_request::AuthnRequestBuilder;
use mitid_mock_broker::saml::redirect::{self, SigAlg};
use mitid_mock_broker::saml::sp_metadata::SpMetadata;
use mitid_mock_broker::{Broker, Loa};
use std::collections::{BTreeMap, VecDeque};
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SP_ENTITY_ID: &str = "https://sp.soak.mock-harness.invalid/saml";
const ACS_URL: &str = "http://127.0.0.1:9/saml/acs";
const REDIRECT: &str = "http://127.0.0.1:9/cb";
const CLIENT: &str = "soak-rp";
const SECRET: &str = "mock-soak-secret";
const MAX_IN_FLIGHT: usize = 64;
/// Half-sent request heads kept open at any time.
const STALLED_CONNECTIONS: usize = 16;
/// The broker's default header-read timeout, plus slack.
const STALL_LIMIT: Duration = Duration::from_secs(10 + 5);

struct Args {
    seconds: u64,
    warmup: u64,
    sample: u64,
    rate: Option<f64>,
    hostile: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seconds: 600,
        warmup: 60,
        sample: 10,
        rate: None,
        hostile: 20.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut num = || -> Result<f64, String> {
            it.next()
                .ok_or_else(|| format!("{k} needs a value"))?
                .parse::<f64>()
                .map_err(|_| format!("{k}: a number"))
        };
        match k.as_str() {
            "--seconds" => a.seconds = num()? as u64,
            "--warmup" => a.warmup = num()? as u64,
            "--sample" => a.sample = num()? as u64,
            "--rate" => a.rate = Some(num()?),
            "--hostile" => a.hostile = num()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.seconds == 0 || a.sample == 0 || a.warmup >= a.seconds {
        return Err("--seconds and --sample must be positive, --warmup below --seconds".into());
    }
    if a.rate.is_some_and(|r| r <= 0.0) || a.hostile < 0.0 {
        return Err("--rate must be positive, --hostile not negative".into());
    }
    Ok(a)
}

/// `--serve`: the broker process. Prints its base URL and control token, serves until stdin
/// closes (the driver exits or drops it).
async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let broker = Broker::builder()
        .register_sp(SpMetadata::parse(&common::sp_metadata_xml(
            SP_ENTITY_ID,
            ACS_URL,
        ))?)
        .oidc_client(ClientConfig::with_secret(CLIENT, SECRET, REDIRECT))
        .start()
        .await?;
    println!("BASE {}", broker.base_url());
    println!("SSO {}", broker.sso_url());
    println!("TOKEN {}", broker.control_token().unwrap_or("-"));
    std::io::stdout().flush()?;
    let _ = tokio::task::spawn_blocking(|| {
        use std::io::Read as _;
        let mut sink = Vec::new();
        std::io::stdin().read_to_end(&mut sink)
    })
    .await;
    broker.shutdown().await;
    Ok(())
}

/// RSA-3072 PKCS#1 SHA-256 signatures per second on all cores (the IdP key's size).
fn signing_bound(dur: Duration) -> f64 {
    let pki = MockPki::builtin();
    let der = pki.idp_oces3.key_pkcs8_der().expect("IdP key").to_vec();
    let key = RsaKeyPair::from_pkcs8(&der).expect("RSA key");
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut sig = vec![0u8; key.public_modulus_len()];
                    let mut n = 0u64;
                    while start.elapsed() < dur {
                        key.sign(&RSA_PKCS1_SHA256, &rng, &[0x5a; 700], &mut sig)
                            .expect("sign");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// What happened in one sampling window (and, merged, in the whole run).
#[derive(Default, Clone)]
struct Window {
    saml_ms: Vec<f64>,
    oidc_ms: Vec<f64>,
    login_errors: BTreeMap<String, u64>,
    hostile_ok: u64,
    hostile_errors: BTreeMap<String, u64>,
    shed: u64,
    stalled_closed: u64,
}

impl Window {
    fn merge(&mut self, o: &Window) {
        self.saml_ms.extend_from_slice(&o.saml_ms);
        self.oidc_ms.extend_from_slice(&o.oidc_ms);
        for (k, v) in &o.login_errors {
            *self.login_errors.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.hostile_errors {
            *self.hostile_errors.entry(k.clone()).or_default() += v;
        }
        self.hostile_ok += o.hostile_ok;
        self.shed += o.shed;
        self.stalled_closed += o.stalled_closed;
    }

    fn errors(&self) -> u64 {
        self.login_errors.values().sum::<u64>() + self.hostile_errors.values().sum::<u64>()
    }
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

struct Shared {
    base: String,
    port: u16,
    token: String,
    sso: String,
    authorize: String,
    token_endpoint: String,
    userinfo: String,
    http: reqwest::Client,
    window: Mutex<Window>,
    in_flight: AtomicUsize,
    seq: AtomicU64,
    /// Recently used signed AuthnRequest URLs, to replay (bounded).
    used: Mutex<VecDeque<String>>,
    stop: AtomicBool,
}

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut Window) -> R) -> R {
        f(&mut self.window.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn login_error(&self, what: String) {
        self.with(|w| *w.login_errors.entry(what).or_default() += 1);
    }

    fn hostile(&self, kind: &str, ok: bool, got: &str) {
        self.with(|w| {
            if ok {
                w.hostile_ok += 1;
            } else {
                *w.hostile_errors
                    .entry(format!("{kind}: {got}"))
                    .or_default() += 1;
            }
        });
    }
}

fn signed_sso_url(sso: &str, id: &str) -> String {
    let xml = AuthnRequestBuilder {
        id: id.to_string(),
        issue_instant: time::OffsetDateTime::now_utc(),
        destination: sso.to_string(),
        issuer: SP_ENTITY_ID.to_string(),
        acs_url: Some(ACS_URL.to_string()),
        loa: Some(Loa::Substantial),
        profile: None,
        extra_class_refs: Vec::new(),
        requested_profiles: Vec::new(),
        force_authn: false,
        is_passive: false,
    }
    .to_xml();
    thread_local! {
        static SIGNER: mitid_mock_broker::pki::RsaSigner =
            MockPki::builtin().sp.rsa_signer().expect("mock SP key");
    }
    let q = SIGNER.with(|s| {
        redirect::encode_query(
            "SAMLRequest",
            &xml,
            Some("soak"),
            Some((s, SigAlg::RsaSha256)),
        )
        .expect("sign")
    });
    format!("{sso}?{q}&mock_identity=anna")
}

async fn saml_login(s: Arc<Shared>) {
    let n = s.seq.fetch_add(1, Ordering::Relaxed);
    let sso = s.sso.clone();
    let url = match tokio::task::spawn_blocking(move || {
        signed_sso_url(
            &sso,
            &format!("_soak-{n}-{}", uuid::Uuid::new_v4().simple()),
        )
    })
    .await
    {
        Ok(u) => u,
        Err(e) => return s.login_error(format!("saml: signing task: {e}")),
    };
    let t = Instant::now();
    match s.http.get(&url).send().await {
        Ok(r) if r.status() == 200 => match r.text().await {
            Ok(b) if b.contains("name=\"SAMLResponse\" value=\"") => {
                let ms = t.elapsed().as_secs_f64() * 1e3;
                s.with(|w| w.saml_ms.push(ms));
                let mut used = s.used.lock().unwrap_or_else(|e| e.into_inner());
                if used.len() >= 256 {
                    used.pop_front();
                }
                used.push_back(url);
            }
            Ok(_) => s.login_error("saml: 200 without a SAMLResponse".into()),
            Err(e) => s.login_error(format!("saml: body: {e}")),
        },
        Ok(r) => s.login_error(format!("saml: HTTP {}", r.status().as_u16())),
        Err(e) => s.login_error(format!("saml: {}", transport(&e))),
    }
}

fn transport(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect error"
    } else {
        "transport error"
    }
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let q = location.split_once('?')?.1;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn oidc_login(s: Arc<Shared>) {
    if let Err(e) = oidc_flow(&s).await {
        s.login_error(format!("oidc: {e}"));
    }
}

async fn oidc_flow(s: &Shared) -> Result<(), String> {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = B64.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    let state = uuid::Uuid::new_v4().simple().to_string();
    let mut u = url::Url::parse(&s.authorize).map_err(|e| e.to_string())?;
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid mitid")
        .append_pair("state", &state)
        .append_pair("nonce", &uuid::Uuid::new_v4().simple().to_string())
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("mock_identity", "anna");
    let t = Instant::now();
    let tr = |e: reqwest::Error| transport(&e).to_string();
    let r = s.http.get(u).send().await.map_err(tr)?;
    if r.status() != 302 {
        return Err(format!("authorize: HTTP {}", r.status().as_u16()));
    }
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if query_param(&loc, "state").as_deref() != Some(state.as_str()) {
        return Err("authorize: state not returned".into());
    }
    let code = query_param(&loc, "code").ok_or("authorize: no code")?;
    let r = s
        .http
        .post(&s.token_endpoint)
        .basic_auth(CLIENT, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .map_err(tr)?;
    if r.status() != 200 {
        return Err(format!("token: HTTP {}", r.status().as_u16()));
    }
    let tok: serde_json::Value = r.json().await.map_err(|_| "token: not JSON")?;
    let at = tok["access_token"]
        .as_str()
        .ok_or("token: no access_token")?;
    if !tok["id_token"].is_string() {
        return Err("token: no id_token".into());
    }
    let r = s
        .http
        .get(&s.userinfo)
        .bearer_auth(at)
        .send()
        .await
        .map_err(tr)?;
    if r.status() != 200 {
        return Err(format!("userinfo: HTTP {}", r.status().as_u16()));
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    s.with(|w| w.oidc_ms.push(ms));
    Ok(())
}

/// The hostile requests, in the order they are sent (round robin).
const HOSTILE: &[&str] = &[
    "control-without-token",
    "control-cross-site-text-plain",
    "control-foreign-host",
    "arm-oversized",
    "arm-flood",
    "fetch-trap-large",
    "fetch-trap",
    "saml-garbage",
    "saml-replay",
    "saml-unsigned",
    "uri-too-long",
    "wrong-method",
    "oidc-unknown-client",
    "oidc-invented-code",
    "oidc-huge-state",
    "raw-bytes",
];

fn random_string(n: usize) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    bytes
        .iter()
        .map(|b| ALNUM[usize::from(*b) % ALNUM.len()] as char)
        .collect()
}

/// Sends one hostile request of `kind`; returns whether the broker answered as it must, and
/// what it answered.
async fn hostile(s: &Shared, kind: &str) -> (bool, String) {
    let arm = |body: String| {
        s.http
            .post(format!("{}/_mock/arm", s.base))
            .header("content-type", "application/json")
            .body(body)
    };
    let small_arm = |id: &str| format!(r#"{{"request_id":"{id}","identity":"anna"}}"#);
    let req = match kind {
        "control-without-token" => arm(small_arm("_x")),
        "control-cross-site-text-plain" => s
            .http
            .post(format!("{}/_mock/arm", s.base))
            .header("content-type", "text/plain")
            .header("origin", "https://attacker.example")
            .body(small_arm("_x")),
        "control-foreign-host" => arm(small_arm("_x"))
            .bearer_auth(&s.token)
            .header("host", format!("attacker.example:{}", s.port)),
        "arm-oversized" => arm(small_arm(&random_string(200 * 1024))).bearer_auth(&s.token),
        "arm-flood" => arm(small_arm(&format!("_flood-{}", random_string(240)))).bearer_auth(&s.token),
        "fetch-trap-large" => s
            .http
            .get(format!("{}/_mock/fetch/{}", s.base, random_string(60 * 1024)))
            .header("user-agent", random_string(300 * 1024)),
        "fetch-trap" => s
            .http
            .get(format!("{}/_mock/fetch/{}", s.base, random_string(2000)))
            .header("user-agent", random_string(4000)),
        "saml-garbage" => s.http.get(format!(
            "{}?SAMLRequest={}",
            s.sso,
            B64STD.encode(random_string(3000))
        )),
        "saml-replay" => {
            let url = {
                let used = s.used.lock().unwrap_or_else(|e| e.into_inner());
                used.front().cloned()
            };
            match url {
                Some(u) => s.http.get(u),
                None => return (true, "nothing to replay yet".into()),
            }
        }
        "saml-unsigned" => {
            let id = format!("_unsigned-{}", uuid::Uuid::new_v4().simple());
            let signed = signed_sso_url(&s.sso, &id);
            // The same request without its signature parameters.
            let (base, q) = signed.split_once('?').unwrap_or((&signed, ""));
            let kept: Vec<&str> = q
                .split('&')
                .filter(|p| !p.starts_with("Signature=") && !p.starts_with("SigAlg="))
                .collect();
            s.http.get(format!("{base}?{}", kept.join("&")))
        }
        // Raw: an HTTP client may report the early answer to a head it is still writing as a
        // transport error; what matters is what the broker answers.
        "uri-too-long" => return uri_too_long(s).await,
        "wrong-method" => s.http.delete(&s.sso),
        "oidc-unknown-client" => s.http.get(format!(
            "{}?response_type=code&client_id=evil&redirect_uri=https%3A%2F%2Fattacker.example%2F&scope=openid",
            s.authorize
        )),
        "oidc-invented-code" => s
            .http
            .post(&s.token_endpoint)
            .basic_auth(CLIENT, Some(SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &random_string(43)),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &random_string(64)),
            ]),
        "oidc-huge-state" => {
            let mut u = match url::Url::parse(&s.authorize) {
                Ok(u) => u,
                Err(e) => return (false, e.to_string()),
            };
            u.query_pairs_mut()
                .append_pair("response_type", "code")
                .append_pair("client_id", CLIENT)
                .append_pair("redirect_uri", REDIRECT)
                .append_pair("scope", "openid")
                .append_pair("state", &random_string(8 * 1024))
                .append_pair("code_challenge", &B64.encode([7u8; 32]))
                .append_pair("code_challenge_method", "S256")
                .append_pair("mock_identity", "anna");
            s.http.get(u)
        }
        "raw-bytes" => return raw_bytes(s.port).await,
        other => return (false, format!("unknown kind {other}")),
    };
    let status = match req.send().await {
        Ok(r) => {
            let st = r.status().as_u16();
            let _ = r.bytes().await;
            st
        }
        Err(e) => return (false, transport(&e).into()),
    };
    let ok = match kind {
        "control-without-token" => status == 401,
        "control-cross-site-text-plain" | "control-foreign-host" => status == 403,
        "arm-oversized" => matches!(status, 400 | 413),
        // The armed table is bounded: a full table refuses new arms rather than growing.
        "arm-flood" => matches!(status, 200 | 429 | 503),
        "fetch-trap-large" => matches!(status, 200 | 414 | 431),
        "fetch-trap" => status == 200,
        "saml-garbage" | "saml-replay" | "saml-unsigned" => status == 400,
        "wrong-method" => status == 405,
        "oidc-unknown-client" | "oidc-invented-code" => status == 400,
        // A long state is the RP's business: a code (302) or a refusal, never a 5xx.
        "oidc-huge-state" => matches!(status, 302 | 400 | 414),
        _ => false,
    };
    (ok, format!("HTTP {status}"))
}

/// A 100 KiB request target: the broker answers 414 with its refusal page.
async fn uri_too_long(s: &Shared) -> (bool, String) {
    let Ok(mut c) = tokio::net::TcpStream::connect(("127.0.0.1", s.port)).await else {
        return (false, "connect error".into());
    };
    let path = url::Url::parse(&s.sso).map_or_else(|_| "/".to_string(), |u| u.path().to_string());
    let head = format!(
        "GET {path}?x={} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        random_string(100 * 1024),
        s.port
    );
    let _ = c.write_all(head.as_bytes()).await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), c.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    let status = text.get(..12).unwrap_or("(no answer)").to_string();
    (
        status == "HTTP/1.1 414" && text.contains("Request refused"),
        status,
    )
}

/// Bytes that are not HTTP on a fresh connection: the broker answers 400 or closes.
async fn raw_bytes(port: u16) -> (bool, String) {
    let Ok(mut c) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return (false, "connect error".into());
    };
    let mut junk = vec![0x16u8, 0x03, 0x01, 0x02, 0x00];
    junk.extend(random_string(512).bytes());
    junk.extend_from_slice(b"\r\n\r\n");
    if c.write_all(&junk).await.is_err() {
        return (true, "closed while writing".into());
    }
    let mut buf = vec![0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(15), c.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => (true, "closed".into()),
        Ok(Ok(n)) => {
            let head = String::from_utf8_lossy(&buf[..n.min(12)]).into_owned();
            (head.starts_with("HTTP/1.1 400"), head)
        }
        Err(_) => (false, "no answer in 15 s".into()),
    }
}

/// One connection that sends half a request head and stalls: the broker must close it within
/// its header-read timeout.
async fn stalled(s: Arc<Shared>) {
    let Ok(mut c) = tokio::net::TcpStream::connect(("127.0.0.1", s.port)).await else {
        return s.hostile("stalled-head", false, "connect error");
    };
    let head = format!(
        "GET /_mock/health HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-Slow: ",
        s.port
    );
    if c.write_all(head.as_bytes()).await.is_err() {
        return s.hostile("stalled-head", false, "write error");
    }
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(STALL_LIMIT, async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {} // a 408 page or similar before the close
            }
        }
    })
    .await;
    match closed {
        Ok(()) => {
            s.with(|w| w.stalled_closed += 1);
            s.hostile("stalled-head", true, "")
        }
        Err(_) => s.hostile("stalled-head", false, "still open after the timeout"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().nth(1).as_deref() == Some("--serve") {
        return serve().await;
    }
    let args = parse_args().map_err(|e| {
        eprintln!(
            "soak: {e}\nusage: soak [--seconds 600] [--warmup 60] [--sample 10] [--rate LOGINS_PER_S] [--hostile REQ_PER_S]"
        );
        e
    })?;

    let load_before = load_average();
    let bound = signing_bound(Duration::from_secs(2));
    let rate = args.rate.unwrap_or(bound / 2.0);

    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("--serve")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let pid = child.id();
    let (mut base, mut token, mut sso) = (String::new(), String::new(), String::new());
    {
        use std::io::BufRead as _;
        let out = child.stdout.take().ok_or("no stdout")?;
        for l in std::io::BufReader::new(out).lines() {
            let l = l?;
            if let Some(b) = l.strip_prefix("BASE ") {
                base = b.to_string();
            } else if let Some(b) = l.strip_prefix("SSO ") {
                sso = b.to_string();
            } else if let Some(t) = l.strip_prefix("TOKEN ") {
                token = t.to_string();
                break;
            }
        }
    }
    if base.is_empty() || token.is_empty() {
        let _ = child.kill();
        return Err("the broker process did not start".into());
    }
    let port = url::Url::parse(&base)?.port().ok_or("no port")?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(MAX_IN_FLIGHT)
        .timeout(Duration::from_secs(30))
        .build()?;
    let d: serde_json::Value = http
        .get(format!(
            "{base}/signaturgruppen/op/.well-known/openid-configuration"
        ))
        .send()
        .await?
        .json()
        .await?;
    let ep = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    let s = Arc::new(Shared {
        sso,
        authorize: ep("authorization_endpoint"),
        token_endpoint: ep("token_endpoint"),
        userinfo: ep("userinfo_endpoint"),
        base: base.clone(),
        port,
        token,
        http,
        window: Mutex::new(Window::default()),
        in_flight: AtomicUsize::new(0),
        seq: AtomicU64::new(0),
        used: Mutex::new(VecDeque::new()),
        stop: AtomicBool::new(false),
    });
    // The SSO URL as the broker's metadata names it (not guessed).
    let md = s
        .http
        .get(format!(
            "{base}{}",
            mitid_mock_broker::broker::METADATA_PATH
        ))
        .send()
        .await?
        .text()
        .await?;
    if !md.contains(&s.sso) {
        return Err(format!("the IdP metadata does not name {}", s.sso).into());
    }

    println!(
        "soak: {} s ({} s warm-up), {rate:.1} logins/s (half of {bound:.0} RSA-3072 signatures/s on {} cores), SAML and OIDC alternating, {} hostile requests/s, {STALLED_CONNECTIONS} stalled connections; load average before: {load_before}",
        args.seconds,
        args.warmup,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.hostile
    );
    println!(
        "| t s | SAML ok | OIDC ok | SAML p50/p99 ms | OIDC p50/p99 ms | hostile ok | errors | shed | broker RSS MiB | load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");

    // Logins, open loop.
    let logins = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut n = 0u64;
            while !s.stop.load(Ordering::Relaxed) {
                tick.tick().await;
                if s.in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
                    s.with(|w| w.shed += 1);
                    continue;
                }
                s.in_flight.fetch_add(1, Ordering::Relaxed);
                let s2 = s.clone();
                let saml = n.is_multiple_of(2);
                n += 1;
                tokio::spawn(async move {
                    if saml {
                        saml_login(s2.clone()).await
                    } else {
                        oidc_login(s2.clone()).await
                    }
                    s2.in_flight.fetch_sub(1, Ordering::Relaxed);
                });
            }
        })
    };
    // Hostile requests, round robin.
    let hostiles = {
        let s = s.clone();
        let per_s = args.hostile;
        tokio::spawn(async move {
            if per_s == 0.0 {
                return;
            }
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / per_s));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut i = 0usize;
            while !s.stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let kind = HOSTILE[i % HOSTILE.len()];
                i += 1;
                let s2 = s.clone();
                tokio::spawn(async move {
                    let (ok, got) = hostile(&s2, kind).await;
                    s2.hostile(kind, ok, &got);
                });
            }
        })
    };
    // Stalled connections, a fixed number open at any time.
    let stalls = {
        let s = s.clone();
        tokio::spawn(async move {
            let open = Arc::new(tokio::sync::Semaphore::new(STALLED_CONNECTIONS));
            while !s.stop.load(Ordering::Relaxed) {
                let Ok(permit) = open.clone().acquire_owned().await else {
                    return;
                };
                let s2 = s.clone();
                tokio::spawn(async move {
                    stalled(s2).await;
                    drop(permit);
                });
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    let start = Instant::now();
    let mut total = Window::default();
    let mut samples: Vec<(u64, u64)> = Vec::new(); // (t s, RSS KiB)
    let mut t = 0;
    while t < args.seconds {
        tokio::time::sleep_until((start + Duration::from_secs(t + args.sample)).into()).await;
        t += args.sample;
        let w = s.with(std::mem::take);
        let rss = rss_kib(pid).ok_or("the broker process is gone")?;
        samples.push((t, rss));
        println!(
            "| {t} | {} | {} | {:.1} / {:.1} | {:.1} / {:.1} | {} | {} | {} | {:.1} | {} |",
            w.saml_ms.len(),
            w.oidc_ms.len(),
            pct(&w.saml_ms, 0.5),
            pct(&w.saml_ms, 0.99),
            pct(&w.oidc_ms, 0.5),
            pct(&w.oidc_ms, 0.99),
            w.hostile_ok,
            w.errors(),
            w.shed,
            rss as f64 / 1024.0,
            load_average()
        );
        total.merge(&w);
    }
    s.stop.store(true, Ordering::Relaxed);
    logins.abort();
    hostiles.abort();
    stalls.abort();
    // Let in-flight logins finish (bounded), then count them too.
    let drain = Instant::now();
    while s.in_flight.load(Ordering::Relaxed) > 0 && drain.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    total.merge(&s.with(std::mem::take));
    drop(child.stdin.take());
    let _ = child.kill();
    let _ = child.wait();

    let secs = start.elapsed().as_secs_f64();
    let warm: Vec<(u64, u64)> = samples
        .iter()
        .copied()
        .filter(|(t, _)| *t >= args.warmup)
        .collect();
    let first = warm.first().map_or(0, |x| x.1);
    let max = warm.iter().map(|x| x.1).max().unwrap_or(0);
    let last = warm.last().map_or(0, |x| x.1);
    // Least-squares slope of RSS over time after warm-up, in MiB per minute.
    let slope = {
        let n = warm.len() as f64;
        let (mx, my) = (
            warm.iter().map(|x| x.0 as f64).sum::<f64>() / n,
            warm.iter().map(|x| x.1 as f64).sum::<f64>() / n,
        );
        let cov: f64 = warm
            .iter()
            .map(|x| (x.0 as f64 - mx) * (x.1 as f64 - my))
            .sum();
        let var: f64 = warm.iter().map(|x| (x.0 as f64 - mx).powi(2)).sum();
        if var > 0.0 {
            cov / var * 60.0 / 1024.0
        } else {
            0.0
        }
    };
    let growth = max.saturating_sub(first);
    // Flat: after warm-up, the RSS never rises more than 10% (or 8 MiB, whichever is larger)
    // above its value at the end of warm-up.
    let allowed = (first / 10).max(8 * 1024);
    let flat = growth <= allowed;
    println!();
    println!(
        "totals over {secs:.0} s: SAML {} logins (p50 {:.1} ms, p99 {:.1} ms), OIDC {} logins (p50 {:.1} ms, p99 {:.1} ms) = {:.1} logins/s; hostile answered as required: {}; stalled heads closed by the broker: {}; shed ticks: {}; errors: {}",
        total.saml_ms.len(),
        pct(&total.saml_ms, 0.5),
        pct(&total.saml_ms, 0.99),
        total.oidc_ms.len(),
        pct(&total.oidc_ms, 0.5),
        pct(&total.oidc_ms, 0.99),
        (total.saml_ms.len() + total.oidc_ms.len()) as f64 / secs,
        total.hostile_ok,
        total.stalled_closed,
        total.shed,
        total.errors()
    );
    for (k, v) in total.login_errors.iter().chain(total.hostile_errors.iter()) {
        println!("  error {v:>6} x {k}");
    }
    println!(
        "broker RSS after warm-up: {:.1} MiB at {} s, max {:.1} MiB, last {:.1} MiB, slope {slope:+.2} MiB/min -> {}",
        first as f64 / 1024.0,
        args.warmup.max(warm.first().map_or(0, |x| x.0)),
        max as f64 / 1024.0,
        last as f64 / 1024.0,
        if flat {
            "flat"
        } else {
            "GROWING (more than 10% / 8 MiB above the warm-up value)"
        }
    );
    println!(
        "RESULT soak seconds={secs:.0} rate={rate:.1} bound={bound:.0} saml_ok={} oidc_ok={} errors={} rss_warm_kib={first} rss_max_kib={max} rss_last_kib={last} flat={flat}",
        total.saml_ms.len(),
        total.oidc_ms.len(),
        total.errors()
    );
    if !flat || total.errors() > 0 {
        std::process::exit(1);
    }
    Ok(())
}
