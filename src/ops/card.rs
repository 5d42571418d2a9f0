//! `card RUN`: present a reviewed run for a human decision.

use super::records::{after_transition, check_interpretation, guard, read_text};
use super::resolve::resolve_run;
use super::workspace::Workspace;
use crate::error::{Error, Result};
use crate::model::card::render_card;
use crate::model::mirror::Slot;
use crate::model::review::ReviewRecord;
use crate::model::state::{Action, RunEvent};
use crate::model::{ObjectId, RunId, StageName};
use crate::store::NewTransition;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where the agent's draft interpretation comes from.
pub enum Draft {
    /// Keep the card's earlier draft, if any.
    Keep,
    File(PathBuf),
    Text(String),
}

pub struct CardRequest {
    pub run: String,
    pub draft: Draft,
    /// What to do next (default: the review's recommendation).
    pub recommendation: Option<String>,
}

/// `card --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardReport {
    pub run_id: RunId,
    pub stage: StageName,
    pub record: ObjectId,
    pub card_path: String,
    pub card: String,
    pub warnings: Vec<String>,
}

pub fn card(ws: &Workspace, req: &CardRequest) -> Result<CardReport> {
    let run = resolve_run(&ws.store, &req.run)?;
    guard(&ws.store, &run, Action::Card)?;
    let m = ws.store.read_manifest(run.tip)?;
    let review: ReviewRecord = ws
        .store
        .read_record(run.tip)?
        .ok_or_else(|| Error::refused(format!("run {} has no review", run.run_id)))?;
    // Re-carding without a new draft keeps the earlier one.
    let draft = match &req.draft {
        Draft::File(path) => {
            let t = std::fs::read_to_string(path).map_err(Error::io(path))?;
            check_interpretation(&t, &format!("in {}", path.display()))?;
            Some(t)
        }
        Draft::Text(t) => {
            check_interpretation(t, "given with -m")?;
            Some(t.clone())
        }
        Draft::Keep => read_text(&ws.store, &run, "interpretation.md")?,
    };
    let card = render_card(&m, &review, draft.as_deref(), req.recommendation.as_deref());
    let mut files = vec![("card.md", card.clone().into_bytes())];
    if let Some(d) = &draft {
        files.push(("interpretation.md", d.clone().into_bytes()));
    }
    let record = ws.store.append_transition(&NewTransition {
        run: &run,
        event: RunEvent::Carded,
        files,
        summary: String::new(),
        author: None,
        signer: None,
        approved_index: None,
    })?;
    let (moved, warnings) = after_transition(ws, &m, &run, RunEvent::Carded, record)?;
    Ok(CardReport {
        card_path: Slot::Candidate.file(moved.stage.as_str(), "card.md"),
        run_id: moved.run_id,
        stage: moved.stage,
        record: moved.tip,
        card,
        warnings,
    })
}
