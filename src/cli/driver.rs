//! `git workbench driver diff | textconv | merge`: the programs git calls for files
//! marked `diff=workbench-table merge=workbench-table` in `.gitattributes` (set up by
//! `git workbench init`). They print git's formats and take no `--json`.

use super::render::{diff as render_diff, TableFormat};
use super::Out;
use crate::error::{Error, Result};
use crate::ops::driver::{external_diff, merge_files, textconv, ExternalDiff};
use std::path::PathBuf;

/// Programs git runs for keyed tables (configured by 'git workbench init').
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// External diff (diff.workbench-table.command): git passes PATH OLD-FILE OLD-HEX
    /// OLD-MODE NEW-FILE NEW-HEX NEW-MODE, plus NEW-PATH and a rename note for renames.
    Diff {
        /// Always exit 0 (for git older than 2.46, which has no trustExitCode).
        #[arg(long)]
        exit_zero: bool,
        #[arg(num_args = 7..=9, required = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Text conversion (diff.workbench-table.textconv): one line per cell, rows sorted
    /// by key, so a line diff shows which run and column changed.
    Textconv { file: PathBuf },
    /// Merge driver (merge.workbench-table.driver = ... %O %A %B %L %P): unions rows by
    /// key and writes the result over OURS; exit 1 leaves a conflict.
    Merge {
        base: PathBuf,
        ours: PathBuf,
        theirs: PathBuf,
        #[arg(default_value_t = 7)]
        marker_size: usize,
        path: Option<String>,
    },
}

pub fn cmd_driver(out: &Out, args: Args) -> Result<u8> {
    match args.action {
        Action::Diff { exit_zero, args } => {
            let differ = diff(out, &args)?;
            Ok(u8::from(differ && !exit_zero))
        }
        Action::Textconv { file } => {
            let bytes = std::fs::read(&file).map_err(Error::io(&file))?;
            // git reads (and caches) textconv output as the file's text: exact bytes.
            out.print_exact(&textconv(&file.display().to_string(), &bytes))?;
            Ok(0)
        }
        Action::Merge {
            base,
            ours,
            theirs,
            marker_size,
            path,
        } => {
            let name = path.as_deref().unwrap_or("the table");
            let m = merge_files(&base, &ours, &theirs, marker_size, path.as_deref())?;
            if let Some(why) = &m.fallback {
                out.note(&format!(
                    "workbench-table merge: {why}; merging {name} line by line"
                ));
            }
            for c in &m.conflicts {
                out.note(&format!("workbench-table merge: conflict in {name}: {c}"));
            }
            Ok(u8::from(!m.clean))
        }
    }
}

/// Prints the diff git asked for; true when the files differ.
fn diff(out: &Out, args: &[String]) -> Result<bool> {
    let path = &args[0];
    let new_path = args.get(7).unwrap_or(path);
    out.line(&format!("diff --workbench a/{path} b/{new_path}"))?;
    match external_diff(args)? {
        ExternalDiff::Same => {
            out.line(&format!("{new_path}: no changes"))?;
            Ok(false)
        }
        ExternalDiff::Tables(report) => {
            out.print(&render_diff(out, &report, TableFormat::Table))?;
            if report.changes.is_empty() {
                out.line("(the values are equal; only their formatting or order changed)")?;
            }
            Ok(true)
        }
        ExternalDiff::Lines { why, unified } => {
            out.line(&format!("(not a keyed table: {why}; showing a line diff)"))?;
            out.print(&unified)?;
            Ok(true)
        }
    }
}
