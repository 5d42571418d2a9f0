//! `compare`: the comparison table, one row per run, built from the run records (and
//! a cache of their table fields keyed by record tip). Forced approvals are marked in
//! a `forced` column naming the checks they overrode.

use super::records::state_of;
use crate::error::{Error, Result};
use crate::model::approval::overridden_checks;
use crate::model::decision::ApprovalRecord;
use crate::model::review::ReviewRecord;
use crate::model::state::RunState;
use crate::model::table::{glob_match, is_run_column, Cell, Condition, Direction, RunRow, Table};
use crate::model::StageName;
use crate::store::{RunRef, Store};
use crate::table::cache::{RowFields, TableCache};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The default file `compare -o` writes, relative to the repository root.
pub const COMPARISON_CSV: &str = "runs/comparison.csv";

#[derive(Debug, Clone, Default)]
pub struct CompareRequest {
    /// Only runs of these stages.
    pub stages: Vec<StageName>,
    pub state: Option<RunState>,
    pub sweep: Option<String>,
    pub conditions: Vec<Condition>,
    /// A column to sort by, and whether descending.
    pub sort: Option<(String, bool)>,
    pub columns: Vec<String>,
    pub exclude: Vec<String>,
    pub only_changed: bool,
    pub last: Option<usize>,
}

impl CompareRequest {
    /// The table `sweep` shows at its end: that sweep's runs, constant columns dropped.
    pub fn for_sweep(sweep_id: &str) -> CompareRequest {
        CompareRequest {
            sweep: Some(sweep_id.to_string()),
            only_changed: true,
            ..CompareRequest::default()
        }
    }
}

/// The comparison table. Its JSON is `{"columns": [...], "rows": [{column: value}]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareReport {
    pub table: Table,
    /// Which way each metric improves (from the configuration), for marking the best.
    pub directions: BTreeMap<String, Direction>,
    /// The shortest form of each shown run id that names it alone among every run of
    /// the repository (`run_spec::abbreviations`), for the terminal table. Not in the
    /// JSON, whose ids are whole.
    pub short_ids: HashMap<String, String>,
}

pub fn compare(store: &Store, req: &CompareRequest) -> Result<CompareReport> {
    let mut cache = TableCache::load(store.private_dir().join("table-cache"));
    let mut fields = Vec::new();
    let all = store.list_runs(None)?;
    let ids: Vec<&str> = all.iter().map(|r| r.run_id.as_str()).collect();
    let mut short = crate::model::run_spec::abbreviations(&ids);
    for r in &all {
        if !req.stages.is_empty() && !req.stages.contains(&r.stage) {
            continue;
        }
        let f = match cache.get(r.tip) {
            Some(f) => f,
            None => {
                let m = store.read_manifest(r.tip)?;
                let state = state_of(store, r)?;
                let f = RowFields {
                    run_id: m.run_id,
                    stage: m.stage,
                    started_at: m.started_at,
                    forced: forced_checks(store, r, state)?,
                    state,
                    params: m.params_used,
                    metrics: m.metrics,
                    sweep_id: m.sweep_id,
                };
                cache.put(r.tip, &f);
                f
            }
        };
        if req.state.is_some_and(|s| s != f.state)
            || req
                .sweep
                .as_deref()
                .is_some_and(|s| f.sweep_id.as_deref() != Some(s))
        {
            continue;
        }
        fields.push(f);
    }
    cache.save();
    // Oldest first, so --last keeps the newest and the CSV grows at the end.
    // (run_id, stage) names one run, so an unstable sort gives the same order.
    fields.sort_unstable_by(|a, b| (&a.run_id, &a.stage).cmp(&(&b.run_id, &b.stage)));
    if let Some(n) = req.last {
        let skip = fields.len().saturating_sub(n);
        fields.drain(..skip);
    }
    let rows: Vec<RunRow> = fields
        .iter()
        .map(|f| RunRow {
            run_id: &f.run_id,
            stage: &f.stage,
            started_at: f.started_at,
            state: f.state.as_str(),
            params: &f.params,
            metrics: &f.metrics,
            forced: f.forced.as_deref(),
        })
        .collect();
    let mut table = Table::from_runs(&rows);
    drop(rows);
    shape(&mut table, req)?;
    let short_ids = fields
        .iter()
        .filter_map(|f| {
            let id = f.run_id.as_str();
            short.remove(id).map(|s| (id.to_string(), s))
        })
        .collect();
    Ok(CompareReport {
        table,
        directions: super::workspace::metric_directions(store.maybe_workdir()),
        short_ids,
    })
}

/// For an approved run whose approval was forced, the checks it overrode (read from
/// the records, as every view of a forced approval is); `None` for any other run.
fn forced_checks(store: &Store, r: &RunRef, state: RunState) -> Result<Option<Vec<String>>> {
    if state != RunState::Approved {
        return Ok(None);
    }
    match store.read_record::<ApprovalRecord>(r.tip)? {
        Some(a) if a.forced => Ok(Some(
            store
                .read_record::<ReviewRecord>(r.tip)?
                .map(|review| overridden_checks(&review))
                .unwrap_or_default(),
        )),
        _ => Ok(None),
    }
}

/// Filters, sorts and selects columns as asked.
fn shape(table: &mut Table, req: &CompareRequest) -> Result<()> {
    for c in &req.conditions {
        let col = table.column(&c.column)?;
        table.retain_rows(|r| c.holds(&r[col]));
    }
    if let Some((name, desc)) = &req.sort {
        let col = table.column(name)?;
        table.sort_by(col, *desc);
    }
    if !req.columns.is_empty() {
        table.retain_columns(|_, n| {
            is_run_column(n) || req.columns.iter().any(|g| glob_match(g, n))
        });
    }
    if !req.exclude.is_empty() {
        table.retain_columns(|_, n| !req.exclude.iter().any(|g| glob_match(g, n)));
    }
    if req.only_changed {
        table.drop_constant();
    }
    Ok(())
}

/// Writes a rendered table to `path` (the default path is relative to the repository
/// root, others to the current directory); returns where it went.
pub fn save(store: &Store, path: &Path, text: &str) -> Result<PathBuf> {
    let path = match store.maybe_workdir() {
        Some(root) if path == Path::new(COMPARISON_CSV) => root.join(path),
        _ => path.to_path_buf(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    std::fs::write(&path, text).map_err(Error::io(&path))?;
    Ok(path)
}

impl Serialize for CompareReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        crate::table::JsonTable(&self.table).serialize(s)
    }
}

impl<'de> Deserialize<'de> for CompareReport {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Json {
            columns: Vec<String>,
            rows: Vec<serde_json::Map<String, serde_json::Value>>,
        }
        let j = Json::deserialize(d)?;
        let mut rows = Vec::new();
        for r in &j.rows {
            if let Some(k) = r.keys().find(|k| !j.columns.contains(k)) {
                return Err(serde::de::Error::custom(format!(
                    "unknown column '{k}' in a row"
                )));
            }
            rows.push(
                j.columns
                    .iter()
                    .map(|c| r.get(c).map_or(Cell::Empty, Cell::from_json))
                    .collect(),
            );
        }
        Ok(CompareReport {
            table: Table {
                columns: j.columns,
                rows,
            },
            directions: BTreeMap::new(),
            short_ids: HashMap::new(),
        })
    }
}
