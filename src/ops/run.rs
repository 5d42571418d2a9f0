//! `run`: execute a stage and record an immutable run. Inputs and code are hashed
//! before the command runs, outputs after; the manifest is built by the one
//! `ManifestBuilder`, the record written, the notes index and mirror updated.

use super::records::{record_new_run, state_of};
use super::workspace::{stage_paths, Workspace, CODE_PATH, DEPENDENCY};
use super::{Notice, Observer};
use crate::error::{Error, Result};
use crate::exec::clock;
use crate::exec::command::{self, Echo, Interrupts, Invocation, Program};
use crate::exec::hash::hash_files_shown;
use crate::exec::paths::{check_inside, expand};
use crate::exec::progress::{Phase, Progress, Unit, Within};
use crate::exec::statcache::StatCache;
use crate::exec::view::{self, View, ViewSpec};
use crate::model::config::{expand as expand_placeholder, format_size, LargeOutputs, Stage};
use crate::model::decision::FeedbackRecord;
use crate::model::digest::FileHashes;
use crate::model::manifest::{CodeRef, RunManifest, RunStatus};
use crate::model::state::RunState;
use crate::model::time::Timestamp;
use crate::model::{ObjectId, RunId, StageName};
use crate::store::{FileBlob, NewRun, RunRef, Snapshot, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

mod dvc;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub stage: StageName,
    /// `-p KEY=VALUE` overrides.
    pub params: Vec<(String, Value)>,
    pub no_stat_cache: bool,
    /// The sweep this run belongs to.
    pub sweep_id: Option<String>,
    /// Run this argument vector instead of the stage's `cmd`.
    pub command: Vec<String>,
    /// Where the command's output goes besides the log.
    pub echo: Echo,
    /// Give the command no stdin.
    pub no_stdin: bool,
}

impl RunRequest {
    pub fn new(stage: StageName) -> RunRequest {
        RunRequest {
            stage,
            params: Vec::new(),
            no_stat_cache: false,
            sweep_id: None,
            command: Vec::new(),
            echo: Echo::Terminal,
            no_stdin: false,
        }
    }
}

/// A recorded run (`run --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    pub run_id: RunId,
    pub stage: StageName,
    pub status: RunStatus,
    pub exit_code: i32,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub record: ObjectId,
    pub duration_seconds: f64,
    pub outputs: FileHashes,
    pub missing_outputs: Vec<String>,
    pub metrics: BTreeMap<String, Value>,
    pub manifest: RunManifest,
    pub warnings: Vec<String>,
}

/// How a run ended.
#[derive(Debug)]
pub enum RunOutcome {
    Recorded(Box<RunReport>),
    /// Interrupted: nothing was recorded.
    Interrupted {
        stage: StageName,
        run_id: RunId,
    },
}

/// Everything known before the command starts.
struct Prepared {
    stage: Stage,
    params_used: BTreeMap<String, Value>,
    inputs: FileHashes,
    code_files: FileHashes,
    program: Program,
    command_text: String,
    snapshot: Snapshot,
    parent: Option<RunRef>,
    run_id: RunId,
    run_dir: String,
    started_ms: i64,
    warnings: Vec<String>,
}

pub fn run(
    ws: &Workspace,
    req: &RunRequest,
    interrupts: &Interrupts,
    observer: &dyn Observer,
) -> Result<RunOutcome> {
    let mut cache = if req.no_stat_cache {
        StatCache::disabled()
    } else {
        ws.stat_cache()
    };
    let mut p = prepare(ws, req, &mut cache, observer)?;
    let view = match params_view(ws, &p, req) {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_dir(ws.root.join(&p.run_dir)); // only if still empty
            return Err(e);
        }
    };
    observer.notice(Notice::RunStarted {
        stage: &p.stage.name,
        run_id: &p.run_id,
    });
    let log_file = ws.tmp_dir()?.join(format!("{}.log", p.run_id));
    let outcome = command::run(
        Invocation {
            program: p.program.clone(),
            cwd: view.as_ref().map_or(ws.root.as_path(), |v| v.path()),
            env: environment(&p, req),
            echo: req.echo,
            no_stdin: req.no_stdin,
            log_file: log_file.clone(),
        },
        interrupts,
    );
    // What the command did in its view reaches the tree before anything is hashed.
    if let Some(v) = view {
        p.warnings.extend(v.finish());
    }
    let log = std::fs::read(&log_file).unwrap_or_default();
    let _ = std::fs::remove_file(&log_file);
    let outcome = outcome?;
    if outcome.interrupted {
        let _ = std::fs::remove_dir(ws.root.join(&p.run_dir)); // only if still empty
        observer.notice(Notice::Interrupted {
            stage: &p.stage.name,
            run_id: &p.run_id,
        });
        return Ok(RunOutcome::Interrupted {
            stage: p.stage.name,
            run_id: p.run_id,
        });
    }
    let duration = outcome.duration.as_secs_f64();
    let report = record(ws, req, p, outcome.exit_code, duration, log, &mut cache)?;
    cache.save();
    Ok(RunOutcome::Recorded(Box::new(report)))
}

fn prepare(
    ws: &Workspace,
    req: &RunRequest,
    cache: &mut StatCache,
    observer: &dyn Observer,
) -> Result<Prepared> {
    let stage = ws.stage(&req.stage)?.clone();
    // A DVC stage refuses overrides and other commands before anything else.
    let dvc_program = dvc::program(ws, &stage, req)?;
    let params_used = ws.params_now(&stage, &req.params)?;
    // Inputs are hashed before the command runs: the record says what it consumed.
    let started_ms = clock::now_millis();
    // A dependency whose files cannot all be named is refused here, before the command.
    let (inputs, missing_deps) =
        ws.hash_patterns(&stage_paths(&stage, &stage.deps), DEPENDENCY, cache)?;
    if let Some(dep) = missing_deps.first() {
        return Err(Error::input(format!(
            "dependency '{dep}' of stage '{}' does not exist",
            stage.name
        ))
        .hint(match &stage.dvc {
            Some(link) => format!(
                "create it, run the stage that produces it, or fix the deps of stage '{}' in dvc.yaml",
                link.stage
            ),
            None => format!(
                "create it, run the stage that produces it, or fix stages.{}.deps in {}",
                stage.name, ws.config_file
            ),
        }));
    }
    for o in stage.outs.iter().chain(stage.metrics.iter()) {
        if !o.contains(['*', '?', '[']) {
            let literal = o.replace("{run_id}", "x").replace("{stage}", &stage.name);
            check_inside(&ws.root, &literal, "output")?;
        }
    }
    // `{overrides}` in `cmd` (or as a word of `run -- ARGS`) becomes the overrides as
    // Hydra arguments when the command runs; the record keeps the command as
    // configured, which staleness compares.
    const OVERRIDES: &str = "{overrides}";
    let overrides = || -> Result<Vec<String>> {
        crate::model::params::hydra_args(&req.params)
            .map_err(|e| Error::input(format!("{e} (stage '{}' passes {{overrides}})", stage.name)))
    };
    let (program, command_text) = if let Some(program) = dvc_program {
        (program, stage.cmd.clone())
    } else if req.command.is_empty() {
        let cmd = if stage.cmd.contains(OVERRIDES) {
            stage.cmd.replace(OVERRIDES, &shell_join(&overrides()?))
        } else {
            stage.cmd.clone()
        };
        (Program::Shell(cmd), stage.cmd.clone())
    } else {
        let argv = if req.command.iter().any(|a| a == OVERRIDES) {
            let args = overrides()?;
            req.command
                .iter()
                .flat_map(|a| {
                    if a == OVERRIDES {
                        args.clone()
                    } else {
                        vec![a.clone()]
                    }
                })
                .collect()
        } else {
            req.command.clone()
        };
        (Program::Argv(argv), shell_join(&req.command))
    };
    let (code_files, _) =
        ws.hash_patterns(&ws.code_patterns(&stage, &command_text), CODE_PATH, cache)?;
    let snapshot = ws.store.snapshot()?;
    let parent = ws.store.latest_run(&stage.name)?;
    let mut warnings = Vec::new();
    if let Some(par) = &parent {
        // The feedback is only shown: one that does not parse is a warning.
        match rejection_of(ws, par) {
            Ok(Some(fb)) => observer.notice(Notice::PreviousRejected {
                run_id: &par.run_id,
                feedback: &fb,
            }),
            Ok(None) => {}
            Err(e) => warnings.push(format!(
                "the feedback of the previous run {} was not shown: {e}",
                par.run_id
            )),
        }
    }
    let (run_id, run_dir) = reserve_run_id(ws, &stage, started_ms)?;
    Ok(Prepared {
        stage,
        params_used,
        inputs,
        code_files,
        program,
        command_text,
        snapshot,
        parent,
        run_id,
        run_dir,
        started_ms,
        warnings,
    })
}

/// The view of the tree the command runs in when its stage's params file must show
/// the overrides (`exec::view`); `None`: it runs in the tree itself. Views that killed
/// runs left are removed first.
fn params_view(ws: &Workspace, p: &Prepared, req: &RunRequest) -> Result<Option<View>> {
    let views = ws.store.private_dir().join("views");
    view::remove_stale(&views);
    let Some(spec) = &p.stage.params else {
        return Ok(None); // the overrides reach it as WORKBENCH_PARAMS only
    };
    if req.params.is_empty() || overrides_on_command_line(&p.stage, req) {
        return Ok(None);
    }
    let path = ws.root.join(&spec.file);
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    let rendered = render_params(&spec.file, &text, &req.params)?;
    if rendered == text {
        return Ok(None);
    }
    let name = format!("{}-{}", p.run_id, p.stage.name);
    let code: Vec<String> = p.code_files.keys().cloned().collect();
    let view = View::create(&ViewSpec {
        views: &views,
        name: &name,
        root: &ws.root,
        file: &spec.file,
        bytes: rendered.as_bytes(),
        code: &code,
        protect: &[ws.store.private_dir()],
    })?;
    Ok(Some(view))
}

/// The stage's command takes the overrides as arguments (`{overrides}`, for Hydra
/// apps): rendering them into the file too would give them twice (and Hydra refuses
/// `+key` for a key the file then has).
fn overrides_on_command_line(stage: &Stage, req: &RunRequest) -> bool {
    req.command.is_empty() && stage.cmd.contains("{overrides}")
}

/// The text a command reads as its params file `file`: `text` with the overrides
/// applied, edited in place (comments and layout kept) where the document allows it,
/// else written anew with the same values (`model::params_doc::render`).
pub fn render_params(file: &str, text: &str, overrides: &[(String, Value)]) -> Result<String> {
    use crate::model::params_doc::{render, Format};
    let format = Format::of_path(file).ok_or_else(|| {
        Error::input(format!(
            "params file '{file}': params files end in .yaml, .yml, .json or .toml"
        ))
    })?;
    let bytes = render(text, format, overrides)
        .map_err(|e| Error::input(format!("params file '{file}': {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::input(format!("params file '{file}': rendered text is not UTF-8")))
}

/// The feedback of `run` when a human rejected it.
fn rejection_of(ws: &Workspace, run: &RunRef) -> Result<Option<FeedbackRecord>> {
    if state_of(&ws.store, run)? != RunState::Rejected {
        return Ok(None);
    }
    Ok(ws.store.read_record(run.tip)?)
}

fn environment(p: &Prepared, req: &RunRequest) -> Vec<(String, String)> {
    let mut env = vec![
        ("WORKBENCH_RUN_ID".to_string(), p.run_id.to_string()),
        ("WORKBENCH_STAGE".to_string(), p.stage.name.to_string()),
        ("WORKBENCH_RUN_DIR".to_string(), p.run_dir.clone()),
        (
            "WORKBENCH_PARAMS".to_string(),
            serde_json::to_string(&p.params_used).expect("params serialize"),
        ),
    ];
    if let Some(id) = &req.sweep_id {
        env.push(("WORKBENCH_SWEEP_ID".to_string(), id.clone()));
    }
    if std::env::var_os("PYTHONUNBUFFERED").is_none() {
        env.push(("PYTHONUNBUFFERED".to_string(), "1".to_string()));
    }
    env
}

/// Hashes the outputs found after the command and writes the record.
fn record(
    ws: &Workspace,
    req: &RunRequest,
    p: Prepared,
    exit_code: i32,
    duration: f64,
    log: Vec<u8>,
    cache: &mut StatCache,
) -> Result<RunReport> {
    let stage = &p.stage;
    let expand_run = |pattern: &str| expand_placeholder(pattern, &stage.name, &p.run_id);
    let metrics_path = stage.metrics.as_deref().map(expand_run);
    let mut patterns: Vec<String> = stage.outs.iter().map(|o| expand_run(o)).collect();
    patterns.extend(metrics_path.iter().cloned());
    let expanded = expand(&ws.root, &patterns)?;
    for f in &expanded.files {
        check_inside(&ws.root, f, "output")?;
    }
    let mut hashed = hash_outputs(
        &ws.store,
        &ws.root,
        &expanded.files,
        stage.max_stored_size,
        cache,
        &*ws.progress,
    )?;
    let lfs = match stage.large_outputs {
        LargeOutputs::Hash => super::lfs::KeptInLfs::default(),
        LargeOutputs::Lfs => {
            let stored: Vec<String> = hashed.stored.iter().map(|(r, _)| r.clone()).collect();
            super::lfs::keep_large(
                &ws.store,
                &ws.root,
                &mut hashed.hashes,
                &stored,
                &mut hashed.gone,
            )?
        }
    };
    let mut missing = expanded.missing;
    missing.extend(hashed.gone);
    let metrics = match &metrics_path {
        None => Ok(BTreeMap::new()),
        Some(m) => {
            read_metrics(&ws.root.join(m), stage.max_metrics_size).map_err(|e| format!("{m}: {e}"))
        }
    };
    let mut warnings = p.warnings;
    let dvc_record = dvc::record(ws, stage, exit_code).unwrap_or_else(|w| {
        warnings.push(w);
        None
    });
    let log_bytes = log.len() as u64;
    let (log, log_truncated) = cut_log(log, stage.max_stored_size);
    let manifest = RunManifest::builder(
        stage.name.clone(),
        p.run_id.clone(),
        code_ref(&p.snapshot),
        Timestamp::from_unix_millis(p.started_ms),
    )
    .parent(p.parent.map(|r| r.run_id))
    .params(
        p.params_used,
        req.params
            .iter()
            .map(|(k, v)| (crate::model::params::override_key(k).to_string(), v.clone()))
            .collect(),
    )
    .consumed(p.inputs, p.code_files)
    .produced(
        hashed.hashes,
        missing,
        hashed.stored.iter().map(|(r, _)| r.clone()).collect(),
    )
    .lfs(lfs.sizes)
    .unrecorded(
        expanded
            .not_utf8
            .iter()
            .map(|n| n.escaped.clone())
            .collect(),
    )
    .command(p.command_text, exit_code, duration)
    .metrics(metrics)
    .place(p.run_dir, clock::hostname())
    .log(log_bytes, log_truncated)
    .sweep(req.sweep_id.clone())
    .dvc(dvc_record)
    .build();
    let (run, recorded) = record_new_run(
        &ws.store,
        &NewRun {
            manifest: &manifest,
            log: &log,
            outputs: hashed.stored,
            lfs_pointers: lfs.pointers,
            snapshot_tree: p.snapshot.tree,
        },
    )?;
    warnings.extend(recorded);
    warnings.extend(super::mirror::show_new_run(ws, &run));
    warnings.extend(
        manifest
            .missing_outputs
            .iter()
            .map(|m| format!("declared output '{m}' was not produced")),
    );
    // The command has run: the record keeps everything else, and says what it lacks.
    warnings.extend(expanded.not_utf8.iter().map(|n| {
        format!(
            "output '{}' holds a file whose name is not UTF-8, which no record can name: {}; \
             the run is recorded without it (unrecorded_outputs) and fails review: rename it",
            n.pattern, n.escaped
        )
    }));
    if let Some(e) = &manifest.metrics_error {
        warnings.push(format!("metrics not read: {e}"));
    }
    Ok(RunReport {
        run_id: run.run_id.clone(),
        stage: run.stage.clone(),
        status: manifest.status,
        exit_code,
        ref_name: run.ref_name(),
        record: run.tip,
        duration_seconds: manifest.duration_seconds,
        outputs: manifest.outputs.clone(),
        missing_outputs: manifest.missing_outputs.clone(),
        metrics: manifest.metrics.clone(),
        manifest,
        warnings,
    })
}

/// The code state of a snapshot.
pub fn code_ref(s: &Snapshot) -> CodeRef {
    CodeRef {
        commit: s.head,
        dirty: s.dirty,
        tree: s.tree,
        branch: s.branch.clone(),
    }
}

/// Output files found after a command, hashed and, when small enough, stored.
pub struct HashedOutputs {
    pub hashes: FileHashes,
    /// Each stored file's blob is of the very bytes its digest is of.
    pub stored: Vec<(String, FileBlob)>,
    /// Files removed before they could be read.
    pub gone: Vec<String>,
}

/// Stores the outputs of at most `max_stored` bytes (reading each once, for its
/// blob and its digest) and hashes the larger ones through the stat cache.
pub fn hash_outputs(
    store: &Store,
    root: &Path,
    files: &[String],
    max_stored: u64,
    cache: &mut StatCache,
    progress: &dyn Progress,
) -> Result<HashedOutputs> {
    let mut small = Vec::new();
    let mut large = Vec::new();
    let mut gone = Vec::new();
    let mut total: u64 = 0;
    for f in files {
        let abs = root.join(f);
        match std::fs::metadata(&abs) {
            Ok(m) if m.len() <= max_stored => {
                total = total.saturating_add(m.len());
                small.push((f, m.len()));
            }
            Ok(m) => {
                total = total.saturating_add(m.len());
                large.push(f.clone());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => gone.push(f.clone()),
            Err(e) => return Err(Error::io(&abs)(e)),
        }
    }
    let _phase = Phase::begin(progress, "hashing outputs", Some(total), Unit::Bytes);
    let mut hashes: FileHashes = hash_files_shown(root, &large, cache, &Within(progress), "")?
        .into_iter()
        .collect();
    gone.extend(large.into_iter().filter(|f| !hashes.contains_key(f)));
    let mut stored = Vec::new();
    for (f, len) in small {
        let abs = root.join(f);
        progress.item(f);
        let Some(file) = store.blob_of_file(&abs)? else {
            gone.push(f.clone());
            continue;
        };
        progress.advance(len);
        if let Some((stamp, at)) = file.cacheable {
            cache.insert(abs, stamp, at, file.sha256.hex());
        }
        hashes.insert(f.clone(), file.sha256);
        stored.push((f.clone(), file));
    }
    gone.sort();
    Ok(HashedOutputs {
        hashes,
        stored,
        gone,
    })
}

/// Reserves a fresh run id by creating its run directory exclusively.
fn reserve_run_id(ws: &Workspace, stage: &Stage, started_ms: i64) -> Result<(RunId, String)> {
    for attempt in 0..64u64 {
        let id = RunId::generate(started_ms, clock::random_u16(attempt));
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

/// Reads a metrics JSON file, accepting Python's NaN/Infinity tokens. A file larger
/// than `limit` bytes is refused from its size before any of it is read (and one
/// that grows past the limit while it is read is refused too): its metrics would be
/// copied into the manifest that every later command reads.
pub fn read_metrics(
    path: &Path,
    limit: u64,
) -> std::result::Result<BTreeMap<String, Value>, String> {
    use std::io::Read;
    let too_big = |size: u64| {
        format!(
            "{} ({size} bytes) is above max_metrics_size ({}); not read: write a summary, \
             or raise max_metrics_size in the configuration",
            format_size(size),
            format_size(limit)
        )
    };
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if size > limit {
        return Err(too_big(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_big(bytes.len() as u64));
    }
    let text = String::from_utf8(bytes).map_err(|_| "cannot read: not UTF-8 text".to_string())?;
    let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
    // DVC's metrics files may be YAML; read as strictly as params files are.
    let v: Value = if yaml {
        crate::model::params_doc::parse(&text, crate::model::params_doc::Format::Yaml)
            .map_err(|e| e.to_string())?
    } else {
        serde_json::from_str(&quote_non_finite(&text)).map_err(|e| e.to_string())?
    };
    if !v.is_object() {
        return Err("metrics file must hold a JSON (or YAML) object".into());
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

/// Quotes an argument vector the way a POSIX shell reads it back.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
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

    fn rendered(file: &str, text: &str, overrides: &[(&str, Value)]) -> String {
        let o: Vec<(String, Value)> = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        render_params(file, text, &o).unwrap()
    }

    #[test]
    fn params_render_with_the_overrides_in_every_format() {
        use serde_json::json;
        let flat = |v: Value| crate::model::params::flatten(&v);
        let y = rendered(
            "p.yaml",
            "train:\n  lr: 0.1 # tuned\n  depth: 3\n\"a.b\": 1\nseed: 7\n",
            &[
                ("train.lr", json!(0.5)),
                ("a.b", json!(2)),
                ("+train.opt.name", json!("adam")),
                ("seed", json!([1, 2])),
            ],
        );
        let back: Value = serde_yaml_ng::from_str(&y).unwrap();
        assert_eq!(
            flat(back),
            flat(
                json!({"train": {"lr": 0.5, "depth": 3, "opt": {"name": "adam"}}, "a.b": 2, "seed": [1, 2]})
            )
        );
        let j = rendered(
            "conf/p.json",
            r#"{"train": {"lr": 0.1}, "n": null}"#,
            &[("train.lr", json!(1e-3)), ("n", json!(5))],
        );
        assert_eq!(
            serde_json::from_str::<Value>(&j).unwrap(),
            json!({"train": {"lr": 0.001}, "n": 5})
        );
        let t = rendered(
            "p.toml",
            "[train]\nlr = 0.1\nname = \"x\"\n",
            &[("train.lr", json!(2)), ("train.name", json!("y"))],
        );
        let back: toml::Table = toml::from_str(&t).unwrap();
        assert_eq!(back["train"]["lr"].as_integer(), Some(2));
        assert_eq!(back["train"]["name"].as_str(), Some("y"));
        // an override the format cannot hold is bad input, naming the file and key
        let e = render_params("p.toml", "a = 1\n", &[("a".into(), Value::Null)]).unwrap_err();
        assert!(e.to_string().contains("'p.toml'"), "{e}");
        let e = render_params("p.yaml", "a: 1\n", &[("a.b".into(), json!(1))]).unwrap_err();
        assert!(e.to_string().contains("'p.yaml'"), "{e}");
        // comments and layout are kept where the document allows it
        assert_eq!(
            rendered("p.yaml", "a: 1 # why\nb: 2\n", &[("a", json!(3))]),
            "a: 3 # why\nb: 2\n"
        );
    }

    #[test]
    fn shell_join_quotes() {
        assert_eq!(
            shell_join(&["echo".into(), "a b".into(), "it's".into()]),
            "echo 'a b' 'it'\\''s'"
        );
        assert_eq!(shell_join(&["true".into()]), "true");
    }
}
