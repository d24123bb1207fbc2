//! Benchmark: complete OIDC authorization-code flows per second (authorize + token + userinfo)
//! against the mock OIDC provider over loopback, for RS256 and ES256 ID tokens.
//!
//! ```text
//! cargo run --release -p mitid-mock-broker --example bench_oidc -- [--seconds 5] [--concurrency 2] [--max-flows 200000]
//! cargo run --release -p mitid-mock-broker --example bench_oidc -- --panva http://127.0.0.1:18091
//! ```
//!
//! Modes for the mock: `preselect` (the authorization request names the identity, one
//! front-channel request) and `chooser` (the HTML identity chooser is fetched and its form
//! posted, as a browser would). With `--panva URL` the same driver measures panva's
//! `oidc-provider` with its development login form (see `bench_oidc_peer.sh`), which takes
//! three front-channel requests plus the form render.
//!
//! Every run is bounded by both `--seconds` and `--max-flows`; each flow uses fresh state,
//! nonce and PKCE verifier, and every response is checked (a failed check counts as an error).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use mitid_mock_broker::IdentityStore;
use mitid_mock_broker::oidc::{ClientConfig, OidcConfig, OidcKeys, OidcProvider, SigningAlg};
use mitid_mock_broker::pki::MockPki;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const REDIRECT: &str = "http://127.0.0.1:9/cb";
const SECRET: &str = "mock-rp-secret";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Preselect,
    Chooser,
    Panva,
}

#[derive(Clone)]
struct Target {
    authorize: String,
    token: String,
    userinfo: String,
    client: &'static str,
    mode: Mode,
    base: String,
}

struct Args {
    seconds: u64,
    concurrency: usize,
    max_flows: u64,
    panva: Option<String>,
    sign_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        seconds: 5,
        concurrency: 2,
        max_flows: 200_000,
        panva: None,
        sign_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut val = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--seconds" => a.seconds = val()?.parse().map_err(|e| format!("{e}"))?,
            "--concurrency" => a.concurrency = val()?.parse().map_err(|e| format!("{e}"))?,
            "--max-flows" => a.max_flows = val()?.parse().map_err(|e| format!("{e}"))?,
            "--panva" => a.panva = Some(val()?),
            "--sign-only" => a.sign_only = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.seconds == 0 || a.seconds > 600 || a.concurrency == 0 || a.concurrency > 256 {
        return Err("--seconds must be 1..=600 and --concurrency 1..=256".into());
    }
    Ok(a)
}

fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    (verifier, B64.encode(d.as_ref()))
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let q = location.split_once('?')?.1;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// Cookies by name, from Set-Cookie headers (panva's interaction cookies).
fn take_cookies(jar: &mut HashMap<String, String>, resp: &reqwest::Response) {
    for v in resp.headers().get_all("set-cookie") {
        if let Some((nv, _)) = v.to_str().unwrap_or("").split_once(';')
            && let Some((n, v)) = nv.split_once('=')
        {
            jar.insert(n.trim().to_string(), v.to_string());
        }
    }
}

fn cookie_header(jar: &HashMap<String, String>) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn absolute(base: &str, loc: &str) -> String {
    if loc.starts_with("http") {
        loc.to_string()
    } else {
        format!("{base}{loc}")
    }
}

async fn one_flow(http: &reqwest::Client, t: &Target) -> Result<(), String> {
    let (verifier, challenge) = pkce();
    let state = uuid::Uuid::new_v4().simple().to_string();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let mut u = url::Url::parse(&t.authorize).map_err(|e| e.to_string())?;
    {
        let mut q = u.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", t.client)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("scope", "openid mitid")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if t.mode == Mode::Preselect {
            q.append_pair("mock_identity", "anna");
        }
    }
    let err = |what: &str, r: &reqwest::Response| format!("{what}: HTTP {}", r.status());
    let location = match t.mode {
        Mode::Preselect => {
            let r = http.get(u).send().await.map_err(|e| e.to_string())?;
            if r.status() != 302 {
                return Err(err("authorize", &r));
            }
            r.headers()["location"].to_str().unwrap_or("").to_string()
        }
        Mode::Chooser => {
            let r = http.get(u).send().await.map_err(|e| e.to_string())?;
            if r.status() != 200 {
                return Err(err("authorize", &r));
            }
            let html = r.text().await.map_err(|e| e.to_string())?;
            let txn = between(&html, "name=\"txn\" value=\"", "\"").ok_or("no txn")?;
            let action =
                between(&html, "<form method=\"post\" action=\"", "\"").ok_or("no form")?;
            let r = http
                .post(absolute(&t.base, action))
                .form(&[("txn", txn), ("identity", "anna"), ("loa", "Substantial")])
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if r.status() != 302 {
                return Err(err("login", &r));
            }
            r.headers()["location"].to_str().unwrap_or("").to_string()
        }
        Mode::Panva => {
            let mut jar = HashMap::new();
            let r = http.get(u).send().await.map_err(|e| e.to_string())?;
            if !r.status().is_redirection() {
                return Err(err("auth", &r));
            }
            take_cookies(&mut jar, &r);
            let interaction = absolute(&t.base, r.headers()["location"].to_str().unwrap_or(""));
            // Render the login form, as a browser would.
            let r = http
                .get(&interaction)
                .header("cookie", cookie_header(&jar))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if r.status() != 200 {
                return Err(err("interaction", &r));
            }
            let _ = r.bytes().await;
            let r = http
                .post(&interaction)
                .header("cookie", cookie_header(&jar))
                .form(&[("prompt", "login"), ("login", "anna"), ("password", "x")])
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_redirection() {
                return Err(err("login", &r));
            }
            take_cookies(&mut jar, &r);
            let resume = absolute(&t.base, r.headers()["location"].to_str().unwrap_or(""));
            let r = http
                .get(&resume)
                .header("cookie", cookie_header(&jar))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_redirection() {
                return Err(err("resume", &r));
            }
            r.headers()["location"].to_str().unwrap_or("").to_string()
        }
    };
    if query_param(&location, "state").as_deref() != Some(state.as_str()) {
        return Err(format!("state mismatch in {location}"));
    }
    let code = query_param(&location, "code").ok_or_else(|| format!("no code in {location}"))?;
    let r = http
        .post(&t.token)
        .basic_auth(t.client, Some(SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != 200 {
        return Err(err("token", &r));
    }
    let tok: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    let at = tok["access_token"].as_str().ok_or("no access_token")?;
    if !tok["id_token"].is_string() {
        return Err("no id_token".into());
    }
    let r = http
        .get(&t.userinfo)
        .bearer_auth(at)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if r.status() != 200 {
        return Err(err("userinfo", &r));
    }
    let ui: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    if !ui["sub"].is_string() {
        return Err("userinfo without sub".into());
    }
    Ok(())
}

struct Report {
    flows: u64,
    errors: u64,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    first_error: Option<String>,
}

async fn measure(http: &reqwest::Client, t: &Target, args: &Args) -> Report {
    // Warm-up: connection pool, lazy statics, one of each request.
    let _ = one_flow(http, t).await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (http, t, done, errors) = (http.clone(), t.clone(), done.clone(), errors.clone());
        let max = args.max_flows;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut first_error = None;
            while Instant::now() < deadline && done.fetch_add(1, Ordering::Relaxed) < max {
                let t0 = Instant::now();
                match one_flow(&http, &t).await {
                    Ok(()) => lat.push(t0.elapsed().as_secs_f64() * 1000.0),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.get_or_insert(e);
                    }
                }
            }
            (lat, first_error)
        }));
    }
    let mut lat = Vec::new();
    let mut first_error = None;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat.extend(l);
            if first_error.is_none() {
                first_error = e;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() - 1) as f64 * p) as usize]
        }
    };
    Report {
        flows: lat.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        secs,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        first_error,
    }
}

fn print(label: &str, r: &Report) {
    println!(
        "| {label} | {} | {:.1} | {:.0} | {:.1} | {:.1} | {} |",
        r.flows,
        r.secs,
        r.flows as f64 / r.secs,
        r.p50_ms,
        r.p99_ms,
        r.errors
    );
    if let Some(e) = &r.first_error {
        eprintln!("  first error in {label}: {e}");
    }
}

async fn discover(http: &reqwest::Client, issuer: &str) -> Result<serde_json::Value, String> {
    let d = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .map_err(|e| format!("discovery at {issuer}: {e}"))?;
    d.json().await.map_err(|e| e.to_string())
}

/// Raw signing cost of the mock keys on one core, to read the flow numbers against.
fn sign_only() -> Result<(), Box<dyn std::error::Error>> {
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    };
    let pki = MockPki::builtin();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let msg = [7u8; 600];
    let n = 2000;
    let rsa = RsaKeyPair::from_pkcs8(pki.oidc_rs256_a.key_pkcs8_der().ok_or("no key")?)?;
    let mut sig = vec![0; rsa.public_modulus_len()];
    let t = Instant::now();
    for _ in 0..n {
        rsa.sign(&RSA_PKCS1_SHA256, &rng, &msg, &mut sig)?;
    }
    println!(
        "RS256 sign (RSA 2048): {:.3} ms",
        t.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
    let ec = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pki.oidc_es256.key_pkcs8_der().ok_or("no key")?,
    )?;
    let t = Instant::now();
    for _ in 0..n {
        ec.sign(&rng, &msg)?;
    }
    println!(
        "ES256 sign (P-256): {:.3} ms",
        t.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    if args.sign_only {
        return sign_only();
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;
    println!(
        "concurrency {}, {} s or {} flows per row, {} CPU(s)",
        args.concurrency,
        args.seconds,
        args.max_flows,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| target | flows | seconds | flows/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|---|");

    if let Some(issuer) = &args.panva {
        let d = discover(&http, issuer).await?;
        let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
        for (label, client) in [
            ("panva oidc-provider RS256", "rp"),
            ("panva oidc-provider ES256", "rp-es256"),
        ] {
            let t = Target {
                authorize: s("authorization_endpoint"),
                token: s("token_endpoint"),
                userinfo: s("userinfo_endpoint"),
                client,
                mode: Mode::Panva,
                base: issuer.trim_end_matches('/').to_string(),
            };
            print(label, &measure(&http, &t, &args).await);
        }
        return Ok(());
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut config = OidcConfig::default();
    config
        .clients
        .push(ClientConfig::with_secret("rp", SECRET, REDIRECT));
    let mut es = ClientConfig::with_secret("rp-es256", SECRET, REDIRECT);
    es.id_token_signed_response_alg = Some(SigningAlg::ES256);
    config.clients.push(es);
    let keys = OidcKeys::from_pki(MockPki::builtin())?;
    let provider = Arc::new(OidcProvider::new(
        config,
        &base,
        IdentityStore::builtin(),
        keys,
    )?);
    let app = provider.clone().router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let issuer = provider.issuer_url("signaturgruppen").ok_or("no issuer")?;
    let d = discover(&http, &issuer).await?;
    let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
    for (label, client, mode) in [
        ("mock RS256, preselected", "rp", Mode::Preselect),
        ("mock ES256, preselected", "rp-es256", Mode::Preselect),
        ("mock RS256, chooser form", "rp", Mode::Chooser),
        ("mock ES256, chooser form", "rp-es256", Mode::Chooser),
    ] {
        let t = Target {
            authorize: s("authorization_endpoint"),
            token: s("token_endpoint"),
            userinfo: s("userinfo_endpoint"),
            client,
            mode,
            base: base.clone(),
        };
        print(label, &measure(&http, &t, &args).await);
    }
    Ok(())
}
