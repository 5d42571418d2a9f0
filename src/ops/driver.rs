//! The programs git calls for files marked `diff=workbench-table
//! merge=workbench-table`: an external diff, a text conversion, and a merge driver,
//! all by row key instead of by line. Files that are not keyed tables fall back to a
//! line diff, the raw text and git's own line merge.

use super::diff::{choose_key, DiffReport};
use crate::error::{Error, Result};
use crate::model::table_diff::{diff, parse_csv, Keyed};
use crate::model::table_merge::merge;
use crate::store::gitcli;
use std::path::Path;

/// What the external diff found.
pub enum ExternalDiff {
    /// The two files have the same bytes.
    Same,
    /// Both are keyed tables: their row changes (empty: only formatting or order).
    Tables(DiffReport),
    /// Not a keyed table (`why`): a unified line diff.
    Lines { why: String, unified: String },
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

/// The diff of the files git passes: `PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX
/// NEW-MODE [NEW-PATH RENAME]`.
pub fn external_diff(a: &[String]) -> Result<ExternalDiff> {
    let path = &a[0];
    let new_path = a.get(7).unwrap_or(path);
    let (old_bytes, new_bytes) = (read(&a[1])?, read(&a[4])?);
    if old_bytes == new_bytes {
        return Ok(ExternalDiff::Same);
    }
    let directions = super::workspace::metric_directions(Some(Path::new(".")));
    let tables = parse_csv(&format!("a/{path}"), &old_bytes).and_then(|old| {
        let new = parse_csv(&format!("b/{new_path}"), &new_bytes)?;
        let old = with_columns_of(old, &new);
        let new = with_columns_of(new, &old);
        let key = choose_key(None, &new);
        diff(&old, &new, &key, &directions)
    });
    Ok(match tables {
        Ok(changes) => ExternalDiff::Tables(DiffReport {
            path: new_path.clone(),
            old: "a".into(),
            new: "b".into(),
            changes,
            directions,
        }),
        Err(why) => {
            let (o, n) = (
                String::from_utf8_lossy(&old_bytes),
                String::from_utf8_lossy(&new_bytes),
            );
            let d = similar::TextDiff::from_lines(o.as_ref(), n.as_ref());
            ExternalDiff::Lines {
                why: why.to_string(),
                unified: d
                    .unified_diff()
                    .header(&format!("a/{path}"), &format!("b/{new_path}"))
                    .to_string(),
            }
        }
    })
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

/// How a three-way merge of a table ended.
pub struct MergeOutcome {
    /// True conflicts left between markers: `run/column` descriptions.
    pub conflicts: Vec<String>,
    /// Not a keyed table: why, and that git's line merge was used instead.
    pub fallback: Option<String>,
    /// The merge is clean (exit 0 for git).
    pub clean: bool,
}

/// Merges `base`, `ours` and `theirs` by row key and writes the result over `ours`.
pub fn merge_files(
    base: &Path,
    ours: &Path,
    theirs: &Path,
    marker: usize,
    path: Option<&str>,
) -> Result<MergeOutcome> {
    let name = path.unwrap_or("the table");
    let load = |p: &Path, side: &str| -> Result<Keyed> {
        let bytes = std::fs::read(p).map_err(Error::io(p))?;
        Ok(parse_csv(&format!("{name} ({side})"), &bytes)?)
    };
    let merged = load(base, "common ancestor").and_then(|o| {
        let a = load(ours, "ours")?;
        let b = load(theirs, "theirs")?;
        let key_from = if a.columns.is_empty() { &b } else { &a };
        let key = choose_key(None, key_from);
        Ok(merge(&o, &a, &b, &key, marker)?)
    });
    match merged {
        Ok(m) => {
            std::fs::write(ours, &m.text).map_err(Error::io(ours))?;
            Ok(MergeOutcome {
                clean: m.conflicts.is_empty(),
                conflicts: m.conflicts,
                fallback: None,
            })
        }
        Err(why) => {
            // Not a keyed table: git's own line merge, in place.
            let clean = gitcli::merge_file(ours, base, theirs, marker)?;
            Ok(MergeOutcome {
                conflicts: Vec::new(),
                fallback: Some(why.to_string()),
                clean,
            })
        }
    }
}
