//! `git workbench compare`.

use super::render::{write_comparison, TableFormat, TableView};
use super::Out;
use crate::error::{Error, Result};
use crate::model::state::RunState;
use crate::model::table::{parse_condition, Condition};
use crate::model::text::{escape_controls, Lines};
use crate::model::StageName;
use crate::ops::compare::{compare, save, CompareRequest, COMPARISON_CSV};
use crate::store::Store;
use std::io::Write;
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
        // Only the terminal table abbreviates run ids (`--vertical` shows them whole).
        short_ids: format == TableFormat::Table && view != TableView::Vertical,
    };
    let report = compare(&store, &req)?;
    let write = |w: &mut dyn Write| write_comparison(out, &report, format, view, w);
    match &args.output {
        Some(path) => {
            let written = save(&store, path, write)?;
            out.note(&format!(
                "wrote {} rows to {}",
                report.table.rows.len(),
                written.display()
            ));
        }
        None => {
            let so = std::io::stdout().lock();
            let mut buf = std::io::BufWriter::with_capacity(1 << 16, so);
            // Machine formats are written exactly; the table and Markdown are for eyes,
            // their control characters escaped as `Out::print` does.
            let done = if matches!(format, TableFormat::Json | TableFormat::Csv) {
                write(&mut buf)
            } else {
                write(&mut Escaping(&mut buf))
            };
            done.and_then(|_| buf.flush()).map_err(|e| match e.kind() {
                // Only our own stdout closing ends a command quietly.
                std::io::ErrorKind::BrokenPipe => Error::BrokenPipe,
                _ => Error::io(std::path::Path::new("stdout"))(e),
            })?;
        }
    }
    // Freeing 100,000 rows one by one only costs time at exit: the process ends now.
    std::mem::forget(report);
    Ok(0)
}

/// Passes text on with `escape_controls(.., Lines::Keep)` applied, as `Out::print`
/// does to a whole text: the escaping goes character by character, so piece by piece
/// is the same. Every write it gets is whole UTF-8 (the renderers write `str`s).
struct Escaping<'a, W: Write>(&'a mut W);

impl<W: Write> Write for Escaping<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(bytes) {
            Ok(s) => self
                .0
                .write_all(escape_controls(s, Lines::Keep).as_bytes())?,
            Err(_) => self.0.write_all(
                escape_controls(&String::from_utf8_lossy(bytes), Lines::Keep).as_bytes(),
            )?,
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
