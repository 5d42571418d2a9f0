//! `git workbench reject RUN`: the human sends a run back with feedback; the next run
//! of the stage starts from it.

use super::records::{after_transition, guard, now_rfc3339};
use super::{resolve_run, Out};
use crate::error::{Error, Result};
use crate::model::decision::{FeedbackRecord, FEEDBACK_SCHEMA};
use crate::model::params::parse_override;
use crate::model::state::{Action, RunEvent};
use crate::store::NewTransition;
use crate::workspace::Workspace;
use serde_json::{json, Value};

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
    #[arg(long = "suggest", value_name = "KEY=VALUE", value_parser = parse_override)]
    pub suggest: Vec<(String, Value)>,
}

pub fn cmd_reject(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("reject")?;
    let run = resolve_run(&ws.store, &args.run)?;
    guard(&ws.store, &run, Action::Reject)?;
    if args.issue.trim().is_empty() {
        return Err(Error::input(
            "--issue is empty: say what is wrong with the run",
        ));
    }
    let m = ws.store.read_manifest(run.tip)?;
    let (name, email) = ws.store.decision_identity()?;
    let feedback = FeedbackRecord {
        schema: FEEDBACK_SCHEMA.into(),
        run_id: run.run_id.clone(),
        stage: run.stage.clone(),
        issue: args.issue.clone(),
        suggested_params: args.suggest.iter().cloned().collect(),
        acceptance_criteria: args.criteria.clone(),
        rejected_by: format!("{name} <{email}>"),
        timestamp: now_rfc3339(),
    };
    let record = ws.store.append_transition(&NewTransition {
        run: &run,
        event: RunEvent::Rejected,
        files: vec![("feedback.json", feedback.to_json().into_bytes())],
        summary: format!("rejected by {name} <{email}>: {}", args.issue),
        author: Some((name, email)),
        signer: None,
        approved_index: None,
    })?;
    let moved = after_transition(out, &ws, &m, &run, RunEvent::Rejected, record)?;
    if out.json {
        out.json_value(&json!({
            "run_id": run.run_id,
            "stage": run.stage,
            "record": moved.tip.to_string(),
            "feedback": feedback,
        }));
    } else {
        out.line(&format!(
            "rejected run {} of stage {}: {}",
            run.run_id, run.stage, feedback.issue
        ));
        let suggested = feedback.suggested_args();
        out.line(&format!(
            "next: git workbench run {}{}",
            run.stage,
            if suggested.is_empty() {
                String::new()
            } else {
                format!(" {suggested}")
            }
        ));
    }
    Ok(0)
}
