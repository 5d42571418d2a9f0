//! `git workbench show`.

use super::Out;
use crate::error::Result;
use crate::model::text::{escape_controls, Lines};
use crate::model::time::Timestamp;
use crate::ops::show::{log, show, RunLog, ShowReport};
use crate::store::Store;

/// Show a run: manifest, transitions and note lines.
///
/// RUN is a full run id, a unique prefix, STAGE/PREFIX, STAGE@latest or STAGE@approved.
/// With --log, the log its command wrote instead.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to show.
    pub run: String,
    /// Print the log the run's command wrote (stdout and stderr) as the record stores
    /// it, byte for byte (on a terminal, control characters are escaped); a note on
    /// stderr says when the stored log was truncated.
    #[arg(long)]
    pub log: bool,
}

pub fn cmd_show(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    if args.log {
        return cmd_log(out, &store, &args.run);
    }
    let report = show(&store, &args.run)?;
    if out.json {
        out.json(&report)?;
    } else {
        let mut text = header(&report);
        text.push_str(&sections(&report));
        text.push_str(&decisions(&report));
        text.push_str(&transitions(&report));
        out.print(&text)?;
    }
    Ok(0)
}

fn cmd_log(out: &Out, store: &Store, run: &str) -> Result<u8> {
    let RunLog { report, bytes } = log(store, run)?;
    if report.truncated {
        out.note(&format!(
            "note: the stored log of run {} is truncated: the command wrote {} bytes and the record keeps the last {} of them (the stage's max_stored_size), after a line saying so",
            report.run_id,
            report.log_bytes,
            stored_tail(&bytes)
        ));
    }
    if out.json {
        out.json(&report)?;
    } else {
        out.print_record_bytes(&bytes)?;
    }
    Ok(0)
}

/// How many bytes of a truncated log are the command's: all but the first line,
/// which says how many were dropped.
fn stored_tail(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |n| bytes.len() - n - 1)
}

fn header(r: &ShowReport) -> String {
    let m = &r.manifest;
    let mut state = r.latest_event.map_or("unknown", |e| e.as_str()).to_string();
    if r.approval.as_ref().is_some_and(|a| a.forced) {
        state.push_str(", FORCED over a failed review");
    }
    let commit = m
        .code_ref
        .commit
        .map_or("(no commit)".to_string(), |c| c.to_string());
    let dirty = if m.code_ref.dirty {
        " + uncommitted changes"
    } else {
        ""
    };
    let origin = m.origin.as_ref().map_or(String::new(), |o| {
        let mut line = format!("origin:     {}", o.identity());
        for (label, v) in [("job", &o.job), ("host", &o.host), ("url", &o.url)] {
            if let Some(v) = v {
                line.push_str(&format!("  {label} {v}"));
            }
        }
        line.push('\n');
        line
    });
    format!(
        "run {} of stage {} ({state})\n\
         ref:        {}\n\
         record:     {}\n\
         command:    {}\n\
         status:     {} (exit {})\n\
         started:    {}  ({:.3} s)\n\
         code:       {commit}{dirty}  snapshot {}\n\
         parent:     {}\n\
         host:       {}  (git-workbench {})\n\
         {origin}",
        m.run_id,
        m.stage,
        r.ref_name,
        r.record,
        m.command,
        m.status.as_str(),
        m.exit_code,
        m.started_at,
        m.duration_seconds,
        m.code_ref.tree,
        m.parent_run_id.as_ref().map_or("-", |p| p.as_str()),
        m.host,
        m.tool_version
    )
}

/// One `key  value` line per row: a line break in a record's key or value is shown
/// as `\n`, so it cannot pass for another row.
fn section(text: &mut String, title: &str, rows: Vec<(String, String)>) {
    if rows.is_empty() {
        return;
    }
    let rows: Vec<(String, String)> = rows
        .iter()
        .map(|(k, v)| {
            (
                escape_controls(k, Lines::Escape).into_owned(),
                escape_controls(v, Lines::Escape).into_owned(),
            )
        })
        .collect();
    text.push_str(&format!("\n{title}:\n"));
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in rows {
        text.push_str(&format!("  {k:w$}  {v}\n"));
    }
}

fn sections(r: &ShowReport) -> String {
    let m = &r.manifest;
    let mut text = String::new();
    let params = m.params_used.iter().map(|(k, v)| {
        let o = if m.overrides.contains_key(k) {
            "  (-p)"
        } else {
            ""
        };
        (k.clone(), format!("{v}{o}"))
    });
    section(&mut text, "params", params.collect());
    let metrics = m.metrics.iter().map(|(k, v)| (k.clone(), v.to_string()));
    section(&mut text, "metrics", metrics.collect());
    let digests = |h: &crate::model::digest::FileHashes| -> Vec<(String, String)> {
        h.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
    };
    section(&mut text, "inputs", digests(&m.inputs));
    section(&mut text, "code files", digests(&m.code_files));
    let outputs = m
        .outputs
        .iter()
        .map(|(k, v)| {
            // DVC's cache holds what a DVC stage's run does not store (docs/dvc.md).
            let in_dvc = m.dvc.as_ref().is_some_and(|d| {
                d.outs.keys().any(|o| {
                    k == o
                        || k.strip_prefix(o.as_str())
                            .is_some_and(|r| r.starts_with('/'))
                })
            });
            let s = if m.stored_outputs.contains(k) {
                ""
            } else if m.lfs_outputs.contains_key(k) {
                "  (in git LFS)"
            } else if in_dvc {
                "  (in DVC's cache)"
            } else {
                "  (hashed only)"
            };
            (k.clone(), format!("{v}{s}"))
        })
        .chain(
            m.missing_outputs
                .iter()
                .map(|k| (k.clone(), "MISSING (declared, not produced)".into())),
        )
        .chain(
            m.unrecorded_outputs
                .iter()
                .map(|k| (k.clone(), "NOT RECORDED (name not UTF-8)".into())),
        );
    section(&mut text, "outputs", outputs.collect());
    if let Some(e) = &m.metrics_error {
        text.push_str(&format!("\nmetrics error: {e}\n"));
    }
    text
}

fn decisions(r: &ShowReport) -> String {
    let mut text = String::new();
    if let Some(rv) = &r.review {
        text.push_str(&format!(
            "\nreview:     {} ({} checks, {} blocking, {} warnings)\n",
            rv.verdict.as_str(),
            rv.checks.len(),
            rv.blocking_issues.len(),
            rv.warnings.len()
        ));
        // One line each: check names and notes are free text.
        for b in rv.blocking_issues.iter().chain(&rv.warnings) {
            text.push_str(&format!("  - {}\n", escape_controls(b, Lines::Escape)));
        }
    }
    if let Some(a) = &r.approval {
        let signed = if r.signed { " (signed)" } else { "" };
        text.push_str(&format!(
            "\napproved:   by {} at {}{signed}\n  digest    {}\n",
            a.approved_by, a.timestamp, a.artifact_digest
        ));
        if a.forced {
            let checks = if r.overridden_checks.is_empty() {
                String::new()
            } else {
                // One line: a check name is free text and may not start another.
                let names: Vec<String> = r
                    .overridden_checks
                    .iter()
                    .map(|c| escape_controls(c, Lines::Escape).into_owned())
                    .collect();
                format!(": {}", names.join(", "))
            };
            text.push_str(&format!(
                "  FORCED    over a failed review (approve --force){checks}\n"
            ));
        }
        if let Some(s) = &a.supersedes {
            text.push_str(&format!("  supersedes {s}\n"));
        }
        if !a.approved_interpretation.trim().is_empty() {
            let edited = if a.interpretation_edited {
                " (edited by the human)"
            } else {
                ""
            };
            text.push_str(&format!("  interpretation{edited}:\n"));
            for l in a.approved_interpretation.trim().lines() {
                text.push_str(&format!("    {l}\n"));
            }
        }
    }
    if let Some(f) = &r.feedback {
        text.push_str(&format!(
            "\nrejected:   by {}: {}\n",
            f.rejected_by, f.issue
        ));
        for c in &f.acceptance_criteria {
            text.push_str(&format!("  criterion: {c}\n"));
        }
        if !f.suggested_params.is_empty() {
            text.push_str(&format!("  suggested: {}\n", f.suggested_args()));
        }
    }
    text
}

fn transitions(r: &ShowReport) -> String {
    let mut text = String::from("\ntransitions:\n");
    for t in &r.transitions {
        text.push_str(&format!(
            "  {:9} {}  {}  {}\n",
            t.event.map_or("?", |e| e.as_str()),
            Timestamp::from_unix_millis(t.time * 1000),
            t.commit.short(),
            t.author
        ));
    }
    text
}
