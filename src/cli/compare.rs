//! `git workbench compare`: the comparison table, one row per run, built from the run
//! records.

use super::records::state_of;
use super::Out;
use crate::error::{Error, Result};
use crate::model::table::{glob_match, parse_condition, Condition, RunRow, Table, BASE_COLUMNS};
use crate::store::Store;
use crate::table::cache::RowFields;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
    Markdown,
}

/// Build the comparison table: run_id, stage, started_at, state, then params, then
/// metrics (each group sorted by name). Written with -o, it is runs/comparison.csv.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only runs of this stage (repeatable).
    #[arg(long = "stage", value_name = "STAGE")]
    pub stages: Vec<String>,
    /// Only runs in this state: executed, failed, reviewed, approved, rejected.
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// Only the runs of this sweep (the id `git workbench sweep` printed).
    #[arg(long, value_name = "SWEEP_ID")]
    pub sweep: Option<String>,
    /// Keep rows where a condition holds, e.g. 'precision>0.5' (repeatable).
    #[arg(long = "where", value_name = "COND", value_parser = parse_condition)]
    pub conditions: Vec<Condition>,
    /// Sort by a column; a leading '-' sorts descending.
    #[arg(long, value_name = "COLUMN", allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// Keep only columns matching these globs (base columns always stay).
    #[arg(long, value_delimiter = ',', value_name = "GLOB")]
    pub columns: Vec<String>,
    /// Drop columns matching these globs.
    #[arg(long, value_delimiter = ',', value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Drop params and metrics that are the same in every row shown.
    #[arg(long)]
    pub only_changed: bool,
    /// Only the N most recent runs.
    #[arg(long, value_name = "N")]
    pub last: Option<usize>,
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write to FILE (default runs/comparison.csv) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE", num_args = 0..=1, default_missing_value = "runs/comparison.csv")]
    pub output: Option<PathBuf>,
}

impl Args {
    /// The table `sweep` shows at its end: that sweep's runs, constant columns dropped.
    pub fn for_sweep(sweep_id: &str) -> Args {
        Args {
            stages: Vec::new(),
            state: None,
            sweep: Some(sweep_id.to_string()),
            conditions: Vec::new(),
            sort: None,
            columns: Vec::new(),
            exclude: Vec::new(),
            only_changed: true,
            last: None,
            format: None,
            output: None,
        }
    }
}

pub fn cmd_compare(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let runs = store.list_runs(None)?;
    let mut cache = crate::table::cache::TableCache::load(
        store.common_dir().join("workbench").join("table-cache"),
    );
    let mut fields = Vec::new();
    for r in runs
        .iter()
        .filter(|r| args.stages.is_empty() || args.stages.contains(&r.stage))
    {
        let f = match cache.get(r.tip) {
            Some(f) => f,
            None => {
                let m = store.read_manifest(r.tip)?;
                let f = RowFields {
                    run_id: m.run_id,
                    stage: m.stage,
                    started_at: m.started_at,
                    state: state_of(&store, r)?.to_string(),
                    params: m.params_used,
                    metrics: m.metrics,
                    sweep_id: m.sweep_id,
                };
                cache.put(r.tip, &f);
                f
            }
        };
        if args
            .state
            .as_deref()
            .is_some_and(|s| !s.eq_ignore_ascii_case(&f.state))
            || args
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
    fields.sort_by(|a, b| (&a.run_id, &a.stage).cmp(&(&b.run_id, &b.stage)));
    if let Some(n) = args.last {
        let skip = fields.len().saturating_sub(n);
        fields.drain(..skip);
    }
    let rows: Vec<RunRow> = fields
        .iter()
        .map(|f| RunRow {
            run_id: &f.run_id,
            stage: &f.stage,
            started_at: &f.started_at,
            state: &f.state,
            params: &f.params,
            metrics: &f.metrics,
        })
        .collect();
    let mut table = Table::from_runs(&rows);
    for c in &args.conditions {
        let col = table.column(&c.column).map_err(Error::input)?;
        table.retain_rows(|r| c.holds(&r[col]));
    }
    if let Some(key) = &args.sort {
        let (name, desc) = match key.strip_prefix('-') {
            Some(n) => (n, true),
            None => (key.as_str(), false),
        };
        let col = table.column(name).map_err(Error::input)?;
        table.sort_by(col, desc);
    }
    if !args.columns.is_empty() {
        table.retain_columns(|_, n| {
            BASE_COLUMNS.contains(&n) || args.columns.iter().any(|g| glob_match(g, n))
        });
    }
    if !args.exclude.is_empty() {
        table.retain_columns(|_, n| !args.exclude.iter().any(|g| glob_match(g, n)));
    }
    if args.only_changed {
        table.drop_constant();
    }
    let format = match (args.format, out.json, &args.output) {
        (_, true, _) => Format::Json,
        (Some(f), _, _) => f,
        (None, _, Some(_)) => Format::Csv,
        (None, _, None) => Format::Table,
    };
    let text = match format {
        Format::Csv => crate::table::to_csv(&table),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&crate::table::to_json(&table)).expect("json");
            s.push('\n');
            s
        }
        Format::Markdown => crate::table::to_markdown(&table),
        Format::Table => render_terminal(out, &store, &table),
    };
    match &args.output {
        Some(path) => {
            let path = match store.maybe_workdir() {
                Some(root)
                    if path.is_relative()
                        && args.output.as_deref()
                            == Some(std::path::Path::new("runs/comparison.csv")) =>
                {
                    root.join(path)
                }
                _ => path.clone(),
            };
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
            }
            std::fs::write(&path, text).map_err(Error::io(&path))?;
            out.note(&format!(
                "wrote {} rows to {}",
                table.rows.len(),
                path.display()
            ));
        }
        None => out.print(&text),
    }
    Ok(0)
}

fn render_terminal(out: &Out, store: &Store, table: &Table) -> String {
    if table.rows.is_empty() {
        return "no runs match\n".to_string();
    }
    let directions = crate::workspace::metric_directions(store.maybe_workdir());
    let width = out.terminal_width();
    let (header, rows) = crate::table::terminal_cells(table, &directions, width);
    let mut t = out.table(&header.iter().map(String::as_str).collect::<Vec<_>>());
    t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    for r in rows {
        t.add_row(r);
    }
    let mut s = t.to_string();
    s.push('\n');
    if !directions.is_empty() {
        s.push_str("* best value of a metric with a direction; ! NaN or infinite\n");
    }
    s
}
