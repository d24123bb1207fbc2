//! Every OIDC scenario discriminates: the strict reference RP (one per broker profile) passes
//! the whole OIDC catalogue through the real harness runner, and each [`RpFlaw`] makes exactly
//! the scenarios that name it in `caught_by` fail — no fewer (the scenario catches the bug) and
//! no more (the scenario is about that bug, not a side effect). Every scenario names at least
//! one flaw, so none is decoration. `caught_by` / `caught_by_together` mean what they mean for
//! SAML (`saml_discrimination.rs`): each flaw alone, or only the flaws together; combinations
//! named together run as one configuration.
//!
//! Scenarios that rotate the broker's signing key run on a fresh broker and fresh RPs each, so
//! the rotation cannot leak into other scenarios' verdicts (it would, for the
//! `no-jwks-refetch` RP, depending on timing).

use mitid_harness::scenario::Protocol;
use mitid_harness::{Catalogue, Expect, Harness, RunReport, Verdict};
use mitid_mock_broker::RunningBroker;
use mitid_reference::reference_rp::{PairOptions, RpFlaw, RpPair, RunningRp};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

type FlawSet = BTreeSet<RpFlaw>;

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
        .is_some_and(|s| s.steps.iter().any(|st| st.rotates_key()))
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

/// scenario id → the flaw sets (alternatives) that fail it, from the catalogue's `caught_by`
/// and `caught_by_together`.
fn annotations() -> BTreeMap<String, Vec<FlawSet>> {
    oidc_catalogue()
        .iter()
        .map(|s| {
            let alts = s
                .caught_by
                .alternatives()
                .into_iter()
                .map(|alt| {
                    alt.into_iter()
                        .map(|f| {
                            f.parse::<RpFlaw>()
                                .unwrap_or_else(|e| panic!("{}: {e}", s.id))
                        })
                        .collect::<FlawSet>()
                })
                .collect();
            (s.id.clone(), alts)
        })
        .collect()
}

/// The flawed configurations to run: every single flaw, and every combination named together.
fn configs(ann: &BTreeMap<String, Vec<FlawSet>>) -> BTreeSet<FlawSet> {
    RpFlaw::ALL
        .iter()
        .map(|f| FlawSet::from([*f]))
        .chain(ann.values().flatten().cloned())
        .collect()
}

/// Scenarios `config` must fail (for the profiles where they apply): those with an annotated
/// alternative contained in it.
fn expected(ann: &BTreeMap<String, Vec<FlawSet>>, config: &FlawSet) -> BTreeSet<String> {
    ann.iter()
        .filter(|(_, alts)| alts.iter().any(|a| a.is_subset(config)))
        .map(|(id, _)| id.clone())
        .collect()
}

fn label(c: &FlawSet) -> String {
    c.iter().map(|f| f.id()).collect::<Vec<_>>().join("+")
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
    // Every flaw name parses (annotations() panics on an unknown one).
    let ann = annotations();
    let uncovered: Vec<_> = ann
        .iter()
        .filter(|(_, alts)| alts.is_empty())
        .map(|(id, _)| id)
        .collect();
    assert!(
        uncovered.is_empty(),
        "scenarios without `caught_by`: {uncovered:?}"
    );
    let named: BTreeSet<RpFlaw> = ann.values().flatten().flatten().copied().collect();
    let unnamed: Vec<_> = RpFlaw::ALL.iter().filter(|f| !named.contains(f)).collect();
    assert!(
        unnamed.is_empty(),
        "flaws no scenario names in `caught_by`: {unnamed:?}"
    );
    // An RP that keys users by the broker's `sub` logs in the wrong identity in every scenario
    // with an accept step, so each of them must name that flaw.
    let key_by_sub = FlawSet::from([RpFlaw::KeyBySub]);
    for s in oidc_catalogue().iter() {
        if s.steps.iter().any(|st| st.expect == Expect::Accept) {
            assert!(
                ann[&s.id].contains(&key_by_sub),
                "{}: has an accept step but no `caught_by` \"key-by-sub\"",
                s.id
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_fails_exactly_its_scenarios() {
    let ann = annotations();
    // Flaws run side by side (each on its own broker and RPs); the work is mostly waiting on
    // loopback round trips, so a few at a time finish much sooner than one after another.
    let sem = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = tokio::task::JoinSet::new();
    for config in configs(&ann) {
        let want = expected(&ann, &config);
        let sem = sem.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            check_flaw(config, want).await
        });
    }
    let mut problems = Vec::new();
    while let Some(r) = tasks.join_next().await {
        problems.extend(r.expect("flaw task panicked"));
    }
    problems.sort();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Run one configuration on both profiles; describe every deviation from `caught_by`.
async fn check_flaw(config: FlawSet, expected: BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let flaws: Vec<RpFlaw> = config.iter().copied().collect();
    let reports = run_all(&flaws).await;
    let flaw = label(&config);
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
                "{flaw} on {profile}:\n missing (should fail, did not):\n{}\n extra (failed, should not):\n{}\n inconclusive:\n{}",
                r.explain(&missing),
                r.explain(&extra),
                r.explain(&inconclusive)
            ));
        }
        failed_anywhere.extend(failed);
    }
    if failed_anywhere != expected {
        problems.push(format!(
            "{flaw}: scenarios naming it that failed on no profile: {:?}",
            expected.difference(&failed_anywhere).collect::<Vec<_>>()
        ));
    }
    problems
}
