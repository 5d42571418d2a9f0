//! `review RUN`: the self-review. Runs the built-in checks on the run's outputs,
//! merges the agent's own checks, and records `review.json`.

use super::records::{after_transition, answered_rejection, guard, sweep_runs};
use super::resolve::resolve_run;
use super::workspace::Workspace;
use crate::checks::{self, csv_scan, is_table};
use crate::error::{Error, Result};
use crate::exec::clock;
use crate::exec::hash::hash_files_shown;
use crate::model::digest::FileHashes;
use crate::model::review::{parse_agent_checks, ReviewRecord, Verdict};
use crate::model::state::{Action, RunEvent};
use crate::model::{ObjectId, RunId, StageName};
use crate::store::NewTransition;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub struct ReviewRequest {
    pub run: String,
    /// JSON list of checks the agent ran itself.
    pub checks: Option<PathBuf>,
}

/// `review --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewReport {
    pub run_id: RunId,
    pub stage: StageName,
    pub verdict: Verdict,
    pub record: ObjectId,
    pub review: ReviewRecord,
    pub warnings: Vec<String>,
}

pub fn review(ws: &Workspace, req: &ReviewRequest) -> Result<ReviewReport> {
    let run = resolve_run(&ws.store, &req.run)?;
    guard(&ws.store, &run, Action::Review)?;
    let agent = match &req.checks {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
            parse_agent_checks(&text).map_err(|e| {
                Error::input(format!("--checks {}: {e}", path.display()))
                    .hint(r#"expected a JSON list like [{"name": "figure shows a trend", "pass": true, "note": "...", "blocking": false}]"#)
            })?
        }
    };
    let m = ws.store.read_manifest(run.tip)?;
    let mut results = builtin_checks(ws, &run, &m)?;
    results.extend(agent.into_iter().map(|c| c.into_result()));
    let reviewer = ws
        .store
        .decision_identity()
        .map(|(n, e)| format!("{n} <{e}>"))
        .unwrap_or_else(|_| "git-workbench".to_string());
    let review = ReviewRecord::new(&run.stage, &run.run_id, results, clock::now(), reviewer);
    let record = ws.store.append_transition(&NewTransition {
        run: &run,
        event: RunEvent::Reviewed,
        files: vec![("review.json", review.to_json().into_bytes())],
        summary: format!("verdict: {}", review.verdict.as_str()),
        author: None,
        signer: None,
        approved_index: None,
    })?;
    let (moved, warnings) = after_transition(ws, &m, &run, RunEvent::Reviewed, record)?;
    Ok(ReviewReport {
        run_id: moved.run_id,
        stage: moved.stage,
        verdict: review.verdict,
        record: moved.tip,
        review,
        warnings,
    })
}

/// The built-in checks on a run's outputs as they are on disk now.
fn builtin_checks(
    ws: &Workspace,
    run: &crate::store::RunRef,
    m: &crate::model::manifest::RunManifest,
) -> Result<Vec<crate::model::review::CheckResult>> {
    let stage = ws.config.stage(&run.stage);
    let spec = stage.map(|s| s.review.clone()).unwrap_or_default();
    let metrics_declared = stage.map_or(!m.metrics.is_empty() || m.metrics_error.is_some(), |s| {
        s.metrics.is_some()
    });
    let previous = match &m.parent_run_id {
        Some(p) => match ws.store.find_run(&run.stage, p)? {
            Some(r) => Some(ws.store.read_manifest(r.tip)?),
            None => None,
        },
        None => None,
    };
    // Hash the outputs on one core while the tables are scanned on the other.
    let present = ws.present_outputs(m);
    let tables: Vec<String> = present.iter().filter(|p| is_table(p)).cloned().collect();
    let mut cache = ws.stat_cache();
    let root = &ws.root;
    let (hashed, csv) = std::thread::scope(|s| {
        let scans = s.spawn(|| {
            tables
                .iter()
                .map(|t| {
                    (
                        t.clone(),
                        csv_scan::scan_csv(&root.join(t), &spec.key_columns),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        });
        let hashed = hash_files_shown(root, &present, &mut cache, &*ws.progress, "hashing outputs");
        (hashed, scans.join().expect("csv scan thread"))
    });
    let hashed: FileHashes = hashed?.into_iter().collect();
    cache.save();
    let on_disk = checks::on_disk(&m.outputs, &hashed);
    let sweep: Vec<_> = match &m.sweep_id {
        Some(id) => sweep_runs(&ws.store, &run.stage, id)?
            .into_iter()
            .map(|(_, m)| m)
            .collect(),
        None => Vec::new(),
    };
    let criteria: Vec<(String, String)> = answered_rejection(&ws.store, &run.stage, &run.run_id)?
        .map(|(r, fb)| {
            fb.acceptance_criteria
                .into_iter()
                .map(|c| (r.run_id.to_string(), c))
                .collect()
        })
        .unwrap_or_default();
    Ok(checks::run_builtin(&checks::Inputs {
        root: &ws.root,
        manifest: m,
        spec: &spec,
        metrics_declared,
        previous: previous.as_ref(),
        on_disk: &on_disk,
        csv: &csv,
        max_decoded_figure_size: stage.map_or(ws.config.max_decoded_figure_size, |s| {
            s.max_decoded_figure_size
        }),
        sweep: &sweep,
        criteria: &criteria,
    }))
}
