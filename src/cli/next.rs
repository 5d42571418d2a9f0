//! `git workbench next`: the ordered to-do list for the agent and the human, one item
//! per stage that needs something, each with the exact command to type.

use super::records::{read_record, state_of};
use super::status::stage_rows;
use super::Out;
use crate::error::Result;
use crate::model::decision::FeedbackRecord;
use crate::model::review::{ReviewRecord, Verdict};
use crate::model::state::{RunState, StageState};
use crate::workspace::Workspace;
use serde::Serialize;

/// What to do next, stage by stage, and who does it.
#[derive(clap::Args, Debug)]
pub struct Args {}

#[derive(Serialize)]
struct Item {
    stage: String,
    /// `agent` or `human`.
    who: &'static str,
    /// `run`, `rerun_after_rejection`, `fix_failed_review`, `review`, `card`, `decide`,
    /// `resolve_conflict`.
    kind: &'static str,
    run_id: Option<String>,
    command: String,
    why: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    card: Option<String>,
}

pub fn cmd_next(out: &Out, _args: Args) -> Result<u8> {
    let ws = Workspace::open("next")?;
    let rows = stage_rows(&ws, &[])?;
    let mut items = Vec::new();
    let mut done = Vec::new();
    for row in &rows {
        let stage = row.stage.clone();
        let latest = row.latest.as_ref();
        let state = match latest {
            Some(r) => Some(state_of(&ws.store, r)?),
            None => None,
        };
        let run_id = row.latest_run.clone();
        let id = run_id.clone().unwrap_or_default();
        let item = match (row.state, state) {
            (_, Some(RunState::Conflict)) => Some(Item {
                stage: stage.clone(),
                who: "human",
                kind: "resolve_conflict",
                run_id: run_id.clone(),
                command: format!(
                    "git workbench approve {id}   or   git workbench reject {id} --issue \"...\""
                ),
                why: vec![
                    "two clones decided differently on this run (both histories are kept; see 'git workbench log')".to_string(),
                    format!("their versions: git workbench show {id}; the record's ours/ and theirs/ files"),
                ],
                card: None,
            }),
            (_, Some(RunState::Rejected)) => {
                let fb: Option<FeedbackRecord> =
                    read_record(&ws.store, latest.expect("run"), "feedback.json")?;
                let (args, mut why) = match &fb {
                    Some(f) => (f.suggested_args(), vec![format!("rejected: {}", f.issue)]),
                    None => (String::new(), vec!["rejected".to_string()]),
                };
                if let Some(f) = &fb {
                    why.extend(
                        f.acceptance_criteria
                            .iter()
                            .map(|c| format!("acceptance criterion: {c}")),
                    );
                }
                let sep = if args.is_empty() { "" } else { " " };
                Some(Item {
                    stage: stage.clone(),
                    who: "agent",
                    kind: "rerun_after_rejection",
                    run_id: run_id.clone(),
                    command: format!("git workbench run {stage}{sep}{args}"),
                    why,
                    card: None,
                })
            }
            (StageState::Stale, _) => Some(Item {
                stage: stage.clone(),
                who: "agent",
                kind: "run",
                run_id: run_id.clone(),
                command: format!("git workbench run {stage}"),
                why: row.reasons.iter().map(|r| r.to_string()).collect(),
                card: None,
            }),
            (_, Some(RunState::Executed | RunState::Failed)) => Some(Item {
                stage: stage.clone(),
                who: "agent",
                kind: "review",
                run_id: run_id.clone(),
                command: format!("git workbench review {id}"),
                why: vec!["executed, not reviewed yet".to_string()],
                card: None,
            }),
            (_, Some(RunState::Reviewed)) => {
                let r = latest.expect("run");
                let review: Option<ReviewRecord> = read_record(&ws.store, r, "review.json")?;
                let carded = ws.store.record_file(r.tip, "card.md")?.is_some();
                match review {
                    Some(rv) if rv.verdict == Verdict::Fail => Some(Item {
                        stage: stage.clone(),
                        who: "agent",
                        kind: "fix_failed_review",
                        run_id: run_id.clone(),
                        command: format!("git workbench run {stage}"),
                        why: rv.blocking_issues.iter().map(|b| format!("blocking: {b}")).collect(),
                        card: None,
                    }),
                    _ if !carded => Some(Item {
                        stage: stage.clone(),
                        who: "agent",
                        kind: "card",
                        run_id: run_id.clone(),
                        command: format!("git workbench card {id} -m \"<your interpretation>\""),
                        why: vec!["reviewed; present it with a drafted interpretation".to_string()],
                        card: None,
                    }),
                    _ => Some(Item {
                        stage: stage.clone(),
                        who: "human",
                        kind: "decide",
                        run_id: run_id.clone(),
                        command: format!(
                            "git workbench approve {id}   or   git workbench reject {id} --issue \"...\""
                        ),
                        why: vec!["reviewed and presented; awaiting a human decision".to_string()],
                        card: Some(format!("review/{stage}/card.md")),
                    }),
                }
            }
            _ => {
                done.push(stage.clone());
                None
            }
        };
        items.extend(item);
    }
    if out.json {
        out.json_value(&serde_json::json!({ "items": items, "done": done }));
        return Ok(0);
    }
    if items.is_empty() {
        out.line("nothing to do: every stage is approved and up to date");
        return Ok(0);
    }
    for (n, it) in items.iter().enumerate() {
        out.line(&format!(
            "{}. [{}] {}: {}",
            n + 1,
            it.who,
            it.stage,
            it.command
        ));
        for w in &it.why {
            out.line(&format!("     {w}"));
        }
        if let Some(c) = &it.card {
            out.line(&format!("     card: {c}"));
        }
    }
    Ok(0)
}
