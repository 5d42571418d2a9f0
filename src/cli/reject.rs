//! `git workbench reject`.

use super::Out;
use crate::error::Result;
use crate::ops::reject::{reject, RejectRequest};
use crate::ops::Workspace;
use serde_json::Value;

/// Reject a run with feedback: what is wrong, what would make it acceptable, and
/// which params to try next. `next` and the next `run` of the stage show it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to reject.
    pub run: String,
    /// What is wrong with it.
    #[arg(long, value_name = "TEXT", required = true)]
    pub issue: String,
    /// An acceptance criterion for the next run (repeatable).
    #[arg(long = "criterion", value_name = "TEXT")]
    pub criteria: Vec<String>,
    /// A param to try next (repeatable); VALUE is JSON when it parses as JSON.
    #[arg(long = "suggest", value_name = "KEY=VALUE", value_parser = super::override_arg)]
    pub suggest: Vec<(String, Value)>,
}

pub fn cmd_reject(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("reject")?;
    let report = reject(
        &ws,
        &RejectRequest {
            run: args.run,
            issue: args.issue,
            criteria: args.criteria,
            suggest: args.suggest,
        },
    )?;
    super::render::report(out, &report, &report.warnings, || {
        out.line(&format!(
            "rejected run {} of stage {}: {}",
            report.run_id, report.stage, report.feedback.issue
        ))?;
        out.line(&format!("next: {}", report.next))
    })?;
    Ok(0)
}
