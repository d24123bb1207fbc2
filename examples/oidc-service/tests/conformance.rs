//! The service's own conformance test: the OIDC scenario catalogue of `mitid-harness`, run
//! against this service through an in-process mock MitID broker.
//!
//! This is the file to copy into your own service. It needs, as dev-dependencies,
//! `mitid-harness` and `mitid-mock-broker`, and `tokio` with the `macros` and
//! `rt-multi-thread` features.

use mitid_example_oidc_service::{Config, app};
use mitid_harness::scenario::Protocol;
use mitid_harness::{Catalogue, Harness, OracleConfig, RunReport, SpConfig, Verdict};
use mitid_mock_broker::oidc::{ClientConfig, Profile};
use mitid_mock_broker::{Broker, IdentityKind, Loa, RunningBroker};
use std::sync::Arc;

const CLIENT_ID: &str = "example-service";
const CLIENT_SECRET: &str = "mock-secret-for-tests";

/// The service under test, wired to a fresh mock broker.
struct Fixture {
    broker: Arc<RunningBroker>,
    /// The harness's description of the service.
    sp: SpConfig,
}

/// Start a mock broker and the service the way production starts it, only with the mock's
/// issuer URL in its configuration.
async fn start() -> Fixture {
    // 1. Bind the service's port first: the broker needs the exact redirect URI.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let redirect_uri = format!("{base}/callback");

    // 2. The mock broker, with the service registered as an OIDC client of its
    //    Signaturgruppen-style issuer (the broker this service is built for).
    let mut client = ClientConfig::with_secret(CLIENT_ID, CLIENT_SECRET, &redirect_uri);
    client.issuers = vec!["signaturgruppen".into()];
    let broker = Broker::builder()
        .oidc_client(client.clone())
        .start()
        .await
        .expect("start the mock broker");
    let issuer = broker
        .oidc()
        .and_then(|p| p.issuer_url("signaturgruppen"))
        .expect("the mock broker serves a Signaturgruppen-style issuer");

    // 3. The service, configured exactly as in production.
    let mut config = Config::new(issuer, CLIENT_ID, CLIENT_SECRET, &redirect_uri);
    config.required_loa = mitid_example_oidc_service::Loa::Substantial;
    let router = app(config).await.expect("the service starts");
    tokio::spawn(async move { axum::serve(listener, router).await });

    // 4. What the harness needs to know about the service: where a login starts, how to ask
    //    who is logged in (`/whoami`, identity in the JSON field `uuid`), and what the service
    //    accepts (MitID persons and MitID Erhverv employees, Substantial or higher, a private
    //    service without CPR).
    let sp = SpConfig::builder(format!("{base}/login"))
        .name("example-oidc-service")
        .protocol(Protocol::Oidc)
        .required_loa(Loa::Substantial)
        .profiles([IdentityKind::Person, IdentityKind::Professional])
        .private_sp(true)
        .oracle(OracleConfig::whoami_json(format!("{base}/whoami"), "uuid"))
        .oidc_client(client)
        .oidc_profile(Profile::Signaturgruppen)
        .build()
        .expect("a valid harness configuration");
    Fixture {
        broker: Arc::new(broker),
        sp,
    }
}

async fn run(f: Fixture, catalogue: Catalogue) -> RunReport {
    Harness::builder(f.sp)
        .broker(f.broker)
        .catalogue(catalogue)
        .build()
        .await
        .expect("the harness starts")
        .run()
        .await
}

/// The whole OIDC catalogue: every MitID login must work, every NemID-era or forged one must
/// be refused. Scenarios for the other broker (Idura) are skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_passes_the_oidc_catalogue() {
    let report = run(start().await, Catalogue::builtin().protocol(Protocol::Oidc)).await;
    println!("{}", report.summary_line());
    // Panics with, for each failure, what the service did and how to fix it.
    report.assert_conformant();
    assert!(report.summary.passed > 0, "{}", report.summary_line());
}

/// Reading a report yourself instead of `assert_conformant`: here a few scenarios, chosen by
/// id, with each verdict, what the harness saw, and why a scenario was skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_the_report() {
    let ids: Vec<String> = [
        "oidc-mitid.person-substantial",
        "oidc-legacy.idp-nemid",
        "oidc-legacy.loa-low",
        // The Idura variant of the NemID check: not for a Signaturgruppen service.
        "oidc-legacy.identityscheme-dknemid",
    ]
    .map(String::from)
    .into();
    let catalogue = Catalogue::builtin()
        .protocol(Protocol::Oidc)
        .filter(&ids, &[])
        .expect("known scenario ids");
    let report = run(start().await, catalogue).await;

    for r in &report.results {
        println!("{:<12} {:<40} {}", r.verdict.as_str(), r.id, r.message);
    }
    // The same per-scenario lines, ready for a failure message.
    let failed: Vec<String> = report
        .ids_with(Verdict::Fail)
        .into_iter()
        .map(String::from)
        .collect();
    assert!(failed.is_empty(), "failed:\n{}", report.explain(&failed));

    let verdict = |id: &str| report.get(id).map(|r| r.verdict);
    assert_eq!(
        verdict("oidc-mitid.person-substantial"),
        Some(Verdict::Pass)
    );
    assert_eq!(verdict("oidc-legacy.idp-nemid"), Some(Verdict::Pass));
    assert_eq!(verdict("oidc-legacy.loa-low"), Some(Verdict::Pass));
    assert_eq!(
        verdict("oidc-legacy.identityscheme-dknemid"),
        Some(Verdict::Skipped)
    );
}
