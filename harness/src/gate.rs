//! The release gate: which findings block, which are waived, and the exit code.
//!
//! A conformance run produces findings; a team decides what blocks a release. Three knobs,
//! each in `sp.toml`'s `[gate]` table, on the command line and in the Rust API:
//!
//! - **threshold** (`fail_on`, `--fail-on`): an unwaived FAIL at or above this severity fails
//!   the gate. The default is [`Severity::High`]: what a security reviewer blocks a release on —
//!   an attacker or a NemID-era login gets in (critical), a replayed, expired, mis-addressed or
//!   downgraded assertion is accepted, or a genuine MitID login is refused (high). Medium and
//!   info findings (defence in depth, interoperability niceties) are reported but do not block
//!   until the threshold is lowered.
//! - **WARN** (`warn_fails`, `--warn-fails`): whether a WARN (the SP accepted a message it must
//!   refuse but logged in the identity the broker genuinely signed; see [`crate::grade`]) at or
//!   above the threshold fails the gate. Default no: not exploitable, so not a blocker; still
//!   reported and counted.
//! - **baseline** (`baseline`, `--baseline FILE`): a reviewed file of waivers ([`Baseline`]),
//!   each a scenario id, a reason and an expiry date, so a service can adopt the gate with its
//!   known findings accepted and burn them down. A waived finding is still reported, marked
//!   waived; an expired waiver waives nothing (the finding fails again); a waiver that matches
//!   no finding is reported as stale (a warning: delete it), never a failure.
//!
//! Exit codes ([`GateOutcome::exit_code`]): 0 the gate passed; 1 it failed (an unwaived
//! blocking finding); 2 nothing was tested (no applicable scenario ran: all SKIPPED, or none
//! selected — never green; the CLI also uses 2 for configuration errors); 3 no blocking
//! finding, but a scenario at or above the threshold was INCONCLUSIVE (the harness could not
//! decide: fix the setup and run again).

use crate::report::{RunReport, ScenarioResult, Verdict};
use crate::scenario::Severity;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use time::Date;

/// The `[gate]` table of sp.toml, and the CLI's `--fail-on` / `--warn-fails` / `--baseline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatePolicy {
    /// An unwaived FAIL at or above this severity fails the gate (default `high`).
    #[serde(default = "default_fail_on")]
    pub fail_on: Severity,
    /// Whether an unwaived WARN at or above `fail_on` fails the gate too (default false).
    #[serde(default)]
    pub warn_fails: bool,
    /// Baseline file of waivers (relative to sp.toml), if any.
    #[serde(default, skip_serializing)]
    pub baseline: Option<PathBuf>,
}

fn default_fail_on() -> Severity {
    Severity::High
}

impl Default for GatePolicy {
    fn default() -> Self {
        GatePolicy {
            fail_on: default_fail_on(),
            warn_fails: false,
            baseline: None,
        }
    }
}

impl GatePolicy {
    /// Whether a finding with this verdict and severity blocks (before waivers).
    pub fn blocks(&self, verdict: Verdict, severity: Severity) -> bool {
        let at_threshold = severity >= self.fail_on;
        match verdict {
            Verdict::Fail => at_threshold,
            Verdict::Warn => at_threshold && self.warn_fails,
            Verdict::Pass | Verdict::Inconclusive | Verdict::Skipped => false,
        }
    }
}

/// One reviewed, accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// Scenario (or inbound check) id, exactly as in the report.
    pub id: String,
    /// Why the finding is accepted, who reviewed it, the ticket that fixes it.
    pub reason: String,
    /// Last day the waiver holds (inclusive); from the next day the finding fails again.
    #[serde(with = "toml_date")]
    pub expires: Date,
    /// Only for the SP with this name (sp.toml `name`); absent: any SP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp: Option<String>,
}

/// A baseline: the waivers a team has reviewed (TOML, `[[waiver]]` tables).
///
/// ```toml
/// [[waiver]]
/// id = "signature.sha1"
/// reason = "SHA-1 accepted by our SAML library's defaults; fix in PROJ-123 (reviewed by A.B.)"
/// expires = 2027-03-31
/// sp = "my-service"      # optional
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// The waivers.
    #[serde(default, rename = "waiver")]
    pub waivers: Vec<Waiver>,
    /// Where it was read from (for the report), if from a file.
    #[serde(skip)]
    pub origin: Option<String>,
}

/// The reason a written baseline carries until someone reviews it.
pub const PLACEHOLDER_REASON: &str = "UNREVIEWED: accepted when the gate was adopted; replace with who reviewed it, why, and the fixing ticket";

/// Errors reading a baseline.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// IO.
    #[error("cannot read baseline {path}: {message}")]
    Io {
        /// Path.
        path: String,
        /// Message.
        message: String,
    },
    /// Not a valid baseline.
    #[error("{origin} is not a valid baseline: {message}")]
    Invalid {
        /// Origin.
        origin: String,
        /// Message (with line where the parser knows it).
        message: String,
    },
}

impl Baseline {
    /// Parse baseline TOML; `origin` names it in errors and in the report.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Baseline, BaselineError> {
        let invalid = |message: String| BaselineError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let mut b: Baseline = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut seen = std::collections::BTreeSet::new();
        for w in &b.waivers {
            if w.id.trim().is_empty() {
                return Err(invalid("a waiver has an empty id".into()));
            }
            if w.reason.trim().is_empty() {
                return Err(invalid(format!(
                    "waiver {:?} has no reason; say why the finding is accepted",
                    w.id
                )));
            }
            if !seen.insert((w.id.as_str(), w.sp.as_deref())) {
                return Err(invalid(format!("waiver {:?} is listed twice", w.id)));
            }
        }
        b.origin = Some(origin.to_string());
        Ok(b)
    }

    /// Read a baseline file.
    pub fn from_file(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// A baseline waiving every finding (FAIL and WARN) of `report`, with the placeholder
    /// reason and `expires`, for the SP the report names: how an existing service adopts the
    /// gate at once. Already waived findings keep their waiver.
    pub fn from_report(report: &RunReport, expires: Date) -> Baseline {
        let waivers = report
            .results
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Fail | Verdict::Warn))
            .map(|r| match &r.waiver {
                Some(w) if !w.expired => Waiver {
                    id: r.id.clone(),
                    reason: w.reason.clone(),
                    expires: w.expires,
                    sp: Some(report.sp.clone()),
                },
                _ => Waiver {
                    id: r.id.clone(),
                    reason: PLACEHOLDER_REASON.into(),
                    expires,
                    sp: Some(report.sp.clone()),
                },
            })
            .collect();
        Baseline {
            waivers,
            origin: None,
        }
    }

    /// The baseline as TOML, with a header saying what it is.
    pub fn to_toml(&self) -> String {
        let mut o = String::from(
            "# mitid-harness baseline: reviewed findings the gate accepts until they expire.\n\
             # Each waiver names a scenario id, why it is accepted, and the last day it holds.\n\
             # Waived findings are still reported; an expired waiver fails the gate again.\n",
        );
        for w in &self.waivers {
            o.push_str("\n[[waiver]]\n");
            o.push_str(&format!("id = {}\n", toml_string(&w.id)));
            o.push_str(&format!("reason = {}\n", toml_string(&w.reason)));
            o.push_str(&format!("expires = {}\n", w.expires));
            if let Some(sp) = &w.sp {
                o.push_str(&format!("sp = {}\n", toml_string(sp)));
            }
        }
        o
    }

    fn find(&self, sp: &str, id: &str) -> Option<&Waiver> {
        self.waivers
            .iter()
            .find(|w| w.id == id && w.sp.as_deref().is_none_or(|s| s == sp))
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A waiver as applied to a result in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedWaiver {
    /// The waiver's reason.
    pub reason: String,
    /// Its last day.
    #[serde(serialize_with = "toml_date::serialize")]
    pub expires: Date,
    /// True when it expired before the run's date: it waives nothing.
    pub expired: bool,
}

/// A waiver that matched no finding of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleWaiver {
    /// Its id.
    pub id: String,
    /// Its SP restriction, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sp: Option<String>,
    /// What the run saw for that id.
    pub why: String,
}

/// How the run went, as a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateStatus {
    /// No blocking finding, and something applicable ran.
    Passed,
    /// At least one unwaived blocking finding.
    Failed,
    /// No blocking finding, but a scenario at or above the threshold could not be decided.
    Inconclusive,
    /// No applicable scenario ran (all SKIPPED, or none).
    NothingTested,
}

/// The gate's decision over a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateOutcome {
    /// Passed, failed, inconclusive, nothing tested.
    pub status: GateStatus,
    /// The process exit code for this status (0, 1, 3, 2).
    pub exit_code: i32,
    /// The threshold.
    pub fail_on: Severity,
    /// Whether WARN findings block.
    pub warn_fails: bool,
    /// Ids of the findings that fail the gate (unwaived, or waived by an expired waiver).
    pub blocking: Vec<String>,
    /// The baseline file, when one was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The date waivers were checked against (only with a baseline).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "toml_date::serialize_opt"
    )]
    pub waivers_checked_on: Option<Date>,
    /// Waivers that matched no finding (only with a baseline).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stale_waivers: Vec<StaleWaiver>,
}

impl Default for GateOutcome {
    fn default() -> Self {
        GateOutcome {
            status: GateStatus::NothingTested,
            exit_code: GateStatus::NothingTested.exit_code(),
            fail_on: default_fail_on(),
            warn_fails: false,
            blocking: vec![],
            baseline: None,
            waivers_checked_on: None,
            stale_waivers: vec![],
        }
    }
}

impl GateStatus {
    /// The exit code: 0 passed, 1 failed, 2 nothing tested, 3 inconclusive.
    pub fn exit_code(self) -> i32 {
        match self {
            GateStatus::Passed => 0,
            GateStatus::Failed => 1,
            GateStatus::NothingTested => 2,
            GateStatus::Inconclusive => 3,
        }
    }
}

/// Mark waived results in `results` and decide the gate. `today` is the run's date (from the
/// harness's injected clock), against which waivers expire.
pub(crate) fn evaluate(
    sp: &str,
    results: &mut [ScenarioResult],
    policy: &GatePolicy,
    baseline: Option<&Baseline>,
    today: Date,
) -> GateOutcome {
    for r in results.iter_mut() {
        r.waiver = None;
        if !matches!(r.verdict, Verdict::Fail | Verdict::Warn) {
            continue;
        }
        if let Some(w) = baseline.and_then(|b| b.find(sp, &r.id)) {
            r.waiver = Some(AppliedWaiver {
                reason: w.reason.clone(),
                expires: w.expires,
                expired: w.expires < today,
            });
        }
    }
    let stale_waivers = baseline
        .map(|b| {
            b.waivers
                .iter()
                .filter(|w| w.sp.as_deref().is_none_or(|s| s == sp))
                .filter(|w| {
                    !results
                        .iter()
                        .any(|r| r.id == w.id && matches!(r.verdict, Verdict::Fail | Verdict::Warn))
                })
                .map(|w| StaleWaiver {
                    id: w.id.clone(),
                    sp: w.sp.clone(),
                    why: match results.iter().find(|r| r.id == w.id) {
                        Some(r) => format!(
                            "{} in this run: no finding to waive; delete the waiver",
                            r.verdict.as_str()
                        ),
                        None => "not in this run (unknown id, or not selected)".into(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let mut gate = decide(results, policy);
    gate.baseline = baseline.map(|b| b.origin.clone().unwrap_or_else(|| "(in code)".into()));
    gate.waivers_checked_on = baseline.map(|_| today);
    gate.stale_waivers = stale_waivers;
    gate
}

/// Decide the gate over results whose waivers are already marked.
pub(crate) fn decide(results: &[ScenarioResult], policy: &GatePolicy) -> GateOutcome {
    let mut blocking = Vec::new();
    let mut inconclusive = false;
    let mut tested = false;
    for r in results {
        match r.verdict {
            Verdict::Pass | Verdict::Fail | Verdict::Warn => tested = true,
            Verdict::Inconclusive => inconclusive |= r.severity >= policy.fail_on,
            Verdict::Skipped => {}
        }
        if !r.waived() && policy.blocks(r.verdict, r.severity) {
            blocking.push(r.id.clone());
        }
    }
    let status = if !blocking.is_empty() {
        GateStatus::Failed
    } else if inconclusive {
        GateStatus::Inconclusive
    } else if !tested {
        GateStatus::NothingTested
    } else {
        GateStatus::Passed
    };
    GateOutcome {
        status,
        exit_code: status.exit_code(),
        fail_on: policy.fail_on,
        warn_fails: policy.warn_fails,
        blocking,
        baseline: None,
        waivers_checked_on: None,
        stale_waivers: vec![],
    }
}

/// `expires = 2027-03-31` as a TOML local date (a quoted `"2027-03-31"` is accepted too).
mod toml_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;
    use time::macros::format_description;

    pub(super) fn serialize<S: Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub(super) fn serialize_opt<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Date(toml::value::Datetime),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Date(dt) => match (dt.date, dt.time) {
                (Some(date), None) => date.to_string(),
                _ => {
                    return Err(serde::de::Error::custom(format!(
                        "expires = {dt}: give a date only, like 2027-03-31"
                    )));
                }
            },
            Raw::Text(t) => t,
        };
        Date::parse(&text, format_description!("[year]-[month]-[day]")).map_err(|e| {
            serde::de::Error::custom(format!(
                "expires {text:?} is not a date like 2027-03-31: {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn result(id: &str, verdict: Verdict, severity: Severity) -> ScenarioResult {
        let mut r = ScenarioResult::inbound(
            id.into(),
            "t".into(),
            "f".into(),
            severity,
            verdict,
            "m".into(),
            "r".into(),
            vec![],
        );
        r.verdict = verdict;
        r
    }

    #[test]
    fn threshold_and_warn() {
        let p = GatePolicy::default();
        assert!(p.blocks(Verdict::Fail, Severity::High));
        assert!(p.blocks(Verdict::Fail, Severity::Critical));
        assert!(!p.blocks(Verdict::Fail, Severity::Medium));
        assert!(!p.blocks(Verdict::Warn, Severity::Critical));
        let strict = GatePolicy {
            fail_on: Severity::Info,
            warn_fails: true,
            baseline: None,
        };
        assert!(strict.blocks(Verdict::Warn, Severity::Info));
        assert!(!strict.blocks(Verdict::Inconclusive, Severity::Critical));
    }

    #[test]
    fn statuses_and_exit_codes() {
        let p = GatePolicy::default();
        let today = date!(2026 - 12 - 03);
        let run = |rs: &mut Vec<ScenarioResult>| evaluate("sp", rs, &p, None, today);
        assert_eq!(run(&mut vec![]).exit_code, 2);
        let mut skipped = vec![result("a", Verdict::Skipped, Severity::Critical)];
        assert_eq!(run(&mut skipped).status, GateStatus::NothingTested);
        let mut ok = vec![
            result("a", Verdict::Pass, Severity::Critical),
            result("b", Verdict::Fail, Severity::Medium),
            result("c", Verdict::Warn, Severity::Critical),
            result("d", Verdict::Inconclusive, Severity::Medium),
        ];
        let g = run(&mut ok);
        assert_eq!((g.status, g.exit_code), (GateStatus::Passed, 0));
        ok.push(result("e", Verdict::Inconclusive, Severity::High));
        assert_eq!(run(&mut ok).exit_code, 3);
        ok.push(result("f", Verdict::Fail, Severity::High));
        let g = run(&mut ok);
        assert_eq!(
            (g.exit_code, g.blocking.clone()),
            (1, vec!["f".to_string()])
        );
    }

    #[test]
    fn waivers_waive_expire_and_go_stale() {
        let b = Baseline::from_toml_str(
            r#"
[[waiver]]
id = "f"
reason = "known, PROJ-1"
expires = 2026-12-31

[[waiver]]
id = "g"
reason = "known, PROJ-2"
expires = "2026-12-02"

[[waiver]]
id = "a"
reason = "fixed since"
expires = 2027-01-01

[[waiver]]
id = "h"
reason = "for another SP"
expires = 2027-01-01
sp = "other"
"#,
            "baseline.toml",
        )
        .unwrap();
        let p = GatePolicy::default();
        let mut rs = vec![
            result("a", Verdict::Pass, Severity::Critical),
            result("f", Verdict::Fail, Severity::Critical),
            result("g", Verdict::Fail, Severity::High),
            result("h", Verdict::Fail, Severity::High),
        ];
        let g = evaluate("sp", &mut rs, &p, Some(&b), date!(2026 - 12 - 03));
        assert_eq!(g.status, GateStatus::Failed);
        assert_eq!(g.blocking, ["g", "h"]);
        assert!(rs[1].waiver.as_ref().is_some_and(|w| !w.expired));
        assert!(rs[2].waiver.as_ref().is_some_and(|w| w.expired));
        assert!(rs[3].waiver.is_none());
        assert_eq!(g.stale_waivers.len(), 1);
        assert_eq!(g.stale_waivers[0].id, "a");
        assert!(
            g.stale_waivers[0].why.contains("PASS"),
            "{:?}",
            g.stale_waivers
        );
        assert_eq!(g.waivers_checked_on, Some(date!(2026 - 12 - 03)));
        // The last day still holds.
        let g = evaluate("sp", &mut rs, &p, Some(&b), date!(2026 - 12 - 02));
        assert_eq!(g.blocking, ["h"]);
    }

    #[test]
    fn bad_baselines_are_named() {
        let e = |t: &str| {
            Baseline::from_toml_str(t, "b.toml")
                .unwrap_err()
                .to_string()
        };
        assert!(
            e("[[waiver]]\nid = \"a\"\nreason = \"\"\nexpires = 2027-01-01").contains("no reason")
        );
        assert!(
            e("[[waiver]]\nid = \"a\"\nreason = \"x\"\nexpires = \"soon\"").contains("not a date")
        );
        assert!(
            e("[[waiver]]\nid = \"a\"\nreason = \"x\"\nexpires = 2027-01-01T10:00:00")
                .contains("date only")
        );
        assert!(e("[[waiver]]\nid = \"a\"\nreason = \"x\"").contains("expires"));
        let twice = "[[waiver]]\nid = \"a\"\nreason = \"x\"\nexpires = 2027-01-01\n".repeat(2);
        assert!(e(&twice).contains("twice"));
        assert!(
            e("[[waiver]]\nid = \"a\"\nreason = \"x\"\nexpires = 2027-01-01\nsev = 1")
                .contains("sev")
        );
    }

    #[test]
    fn a_written_baseline_reads_back() {
        let b = Baseline {
            waivers: vec![Waiver {
                id: "xsw.7".into(),
                reason: "say \"why\"".into(),
                expires: date!(2027 - 03 - 03),
                sp: Some("my sp".into()),
            }],
            origin: None,
        };
        let text = b.to_toml();
        let back = Baseline::from_toml_str(&text, "x").unwrap();
        assert_eq!(back.waivers, b.waivers);
    }
}
