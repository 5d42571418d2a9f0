//! `notes-repair`: re-attach index lines that a squash merge (or a rebase without
//! notes rewriting) left on commits no branch reaches, to the commit that landed them:
//! the commit on HEAD's first-parent history with the same tree as the orphaned
//! commit, or as the working state a run on it recorded.

use crate::error::Result;
use crate::model::ObjectId;
use crate::store::Store;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moved {
    pub from: ObjectId,
    pub to: ObjectId,
    pub lines: usize,
}

/// `notes-repair --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepairReport {
    pub moved: Vec<Moved>,
    /// Orphaned commits no commit on HEAD's history matches.
    pub unmatched: Vec<ObjectId>,
    pub dry_run: bool,
}

pub fn notes_repair(store: &Store, dry_run: bool) -> Result<RepairReport> {
    let mut report = RepairReport {
        moved: Vec::new(),
        unmatched: Vec::new(),
        dry_run,
    };
    for (orphan, _) in store.orphaned_notes()? {
        match landing_commit(store, orphan)? {
            Some(to) => {
                let lines = if dry_run {
                    store.note_lines(orphan)?.len()
                } else {
                    store.move_note(
                        orphan,
                        to,
                        &format!("workbench: notes-repair {orphan} -> {to}"),
                    )?
                };
                report.moved.push(Moved {
                    from: orphan,
                    to,
                    lines,
                });
            }
            None => report.unmatched.push(orphan),
        }
    }
    Ok(report)
}

/// Where the notes of `orphan` belong: the landed commit with its tree, or with the
/// working state a run on it recorded (uncommitted edits included).
fn landing_commit(store: &Store, orphan: ObjectId) -> Result<Option<ObjectId>> {
    if let Some(to) = store
        .tree_of_commit(orphan)
        .and_then(|t| store.landed_commit_with_tree(t))
    {
        return Ok(Some(to));
    }
    for ev in store.note_events(orphan)? {
        let Some(run) = store.find_run(&ev.stage, &ev.run_id)? else {
            continue;
        };
        let m = store.read_manifest(run.tip)?;
        if let Some(to) = store.landed_commit_with_tree(m.code_ref.tree) {
            return Ok(Some(to));
        }
    }
    Ok(None)
}
