//! The coloured terminal table, grouped by family, then the counts and the gate.

use super::{RunReport, Verdict};
use crate::gate::GateStatus;
use owo_colors::OwoColorize;
use std::fmt::Write;

/// Render the report for a terminal (ANSI colours; `anstream` strips them when not a tty).
pub fn to_terminal(r: &RunReport) -> String {
    let mut o = String::new();
    let mut family = "";
    let width = r
        .results
        .iter()
        .map(|x| x.id.len())
        .max()
        .unwrap_or(10)
        .min(48);
    for x in &r.results {
        if x.family != family {
            family = &x.family;
            let _ = writeln!(o, "\n{}", family.bold().underline());
        }
        // Pad before colouring: escape codes would count towards the width.
        let name = format!("{:<12}", x.verdict.as_str());
        let v = match x.verdict {
            Verdict::Pass => format!("{}", name.green().bold()),
            Verdict::Fail => format!("{}", name.red().bold()),
            Verdict::Warn => format!("{}", name.magenta().bold()),
            Verdict::Inconclusive => format!("{}", name.yellow().bold()),
            Verdict::Skipped => format!("{}", name.dimmed()),
        };
        let _ = writeln!(o, "  {v} {:<width$}  {}", x.id, x.title.dimmed());
        if matches!(
            x.verdict,
            Verdict::Fail | Verdict::Warn | Verdict::Inconclusive
        ) {
            let _ = writeln!(o, "               {}", x.message);
        }
        if let Some(w) = &x.waiver {
            let line = if w.expired {
                format!("waiver EXPIRED on {}: {}", w.expires, w.reason)
            } else {
                format!("waived until {}: {}", w.expires, w.reason)
            };
            let _ = writeln!(o, "               {}", line.dimmed());
        }
    }
    let s = r.summary;
    let line = r.summary_line();
    let coloured = if s.failed > 0 {
        format!("{}", line.red().bold())
    } else if s.inconclusive > 0 || s.warned > 0 {
        format!("{}", line.yellow().bold())
    } else {
        format!("{}", line.green().bold())
    };
    let _ = writeln!(
        o,
        "\n{coloured}  ({} scenarios in {:.2} s; oracle: {:?})",
        r.results.len(),
        r.duration_ms as f64 / 1000.0,
        r.evidence
    );
    let gate = r.gate_line();
    let gate = match r.gate.status {
        GateStatus::Passed => format!("{}", gate.green().bold()),
        GateStatus::Failed => format!("{}", gate.red().bold()),
        GateStatus::Inconclusive | GateStatus::NothingTested => {
            format!("{}", gate.yellow().bold())
        }
    };
    let _ = writeln!(o, "{gate}  (exit code {})", r.gate.exit_code);
    if let Some(b) = &r.gate.baseline {
        let _ = writeln!(o, "baseline: {b}");
    }
    for w in &r.gate.stale_waivers {
        let _ = writeln!(
            o,
            "{} stale waiver {}: {}",
            "warning:".yellow().bold(),
            w.id,
            w.why
        );
    }
    o
}
