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
    for c in &req.criteria {
        crate::model::criterion::parse(c).map_err(|e| {
            Error::input(format!("--criterion {e}")).hint(crate::model::criterion::FORM)
        })?;
    }
    let m = ws.store.read_manifest(run.tip)?;
    // A suggestion the next run would refuse (a misspelt key) is refused now, while
    // the human is here to correct it.
    let file = ws
        .config
        .stage(&run.stage)
        .and_then(|stage| super::next::file_params(ws, stage));
    let rerun = rerun_overrides(&m, &req.suggest, file.as_ref());
    if !req.suggest.is_empty() {
        if let Some(stage) = ws.config.stage(&run.stage) {
            ws.params_now(stage, &rerun)
                .map_err(|e| Error::input(format!("--suggest: {e}")).hint(
                    "suggest keys of the stage's params file; to add a new key write --suggest +KEY=VALUE",
                ))?;
        }
    }
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
    let argv = crate::model::next::run_argv(&moved.stage, &rerun);
    Ok(RejectReport {
        next: crate::model::next::shell_join(&argv),
        run_id: moved.run_id,
        stage: moved.stage,
        record: moved.tip,
        feedback,
        warnings,
    })
}

/// The overrides of the run that answers a rejection: the rejected run's own, with
/// the suggestions over them (a suggestion changes the rejected run, not the
/// baseline). The run's own keys that the params file lacks were added on purpose
/// and are given with `+` again; a suggestion is taken as the human wrote it.
pub fn rerun_overrides(
    rejected: &crate::model::manifest::RunManifest,
    suggest: &[(String, Value)],
    file: Option<&crate::model::params::FlatParams>,
) -> Vec<(String, Value)> {
    let own: Vec<(String, Value)> = rejected
        .overrides
        .iter()
        .filter(|(k, _)| {
            !suggest
                .iter()
                .any(|(s, _)| crate::model::params::override_key(s) == k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut out = super::next::with_plus(own, file);
    out.extend(suggest.iter().cloned());
    out
}
