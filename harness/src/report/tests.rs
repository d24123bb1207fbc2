//! Every report format, frozen for one fixed report that holds every verdict, every grade, a
//! waived finding, an expired waiver and a stale one.

use super::*;
use crate::gate::{Baseline, GatePolicy};
use crate::grade::Grade;
use time::macros::date;

fn result(
    id: &str,
    family: &str,
    severity: Severity,
    expect: Expect,
    verdict: Verdict,
    grade: Option<Grade>,
    message: &str,
) -> ScenarioResult {
    let mut r = ScenarioResult::inbound(
        id.into(),
        format!("title of {id}"),
        family.into(),
        severity,
        verdict,
        message.into(),
        format!("Rationale of {id}: what to fix."),
        vec![format!("reference of {id}")],
    );
    r.expect = expect;
    r.grade = grade;
    r.evidence = Some(Evidence::Whoami);
    r.duration_ms = 12;
    r.steps = vec![StepResult {
        verdict,
        message: message.into(),
        observed_identity: grade.map(|_| "8f3c2b1a-4d5e-4f60-8a7b-1c2d3e4f5a02".into()),
        grade,
    }];
    r
}

/// The fixed report: judged with the default gate (fail on high, WARN does not block) and a
/// baseline, on 2026-12-03.
pub(super) fn fixed_report() -> RunReport {
    use Expect::{Accept, Reject};
    use Severity::{Critical, High, Info, Medium};
    let results = vec![
        result(
            "mitid.person-substantial",
            "mitid",
            Critical,
            Accept,
            Verdict::Pass,
            None,
            "logged in as the right identity",
        ),
        result(
            "xsw.3",
            "xsw",
            Critical,
            Reject,
            Verdict::Fail,
            Some(Grade::ForgedIdentity),
            "the SP logged in \"…a02\" from the forged part of a response it must reject",
        ),
        result(
            "xsw.7",
            "xsw",
            Critical,
            Reject,
            Verdict::Warn,
            Some(Grade::SignedIdentity),
            "the SP accepted a response it must reject, but logged in \"…a01\", the identity the broker genuinely signed",
        ),
        result(
            "xsw.4",
            "xsw",
            Critical,
            Reject,
            Verdict::Fail,
            Some(Grade::UnknownIdentity),
            "whether the session belongs to the signed identity or the forged one is unknown",
        ),
        result(
            "parser.doctype-bare",
            "parser",
            High,
            Reject,
            Verdict::Fail,
            Some(Grade::MalformedMessage),
            "the SP accepted a malformed message it must refuse unread; the session is \"…a02\", the genuine signed user (anna): no identity forged",
        ),
        result(
            "signature.sha1",
            "signature",
            Medium,
            Reject,
            Verdict::Fail,
            Some(Grade::ForgedIdentity),
            "the SP created a session although it must reject this response",
        ),
        result(
            "timing.conditions-expired",
            "timing",
            High,
            Reject,
            Verdict::Fail,
            Some(Grade::ForgedIdentity),
            "the SP created a session <as \"a&b\"> although it must reject this response",
        ),
        result(
            "binding.recipient-wrong",
            "binding",
            High,
            Reject,
            Verdict::Fail,
            Some(Grade::ForgedIdentity),
            "the SP created a session although it must reject this response",
        ),
        result(
            "mitid.seven-digit-fractions",
            "mitid",
            Info,
            Accept,
            Verdict::Inconclusive,
            None,
            "SP unreachable or too slow",
        ),
        result(
            "mitid.professional-minimal",
            "mitid",
            High,
            Accept,
            Verdict::Skipped,
            None,
            "the SP does not accept Professional logins (sp.toml profiles)",
        ),
    ];
    let baseline = Baseline::from_toml_str(
        r#"
[[waiver]]
id = "timing.conditions-expired"
reason = "clock checks move to the gateway, PROJ-1"
expires = 2027-01-31

[[waiver]]
id = "binding.recipient-wrong"
reason = "was due last month, PROJ-2"
expires = 2026-11-30

[[waiver]]
id = "audience.wrong"
reason = "fixed in 2.3"
expires = 2027-01-31
sp = "fixed-sp"
"#,
        "mitid-baseline.toml",
    )
    .unwrap();
    RunReport::new(
        "fixed-sp",
        Evidence::Whoami,
        results,
        Duration::from_millis(1234),
        GatePolicy::default(),
        Some(&baseline),
        date!(2026 - 12 - 03),
    )
}

fn frozen_json(r: &RunReport) -> String {
    let mut v = serde_json::to_value(r).unwrap();
    v["harness_version"] = "VERSION".into();
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn the_fixed_report_is_judged_as_documented() {
    let r = fixed_report();
    let s = r.summary;
    assert_eq!(
        (
            s.passed,
            s.failed,
            s.warned,
            s.inconclusive,
            s.skipped,
            s.waived
        ),
        (1, 6, 1, 1, 1, 1)
    );
    // xsw.3 and xsw.4 (forged, unknown) block, and so does the malformed message (a FAIL
    // like any other); the WARN does not; sha1 is below the threshold; the expired waiver
    // waives nothing.
    assert_eq!(
        r.gate.blocking,
        [
            "binding.recipient-wrong",
            "parser.doctype-bare",
            "xsw.3",
            "xsw.4"
        ]
    );
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.gate.stale_waivers.len(), 1);
    let strict = r.clone().with_gate(
        GatePolicy {
            fail_on: Severity::Info,
            warn_fails: true,
            baseline: None,
        },
        None,
    );
    assert_eq!(strict.gate.blocking.len(), 7);
    assert_eq!(strict.summary.waived, 0);
    // JSON is one value and names the schema version.
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(v["schema_version"], JSON_SCHEMA_VERSION);
}

#[test]
fn every_format_is_frozen() {
    let r = fixed_report();
    insta::with_settings!({snapshot_path => "../../../snapshots/report", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("terminal", anstream::adapter::strip_str(&to_terminal(&r)).to_string());
        insta::assert_snapshot!("json", frozen_json(&r));
        insta::assert_snapshot!("junit", to_junit(&r).replace(env!("CARGO_PKG_VERSION"), "VERSION"));
        insta::assert_snapshot!("sarif", to_sarif(&r, Some("sp.toml")).replace(env!("CARGO_PKG_VERSION"), "VERSION"));
    });
}

#[test]
fn sarif_is_valid_shape() {
    let r = fixed_report();
    let v: serde_json::Value = serde_json::from_str(&to_sarif(&r, None)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    // FAIL, WARN and INCONCLUSIVE results; each points at its rule.
    assert_eq!(results.len(), 8);
    for res in results {
        let i = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
        assert!(res["locations"][0]["physicalLocation"].is_null());
    }
    let by_id = |id: &str| results.iter().find(|x| x["ruleId"] == id).unwrap();
    assert_eq!(by_id("xsw.3")["level"], "error");
    assert_eq!(by_id("xsw.7")["level"], "warning");
    assert_eq!(by_id("parser.doctype-bare")["level"], "error");
    assert_eq!(
        by_id("parser.doctype-bare")["properties"]["grade"],
        "malformed-message"
    );
    assert_eq!(by_id("signature.sha1")["level"], "warning");
    assert_eq!(by_id("mitid.seven-digit-fractions")["kind"], "review");
    assert_eq!(
        by_id("timing.conditions-expired")["suppressions"][0]["status"],
        "accepted"
    );
    assert!(by_id("binding.recipient-wrong")["suppressions"].is_null());
}

#[test]
fn nothing_tested_is_never_conformant() {
    let mut r = fixed_report();
    r.results.retain(|x| x.verdict == Verdict::Skipped);
    let r = r.with_gate(GatePolicy::default(), None);
    assert_eq!(r.exit_code(), 2);
    let e = std::panic::catch_unwind(|| r.assert_conformant()).unwrap_err();
    let msg = e.downcast_ref::<String>().unwrap();
    assert!(msg.contains("no applicable scenario ran"), "{msg}");
    let empty = r.clone().with_gate(GatePolicy::default(), None);
    let mut empty = empty;
    empty.results.clear();
    let empty = empty.with_gate(GatePolicy::default(), None);
    assert!(std::panic::catch_unwind(|| empty.assert_conformant()).is_err());
}

#[test]
fn assert_conformant_follows_the_gate() {
    let r = fixed_report();
    let e = std::panic::catch_unwind(|| r.assert_conformant()).unwrap_err();
    let msg = e.downcast_ref::<String>().unwrap().clone();
    assert!(msg.contains("xsw.3") && msg.contains("xsw.4"), "{msg}");
    assert!(msg.contains("waiver expired on 2026-11-30"), "{msg}");
    // Not the WARN, not the medium FAIL, not the waived one.
    assert!(!msg.contains("\nWARN xsw.7"), "{msg}");
    assert!(!msg.contains("signature.sha1"), "{msg}");
    assert!(!msg.contains("FAIL timing.conditions-expired"), "{msg}");
    // Waive everything blocking: conformant.
    let b = r.baseline(90);
    assert_eq!(b.waivers.len(), 7);
    assert!(
        b.waivers
            .iter()
            .all(|w| w.sp.as_deref() == Some("fixed-sp"))
    );
    let waived = r.clone().with_gate(GatePolicy::default(), Some(&b));
    waived.assert_conformant();
    assert_eq!(waived.gate.status, GateStatus::Passed);
    assert_eq!(waived.summary.waived, 7);
    // The reviewed reason survives a rewrite; the expired one gets the placeholder and a
    // fresh expiry.
    let w = |id: &str| b.waivers.iter().find(|w| w.id == id).unwrap().clone();
    assert_eq!(
        w("timing.conditions-expired").reason,
        "clock checks move to the gateway, PROJ-1"
    );
    assert_eq!(
        w("binding.recipient-wrong").reason,
        crate::gate::PLACEHOLDER_REASON
    );
    assert_eq!(w("binding.recipient-wrong").expires, date!(2027 - 03 - 03));
}
