//! What the report's index shows besides the table: plots gathered from the runs'
//! `show` reports, and the narratives as `narrative check` judges them.

use super::super::narrative::{check, Source};
use super::super::show::ShowReport;
use super::page_name;
use crate::error::Result;
use crate::model::narrative::{parse, regions};
use crate::narrative::Severity;
use crate::report::plot::{svg, Shape};
use crate::report::{BlockView, NarrativeView, Plot};
use crate::store::Store;
use std::collections::{BTreeMap, BTreeSet};

fn number(v: Option<&serde_json::Value>) -> Option<f64> {
    v.and_then(serde_json::Value::as_f64)
        .filter(|n| n.is_finite())
}

/// The numeric metric names of `runs`.
fn metric_names(runs: &[&ShowReport]) -> BTreeSet<String> {
    runs.iter()
        .flat_map(|s| s.manifest.metrics.iter())
        .filter(|(_, v)| number(Some(v)).is_some())
        .map(|(k, _)| k.clone())
        .collect()
}

/// Params numeric in every run of a sweep and taking more than one value.
fn swept_params(runs: &[&ShowReport]) -> Vec<String> {
    let keys: BTreeSet<&String> = runs
        .iter()
        .flat_map(|s| s.manifest.params_used.keys())
        .collect();
    keys.into_iter()
        .filter(|k| {
            let vals: Option<Vec<f64>> = runs
                .iter()
                .map(|s| number(s.manifest.params_used.get(*k)))
                .collect();
            vals.is_some_and(|v| v.iter().any(|x| *x != v[0]))
        })
        .cloned()
        .collect()
}

/// The unit a time axis spanning `span_ms` reads best in, and its milliseconds.
fn time_unit(span_ms: i64) -> (&'static str, f64) {
    if span_ms <= 120_000 {
        ("seconds", 1e3)
    } else if span_ms <= 7_200_000 {
        ("minutes", 6e4)
    } else if span_ms <= 172_800_000 {
        ("hours", 3.6e6)
    } else {
        ("days", 8.64e7)
    }
}

/// Each metric against each swept param per sweep, then each metric over time per
/// stage.
pub fn plots(shows: &[ShowReport]) -> Vec<Plot> {
    let mut sweeps: BTreeMap<&str, Vec<&ShowReport>> = BTreeMap::new();
    let mut stages: BTreeMap<&str, Vec<&ShowReport>> = BTreeMap::new();
    for s in shows {
        if let Some(id) = &s.manifest.sweep_id {
            sweeps.entry(id).or_default().push(s);
        }
        stages.entry(s.stage.as_str()).or_default().push(s);
    }
    let mut out = Vec::new();
    for (id, runs) in &sweeps {
        for param in swept_params(runs) {
            for metric in metric_names(runs) {
                let pts: Vec<(f64, f64)> = runs
                    .iter()
                    .filter_map(|s| {
                        let m = &s.manifest;
                        Some((
                            number(m.params_used.get(&param))?,
                            number(m.metrics.get(&metric))?,
                        ))
                    })
                    .collect();
                if let Some(svg) = svg(&pts, Shape::Points) {
                    out.push(Plot {
                        kind: "sweep",
                        group: id.to_string(),
                        metric,
                        x: param.clone(),
                        svg,
                    });
                }
            }
        }
    }
    for (stage, runs) in &stages {
        let times = runs.iter().map(|s| s.manifest.started_at.unix_millis());
        let first = times.clone().min().unwrap_or(0);
        let (unit, per) = time_unit(times.max().unwrap_or(0) - first);
        for metric in metric_names(runs) {
            let pts: Vec<(f64, f64)> = runs
                .iter()
                .filter_map(|s| {
                    let t = (s.manifest.started_at.unix_millis() - first) as f64 / per;
                    Some((t, number(s.manifest.metrics.get(&metric))?))
                })
                .collect();
            if let Some(svg) = svg(&pts, Shape::Line) {
                let x = format!("{unit} since the stage's first run");
                out.push(Plot {
                    kind: "time",
                    group: stage.to_string(),
                    metric,
                    x,
                    svg,
                });
            }
        }
    }
    out
}

/// Every narrative file of the working tree, each block with what the check found.
/// `pages` are the run pages the report holds.
pub fn narratives(store: &Store, pages: &BTreeSet<String>) -> Result<Vec<NarrativeView>> {
    let Some(root) = store.maybe_workdir() else {
        return Ok(Vec::new());
    };
    let checked = check(store, Source::Worktree, &[])?;
    let mut out = Vec::new();
    for file in &checked.files {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        let mut problems: Vec<_> = checked
            .problems
            .iter()
            .filter(|p| &p.file == file)
            .collect();
        let mut blocks = Vec::new();
        for region in regions(file, &text).unwrap_or_default() {
            for b in parse(&region.text, region.syntax).blocks {
                let (lo, hi) = (region.file_line(b.begin_line), region.file_line(b.end_line));
                let (stage, run) = (b.stage.to_string(), b.run.to_string());
                let (mine, rest): (Vec<_>, Vec<_>) = problems.into_iter().partition(|p| {
                    (lo..=hi).contains(&p.line)
                        || (p.stage.as_ref().map(|s| s.to_string()) == Some(stage.clone())
                            && p.run.as_ref().map(|r| r.to_string()) == Some(run.clone()))
                });
                problems = rest;
                let status = if mine.iter().any(|p| p.severity == Severity::Error) {
                    "error"
                } else if mine.is_empty() {
                    "ok"
                } else {
                    "warning"
                };
                let page = format!("runs/{}", page_name(&stage, &run));
                blocks.push(BlockView {
                    line: lo,
                    page: pages.contains(&page).then_some(page),
                    stage,
                    run,
                    status: status.to_string(),
                    detail: mine.iter().map(|p| p.reason.clone()).collect(),
                });
            }
        }
        let severity = |s: Severity| {
            if s == Severity::Error {
                "error"
            } else {
                "warning"
            }
        };
        out.push(NarrativeView {
            file: file.clone(),
            blocks,
            problems: problems
                .iter()
                .map(|p| {
                    (
                        severity(p.severity).to_string(),
                        format!("line {}: {}", p.line, p.reason),
                    )
                })
                .collect(),
        });
    }
    Ok(out)
}
