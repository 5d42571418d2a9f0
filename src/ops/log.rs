//! `log [STAGE]`: runs newest first, with their chain of transitions.

use crate::error::Result;
use crate::model::manifest::RunStatus;
use crate::model::state::{RunEvent, RunState};
use crate::model::time::Timestamp;
use crate::model::{ObjectId, RunId, StageName};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One run in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    pub run_id: RunId,
    pub stage: StageName,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub record: ObjectId,
    pub state: Option<RunState>,
    /// The event of each transition, oldest first (`null`: a commit without one).
    pub events: Vec<Option<RunEvent>>,
    pub status: RunStatus,
    pub exit_code: i32,
    pub started_at: Timestamp,
    pub duration_seconds: f64,
    pub parent_run_id: Option<RunId>,
    pub params_used: BTreeMap<String, Value>,
    pub metrics: BTreeMap<String, Value>,
    /// Why the record breaks the record rules, when it does: its events are then
    /// what the commits claim, not a history anyone can trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
}

/// `log --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogReport {
    pub runs: Vec<LogEntry>,
}

pub fn log(store: &Store, stage: Option<&StageName>, max: Option<usize>) -> Result<LogReport> {
    let mut runs = match max {
        Some(n) => store.newest_runs(stage, n)?,
        None => store.list_runs(stage)?,
    };
    runs.sort_by(|a, b| (&b.run_id, &b.stage).cmp(&(&a.run_id, &a.stage)));
    runs.truncate(max.unwrap_or(usize::MAX));
    let mut out = Vec::new();
    for r in runs {
        let m = store.read_manifest(r.tip)?;
        let events: Vec<Option<RunEvent>> = store.history(r.tip)?.iter().map(|t| t.event).collect();
        let invalid = store.check_run(&r)?.err().map(|i| i.why);
        out.push(LogEntry {
            invalid,
            ref_name: r.ref_name(),
            record: r.tip,
            state: events.last().copied().flatten().map(RunState::of),
            events,
            status: m.status,
            exit_code: m.exit_code,
            started_at: m.started_at,
            duration_seconds: m.duration_seconds,
            parent_run_id: m.parent_run_id,
            params_used: m.params_used,
            metrics: m.metrics,
            run_id: r.run_id,
            stage: r.stage,
        });
    }
    Ok(LogReport { runs: out })
}
