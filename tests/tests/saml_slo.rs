//! IdP-initiated single logout end to end, quickly: the `slo.*` scenarios against the strict
//! reference SP (all PASS), against each `slo-*` flaw (exactly its annotated scenarios FAIL),
//! and against an SP whose registered metadata lists no SingleLogoutService (all SKIPPED,
//! never FAIL). The full proof over every flaw is `saml_discrimination.rs`; this one runs in
//! seconds and says what went wrong in SLO terms.

use mitid_harness::scenario::Protocol;
use mitid_harness::{Catalogue, Harness, RunReport, Verdict};
use mitid_mock_broker::Broker;
use mitid_reference::reference_sp::{Flaw, ReferenceSp, SpConfig};
use std::collections::BTreeSet;
use std::sync::Arc;

fn slo_catalogue() -> Catalogue {
    Catalogue::builtin()
        .protocol(Protocol::Saml)
        .filter(&["slo".to_string()], &[])
        .unwrap()
}

async fn run(flaws: &[Flaw], strip_slo: bool) -> RunReport {
    let broker = Arc::new(Broker::builder().start().await.unwrap());
    let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaws(flaws.iter().copied()))
        .await
        .unwrap();
    if strip_slo {
        let xml: String = sp
            .metadata_xml()
            .lines()
            .filter(|l| !l.contains("SingleLogoutService"))
            .collect::<Vec<_>>()
            .join("\n");
        broker
            .state()
            .register_sp(mitid_mock_broker::saml::sp_metadata::SpMetadata::parse(&xml).unwrap());
    } else {
        sp.register_with(&broker).unwrap();
    }
    Harness::builder(sp.harness_config("reference-sp"))
        .broker(broker)
        .catalogue(slo_catalogue())
        .inspect(false)
        .build()
        .await
        .unwrap()
        .run()
        .await
}

fn with(r: &RunReport, v: Verdict) -> BTreeSet<String> {
    r.ids_with(v).into_iter().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_strict_sp_passes_every_slo_scenario() {
    let r = run(&[], false).await;
    let all: BTreeSet<String> = slo_catalogue().iter().map(|s| s.id.clone()).collect();
    assert!(all.len() >= 8);
    assert_eq!(with(&r, Verdict::Pass), all, "{}", r.explain(&all));
    let accepted = r.get("slo.idp-initiated-post").unwrap();
    assert!(
        accepted
            .message
            .contains("signed LogoutResponse (Success, Redirect binding)"),
        "{}",
        accepted.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_slo_flaw_fails_exactly_its_scenarios() {
    for flaw in [
        Flaw::SloIgnoresLogout,
        Flaw::SloUnsignedAccepted,
        Flaw::SloNoSignatureCheck,
        Flaw::SloAnyIssuer,
        Flaw::SloNameIdUnchecked,
        Flaw::SloNoExpiryCheck,
    ] {
        let want: BTreeSet<String> = slo_catalogue()
            .iter()
            .filter(|s| s.caught_by.each.iter().any(|f| f == flaw.id()))
            .map(|s| s.id.clone())
            .collect();
        assert!(!want.is_empty(), "{flaw}: no scenario names it");
        let r = run(&[flaw], false).await;
        let failed = with(&r, Verdict::Fail);
        assert_eq!(failed, want, "{flaw}:\n{}", r.explain(&failed));
        assert!(with(&r, Verdict::Inconclusive).is_empty(), "{flaw}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sp_without_slo_in_its_metadata_is_skipped_not_failed() {
    let r = run(&[], true).await;
    let all: BTreeSet<String> = slo_catalogue().iter().map(|s| s.id.clone()).collect();
    assert_eq!(with(&r, Verdict::Skipped), all, "{}", r.explain(&all));
    let one = r.get("slo.expired").unwrap();
    assert!(
        one.message.contains("no SingleLogoutService"),
        "{}",
        one.message
    );
}
