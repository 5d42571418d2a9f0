//! `next`: the ordered to-do list for the agent and the human, one item per stage that
//! needs something. The facts come from the records; the decision is
//! `model::next::next_item`.

use super::records::{answered_rejection, state_of};
use super::reject::rerun_overrides;
use super::status::status;
use super::workspace::Workspace;
use crate::error::Result;
use crate::model::config::Stage;
use crate::model::decision::FeedbackRecord;
use crate::model::manifest::RunManifest;
use crate::model::mirror::Slot;
use crate::model::next::{next_item, NextItem, StageFacts};
use crate::model::params::FlatParams;
use crate::model::state::RunState;
use crate::model::StageName;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `next --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextReport {
    pub items: Vec<NextItem>,
    /// Stages that are approved and up to date.
    pub done: Vec<StageName>,
}

pub fn next(ws: &Workspace) -> Result<NextReport> {
    let rows = status(ws, &[])?.stages;
    let mut report = NextReport {
        items: Vec::new(),
        done: Vec::new(),
    };
    for row in &rows {
        let state = match &row.latest {
            Some(r) => Some(state_of(&ws.store, r)?),
            None => None,
        };
        let stage = ws.stage(&row.stage)?;
        // Read only what the table looks at in this state.
        let (mut feedback, mut review, mut carded): (Option<FeedbackRecord>, _, _) =
            (None, None, false);
        if let Some(r) = &row.latest {
            match state {
                Some(RunState::Rejected) => feedback = ws.store.read_record(r.tip)?,
                Some(RunState::Reviewed) => {
                    review = ws.store.read_record(r.tip)?;
                    carded = ws.store.record_file(r.tip, "card.md")?.is_some();
                }
                _ => {}
            }
        }
        let file = file_params(ws, stage);
        let (overrides, params_differ) = match &row.manifest {
            None => (Vec::new(), Vec::new()),
            Some(m) => {
                let overrides = match (&feedback, state) {
                    (Some(fb), _) => rerun_overrides(
                        m,
                        &fb.suggested_params
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<Vec<_>>(),
                        file.as_ref(),
                    ),
                    // An approved run's values are the baseline's (or waiting to be
                    // written, which is its own item): a new run starts from the file.
                    (None, Some(RunState::Approved)) => Vec::new(),
                    _ => with_plus(m.overrides.clone().into_iter().collect(), file.as_ref()),
                };
                (overrides, differ(m, file.as_ref()))
            }
        };
        // Criteria bind the run after the rejection, or the rejected run's successor.
        let criteria: Vec<String> = match (&row.latest, &feedback) {
            (_, Some(fb)) => fb.acceptance_criteria.clone(),
            (Some(r), None) if state != Some(RunState::Approved) => {
                answered_rejection(&ws.store, &row.stage, &r.run_id)?
                    .map(|(_, fb)| fb.acceptance_criteria)
                    .unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let facts = StageFacts {
            stage: &row.stage,
            state: row.state,
            latest: row.latest.as_ref().zip(state).map(|(r, s)| (&r.run_id, s)),
            reasons: &row.reasons,
            feedback: feedback.as_ref(),
            review: review.as_ref(),
            carded,
            conflicts: &row.conflicts,
            invalid: &row.invalid,
            overrides: &overrides,
            params_differ: &params_differ,
            criteria: &criteria,
            card_path: Some(Slot::Candidate.file(row.stage.as_str(), "card.md")),
            sweep: row.sweep.as_ref(),
        };
        match next_item(&facts) {
            Some(item) => report.items.push(item),
            None => report.done.push(row.stage.clone()),
        }
    }
    Ok(report)
}

/// Every key of the stage's params file, when it declares one that reads.
pub(crate) fn file_params(ws: &Workspace, stage: &Stage) -> Option<FlatParams> {
    let spec = stage.params.as_ref()?;
    ws.params_file(stage, &spec.file).ok()
}

/// Overrides as `run` accepts them: a key the params file lacks is added on purpose.
pub(crate) fn with_plus(
    overrides: Vec<(String, Value)>,
    file: Option<&FlatParams>,
) -> Vec<(String, Value)> {
    let Some(file) = file else { return overrides };
    overrides
        .into_iter()
        .map(|(k, v)| {
            let section = format!("{k}.");
            let known = k.starts_with('+')
                || file.contains_key(&k)
                || file.keys().any(|f| f.starts_with(&section));
            if known {
                (k, v)
            } else {
                (format!("+{k}"), v)
            }
        })
        .collect()
}

/// A run's override values that the params file does not hold.
fn differ(m: &RunManifest, file: Option<&FlatParams>) -> Vec<(String, Value)> {
    file.map_or_else(Vec::new, |f| {
        crate::model::params::overrides_not_in(&m.params_used, &m.overrides, f)
    })
}
