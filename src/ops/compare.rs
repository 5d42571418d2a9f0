//! `compare`: the comparison table, one row per run, built from the run records (and
//! a cache of their table fields keyed by record tip). Forced approvals are marked in
//! a `forced` column naming the checks they overrode.

use super::records::state_of;
use crate::error::{Error, Result};
use crate::model::approval::overridden_checks;
use crate::model::decision::ApprovalRecord;
use crate::model::review::ReviewRecord;
use crate::model::sparse_table::{cell, normalize, SparseRow, SparseTable};
use crate::model::state::RunState;
use crate::model::table::{
    glob_match, is_run_column, Cell, Condition, Direction, Table, BASE_COLUMNS, FORCED_COLUMN,
};
use crate::model::StageName;
use crate::store::{RunRef, Store};
use crate::table::cache::{CachedRow, Kind, RowFields, TableCache, FORCED, KEYS};
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
    /// Work out the short run ids the terminal table shows (`short_ids`); other
    /// renderings show whole ids and leave this off.
    pub short_ids: bool,
}

impl CompareRequest {
    /// The table `sweep` shows at its end: that sweep's runs, constant columns dropped.
    pub fn for_sweep(sweep_id: &str) -> CompareRequest {
        CompareRequest {
            sweep: Some(sweep_id.to_string()),
            only_changed: true,
            short_ids: true,
            ..CompareRequest::default()
        }
    }
}

/// The comparison table. Its JSON is `{"columns": [...], "rows": [{column: value}]}`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareReport {
    /// Sparse: a row holds the cells its run sets.
    pub table: SparseTable,
    /// Which way each metric improves (from the configuration), for marking the best.
    pub directions: BTreeMap<String, Direction>,
    /// For each row, the shortest form of its run id that names it alone among every
    /// run of the repository (`run_spec::abbreviations`), for the terminal table;
    /// empty unless the request asked (`short_ids`). Not in the JSON, whose ids are
    /// whole.
    pub short_ids: Vec<String>,
}

pub fn compare(store: &Store, req: &CompareRequest) -> Result<CompareReport> {
    let mut cache = TableCache::load(store.private_dir().join("table-cache"));
    let mut rows: Vec<CachedRow> = Vec::new();
    let all = store.list_runs(None)?;
    let ids: Vec<&str> = all.iter().map(|r| r.run_id.as_str()).collect();
    let (abbreviated, mut short) = match req.short_ids {
        true => (
            crate::model::run_spec::abbreviate(&ids),
            HashMap::with_capacity_and_hasher(ids.len(), BuildIdHasher),
        ),
        false => (Vec::new(), HashMap::default()),
    };
    short.extend(
        ids.iter()
            .zip(&abbreviated)
            .map(|(id, s)| (*id, s.as_str())),
    );
    for r in &all {
        let entry = cache.touch(r.tip);
        if !req.stages.is_empty() && !req.stages.contains(&r.stage) {
            continue;
        }
        let row = match cache.get(entry) {
            Some(row) => row,
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
                cache.put(r.tip, &f)
            }
        };
        if req.state.is_some_and(|s| s != row.state)
            || req
                .sweep
                .as_deref()
                .is_some_and(|s| row.sweep_id.as_deref() != Some(s))
        {
            continue;
        }
        rows.push(row);
    }
    cache.save();
    // Oldest first, so --last keeps the newest and the CSV grows at the end.
    // (run_id, stage) names one run, so an unstable sort gives the same order.
    rows.sort_unstable_by(|a, b| (a.text(0), a.text(1)).cmp(&(b.text(0), b.text(1))));
    if let Some(n) = req.last {
        let skip = rows.len().saturating_sub(n);
        rows.drain(..skip);
    }
    let mut table = table_of(rows, &cache);
    drop(cache);
    shape(&mut table, req)?;
    // Looked up by row once here, not by id for each cell the table measures and shows.
    let short_ids = if req.short_ids {
        table
            .rows
            .iter()
            .map(|r| match cell(r, 0) {
                // A record whose id is not its ref's has none: shown whole, sanitised.
                Cell::Text(id) => short
                    .get(id.as_str())
                    .map_or_else(String::new, |s| s.to_string()),
                _ => String::new(),
            })
            .collect()
    } else {
        Vec::new()
    };
    drop(short);
    drop(abbreviated);
    drop(ids);
    drop(all);
    Ok(CompareReport {
        table,
        directions: super::workspace::metric_directions(store.maybe_workdir()),
        short_ids,
    })
}

/// The table of `rows` (in their order): `run_id, stage, started_at, state`, then
/// `forced` when a row has it, then the params, then the metrics, each group sorted
/// by name; a row holds only its own cells. The same columns and cells as
/// `Table::from_runs` of the same runs.
fn table_of(rows: Vec<CachedRow>, cache: &TableCache) -> SparseTable {
    let mut used = vec![false; cache.key_count()];
    let mut forced = false;
    for r in &rows {
        for (k, _) in &r.row {
            match k.checked_sub(KEYS) {
                Some(k) => used[k as usize] = true,
                None => forced |= *k == FORCED,
            }
        }
    }
    let mut columns: Vec<String> = BASE_COLUMNS.iter().map(|s| s.to_string()).collect();
    if forced {
        columns.push(FORCED_COLUMN.to_string());
    }
    let mut col_of = vec![u32::MAX; used.len()];
    for (kind, prefix) in [(Kind::Param, "params."), (Kind::Metric, "metrics.")] {
        let mut names: Vec<(&str, usize)> = (0..used.len())
            .filter(|&k| used[k])
            .filter_map(|k| match cache.key(k as u32) {
                (kd, name) if kd == kind => Some((name, k)),
                _ => None,
            })
            .collect();
        names.sort_unstable();
        let mut last: Option<&str> = None;
        for (name, k) in names {
            // A name listed twice in the cache's keys is one column.
            if last != Some(name) {
                columns.push(format!("{prefix}{name}"));
                last = Some(name);
            }
            col_of[k] = columns.len() as u32 - 1;
        }
    }
    let rows = rows
        .into_iter()
        .map(|r| {
            let mut row: SparseRow = r.row;
            for (c, _) in row.iter_mut() {
                if let Some(k) = c.checked_sub(KEYS) {
                    *c = col_of[k as usize];
                }
                // The base columns and `forced` (4, when a row has it) stay.
            }
            normalize(row)
        })
        .collect();
    SparseTable { columns, rows }
}

/// FNV-1a for run ids: SipHash of 100,000 of them (building the map and looking each
/// shown row up) was a tenth of the terminal table at 100,000 runs. Run ids are not
/// chosen against it by anyone but the repository's owner.
#[derive(Default, Clone, Copy)]
struct BuildIdHasher;

struct IdHasher(u64);

impl std::hash::BuildHasher for BuildIdHasher {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
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
fn shape(table: &mut SparseTable, req: &CompareRequest) -> Result<()> {
    for c in &req.conditions {
        let col = table.column(&c.column)?;
        table.retain_rows(|r| c.holds(cell(r, col)));
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
/// root, others to the current directory) through `write`, streamed; returns where it
/// went.
pub fn save(
    store: &Store,
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<PathBuf> {
    use std::io::Write;
    let path = match store.maybe_workdir() {
        Some(root) if path == Path::new(COMPARISON_CSV) => root.join(path),
        _ => path.to_path_buf(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    }
    let file = std::fs::File::create(&path).map_err(Error::io(&path))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    write(&mut w)
        .and_then(|_| w.flush())
        .map_err(Error::io(&path))?;
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
            table: SparseTable::from_dense(&Table {
                columns: j.columns,
                rows,
            }),
            directions: BTreeMap::new(),
            short_ids: Vec::new(),
        })
    }
}
