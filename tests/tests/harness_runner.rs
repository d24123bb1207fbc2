//! The harness's runner against the reference SPs: the strict SP passes every applicable
//! scenario, and a flawed SP fails the scenario for its flaw (honest tests: every verdict here
//! can go the other way).

use mitid_harness::scenario::Protocol;
use mitid_harness::{Catalogue, Harness, SpConfig as HarnessSp, Verdict};
use mitid_mock_broker::{Broker, RunningBroker};
use mitid_reference::reference_sp::{Flaw, ReferenceSp, RunningSp, SpConfig};
use std::sync::Arc;

async fn setup(flaws: Vec<Flaw>) -> (Arc<RunningBroker>, RunningSp, HarnessSp) {
    let broker = Broker::builder().start().await.unwrap();
    let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaws(flaws))
        .await
        .unwrap();
    sp.register_with(&broker).unwrap();
    let cfg = sp.harness_config("reference-sp");
    (Arc::new(broker), sp, cfg)
}

async fn run(flaws: Vec<Flaw>, only: &[&str]) -> mitid_harness::RunReport {
    let (broker, _sp, cfg) = setup(flaws).await;
    let only: Vec<String> = only.iter().map(|s| s.to_string()).collect();
    let cat = Catalogue::builtin()
        .protocol(Protocol::Saml)
        .filter(&only, &[])
        .unwrap();
    Harness::builder(cfg)
        .broker(broker)
        .catalogue(cat)
        .concurrency(4)
        .build()
        .await
        .unwrap()
        .run()
        .await
}

#[tokio::test]
async fn strict_sp_passes_the_starter_scenarios() {
    let r = run(
        vec![],
        &[
            "mitid.person-substantial",
            "signature.unsigned-assertion",
            "replay.other-browser",
        ],
    )
    .await;
    r.assert_conformant();
    for id in [
        "mitid.person-substantial",
        "signature.unsigned-assertion",
        "replay.other-browser",
    ] {
        assert_eq!(r.get(id).unwrap().verdict, Verdict::Pass, "{}", r.to_json());
    }
    // The inbound checks ran on the captured AuthnRequests and the SP metadata.
    assert!(
        r.results
            .iter()
            .any(|x| x.family == "inspect-authn-request" && x.verdict == Verdict::Pass)
    );
    assert!(r.results.iter().any(|x| x.family == "inspect-metadata"));
}

#[tokio::test]
async fn no_signature_check_flaw_fails_unsigned_assertion() {
    let r = run(
        vec![Flaw::NoSignatureCheck],
        &["signature.unsigned-assertion", "mitid.person-substantial"],
    )
    .await;
    assert_eq!(
        r.get("signature.unsigned-assertion").unwrap().verdict,
        Verdict::Fail,
        "{}",
        r.to_json()
    );
    assert_eq!(
        r.get("mitid.person-substantial").unwrap().verdict,
        Verdict::Pass,
        "{}",
        r.to_json()
    );
}

// The strict SP's full SAML report is frozen by `saml_discrimination.rs`
// (snapshots/discrimination/saml_strict.snap), with every flawed SP's beside it.
