//! `git workbench run`.

use super::notices::Notices;
use super::Out;
use crate::error::Result;
use crate::exec::command::{Echo, Interrupts};
use crate::model::text::{escape_controls, Lines};
use crate::model::StageName;
use crate::ops::run::{run, RunOutcome, RunReport, RunRequest};
use crate::ops::Workspace;
use serde_json::Value;

/// Run a stage and record the run under refs/workbench/runs/STAGE/RUN_ID.
///
/// The command runs at the repository root through `sh -c` and sees WORKBENCH_RUN_ID,
/// WORKBENCH_STAGE, WORKBENCH_RUN_DIR and WORKBENCH_PARAMS (JSON of the params used).
/// A failing command is recorded too, and `run` exits with its exit code.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The stage to run, as declared in workbench.toml.
    #[arg(value_parser = super::stage_arg)]
    pub stage: StageName,
    /// Override a param for this run (repeatable); VALUE is JSON when it parses as JSON.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = super::override_arg)]
    pub params: Vec<(String, Value)>,
    /// Do not use the stat cache: read every input and output in full.
    #[arg(long)]
    pub no_stat_cache: bool,
    /// Run this command instead of the stage's `cmd` (recorded as the command).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

pub fn cmd_run(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("run")?.with_progress(super::progress::sink(out));
    let mut req = RunRequest::new(args.stage);
    req.params = args.params;
    req.no_stat_cache = args.no_stat_cache;
    req.command = args.command;
    req.echo = if out.json {
        Echo::Stderr
    } else {
        Echo::Terminal
    };
    let notices = Notices::new(out);
    match run(&ws, &req, &Interrupts::process(), &notices)? {
        RunOutcome::Interrupted { .. } => Ok(130),
        RunOutcome::Recorded(r) => {
            super::render::report(out, &*r, &r.warnings, || human(out, &r))?;
            Ok(r.exit_code.clamp(0, 255) as u8)
        }
    }
}

fn human(out: &Out, r: &RunReport) -> Result<()> {
    let m = &r.manifest;
    out.line(&format!(
        "recorded run {} of stage {} ({}, exit {}, {:.2} s)",
        r.run_id,
        r.stage,
        r.status.as_str(),
        r.exit_code,
        r.duration_seconds
    ))?;
    out.line(&format!("  ref      {}", r.ref_name))?;
    if r.exit_code != 0 {
        out.line(&format!("  log      git workbench show {} --log", r.run_id))?;
    }
    let lfs = match m.lfs_outputs.len() {
        0 => String::new(),
        n => format!(", {n} in git LFS"),
    };
    out.line(&format!(
        "  outputs  {} file(s), {} stored in the record{lfs}",
        m.outputs.len(),
        m.stored_outputs.len()
    ))?;
    if !m.metrics.is_empty() {
        let shown: Vec<String> = m
            .metrics
            .iter()
            .map(|(k, v)| format!("{}={v}", escape_controls(k, Lines::Escape)))
            .collect();
        out.line(&format!("  metrics  {}", shown.join(" ")))?;
    }
    Ok(())
}
