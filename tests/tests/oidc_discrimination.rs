//! Every OIDC scenario discriminates: the strict reference RP (one per broker profile) passes
//! the whole OIDC catalogue through the real harness runner, and each [`RpFlaw`] makes exactly
//! the scenarios of the table below fail — no fewer (the scenario catches the bug) and no more
//! (the scenario is about that bug, not a side effect). Every scenario appears in the table for
//! at least one flaw, so none is decoration.
//!
//! Scenarios that rotate the broker's signing key run on a fresh broker and fresh RPs each, so
//! the rotation cannot leak into other scenarios' verdicts (it would, for the
//! `no-jwks-refetch` RP, depending on timing).

use mitid_harness::scenario::Protocol;
use mitid_harness::{Catalogue, Expect, Harness, RunReport, Verdict};
use mitid_mock_broker::RunningBroker;
use mitid_reference::reference_rp::{KeyBytes, PairOptions, RpFlaw, RpPair, RunningRp};
use std::collections::BTreeSet;
use std::sync::Arc;

async fn run_one(rp: &RunningRp, broker: Arc<RunningBroker>, cat: Catalogue) -> RunReport {
    let cfg = rp.harness_config("reference-rp");
    Harness::builder(cfg)
        .broker(broker)
        .catalogue(cat)
        .concurrency(6)
        .build()
        .await
        .unwrap()
        .run()
        .await
}

fn oidc_catalogue() -> Catalogue {
    Catalogue::builtin().protocol(Protocol::Oidc)
}

fn rotates(id: &str) -> bool {
    oidc_catalogue()
        .get(id)
        .is_some_and(|s| s.effective_steps().iter().any(|st| st.rotate_key))
}

/// Run the whole OIDC catalogue against RPs with `flaws`, both profiles; one report per
/// profile (Signaturgruppen first), rotation scenarios merged in from their own setups.
async fn run_all(flaws: &[RpFlaw]) -> Vec<RunReport> {
    let cat = oidc_catalogue();
    let plain: Vec<String> = cat
        .iter()
        .filter(|s| !rotates(&s.id))
        .map(|s| s.id.clone())
        .collect();
    let rotating: Vec<String> = cat
        .iter()
        .filter(|s| rotates(&s.id))
        .map(|s| s.id.clone())
        .collect();
    let pair = RpPair::start(flaws.iter().copied(), PairOptions::default())
        .await
        .unwrap();
    let mut reports = Vec::new();
    for rp in pair.rps() {
        reports.push(run_one(rp, pair.broker.clone(), cat.filter(&plain, &[]).unwrap()).await);
    }
    for id in &rotating {
        let s = RpPair::start(flaws.iter().copied(), PairOptions::default())
            .await
            .unwrap();
        for (i, rp) in s.rps().into_iter().enumerate() {
            let r = run_one(
                rp,
                s.broker.clone(),
                cat.filter(std::slice::from_ref(id), &[]).unwrap(),
            )
            .await;
            reports[i].results.extend(r.results);
        }
    }
    for r in &mut reports {
        r.sort_and_recount();
    }
    reports
}

fn ids(r: &RunReport, v: Verdict) -> BTreeSet<String> {
    r.ids_with(v).into_iter().map(str::to_string).collect()
}

/// Scenarios with at least one accept step (an RP that logs in the wrong identity fails them).
fn with_accept_step() -> Vec<String> {
    oidc_catalogue()
        .iter()
        .filter(|s| {
            s.effective_steps()
                .iter()
                .any(|st| st.expect == Expect::Accept)
        })
        .map(|s| s.id.clone())
        .collect()
}

/// flaw → the scenarios it must fail (for the profiles where they apply).
fn table() -> Vec<(RpFlaw, Vec<String>)> {
    let v = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let forged_signatures = [
        "oidc-forgery.bad-signature-rs256",
        "oidc-forgery.bad-signature-es256",
        "oidc-forgery.bad-signature-hs256",
        "oidc-forgery.alg-none",
        "oidc-forgery.key-confusion-spki-pem",
        "oidc-forgery.key-confusion-pkcs1-pem",
        "oidc-forgery.key-confusion-spki-der",
        "oidc-forgery.key-confusion-pkcs1-der",
        "oidc-forgery.key-confusion-jwk-json",
        "oidc-keys.unknown-kid",
        "oidc-keys.kid-absent-foreign-key",
        "oidc-keys.jku-header",
        "oidc-keys.x5u-header",
        "oidc-keys.embedded-jwk",
        "oidc-legacy.oces2-signing-key",
        "oidc-legacy.oces2-key-active-kid",
        // Decoding without verifying never looks at the header, so `crit` goes unread too.
        "oidc-forgery.unknown-crit",
    ];
    let confusion = |k: KeyBytes, id: &str| (RpFlaw::HsKeyConfusion(k), v(&[id]));
    vec![
        (RpFlaw::KeyBySub, with_accept_step()),
        (RpFlaw::ExactLoa, v(&["oidc-mitid.person-high"])),
        (RpFlaw::PersonOnly, v(&["oidc-mitid.erhverv"])),
        (
            RpFlaw::RejectAnyNemidClaim,
            v(&["oidc-mitid.nemid-pid-lookup"]),
        ),
        (RpFlaw::AcceptNemidIdp, v(&["oidc-legacy.idp-nemid"])),
        (
            RpFlaw::AcceptNemidClaims,
            v(&[
                "oidc-legacy.nemid-identity-claims",
                "oidc-legacy.nemid-professional-claims",
            ]),
        ),
        (
            RpFlaw::AcceptNemidAmr,
            v(&["oidc-legacy.amr-nemid-otp", "oidc-legacy.amr-nemid-keyfile"]),
        ),
        (
            RpFlaw::IgnoreLoa,
            v(&[
                "oidc-legacy.loa-missing",
                "oidc-legacy.loa-low",
                "oidc-legacy.authenticationtype-missing",
                "oidc-legacy.authenticationtype-mitid-low",
            ]),
        ),
        (
            RpFlaw::AcceptDknemid,
            v(&["oidc-legacy.identityscheme-dknemid"]),
        ),
        (
            RpFlaw::AcceptNemidAcr,
            v(&[
                "oidc-legacy.authenticationtype-nemid-poces",
                "oidc-legacy.authenticationtype-nemid-moces",
                "oidc-legacy.authenticationtype-nemid-moces-codefile",
                "oidc-legacy.acr-nemid-poces",
            ]),
        ),
        (RpFlaw::SkipSignature, v(&forged_signatures)),
        (RpFlaw::AcceptAlgNone, v(&["oidc-forgery.alg-none"])),
        confusion(KeyBytes::SpkiPem, "oidc-forgery.key-confusion-spki-pem"),
        confusion(KeyBytes::Pkcs1Pem, "oidc-forgery.key-confusion-pkcs1-pem"),
        confusion(KeyBytes::SpkiDer, "oidc-forgery.key-confusion-spki-der"),
        confusion(KeyBytes::Pkcs1Der, "oidc-forgery.key-confusion-pkcs1-der"),
        confusion(KeyBytes::JwkJson, "oidc-forgery.key-confusion-jwk-json"),
        (
            RpFlaw::TrustHeaderKeys,
            v(&[
                "oidc-keys.jku-header",
                "oidc-keys.x5u-header",
                "oidc-keys.embedded-jwk",
            ]),
        ),
        (RpFlaw::IgnoreCrit, v(&["oidc-forgery.unknown-crit"])),
        (RpFlaw::NoJwksRefetch, v(&["oidc-keys.rotation"])),
        (RpFlaw::RequireKid, v(&["oidc-keys.kid-absent-single-key"])),
        (
            RpFlaw::TryAllKeysOnUnknownKid,
            v(&["oidc-keys.unknown-kid"]),
        ),
        (
            RpFlaw::VerifyOnlyWithKid,
            v(&["oidc-keys.kid-absent-foreign-key", "oidc-keys.x5u-header"]),
        ),
        (
            RpFlaw::SkipIss,
            v(&["oidc-claims.iss-wrong", "oidc-claims.iss-missing"]),
        ),
        (
            RpFlaw::SkipAud,
            v(&[
                "oidc-claims.aud-wrong",
                "oidc-claims.aud-missing",
                "oidc-claims.extra-audience-without-azp",
            ]),
        ),
        (
            RpFlaw::SkipAzp,
            v(&["oidc-claims.extra-audience-without-azp"]),
        ),
        (
            RpFlaw::NoRequiredClaims,
            v(&["oidc-claims.sub-missing", "oidc-claims.iat-missing"]),
        ),
        (
            RpFlaw::SkipTimeChecks,
            v(&[
                "oidc-claims.exp-expired",
                "oidc-claims.nbf-in-future",
                "oidc-claims.iat-in-future",
            ]),
        ),
        (
            RpFlaw::SkipNonce,
            v(&["oidc-claims.nonce-wrong", "oidc-claims.nonce-missing"]),
        ),
        (
            RpFlaw::SkipState,
            v(&["oidc-flow.state-wrong", "oidc-flow.state-missing"]),
        ),
        (RpFlaw::ReusableState, v(&["oidc-flow.callback-replay"])),
        (
            RpFlaw::SkipIssParam,
            v(&["oidc-flow.iss-param-wrong", "oidc-flow.iss-param-missing"]),
        ),
        (
            RpFlaw::StaleUserOnError,
            v(&["oidc-flow.authorization-error"]),
        ),
        (
            RpFlaw::SkipUserinfoSub,
            v(&["oidc-flow.userinfo-sub-mismatch"]),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_rps_pass_every_oidc_scenario() {
    let reports = run_all(&[]).await;
    let mut passed_somewhere = BTreeSet::new();
    for (r, profile) in reports.iter().zip(["signaturgruppen", "idura"]) {
        let bad: BTreeSet<String> = ids(r, Verdict::Fail)
            .union(&ids(r, Verdict::Inconclusive))
            .cloned()
            .collect();
        assert!(bad.is_empty(), "strict {profile} RP:\n{}", r.explain(&bad));
        for x in &r.results {
            if x.verdict == Verdict::Skipped {
                assert!(
                    x.message.contains("applies to"),
                    "{profile}: {} skipped for an unexpected reason: {}",
                    x.id,
                    x.message
                );
            }
        }
        passed_somewhere.extend(ids(r, Verdict::Pass));
    }
    let all: BTreeSet<String> = oidc_catalogue().iter().map(|s| s.id.clone()).collect();
    let never: Vec<_> = all.difference(&passed_somewhere).collect();
    assert!(never.is_empty(), "scenarios no strict RP ran: {never:?}");

    // The report the harness writes for the strict Signaturgruppen RP, frozen. Durations vary.
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/oidc"));
    settings.set_prepend_module_to_snapshot(false);
    settings.add_redaction(".duration_ms", 0);
    settings.add_redaction(".results[].duration_ms", 0);
    settings.bind(|| {
        insta::assert_json_snapshot!("strict_signaturgruppen_report", reports[0]);
        insta::assert_json_snapshot!("strict_idura_report", reports[1]);
    });
}

#[test]
fn every_scenario_has_a_flaw_that_fails_it() {
    let covered: BTreeSet<String> = table().into_iter().flat_map(|(_, ids)| ids).collect();
    let all: BTreeSet<String> = oidc_catalogue().iter().map(|s| s.id.clone()).collect();
    let uncovered: Vec<_> = all.difference(&covered).collect();
    assert!(
        uncovered.is_empty(),
        "scenarios no flaw fails: {uncovered:?}"
    );
    let unknown: Vec<_> = covered.difference(&all).collect();
    assert!(
        unknown.is_empty(),
        "table names scenarios that do not exist: {unknown:?}"
    );
    let flaws: BTreeSet<RpFlaw> = table().into_iter().map(|(f, _)| f).collect();
    assert_eq!(flaws.len(), RpFlaw::ALL.len(), "every flaw has a table row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_fails_exactly_its_scenarios() {
    // Flaws run side by side (each on its own broker and RPs); the work is mostly waiting on
    // loopback round trips, so a few at a time finish much sooner than one after another.
    let sem = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = tokio::task::JoinSet::new();
    for (flaw, expected) in table() {
        let sem = sem.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            check_flaw(flaw, expected.into_iter().collect()).await
        });
    }
    let mut problems = Vec::new();
    while let Some(r) = tasks.join_next().await {
        problems.extend(r.expect("flaw task panicked"));
    }
    problems.sort();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Run one flaw on both profiles; describe every deviation from the table.
async fn check_flaw(flaw: RpFlaw, expected: BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let reports = run_all(&[flaw]).await;
    let mut failed_anywhere = BTreeSet::new();
    for (r, profile) in reports.iter().zip(["signaturgruppen", "idura"]) {
        let skipped = ids(r, Verdict::Skipped);
        let want: BTreeSet<String> = expected.difference(&skipped).cloned().collect();
        let failed = ids(r, Verdict::Fail);
        let inconclusive = ids(r, Verdict::Inconclusive);
        if failed != want || !inconclusive.is_empty() {
            let missing: BTreeSet<_> = want.difference(&failed).cloned().collect();
            let extra: BTreeSet<_> = failed.difference(&want).cloned().collect();
            problems.push(format!(
                "{flaw:?} on {profile}:\n missing (should fail, did not):\n{}\n extra (failed, should not):\n{}\n inconclusive:\n{}",
                r.explain(&missing),
                r.explain(&extra),
                r.explain(&inconclusive)
            ));
        }
        failed_anywhere.extend(failed);
    }
    if failed_anywhere != expected {
        problems.push(format!(
            "{flaw:?}: scenarios in the table that failed on no profile: {:?}",
            expected.difference(&failed_anywhere).collect::<Vec<_>>()
        ));
    }
    problems
}
