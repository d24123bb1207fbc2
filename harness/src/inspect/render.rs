//! Terminal rendering of an inspection report.
//!
//! The output always contains ANSI colours; print it through `anstream` (which strips them when
//! the output is not a terminal or `NO_COLOR` is set) rather than deciding about colour here.
//! Failures and warnings come with the rationale, passes stay one line, skipped checks are
//! listed briefly at the end, so the first screen shows what to fix.

use owo_colors::OwoColorize;

use super::{CheckStatus, Finding, InspectionReport, Severity};

/// Column at which rationale text is wrapped.
const WIDTH: usize = 100;

/// The report as coloured text for a terminal.
pub fn render_terminal(report: &InspectionReport) -> String {
    let mut out = String::new();
    out.push_str(&format!("{}\n", report.subject.bold()));

    let order = [CheckStatus::Fail, CheckStatus::Warn, CheckStatus::Pass];
    for status in order {
        let mut group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.status == status)
            .collect();
        // Most severe first within a group; catalogue order otherwise (stable sort).
        group.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in group {
            render_one(&mut out, f);
        }
    }

    let skipped: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status == CheckStatus::Skipped)
        .collect();
    if !skipped.is_empty() {
        out.push_str(&format!("  {}\n", "skipped:".dimmed()));
        for f in skipped {
            out.push_str(&format!(
                "    {} {}\n",
                f.id.dimmed(),
                first_line(&f.detail).dimmed()
            ));
        }
    }

    let s = report.summary();
    let mut line = format!(
        "{} passed, {} failed, {} warnings, {} skipped",
        s.pass, s.fail, s.warn, s.skipped
    );
    if let Some(w) = s.worst_failure {
        line.push_str(&format!(" (worst failure: {})", severity_word(w)));
    }
    let line = if s.fail > 0 {
        line.red().bold().to_string()
    } else if s.warn > 0 {
        line.yellow().bold().to_string()
    } else {
        line.green().bold().to_string()
    };
    out.push_str(&format!("  {line}\n"));
    out
}

fn render_one(out: &mut String, f: &Finding) {
    let tag = match f.status {
        CheckStatus::Pass => " PASS ".black().on_green().to_string(),
        CheckStatus::Fail => " FAIL ".white().on_red().bold().to_string(),
        CheckStatus::Warn => " WARN ".black().on_yellow().to_string(),
        CheckStatus::Skipped => " SKIP ".dimmed().to_string(),
    };
    let sev = format!("{:<8}", severity_word(f.severity));
    let sev = match f.severity {
        Severity::Critical => sev.red().bold().to_string(),
        Severity::High => sev.red().to_string(),
        Severity::Medium => sev.yellow().to_string(),
        Severity::Low | Severity::Info => sev.dimmed().to_string(),
    };
    out.push_str(&format!("  {tag} {sev} {}  {}\n", f.id.bold(), f.title));
    let indent = "         ";
    if f.status == CheckStatus::Pass {
        out.push_str(&format!("{indent}{}\n", first_line(&f.detail).dimmed()));
        return;
    }
    for l in f.detail.lines() {
        out.push_str(&format!("{indent}{} {l}\n", "seen:".cyan()));
    }
    for (i, l) in wrap(f.rationale, WIDTH - indent.len() - 6)
        .iter()
        .enumerate()
    {
        let label = if i == 0 { "why: " } else { "     " };
        out.push_str(&format!("{indent}{} {l}\n", label.cyan()));
    }
    if !f.references.is_empty() {
        out.push_str(&format!(
            "{indent}{} {}\n",
            "ref: ".cyan(),
            f.references.join("; ").dimmed()
        ));
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info => "info",
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Greedy word wrap.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width() {
        let w = wrap("aaa bbb ccc ddd", 7);
        assert_eq!(w, ["aaa bbb", "ccc ddd"]);
        assert!(wrap("", 10).is_empty());
    }
}
