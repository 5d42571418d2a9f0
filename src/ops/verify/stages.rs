//! What `verify` shows per stage for a pull request: the approved run the tip's
//! mirror shows, against the one the base's mirror showed; its metrics old, new and
//! their difference; its figures where the tip's mirror holds them; and how it was
//! approved (forced, signed).

use crate::error::Result;
use crate::model::decision::SignatureStatus;
use crate::model::figures::{figures, Unmirrored};
use crate::model::manifest::RunManifest;
use crate::model::mirror::{mirrored_run, Slot};
use crate::model::time::Timestamp;
use crate::model::{ObjectId, RunId, StageName};
use crate::narrative::approved_records;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A stage's approved run at the tip of the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageResult {
    pub stage: StageName,
    /// The approved run the tip's `review/<stage>/` shows.
    pub run: RunId,
    /// The approved run the base's mirror showed (`null`: none, or no range).
    pub base_run: Option<RunId>,
    pub approved_by: String,
    pub approved_at: Timestamp,
    /// Approved over a failed review (`approve --force`).
    pub forced: bool,
    /// The blocking checks a forced approval overrode.
    pub overridden_checks: Vec<String>,
    /// The approval commit's signature, verified against the base's allowed signers.
    pub signature: SignatureStatus,
    /// Each metric of either run, by name.
    pub metrics: Vec<MetricChange>,
    pub figures: Vec<FigureLink>,
}

/// A metric at the base's approved run and the tip's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricChange {
    pub name: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
    /// `new - old` when both are numbers.
    pub delta: Option<f64>,
}

/// A figure of the tip's approved run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureLink {
    /// The output's path in the run's manifest.
    pub output: String,
    /// Where the mirror holds it, relative to the repository root (`null`: it does not).
    pub path: Option<String>,
    /// `path` is a file of the tip's tree.
    pub committed: bool,
    /// Why it is not mirrored.
    pub not_mirrored: Option<Unmirrored>,
}

/// The approved run of each stage mirrored at the tip; `allowed` the base's
/// allowed-signers file, when there is one.
pub fn stage_results(
    store: &Store,
    stages: &[String],
    tip: ObjectId,
    base: Option<ObjectId>,
    allowed: Option<&std::path::Path>,
) -> Result<Vec<StageResult>> {
    let tip_paths: BTreeSet<String> = store.paths_at(&tip.to_string())?.into_iter().collect();
    let mut out = Vec::new();
    for dir in stages {
        let Ok(stage) = StageName::new(dir) else {
            continue;
        };
        let Some(shown) = shown_at(store, tip, &stage)? else {
            continue;
        };
        // Only a run the records approve: anything else is a mirror problem.
        let Some(approved) = approved_records(store, &stage, &shown.run_id)? else {
            continue;
        };
        let Some(run) = store.find_run(&stage, &shown.run_id)? else {
            continue;
        };
        let (signature, _) =
            crate::ops::signatures::approval_signature(store, &run, &approved.approval, allowed)?;
        let old = match base {
            Some(b) => shown_at(store, b, &stage)?,
            None => None,
        };
        out.push(StageResult {
            metrics: metric_changes(old.as_ref(), &approved.manifest),
            figures: figure_links(&stage, &approved.manifest, &tip_paths),
            base_run: old.map(|m| m.run_id),
            run: shown.run_id,
            approved_by: approved.approval.approved_by.clone(),
            approved_at: approved.approval.timestamp,
            forced: approved.approval.forced,
            overridden_checks: approved.overridden_checks(),
            signature,
            stage,
        });
    }
    Ok(out)
}

/// The run the mirror at `commit` shows as the stage's approved one: from the records
/// when this clone has the run, else as the committed manifest has it.
fn shown_at(store: &Store, commit: ObjectId, stage: &StageName) -> Result<Option<RunManifest>> {
    let path = Slot::Approved.file(stage.as_str(), "manifest.json");
    let Some(bytes) = store.blob_at(&commit.to_string(), &path)? else {
        return Ok(None);
    };
    let Ok(committed) = mirrored_run(&bytes) else {
        return Ok(None);
    };
    if committed.stage != *stage {
        return Ok(None);
    }
    match store.find_run(stage, &committed.run_id)? {
        Some(run) => Ok(Some(store.read_manifest(run.tip)?)),
        None => Ok(Some(committed)),
    }
}

/// Each metric of either run, old and new, with their difference.
pub fn metric_changes(old: Option<&RunManifest>, new: &RunManifest) -> Vec<MetricChange> {
    let empty = Default::default();
    let old_metrics = old.map_or(&empty, |m| &m.metrics);
    let names: BTreeSet<&String> = old_metrics.keys().chain(new.metrics.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let (o, n) = (old_metrics.get(name), new.metrics.get(name));
            let delta = match (o.and_then(|v| v.as_f64()), n.and_then(|v| v.as_f64())) {
                (Some(a), Some(b)) if (b - a).is_finite() => Some(b - a),
                _ => None,
            };
            MetricChange {
                name: name.clone(),
                old: o.cloned(),
                new: n.cloned(),
                delta,
            }
        })
        .collect()
}

fn figure_links(stage: &StageName, m: &RunManifest, tip: &BTreeSet<String>) -> Vec<FigureLink> {
    figures(m)
        .into_iter()
        .map(|f| {
            let path = f
                .slot_path()
                .map(|p| Slot::Approved.file(stage.as_str(), &p));
            FigureLink {
                committed: path.as_ref().is_some_and(|p| tip.contains(p)),
                output: f.output,
                path,
                not_mirrored: f.mirrored.err(),
            }
        })
        .collect()
}
