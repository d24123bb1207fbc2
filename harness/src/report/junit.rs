//! JUnit XML, as CI systems render it: one testsuite per family, FAIL as `<failure>`,
//! INCONCLUSIVE as `<error>`, SKIPPED as `<skipped>`.

use super::{RunReport, Verdict};
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

/// Render the report as JUnit XML.
pub fn to_junit(r: &RunReport) -> String {
    let mut fams: BTreeMap<&str, Vec<&super::ScenarioResult>> = BTreeMap::new();
    for x in &r.results {
        fams.entry(&x.family).or_default().push(x);
    }
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        r#"<testsuites name="mitid-harness: {}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{:.3}">"#,
        esc(&r.sp),
        r.results.len(),
        r.summary.failed,
        r.summary.inconclusive,
        r.summary.skipped,
        r.duration_ms as f64 / 1000.0
    );
    for (fam, xs) in fams {
        let count = |v: Verdict| xs.iter().filter(|x| x.verdict == v).count();
        let _ = writeln!(
            o,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}">"#,
            esc(fam),
            xs.len(),
            count(Verdict::Fail),
            count(Verdict::Inconclusive),
            count(Verdict::Skipped)
        );
        for x in xs {
            let _ = write!(
                o,
                r#"    <testcase classname="{}" name="{} — {}" time="{:.3}">"#,
                esc(fam),
                esc(&x.id),
                esc(&x.title),
                x.duration_ms as f64 / 1000.0
            );
            match x.verdict {
                Verdict::Pass => {}
                Verdict::Fail => {
                    let _ = write!(
                        o,
                        r#"<failure message="{}" type="{:?}">{}

Fix: {}
References: {}</failure>"#,
                        esc(&x.message),
                        x.severity,
                        esc(&x.message),
                        esc(&x.rationale),
                        esc(&x.references.join("; "))
                    );
                }
                Verdict::Inconclusive => {
                    let _ = write!(
                        o,
                        r#"<error message="{}" type="inconclusive"/>"#,
                        esc(&x.message)
                    );
                }
                Verdict::Skipped => {
                    let _ = write!(o, r#"<skipped message="{}"/>"#, esc(&x.message));
                }
            }
            o.push_str("</testcase>\n");
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}
