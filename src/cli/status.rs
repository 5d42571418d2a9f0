//! `git workbench status`.

use super::Out;
use crate::error::Result;
use crate::model::StageName;
use crate::ops::status::{status, StatusReport};
use crate::ops::Workspace;

/// Show each stage's state, latest and approved run, and why a stale stage is stale.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only these stages.
    #[arg(value_parser = super::stage_arg)]
    pub stages: Vec<StageName>,
}

pub fn cmd_status(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("status")?.with_progress(super::progress::sink(out));
    let report = status(&ws, &args.stages)?;
    if out.json {
        out.json(&report)?;
    } else {
        human(out, &report, ws.config_file)?;
    }
    Ok(0)
}

fn human(out: &Out, r: &StatusReport, config_file: &str) -> Result<()> {
    if r.stages.is_empty() {
        return out.line(&format!(
            "no stages configured in {config_file}; declare one under [stages.NAME] (see docs/config.md)"
        ));
    }
    let mut t = out.table(&["STAGE", "STATE", "LATEST RUN", "APPROVED", "WHY"]);
    for row in &r.stages {
        let mut why: Vec<String> = row.reasons.iter().map(|x| x.to_string()).collect();
        for c in &row.conflicts {
            why.push(format!(
                "run {c} is in conflict: two clones decided differently"
            ));
        }
        for i in &row.invalid {
            why.push(format!("INVALID RECORD: {i}"));
        }
        if let (Some(p), Some(current)) = (&row.sweep, &row.current_run) {
            why.push(match (&p.best, &p.metric) {
                (Some(best), Some(metric)) if best == current => {
                    format!("{current}: the best {metric} of sweep {}", p.sweep_id)
                }
                _ => format!("{current}: the run of sweep {} being worked on", p.sweep_id),
            });
        }
        t.add_row(vec![
            comfy_table::Cell::new(&row.stage),
            out.state_cell(&row.state.label()),
            comfy_table::Cell::new(row.latest_run.as_ref().map_or("-", |r| r.as_str())),
            comfy_table::Cell::new(row.approved_run.as_ref().map_or("-", |r| r.as_str())),
            comfy_table::Cell::new(why.join("\n")),
        ]);
    }
    out.print_table(&t)
}
