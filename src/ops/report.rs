//! `report`: a static HTML report of every run, built from the reports the other use
//! cases return (`compare`'s table, `show` for each run, `narrative check`), rendered
//! by `crate::report`, written into a temporary directory beside the target and
//! swapped in, so a crash never leaves half a report where the last one was.

use super::compare::{compare, CompareRequest};
use super::show::{show_run, ShowReport};
use crate::error::{Error, Result};
use crate::model::manifest::display_value;
use crate::model::{RunId, StageName};
use crate::report::{self, FigureView, RowLinks, RunView};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default report directory, relative to the repository root (inside the
/// ignored `runs/`).
pub const REPORT_DIR: &str = "runs/report";
/// The file that marks a directory as a report this command may replace.
pub const MARKER: &str = ".workbench-report";

use crate::exec::progress::{Phase, Progress, Unit};

mod views;

#[derive(Debug, Clone, Default)]
pub struct ReportRequest {
    /// Where to write (default `REPORT_DIR` at the repository root).
    pub dir: Option<PathBuf>,
    /// Open `index.html` in a browser once written.
    pub open: bool,
}

/// `report --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportReport {
    /// The report directory, absolute.
    pub dir: PathBuf,
    pub index: PathBuf,
    /// Pages written: the index and one per run.
    pub pages: usize,
    pub runs: usize,
    pub plots: usize,
    /// Figure files copied (one per distinct content).
    pub figures: usize,
    pub narratives: usize,
    /// The browser started by `--open` (`null`: not asked, or none found).
    pub opened_with: Option<String>,
}

/// The file name of a run's page: a digest of its stage and id, so no name from a
/// record becomes a path.
fn page_name(stage: &str, run: &str) -> String {
    let d = Sha256::digest(format!("{stage}/{run}").as_bytes());
    let hex: String = d.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.html")
}

/// Where the report in `dir` holds the page of `run` of `stage`.
pub fn run_page(dir: &Path, stage: &StageName, run: &RunId) -> PathBuf {
    dir.join("runs")
        .join(page_name(stage.as_str(), run.as_ref()))
}

/// Writes the report to its default directory and opens the page of one run in a
/// browser: the approve prompt's `o`. The page written, and the browser started
/// (`None`: there is none).
pub fn open_run_page(
    store: &Store,
    stage: &StageName,
    run: &RunId,
    progress: &dyn Progress,
) -> Result<(PathBuf, Option<String>)> {
    let r = report(store, &ReportRequest::default(), progress)?;
    let page = run_page(&r.dir, stage, run);
    let opened = crate::exec::browser::open(&page);
    Ok((page, opened))
}

/// The files of a report, by path relative to its directory.
type Files = BTreeMap<String, Vec<u8>>;

pub fn report(store: &Store, req: &ReportRequest, progress: &dyn Progress) -> Result<ReportReport> {
    let dir = match &req.dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => std::env::current_dir()
            .map_err(Error::io(Path::new(".")))?
            .join(d),
        None => store.workdir("report")?.join(REPORT_DIR),
    };
    refuse_foreign(&dir)?;
    let cmp = compare(store, &CompareRequest::default())?;
    let dense = cmp.table.to_dense();
    let t = &dense;
    let mut files = Files::new();
    let (rows, shows) = {
        let _phase = Phase::begin(
            progress,
            "writing the report",
            Some(t.rows.len() as u64),
            Unit::Records,
        );
        run_pages(store, t, &mut files, progress)?
    };
    let plots = views::plots(&shows);
    let pages: std::collections::BTreeSet<String> = rows.iter().map(|r| r.page.clone()).collect();
    let narratives = views::narratives(store, &pages)?;
    let index = report::index(&report::IndexView {
        table: t,
        directions: &cmp.directions,
        rows: &rows,
        plots: &plots,
        narratives: &narratives,
    });
    files.insert("index.html".into(), index.into_bytes());
    let figures = files.keys().filter(|k| k.starts_with("figures/")).count();
    write_swapped(&dir, &files)?;
    let index = dir.join("index.html");
    Ok(ReportReport {
        opened_with: if req.open {
            crate::exec::browser::open(&index)
        } else {
            None
        },
        pages: rows.len() + 1,
        runs: rows.len(),
        plots: plots.len(),
        figures,
        narratives: narratives.len(),
        index,
        dir,
    })
}

/// Each row's run page into `files` (with its figures): the index's links, and the
/// `show` reports the plots are drawn from.
fn run_pages(
    store: &Store,
    t: &crate::model::table::Table,
    files: &mut Files,
    progress: &dyn Progress,
) -> Result<(Vec<RowLinks>, Vec<ShowReport>)> {
    let mut rows = Vec::new();
    let mut shows = Vec::new();
    let mut listed: BTreeMap<(String, String), crate::store::RunRef> = store
        .list_runs(None)?
        .into_iter()
        .map(|r| ((r.stage.to_string(), r.run_id.to_string()), r))
        .collect();
    for row in &t.rows {
        progress.advance(1);
        let (run_id, stage) = (row[0].render(), row[1].render());
        let page = page_name(&stage, &run_id);
        let shown = match listed.remove(&(stage.clone(), run_id.clone())) {
            Some(r) => show_run(store, r),
            None => Err(Error::input("not listed among the run refs")),
        };
        let view = match shown {
            Ok(s) => {
                let v = run_view(store, &s, files)?;
                shows.push(s);
                v
            }
            Err(e) => RunView {
                stage: stage.clone(),
                run_id: run_id.clone(),
                state: format!("not shown: {e}"),
                ..RunView::default()
            },
        };
        rows.push(RowLinks {
            page: format!("runs/{page}"),
            sweep: view.sweep.clone(),
        });
        files.insert(format!("runs/{page}"), report::run_page(&view).into_bytes());
    }
    Ok((rows, shows))
}

/// Refuses a target that is not a directory, or a non-empty one without the marker.
fn refuse_foreign(dir: &Path) -> Result<()> {
    let hint = "name an empty or new directory with -o, or remove this one";
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        return Err(Error::refused(format!(
            "{}: is a symbolic link; refusing to replace what it points to",
            dir.display()
        ))
        .hint(hint));
    }
    if !meta.is_dir() {
        return Err(
            Error::refused(format!("{}: exists and is not a directory", dir.display())).hint(hint),
        );
    }
    let empty = std::fs::read_dir(dir)
        .map_err(Error::io(dir))?
        .next()
        .is_none();
    let marked = std::fs::symlink_metadata(dir.join(MARKER)).is_ok_and(|m| m.is_file());
    if !empty && !marked {
        return Err(Error::refused(format!(
            "{}: not empty and not a workbench report (no {MARKER}); refusing to replace it",
            dir.display()
        ))
        .hint(hint));
    }
    Ok(())
}

/// Writes `files` into a new directory beside `dir` and swaps it in: exchanged with
/// the old report in one step where the system can, then the old one removed.
fn write_swapped(dir: &Path, files: &Files) -> Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(Error::io(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".report-new-")
        .tempdir_in(&parent)
        .map_err(Error::io(&parent))?;
    std::fs::write(tmp.path().join(MARKER), b"git-workbench report\n")
        .map_err(Error::io(tmp.path()))?;
    for (rel, bytes) in files {
        let path = tmp.path().join(rel);
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(Error::io(d))?;
        }
        std::fs::write(&path, bytes).map_err(Error::io(&path))?;
    }
    let new = tmp.keep();
    let swapped =
        std::fs::symlink_metadata(dir).is_ok() && crate::exec::swap::exchange(&new, dir).is_ok();
    if swapped {
        // `new` now holds the previous report.
        std::fs::remove_dir_all(&new).map_err(Error::io(&new))?;
        return Ok(());
    }
    rename_in(&parent, &new, dir)
}

/// Where the system cannot exchange: the old report renamed aside, the new one
/// renamed in, the old one removed (the old one put back if the second rename fails).
fn rename_in(parent: &Path, new: &Path, dir: &Path) -> Result<()> {
    let old = tempfile::Builder::new()
        .prefix(".report-old-")
        .tempdir_in(parent)
        .map_err(Error::io(parent))?;
    let aside = old.path().join("report");
    let had_old = std::fs::symlink_metadata(dir).is_ok();
    if had_old {
        std::fs::rename(dir, &aside).map_err(Error::io(dir))?;
    }
    if let Err(e) = std::fs::rename(new, dir) {
        if had_old {
            let _ = std::fs::rename(&aside, dir);
        }
        let _ = std::fs::remove_dir_all(new);
        return Err(Error::io(dir)(e));
    }
    drop(old);
    Ok(())
}

/// A run's page data, its figures copied into `files` as `figures/<sha256>.<ext>`.
fn run_view(store: &Store, s: &ShowReport, files: &mut Files) -> Result<RunView> {
    let m = &s.manifest;
    let kv = |map: &BTreeMap<String, serde_json::Value>| -> Vec<(String, String)> {
        map.iter()
            .map(|(k, v)| (k.clone(), display_value(v)))
            .collect()
    };
    let hashes = |map: &crate::model::digest::FileHashes| -> Vec<(String, String)> {
        map.iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    };
    let (figures, card_figures) = copy_figures(store, s, files)?;
    Ok(RunView {
        stage: s.stage.to_string(),
        run_id: s.run_id.to_string(),
        ref_name: s.ref_name.clone(),
        record: s.record.to_string(),
        state: s.state.to_string(),
        command: m.command.clone(),
        started_at: m.started_at.to_string(),
        sweep: m.sweep_id.clone(),
        params: kv(&m.params_used),
        metrics: kv(&m.metrics),
        inputs: hashes(&m.inputs),
        outputs: hashes(&m.outputs),
        card: store
            .record_file(s.record, "card.md")?
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        card_figures,
        figures,
        verdict: s.review.as_ref().map(|r| r.verdict.as_str().to_string()),
        checks: s
            .review
            .as_ref()
            .map(|r| r.checks.clone())
            .unwrap_or_default(),
        transitions: s
            .transitions
            .iter()
            .map(|t| report::run_page::TransitionView {
                event: t.event.map_or("(none)".into(), |e| e.to_string()),
                commit: t.commit.to_string(),
                author: t.author.clone(),
                time: crate::model::time::Timestamp::from_unix_millis(t.time * 1000).to_string(),
            })
            .collect(),
        approval: approval_lines(s),
    })
}

fn approval_lines(s: &ShowReport) -> Vec<(String, String)> {
    let Some(a) = &s.approval else {
        return Vec::new();
    };
    let mut v = vec![
        (
            "decision".into(),
            format!("{:?}", a.decision).to_lowercase(),
        ),
        ("approved_by".into(), a.approved_by.clone()),
        ("timestamp".into(), a.timestamp.to_string()),
        ("forced".into(), a.forced.to_string()),
        (
            "signature".into(),
            s.signature
                .map_or("none".into(), |g| g.as_str().to_string()),
        ),
        ("signed".into(), s.signed.to_string()),
    ];
    if let Some(d) = &s.signature_detail {
        v.push(("signature_detail".into(), d.clone()));
    }
    if !s.overridden_checks.is_empty() {
        v.push(("overridden_checks".into(), s.overridden_checks.join(", ")));
    }
    v.push(("interpretation".into(), a.approved_interpretation.clone()));
    v
}

/// The run's figures for its page, and the card's figure links resolved to them.
fn copy_figures(
    store: &Store,
    s: &ShowReport,
    files: &mut Files,
) -> Result<(Vec<FigureView>, BTreeMap<String, String>)> {
    let m = &s.manifest;
    let mut stored = super::mirror::figures::record_figures(store, s.record, m)?;
    let mut views = Vec::new();
    let mut card = BTreeMap::new();
    for f in crate::model::figures::figures(m) {
        let hash = m
            .outputs
            .get(&f.output)
            .map(|h| h.to_string())
            .unwrap_or_default();
        let href = match &f.mirrored {
            Err(why) => Err(why.to_string()),
            Ok(name) => match stored.remove(name) {
                None => Err("the record holds no copy of it".to_string()),
                Some(bytes) => {
                    let file = figure_file(name, &bytes);
                    files.insert(file.clone(), bytes);
                    card.insert(format!("figures/{name}"), format!("../{file}"));
                    Ok(format!("../{file}"))
                }
            },
        };
        views.push(FigureView {
            output: f.output.clone(),
            hash,
            href,
        });
    }
    Ok((views, card))
}

/// `figures/<sha256>.<ext>`: named by content, its extension one `is_figure` knows.
fn figure_file(name: &str, bytes: &[u8]) -> String {
    let lower = name.to_ascii_lowercase();
    let ext = ["png", "jpg", "jpeg", "svg"]
        .into_iter()
        .find(|e| lower.ends_with(&format!(".{e}")))
        .unwrap_or("bin");
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("figures/{hex}.{ext}")
}
