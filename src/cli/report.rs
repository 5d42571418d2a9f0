//! `git workbench report`.

use super::Out;
use crate::error::Result;
use crate::ops::report::{report, ReportRequest};
use crate::store::Store;
use std::path::PathBuf;

/// Write a static HTML report of every run (default runs/report/index.html), readable
/// offline.
///
/// index.html holds the comparison table (sortable, filterable by stage, sweep and
/// state, best values marked), plots of each
/// metric per sweep and over time, the narratives with the status of their blocks, and
/// one page per run (params, metrics, files and hashes, card, review checks, approval
/// chain with verified signatures, figures). It works offline: nothing is loaded from
/// the network. It replaces only an earlier report (a directory holding
/// .workbench-report), swapped in whole.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The report directory (default runs/report at the repository root).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Open index.html in $BROWSER, else xdg-open (none found: said, exit 0).
    #[arg(long)]
    pub open: bool,
}

pub fn cmd_report(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let req = ReportRequest {
        dir: args.output,
        open: args.open,
    };
    let r = report(&store, &req, &*super::progress::sink(out))?;
    if out.json {
        out.json(&r)?;
        return Ok(0);
    }
    out.line(&format!(
        "wrote {} ({} runs, {} plots, {} figures, {} narratives)",
        r.index.display(),
        r.runs,
        r.plots,
        r.figures,
        r.narratives
    ))?;
    if args.open {
        match &r.opened_with {
            Some(b) => out.note(&format!("opened with {b}")),
            None => {
                out.note("no browser found (set $BROWSER or install xdg-open); open the file above")
            }
        }
    }
    Ok(0)
}
