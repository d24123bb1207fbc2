//! The coloured terminal table, grouped by family.

use super::{RunReport, Verdict};
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
        let v = match x.verdict {
            Verdict::Pass => format!("{}", "PASS".green().bold()),
            Verdict::Fail => format!("{}", "FAIL".red().bold()),
            Verdict::Inconclusive => format!("{}", "INCONCLUSIVE".yellow().bold()),
            Verdict::Skipped => format!("{}", "SKIPPED".dimmed()),
        };
        let _ = writeln!(o, "  {v:<12} {:<width$}  {}", x.id, x.title.dimmed());
        if matches!(x.verdict, Verdict::Fail | Verdict::Inconclusive) {
            let _ = writeln!(o, "               {}", x.message);
        }
    }
    let s = r.summary;
    let line = r.summary_line();
    let coloured = if s.failed > 0 {
        format!("{}", line.red().bold())
    } else if s.inconclusive > 0 {
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
    o
}
