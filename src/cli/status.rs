//! `git workbench status`: one row per configured stage with its state and, when it
//! is stale, why.

use super::Out;
use crate::error::Result;
use crate::model::staleness::{stale_reasons, StaleReason};
use crate::model::state::{RunEvent, StageState};
use crate::store::RunRef;
use crate::workspace::Workspace;
use serde::Serialize;
use std::collections::BTreeMap;

/// Show each stage's state, latest and approved run, and why a stale stage is stale.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only these stages.
    pub stages: Vec<String>,
}

#[derive(Serialize)]
pub struct StageRow {
    pub stage: String,
    pub state: StageState,
    pub latest_run: Option<String>,
    pub latest_event: Option<RunEvent>,
    pub approved_run: Option<String>,
    pub reasons: Vec<StaleReason>,
    #[serde(skip)]
    pub latest: Option<RunRef>,
}

/// The status of every configured stage (or of `only`), in configuration order.
pub fn stage_rows(ws: &Workspace, only: &[String]) -> Result<Vec<StageRow>> {
    let mut latest: BTreeMap<String, RunRef> = BTreeMap::new();
    for r in ws.store.list_runs(None)? {
        latest.insert(r.stage.clone(), r); // sorted: the last one per stage wins
    }
    let mut cache = ws.stat_cache();
    let mut rows = Vec::new();
    for stage in &ws.config.stages {
        if !only.is_empty() && !only.contains(&stage.name) {
            continue;
        }
        let run = latest.get(&stage.name);
        let (event, reasons) = match run {
            None => (None, vec![StaleReason::NeverRun]),
            Some(r) => {
                let event = ws.store.latest_event(r.tip)?;
                let manifest = ws.store.read_manifest(r.tip)?;
                let reasons = match ws.current_state(stage, Some(&manifest), &mut cache) {
                    Ok(now) => stale_reasons(&manifest, &now),
                    Err(e) => vec![StaleReason::Unreadable {
                        message: e.to_string(),
                    }],
                };
                (event, reasons)
            }
        };
        let state = match event {
            // Diverged decisions come first: the run needs a human whatever changed.
            Some(e) if reasons.is_empty() || e == RunEvent::Conflict => {
                StageState::from_latest_event(e)
            }
            _ => StageState::Stale,
        };
        rows.push(StageRow {
            stage: stage.name.clone(),
            state,
            latest_run: run.map(|r| r.run_id.clone()),
            latest_event: event,
            approved_run: ws.store.approved_run(&stage.name)?.map(|r| r.run_id),
            reasons,
            latest: run.cloned(),
        });
    }
    cache.save();
    Ok(rows)
}

pub fn cmd_status(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("status")?;
    for s in &args.stages {
        ws.stage(s)?;
    }
    let rows = stage_rows(&ws, &args.stages)?;
    if out.json {
        out.json_value(&serde_json::json!({ "stages": rows }));
        return Ok(0);
    }
    if rows.is_empty() {
        out.line(&format!(
            "no stages configured in {}; declare one under [stages.NAME] (see docs/config.md)",
            ws.config_file
        ));
        return Ok(0);
    }
    let mut t = out.table(&["STAGE", "STATE", "LATEST RUN", "APPROVED", "WHY"]);
    for r in &rows {
        let why = r
            .reasons
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        t.add_row(vec![
            comfy_table::Cell::new(&r.stage),
            out.state_cell(r.state.as_str()),
            comfy_table::Cell::new(r.latest_run.as_deref().unwrap_or("-")),
            comfy_table::Cell::new(r.approved_run.as_deref().unwrap_or("-")),
            comfy_table::Cell::new(why),
        ]);
    }
    out.line(&t.to_string());
    Ok(0)
}
