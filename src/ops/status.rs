//! `status`: one row per configured stage with its state, latest and approved run,
//! and, when it is stale, why.

use super::workspace::Workspace;
use crate::error::Result;
use crate::model::staleness::{stale_reasons, StaleReason};
use crate::model::state::{RunEvent, StageState};
use crate::model::{RunId, StageName};
use crate::store::RunRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageRow {
    pub stage: StageName,
    pub state: StageState,
    pub latest_run: Option<RunId>,
    pub latest_event: Option<RunEvent>,
    pub approved_run: Option<RunId>,
    pub reasons: Vec<StaleReason>,
    /// Runs of the stage in conflict (two clones decided differently), newest first.
    #[serde(default)]
    pub conflicts: Vec<RunId>,
    /// Records of the stage that break the record rules, each with why: they are
    /// shown for what they are and never trusted.
    #[serde(default)]
    pub invalid: Vec<String>,
    /// The latest run's ref, for the use cases that go on from a row.
    #[serde(skip)]
    pub latest: Option<RunRef>,
}

/// `status --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusReport {
    pub stages: Vec<StageRow>,
}

/// The status of every configured stage (or of `only`), in configuration order.
pub fn status(ws: &Workspace, only: &[StageName]) -> Result<StatusReport> {
    for s in only {
        ws.stage(s)?;
    }
    let mut latest: BTreeMap<StageName, RunRef> = BTreeMap::new();
    for r in ws.store.list_runs(None)? {
        latest.insert(r.stage.clone(), r); // sorted: the last one per stage wins
    }
    let mut cache = ws.stat_cache();
    let mut conflicted = ws.store.conflicted_runs_by_stage()?;
    let mut stages = Vec::new();
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
        let mut invalid = Vec::new();
        if let Some(r) = run {
            if let Err(i) = ws.store.check_run(r)? {
                invalid.push(i.to_string());
            }
        }
        let approved = match ws.store.approved_run(&stage.name)? {
            Some(a) if Some(&a) != run => match ws.store.check_run(&a)? {
                Ok(_) => Some(a.run_id),
                Err(i) => {
                    invalid.push(i.to_string());
                    None
                }
            },
            Some(a) if invalid.is_empty() => Some(a.run_id),
            _ => None,
        };
        let conflicts = conflicted.remove(&stage.name).unwrap_or_default();
        stages.push(StageRow {
            stage: stage.name.clone(),
            state,
            latest_run: run.map(|r| r.run_id.clone()),
            latest_event: event,
            approved_run: approved,
            reasons,
            conflicts,
            invalid,
            latest: run.cloned(),
        });
    }
    cache.save();
    Ok(StatusReport { stages })
}
