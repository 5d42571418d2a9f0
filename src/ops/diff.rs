//! `diff`: a keyed comparison of a table (default `runs/comparison.csv`) at two
//! commits, or a commit and the working tree; with `metrics`, the approved runs'
//! metrics per stage, read from the run records.

use super::compare::COMPARISON_CSV;
use crate::error::{Error, Result};
use crate::model::decision::ApprovalRecord;
use crate::model::mirror::MIRROR_DIR;
use crate::model::table::{Cell, Direction};
use crate::model::table_diff::{diff as diff_tables, parse_csv, Keyed, RowChange};
use crate::model::table_merge::default_key;
use crate::model::StageName;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct DiffRequest {
    /// The old side (default HEAD).
    pub rev_a: Option<String>,
    /// The new side (default: the working tree; with `metrics`, HEAD).
    pub rev_b: Option<String>,
    pub path: String,
    /// The key column (default: run_id when the table has one, else its first).
    pub key: Option<String>,
    /// Compare each stage's approved metrics instead of a table file.
    pub metrics: bool,
}

impl Default for DiffRequest {
    fn default() -> DiffRequest {
        DiffRequest {
            rev_a: None,
            rev_b: None,
            path: COMPARISON_CSV.to_string(),
            key: None,
            metrics: false,
        }
    }
}

/// `diff --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffReport {
    pub path: String,
    pub old: String,
    pub new: String,
    pub changes: Vec<RowChange>,
    /// Which way each metric improves, for the renderings.
    #[serde(skip)]
    pub directions: BTreeMap<String, Direction>,
}

pub fn diff(store: &Store, req: &DiffRequest) -> Result<DiffReport> {
    let a = req.rev_a.clone().unwrap_or_else(|| "HEAD".to_string());
    let directions = super::workspace::metric_directions(store.maybe_workdir());
    let (old, new, key, path, new_label) = if req.metrics {
        let b = req.rev_b.clone().unwrap_or_else(|| "HEAD".to_string());
        let old = approved_metrics(store, &a)?;
        let new = approved_metrics(store, &b)?;
        (
            old,
            new,
            "stage".to_string(),
            "approved metrics".to_string(),
            b,
        )
    } else {
        let old = load(store, Some(&a), &req.path)?;
        let new = load(store, req.rev_b.as_deref(), &req.path)?;
        let key = choose_key(req.key.as_deref(), &new);
        let label = req.rev_b.clone().unwrap_or_else(|| "working tree".into());
        (old, new, key, req.path.clone(), label)
    };
    let changes = diff_tables(&old, &new, &key, &directions)?;
    Ok(DiffReport {
        path,
        old: a,
        new: new_label,
        changes,
        directions,
    })
}

/// A table at a revision, or in the working tree.
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
    Ok(parse_csv(&name, &bytes)?)
}

/// The key to match rows on: the one asked for, else run_id or the first column.
pub fn choose_key(asked: Option<&str>, table: &Keyed) -> String {
    match asked {
        Some(k) => k.to_string(),
        None => default_key(&table.columns).unwrap_or("run_id").to_string(),
    }
}

/// Each stage's approved run at `rev` and its metrics, as a table keyed by stage.
/// The approval is the `review/<stage>/approval.json` committed at `rev` (or at its
/// nearest first-parent ancestor that has one); the run id and metrics come from the
/// run's record, which must hold that very approval.
fn approved_metrics(store: &Store, rev: &str) -> Result<Keyed> {
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
        let at = format!("{MIRROR_DIR}/{stage}/approval.json at {}", commit.short());
        let approval: ApprovalRecord = crate::model::record::parse(&bytes)
            .map_err(|e| Error::input(format!("{at} is not an approval record: {e}")))?;
        let stage = StageName::new(stage.as_str())?;
        let run = store.find_run(&stage, &approval.run_id)?.ok_or_else(|| {
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
        runs.push((stage, store.read_manifest(run.tip)?));
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
