//! `git workbench notes-repair`.

use super::Out;
use crate::error::Result;
use crate::ops::notes_repair::notes_repair;
use crate::store::Store;

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
    let r = notes_repair(&Store::discover()?, args.dry_run)?;
    if out.json {
        out.json(&r)?;
        return Ok(0);
    }
    for m in &r.moved {
        out.line(&format!(
            "{} index line(s) {} {} -> {}",
            m.lines,
            if r.dry_run { "would move" } else { "moved" },
            m.from,
            m.to
        ))?;
    }
    for u in &r.unmatched {
        out.line(&format!(
            "left {u}: no commit on HEAD's history has its tree (the runs stay listed by log and show)"
        ))?;
    }
    if r.moved.is_empty() && r.unmatched.is_empty() {
        out.line("nothing to repair: every annotated commit is on a branch")?;
    }
    Ok(0)
}
