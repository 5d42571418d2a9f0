//! `git workbench compare`.

use super::render::{comparison_view, TableFormat, TableView};
use super::Out;
use crate::error::{Error, Result};
use crate::model::state::RunState;
use crate::model::table::{parse_condition, Condition};
use crate::model::StageName;
use crate::ops::compare::{compare, save, CompareRequest, COMPARISON_CSV};
use crate::store::Store;
use std::path::PathBuf;

/// A run state, as `--state` takes it.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateArg {
    Executed,
    Failed,
    Reviewed,
    Approved,
    Rejected,
    Conflict,
}

impl From<StateArg> for RunState {
    fn from(s: StateArg) -> RunState {
        match s {
            StateArg::Executed => RunState::Executed,
            StateArg::Failed => RunState::Failed,
            StateArg::Reviewed => RunState::Reviewed,
            StateArg::Approved => RunState::Approved,
            StateArg::Rejected => RunState::Rejected,
            StateArg::Conflict => RunState::Conflict,
        }
    }
}

fn condition_arg(s: &str) -> std::result::Result<Condition, String> {
    parse_condition(s).map_err(|e| e.to_string())
}

/// Build the comparison table: run_id, stage, started_at, state, then params, then
/// metrics (each group sorted by name). Written with -o, it is runs/comparison.csv.
///
/// The terminal table fits COLUMNS (or the terminal's width; 80 when piped): run ids
/// abbreviated to what names them alone (any command taking a RUN accepts the short
/// form), shared name prefixes lifted into a heading, and columns that do not fit
/// hidden by priority (params that change, then metrics, then the rest) and named in a
/// note. Numbers are never cut.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only runs of this stage (repeatable).
    #[arg(long = "stage", value_name = "STAGE", value_parser = super::stage_arg)]
    pub stages: Vec<StageName>,
    /// Only runs in this state.
    #[arg(long, value_enum, value_name = "STATE")]
    pub state: Option<StateArg>,
    /// Only the runs of this sweep (the id `git workbench sweep` printed).
    #[arg(long, value_name = "SWEEP_ID")]
    pub sweep: Option<String>,
    /// Keep rows where a condition holds, e.g. 'precision>0.5' (repeatable).
    #[arg(long = "where", value_name = "COND", value_parser = condition_arg)]
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
    pub format: Option<TableFormat>,
    /// Terminal table: every column, whatever the width.
    #[arg(long, conflicts_with = "vertical")]
    pub wide: bool,
    /// Terminal table: one block per run, a 'column: value' line per cell set.
    #[arg(long)]
    pub vertical: bool,
    /// Write to FILE (default runs/comparison.csv) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE", num_args = 0..=1, default_missing_value = COMPARISON_CSV)]
    pub output: Option<PathBuf>,
}

pub fn cmd_compare(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let req = CompareRequest {
        stages: args.stages,
        state: args.state.map(RunState::from),
        sweep: args.sweep,
        conditions: args.conditions,
        sort: args.sort.map(|k| match k.strip_prefix('-') {
            Some(n) => (n.to_string(), true),
            None => (k, false),
        }),
        columns: args.columns,
        exclude: args.exclude,
        only_changed: args.only_changed,
        last: args.last,
    };
    let report = compare(&store, &req)?;
    let format = match (args.format, out.json, &args.output) {
        (_, true, _) => TableFormat::Json,
        (Some(f), _, _) => f,
        (None, _, Some(_)) => TableFormat::Csv,
        (None, _, None) => TableFormat::Table,
    };
    if (args.wide || args.vertical) && format != TableFormat::Table {
        return Err(Error::input(format!(
            "--{} lays out the terminal table, not {} output",
            if args.wide { "wide" } else { "vertical" },
            format!("{format:?}").to_lowercase()
        ))
        .hint("drop --format, --json and -o, or say --format table"));
    }
    let view = match (args.wide, args.vertical) {
        (true, _) => TableView::Wide,
        (_, true) => TableView::Vertical,
        _ => TableView::Fit,
    };
    if format == TableFormat::Json && args.output.is_none() {
        return out.json(&report).map(|_| 0);
    }
    let text = comparison_view(out, &report, format, view);
    match &args.output {
        Some(path) => {
            let written = save(&store, path, &text)?;
            out.note(&format!(
                "wrote {} rows to {}",
                report.table.rows.len(),
                written.display()
            ));
        }
        // Machine formats are written exactly; the table and Markdown are for eyes.
        None if matches!(format, TableFormat::Json | TableFormat::Csv) => out.print_exact(&text)?,
        None => out.print(&text)?,
    }
    Ok(0)
}
