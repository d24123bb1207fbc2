//! S11, forged identity headers from the browser: the six `forged-headers` scenarios against
//! the strict reference SP/RP (all PASS) and each front-end flaw (exactly its scenarios FAIL,
//! and the FAIL says which spelling got through and whom the SP then showed).
//!
//! A focused, fast version of what `saml_discrimination` / `oidc_discrimination` prove for the
//! whole catalogue; it also pins the distinction between the flaws that fail the same
//! scenarios: `trust-client-headers` lets the documented spelling through,
//! `scrub-exact-header-names` only the swapped one (`REMOTE-USER` for `REMOTE_USER`).

use mitid_harness::scenario::Protocol;
use mitid_harness::{Catalogue, Grade, Harness, RunReport, Verdict};
use mitid_mock_broker::Broker;
use mitid_reference::reference_rp::{PairOptions, RpFlaw, RpPair};
use mitid_reference::reference_sp::{Flaw, ReferenceSp, SpConfig};
use std::collections::BTreeSet;
use std::sync::Arc;

const SAML: [&str; 3] = [
    "binding.forged-identity-headers",
    "binding.forged-identity-headers-preflight",
    "binding.forged-identity-headers-acs",
];
const OIDC: [&str; 3] = [
    "oidc-flow.forged-claim-headers",
    "oidc-flow.forged-claim-headers-preflight",
    "oidc-flow.forged-claim-headers-redirect-uri",
];

fn only(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

async fn run_sp(flaws: &[Flaw]) -> RunReport {
    let broker = Arc::new(Broker::builder().start().await.unwrap());
    let sp = ReferenceSp::start(SpConfig::new(broker.metadata_xml()).flaws(flaws.iter().copied()))
        .await
        .unwrap();
    sp.register_with(&broker).unwrap();
    let cat = Catalogue::builtin()
        .protocol(Protocol::Saml)
        .filter(&only(&SAML), &[])
        .unwrap();
    Harness::builder(sp.harness_config("reference-sp"))
        .broker(broker)
        .catalogue(cat)
        .inspect(false)
        .build()
        .await
        .unwrap()
        .run()
        .await
}

async fn run_rps(flaws: &[RpFlaw]) -> Vec<RunReport> {
    let pair = RpPair::start(flaws.iter().copied(), PairOptions::default())
        .await
        .unwrap();
    let mut out = Vec::new();
    for rp in pair.rps() {
        let cat = Catalogue::builtin()
            .protocol(Protocol::Oidc)
            .filter(&only(&OIDC), &[])
            .unwrap();
        out.push(
            Harness::builder(rp.harness_config("reference-rp"))
                .broker(pair.broker.clone())
                .catalogue(cat)
                .build()
                .await
                .unwrap()
                .run()
                .await,
        );
    }
    out
}

/// The FAILs of `r`, checked to be graded forged-identity with the identity the SP showed, and
/// their messages.
fn fails(r: &RunReport, label: &str) -> BTreeSet<(String, String)> {
    let bad: BTreeSet<String> = r
        .results
        .iter()
        .filter(|x| !matches!(x.verdict, Verdict::Pass | Verdict::Fail))
        .map(|x| x.id.clone())
        .collect();
    assert!(bad.is_empty(), "{label}:\n{}", r.explain(&bad));
    r.results
        .iter()
        .filter(|x| x.verdict == Verdict::Fail)
        .map(|x| {
            assert_eq!(x.grade, Some(Grade::ForgedIdentity), "{label}: {}", x.id);
            assert!(x.observed_identity().is_some(), "{label}: {}", x.id);
            (x.id.clone(), x.message.clone())
        })
        .collect()
}

fn check(got: &BTreeSet<(String, String)>, want: &[&str], spelling: &str, label: &str) {
    let ids: BTreeSet<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    let want: BTreeSet<&str> = want.iter().copied().collect();
    assert_eq!(ids, want, "{label}: {got:#?}");
    for (id, m) in got {
        assert!(
            m.contains("the SP let a forged identity through")
                && m.contains(spelling)
                && m.contains("the forged identity"),
            "{label}: {id}: {m}"
        );
    }
}

const DOCUMENTED: &str = "spelled as the modules document them";
const SWAPPED: &str = "spelled with '-' and '_' swapped";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_front_end_flaws_fail_exactly_their_scenarios() {
    let strict = run_sp(&[]).await;
    check(&fails(&strict, "strict SP"), &[], "", "strict SP");
    assert_eq!(strict.results.len(), 3);
    for x in &strict.results {
        assert!(
            x.message.contains("in both spellings"),
            "{}: {}",
            x.id,
            x.message
        );
    }
    for (flaw, want, spelling) in [
        (Flaw::TrustClientHeaders, &SAML[..], DOCUMENTED),
        (Flaw::ScrubExactHeaderNames, &SAML[..], SWAPPED),
        (Flaw::ScrubAuthenticatedPathsOnly, &SAML[1..], DOCUMENTED),
    ] {
        let r = run_sp(&[flaw]).await;
        check(&fails(&r, flaw.id()), want, spelling, flaw.id());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_front_end_flaws_fail_exactly_their_scenarios() {
    for r in run_rps(&[]).await {
        check(&fails(&r, "strict RP"), &[], "", "strict RP");
        assert_eq!(r.results.len(), 3);
    }
    for (flaw, want, spelling) in [
        (RpFlaw::TrustClientHeaders, &OIDC[..], DOCUMENTED),
        (RpFlaw::ScrubExactHeaderNames, &OIDC[..], SWAPPED),
        (RpFlaw::ScrubAuthenticatedPathsOnly, &OIDC[1..], DOCUMENTED),
    ] {
        for r in run_rps(&[flaw]).await {
            check(&fails(&r, flaw.id()), want, spelling, flaw.id());
        }
    }
}
