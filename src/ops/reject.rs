//! `reject RUN`: the human sends a run back with feedback; `next` and the next run of
//! the stage start from it.

use super::records::{after_transition, guard};
use super::resolve::resolve_run;
use super::workspace::Workspace;
use crate::error::{Error, Result};
use crate::exec::clock;
use crate::model::decision::{FeedbackRecord, FEEDBACK_SCHEMA};
use crate::model::state::{Action, RunEvent};
use crate::model::{ObjectId, RunId, StageName};
use crate::store::NewTransition;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub struct RejectRequest {
    pub run: String,
    pub issue: String,
    pub criteria: Vec<String>,
    pub suggest: Vec<(String, Value)>,
}

/// `reject --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectReport {
    pub run_id: RunId,
    pub stage: StageName,
    pub record: ObjectId,
    pub feedback: FeedbackRecord,
    /// The command that runs the stage with the suggestions.
    pub next: String,
    pub warnings: Vec<String>,
}

pub fn reject(ws: &Workspace, req: &RejectRequest) -> Result<RejectReport> {
    let run = resolve_run(&ws.store, &req.run)?;
    guard(&ws.store, &run, Action::Reject)?;
    if req.issue.trim().is_empty() {
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
        issue: req.issue.clone(),
        suggested_params: req.suggest.iter().cloned().collect(),
        acceptance_criteria: req.criteria.clone(),
        rejected_by: format!("{name} <{email}>"),
        timestamp: clock::now(),
    };
    let record = ws.store.append_transition(&NewTransition {
        run: &run,
        event: RunEvent::Rejected,
        files: vec![("feedback.json", feedback.to_json().into_bytes())],
        summary: format!("rejected by {name} <{email}>: {}", req.issue),
        author: Some((name, email)),
        signer: None,
        approved_index: None,
    })?;
    let (moved, warnings) = after_transition(ws, &m, &run, RunEvent::Rejected, record)?;
    let suggested = feedback.suggested_args();
    Ok(RejectReport {
        next: format!(
            "git workbench run {}{}",
            moved.stage,
            if suggested.is_empty() {
                String::new()
            } else {
                format!(" {suggested}")
            }
        ),
        run_id: moved.run_id,
        stage: moved.stage,
        record: moved.tip,
        feedback,
        warnings,
    })
}
