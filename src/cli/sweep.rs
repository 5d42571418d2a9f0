//! `git workbench sweep`.

use super::notices::Notices;
use super::render::{comparison, TableFormat};
use super::Out;
use crate::error::Result;
use crate::exec::command::Interrupts;
use crate::model::sweep::{parse_axis, Axis};
use crate::model::StageName;
use crate::ops::compare::{compare, CompareRequest};
use crate::ops::sweep::{shown, sweep, SweepReport, SweepRequest};
use crate::ops::Workspace;

/// Run a stage once per combination of param values (Hydra's syntax: `-p lr=0.1,0.2`,
/// `-p depth=range(2,8,2)`), each a recorded run with its own run directory and the
/// sweep's id, then show the sweep's comparison table. Exits 0 when every combination
/// succeeded, 1 when any failed.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The stage to run, as declared in workbench.toml.
    #[arg(value_parser = super::stage_arg)]
    pub stage: StageName,
    /// A param and its values: KEY=a,b,c or KEY=range(start,stop[,step]) (repeatable).
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUES", value_parser = axis_arg, required = true)]
    pub axes: Vec<Axis>,
    /// How many runs at a time.
    #[arg(long, short = 'j', default_value_t = 1)]
    pub jobs: usize,
    /// Stop starting new combinations after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
}

fn axis_arg(s: &str) -> std::result::Result<Axis, String> {
    parse_axis(s).map_err(|e| e.to_string())
}

pub fn cmd_sweep(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("sweep")?;
    let req = SweepRequest {
        stage: args.stage,
        axes: args.axes,
        jobs: args.jobs,
        fail_fast: args.fail_fast,
    };
    let notices = Notices::new(out);
    let report = sweep(&ws, &req, &Interrupts::process(), &notices);
    notices.finish();
    let report = report?;
    if out.json {
        out.json(&report)?;
    } else {
        human(out, &ws, &report)?;
    }
    Ok(report.exit_code())
}

fn human(out: &Out, ws: &Workspace, r: &SweepReport) -> Result<()> {
    for o in r.runs.iter().filter(|o| o.exit_code != 0) {
        out.note(&format!(
            "failed: {} (exit {}){}",
            shown(&o.params),
            o.exit_code,
            o.run_id
                .as_ref()
                .map(|id| format!(", see 'git workbench show {id}'"))
                .unwrap_or_default()
        ));
    }
    let table = compare(&ws.store, &CompareRequest::for_sweep(&r.sweep_id))?;
    out.print(&comparison(out, &table, TableFormat::Table))?;
    out.line(&format!(
        "sweep {}: {} run(s), {} failed{}; the table again: git workbench compare --sweep {}",
        r.sweep_id,
        r.runs.len(),
        r.failed,
        if r.not_started > 0 {
            format!(", {} not started", r.not_started)
        } else {
            String::new()
        },
        r.sweep_id
    ))
}
