//! `git workbench diff`.

use super::render::{diff as render_diff, TableFormat};
use super::Out;
use crate::error::Result;
use crate::ops::compare::COMPARISON_CSV;
use crate::ops::diff::{diff, DiffRequest};
use crate::store::Store;

/// Compare a keyed table between two commits (default: HEAD and the working tree), or
/// with --metrics the approved runs' metrics per stage.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The old side (default HEAD).
    pub rev_a: Option<String>,
    /// The new side (default: the working tree; with --metrics, HEAD).
    pub rev_b: Option<String>,
    /// The table: a CSV file whose rows have a key column.
    #[arg(long, default_value = COMPARISON_CSV, conflicts_with = "metrics")]
    pub path: String,
    /// The key column (default: run_id when the table has one, else its first column).
    #[arg(long, conflicts_with = "metrics")]
    pub key: Option<String>,
    /// Compare the metrics of each stage's approved run at the two commits, read from
    /// the run records (the approval is the one committed in review/<stage>/).
    #[arg(long)]
    pub metrics: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
    /// Exit 1 when the tables differ, 0 when they do not (as `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
}

pub fn cmd_diff(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let report = diff(
        &store,
        &DiffRequest {
            rev_a: args.rev_a,
            rev_b: args.rev_b,
            path: args.path,
            key: args.key,
            metrics: args.metrics,
        },
    )?;
    let format = if out.json {
        TableFormat::Json
    } else {
        args.format
    };
    let text = render_diff(out, &report, format);
    // Machine formats are written exactly; the table and Markdown are for eyes.
    if matches!(format, TableFormat::Json | TableFormat::Csv) {
        out.print_exact(&text)?;
    } else {
        out.print(&text)?;
    }
    Ok(u8::from(args.exit_code && !report.changes.is_empty()))
}
