//! `next`: the ordered to-do list for the agent and the human, one item per stage that
//! needs something. The facts come from the records; the decision is
//! `model::next::next_item`.

use super::records::state_of;
use super::status::status;
use super::workspace::Workspace;
use crate::error::Result;
use crate::model::next::{next_item, NextItem, StageFacts};
use crate::model::state::RunState;
use crate::model::StageName;
use serde::{Deserialize, Serialize};

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
        // Read only what the table looks at in this state.
        let (mut feedback, mut review, mut carded) = (None, None, false);
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
        };
        match next_item(&facts) {
            Some(item) => report.items.push(item),
            None => report.done.push(row.stage.clone()),
        }
    }
    Ok(report)
}
