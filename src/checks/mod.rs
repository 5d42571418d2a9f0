//! The built-in self-review checks. Each returns a `CheckResult`; the caller merges
//! the agent's own checks and applies the verdict rule (`model::review`).

pub mod csv_scan;
pub mod figures;

use crate::model::card::is_figure;
use crate::model::config::ReviewSpec;
use crate::model::digest::{FileHashes, Sha256};
use crate::model::manifest::RunManifest;
use crate::model::review::CheckResult;
use std::collections::BTreeMap;
use std::path::Path;

/// What the checks look at.
pub struct Inputs<'a> {
    pub root: &'a Path,
    pub manifest: &'a RunManifest,
    pub spec: &'a ReviewSpec,
    /// Whether the stage declares a metrics file.
    pub metrics_declared: bool,
    /// The previous run of the stage, for the cross-run comparison.
    pub previous: Option<&'a RunManifest>,
    /// Current hash of each manifest output on disk; `None` when missing.
    pub on_disk: &'a BTreeMap<String, Option<Sha256>>,
    /// Scan results of the CSV outputs (path → stats or error).
    pub csv: &'a BTreeMap<String, Result<csv_scan::CsvStats, String>>,
    /// The most bytes a figure may decode to (`max_decoded_figure_size`).
    pub max_decoded_figure_size: u64,
    /// The other recorded runs of the run's sweep, when it belongs to one.
    pub sweep: &'a [RunManifest],
    /// Acceptance criteria the run must meet: (rejected run, criterion) from the
    /// rejection it answers.
    pub criteria: &'a [(String, String)],
}

fn list(items: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut s = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

/// Output files that are CSV or TSV tables.
pub fn is_table(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.ends_with(".csv") || p.ends_with(".tsv")
}

pub fn run_builtin(i: &Inputs) -> Vec<CheckResult> {
    let m = i.manifest;
    let mut out = Vec::new();

    // output_files_exist
    let mut missing: Vec<String> = m.missing_outputs.clone();
    missing.extend(
        i.on_disk
            .iter()
            .filter(|(_, h)| h.is_none())
            .map(|(p, _)| p.clone()),
    );
    let unrecorded = &m.unrecorded_outputs;
    let mut notes = Vec::new();
    if !missing.is_empty() {
        notes.push(format!("missing: {}", list(&missing)));
    }
    if !unrecorded.is_empty() {
        notes.push(format!(
            "not recorded, names not UTF-8: {}",
            list(unrecorded)
        ));
    }
    out.push(CheckResult::builtin(
        "output_files_exist",
        notes.is_empty(),
        true,
        (!notes.is_empty()).then(|| notes.join("; ")),
    ));

    // outputs_match_manifest
    let changed: Vec<String> = i
        .on_disk
        .iter()
        .filter(|(p, h)| h.as_ref().is_some_and(|h| Some(h) != m.outputs.get(*p)))
        .map(|(p, _)| p.clone())
        .collect();
    out.push(CheckResult::builtin(
        "outputs_match_manifest",
        changed.is_empty(),
        true,
        (!changed.is_empty()).then(|| format!("changed on disk since the run: {}", list(&changed))),
    ));

    // non_empty_outputs
    let empty: Vec<String> = m
        .outputs
        .keys()
        .filter(|p| std::fs::metadata(i.root.join(p)).is_ok_and(|md| md.len() == 0))
        .cloned()
        .collect();
    out.push(CheckResult::builtin(
        "non_empty_outputs",
        empty.is_empty(),
        true,
        (!empty.is_empty()).then(|| format!("empty: {}", list(&empty))),
    ));

    // command_succeeded
    out.push(CheckResult::builtin(
        "command_succeeded",
        m.exit_code == 0,
        true,
        (m.exit_code != 0).then(|| format!("exit code {}", m.exit_code)),
    ));

    // summary_valid
    let summary = if !i.metrics_declared {
        (true, Some("no metrics file declared".to_string()))
    } else if let Some(e) = &m.metrics_error {
        (false, Some(e.clone()))
    } else if m.metrics.is_empty() {
        (false, Some("the metrics file holds no metrics".to_string()))
    } else {
        let bad: Vec<String> = m
            .metrics
            .iter()
            .filter(|(_, v)| !v.as_f64().is_some_and(f64::is_finite))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        (
            bad.is_empty(),
            (!bad.is_empty()).then(|| format!("not finite numbers: {}", list(&bad))),
        )
    };
    out.push(CheckResult::builtin(
        "summary_valid",
        summary.0,
        true,
        summary.1,
    ));

    // no_nan_inf and row_counts, from the CSV scans
    let mut nan_notes = Vec::new();
    let mut row_notes = Vec::new();
    let mut rows_ok = true;
    for (path, scan) in i.csv {
        match scan {
            Err(e) => nan_notes.push(format!("{path}: {e}")),
            Ok(stats) => {
                for (col, n) in &stats.non_finite {
                    nan_notes.push(format!("{path}: {n} NaN/Inf in column '{col}'"));
                }
                for col in &stats.missing_columns {
                    nan_notes.push(format!("{path}: no column '{col}'"));
                }
                let low = i.spec.min_rows.is_some_and(|min| stats.rows < min);
                let high = i.spec.max_rows.is_some_and(|max| stats.rows > max);
                rows_ok &= !low && !high;
                let bound = match (low, high) {
                    (true, _) => format!(" (below min_rows {})", i.spec.min_rows.unwrap_or(0)),
                    (_, true) => format!(" (above max_rows {})", i.spec.max_rows.unwrap_or(0)),
                    _ => String::new(),
                };
                row_notes.push(format!("{path}: {} rows{bound}", stats.rows));
            }
        }
    }
    let no_tables = i.csv.is_empty().then(|| "no CSV outputs".to_string());
    out.push(CheckResult::builtin(
        "no_nan_inf",
        nan_notes.is_empty(),
        true,
        no_tables
            .clone()
            .or((!nan_notes.is_empty()).then(|| list(&nan_notes))),
    ));
    let bounds_declared = i.spec.min_rows.is_some() || i.spec.max_rows.is_some();
    let row_note = if i.csv.is_empty() {
        if bounds_declared {
            rows_ok = false;
            Some("row bounds are declared but there are no CSV outputs".to_string())
        } else {
            no_tables
        }
    } else {
        Some(list(&row_notes))
    };
    out.push(CheckResult::builtin("row_counts", rows_ok, true, row_note));

    // metric_ranges
    let mut range_notes = Vec::new();
    for (metric, [lo, hi]) in &i.spec.metric_ranges {
        match m.metrics.get(metric).and_then(|v| v.as_f64()) {
            None => range_notes.push(format!("{metric} missing")),
            Some(v) if v < lo.get() || v > hi.get() || v.is_nan() => {
                range_notes.push(format!("{metric}={v} outside [{}, {}]", lo.get(), hi.get()))
            }
            Some(_) => {}
        }
    }
    out.push(CheckResult::builtin(
        "metric_ranges",
        range_notes.is_empty(),
        true,
        if i.spec.metric_ranges.is_empty() {
            Some("no ranges declared".to_string())
        } else {
            (!range_notes.is_empty()).then(|| list(&range_notes))
        },
    ));

    // figures_non_trivial
    let figures: Vec<&String> = m.outputs.keys().filter(|p| is_figure(p)).collect();
    let mut fig_notes = Vec::new();
    for f in &figures {
        if let Err(e) = figures::check_figure(&i.root.join(f), i.max_decoded_figure_size) {
            fig_notes.push(format!("{f}: {e}"));
        }
    }
    out.push(CheckResult::builtin(
        "figures_non_trivial",
        fig_notes.is_empty(),
        true,
        if figures.is_empty() {
            Some("no figures".to_string())
        } else {
            (!fig_notes.is_empty()).then(|| list(&fig_notes))
        },
    ));

    // metrics_changed_with_params (a warning)
    if let Some(prev) = i.previous {
        // A stage that declares constant metrics expected is not warned about them.
        let same = !i.spec.expect_constant_metrics
            && !m.metrics.is_empty()
            && prev.metrics == m.metrics
            && prev.params_used != m.params_used;
        out.push(CheckResult::builtin(
            "metrics_changed_with_params",
            !same,
            false,
            same.then(|| {
                format!(
                    "metrics are identical to run {} although the params differ: are the params used?",
                    prev.run_id
                )
            }),
        ));
    }

    // sweep_metrics_vary
    if m.sweep_id.is_some() {
        out.push(sweep_metrics_vary(
            m,
            i.sweep,
            i.spec.expect_constant_metrics,
        ));
    }

    // acceptance_criterion: ...
    for (rejected, text) in i.criteria {
        out.push(crate::model::criterion::check(text, rejected, &m.metrics));
    }
    out
}

/// A sweep whose metrics are the same for every param set ran the same thing every
/// time (the command did not read the values): blocking, unless the stage declares
/// constant metrics expected (`review.expect_constant_metrics`).
fn sweep_metrics_vary(m: &RunManifest, others: &[RunManifest], expected: bool) -> CheckResult {
    let done: Vec<&RunManifest> = std::iter::once(m)
        .chain(others.iter().filter(|o| o.run_id != m.run_id))
        .filter(|r| r.exit_code == 0 && !r.metrics.is_empty())
        .collect();
    let distinct_params = done
        .iter()
        .map(|r| serde_json::to_string(&r.params_used).unwrap_or_default())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let constant = distinct_params >= 2 && done.iter().all(|r| r.metrics == m.metrics);
    let note = if distinct_params < 2 {
        Some(format!(
            "{} finished run(s) of the sweep with metrics so far: nothing to compare yet",
            done.len()
        ))
    } else if constant && expected {
        Some(format!(
            "the metrics are the same for all {} param sets, as the stage declares expected",
            distinct_params
        ))
    } else if constant {
        Some(format!(
            "the metrics are identical for all {distinct_params} param sets of the sweep: does the command read its params? (declare review.expect_constant_metrics = true when that is expected)"
        ))
    } else {
        None
    };
    CheckResult::builtin("sweep_metrics_vary", !constant || expected, true, note)
}

/// Output hashes as `path → Some(hash)` for files that exist.
pub fn on_disk(
    manifest_outputs: &FileHashes,
    hashed: &FileHashes,
) -> BTreeMap<String, Option<Sha256>> {
    manifest_outputs
        .keys()
        .map(|p| (p.clone(), hashed.get(p).copied()))
        .collect()
}
