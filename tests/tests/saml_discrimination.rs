//! Every SAML scenario discriminates, proved through the real harness runner.
//!
//! Each scenario in `scenarios/saml-*.toml` declares the reference-SP flaws that must make it
//! fail: `caught_by = ["a", "b"]` means each of `a` and `b` alone fails it,
//! `caught_by_together = [["a", "b"]]` means only the two together do (a replayed response
//! needs both no replay cache and no InResponseTo check). The catalogue loader reads them into
//! [`Scenario::caught_by`](mitid_harness::Scenario), the same field `oidc_discrimination.rs`
//! reads. This test then:
//!
//! - runs the whole SAML catalogue against the strict reference SP: every scenario passes;
//! - runs it against the SP with each single [`Flaw`], and with each flaw combination the
//!   annotations name, and requires the set of FAILing scenarios to be *exactly* the
//!   scenarios whose annotation that configuration satisfies: no fewer (the scenario catches
//!   the bug) and no more (the scenario is about that bug, not a side effect); no verdict may
//!   be INCONCLUSIVE;
//! - grades: `warned_by = ["c"]` names flaws that accept the forgery but log in the identity
//!   the broker genuinely signed; the set of WARN scenarios must be exactly those (where no
//!   FAIL annotation applies), every WARN graded signed-identity, and every FAIL that created a
//!   session graded forged-identity, or malformed-message for the parser scenarios that only
//!   malform the message around the genuine login — the same wrapped response is a WARN under one flaw and a
//!   FAIL under another (`xsw.3`: `first-assertion` consumes the evil assertion,
//!   `last-assertion` the signed one);
//! - requires every scenario to be failed by some configuration (none is decoration) and every
//!   flaw except `error-page-with-200` to fail some scenario (the session oracle is not fooled
//!   by an error page served with HTTP 200: that flaw must fail nothing);
//! - freezes the JSON report of every configuration with insta.
//!
//! Scenarios that do not apply to the main SP (a public SP requiring Substantial) run on an SP
//! set up for them: a private SP, one requiring High, and one that requires the OIO BPP
//! privilege `urn:dk:mock:privilege:sagsbehandler` to log in (the `privilege.*` scenarios,
//! `applies.sp_privilege`; the SP's metadata then requests `privilegesIntermediate`, so it runs
//! only those, and every other report stays as it was). The OIOSAML 4.0 scenarios
//! (`applies.oiosaml = "4.0"`) run on 4.0 SPs: a public one requesting every attribute
//! profile, then a private one requesting Person/DK/WithoutCPR and Professional/DK (where a
//! Person/DK assertion is one it did not request). Their reports are frozen apart
//! (`saml4_<flaws>`), so the 3.0.3 reports stay as they were.

use mitid_harness::scenario::Protocol;
use mitid_harness::{Catalogue, Grade, Harness, RunReport, Verdict};
use mitid_mock_broker::saml::oiosaml4::OiosamlVersion;
use mitid_mock_broker::{Broker, Loa};
use mitid_reference::reference_sp::{AttributeProfile, Flaw, Oiosaml4Sp, ReferenceSp, SpConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The scenarios whose messages are malformed around the intact genuine signed login
/// (`harness/src/grade.rs`, `SignedPart::Malformed`): the only ones a FAIL may grade
/// `malformed-message`.
const MALFORMED: &[&str] = &[
    "parser.doctype-external-entity",
    "parser.doctype-bare",
    "parser.doctype-attlist",
    "parser.doctype-internal-entity",
    "parser.undeclared-prefix",
    "parser.roundtrip-go-encoding",
    "parser.entity-ref-id-encrypted",
    "parser.roundtrip-xmldom-namespace",
    "parser.duplicate-attribute",
];

type FlawSet = BTreeSet<Flaw>;

/// scenario id → the flaw sets (alternatives) that fail it, from the catalogue's `caught_by`
/// and `caught_by_together`.
fn annotations() -> BTreeMap<String, Vec<FlawSet>> {
    Catalogue::builtin()
        .protocol(Protocol::Saml)
        .iter()
        .map(|s| {
            let alts = s
                .caught_by
                .alternatives()
                .into_iter()
                .map(|alt| {
                    alt.into_iter()
                        .map(|f| {
                            f.parse::<Flaw>()
                                .unwrap_or_else(|e| panic!("{}: {e}", s.id))
                        })
                        .collect::<FlawSet>()
                })
                .collect();
            (s.id.clone(), alts)
        })
        .collect()
}

/// scenario id → the flaws that make it WARN (accepted, signed identity logged in).
fn warn_annotations() -> BTreeMap<String, FlawSet> {
    Catalogue::builtin()
        .protocol(Protocol::Saml)
        .iter()
        .map(|s| {
            let flaws = s
                .caught_by
                .warned
                .iter()
                .map(|f| {
                    f.parse::<Flaw>()
                        .unwrap_or_else(|e| panic!("{}: {e}", s.id))
                })
                .collect();
            (s.id.clone(), flaws)
        })
        .collect()
}

/// Scenarios `config` must WARN: a warned flaw is in it and no FAIL annotation applies.
fn expected_warn(
    warn: &BTreeMap<String, FlawSet>,
    failing: &BTreeSet<String>,
    config: &FlawSet,
) -> BTreeSet<String> {
    warn.iter()
        .filter(|(id, flaws)| !failing.contains(*id) && !flaws.is_disjoint(config))
        .map(|(id, _)| id.clone())
        .collect()
}

/// The configurations to run: strict, every single flaw, every combination annotated.
fn configs(ann: &BTreeMap<String, Vec<FlawSet>>) -> Vec<FlawSet> {
    let mut set: BTreeSet<FlawSet> = BTreeSet::new();
    set.insert(FlawSet::new());
    for f in Flaw::ALL {
        set.insert([*f].into());
    }
    for alts in ann.values() {
        for a in alts {
            set.insert(a.clone());
        }
    }
    set.into_iter().collect()
}

fn label(c: &FlawSet) -> String {
    if c.is_empty() {
        "strict".into()
    } else {
        c.iter().map(|f| f.id()).collect::<Vec<_>>().join("+")
    }
}

/// Scenarios `config` must fail: those with an annotated alternative contained in it.
fn expected(ann: &BTreeMap<String, Vec<FlawSet>>, config: &FlawSet) -> BTreeSet<String> {
    ann.iter()
        .filter(|(_, alts)| alts.iter().any(|a| a.is_subset(config)))
        .map(|(id, _)| id.clone())
        .collect()
}

/// The SP setups: (required LoA, private SP, OIOSAML 4.0 profiles requested or `None` for a
/// 3.0.3 SP, the OIO BPP privilege required to log in). Per version, the first runs everything
/// that applies to it; each later one runs only what no earlier setup could.
type Setup = (
    Loa,
    bool,
    Option<&'static [AttributeProfile]>,
    Option<&'static str>,
);
const SETUPS: &[Setup] = &[
    (Loa::Substantial, false, None, None),
    (Loa::Substantial, true, None, None),
    (Loa::High, false, None, None),
    (
        Loa::Substantial,
        false,
        None,
        Some(mitid_mock_broker::saml::bpp::MOCK_PRIVILEGE),
    ),
];
const SETUPS_4: &[Setup] = &[
    (Loa::Substantial, false, Some(&AttributeProfile::ALL), None),
    (
        Loa::Substantial,
        true,
        Some(&[
            AttributeProfile::PersonDkWithoutCpr,
            AttributeProfile::ProfessionalDk,
        ]),
        None,
    ),
];

/// The OIOSAML version a scenario is written for.
fn version_of(s: &mitid_harness::Scenario) -> OiosamlVersion {
    s.applies.oiosaml.unwrap_or(OiosamlVersion::V3)
}

async fn run_setup(flaws: &FlawSet, setup: &Setup, only: &[String]) -> RunReport {
    use mitid_mock_broker::saml::release::{ReleasePolicy, SpSector};
    let (loa, private, profiles, privilege) = *setup;
    // The private setup's broker treats the SP as private, as NemLog-in's registration does.
    let sector = if private {
        SpSector::Private
    } else {
        SpSector::Public
    };
    let broker = Arc::new(
        Broker::builder()
            .release_policy(ReleasePolicy {
                sector,
                ..Default::default()
            })
            .start()
            .await
            .unwrap(),
    );
    let mut cfg = SpConfig::new(broker.metadata_xml())
        .flaws(flaws.iter().copied())
        .required_loa(loa)
        .private_sp(private);
    if let Some(p) = privilege {
        cfg = cfg.required_privilege(p);
    }
    if let Some(p) = profiles {
        cfg.idp_metadata_xml = broker.metadata4_xml();
        cfg = cfg.oiosaml4(Oiosaml4Sp::for_service(private).requesting(p.iter().copied()));
    }
    let sp = ReferenceSp::start(cfg).await.unwrap();
    sp.register_with(&broker).unwrap();
    let cfg = sp.harness_config("reference-sp");
    let cat = Catalogue::builtin()
        .protocol(Protocol::Saml)
        .filter(only, &[])
        .unwrap();
    Harness::builder(cfg)
        .broker(broker)
        .catalogue(cat)
        .inspect(false)
        .concurrency(4)
        .build()
        .await
        .unwrap()
        .run()
        .await
}

/// The SAML catalogue's scenarios of `version` against the SP with `flaws`: one report, each
/// scenario from the first setup it applies to.
async fn run_all(flaws: FlawSet, version: OiosamlVersion) -> RunReport {
    let all: Vec<String> = Catalogue::builtin()
        .protocol(Protocol::Saml)
        .iter()
        .filter(|s| version_of(s) == version)
        .map(|s| s.id.clone())
        .collect();
    let setups = match version {
        OiosamlVersion::V3 => SETUPS,
        OiosamlVersion::V4 => SETUPS_4,
    };
    let mut todo = all;
    let mut report: Option<RunReport> = None;
    for setup in setups {
        if todo.is_empty() {
            break;
        }
        let r = run_setup(&flaws, setup, &todo).await;
        let skipped: Vec<String> = r
            .results
            .iter()
            .filter(|x| x.verdict == Verdict::Skipped)
            .map(|x| x.id.clone())
            .collect();
        match &mut report {
            None => report = Some(r),
            Some(rep) => {
                rep.results
                    .retain(|x| r.get(&x.id).is_none_or(|y| y.verdict == Verdict::Skipped));
                rep.results.extend(
                    r.results
                        .into_iter()
                        .filter(|x| x.verdict != Verdict::Skipped),
                );
            }
        }
        todo = skipped;
    }
    let mut rep = report.unwrap();
    rep.sort_and_recount();
    rep
}

fn ids(r: &RunReport, v: Verdict) -> BTreeSet<String> {
    r.ids_with(v).into_iter().map(str::to_string).collect()
}

/// The report as frozen: ports and durations redacted.
fn frozen(r: &RunReport) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap();
    v["duration_ms"] = 0.into();
    v["harness_version"] = "VERSION".into();
    for x in v["results"].as_array_mut().unwrap() {
        x["duration_ms"] = 0.into();
    }
    let text = serde_json::to_string(&v).unwrap();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("127.0.0.1:") {
        out.push_str(&rest[..i + "127.0.0.1:".len()]);
        rest = rest[i + "127.0.0.1:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push_str("PORT");
    }
    out.push_str(rest);
    serde_json::from_str(&out).unwrap()
}

/// A flawed SP's report as JSON Lines: the report's header, then one result per line without
/// the one-step scenarios' repeated step and the catalogue's static text (title, rationale, references: frozen once in the strict report
/// and the `list` snapshot), so a diff names exactly the scenarios whose verdict or evidence
/// changed.
fn frozen_lines(r: &RunReport) -> String {
    let mut v = frozen(r);
    let results = v["results"].take();
    v.as_object_mut().unwrap().remove("results");
    let mut out = serde_json::to_string(&v).unwrap();
    for mut x in results.as_array().cloned().unwrap_or_default() {
        let o = x.as_object_mut().unwrap();
        for k in ["title", "rationale", "references", "duration_ms"] {
            o.remove(k);
        }
        // A one-step scenario's step repeats the scenario's own verdict and message.
        if o["steps"].as_array().is_some_and(|s| s.len() == 1) {
            o.remove("steps");
        }
        out.push('\n');
        out.push_str(&serde_json::to_string(&x).unwrap());
    }
    out.push('\n');
    out
}

#[test]
fn every_scenario_is_annotated_and_failed_by_some_flaw() {
    // Every flaw name parses (annotations() panics on an unknown one), every scenario names at
    // least one way to fail it, and every flaw but the harmless one is named somewhere.
    let ann = annotations();
    assert!(!ann.is_empty());
    for (id, alts) in &ann {
        assert!(
            !alts.is_empty() && alts.iter().all(|a| !a.is_empty()),
            "{id}: no `caught_by` / `caught_by_together`"
        );
    }
    let mut used: BTreeSet<Flaw> = ann.values().flatten().flatten().copied().collect();
    used.extend(warn_annotations().into_values().flatten());
    let unused: Vec<_> = Flaw::ALL
        .iter()
        .filter(|f| **f != Flaw::ErrorPageWith200 && !used.contains(f))
        .collect();
    assert!(unused.is_empty(), "flaws no scenario names: {unused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_flaw_fails_exactly_its_scenarios() {
    let ann = Arc::new(annotations());
    let configs = configs(&ann);
    // Configurations run side by side, each on its own broker and SP: most of the time is
    // loopback round trips and RSA, so a few at once keep both cores busy.
    let sem = Arc::new(tokio::sync::Semaphore::new(3));
    let mut tasks = tokio::task::JoinSet::new();
    for c in configs {
        let sem = sem.clone();
        tasks.spawn(async move {
            let _permit = sem.acquire_owned().await;
            let r3 = run_all(c.clone(), OiosamlVersion::V3).await;
            let r4 = run_all(c.clone(), OiosamlVersion::V4).await;
            (c, r3, r4)
        });
    }
    let mut reports = BTreeMap::new();
    let mut reports4 = BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        let (c, rep3, rep4) = r.expect("configuration task panicked");
        reports.insert(c.clone(), rep3);
        reports4.insert(c, rep4);
    }
    // One combined report per configuration for the checks; frozen per version below.
    let combined: BTreeMap<FlawSet, RunReport> = reports
        .iter()
        .map(|(c, r3)| {
            let mut r = r3.clone();
            r.results.extend(reports4[c].results.iter().cloned());
            r.sort_and_recount();
            (c.clone(), r)
        })
        .collect();

    let warn = warn_annotations();
    let mut problems = Vec::new();
    let mut failed_somewhere = BTreeSet::new();
    // A flaw may only show in combination (no replay cache matters only when InResponseTo is
    // not checked either), but it must show somewhere.
    let mut flaws_that_fail = BTreeSet::new();
    for (c, r) in &combined {
        let want = expected(&ann, c);
        let want_warn = expected_warn(&warn, &want, c);
        let failed = ids(r, Verdict::Fail);
        let warned = ids(r, Verdict::Warn);
        let inconclusive = ids(r, Verdict::Inconclusive);
        let skipped = ids(r, Verdict::Skipped);
        if failed != want || warned != want_warn || !inconclusive.is_empty() || !skipped.is_empty()
        {
            let missing: BTreeSet<_> = want.difference(&failed).cloned().collect();
            let extra: BTreeSet<_> = failed.difference(&want).cloned().collect();
            let missing_warn: BTreeSet<_> = want_warn.difference(&warned).cloned().collect();
            let extra_warn: BTreeSet<_> = warned.difference(&want_warn).cloned().collect();
            problems.push(format!(
                "{}:\n  missing (should fail, did not):\n{}\n  extra (failed, should not):\n{}\n  missing WARN:\n{}\n  extra WARN:\n{}\n  inconclusive:\n{}\n  skipped: {skipped:?}",
                label(c),
                r.explain(&missing),
                r.explain(&extra),
                r.explain(&missing_warn),
                r.explain(&extra_warn),
                r.explain(&inconclusive),
            ));
        }
        // Grades: a WARN is always the signed identity; a FAIL that created a session where
        // the SP must reject is the forged one, or the malformed message (the whoami oracle
        // always names the identity).
        for x in &r.results {
            let ok = match (x.verdict, x.grade) {
                (Verdict::Warn, g) => g == Some(Grade::SignedIdentity),
                (_, Some(Grade::SignedIdentity) | Some(Grade::UnknownIdentity)) => false,
                (Verdict::Fail, Some(Grade::ForgedIdentity)) => x.observed_identity().is_some(),
                // A malformed message around the genuine login, which the SP logged in: only
                // the parser scenarios whose faults leave the signed assertion alone.
                (Verdict::Fail, Some(Grade::MalformedMessage)) => {
                    x.observed_identity().is_some() && MALFORMED.contains(&x.id.as_str())
                }
                _ => true,
            };
            if !ok {
                problems.push(format!(
                    "{}: {} is {} graded {:?}: {}",
                    label(c),
                    x.id,
                    x.verdict.as_str(),
                    x.grade,
                    x.message
                ));
            }
        }
        if !failed.is_empty() || !warned.is_empty() {
            flaws_that_fail.extend(c.iter().copied());
        }
        failed_somewhere.extend(failed);
    }
    let idle: Vec<_> = Flaw::ALL
        .iter()
        .filter(|f| **f != Flaw::ErrorPageWith200 && !flaws_that_fail.contains(*f))
        .collect();
    if !idle.is_empty() {
        problems.push(format!(
            "flaws that make no scenario fail or warn: {idle:?}"
        ));
    }
    let never: Vec<_> = ann
        .keys()
        .filter(|id| !failed_somewhere.contains(*id))
        .collect();
    if !never.is_empty() {
        problems.push(format!("scenarios no configuration fails: {never:?}"));
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );

    // Freeze every report: the strict one in full, each flawed one as JSON Lines.
    insta::with_settings!({snapshot_path => "../../snapshots/discrimination", prepend_module_to_snapshot => false}, {
        for (c, r) in &reports {
            let name = format!("saml_{}", label(c));
            if c.is_empty() {
                insta::assert_json_snapshot!(name, frozen(r));
            } else {
                insta::assert_snapshot!(name, frozen_lines(r));
            }
        }
        for (c, r) in &reports4 {
            let name = format!("saml4_{}", label(c));
            if c.is_empty() {
                insta::assert_json_snapshot!(name, frozen(r));
            } else {
                insta::assert_snapshot!(name, frozen_lines(r));
            }
        }
    });
}

/// The OIOSAML 4.0 scenarios against a 3.0.3 SP (strict and with every 4.0 flaw): all
/// SKIPPED, never FAIL; and the 3.0.3 scenarios against a 4.0 SP are not this test's business
/// (they are run on 3.0.3 SPs above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oiosaml4_scenarios_are_skipped_for_a_303_sp() {
    let only: Vec<String> = Catalogue::builtin()
        .protocol(Protocol::Saml)
        .iter()
        .filter(|s| version_of(s) == OiosamlVersion::V4)
        .map(|s| s.id.clone())
        .collect();
    assert!(only.len() >= 10, "the 4.0 scenarios are in the catalogue");
    let flaws: FlawSet = [
        Flaw::IgnoreAttributeProfile,
        Flaw::AcceptCprInAnyProfile,
        Flaw::Accept303VocabularyIn4,
    ]
    .into();
    for f in [FlawSet::new(), flaws] {
        let r = run_setup(&f, &SETUPS[0], &only).await;
        assert_eq!(r.results.len(), only.len());
        for x in &r.results {
            assert_eq!(x.verdict, Verdict::Skipped, "{}: {}", x.id, x.message);
            assert!(x.message.contains("OIOSAML 4.0"), "{}", x.message);
        }
    }
}
