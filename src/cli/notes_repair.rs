//! `git workbench notes-repair`: re-attach index lines that a squash merge (or a
//! rebase without notes rewriting) left on commits no branch reaches.

use super::Out;
use crate::error::Result;
use crate::model::event::NoteEvent;
use crate::store::Store;
use serde_json::json;

/// Move the notes of commits no branch reaches to the commit that landed them: the
/// commit on HEAD's first-parent history with the same tree as the orphaned commit, or
/// as the working state a run on it recorded.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Say what would move, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn cmd_notes_repair(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let mut moved = Vec::new();
    let mut unmatched = Vec::new();
    for (orphan, _) in store.orphaned_notes()? {
        let mut target = store
            .tree_of_commit(orphan)
            .and_then(|t| store.landed_commit_with_tree(t));
        if target.is_none() {
            // By run id: the working state a run recorded (uncommitted edits included).
            for line in store.note_lines(orphan)? {
                let Ok(ev) = serde_json::from_str::<NoteEvent>(&line) else {
                    continue;
                };
                let Some(run) = store.find_run(&ev.stage, &ev.run_id)? else {
                    continue;
                };
                let m = store.read_manifest(run.tip)?;
                if let Ok(tree) = git2::Oid::from_str(&m.code_ref.tree) {
                    target = store.landed_commit_with_tree(tree);
                }
                if target.is_some() {
                    break;
                }
            }
        }
        match target {
            Some(to) => {
                let n = if args.dry_run {
                    store.note_lines(orphan)?.len()
                } else {
                    store.move_note(
                        orphan,
                        to,
                        &format!("workbench: notes-repair {orphan} -> {to}"),
                    )?
                };
                moved.push(json!({"from": orphan.to_string(), "to": to.to_string(), "lines": n}));
            }
            None => unmatched.push(orphan.to_string()),
        }
    }
    if out.json {
        out.json_value(&json!({"moved": moved, "unmatched": unmatched, "dry_run": args.dry_run}));
    } else {
        for m in &moved {
            out.line(&format!(
                "{} index line(s) {} {} -> {}",
                m["lines"],
                if args.dry_run { "would move" } else { "moved" },
                m["from"].as_str().unwrap_or_default(),
                m["to"].as_str().unwrap_or_default()
            ));
        }
        for u in &unmatched {
            out.line(&format!(
                "left {u}: no commit on HEAD's history has its tree (the runs stay listed by log and show)"
            ));
        }
        if moved.is_empty() && unmatched.is_empty() {
            out.line("nothing to repair: every annotated commit is on a branch");
        }
    }
    Ok(0)
}
