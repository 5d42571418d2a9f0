//! `git workbench review`.

use super::Out;
use crate::error::Result;
use crate::model::review::Verdict;
use crate::ops::review::{review, ReviewReport, ReviewRequest};
use crate::ops::Workspace;
use std::path::PathBuf;

/// Self-review a run: built-in checks on its outputs plus the agent's own checks.
///
/// Built-in checks: output_files_exist, outputs_match_manifest, non_empty_outputs,
/// command_succeeded, summary_valid, no_nan_inf, row_counts, metric_ranges,
/// figures_non_trivial, and a warning when metrics equal the previous run's although
/// the params differ. Exits 1 when the verdict is `fail`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to review (id, prefix, STAGE@latest).
    pub run: String,
    /// JSON list of checks the agent ran itself: [{"name", "pass", "note"?, "blocking"?}].
    #[arg(long, value_name = "FILE")]
    pub checks: Option<PathBuf>,
}

pub fn cmd_review(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("review")?.with_progress(super::progress::sink(out));
    let report = review(
        &ws,
        &ReviewRequest {
            run: args.run,
            checks: args.checks,
        },
    )?;
    super::render::report(out, &report, &report.warnings, || human(out, &report))?;
    Ok(u8::from(report.verdict == Verdict::Fail))
}

fn human(out: &Out, r: &ReviewReport) -> Result<()> {
    let review = &r.review;
    let mut t = out.table(&["CHECK", "RESULT", "NOTE"]);
    for c in &review.checks {
        let result = match (c.pass, c.blocking) {
            (true, _) => "pass",
            (false, true) => "FAIL",
            (false, false) => "warn",
        };
        let name = if c.source == "agent" {
            format!("{} (agent)", c.name)
        } else {
            c.name.clone()
        };
        t.add_row(vec![
            name,
            result.to_string(),
            c.note.clone().unwrap_or_default(),
        ]);
    }
    out.print_table(&t)?;
    out.line(&format!(
        "reviewed run {} of stage {}: {} ({} blocking, {} warnings)",
        r.run_id,
        r.stage,
        review.verdict.as_str(),
        review.blocking_issues.len(),
        review.warnings.len()
    ))?;
    out.line(&format!("next: {}", review.recommendation))
}
