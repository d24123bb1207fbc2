//! The standalone broker as `mitid-harness broker --config broker.toml` sets it up
//! ([`BrokerOptions::from_file`] then [`BrokerOptions::apply`], the code path of the CLI):
//! an OIDC client registered in the file logs in with the authorization-code flow over HTTP
//! (the reference RP, a browser-like agent and the identity chooser, as a developer would), the
//! harness drives the same broker as an *external* one through its control API, a broker
//! refusal reaches the verdict as the broker stated it, and the development switch accepts an
//! unregistered loopback client only when it is on.

use mitid_harness::scenario::Protocol;
use mitid_harness::sp::BrokerConfig;
use mitid_harness::{Catalogue, Harness, OracleConfig, SpConfig, Verdict};
use mitid_mock_broker::{Broker, BrokerOptions, IdentityKind, RunningBroker};
use mitid_reference::reference_rp::{BrokerProfile, ReferenceRp, RpConfig, RunningRp};
use mitid_reference::reference_sp::{ReferenceSp, SpConfig as RefSpConfig};
use std::path::PathBuf;
use std::time::Duration;

/// A fresh directory for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mitid-broker-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Write `broker.toml` and start the broker from it, as the CLI does.
async fn broker_from_file(dir: &std::path::Path, toml: &str) -> RunningBroker {
    let path = dir.join("broker.toml");
    std::fs::write(&path, toml).unwrap();
    let options = BrokerOptions::from_file(&path).unwrap();
    options
        .apply(Broker::builder())
        .unwrap()
        .start()
        .await
        .unwrap()
}

fn issuer(broker: &RunningBroker) -> String {
    broker
        .oidc()
        .expect("OIDC is on")
        .issuer_url("signaturgruppen")
        .unwrap()
}

/// A cookie-keeping client that does not follow redirects, so each hop is visible.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Follow redirects from `resp` by hand (relative `Location`s resolved against the URL).
async fn follow(client: &reqwest::Client, mut resp: reqwest::Response) -> reqwest::Response {
    for _ in 0..10 {
        if !resp.status().is_redirection() {
            return resp;
        }
        let loc = resp.headers()[reqwest::header::LOCATION]
            .to_str()
            .unwrap()
            .to_string();
        let next = resp.url().join(&loc).unwrap();
        resp = client.get(next).send().await.unwrap();
    }
    panic!("too many redirects");
}

/// The value of the first `attr="…"` after `marker` in the chooser page (the broker writes
/// its own HTML with double-quoted attributes and no entities in these values).
fn attr_after<'a>(html: &'a str, marker: &str, attr: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let rest = &html[at..];
    let key = format!("{attr}=\"");
    let v = &rest[rest.find(&key).unwrap() + key.len()..];
    &v[..v.find('"').unwrap()]
}

/// A person's login through the RP, choosing `identity` on the broker's chooser page; the
/// RP's whoami answer afterwards.
async fn browser_login(rp: &RunningRp, identity: &str) -> serde_json::Value {
    let client = browser();
    // RP -> broker's authorization endpoint -> the chooser page.
    let page = follow(&client, client.get(rp.login_url()).send().await.unwrap()).await;
    let page_url = page.url().clone();
    let status = page.status().as_u16();
    let body = page.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Mock MitID login"), "{body}");
    let action = page_url
        .join(attr_after(&body, "<li><form", "action"))
        .unwrap();
    let txn = attr_after(&body, "<li><form", "value").to_string();
    let loa = attr_after(&body, "<option", "value").to_string();
    let fields = [
        ("txn", txn.as_str()),
        ("identity", identity),
        ("loa", loa.as_str()),
    ];
    // broker -> RP callback (code) -> RP's landing page.
    let landed = client.post(action).form(&fields).send().await.unwrap();
    let _ = follow(&client, landed).await;
    let who = client.get(rp.whoami_url()).send().await.unwrap();
    let status = who.status().as_u16();
    let body = who.text().await.unwrap();
    assert_eq!(
        status,
        200,
        "no session after the login: {body} / RP refused: {:?}",
        rp.rejections()
    );
    serde_json::from_str(&body).unwrap()
}

fn harness_config(rp: &RunningRp, broker: &RunningBroker) -> SpConfig {
    SpConfig::builder(rp.login_url())
        .name("reference-rp via broker.toml")
        .protocol(Protocol::Oidc)
        .profiles([IdentityKind::Person, IdentityKind::Professional])
        .private_sp(true)
        .oidc_profile(mitid_mock_broker::oidc::Profile::Signaturgruppen)
        .oracle(OracleConfig::whoami_json(rp.whoami_url(), "uuid"))
        .broker(
            BrokerConfig::external(broker.base_url())
                .with_control_token(broker.control_token().expect("a control token")),
        )
        .build()
        .unwrap()
}

/// sp.toml for the reference RP behind an external broker, as a user writes it.
fn external_sp_toml(rp: &RunningRp, broker: &RunningBroker, token: &str) -> SpConfig {
    let text = format!(
        r#"name = "reference-rp via sp.toml"
protocol = "oidc"
login_url = "{}"
user_key = "uuid"
profiles = ["person"]
private_sp = true
oidc_profile = "signaturgruppen"
[oracle]
whoami_url = "{}"
json_field = "uuid"
[broker]
external = "{}"
control_token = "{token}"
"#,
        rp.login_url(),
        rp.whoami_url(),
        broker.base_url()
    );
    SpConfig::from_toml_str(&text, "sp.toml", std::path::Path::new(".")).unwrap()
}

/// The control token of an external broker comes from sp.toml's `[broker] control_token`
/// (the token broker.toml fixed, or `mitid-harness broker` printed); a wrong one is reported as
/// the broker's refusal, not as a failed login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_broker_takes_its_control_token_from_sp_toml() {
    let dir = temp_dir("token");
    let bound = ReferenceRp::bind().await.unwrap();
    let broker = broker_from_file(
        &dir,
        &format!(
            r#"
bind = "127.0.0.1:0"
control_token = "broker-toml-fixed-token-0123"

[[oidc.clients]]
client_id = "my-rp"
client_secret = "mock-secret"
redirect_uris = ["{}"]
issuers = ["signaturgruppen"]
"#,
            bound.redirect_uri()
        ),
    )
    .await;
    assert_eq!(broker.control_token(), Some("broker-toml-fixed-token-0123"));
    let rp = bound
        .start(RpConfig::new(
            &issuer(&broker),
            "my-rp",
            "mock-secret",
            BrokerProfile::Signaturgruppen,
        ))
        .await
        .unwrap();
    let one = || {
        Catalogue::builtin()
            .protocol(Protocol::Oidc)
            .filter(&["oidc-mitid.person-substantial".to_string()], &[])
            .unwrap()
    };
    let cfg = external_sp_toml(&rp, &broker, "broker-toml-fixed-token-0123");
    assert_eq!(
        cfg.broker.control_token(),
        Some("broker-toml-fixed-token-0123")
    );
    let report = Harness::builder(cfg)
        .catalogue(one())
        .build()
        .await
        .unwrap()
        .run()
        .await;
    let r = &report.results[0];
    assert_eq!(r.verdict, Verdict::Pass, "{}", r.message);

    let cfg = external_sp_toml(&rp, &broker, "not-the-token-of-that-broker");
    let report = Harness::builder(cfg)
        .catalogue(one())
        .build()
        .await
        .unwrap()
        .run()
        .await;
    let r = &report.results[0];
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.message);
    assert!(
        r.message.contains("control token") && r.message.contains("invalid_token"),
        "{}",
        r.message
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_from_broker_toml_logs_in_and_the_harness_drives_the_broker_externally() {
    let dir = temp_dir("client");
    let bound = ReferenceRp::bind().await.unwrap();
    let broker = broker_from_file(
        &dir,
        &format!(
            r#"
bind = "127.0.0.1:0"
entity_id = "mock"

[[oidc.clients]]
client_id = "my-rp"
client_secret = "mock-secret"
redirect_uris = ["{}"]
issuers = ["signaturgruppen"]
token_endpoint_auth_method = "client_secret_basic"
"#,
            bound.redirect_uri()
        ),
    )
    .await;
    let rp = bound
        .start(RpConfig::new(
            &issuer(&broker),
            "my-rp",
            "mock-secret",
            BrokerProfile::Signaturgruppen,
        ))
        .await
        .unwrap();

    // A developer's login: the chooser, the code flow, a session for the chosen person.
    let anna = broker.state().identities().get("anna").unwrap().uuid;
    let who = browser_login(&rp, "anna").await;
    assert_eq!(who["uuid"], anna.to_string(), "{who}");

    // The harness, controlling the same broker over HTTP: preselection (every scenario),
    // key rotation and an armed fault plan all go through the control client.
    let catalogue = Catalogue::builtin()
        .protocol(Protocol::Oidc)
        .filter(
            &[
                "oidc-mitid.person-substantial".to_string(),
                "oidc-keys.rotation".to_string(),
                "oidc-forgery.alg-none".to_string(),
            ],
            &[],
        )
        .unwrap();
    assert_eq!(catalogue.len(), 3);
    let report = Harness::builder(harness_config(&rp, &broker))
        .catalogue(catalogue)
        .concurrency(1)
        .build()
        .await
        .unwrap()
        .run()
        .await;
    for r in &report.results {
        assert_eq!(
            r.verdict,
            Verdict::Pass,
            "{}: {} (RP: {:?})",
            r.id,
            r.message,
            rp.rejections()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_reaches_the_verdict_as_the_broker_stated_it() {
    let dir = temp_dir("refused");
    // The file registers no client: the RP's client_id is unknown to the broker.
    let broker = broker_from_file(&dir, "bind = \"127.0.0.1:0\"\n").await;
    let rp = ReferenceRp::start(RpConfig::new(
        &issuer(&broker),
        "not-registered",
        "mock-secret",
        BrokerProfile::Signaturgruppen,
    ))
    .await
    .unwrap();
    let catalogue = Catalogue::builtin()
        .protocol(Protocol::Oidc)
        .filter(&["oidc-mitid.person-substantial".to_string()], &[])
        .unwrap();
    let report = Harness::builder(harness_config(&rp, &broker))
        .catalogue(catalogue)
        .build()
        .await
        .unwrap()
        .run()
        .await;
    let r = &report.results[0];
    assert_eq!(r.verdict, Verdict::Inconclusive, "{}", r.message);
    assert!(
        r.message.contains(
            "the broker refused the RP's authorization request: invalid_client: unknown client_id \"not-registered\""
        ),
        "{}",
        r.message
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_switch_accepts_any_loopback_client_only_when_on() {
    let dir = temp_dir("dev");
    let bound = ReferenceRp::bind().await.unwrap();
    let broker = broker_from_file(
        &dir,
        "bind = \"127.0.0.1:0\"\n[oidc]\ndev_accept_any_loopback_client = true\n",
    )
    .await;
    let rp = bound
        .start(RpConfig::new(
            &issuer(&broker),
            "whatever-my-rp-is-called",
            "any-secret",
            BrokerProfile::Signaturgruppen,
        ))
        .await
        .unwrap();
    let who = browser_login(&rp, "bo").await;
    let bo = broker.state().identities().get("bo").unwrap().uuid;
    assert_eq!(who["uuid"], bo.to_string(), "{who}");

    // Off (the default): the same RP is refused at the authorization endpoint.
    let off = broker_from_file(&dir, "bind = \"127.0.0.1:0\"\n").await;
    let rp = ReferenceRp::start(RpConfig::new(
        &issuer(&off),
        "whatever-my-rp-is-called",
        "any-secret",
        BrokerProfile::Signaturgruppen,
    ))
    .await
    .unwrap();
    let client = browser();
    let page = client.get(rp.login_url()).send().await.unwrap();
    let loc = page.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let refused = client
        .get(page.url().join(&loc).unwrap())
        .send()
        .await
        .unwrap();
    let refused_status = refused.status().as_u16();
    let refused_headers = refused.headers().clone();
    let refused_body = refused.text().await.unwrap();
    assert_eq!(refused_status, 400, "{refused_body}");
    let stated = refused_headers
        .get(mitid_mock_broker::control::REFUSAL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(mitid_mock_broker::control::BrokerRefusal::from_header_value)
        .expect("the refusal is stated in a header");
    assert_eq!(stated.code, "invalid_client");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn sp_metadata_from_broker_toml_is_registered_and_re_read() {
    let dir = temp_dir("saml");
    // The reference SP's metadata, under two entityIDs.
    let idp = Broker::builder().start().await.unwrap();
    let sp = ReferenceSp::start(RefSpConfig::new(idp.metadata_xml()))
        .await
        .unwrap();
    let own = sp.sp_metadata().unwrap().entity_id;
    let md = |entity: &str| sp.metadata_xml().replace(&own, entity);
    std::fs::write(dir.join("sp.xml"), md("https://sp-one.example/")).unwrap();
    let broker =
        broker_from_file(&dir, "bind = \"127.0.0.1:0\"\nsp_metadata = [\"sp.xml\"]\n").await;
    assert_eq!(broker.state().sp_entity_ids(), ["https://sp-one.example/"]);
    // The SP's metadata changes; a reload (SIGHUP in the CLI) makes it the registered one.
    std::fs::write(dir.join("sp.xml"), md("https://sp-two.example/")).unwrap();
    let sources = [dir.join("sp.xml").display().to_string()];
    assert_eq!(broker.reload_sps(&sources).await.unwrap(), 1);
    assert_eq!(broker.state().sp_entity_ids(), ["https://sp-two.example/"]);
    // A broken file leaves the SPs as they were.
    std::fs::write(dir.join("sp.xml"), "<not metadata").unwrap();
    assert!(broker.reload_sps(&sources).await.is_err());
    assert_eq!(broker.state().sp_entity_ids(), ["https://sp-two.example/"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The ```toml blocks of the README after a heading.
fn readme_toml_after(heading: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .unwrap();
    let section = &readme[readme.find(heading).expect(heading)..];
    let section = &section[heading.len()..];
    let section = &section[..section.find("\n### ").unwrap_or(section.len())];
    section
        .split("```toml")
        .skip(1)
        .map(|b| {
            b[..b.find("```").unwrap()]
                .lines()
                .map(|l| l.strip_prefix("   ").unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

#[test]
fn the_readme_examples_load() {
    let sp = readme_toml_after("### `sp.toml`, every key");
    assert_eq!(sp.len(), 1);
    SpConfig::from_toml_str(&sp[0], "README sp.toml", std::path::Path::new(".")).unwrap();
    // The commented `[privileges]` table loads too, once switched on.
    let with_privileges = sp[0]
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(t) if t.starts_with("[privileges]") || t.starts_with("required =") => t,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let c = SpConfig::from_toml_str(
        &with_privileges,
        "README sp.toml",
        std::path::Path::new("."),
    )
    .unwrap();
    assert!(c.privileges.is_some(), "{with_privileges}");
    let broker = readme_toml_after("### `broker.toml`, every key");
    assert_eq!(broker.len(), 1);
    let walk = readme_toml_after("### Walk-through");
    assert_eq!(walk.len(), 1);
    for text in broker.iter().chain(&walk) {
        BrokerOptions::from_toml_str(text, "README broker.toml", std::path::Path::new("."))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}
