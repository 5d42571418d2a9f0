//! `git workbench review RUN`: the self-review. Runs the built-in checks on the run's
//! outputs, merges the agent's own checks, and records `review.json`.

use super::records::{after_transition, guard, now_rfc3339};
use super::{resolve_run, Out};
use crate::checks::{self, csv_scan, is_table};
use crate::error::{Error, Result};
use crate::exec::hash::hash_files;
use crate::model::config::ReviewSpec;
use crate::model::manifest::{tagged, HashMap};
use crate::model::review::{parse_agent_checks, ReviewRecord, Verdict};
use crate::model::state::{Action, RunEvent};
use crate::store::NewTransition;
use crate::workspace::Workspace;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Self-review a run: built-in checks on its outputs plus the agent's own checks.
///
/// Built-in checks: output_files_exist, outputs_match_manifest, non_empty_outputs,
/// command_succeeded, summary_valid, no_nan_inf, row_counts, metric_ranges,
/// figures_non_trivial, and a warning when metrics equal the previous run's although
/// the params differ. Exits 1 when the verdict is `fail`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to review (id, prefix, STAGE@latest).
    pub run: String,
    /// JSON list of checks the agent ran itself: [{"name", "pass", "note"?, "blocking"?}].
    #[arg(long, value_name = "FILE")]
    pub checks: Option<PathBuf>,
}

pub fn cmd_review(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("review")?;
    let run = resolve_run(&ws.store, &args.run)?;
    guard(&ws.store, &run, Action::Review)?;
    let agent = match &args.checks {
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
    let stage = ws.config.stage(&run.stage);
    let spec = stage
        .map(|s| s.review.clone())
        .unwrap_or_else(ReviewSpec::default);
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
    let present = ws.present_outputs(&m);
    let tables: Vec<String> = present.iter().filter(|p| is_table(p)).cloned().collect();
    let mut cache = ws.stat_cache();
    let (hashed, csv) = std::thread::scope(|s| {
        let scans = s.spawn(|| {
            tables
                .iter()
                .map(|t| {
                    (
                        t.clone(),
                        csv_scan::scan_csv(&ws.root.join(t), &spec.key_columns),
                    )
                })
                .collect::<BTreeMap<_, _>>()
        });
        let hashed = hash_files(&ws.root, &present, &mut cache);
        (hashed, scans.join().expect("csv scan thread"))
    });
    let hashed: HashMap = hashed?.into_iter().map(|(p, h)| (p, tagged(&h))).collect();
    cache.save();
    let on_disk = checks::on_disk(&m.outputs, &hashed);
    let mut results = checks::run_builtin(&checks::Inputs {
        root: &ws.root,
        manifest: &m,
        spec: &spec,
        metrics_declared,
        previous: previous.as_ref(),
        on_disk: &on_disk,
        csv: &csv,
    });
    results.extend(agent.into_iter().map(|c| c.into_result()));
    let reviewer = ws
        .store
        .decision_identity()
        .map(|(n, e)| format!("{n} <{e}>"))
        .unwrap_or_else(|_| "git-workbench".to_string());
    let review = ReviewRecord::new(&run.stage, &run.run_id, results, now_rfc3339(), reviewer);
    let summary = format!("verdict: {}", review.verdict.as_str());
    let record = ws.store.append_transition(&NewTransition {
        run: &run,
        event: RunEvent::Reviewed,
        files: vec![("review.json", review.to_json().into_bytes())],
        summary,
        author: None,
        signer: None,
        approved_index: None,
    })?;
    let moved = after_transition(out, &ws, &m, &run, RunEvent::Reviewed, record)?;
    if out.json {
        out.json_value(&json!({
            "run_id": run.run_id,
            "stage": run.stage,
            "verdict": review.verdict,
            "record": moved.tip.to_string(),
            "review": review,
        }));
    } else {
        let mut t = out.table(&["CHECK", "RESULT", "NOTE"]);
        for c in &review.checks {
            let result = match (c.pass, c.blocking) {
                (true, _) => "pass",
                (false, true) => "FAIL",
                (false, false) => "warn",
            };
            let name = if c.source == "agent" {
                format!("{} (agent)", c.name)
            } else {
                c.name.clone()
            };
            t.add_row(vec![
                name,
                result.to_string(),
                c.note.clone().unwrap_or_default(),
            ]);
        }
        out.line(&t.to_string());
        out.line(&format!(
            "reviewed run {} of stage {}: {} ({} blocking, {} warnings)",
            run.run_id,
            run.stage,
            review.verdict.as_str(),
            review.blocking_issues.len(),
            review.warnings.len()
        ));
        out.line(&format!("next: {}", review.recommendation));
    }
    Ok(if review.verdict == Verdict::Fail {
        1
    } else {
        0
    })
}
