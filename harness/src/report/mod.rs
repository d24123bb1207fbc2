//! Results and their renderings: coloured terminal table, stable JSON, JUnit XML, transcripts,
//! and a self-contained HTML page.

mod html;
mod junit;
mod terminal;

pub use html::{to_html, to_html_multi};
pub use junit::to_junit;
pub use terminal::to_terminal;

use crate::agent::Exchange;
use crate::oracle::Evidence;
use crate::scenario::{Expect, Scenario, Severity};
use serde::Serialize;
use std::time::Duration;

/// Schema version of the JSON report. Bump on any incompatible change.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// The SP did what it must.
    Pass,
    /// The SP did something it must not.
    Fail,
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
    }
}

/// Counts.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// PASS.
    pub passed: usize,
    /// FAIL.
    pub failed: usize,
    /// INCONCLUSIVE.
    pub inconclusive: usize,
    /// SKIPPED.
    pub skipped: usize,
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
    /// Wall time of the run.
    pub duration_ms: u64,
    /// Results, ordered by family then id.
    pub results: Vec<ScenarioResult>,
}

impl RunReport {
    pub(crate) fn new(
        sp: &str,
        evidence: Evidence,
        results: Vec<ScenarioResult>,
        took: Duration,
    ) -> Self {
        let mut r = RunReport {
            schema_version: JSON_SCHEMA_VERSION,
            harness_version: env!("CARGO_PKG_VERSION").into(),
            sp: sp.into(),
            evidence,
            summary: Summary::default(),
            duration_ms: took.as_millis() as u64,
            results,
        };
        r.sort_and_recount();
        r
    }

    /// Sort the results (by family, then id) and recompute the summary: after merging the
    /// results of several runs into one report (e.g. scenarios that need their own SP setup).
    pub fn sort_and_recount(&mut self) {
        self.results
            .sort_by(|a, b| (&a.family, &a.id).cmp(&(&b.family, &b.id)));
        let mut summary = Summary::default();
        for r in &self.results {
            match r.verdict {
                Verdict::Pass => summary.passed += 1,
                Verdict::Fail => summary.failed += 1,
                Verdict::Inconclusive => summary.inconclusive += 1,
                Verdict::Skipped => summary.skipped += 1,
            }
        }
        self.summary = summary;
    }

    /// `N passed, M failed, K inconclusive` (plus skipped when any).
    pub fn summary_line(&self) -> String {
        let s = self.summary;
        let mut l = format!(
            "{} passed, {} failed, {} inconclusive",
            s.passed, s.failed, s.inconclusive
        );
        if s.skipped > 0 {
            l.push_str(&format!(", {} skipped", s.skipped));
        }
        l
    }

    /// CLI exit code: 0 all pass, 1 any FAIL, 3 only INCONCLUSIVE (besides passes/skips).
    pub fn exit_code(&self) -> i32 {
        if self.summary.failed > 0 {
            1
        } else if self.summary.inconclusive > 0 {
            3
        } else {
            0
        }
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

    /// Panic with a readable report unless every applicable scenario passed (for `cargo test`).
    #[track_caller]
    pub fn assert_conformant(&self) {
        if self.summary.failed == 0 && self.summary.inconclusive == 0 {
            return;
        }
        let mut msg = format!("the SP is not conformant: {}\n", self.summary_line());
        for r in self
            .results
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Inconclusive))
        {
            msg.push_str(&format!(
                "\n{} {} — {}\n    {}\n",
                r.verdict.as_str(),
                r.id,
                r.title,
                r.message
            ));
            if r.verdict == Verdict::Fail {
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
