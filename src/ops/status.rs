//! `status`: one row per configured stage with its state, latest and approved run,
//! and, when it is stale, why.

use super::records::{answered_rejection, state_of, sweep_runs};
use super::workspace::Workspace;
use crate::error::Result;
use crate::model::config::Stage;
use crate::model::manifest::RunManifest;
use crate::model::next::SweepPick;
use crate::model::staleness::{stale_reasons, StaleReason};
use crate::model::state::RunState;
use crate::model::state::{RunEvent, StageState};
use crate::model::table::Direction;
use crate::model::{RunId, StageName};
use crate::store::RunRef;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageRow {
    pub stage: StageName,
    pub state: StageState,
    pub latest_run: Option<RunId>,
    pub latest_event: Option<RunEvent>,
    pub approved_run: Option<RunId>,
    /// The run the state is about: the latest run, or, when the latest run belongs to
    /// a sweep, the sweep's run being worked on (the one a decision or review was
    /// recorded for last, else the best by the stage's first metric direction).
    pub current_run: Option<RunId>,
    /// How the sweep's runs were ranked, when the current run comes from a sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepPick>,
    pub reasons: Vec<StaleReason>,
    /// Runs of the stage in conflict (two clones decided differently), newest first.
    #[serde(default)]
    pub conflicts: Vec<RunId>,
    /// Records of the stage that break the record rules, each with why: they are
    /// shown for what they are and never trusted.
    #[serde(default)]
    pub invalid: Vec<String>,
    /// The current run's ref and manifest, for the use cases that go on from a row.
    #[serde(skip)]
    pub latest: Option<RunRef>,
    #[serde(skip)]
    pub manifest: Option<RunManifest>,
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
    let mut cache = ws.stat_cache();
    let mut conflicted = ws.store.conflicted_runs_by_stage()?;
    let mut stages = Vec::new();
    for stage in &ws.config.stages {
        if !only.is_empty() && !only.contains(&stage.name) {
            continue;
        }
        // One lookup per stage, not a listing of every run.
        let newest = ws.store.latest_run(&stage.name)?;
        let newest = newest.as_ref();
        let mut current = match newest {
            None => None,
            Some(r) => Some((r.clone(), ws.store.read_manifest(r.tip)?)),
        };
        let mut sweep = None;
        if let Some((_, m)) = &current {
            if let Some(id) = m.sweep_id.clone() {
                let latest = current.clone().expect("checked");
                let (r, m, pick) = sweep_focus(ws, stage, &id, latest)?;
                current = Some((r, m));
                sweep = Some(pick);
            }
        }
        let run = current.as_ref().map(|(r, _)| r);
        let (event, reasons) = match &current {
            None => (None, vec![StaleReason::NeverRun]),
            Some((r, manifest)) => {
                let event = ws.store.latest_event(r.tip)?;
                let approved = event == Some(RunEvent::Approved);
                let reasons = match ws.current_state(stage, Some(manifest), &mut cache) {
                    Ok(now) => stale_reasons(manifest, &now, approved),
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
            latest_run: newest.map(|r| r.run_id.clone()),
            latest_event: event,
            approved_run: approved,
            current_run: run.map(|r| r.run_id.clone()),
            sweep,
            reasons,
            conflicts,
            invalid,
            latest: run.cloned(),
            manifest: current.map(|(_, m)| m),
        });
    }
    cache.save();
    Ok(StatusReport { stages })
}

/// The run of a sweep the stage's work is about: the one a review, card or decision
/// was recorded on last (the agent or the human is working on it), else the best by
/// the stage's first metric direction among the runs that succeeded with that
/// metric, else the newest run (and the pick says nothing ranks them).
///
/// When a rejection's acceptance criteria bind the sweep (it answers the rejection),
/// only the runs meeting them are ranked, unless none does.
fn sweep_focus(
    ws: &Workspace,
    stage: &Stage,
    sweep_id: &str,
    latest: (RunRef, RunManifest),
) -> Result<(RunRef, RunManifest, SweepPick)> {
    let mut runs = sweep_runs(&ws.store, &stage.name, sweep_id)?;
    // The latest run names the sweep, so it is one of its runs whatever the id says.
    if !runs.iter().any(|(r, _)| r.run_id == latest.0.run_id) {
        runs.push(latest);
    }
    let criteria: Vec<(String, String)> = match runs.first() {
        Some((first, _)) => answered_rejection(&ws.store, &stage.name, &first.run_id)?
            .map(|(r, fb)| {
                fb.acceptance_criteria
                    .into_iter()
                    .map(|c| (r.run_id.to_string(), c))
                    .collect()
            })
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let meets = |m: &RunManifest| {
        criteria
            .iter()
            .all(|(r, c)| crate::model::criterion::check(c, r, &m.metrics).pass)
    };
    let any_meets = runs.iter().any(|(_, m)| meets(m));
    let mut acted: Option<(i64, usize)> = None;
    for (i, (r, _)) in runs.iter().enumerate() {
        if !matches!(
            state_of(&ws.store, r)?,
            RunState::Executed | RunState::Failed
        ) {
            let time = ws.store.history(r.tip)?.last().map_or(0, |t| t.time);
            if acted.is_none_or(|(t, _)| time >= t) {
                acted = Some((time, i));
            }
        }
    }
    let direction = stage.directions.iter().next().map(|(k, d)| (k.clone(), *d));
    let mut ranked: Vec<(usize, f64)> = Vec::new();
    if let Some((metric, _)) = &direction {
        for (i, (_, m)) in runs.iter().enumerate() {
            let v = m.metrics.get(metric).and_then(|v| v.as_f64());
            if let (0, Some(v)) = (m.exit_code, v.filter(|v| v.is_finite())) {
                if !any_meets || meets(m) {
                    ranked.push((i, v));
                }
            }
        }
    }
    let best = direction.as_ref().and_then(|(_, d)| {
        ranked
            .iter()
            .copied()
            .reduce(|a, b| match d {
                // Ties go to the earlier run: the first combination reaching a value.
                Direction::Maximize if b.1 > a.1 => b,
                Direction::Minimize if b.1 < a.1 => b,
                _ => a,
            })
            .map(|(i, _)| i)
    });
    let chosen = acted
        .map(|(_, i)| i)
        .or(best)
        .unwrap_or(runs.len().saturating_sub(1));
    let pick = SweepPick {
        sweep_id: sweep_id.to_string(),
        runs: runs.len(),
        ranked: ranked.len(),
        metric: direction.as_ref().map(|(k, _)| k.clone()),
        direction: direction.map(|(_, d)| d),
        best: best.map(|i| runs[i].0.run_id.clone()),
        best_value: best.and_then(|i| {
            let metric = pick_metric(stage)?;
            runs[i].1.metrics.get(&metric).cloned()
        }),
    };
    let (r, m) = runs
        .into_iter()
        .nth(chosen)
        .expect("a sweep with a recorded run has one to choose");
    Ok((r, m, pick))
}

fn pick_metric(stage: &Stage) -> Option<String> {
    stage.directions.keys().next().cloned()
}
