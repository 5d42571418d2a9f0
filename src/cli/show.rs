//! `git workbench show RUN`: a run's record and its chain of transitions, read from
//! the run ref (never from the working-tree mirror).

use super::{resolve_run, Out};
use crate::error::Result;
use crate::store::Store;
use serde_json::json;

/// Show a run: manifest, transitions and note lines.
///
/// RUN is a full run id, a unique prefix, STAGE/PREFIX, STAGE@latest or STAGE@approved.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to show.
    pub run: String,
}

pub fn cmd_show(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let run = resolve_run(&store, &args.run)?;
    let manifest = store.read_manifest(run.tip)?;
    let history = store.history(run.tip)?;
    let notes = match manifest.code_ref.commit.as_deref().map(git2::Oid::from_str) {
        Some(Ok(c)) => store
            .note_lines(c)?
            .into_iter()
            .filter(|l| l.contains(&format!("\"run_id\":\"{}\"", run.run_id)))
            .collect(),
        _ => Vec::new(),
    };
    let state = history.last().and_then(|t| t.event);
    let review: Option<crate::model::review::ReviewRecord> =
        super::records::read_record(&store, &run, "review.json")?;
    let approval: Option<crate::model::decision::ApprovalRecord> =
        super::records::read_record(&store, &run, "approval.json")?;
    let feedback: Option<crate::model::decision::FeedbackRecord> =
        super::records::read_record(&store, &run, "feedback.json")?;
    let signed = store.commit_signature(run.tip).is_some();
    if out.json {
        let transitions: Vec<_> = history
            .iter()
            .map(|t| {
                json!({
                    "event": t.event,
                    "commit": t.commit.to_string(),
                    "author": t.author,
                    "time": t.time,
                })
            })
            .collect();
        let notes: Vec<serde_json::Value> = notes
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        out.json_value(&json!({
            "run_id": run.run_id,
            "stage": run.stage,
            "ref": run.ref_name(),
            "record": run.tip.to_string(),
            "state": state,
            "manifest": manifest,
            "review": review,
            "approval": approval,
            "feedback": feedback,
            "signed": signed,
            "transitions": transitions,
            "notes": notes,
        }));
        return Ok(0);
    }
    let m = &manifest;
    let mut text = String::new();
    let state_word = state.map_or("unknown".to_string(), |s| s.to_string());
    text.push_str(&format!(
        "run {} of stage {} ({state_word})\n",
        m.run_id, m.stage
    ));
    text.push_str(&format!("ref:        {}\n", run.ref_name()));
    text.push_str(&format!("record:     {}\n", run.tip));
    text.push_str(&format!("command:    {}\n", m.command));
    text.push_str(&format!(
        "status:     {} (exit {})\n",
        m.status.as_str(),
        m.exit_code
    ));
    text.push_str(&format!(
        "started:    {}  ({:.3} s)\n",
        m.started_at, m.duration_seconds
    ));
    let commit = m.code_ref.commit.as_deref().unwrap_or("(no commit)");
    text.push_str(&format!(
        "code:       {commit}{}  snapshot {}\n",
        if m.code_ref.dirty {
            " + uncommitted changes"
        } else {
            ""
        },
        m.code_ref.tree
    ));
    text.push_str(&format!(
        "parent:     {}\n",
        m.parent_run_id.as_deref().unwrap_or("-")
    ));
    text.push_str(&format!(
        "host:       {}  (git-workbench {})\n",
        m.host, m.tool_version
    ));
    let section = |text: &mut String, title: &str, rows: Vec<(String, String)>| {
        if rows.is_empty() {
            return;
        }
        text.push_str(&format!("\n{title}:\n"));
        let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in rows {
            text.push_str(&format!("  {k:w$}  {v}\n"));
        }
    };
    section(
        &mut text,
        "params",
        m.params_used
            .iter()
            .map(|(k, v)| {
                let o = if m.overrides.contains_key(k) {
                    "  (-p)"
                } else {
                    ""
                };
                (k.clone(), format!("{v}{o}"))
            })
            .collect(),
    );
    section(
        &mut text,
        "metrics",
        m.metrics
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
    );
    section(
        &mut text,
        "inputs",
        m.inputs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    section(
        &mut text,
        "code files",
        m.code_files
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    );
    section(
        &mut text,
        "outputs",
        m.outputs
            .iter()
            .map(|(k, v)| {
                let s = if m.stored_outputs.contains(k) {
                    ""
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
            .collect(),
    );
    if let Some(e) = &m.metrics_error {
        text.push_str(&format!("\nmetrics error: {e}\n"));
    }
    if let Some(r) = &review {
        text.push_str(&format!(
            "\nreview:     {} ({} checks, {} blocking, {} warnings)\n",
            r.verdict.as_str(),
            r.checks.len(),
            r.blocking_issues.len(),
            r.warnings.len()
        ));
        for b in r.blocking_issues.iter().chain(&r.warnings) {
            text.push_str(&format!("  - {b}\n"));
        }
    }
    if let Some(a) = &approval {
        text.push_str(&format!(
            "\napproved:   by {} at {}{}\n",
            a.approved_by,
            a.timestamp,
            if signed { " (signed)" } else { "" }
        ));
        text.push_str(&format!("  digest    {}\n", a.artifact_digest));
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
    if let Some(f) = &feedback {
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
    text.push_str("\ntransitions:\n");
    for t in &history {
        let ev = t.event.map_or("?".to_string(), |e| e.to_string());
        text.push_str(&format!(
            "  {:9} {}  {}  {}\n",
            ev,
            crate::model::time::UtcDateTime::from_unix_millis(t.time * 1000).rfc3339(),
            &t.commit.to_string()[..12],
            t.author
        ));
    }
    out.print(&text);
    Ok(0)
}
