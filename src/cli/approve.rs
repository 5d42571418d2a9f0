//! `git workbench approve RUN`: the human decision that lets results reach a report.
//! Refuses (exit 1, nothing written) what the seed forbids: approving without a
//! review, a failed review (unless `--force`, recorded), twice, after a newer run
//! was approved, or when the outputs on disk are no longer the bytes that ran.

use super::records::{after_transition, guard, now_rfc3339, read_record, read_text};
use super::{resolve_run, Out};
use crate::error::{Error, Result};
use crate::model::card::render_card;
use crate::model::decision::{artifact_digest, ApprovalRecord, APPROVAL_SCHEMA};
use crate::model::review::{ReviewRecord, Verdict};
use crate::model::state::{Action, RunEvent};
use crate::store::NewTransition;
use crate::workspace::Workspace;
use serde_json::json;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Approve a reviewed run: its exact output bytes and its interpretation.
///
/// Shows the card and asks for confirmation on a terminal (--yes skips it). The
/// interpretation approved is the card's draft, the human's edit (--edit opens it in
/// GIT_EDITOR, core.editor, VISUAL or EDITOR), or --interpretation FILE.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to approve.
    pub run: String,
    /// Edit the draft interpretation in your editor before approving it.
    #[arg(long, conflicts_with = "interpretation")]
    pub edit: bool,
    /// The approved interpretation, from a file (your own text).
    #[arg(long, value_name = "FILE")]
    pub interpretation: Option<PathBuf>,
    /// A note kept with the approval.
    #[arg(short = 'm', long = "message", value_name = "NOTE")]
    pub note: Option<String>,
    /// Sign the approval commit with your git signing key (also: workbench.signApprovals).
    #[arg(long)]
    pub sign: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Approve although the review verdict is `fail` (recorded in the approval).
    #[arg(long)]
    pub force: bool,
}

/// The editor git would use.
fn editor(ws: &Workspace) -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    env("GIT_EDITOR")
        .or_else(|| ws.store.config_string("core.editor"))
        .or_else(|| env("VISUAL"))
        .or_else(|| env("EDITOR"))
        .unwrap_or_else(|| "vi".to_string())
}

fn edit(ws: &Workspace, run_id: &str, draft: &str) -> Result<String> {
    let file = ws.tmp_dir()?.join(format!("APPROVE_{run_id}.md"));
    std::fs::write(&file, draft).map_err(Error::io(&file))?;
    let editor = editor(ws);
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(&editor)
        .arg(&file)
        .status();
    let text = std::fs::read_to_string(&file);
    let _ = std::fs::remove_file(&file);
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            return Err(Error::refused(format!(
                "the editor '{editor}' exited with {s}; approval aborted, nothing recorded"
            )))
        }
        Err(e) => {
            return Err(
                Error::input(format!("cannot run the editor '{editor}': {e}"))
                    .hint("set GIT_EDITOR, core.editor, VISUAL or EDITOR"),
            )
        }
    }
    let text = text.map_err(Error::io(&file))?;
    if text.trim().is_empty() {
        return Err(Error::refused(
            "the edited interpretation is empty; approval aborted, nothing recorded",
        )
        .hint("write the interpretation you approve, or reject the run"));
    }
    Ok(text)
}

fn confirm(out: &Out, card: &str, run_id: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::refused(format!(
            "approving run {run_id} needs a human's confirmation, and there is no terminal to ask on"
        ))
        .hint("run it in a terminal, or pass --yes if you are the human deciding"));
    }
    out.note(card);
    eprint!("Approve run {run_id}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(Error::io(std::path::Path::new("stdin")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::refused(format!(
            "run {run_id} was not approved; nothing recorded"
        )))
    }
}

pub fn cmd_approve(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("approve")?;
    let run = resolve_run(&ws.store, &args.run)?;
    guard(&ws.store, &run, Action::Approve)?;
    let m = ws.store.read_manifest(run.tip)?;
    let review: ReviewRecord = read_record(&ws.store, &run, "review.json")?
        .ok_or_else(|| Error::refused(format!("run {} has no review", run.run_id)))?;
    if review.verdict == Verdict::Fail && !args.force {
        return Err(Error::refused(format!(
            "run {} failed its review ({}); it cannot be approved",
            run.run_id,
            review.blocking_issues.join("; ")
        ))
        .hint(format!(
            "fix it and run the stage again, or approve anyway with --force (recorded); reject it with 'git workbench reject {} --issue ...'",
            run.run_id
        )));
    }
    let current = ws.store.approved_run(&run.stage)?;
    if let Some(c) = &current {
        if c.run_id > run.run_id {
            return Err(Error::refused(format!(
                "a newer run of stage {}, {}, is already approved; approving the older {} would step back",
                run.stage, c.run_id, run.run_id
            ))
            .hint("run the stage again if the approved run is wrong"));
        }
    }
    // The approval binds exact bytes: the outputs on disk must still be those of the run.
    let mut cache = ws.stat_cache();
    let now = ws.output_hashes(&m, &mut cache)?;
    cache.save();
    let differ: Vec<String> = m
        .outputs
        .iter()
        .filter_map(|(p, h)| match now.get(p) {
            None => Some(format!("{p} (missing)")),
            Some(n) if n != h => Some(format!("{p} (changed)")),
            Some(_) => None,
        })
        .collect();
    if !differ.is_empty() {
        return Err(Error::refused(format!(
            "the outputs of run {} on disk are no longer the bytes it produced: {}",
            run.run_id,
            differ.join(", ")
        ))
        .hint(format!(
            "run the stage again: git workbench run {}",
            run.stage
        )));
    }
    let (name, email) = ws.store.decision_identity()?;
    let draft = read_text(&ws.store, &run, "interpretation.md")?;
    let (text, edited) = match (&args.interpretation, args.edit) {
        (Some(path), _) => {
            let t = std::fs::read_to_string(path).map_err(Error::io(path))?;
            if t.trim().is_empty() {
                return Err(Error::input(format!("{} is empty", path.display())));
            }
            let changed = draft.as_deref().map(str::trim) != Some(t.trim());
            (t, changed)
        }
        (None, true) => {
            let d = draft.clone().unwrap_or_default();
            let t = edit(&ws, &run.run_id, &d)?;
            let changed = t.trim() != d.trim();
            (t, changed)
        }
        (None, false) => (draft.clone().unwrap_or_default(), false),
    };
    if !args.yes {
        let card = match (&draft, edited) {
            (Some(_), false) => read_text(&ws.store, &run, "card.md")?,
            _ => None,
        }
        .unwrap_or_else(|| render_card(&m, &review, Some(&text), None));
        confirm(out, &card, &run.run_id)?;
    }
    let sign = args.sign
        || ws
            .store
            .config_bool("workbench.signApprovals")
            .unwrap_or(false);
    let signing = if sign {
        Some(ws.store.signing_config()?)
    } else {
        None
    };
    let signer = signing
        .as_ref()
        .map(|cfg| move |payload: &[u8]| crate::exec::sign::sign(cfg, payload));
    let approval = ApprovalRecord {
        schema: APPROVAL_SCHEMA.into(),
        run_id: run.run_id.clone(),
        stage: run.stage.clone(),
        decision: "approved".into(),
        approved_by: format!("{name} <{email}>"),
        timestamp: now_rfc3339(),
        artifacts_approved: m.outputs.clone(),
        interpretation_approved: !text.trim().is_empty(),
        interpretation_edited: edited,
        approved_interpretation: text,
        note: args.note.clone(),
        supersedes: current.as_ref().map(|c| c.run_id.clone()),
        artifact_digest: artifact_digest(&m.outputs),
        review_verdict: review.verdict.as_str().into(),
        forced: review.verdict == Verdict::Fail,
    };
    let record = ws.store.append_transition(&NewTransition {
        run: &run,
        event: RunEvent::Approved,
        files: vec![("approval.json", approval.to_json().into_bytes())],
        summary: format!("approved by {name} <{email}>"),
        author: Some((name, email)),
        signer: signer
            .as_ref()
            .map(|s| s as &dyn Fn(&[u8]) -> Result<String>),
        approved_index: Some(ws.store.approved_index(&run.stage)),
    })?;
    let moved = after_transition(out, &ws, &m, &run, RunEvent::Approved, record)?;
    if out.json {
        out.json_value(&json!({
            "run_id": run.run_id,
            "stage": run.stage,
            "record": moved.tip.to_string(),
            "signed": sign,
            "approval": approval,
        }));
    } else {
        out.line(&format!(
            "approved run {} of stage {} by {}{}",
            run.run_id,
            run.stage,
            approval.approved_by,
            if sign { " (signed)" } else { "" }
        ));
        if let Some(s) = &approval.supersedes {
            out.line(&format!("  supersedes {s}"));
        }
        out.line(&format!("  artifact digest {}", approval.artifact_digest));
        if approval.forced {
            out.line("  forced over a failed review");
        }
    }
    Ok(0)
}
