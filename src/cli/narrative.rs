//! `git workbench narrative new | sync | check`.

use super::Out;
use crate::error::Result;
use crate::model::narrative::BlockOptions;
use crate::model::StageName;
use crate::ops::narrative::{
    check, new_block, remove, repo_path, sync, unmark, NewRequest, RemoveRequest, Source,
    SyncRequest,
};
use crate::store::Store;
use std::path::PathBuf;

/// Narrative files: blocks rendered from approvals, and their checks.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    New(NewArgs),
    Sync(SyncArgs),
    Check(CheckArgs),
    Unmark(UnmarkArgs),
    Remove(RemoveArgs),
}

/// Stop treating FILE as a narrative (an explicit act that verify lists)
///
/// Appends `/NAME -workbench-narrative` to the .gitattributes of FILE's directory.
/// Commit that change on its own, with FILE unchanged: the hook refuses an unmark that edits the file, and `verify` lists
/// every unmarked narrative.
#[derive(clap::Args, Debug)]
pub struct UnmarkArgs {
    pub file: PathBuf,
}

/// Remove blocks whole (markers, content and provenance line) from a narrative.
#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    pub file: PathBuf,
    /// Remove the blocks of this stage.
    #[arg(long, value_parser = super::stage_arg)]
    pub stage: Option<StageName>,
    /// Remove the blocks citing this run (a full run id).
    #[arg(long)]
    pub run: Option<String>,
}

/// Insert a block for the stage's approved run at the stage's slot marker, or at the
/// end of the file.
#[derive(clap::Args, Debug)]
pub struct NewArgs {
    #[arg(value_parser = super::stage_arg)]
    pub stage: StageName,
    pub file: PathBuf,
    /// Show a table of these metrics (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Option<Vec<String>>,
    /// Show a table of every metric.
    #[arg(long)]
    pub table: bool,
    /// Link the run's figures.
    #[arg(long)]
    pub figures: bool,
}

/// Re-render every block from its approval.
#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// Narrative files (default: every file marked workbench-narrative).
    pub files: Vec<PathBuf>,
    /// Move blocks whose stage has a newer approved run to that run.
    #[arg(long)]
    pub advance: bool,
}

/// Check narrative files: every block must hold the rendering of an approved run.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Check the staged content (what `git commit` would record).
    #[arg(long, conflicts_with = "rev")]
    pub staged: bool,
    /// Check the files as they are in this commit.
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Only these files (default: every narrative file).
    pub files: Vec<PathBuf>,
}

pub fn cmd_narrative(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    match args.command {
        Sub::New(a) => cmd_new(out, &store, a),
        Sub::Sync(a) => cmd_sync(out, &store, a),
        Sub::Check(a) => cmd_check(out, &store, a),
        Sub::Unmark(a) => cmd_unmark(out, &store, a),
        Sub::Remove(a) => cmd_remove(out, &store, a),
    }
}

fn cmd_new(out: &Out, store: &Store, a: NewArgs) -> Result<u8> {
    let req = NewRequest {
        stage: a.stage,
        file: a.file,
        options: BlockOptions {
            metrics: a.metrics,
            table: a.table,
            figures: a.figures,
        },
    };
    let r = new_block(store, &req)?;
    super::render::report(out, &r, &r.warnings, || {
        out.line(&format!(
            "added a block for {} (run {}) to {}",
            r.stage, r.run_id, r.file
        ))
    })?;
    Ok(0)
}

fn cmd_sync(out: &Out, store: &Store, a: SyncArgs) -> Result<u8> {
    let r = sync(
        store,
        &SyncRequest {
            files: a.files,
            advance: a.advance,
        },
    )?;
    if out.json {
        out.json(&r)?;
    } else {
        for f in &r.changed {
            out.line(&format!("synced {f}"))?;
        }
        if r.changed.is_empty() {
            out.line(&format!(
                "{} narrative file(s) already in sync",
                r.files.len()
            ))?;
        }
        out.note(super::render::problems(&r.problems).trim_end());
    }
    Ok(u8::from(r.errors() > 0))
}

fn cmd_check(out: &Out, store: &Store, a: CheckArgs) -> Result<u8> {
    let root = store.workdir("narrative check")?;
    let only: Vec<String> = a
        .files
        .iter()
        .map(|f| repo_path(&root, f))
        .collect::<Result<_>>()?;
    let source = match (&a.rev, a.staged) {
        (Some(r), _) => Source::Rev(r),
        (None, true) => Source::Staged,
        (None, false) => Source::Worktree,
    };
    let r = check(store, source, &only)?;
    let code = super::render::check_report(out, &r, "narrative check")?;
    if !out.json && code == 0 {
        out.line(&format!(
            "{} narrative file(s) checked: every block is approved and unchanged",
            r.files.len()
        ))?;
    }
    Ok(code)
}

fn cmd_unmark(out: &Out, store: &Store, a: UnmarkArgs) -> Result<u8> {
    let r = unmark(store, &a.file)?;
    super::render::report(out, &r, &r.warnings, || {
        out.line(&format!(
            "appended '{}' to {}: once committed, {} and its {} block(s) are no longer checked",
            r.line, r.attributes, r.file, r.blocks
        ))?;
        out.line(&format!(
            "commit it on its own, with {} unchanged: git add {} && git commit -m 'Unmark {}'",
            r.file, r.attributes, r.file
        ))
    })?;
    Ok(0)
}

fn cmd_remove(out: &Out, store: &Store, a: RemoveArgs) -> Result<u8> {
    let run = match a.run {
        Some(r) => Some(
            crate::model::RunId::new(r.as_str())
                .map_err(|_| crate::error::Error::input(format!("'{r}' is not a full run id")))?,
        ),
        None => None,
    };
    let r = remove(
        store,
        &RemoveRequest {
            file: a.file,
            stage: a.stage,
            run,
        },
    )?;
    super::render::report(out, &r, &[], || {
        for (stage, run, line) in &r.removed {
            out.line(&format!(
                "removed the block of stage {stage} (run {run}) at {}:{line}",
                r.file
            ))?;
        }
        Ok(())
    })?;
    Ok(0)
}
