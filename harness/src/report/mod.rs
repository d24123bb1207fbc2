//! Results and their renderings: coloured terminal table, stable JSON (documented field by
//! field in `docs/report-json.md`), JUnit XML, SARIF 2.1.0, transcripts, and a self-contained
//! HTML page.

mod html;
mod junit;
mod sarif;
mod terminal;
#[cfg(test)]
mod tests;

pub use html::{to_html, to_html_multi};
pub use junit::to_junit;
pub use sarif::{to_sarif, to_sarif_all};
pub use terminal::to_terminal;

use crate::agent::Exchange;
use crate::gate::{AppliedWaiver, Baseline, GateOutcome, GatePolicy, GateStatus};
use crate::grade::Grade;
use crate::oracle::Evidence;
use crate::scenario::{Expect, Scenario, Severity};
use serde::Serialize;
use std::time::Duration;

/// Schema version of the JSON report. Bump on any incompatible change.
///
/// 2: `WARN` verdicts, `grade` on results and steps, `summary.warned` / `summary.waived`,
/// `waiver` on results, the `gate` object.
pub const JSON_SCHEMA_VERSION: u32 = 2;

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// The SP did what it must.
    Pass,
    /// The SP did something it must not: an exploitable or otherwise blocking finding.
    Fail,
    /// The SP accepted a message it must refuse, but logged in exactly the identity the broker
    /// genuinely signed for it ([`Grade::SignedIdentity`]): not exploitable through this
    /// message, still worth fixing.
    Warn,
    /// Could not be decided (SP unreachable, oracle ambiguous, timeout, broker refused).
    Inconclusive,
    /// Does not apply to this SP.
    Skipped,
}

impl Verdict {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Warn => "WARN",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::Skipped => "SKIPPED",
        }
    }
}

/// One step's result.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// Verdict.
    pub verdict: Verdict,
    /// What the SP did, in a sentence.
    pub message: String,
    /// Identity the SP reported, if any.
    pub observed_identity: Option<String>,
    /// Whose session, when the SP created one in a step it must reject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Scenario id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Family.
    pub family: String,
    /// Severity.
    pub severity: Severity,
    /// Expected outcome of the final step.
    pub expect: Expect,
    /// Verdict.
    pub verdict: Verdict,
    /// What the SP did (for FAIL: the one or two lines a developer needs).
    pub message: String,
    /// Whose session, when the SP created one where it must reject (the final step's grade).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// The baseline waiver that matched this finding, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<AppliedWaiver>,
    /// Evidence strength of the oracle.
    pub evidence: Option<Evidence>,
    /// Steps.
    pub steps: Vec<StepResult>,
    /// Rationale (what to fix).
    pub rationale: String,
    /// References.
    pub references: Vec<String>,
    /// Wall time.
    pub duration_ms: u64,
    /// Full transcript (not in the JSON report; written by --transcripts).
    #[serde(skip)]
    pub transcript: Vec<Exchange>,
}

impl ScenarioResult {
    pub(crate) fn new(s: &Scenario) -> Self {
        ScenarioResult {
            id: s.id.clone(),
            title: s.title.clone(),
            family: s.family.clone(),
            severity: s.severity,
            expect: s.final_expect(),
            verdict: Verdict::Inconclusive,
            message: String::new(),
            grade: None,
            waiver: None,
            evidence: None,
            steps: vec![],
            rationale: s.rationale.clone(),
            references: s.references.clone(),
            duration_ms: 0,
            transcript: vec![],
        }
    }

    /// A report entry for an inbound check (not a login scenario).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn inbound(
        id: String,
        title: String,
        family: String,
        severity: Severity,
        verdict: Verdict,
        message: String,
        rationale: String,
        references: Vec<String>,
    ) -> Self {
        ScenarioResult {
            id,
            title,
            family,
            severity,
            expect: Expect::Accept,
            verdict,
            message,
            grade: None,
            waiver: None,
            evidence: None,
            steps: vec![],
            rationale,
            references,
            duration_ms: 0,
            transcript: vec![],
        }
    }

    pub(crate) fn finish(&mut self, total_steps: usize) {
        let last = self.steps.last();
        self.verdict = match last {
            None => Verdict::Inconclusive,
            Some(l) if l.verdict == Verdict::Pass && self.steps.len() < total_steps => {
                Verdict::Inconclusive
            }
            Some(l) => l.verdict,
        };
        self.message = match (last, total_steps) {
            (None, _) => "no step ran".into(),
            (Some(l), 1) => l.message.clone(),
            (Some(l), n) => format!("step {} of {n}: {}", self.steps.len(), l.message),
        };
        self.grade = last.and_then(|l| l.grade);
    }

    /// The identity the SP reported in the last step that ran, if any.
    pub fn observed_identity(&self) -> Option<&str> {
        self.steps.last()?.observed_identity.as_deref()
    }

    /// True for a FAIL or WARN whose waiver has not expired.
    pub fn waived(&self) -> bool {
        matches!(self.verdict, Verdict::Fail | Verdict::Warn)
            && self.waiver.as_ref().is_some_and(|w| !w.expired)
    }
}

/// Counts.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// PASS.
    pub passed: usize,
    /// FAIL.
    pub failed: usize,
    /// WARN.
    pub warned: usize,
    /// INCONCLUSIVE.
    pub inconclusive: usize,
    /// SKIPPED.
    pub skipped: usize,
    /// FAIL and WARN findings waived by a current baseline waiver (also counted above).
    pub waived: usize,
}

/// `critical`, `high`, `medium`, `info`: as in scenario files and `--fail-on`.
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// JSON schema version.
    pub schema_version: u32,
    /// Harness version.
    pub harness_version: String,
    /// SP name.
    pub sp: String,
    /// Oracle evidence strength.
    pub evidence: Evidence,
    /// Counts.
    pub summary: Summary,
    /// The gate's decision: threshold, blocking findings, baseline, exit code.
    pub gate: GateOutcome,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// Results, ordered by family then id.
    pub results: Vec<ScenarioResult>,
    /// The gate policy the report was judged by (its threshold and WARN rule are in `gate`).
    #[serde(skip)]
    pub policy: GatePolicy,
    /// The run's date (from the harness's clock): what waivers expire against, and what a
    /// written baseline's expiry counts from.
    #[serde(skip)]
    pub date: time::Date,
}

impl RunReport {
    /// A report of `results`, judged by `policy` with `baseline`'s waivers on `date`.
    pub(crate) fn new(
        sp: &str,
        evidence: Evidence,
        results: Vec<ScenarioResult>,
        took: Duration,
        policy: GatePolicy,
        baseline: Option<&Baseline>,
        date: time::Date,
    ) -> Self {
        let mut r = RunReport {
            schema_version: JSON_SCHEMA_VERSION,
            harness_version: env!("CARGO_PKG_VERSION").into(),
            sp: sp.into(),
            evidence,
            summary: Summary::default(),
            gate: GateOutcome::default(),
            duration_ms: took.as_millis() as u64,
            results,
            policy,
            date,
        };
        r.apply_gate(baseline);
        r
    }

    /// Judge the report again: by another policy, or with (another) baseline, e.g. after
    /// merging several runs. Marks waived results and recomputes the summary and the gate.
    pub fn with_gate(mut self, policy: GatePolicy, baseline: Option<&Baseline>) -> Self {
        self.policy = policy;
        self.apply_gate(baseline);
        self
    }

    fn apply_gate(&mut self, baseline: Option<&Baseline>) {
        self.gate = crate::gate::evaluate(
            &self.sp,
            &mut self.results,
            &self.policy,
            baseline,
            self.date,
        );
        self.sort_and_recount();
    }

    /// Sort the results (by family, then id) and recompute the summary: after merging the
    /// results of several runs into one report (e.g. scenarios that need their own SP setup).
    /// Waivers already marked stay, and so do the baseline's name and stale list; the gate
    /// is decided again over the results (use [`RunReport::with_gate`] to apply a baseline to
    /// merged results afresh).
    pub fn sort_and_recount(&mut self) {
        self.results
            .sort_by(|a, b| (&a.family, &a.id).cmp(&(&b.family, &b.id)));
        let mut summary = Summary::default();
        for r in &self.results {
            match r.verdict {
                Verdict::Pass => summary.passed += 1,
                Verdict::Fail => summary.failed += 1,
                Verdict::Warn => summary.warned += 1,
                Verdict::Inconclusive => summary.inconclusive += 1,
                Verdict::Skipped => summary.skipped += 1,
            }
            if r.waived() {
                summary.waived += 1;
            }
        }
        self.summary = summary;
        let baseline = self.gate.baseline.clone();
        let checked = self.gate.waivers_checked_on;
        let stale = std::mem::take(&mut self.gate.stale_waivers);
        // Decide again over the (possibly merged) results, keeping the waivers as marked.
        let mut gate = crate::gate::decide(&self.results, &self.policy);
        gate.baseline = baseline;
        gate.waivers_checked_on = checked;
        gate.stale_waivers = stale;
        self.gate = gate;
    }

    /// `N passed, M failed, W warned, K inconclusive` (plus skipped and waived when any).
    pub fn summary_line(&self) -> String {
        let s = self.summary;
        let mut l = format!(
            "{} passed, {} failed, {} warned, {} inconclusive",
            s.passed, s.failed, s.warned, s.inconclusive
        );
        if s.skipped > 0 {
            l.push_str(&format!(", {} skipped", s.skipped));
        }
        if s.waived > 0 {
            l.push_str(&format!(" ({} waived)", s.waived));
        }
        l
    }

    /// The gate in a sentence: its status, threshold and what blocks.
    pub fn gate_line(&self) -> String {
        let g = &self.gate;
        let rule = format!(
            "fail on {}{}",
            severity_name(g.fail_on),
            if g.warn_fails { " (WARN too)" } else { "" }
        );
        match g.status {
            GateStatus::Passed => format!("gate passed ({rule})"),
            GateStatus::Failed => format!(
                "gate FAILED ({rule}): {} blocking finding{}",
                g.blocking.len(),
                if g.blocking.len() == 1 { "" } else { "s" }
            ),
            GateStatus::Inconclusive => format!(
                "gate INCONCLUSIVE ({rule}): scenarios at or above the threshold could not be decided"
            ),
            GateStatus::NothingTested => {
                "gate NOT PASSED: no applicable scenario ran (all skipped or none selected)".into()
            }
        }
    }

    /// CLI exit code, from the gate: 0 passed, 1 failed, 2 nothing tested, 3 inconclusive.
    pub fn exit_code(&self) -> i32 {
        self.gate.exit_code
    }

    /// A baseline waiving every finding of this run, expiring `days` after the run's date.
    pub fn baseline(&self, days: i64) -> Baseline {
        Baseline::from_report(self, self.date + time::Duration::days(days))
    }

    /// Stable JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Result by id.
    pub fn get(&self, id: &str) -> Option<&ScenarioResult> {
        self.results.iter().find(|r| r.id == id)
    }

    /// One indented line per named scenario (verdict, id, what the SP did), for failure
    /// messages that compare expected and observed verdict sets. Unknown ids are left out.
    pub fn explain<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> String {
        ids.into_iter()
            .filter_map(|id| self.get(id))
            .map(|x| format!("    {} {}: {}", x.verdict.as_str(), x.id, x.message))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Ids with a given verdict.
    pub fn ids_with(&self, v: Verdict) -> Vec<&str> {
        self.results
            .iter()
            .filter(|r| r.verdict == v)
            .map(|r| r.id.as_str())
            .collect()
    }

    /// Panic with a readable report unless the gate passed (for `cargo test`): no unwaived
    /// finding at or above the threshold ([`GatePolicy`]), nothing at or above it
    /// inconclusive, and at least one applicable scenario ran — a run in which everything
    /// was skipped is never conformant.
    #[track_caller]
    pub fn assert_conformant(&self) {
        if self.gate.status == GateStatus::Passed {
            return;
        }
        let mut msg = format!(
            "the SP is not conformant: {}; {}\n",
            self.gate_line(),
            self.summary_line()
        );
        if self.gate.status == GateStatus::NothingTested {
            msg.push_str(
                "\nno scenario applied to this SP: check the catalogue selection, the protocol and sp.toml's profiles / required_loa\n",
            );
        }
        let policy = &self.policy;
        for r in self.results.iter().filter(|r| {
            (!r.waived() && policy.blocks(r.verdict, r.severity))
                || (r.verdict == Verdict::Inconclusive && r.severity >= policy.fail_on)
        }) {
            msg.push_str(&format!(
                "\n{} {} — {}\n    {}\n",
                r.verdict.as_str(),
                r.id,
                r.title,
                r.message
            ));
            if let Some(w) = r.waiver.as_ref().filter(|w| w.expired) {
                msg.push_str(&format!(
                    "    waiver expired on {}: {}\n",
                    w.expires, w.reason
                ));
            }
            if matches!(r.verdict, Verdict::Fail | Verdict::Warn) {
                msg.push_str(&format!("    fix: {}\n", r.rationale.replace('\n', " ")));
            }
            msg.push_str("    what the SP did:\n");
            for e in r.transcript.iter().filter(|e| e.method != "NOTE").take(12) {
                msg.push_str(&format!(
                    "      {} {} → {}{}\n",
                    e.method,
                    e.url,
                    e.status,
                    e.headers
                        .iter()
                        .find(|(k, _)| k == "location")
                        .map(|(_, v)| format!(" (Location: {v})"))
                        .unwrap_or_default()
                ));
            }
        }
        panic!("{msg}");
    }

    /// Write one transcript file per scenario (JSON) into `dir`.
    pub fn write_transcripts(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for r in &self.results {
            #[derive(Serialize)]
            struct T<'a> {
                id: &'a str,
                verdict: Verdict,
                message: &'a str,
                exchanges: &'a [Exchange],
            }
            let t = T {
                id: &r.id,
                verdict: r.verdict,
                message: &r.message,
                exchanges: &r.transcript,
            };
            let name: String =
                r.id.chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
            std::fs::write(
                dir.join(format!("{name}.json")),
                serde_json::to_string_pretty(&t).unwrap_or_default(),
            )?;
        }
        Ok(())
    }
}
