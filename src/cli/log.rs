//! `git workbench log [STAGE]`: runs newest first, with their chain of transitions.

use super::Out;
use crate::error::Result;
use crate::store::Store;
use serde_json::json;

/// List runs newest first with their state transitions.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only runs of this stage.
    pub stage: Option<String>,
    /// Show at most N runs.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub max_count: Option<usize>,
}

pub fn cmd_log(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    if let Some(s) = &args.stage {
        if !crate::model::run_id::is_valid_stage_name(s) {
            return Err(crate::Error::input(format!(
                "'{s}' is not a valid stage name"
            )));
        }
    }
    let mut runs = store.list_runs(args.stage.as_deref())?;
    runs.sort_by(|a, b| (&b.run_id, &b.stage).cmp(&(&a.run_id, &a.stage)));
    runs.truncate(args.max_count.unwrap_or(usize::MAX));
    let mut rows = Vec::new();
    for r in &runs {
        let m = store.read_manifest(r.tip)?;
        let events: Vec<String> = store
            .history(r.tip)?
            .iter()
            .map(|t| t.event.map_or("?".to_string(), |e| e.to_string()))
            .collect();
        rows.push((r, m, events));
    }
    if out.json {
        let list: Vec<_> = rows
            .iter()
            .map(|(r, m, events)| {
                json!({
                    "run_id": r.run_id,
                    "stage": r.stage,
                    "ref": r.ref_name(),
                    "record": r.tip.to_string(),
                    "state": events.last(),
                    "events": events,
                    "status": m.status,
                    "exit_code": m.exit_code,
                    "started_at": m.started_at,
                    "duration_seconds": m.duration_seconds,
                    "parent_run_id": m.parent_run_id,
                    "params_used": m.params_used,
                    "metrics": m.metrics,
                })
            })
            .collect();
        out.json_value(&json!({ "runs": list }));
        return Ok(0);
    }
    if rows.is_empty() {
        out.line("no runs recorded yet; start one with 'git workbench run STAGE'");
        return Ok(0);
    }
    let mut t = out.table(&["RUN", "STAGE", "STATE", "EXIT", "DURATION", "TRANSITIONS"]);
    for (r, m, events) in &rows {
        let state = events.last().map_or("?", String::as_str).to_uppercase();
        t.add_row(vec![
            comfy_table::Cell::new(&r.run_id),
            comfy_table::Cell::new(&r.stage),
            out.state_cell(&state),
            comfy_table::Cell::new(m.exit_code),
            comfy_table::Cell::new(format!("{:.2} s", m.duration_seconds)),
            comfy_table::Cell::new(events.join(" -> ")),
        ]);
    }
    out.line(&t.to_string());
    Ok(0)
}
