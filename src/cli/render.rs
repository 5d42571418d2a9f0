//! Renderings more than one command shows: the comparison table (`compare`, `sweep`),
//! a keyed table diff (`diff`, the git diff driver), and narrative problems (`narrative
//! check`, the hook, `verify`).

use super::output::Out;
use crate::error::Result;
use crate::model::table::{markdown_cell, markdown_escape};
use crate::model::table_diff::{CellChange, Change, RowChange, Trend};
use crate::narrative::Problem;
use crate::ops::compare::CompareReport;
use crate::ops::diff::DiffReport;

/// How a table or diff is written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
    Markdown,
}

/// How the terminal table is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TableView {
    /// Fitted to the width, columns hidden by priority.
    #[default]
    Fit,
    /// Every column, nothing cut.
    Wide,
    /// One block of `column: value` lines per run.
    Vertical,
}

/// The comparison table in `format`.
pub fn comparison(out: &Out, report: &CompareReport, format: TableFormat) -> String {
    comparison_view(out, report, format, TableView::Fit)
}

/// The comparison table in `format`, the terminal table laid out as `view` says.
pub fn comparison_view(
    out: &Out,
    report: &CompareReport,
    format: TableFormat,
    view: TableView,
) -> String {
    let mut v = Vec::new();
    write_comparison(out, report, format, view, &mut v).expect("write to memory");
    String::from_utf8(v).expect("utf-8 table")
}

/// `comparison_view`, written row by row to `w` (a 100,000-run table in JSON is
/// hundreds of MiB: never held whole). JSON ends in a line break, as `Out::json`.
pub fn write_comparison(
    out: &Out,
    report: &CompareReport,
    format: TableFormat,
    view: TableView,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let t = &report.table;
    match format {
        TableFormat::Csv => crate::table::write_csv(t, w),
        TableFormat::Json => {
            crate::table::write_json_pretty(t, &mut *w)?;
            w.write_all(b"\n")
        }
        TableFormat::Markdown => crate::table::write_markdown(t, w),
        TableFormat::Table => {
            let v = crate::table::terminal::View {
                table: t,
                directions: &report.directions,
                short_ids: &report.short_ids,
                width: (view == TableView::Fit).then(|| out.table_width()),
            };
            let mut w = w;
            match view {
                TableView::Vertical => crate::table::terminal::write_vertical(&v, &mut w),
                _ => crate::table::terminal::write_table(&v, &mut w),
            }
        }
    }
}

fn delta_text(c: &CellChange) -> String {
    if let Some(t) = &c.text_diff {
        return t.clone();
    }
    let mut s = String::new();
    if let Some(d) = c.delta {
        s.push_str(&format!("{d:+}"));
        if let Some(r) = c.relative {
            s.push_str(&format!(" ({:+.1}%)", r * 100.0));
        }
    }
    match c.verdict {
        Some(Trend::Better) => s.push_str(" ▲ better"),
        Some(Trend::Worse) => s.push_str(" ▼ worse"),
        None => {}
    }
    s.trim().to_string()
}

/// An added or removed row as one `name=value ...` summary (the `params.`/`metrics.`
/// prefix dropped where the rest of the name is unique).
fn row_summary(r: &RowChange) -> String {
    let short = |c: &str| -> String {
        let s = c
            .strip_prefix("params.")
            .or_else(|| c.strip_prefix("metrics."))
            .unwrap_or(c);
        let clashes = r.cells.iter().filter(|o| {
            o.column == s
                || o.column.strip_prefix("params.") == Some(s)
                || o.column.strip_prefix("metrics.") == Some(s)
        });
        if clashes.count() > 1 {
            c.to_string()
        } else {
            s.to_string()
        }
    };
    r.cells
        .iter()
        .map(|c| {
            let v = if r.change == Change::Added {
                &c.new
            } else {
                &c.old
            };
            format!("{}={v}", short(&c.column))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The flat rows every format but JSON shows: key, change, column, old, new, Δ. A
/// changed row has one line per changed cell; an added or removed row one line with
/// its cells, so a sweep of new runs stays one line per run.
fn flat(changes: &[RowChange]) -> Vec<[String; 6]> {
    let mut out = Vec::new();
    for r in changes {
        let kind = match r.change {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
        .to_string();
        if r.change != Change::Changed {
            let summary = row_summary(r);
            let (old, new) = if r.change == Change::Added {
                (String::new(), summary)
            } else {
                (summary, String::new())
            };
            out.push([r.key.clone(), kind, String::new(), old, new, String::new()]);
            continue;
        }
        for c in &r.cells {
            out.push([
                r.key.clone(),
                kind.clone(),
                c.column.clone(),
                c.old.clone(),
                c.new.clone(),
                delta_text(c),
            ]);
        }
    }
    out
}

const DIFF_HEAD: [&str; 6] = ["KEY", "CHANGE", "COLUMN", "OLD", "NEW", "Δ"];

/// The changes in one format: the same Old / New / Δ layout for every kind of diff.
pub fn diff(out: &Out, report: &DiffReport, format: TableFormat) -> String {
    let changes = &report.changes;
    match format {
        TableFormat::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("json serializes");
            s.push('\n');
            s
        }
        TableFormat::Csv => {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            w.write_record(["key", "change", "column", "old", "new", "delta"])
                .expect("memory");
            for r in flat(changes) {
                w.write_record(&r).expect("memory");
            }
            String::from_utf8(w.into_inner().expect("memory")).expect("utf-8")
        }
        TableFormat::Markdown => {
            let mut s = format!("| {} |\n|{}\n", DIFF_HEAD.join(" | "), " --- |".repeat(6));
            for r in flat(changes) {
                // The Δ text is ours (`+0.25 (+50.0%) ▲ better`, a word diff), never a
                // formula; its pipes are still escaped.
                let cells: Vec<String> = r
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == 5 {
                            markdown_cell(c)
                        } else {
                            markdown_escape(c)
                        }
                    })
                    .collect();
                s.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
            s
        }
        TableFormat::Table => {
            if changes.is_empty() {
                return format!("{}: no changes\n", report.path);
            }
            let mut t = out.table(&DIFF_HEAD);
            for r in flat(changes) {
                t.add_row(r.to_vec());
            }
            let count = |c: Change| changes.iter().filter(|r| r.change == c).count();
            format!(
                "{t}\n{}: {} added, {} removed, {} changed\n",
                report.path,
                count(Change::Added),
                count(Change::Removed),
                count(Change::Changed)
            )
        }
    }
}

/// Problems for a terminal: `file:line: severity: stage/run: reason`, the fix, the diff.
pub fn problems(problems: &[Problem]) -> String {
    let mut s = String::new();
    for p in problems {
        s.push_str(&problem(p));
    }
    s
}

pub fn problem(p: &Problem) -> String {
    let what = match (&p.stage, &p.run) {
        (Some(st), Some(r)) => format!(" {st}/{r}:"),
        _ => String::new(),
    };
    let sev = match p.severity {
        crate::narrative::Severity::Error => "error",
        crate::narrative::Severity::Warning => "warning",
    };
    let mut s = format!("{}:{}: {sev}:{what} {}\n", p.file, p.line, p.reason);
    s.push_str(&format!("  fix: {}\n", p.fix));
    if let Some(d) = &p.diff {
        for l in d.lines() {
            s.push_str(&format!("  {l}\n"));
        }
    }
    s
}

/// Prints the warnings of a report, then its JSON or its human rendering.
pub fn report<T: serde::Serialize>(
    out: &Out,
    report: &T,
    warnings: &[String],
    human: impl FnOnce() -> Result<()>,
) -> Result<()> {
    out.warnings(warnings);
    if out.json {
        out.json(report)
    } else {
        human()
    }
}

/// Shows a narrative check (the problems on stderr, or the JSON) and returns its exit
/// code: 1 when any problem is an error.
pub fn check_report(out: &Out, r: &crate::ops::narrative::CheckReport, what: &str) -> Result<u8> {
    if out.json {
        out.json(r)?;
        return Ok(u8::from(r.errors > 0));
    }
    for e in &r.events {
        if e.kind == crate::narrative::transition::EventKind::Unmarked {
            out.note(&format!(
                "{what}: {} is unmarked: its {} block(s) will no longer be checked (verify lists this)",
                e.file,
                e.blocks.unwrap_or(0)
            ));
        }
    }
    if !r.problems.is_empty() {
        out.note(problems(&r.problems).trim_end());
        if r.errors > 0 {
            out.note(&format!(
                "{what}: {} narrative problem(s); only approved results may enter a narrative",
                r.errors
            ));
        }
    }
    Ok(u8::from(r.errors > 0))
}
