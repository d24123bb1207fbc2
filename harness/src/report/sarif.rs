//! SARIF 2.1.0, for code-scanning views (GitHub code scanning, GitLab, IDE SARIF viewers).
//!
//! One rule per scenario that produced a finding (rule id = scenario id; name, short
//! description = title, help = rationale and references, `security-severity` from the
//! scenario's severity), one result per FAIL, WARN or INCONCLUSIVE. A result's level comes
//! from its verdict and severity: a FAIL is an `error` at critical/high, a `warning` at medium,
//! a `note` at info; a WARN (signed identity: not exploitable through this message) is one step
//! lower; a FAIL graded `malformed-message` (a malformed message accepted, no identity forged)
//! is a FAIL like any other, so an `error` at high; an INCONCLUSIVE is kind `review`, level
//! `none`. The grade is in the result's `properties.grade`. A finding waived by the baseline
//! carries an accepted external suppression with the waiver's reason, so viewers show it as
//! dismissed rather than dropping it. PASS and SKIPPED scenarios are not results.
//!
//! The SP under test is not a source file; results name it as a logical location, and as a
//! physical one (`artifact`, e.g. the sp.toml path) when the caller gives one, since some
//! viewers (GitHub) need a file to attach results to.

use super::{RunReport, ScenarioResult, Verdict, severity_name};
use crate::scenario::Severity;
use serde_json::{Value, json};

/// GitHub's `security-severity`: a CVSS-like score that sorts findings into its own
/// critical / high / medium / low buckets.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.0",
        Severity::Info => "1.0",
    }
}

/// SARIF `kind` and `level` for a result.
fn kind_and_level(r: &ScenarioResult) -> Option<(&'static str, &'static str)> {
    let by_severity = |s: Severity| match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Info => "note",
    };
    match r.verdict {
        Verdict::Fail => Some(("fail", by_severity(r.severity))),
        Verdict::Warn => Some((
            "fail",
            match by_severity(r.severity) {
                "error" => "warning",
                _ => "note",
            },
        )),
        Verdict::Inconclusive => Some(("review", "none")),
        Verdict::Pass | Verdict::Skipped => None,
    }
}

fn rule(r: &ScenarioResult) -> Value {
    let mut help = r.rationale.replace('\n', " ");
    if !r.references.is_empty() {
        help.push_str("\n\nReferences: ");
        help.push_str(&r.references.join("; "));
    }
    let mut markdown = r.rationale.replace('\n', " ");
    if !r.references.is_empty() {
        markdown.push_str("\n\n**References**\n");
        for x in &r.references {
            markdown.push_str(&format!("- {x}\n"));
        }
    }
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": { "text": r.title },
        "fullDescription": { "text": r.title },
        "help": { "text": help, "markdown": markdown },
        "defaultConfiguration": {
            "level": match r.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                Severity::Info => "note",
            }
        },
        "properties": {
            "tags": ["security", r.family],
            "security-severity": security_severity(r.severity),
            "severity": severity_name(r.severity),
            "expect": r.expect,
        }
    })
}

/// Render the report as SARIF 2.1.0. `artifact` is a file the results may point at (the
/// sp.toml path as given on the command line), if any.
pub fn to_sarif(report: &RunReport, artifact: Option<&str>) -> String {
    document(vec![run(report, artifact)])
}

/// Several reports (the demo's SPs) as one SARIF log, one run each.
pub fn to_sarif_all(reports: &[RunReport], artifact: Option<&str>) -> String {
    document(reports.iter().map(|r| run(r, artifact)).collect())
}

fn document(runs: Vec<Value>) -> String {
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": runs,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn run(report: &RunReport, artifact: Option<&str>) -> Value {
    let findings: Vec<(&ScenarioResult, (&str, &str))> = report
        .results
        .iter()
        .filter_map(|r| kind_and_level(r).map(|kl| (r, kl)))
        .collect();
    let rules: Vec<Value> = findings.iter().map(|(r, _)| rule(r)).collect();
    let results: Vec<Value> = findings
        .iter()
        .enumerate()
        .map(|(i, (r, (kind, level)))| {
            let mut location = json!({
                "logicalLocations": [{
                    "name": report.sp,
                    "fullyQualifiedName": format!("{}/{}", report.sp, r.id),
                    "kind": "module",
                }]
            });
            if let Some(a) = artifact {
                location["physicalLocation"] = json!({
                    "artifactLocation": { "uri": a },
                    "region": { "startLine": 1 }
                });
            }
            let mut properties = json!({
                "verdict": r.verdict,
                "severity": severity_name(r.severity),
                "family": r.family,
                "blocking": report.gate.blocking.contains(&r.id),
            });
            if let Some(g) = r.grade {
                properties["grade"] = json!(g);
            }
            if let Some(e) = r.evidence {
                properties["evidence"] = json!(e);
            }
            let mut res = json!({
                "ruleId": r.id,
                "ruleIndex": i,
                "kind": kind,
                "level": level,
                "message": { "text": format!("{}: {}", r.verdict.as_str(), r.message) },
                "locations": [location],
                "partialFingerprints": {
                    "mitidHarnessFinding/v1": format!("{}/{}", report.sp, r.id)
                },
                "properties": properties,
            });
            if let Some(w) = &r.waiver {
                if w.expired {
                    res["properties"]["waiverExpired"] = json!(w.expires.to_string());
                } else {
                    res["suppressions"] = json!([{
                        "kind": "external",
                        "status": "accepted",
                        "justification": format!("{} (waived until {})", w.reason, w.expires),
                    }]);
                }
            }
            res
        })
        .collect();
    json!({
        "tool": {
            "driver": {
                "name": "mitid-harness",
                "version": report.harness_version,
                "rules": rules,
            }
        },
        "automationDetails": { "id": format!("mitid-harness/{}/", report.sp) },
        "invocations": [{
            "executionSuccessful": true,
            "exitCode": report.gate.exit_code,
            "properties": { "gate": report.gate, "summary": report.summary }
        }],
        "results": results,
    })
}
