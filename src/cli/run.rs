//! `git workbench run`: execute a stage and record an immutable run.

use super::Out;
use crate::error::{Error, Result};
use crate::exec::command::{self, Invocation, Program};
use crate::exec::paths::{check_inside, expand};
use crate::model::config::{expand as expand_placeholder, Stage};
use crate::model::manifest::{CodeRef, RunManifest, RunStatus, MANIFEST_SCHEMA};
use crate::model::params::parse_override;
use crate::model::run_id::new_run_id;
use crate::model::time::UtcDateTime;
use crate::store::refs::run_ref;
use crate::store::NewRun;
use crate::workspace::Workspace;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Run a stage and record the run under refs/workbench/runs/STAGE/RUN_ID.
///
/// The command runs at the repository root through `sh -c` and sees WORKBENCH_RUN_ID,
/// WORKBENCH_STAGE, WORKBENCH_RUN_DIR and WORKBENCH_PARAMS (JSON of the params used).
/// A failing command is recorded too, and `run` exits with its exit code.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The stage to run, as declared in workbench.toml.
    pub stage: String,
    /// Override a param for this run (repeatable); VALUE is JSON when it parses as JSON.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = parse_override)]
    pub params: Vec<(String, Value)>,
    /// Do not use the stat cache: read every input and output in full.
    #[arg(long)]
    pub no_stat_cache: bool,
    /// The sweep this run belongs to (set by `git workbench sweep`).
    #[arg(long, hide = true)]
    pub sweep_id: Option<String>,
    /// Run this command instead of the stage's `cmd` (recorded as the command).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn random_u16(salt: u64) -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (RandomState::new().hash_one((nanos, std::process::id(), salt)) & 0xffff) as u16
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".to_string();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Reserves a fresh run id by creating its run directory exclusively.
fn reserve_run_id(ws: &Workspace, stage: &Stage, started_ms: i64) -> Result<(String, String)> {
    for attempt in 0..64u64 {
        let id = new_run_id(started_ms, random_u16(attempt));
        if ws.store.find_run(&stage.name, &id)?.is_some() {
            continue;
        }
        let rel = expand_placeholder(&ws.config.run_dir, &stage.name, &id);
        let dir = ws.root.join(&rel);
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        check_inside(&ws.root, &rel, "run directory")?;
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, rel)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&dir)(e)),
        }
    }
    Err(Error::input("cannot find a free run id after 64 attempts"))
}

/// Reads a metrics JSON file, accepting Python's NaN/Infinity tokens.
pub(super) fn read_metrics(path: &Path) -> std::result::Result<BTreeMap<String, Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let v: Value = serde_json::from_str(&quote_non_finite(&text)).map_err(|e| e.to_string())?;
    if !v.is_object() {
        return Err("metrics file must hold a JSON object".into());
    }
    Ok(crate::model::params::flatten(&v))
}

/// Turns bare `NaN`, `Infinity` and `-Infinity` (outside strings) into strings.
fn quote_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_str {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        if let Some(tok) = ["-Infinity", "Infinity", "NaN"]
            .iter()
            .find(|t| rest.starts_with(**t))
        {
            out.push('"');
            out.push_str(tok);
            out.push('"');
            rest = &rest[tok.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Keeps at most `limit` bytes of a log: the end, behind a marker line.
fn cut_log(mut log: Vec<u8>, limit: u64) -> (Vec<u8>, bool) {
    let limit = limit as usize;
    if log.len() <= limit {
        return (log, false);
    }
    let dropped = log.len() - limit;
    let mut out =
        format!("[git-workbench: log truncated, first {dropped} bytes dropped]\n").into_bytes();
    out.extend_from_slice(&log.split_off(dropped));
    (out, true)
}

/// Shows the feedback of the stage's latest run when a human rejected it.
fn show_feedback(out: &Out, ws: &Workspace, parent: &crate::store::RunRef) -> Result<()> {
    if super::records::state_of(&ws.store, parent)? != crate::model::state::RunState::Rejected {
        return Ok(());
    }
    let fb: Option<crate::model::decision::FeedbackRecord> =
        super::records::read_record(&ws.store, parent, "feedback.json")?;
    let Some(fb) = fb else { return Ok(()) };
    out.note(&format!(
        "workbench: the previous run {} was rejected by {}: {}",
        parent.run_id, fb.rejected_by, fb.issue
    ));
    for c in &fb.acceptance_criteria {
        out.note(&format!("workbench:   acceptance criterion: {c}"));
    }
    if !fb.suggested_params.is_empty() {
        out.note(&format!("workbench:   suggested: {}", fb.suggested_args()));
    }
    Ok(())
}

pub fn cmd_run(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("run")?;
    let stage = ws.stage(&args.stage)?.clone();
    let params_used = ws.params_now(&stage, &args.params)?;
    let overrides: BTreeMap<String, Value> = args.params.iter().cloned().collect();
    let mut cache = if args.no_stat_cache {
        crate::exec::statcache::StatCache::disabled()
    } else {
        ws.stat_cache()
    };

    // Inputs are hashed before the command runs: the record says what it consumed.
    let started_ms = now_millis();
    let deps = crate::workspace::stage_paths(&stage, &stage.deps);
    let (inputs, missing_deps) = ws.hash_patterns(&deps, &mut cache)?;
    if let Some(dep) = missing_deps.first() {
        return Err(Error::input(format!(
            "dependency '{dep}' of stage '{}' does not exist",
            stage.name
        ))
        .hint(format!(
            "create it, run the stage that produces it, or fix stages.{}.deps in {}",
            stage.name, ws.config_file
        )));
    }
    for o in stage.outs.iter().chain(stage.metrics.iter()) {
        if !o.contains(['*', '?', '[']) {
            let literal = o.replace("{run_id}", "x").replace("{stage}", &stage.name);
            check_inside(&ws.root, &literal, "output")?;
        }
    }
    let (program, command_text) = if args.command.is_empty() {
        (Program::Shell(stage.cmd.clone()), stage.cmd.clone())
    } else {
        (
            Program::Argv(args.command.clone()),
            super::shell_join(&args.command),
        )
    };
    let (code_files, _) = ws.hash_patterns(&ws.code_patterns(&stage, &command_text), &mut cache)?;
    let snapshot = ws.store.snapshot()?;
    let parent = ws.store.list_runs(Some(&stage.name))?.pop();
    if let Some(p) = &parent {
        show_feedback(out, &ws, p)?;
    }
    let parent_run_id = parent.map(|r| r.run_id);
    let (run_id, run_dir) = reserve_run_id(&ws, &stage, started_ms)?;
    let log_file = ws.tmp_dir()?.join(format!("{run_id}.log"));
    let params_json = serde_json::to_string(&params_used).expect("params serialize");
    if !out.json {
        out.note(&format!(
            "workbench: running stage {} as run {run_id}",
            stage.name
        ));
    }
    let mut env = vec![
        ("WORKBENCH_RUN_ID".to_string(), run_id.clone()),
        ("WORKBENCH_STAGE".to_string(), stage.name.clone()),
        ("WORKBENCH_RUN_DIR".to_string(), run_dir.clone()),
        ("WORKBENCH_PARAMS".to_string(), params_json),
    ];
    if let Some(id) = &args.sweep_id {
        env.push(("WORKBENCH_SWEEP_ID".to_string(), id.clone()));
    }
    if std::env::var_os("PYTHONUNBUFFERED").is_none() {
        env.push(("PYTHONUNBUFFERED".to_string(), "1".to_string()));
    }
    let outcome = command::run(Invocation {
        program,
        cwd: &ws.root,
        env,
        stdout_to_stderr: out.json,
        log_file: log_file.clone(),
    });
    let log = std::fs::read(&log_file).unwrap_or_default();
    let _ = std::fs::remove_file(&log_file);
    let outcome = outcome?;
    if outcome.interrupted {
        let _ = std::fs::remove_dir(ws.root.join(&run_dir)); // only if still empty
        out.note(&format!(
            "workbench: interrupted; run {run_id} of stage {} was not recorded",
            stage.name
        ));
        return Ok(130);
    }

    // Outputs, after the command.
    let out_patterns: Vec<String> = stage
        .outs
        .iter()
        .map(|o| expand_placeholder(o, &stage.name, &run_id))
        .collect();
    let metrics_path = stage
        .metrics
        .as_ref()
        .map(|m| expand_placeholder(m, &stage.name, &run_id));
    let mut all_outs = out_patterns.clone();
    all_outs.extend(metrics_path.iter().cloned());
    let expanded = expand(&ws.root, &all_outs)?;
    for f in &expanded.files {
        check_inside(&ws.root, f, "output")?;
    }
    let hashed = crate::exec::hash::hash_files(&ws.root, &expanded.files, &mut cache)?;
    let outputs: BTreeMap<String, String> = hashed
        .iter()
        .map(|(p, h)| (p.clone(), crate::model::manifest::tagged(h)))
        .collect();
    let mut stored: Vec<(String, PathBuf)> = Vec::new();
    for f in &expanded.files {
        let abs = ws.root.join(f);
        if std::fs::metadata(&abs).map_err(Error::io(&abs))?.len() <= stage.max_stored_size {
            stored.push((f.clone(), abs));
        }
    }
    let (metrics, metrics_error) = match &metrics_path {
        None => (BTreeMap::new(), None),
        Some(m) => match read_metrics(&ws.root.join(m)) {
            Ok(v) => (v, None),
            Err(e) => (BTreeMap::new(), Some(format!("{m}: {e}"))),
        },
    };
    let status = if outcome.exit_code == 0 {
        RunStatus::Executed
    } else {
        RunStatus::Failed
    };
    let log_bytes = log.len() as u64;
    let (log, log_truncated) = cut_log(log, stage.max_stored_size);
    let manifest = RunManifest {
        schema: MANIFEST_SCHEMA.into(),
        stage: stage.name.clone(),
        run_id: run_id.clone(),
        parent_run_id,
        status,
        params_used,
        overrides,
        inputs,
        outputs,
        missing_outputs: expanded.missing.clone(),
        stored_outputs: stored.iter().map(|(p, _)| p.clone()).collect(),
        code_files,
        code_ref: CodeRef {
            commit: snapshot.head.map(|h| h.to_string()),
            dirty: snapshot.dirty,
            tree: snapshot.tree.to_string(),
            branch: snapshot.branch.clone(),
        },
        command: command_text,
        exit_code: outcome.exit_code,
        started_at: UtcDateTime::from_unix_millis(started_ms).rfc3339(),
        duration_seconds: (outcome.duration.as_secs_f64() * 1000.0).round() / 1000.0,
        metrics,
        metrics_error,
        run_dir,
        log_bytes,
        log_truncated,
        host: hostname(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        sweep_id: args.sweep_id.clone(),
        imported_from: None,
    };
    let run = super::records::record_new_run(
        out,
        &ws.store,
        &NewRun {
            manifest: &manifest,
            log: &log,
            outputs: stored,
            snapshot_tree: snapshot.tree,
        },
    )?;
    let ref_name = run_ref(&stage.name, &run_id);
    if let Err(e) = ws.write_mirror(&run) {
        out.warn(&format!(
            "run recorded, but the review/ mirror was not written: {e}"
        ));
    }
    cache.save();

    for m in &manifest.missing_outputs {
        out.warn(&format!("declared output '{m}' was not produced"));
    }
    if let Some(e) = &manifest.metrics_error {
        out.warn(&format!("metrics not read: {e}"));
    }
    if out.json {
        out.json_value(&json!({
            "run_id": run_id,
            "stage": stage.name,
            "status": status,
            "exit_code": outcome.exit_code,
            "ref": ref_name,
            "record": run.tip.to_string(),
            "duration_seconds": manifest.duration_seconds,
            "outputs": manifest.outputs,
            "missing_outputs": manifest.missing_outputs,
            "metrics": manifest.metrics,
            "manifest": manifest,
        }));
    } else {
        let status_word = status.as_str();
        out.line(&format!(
            "recorded run {run_id} of stage {} ({status_word}, exit {}, {:.2} s)",
            stage.name, outcome.exit_code, manifest.duration_seconds
        ));
        out.line(&format!("  ref      {ref_name}"));
        out.line(&format!(
            "  outputs  {} file(s), {} stored in the record",
            manifest.outputs.len(),
            manifest.stored_outputs.len()
        ));
        if !manifest.metrics.is_empty() {
            let shown: Vec<String> = manifest
                .metrics
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            out.line(&format!("  metrics  {}", shown.join(" ")));
        }
    }
    Ok(outcome.exit_code.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_tokens_become_strings() {
        assert_eq!(
            quote_non_finite(r#"{"a": NaN, "b": -Infinity, "c": "NaN", "d": Infinity}"#),
            r#"{"a": "NaN", "b": "-Infinity", "c": "NaN", "d": "Infinity"}"#
        );
        assert_eq!(quote_non_finite(r#"{"e\"NaN": 1}"#), r#"{"e\"NaN": 1}"#);
    }

    #[test]
    fn logs_keep_their_end() {
        let (l, t) = cut_log(b"0123456789".to_vec(), 4);
        assert!(t);
        assert!(l.ends_with(b"6789"));
        assert!(String::from_utf8_lossy(&l).contains("first 6 bytes dropped"));
        assert_eq!(cut_log(b"abc".to_vec(), 4), (b"abc".to_vec(), false));
    }
}
