//! `git workbench diff`: a keyed comparison of a table (default runs/comparison.csv) at
//! two commits, or a commit and the working tree, in one Old / New / Δ layout for every
//! format.

use super::Out;
use crate::error::{Error, Result};
use crate::model::table::{markdown_cell, markdown_escape, Cell};
use crate::model::table_diff::{diff, parse_csv, Change, Keyed, RowChange};
use crate::model::table_merge::default_key;
use crate::store::Store;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Json,
    Csv,
}

/// Compare a keyed table between two commits (default: HEAD and the working tree), or
/// with --metrics the approved runs' metrics per stage.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The old side (default HEAD).
    pub rev_a: Option<String>,
    /// The new side (default: the working tree; with --metrics, HEAD).
    pub rev_b: Option<String>,
    /// The table: a CSV file whose rows have a key column.
    #[arg(
        long,
        default_value = "runs/comparison.csv",
        conflicts_with = "metrics"
    )]
    pub path: String,
    /// The key column (default: run_id when the table has one, else its first column).
    #[arg(long, conflicts_with = "metrics")]
    pub key: Option<String>,
    /// Compare the metrics of each stage's approved run at the two commits, read from
    /// the run records (the approval is the one committed in review/<stage>/).
    #[arg(long)]
    pub metrics: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when the tables differ, 0 when they do not (as `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
}

pub fn load(store: &Store, rev: Option<&str>, path: &str) -> Result<Keyed> {
    let (name, bytes) = match rev {
        Some(r) => {
            let bytes = store
                .blob_at(r, path)?
                .ok_or_else(|| Error::input(format!("{path} does not exist at {r}")))?;
            (format!("{r}:{path}"), bytes)
        }
        None => {
            let root = store.workdir("diff")?;
            let p = root.join(path);
            let bytes = std::fs::read(&p).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Error::input(format!("{path} does not exist in the working tree"))
                        .hint("write it with 'git workbench compare -o'")
                } else {
                    Error::io(&p)(e)
                }
            })?;
            (path.to_string(), bytes)
        }
    };
    parse_csv(&name, &bytes).map_err(Error::input)
}

/// The key to match rows on: the one asked for, else run_id or the first column.
pub fn choose_key(asked: Option<&str>, table: &Keyed) -> String {
    match asked {
        Some(k) => k.to_string(),
        None => default_key(&table.columns).unwrap_or("run_id").to_string(),
    }
}

fn delta_text(c: &crate::model::table_diff::CellChange) -> String {
    if let Some(t) = &c.text_diff {
        return t.clone();
    }
    let mut s = String::new();
    if let Some(d) = c.delta {
        s.push_str(&format!("{d:+}"));
        if let Some(r) = c.relative {
            s.push_str(&format!(" ({:+.1}%)", r * 100.0));
        }
    }
    match c.verdict {
        Some("better") => s.push_str(" ▲ better"),
        Some("worse") => s.push_str(" ▼ worse"),
        _ => {}
    }
    s.trim().to_string()
}

/// The flat rows every format but JSON shows: key, change, column, old, new, Δ. A
/// changed row has one line per changed cell; an added or removed row one line with
/// its cells as `name=value` (the `params.`/`metrics.` prefix dropped where the rest of
/// the name is unique), so a sweep of new runs stays one line per run.
fn flat(changes: &[RowChange]) -> Vec<[String; 6]> {
    let mut out = Vec::new();
    for r in changes {
        let kind = match r.change {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
        .to_string();
        if r.change != Change::Changed {
            let short = |c: &str| -> String {
                let s = c
                    .strip_prefix("params.")
                    .or_else(|| c.strip_prefix("metrics."))
                    .unwrap_or(c);
                let clashes = r.cells.iter().filter(|o| {
                    o.column == s
                        || o.column.strip_prefix("params.") == Some(s)
                        || o.column.strip_prefix("metrics.") == Some(s)
                });
                if clashes.count() > 1 {
                    c.to_string()
                } else {
                    s.to_string()
                }
            };
            let summary = r
                .cells
                .iter()
                .map(|c| {
                    let v = if r.change == Change::Added {
                        &c.new
                    } else {
                        &c.old
                    };
                    format!("{}={v}", short(&c.column))
                })
                .collect::<Vec<_>>()
                .join(" ");
            let (old, new) = if r.change == Change::Added {
                (String::new(), summary)
            } else {
                (summary, String::new())
            };
            out.push([r.key.clone(), kind, String::new(), old, new, String::new()]);
            continue;
        }
        for c in &r.cells {
            out.push([
                r.key.clone(),
                kind.clone(),
                c.column.clone(),
                c.old.clone(),
                c.new.clone(),
                delta_text(c),
            ]);
        }
    }
    out
}

pub fn cmd_diff(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let a = args.rev_a.clone().unwrap_or_else(|| "HEAD".to_string());
    let directions = crate::workspace::metric_directions(store.maybe_workdir());
    let (old, new, key, path, new_label) = if args.metrics {
        let b = args.rev_b.clone().unwrap_or_else(|| "HEAD".to_string());
        let old = approved_metrics(&store, &a)?;
        let new = approved_metrics(&store, &b)?;
        (
            old,
            new,
            "stage".to_string(),
            "approved metrics".to_string(),
            b,
        )
    } else {
        let old = load(&store, Some(&a), &args.path)?;
        let new = load(&store, args.rev_b.as_deref(), &args.path)?;
        let key = choose_key(args.key.as_deref(), &new);
        let label = args.rev_b.clone().unwrap_or_else(|| "working tree".into());
        (old, new, key, args.path.clone(), label)
    };
    let changes = diff(&old, &new, &key, &directions).map_err(Error::input)?;
    let format = if out.json { Format::Json } else { args.format };
    out.print(&render(out, &path, &a, &new_label, &changes, format));
    Ok(if args.exit_code && !changes.is_empty() {
        1
    } else {
        0
    })
}

/// The changes in one format: the same Old / New / Δ layout for every kind of diff.
pub fn render(
    out: &Out,
    path: &str,
    old_label: &str,
    new_label: &str,
    changes: &[RowChange],
    format: Format,
) -> String {
    const HEAD: [&str; 6] = ["KEY", "CHANGE", "COLUMN", "OLD", "NEW", "Δ"];
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&serde_json::json!({
                "path": path,
                "old": old_label,
                "new": new_label,
                "changes": changes,
            }))
            .expect("json serializes");
            s.push('\n');
            s
        }
        Format::Csv => {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            w.write_record(["key", "change", "column", "old", "new", "delta"])
                .expect("memory");
            for r in flat(changes) {
                w.write_record(&r).expect("memory");
            }
            String::from_utf8(w.into_inner().expect("memory")).expect("utf-8")
        }
        Format::Markdown => {
            let mut s = format!("| {} |\n|{}\n", HEAD.join(" | "), " --- |".repeat(6));
            for r in flat(changes) {
                // The Δ text is ours (`+0.25 (+50.0%) ▲ better`, a word diff), never a
                // formula; its pipes are still escaped.
                let cells: Vec<String> = r
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == 5 {
                            markdown_cell(c)
                        } else {
                            markdown_escape(c)
                        }
                    })
                    .collect();
                s.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
            s
        }
        Format::Table => {
            if changes.is_empty() {
                return format!("{path}: no changes\n");
            }
            let mut t = out.table(&HEAD);
            for r in flat(changes) {
                t.add_row(r.to_vec());
            }
            let count = |c: Change| changes.iter().filter(|r| r.change == c).count();
            format!(
                "{t}\n{path}: {} added, {} removed, {} changed\n",
                count(Change::Added),
                count(Change::Removed),
                count(Change::Changed)
            )
        }
    }
}

/// Each stage's approved run at `rev` and its metrics, as a table keyed by stage.
/// The approval is the `review/<stage>/approval.json` committed at `rev` (or at its
/// nearest first-parent ancestor that has one); the run id and metrics come from the
/// run's record, which must hold that very approval.
fn approved_metrics(store: &Store, rev: &str) -> Result<Keyed> {
    use crate::model::decision::ApprovalRecord;
    use crate::workspace::MIRROR_DIR;
    let stages = store.subdirs_at(rev, MIRROR_DIR)?;
    let wanted: Vec<(String, String)> = stages
        .iter()
        .map(|s| (format!("{MIRROR_DIR}/{s}"), "approval.json".to_string()))
        .collect();
    let found = store.latest_on_first_parent(rev, &wanted)?;
    let mut runs = Vec::new();
    for (stage, hit) in stages.iter().zip(found) {
        let Some((commit, bytes)) = hit else {
            continue;
        };
        let at = format!("{MIRROR_DIR}/{stage}/approval.json at {}", &commit[..12]);
        let approval: ApprovalRecord = serde_json::from_slice(&bytes)
            .map_err(|e| Error::input(format!("{at} is not an approval record: {e}")))?;
        let run = store.find_run(stage, &approval.run_id)?.ok_or_else(|| {
            Error::input(format!(
                "{at} approves run {} of stage {stage}, which has no record here",
                approval.run_id
            ))
            .hint("fetch the run records: 'git fetch' (after 'git workbench init')")
        })?;
        if store.record_file(run.tip, "approval.json")?.as_deref() != Some(&bytes[..]) {
            return Err(Error::refused(format!(
                "{at} does not match the approval in the record of run {}",
                approval.run_id
            ))
            .hint("the committed mirror was edited; rewrite it from the record with 'git workbench show'"));
        }
        let manifest = store.read_manifest(run.tip)?;
        runs.push((stage.clone(), manifest));
    }
    let metrics: std::collections::BTreeSet<&String> =
        runs.iter().flat_map(|(_, m)| m.metrics.keys()).collect();
    let mut columns = vec!["stage".to_string(), "run_id".to_string()];
    columns.extend(metrics.iter().map(|m| format!("metrics.{m}")));
    let rows = runs
        .iter()
        .map(|(stage, m)| {
            let mut r = csv::StringRecord::new();
            r.push_field(stage);
            r.push_field(&m.run_id);
            for k in &metrics {
                let cell = m.metrics.get(*k).map_or(Cell::Empty, Cell::from_json);
                r.push_field(&cell.render());
            }
            r
        })
        .collect::<Vec<_>>();
    Ok(Keyed {
        lines: (2..2 + rows.len() as u64).collect(),
        columns,
        rows,
    })
}
