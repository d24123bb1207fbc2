//! Verdicts that depend on what the RP actually does, through the real runner:
//!
//! - An RP that never calls userinfo (it logs in from the verified ID token, which is correct)
//!   is not judged on forged userinfo responses: those scenarios are SKIPPED as not applicable,
//!   with the reason, and every other verdict is the same as for the RP that calls userinfo.
//! - An RP keyed by `sub` (`user_key = "sub"`) gets identity verdicts: the harness computes the
//!   `sub` each broker profile issues, so a sub-keyed RP that stores the wrong subject fails
//!   where a session-only oracle sees nothing wrong.
//! - Key rotation does not leak: after a scenario that rotates the broker's signing key, the
//!   key set is restored, so `kid-absent-single-key` gives the same verdict whatever ran before.

use mitid_harness::scenario::{Protocol, StepBody};
use mitid_harness::{
    Catalogue, Evidence, Expect, Harness, OracleConfig, RunReport, SpConfig, UserKey, Verdict,
};
use mitid_mock_broker::{Endpoint, RunningBroker};
use mitid_reference::reference_rp::{
    KidlessKeys, PairOptions, RpFlaw, RpPair, RpUserKey, RunningRp,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

async fn run_cfg(cfg: SpConfig, broker: Arc<RunningBroker>, cat: Catalogue) -> RunReport {
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

async fn run(rp: &RunningRp, broker: Arc<RunningBroker>, cat: Catalogue) -> RunReport {
    run_cfg(rp.harness_config("reference-rp"), broker, cat).await
}

fn oidc() -> Catalogue {
    Catalogue::builtin().protocol(Protocol::Oidc)
}

/// The whole OIDC catalogue against both RPs of a pair (Signaturgruppen first), on one broker:
/// the rotation scenarios no longer need a broker of their own.
async fn run_pair(flaws: &[RpFlaw], opts: PairOptions) -> Vec<RunReport> {
    let pair = RpPair::start(flaws.iter().copied(), opts).await.unwrap();
    let mut out = Vec::new();
    for rp in pair.rps() {
        out.push(run(rp, pair.broker.clone(), oidc()).await);
    }
    out
}

fn verdicts(r: &RunReport) -> BTreeMap<String, Verdict> {
    r.results
        .iter()
        .map(|x| (x.id.clone(), x.verdict))
        .collect()
}

/// Scenarios whose faults, in some login step, all reach the RP only through userinfo: from
/// the faults' declared delivery, not from their ids.
fn userinfo_only_scenarios() -> BTreeSet<String> {
    oidc()
        .iter()
        .filter(|s| {
            s.steps.iter().any(|st| match &st.body {
                StepBody::OidcLogin(l) => {
                    !l.plan.faults.is_empty()
                        && l.plan
                            .faults
                            .iter()
                            .all(|f| f.delivered_by() == [Endpoint::Userinfo])
                }
                StepBody::SamlLogin(_)
                | StepBody::Replay
                | StepBody::IdpLogout(_)
                | StepBody::ForgedHeaders(_) => false,
            })
        })
        .map(|s| s.id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rp_that_never_calls_userinfo_is_not_judged_on_userinfo() {
    let userinfo_only = userinfo_only_scenarios();
    assert!(
        userinfo_only.contains("oidc-flow.userinfo-sub-mismatch"),
        "{userinfo_only:?}"
    );
    let calls = run_pair(&[], PairOptions::default()).await;
    let never = run_pair(
        &[],
        PairOptions {
            skip_userinfo: true,
            minimal_id_token: Some(false),
            ..PairOptions::default()
        },
    )
    .await;
    for ((with, without), profile) in calls.iter().zip(&never).zip(["signaturgruppen", "idura"]) {
        let bad: BTreeSet<String> = without
            .ids_with(Verdict::Fail)
            .into_iter()
            .chain(without.ids_with(Verdict::Inconclusive))
            .map(String::from)
            .collect();
        assert!(bad.is_empty(), "{profile}:\n{}", without.explain(&bad));
        for id in &userinfo_only {
            let r = without.get(id).unwrap();
            assert_eq!(r.verdict, Verdict::Skipped, "{profile} {id}: {}", r.message);
            if r.message.contains("applies to") {
                // A scenario of the other broker profile.
                continue;
            }
            assert!(
                r.message
                    .contains("the RP never called the userinfo endpoint in this flow, so a forged userinfo response"),
                "{profile} {id}: {}",
                r.message
            );
            // The RP that calls userinfo is judged on it (and refuses it).
            assert_eq!(
                with.get(id).unwrap().verdict,
                Verdict::Pass,
                "{profile} {id}"
            );
        }
        // Every other verdict is unchanged.
        let mut a = verdicts(with);
        let mut b = verdicts(without);
        for id in &userinfo_only {
            a.remove(id);
            b.remove(id);
        }
        assert_eq!(a, b, "{profile}: verdicts other than userinfo's changed");
    }

    // The flaw that skips the userinfo `sub` comparison still fails the RP that calls
    // userinfo; the RP that never calls it cannot have that bug, and is not accused of it.
    let flawed = run_pair(&[RpFlaw::SkipUserinfoSub], PairOptions::default()).await;
    let flawed_never = run_pair(
        &[RpFlaw::SkipUserinfoSub],
        PairOptions {
            skip_userinfo: true,
            minimal_id_token: Some(false),
            ..PairOptions::default()
        },
    )
    .await;
    for (r, r_never) in flawed.iter().zip(&flawed_never) {
        let failed: BTreeSet<String> = r
            .ids_with(Verdict::Fail)
            .into_iter()
            .map(String::from)
            .collect();
        let rejects: BTreeSet<String> = oidc()
            .iter()
            .filter(|s| userinfo_only.contains(&s.id))
            .filter(|s| s.steps.iter().any(|st| st.expect == Expect::Reject))
            .map(|s| s.id.clone())
            .collect();
        assert_eq!(failed, rejects, "{}", r.summary_line());
        assert!(
            r_never.ids_with(Verdict::Fail).is_empty(),
            "{}",
            r_never.summary_line()
        );
    }
}

/// An RP keyed by `sub` passes with identity verdicts; one that stores the wrong subject fails
/// every scenario that expects a login, which a session-only oracle would have passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rp_keyed_by_sub_gets_identity_verdicts() {
    let with_accept: BTreeSet<String> = oidc()
        .iter()
        .filter(|s| s.steps.iter().any(|st| st.expect == Expect::Accept))
        .map(|s| s.id.clone())
        .collect();

    let strict = RpPair::start(
        [],
        PairOptions {
            user_key: RpUserKey::Sub,
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    for rp in strict.rps() {
        let cfg = rp.harness_config("sub-keyed-rp");
        assert_eq!(cfg.user_key, UserKey::Sub);
        let r = run_cfg(cfg, strict.broker.clone(), oidc()).await;
        assert_eq!(r.evidence, Evidence::Whoami);
        let bad: BTreeSet<String> = r
            .ids_with(Verdict::Fail)
            .into_iter()
            .chain(r.ids_with(Verdict::Inconclusive))
            .map(String::from)
            .collect();
        assert!(bad.is_empty(), "{}", r.explain(&bad));
        // Each accepted login is checked against the `sub` the harness computed.
        let mut identity_checked = 0;
        for x in &r.results {
            for st in x.steps.iter().filter(|st| st.verdict == Verdict::Pass) {
                if st.message.starts_with("logged in as the right identity") {
                    identity_checked += 1;
                    assert!(st.observed_identity.is_some(), "{}", x.id);
                }
            }
        }
        let ran_accepting = with_accept
            .iter()
            .filter(|id| r.get(id).is_some_and(|x| x.verdict == Verdict::Pass))
            .count();
        assert!(
            ran_accepting > 0 && identity_checked >= ran_accepting,
            "{identity_checked} identity verdicts for {ran_accepting} passing scenarios with a login"
        );
    }

    // The flaw: the session id stored as the subject. Identity verdicts fail exactly the
    // scenarios that expect a login; a protected-URL oracle passes the same RP throughout.
    let flawed = RpPair::start(
        [],
        PairOptions {
            user_key: RpUserKey::SessionIdAsSub,
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    for rp in flawed.rps() {
        let r = run(rp, flawed.broker.clone(), oidc()).await;
        let ran: BTreeSet<String> = r
            .results
            .iter()
            .filter(|x| x.verdict != Verdict::Skipped)
            .map(|x| x.id.clone())
            .collect();
        let want: BTreeSet<String> = with_accept.intersection(&ran).cloned().collect();
        let failed: BTreeSet<String> = r
            .ids_with(Verdict::Fail)
            .into_iter()
            .map(String::from)
            .collect();
        assert!(!want.is_empty());
        assert_eq!(failed, want, "{}", r.explain(&failed));
        for id in &failed {
            let x = r.get(id).unwrap();
            assert!(
                x.message.contains("logged in someone else"),
                "{id}: {}",
                x.message
            );
        }

        let mut session_only = rp.harness_config("sub-keyed-rp-protected-url");
        session_only.user_key = UserKey::Uuid;
        session_only.oracle = OracleConfig::protected(rp.whoami_url());
        let r = run_cfg(session_only, flawed.broker.clone(), oidc()).await;
        assert!(
            r.ids_with(Verdict::Fail).is_empty(),
            "without identity verdicts the flaw goes unseen: {}",
            r.summary_line()
        );
    }
}

/// `kid-absent-single-key` after a rotation scenario, against an RP that (correctly) uses the
/// one JWKS key for the algorithm and refuses a token without `kid` when there are several:
/// the rotation's key set is restored, so the verdict does not depend on the order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kid_absent_single_key_does_not_depend_on_a_rotation_before_it() {
    let opts = PairOptions {
        kidless: KidlessKeys::OnlyKey,
        // RS256: the rotation below leaves two RSA keys published (the issuer's default ES256
        // ring has one key, which a rotation cannot multiply).
        id_token_alg: Some(mitid_mock_broker::oidc::SigningAlg::RS256),
        ..PairOptions::default()
    };
    let pair = RpPair::start([], opts).await.unwrap();
    let provider = pair.broker.oidc().unwrap().clone();
    let rp = &pair.signaturgruppen;
    let only = |ids: &[&str]| {
        oidc()
            .filter(&ids.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &[])
            .unwrap()
    };
    let kids = provider.published_kids("signaturgruppen").unwrap();

    // This RP is sensitive to the key set: with a rotation's two RS256 keys left published,
    // it fails the scenario (what used to happen when it ran after a rotation scenario).
    provider.rotate_signing_key("signaturgruppen").unwrap();
    let r = run(
        rp,
        pair.broker.clone(),
        only(&["oidc-keys.kid-absent-single-key"]),
    )
    .await;
    assert_eq!(
        r.get("oidc-keys.kid-absent-single-key").unwrap().verdict,
        Verdict::Fail,
        "{}",
        r.explain(&["oidc-keys.kid-absent-single-key".to_string()])
    );
    provider.restore_signing_keys("signaturgruppen").unwrap();

    // Each rotation scenario, then kid-absent-single-key: one run after the other...
    for rotating in ["oidc-keys.rotation", "oidc-keys.kid-absent-foreign-key"] {
        let r = run(rp, pair.broker.clone(), only(&[rotating])).await;
        assert_eq!(
            r.get(rotating).unwrap().verdict,
            Verdict::Pass,
            "{}",
            r.summary_line()
        );
        assert_eq!(provider.published_kids("signaturgruppen").unwrap(), kids);
        let r = run(
            rp,
            pair.broker.clone(),
            only(&["oidc-keys.kid-absent-single-key"]),
        )
        .await;
        let x = r.get("oidc-keys.kid-absent-single-key").unwrap();
        assert_eq!(x.verdict, Verdict::Pass, "after {rotating}: {}", x.message);
    }
    // ... and in one run, side by side with every other key scenario.
    let keys_family = oidc().filter(&["oidc-keys".to_string()], &[]).unwrap();
    let r = run(rp, pair.broker.clone(), keys_family).await;
    let bad: BTreeSet<String> = r
        .ids_with(Verdict::Fail)
        .into_iter()
        .chain(r.ids_with(Verdict::Inconclusive))
        .map(String::from)
        .collect();
    assert!(bad.is_empty(), "{}", r.explain(&bad));
    assert_eq!(provider.published_kids("signaturgruppen").unwrap(), kids);
}

/// The same decisions against a broker the harness reaches only over its control API
/// (`[broker] external`): the flow record comes from `POST /_mock/oidc/flow`, the key restore
/// goes through `POST /_mock/oidc/restore-keys`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_broker_reports_flows_and_restores_keys_over_control() {
    let pair = RpPair::start(
        [],
        PairOptions {
            skip_userinfo: true,
            minimal_id_token: Some(false),
            kidless: KidlessKeys::OnlyKey,
            ..PairOptions::default()
        },
    )
    .await
    .unwrap();
    let provider = pair.broker.oidc().unwrap().clone();
    let kids = provider.published_kids("signaturgruppen").unwrap();
    let mut cfg = pair.signaturgruppen.harness_config("external");
    cfg.broker.external = Some(pair.broker.base_url().to_string());
    cfg.broker = cfg
        .broker
        .with_control_token(pair.broker.control_token().unwrap());
    let ids = [
        "oidc-flow.userinfo-sub-mismatch",
        "oidc-keys.rotation",
        "oidc-keys.kid-absent-single-key",
    ]
    .map(String::from);
    let harness = Harness::builder(cfg)
        .catalogue(oidc().filter(&ids, &[]).unwrap())
        .build()
        .await
        .unwrap();
    assert!(matches!(
        harness.broker(),
        mitid_harness::BrokerLink::External { .. }
    ));
    let r = harness.run().await;
    let x = r.get("oidc-flow.userinfo-sub-mismatch").unwrap();
    assert_eq!(x.verdict, Verdict::Skipped, "{}", x.message);
    assert!(
        x.message.contains("never called the userinfo endpoint"),
        "{}",
        x.message
    );
    for id in ["oidc-keys.rotation", "oidc-keys.kid-absent-single-key"] {
        let x = r.get(id).unwrap();
        assert_eq!(x.verdict, Verdict::Pass, "{id}: {}", x.message);
    }
    assert_eq!(provider.published_kids("signaturgruppen").unwrap(), kids);
}
