//! JUnit XML, as CI systems render it: one testsuite per family, FAIL as `<failure>`,
//! INCONCLUSIVE as `<error>`, SKIPPED as `<skipped>`.
//!
//! A WARN (the SP accepted a message it must refuse but logged in the identity the broker
//! genuinely signed) is a `<failure type="warn">` only when the gate blocks on WARN; otherwise a
//! passing testcase whose `<system-out>` says WARN, so CI stays as green as the gate. A finding
//! waived by the baseline is `<skipped>` with a message that starts "waived until": still listed,
//! not red. Every testsuite counts its WARNs and waivers in `warnings` and `waived` attributes
//! (beside the standard ones, which count the elements actually written).

use super::{RunReport, ScenarioResult, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write;

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// How one result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Passed,
    /// Passed, with a WARN in system-out.
    Warned,
    Failure,
    Error,
    Skipped,
    Waived,
}

fn case(r: &RunReport, x: &ScenarioResult) -> Case {
    if x.waived() {
        return Case::Waived;
    }
    match x.verdict {
        Verdict::Pass => Case::Passed,
        Verdict::Fail => Case::Failure,
        Verdict::Warn if r.gate.blocking.contains(&x.id) => Case::Failure,
        Verdict::Warn => Case::Warned,
        Verdict::Inconclusive => Case::Error,
        Verdict::Skipped => Case::Skipped,
    }
}

/// The counting attributes of a testsuite(s) element.
fn counts(r: &RunReport, xs: &[&ScenarioResult]) -> String {
    let n = |c: Case| xs.iter().filter(|x| case(r, x) == c).count();
    format!(
        r#"tests="{}" failures="{}" errors="{}" skipped="{}" warnings="{}" waived="{}""#,
        xs.len(),
        n(Case::Failure),
        n(Case::Error),
        n(Case::Skipped) + n(Case::Waived),
        xs.iter().filter(|x| x.verdict == Verdict::Warn).count(),
        n(Case::Waived),
    )
}

/// Render the report as JUnit XML.
pub fn to_junit(r: &RunReport) -> String {
    let mut fams: BTreeMap<&str, Vec<&ScenarioResult>> = BTreeMap::new();
    for x in &r.results {
        fams.entry(&x.family).or_default().push(x);
    }
    let all: Vec<&ScenarioResult> = r.results.iter().collect();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        r#"<testsuites name="mitid-harness: {}" {} time="{:.3}">"#,
        esc(&r.sp),
        counts(r, &all),
        r.duration_ms as f64 / 1000.0
    );
    for (fam, xs) in fams {
        let _ = writeln!(o, r#"  <testsuite name="{}" {}>"#, esc(fam), counts(r, &xs));
        for x in xs {
            let _ = write!(
                o,
                r#"    <testcase classname="{}" name="{} — {}" time="{:.3}">"#,
                esc(fam),
                esc(&x.id),
                esc(&x.title),
                x.duration_ms as f64 / 1000.0
            );
            let expired = x
                .waiver
                .as_ref()
                .filter(|w| w.expired)
                .map(|w| format!("\n\nWaiver expired on {}: {}", w.expires, w.reason))
                .unwrap_or_default();
            match case(r, x) {
                Case::Passed => {}
                Case::Warned => {
                    let _ = write!(
                        o,
                        "<system-out>WARN ({:?}): {}\n\nFix: {}</system-out>",
                        x.severity,
                        esc(&x.message),
                        esc(&x.rationale)
                    );
                }
                Case::Failure => {
                    let _ = write!(
                        o,
                        r#"<failure message="{}" type="{}">{}: {}{}

Fix: {}
References: {}</failure>"#,
                        esc(&x.message),
                        if x.verdict == Verdict::Warn {
                            "warn".to_string()
                        } else {
                            format!("{:?}", x.severity)
                        },
                        x.verdict.as_str(),
                        esc(&x.message),
                        esc(&expired),
                        esc(&x.rationale),
                        esc(&x.references.join("; "))
                    );
                }
                Case::Error => {
                    let _ = write!(
                        o,
                        r#"<error message="{}" type="inconclusive"/>"#,
                        esc(&x.message)
                    );
                }
                Case::Skipped => {
                    let _ = write!(o, r#"<skipped message="{}"/>"#, esc(&x.message));
                }
                Case::Waived => {
                    let (until, reason) = x
                        .waiver
                        .as_ref()
                        .map(|w| (w.expires.to_string(), w.reason.clone()))
                        .unwrap_or_default();
                    let _ = write!(
                        o,
                        r#"<skipped message="waived until {until}: {} — {}: {}"/>"#,
                        esc(&reason),
                        x.verdict.as_str(),
                        esc(&x.message)
                    );
                }
            }
            o.push_str("</testcase>\n");
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}
