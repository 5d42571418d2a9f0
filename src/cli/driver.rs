//! `git workbench driver diff | textconv | merge`: the programs git calls for files
//! marked `diff=workbench-table merge=workbench-table` in `.gitattributes` (set up by
//! `git workbench init`). They render and merge keyed tables by row instead of by line.

use super::diff::{choose_key, render, Format};
use super::Out;
use crate::error::{Error, Result};
use crate::model::table_diff::{diff, parse_csv, Keyed};
use crate::model::table_merge::merge;
use std::path::{Path, PathBuf};

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
            let differ = external_diff(out, &args)?;
            Ok(u8::from(differ && !exit_zero))
        }
        Action::Textconv { file } => {
            let bytes = std::fs::read(&file).map_err(Error::io(&file))?;
            out.print(&textconv(&file.display().to_string(), &bytes));
            Ok(0)
        }
        Action::Merge {
            base,
            ours,
            theirs,
            marker_size,
            path,
        } => merge_files(out, &base, &ours, &theirs, marker_size, path.as_deref()),
    }
}

fn read(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(Error::io(Path::new(path)))
}

/// A side git passes as /dev/null (an added or deleted file) is a table without rows.
fn with_columns_of(t: Keyed, other: &Keyed) -> Keyed {
    if t.columns.is_empty() {
        Keyed {
            columns: other.columns.clone(),
            rows: Vec::new(),
            lines: Vec::new(),
        }
    } else {
        t
    }
}

/// Prints the table diff (or a line diff when a side is not a keyed table) and
/// returns whether the files differ.
fn external_diff(out: &Out, a: &[String]) -> Result<bool> {
    let path = &a[0];
    let new_path = a.get(7).unwrap_or(path);
    let (old_bytes, new_bytes) = (read(&a[1])?, read(&a[4])?);
    out.line(&format!("diff --workbench a/{path} b/{new_path}"));
    if old_bytes == new_bytes {
        out.line(&format!("{new_path}: no changes"));
        return Ok(false);
    }
    let tables = parse_csv(&format!("a/{path}"), &old_bytes).and_then(|old| {
        let new = parse_csv(&format!("b/{new_path}"), &new_bytes)?;
        let old = with_columns_of(old, &new);
        let new = with_columns_of(new, &old);
        let key = choose_key(None, &new);
        let directions = crate::workspace::metric_directions(Some(Path::new(".")));
        diff(&old, &new, &key, &directions)
    });
    match tables {
        Ok(changes) => {
            let text = render(out, new_path, "a", "b", &changes, Format::Table);
            out.print(&text);
            if changes.is_empty() {
                out.line("(the values are equal; only their formatting or order changed)");
            }
        }
        Err(why) => {
            out.line(&format!("(not a keyed table: {why}; showing a line diff)"));
            let (o, n) = (
                String::from_utf8_lossy(&old_bytes),
                String::from_utf8_lossy(&new_bytes),
            );
            let d = similar::TextDiff::from_lines(o.as_ref(), n.as_ref());
            out.print(
                &d.unified_diff()
                    .header(&format!("a/{path}"), &format!("b/{new_path}"))
                    .to_string(),
            );
        }
    }
    Ok(true)
}

/// One line per non-empty cell, `KEY  COLUMN = VALUE`, rows in key order; input that
/// is not a keyed table passes through unchanged.
pub fn textconv(name: &str, bytes: &[u8]) -> String {
    let Ok(t) = parse_csv(name, bytes) else {
        return String::from_utf8_lossy(bytes).into_owned();
    };
    if t.columns.is_empty() {
        return String::new();
    }
    let key = choose_key(None, &t);
    let k = t.columns.iter().position(|c| *c == key).unwrap_or(0);
    let mut rows: Vec<&csv::StringRecord> = t.rows.iter().collect();
    rows.sort_by(|a, b| a.get(k).cmp(&b.get(k)));
    let one_line = |s: &str| s.replace('\r', "\\r").replace('\n', "\\n");
    let mut s = format!("# keyed by {key}\n");
    for r in rows {
        let kv = one_line(r.get(k).unwrap_or(""));
        let mut any = false;
        for (c, col) in t.columns.iter().enumerate() {
            let v = r.get(c).unwrap_or("");
            if c == k || v.is_empty() {
                continue;
            }
            any = true;
            s.push_str(&format!("{kv}  {col} = {}\n", one_line(v)));
        }
        if !any {
            s.push_str(&format!("{kv}\n"));
        }
    }
    s
}

fn merge_files(
    out: &Out,
    base: &Path,
    ours: &Path,
    theirs: &Path,
    marker: usize,
    path: Option<&str>,
) -> Result<u8> {
    let name = path.unwrap_or("the table");
    let load = |p: &Path, side: &str| -> std::result::Result<Keyed, String> {
        let bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        parse_csv(&format!("{name} ({side})"), &bytes)
    };
    let merged = load(base, "common ancestor").and_then(|o| {
        let a = load(ours, "ours")?;
        let b = load(theirs, "theirs")?;
        let key_from = if a.columns.is_empty() { &b } else { &a };
        let key = choose_key(None, key_from);
        merge(&o, &a, &b, &key, marker)
    });
    match merged {
        Ok(m) => {
            std::fs::write(ours, &m.text).map_err(Error::io(ours))?;
            for c in &m.conflicts {
                out.note(&format!("workbench-table merge: conflict in {name}: {c}"));
            }
            Ok(u8::from(!m.conflicts.is_empty()))
        }
        Err(why) => {
            // Not a keyed table: fall back to git's own line merge, in place.
            out.note(&format!(
                "workbench-table merge: {why}; merging {name} line by line"
            ));
            let status = std::process::Command::new("git")
                .args(["merge-file", &format!("--marker-size={marker}")])
                .args(["-L", "ours", "-L", "base", "-L", "theirs"])
                .arg(ours)
                .arg(base)
                .arg(theirs)
                .status()
                .map_err(|e| Error::input(format!("cannot run git merge-file: {e}")))?;
            Ok(u8::from(!status.success()))
        }
    }
}
