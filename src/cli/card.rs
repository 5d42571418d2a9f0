//! `git workbench card RUN`: present a reviewed run for a human decision.

use super::records::{after_transition, guard, read_record, read_text};
use super::{resolve_run, Out};
use crate::error::{Error, Result};
use crate::model::card::render_card;
use crate::model::review::ReviewRecord;
use crate::model::state::{Action, RunEvent};
use crate::store::NewTransition;
use crate::workspace::Workspace;
use serde_json::json;
use std::path::PathBuf;

/// Write the run's card: what ran, key outputs, the self-review summary, the AI
/// interpretation (a draft pending human approval) and the recommendation.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to present (it must be reviewed).
    pub run: String,
    /// The draft interpretation, from a file.
    #[arg(long, value_name = "FILE", conflicts_with = "message")]
    pub interpretation: Option<PathBuf>,
    /// The draft interpretation, inline.
    #[arg(short = 'm', long = "message", value_name = "TEXT")]
    pub message: Option<String>,
    /// What to do next (default: the review's recommendation).
    #[arg(long, value_name = "TEXT")]
    pub recommendation: Option<String>,
}

pub fn cmd_card(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("card")?;
    let run = resolve_run(&ws.store, &args.run)?;
    guard(&ws.store, &run, Action::Card)?;
    let m = ws.store.read_manifest(run.tip)?;
    let review: ReviewRecord = read_record(&ws.store, &run, "review.json")?
        .ok_or_else(|| Error::refused(format!("run {} has no review", run.run_id)))?;
    let given = match (&args.interpretation, &args.message) {
        (Some(path), _) => Some(std::fs::read_to_string(path).map_err(Error::io(path))?),
        (None, Some(text)) => Some(text.clone()),
        (None, None) => None,
    };
    // Re-carding without a new draft keeps the earlier one.
    let draft = match given {
        Some(t) => Some(t),
        None => read_text(&ws.store, &run, "interpretation.md")?,
    };
    let card = render_card(
        &m,
        &review,
        draft.as_deref(),
        args.recommendation.as_deref(),
    );
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
    let moved = after_transition(out, &ws, &m, &run, RunEvent::Carded, record)?;
    let path = format!("review/{}/card.md", run.stage);
    if out.json {
        out.json_value(&json!({
            "run_id": run.run_id,
            "stage": run.stage,
            "record": moved.tip.to_string(),
            "card_path": path,
            "card": card,
        }));
    } else {
        out.print(&card);
        out.note(&format!(
            "\nwritten to {path}; a human decides with 'git workbench approve {}' or 'git workbench reject {} --issue ...'",
            run.run_id, run.run_id
        ));
    }
    Ok(0)
}
