//! `git workbench import hydra DIR --stage S` and `import runs DIR --stage S`: record
//! runs made outside git-workbench — a Hydra `--multirun` tree, or the seed's plain
//! `runs/<run-id>/` layout — one run per job, idempotently.

use super::Out;
use crate::error::{Error, Result};
use crate::model::digest::sha256_hex;
use crate::model::manifest::{tagged, CodeRef, RunManifest, RunStatus, MANIFEST_SCHEMA};
use crate::model::params::{flatten, parse_override};
use crate::model::run_id::new_run_id;
use crate::model::time::UtcDateTime;
use crate::store::NewRun;
use crate::workspace::Workspace;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Record runs made elsewhere: a Hydra multirun tree or a runs/<run-id>/ folder.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(clap::Subcommand, Debug)]
pub enum Source {
    /// A Hydra `--multirun` output tree (multirun/<date>/<time>/<n>/.hydra/...): one run
    /// per job, params from the composed config, overrides kept, the job's files as
    /// outputs, its log, started_at from the directory names.
    Hydra(ImportArgs),
    /// The seed's layout, runs/<run-id>/{config.yaml, metrics.json, ...}: one run per
    /// folder.
    Runs(ImportArgs),
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    pub dir: PathBuf,
    /// The stage the runs are recorded under.
    #[arg(long)]
    pub stage: String,
    /// The metrics file of each job, relative to its folder.
    #[arg(long, default_value = "metrics.json", value_name = "FILE")]
    pub metrics: String,
}

/// One job found in the tree.
struct Job {
    dir: PathBuf,
    config: Option<PathBuf>,
    overrides: Option<PathBuf>,
    /// `(date, time)` from `<date>/<time>/<n>` (Hydra).
    stamp: Option<(String, String)>,
    number: u64,
}

fn files_below(dir: &Path, skip_hidden_hydra: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if skip_hidden_hydra && e.file_name() == ".hydra" {
                continue;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                Ok(t) if t.is_file() => out.push(p),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

fn hydra_jobs(root: &Path) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        let cfg = d.join(".hydra").join("config.yaml");
        if cfg.is_file() {
            let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
            let time = d.parent().and_then(name);
            let date = d.parent().and_then(Path::parent).and_then(name);
            let stamp = match (date, time) {
                (Some(a), Some(b)) if a.len() == 10 && a.as_bytes()[4] == b'-' && b.len() == 8 => {
                    Some((a, b))
                }
                _ => None,
            };
            jobs.push(Job {
                number: name(&d).and_then(|n| n.parse().ok()).unwrap_or(0),
                overrides: Some(d.join(".hydra").join("overrides.yaml")).filter(|p| p.is_file()),
                config: Some(cfg),
                dir: d,
                stamp,
            });
            continue;
        }
        if depth < 6 {
            if let Ok(rd) = std::fs::read_dir(&d) {
                for e in rd.flatten() {
                    if e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != ".hydra" {
                        stack.push((e.path(), depth + 1));
                    }
                }
            }
        }
    }
    jobs.sort_by(|a, b| (&a.stamp, a.number, &a.dir).cmp(&(&b.stamp, b.number, &b.dir)));
    jobs
}

fn plain_jobs(root: &Path, metrics: &str) -> Vec<Job> {
    let mut jobs: Vec<Job> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|d| d.join("config.yaml").is_file() || d.join(metrics).is_file())
        .map(|d| Job {
            config: Some(d.join("config.yaml")).filter(|p| p.is_file()),
            overrides: None,
            stamp: None,
            number: 0,
            dir: d,
        })
        .collect();
    jobs.sort_by(|a, b| a.dir.cmp(&b.dir));
    jobs
}

fn yaml(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    serde_yaml_ng::from_str(&text)
        .map_err(|e| Error::input(format!("{}: not valid YAML: {e}", path.display())))
}

fn millis_of(job: &Job, hydra: bool) -> i64 {
    if let Some((date, time)) = &job.stamp {
        let text = format!("{date}T{}Z", time.replace('-', ":"));
        if let Some(t) = UtcDateTime::parse(&text) {
            return t.unix_millis() + job.number as i64; // keep jobs apart and in order
        }
    }
    if !hydra {
        // a folder named by a git-workbench run id keeps its time
        if let Some(name) = job.dir.file_name().and_then(|n| n.to_str()) {
            if let Some(ms) = crate::model::run_id::millis_of_run_id(name) {
                return ms;
            }
        }
    }
    let probe = job.config.clone().unwrap_or_else(|| job.dir.clone());
    std::fs::metadata(&probe)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn cmd_import(out: &Out, args: Args) -> Result<u8> {
    let (hydra, a) = match args.source {
        Source::Hydra(a) => (true, a),
        Source::Runs(a) => (false, a),
    };
    let ws = Workspace::open("import")?;
    if a.stage.is_empty()
        || !a
            .stage
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Error::input(format!(
            "'{}' is not a stage name: letters, digits, '_', '-' and '.'",
            a.stage
        )));
    }
    let root = a
        .dir
        .canonicalize()
        .map_err(|e| Error::input(format!("{}: {e}", a.dir.display())))?;
    let jobs = if hydra {
        hydra_jobs(&root)
    } else {
        plain_jobs(&root, &a.metrics)
    };
    if jobs.is_empty() {
        return Err(if hydra {
            Error::input(format!(
                "{} is not a Hydra multirun tree: no <job>/.hydra/config.yaml below it",
                a.dir.display()
            ))
            .hint("point at the directory Hydra's --multirun wrote (hydra.sweep.dir, by default multirun/)")
        } else {
            Error::input(format!(
                "{} has no run folders (subfolders with config.yaml or {})",
                a.dir.display(),
                a.metrics
            ))
        });
    }
    let max_stored = ws
        .config
        .stages
        .iter()
        .find(|s| s.name == a.stage)
        .map_or(ws.config.max_stored_size, |s| s.max_stored_size);
    let snapshot = ws.store.snapshot()?;
    let mut imported = Vec::new();
    let mut already = Vec::new();
    for job in &jobs {
        let rel_of = |p: &Path| -> String {
            match p.strip_prefix(&ws.root) {
                Ok(r) => r.to_string_lossy().into_owned(),
                Err(_) => p
                    .strip_prefix(root.parent().unwrap_or(&root))
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned(),
            }
        };
        let params = match &job.config {
            Some(c) => flatten(&yaml(c)?),
            None => BTreeMap::new(),
        };
        let mut overrides = BTreeMap::new();
        if let Some(o) = &job.overrides {
            if let Value::Array(items) = yaml(o)? {
                for it in items.iter().filter_map(Value::as_str) {
                    if let Ok((k, v)) = parse_override(it) {
                        overrides.insert(k.trim_start_matches(['+', '~']).to_string(), v);
                    }
                }
            }
        }
        let files = files_below(&job.dir, hydra);
        let mut outputs = BTreeMap::new();
        let mut stored: Vec<(String, PathBuf)> = Vec::new();
        let mut log = Vec::new();
        for f in &files {
            let bytes = std::fs::read(f).map_err(Error::io(f))?;
            let rel = rel_of(f);
            outputs.insert(rel.clone(), tagged(&sha256_hex(&bytes)));
            if bytes.len() as u64 <= max_stored {
                stored.push((rel, f.clone()));
            }
            if hydra && log.is_empty() && f.extension().is_some_and(|e| e == "log") {
                log = bytes;
            }
        }
        let metrics_file = job.dir.join(&a.metrics);
        let (metrics, metrics_error) = if metrics_file.is_file() {
            match super::run::read_metrics(&metrics_file) {
                Ok(m) => (m, None),
                Err(e) => (
                    BTreeMap::new(),
                    Some(format!("{}: {e}", rel_of(&metrics_file))),
                ),
            }
        } else {
            (BTreeMap::new(), None)
        };
        // What makes this job this job: its place (however DIR was written) and bytes.
        let place = match job.dir.strip_prefix(&ws.root) {
            Ok(r) => r.to_string_lossy().into_owned(),
            Err(_) => job.dir.to_string_lossy().into_owned(),
        };
        let key = sha256_hex(
            format!(
                "{}\n{}\n{}",
                place,
                serde_json::to_string(&params).expect("json"),
                serde_json::to_string(&outputs).expect("json")
            )
            .as_bytes(),
        );
        let source = format!("{} {place} {key}", if hydra { "hydra" } else { "runs" });
        let started_ms = millis_of(job, hydra);
        let mut chosen = None;
        for attempt in 0..16usize {
            let random = u16::from_str_radix(&key[attempt * 4..attempt * 4 + 4], 16).unwrap_or(0);
            let id = new_run_id(started_ms, random);
            match ws.store.find_run(&a.stage, &id)? {
                None => {
                    chosen = Some((id, false));
                    break;
                }
                Some(r) => {
                    let m = ws.store.read_manifest(r.tip)?;
                    if m.imported_from.as_deref() == Some(source.as_str()) {
                        chosen = Some((id, true));
                        break;
                    }
                }
            }
        }
        let Some((run_id, done)) = chosen else {
            return Err(Error::input(format!(
                "no free run id for {}",
                job.dir.display()
            )));
        };
        if done {
            already.push(run_id);
            continue;
        }
        let sweep_id = job.stamp.as_ref().map(|(d, t)| format!("hydra-{d}T{t}"));
        let manifest = RunManifest {
            schema: MANIFEST_SCHEMA.into(),
            stage: a.stage.clone(),
            run_id: run_id.clone(),
            parent_run_id: None,
            status: RunStatus::Executed,
            params_used: params,
            overrides,
            inputs: BTreeMap::new(),
            outputs,
            missing_outputs: Vec::new(),
            stored_outputs: stored.iter().map(|(p, _)| p.clone()).collect(),
            code_files: BTreeMap::new(),
            code_ref: CodeRef {
                commit: snapshot.head.map(|h| h.to_string()),
                dirty: snapshot.dirty,
                tree: snapshot.tree.to_string(),
                branch: snapshot.branch.clone(),
            },
            command: format!(
                "imported from {} {}",
                if hydra { "Hydra job" } else { "run folder" },
                rel_of(&job.dir)
            ),
            exit_code: 0,
            started_at: UtcDateTime::from_unix_millis(started_ms).rfc3339(),
            duration_seconds: 0.0,
            metrics,
            metrics_error,
            run_dir: rel_of(&job.dir),
            log_bytes: log.len() as u64,
            log_truncated: false,
            host: String::new(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            sweep_id,
            imported_from: Some(source),
        };
        super::records::record_new_run(
            out,
            &ws.store,
            &NewRun {
                manifest: &manifest,
                log: &log,
                outputs: stored,
                snapshot_tree: snapshot.tree,
            },
        )?;
        if !out.json {
            let shown: Vec<String> = manifest
                .overrides
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::model::manifest::display_value(v)))
                .collect();
            out.line(&format!(
                "imported {run_id} from {} {}",
                manifest.run_dir,
                shown.join(" ")
            ));
        }
        imported.push(run_id);
    }
    if out.json {
        out.json_value(
            &json!({"stage": a.stage, "imported": imported, "already_imported": already}),
        );
    } else {
        out.line(&format!(
            "{} run(s) imported into stage {}, {} already imported",
            imported.len(),
            a.stage,
            already.len()
        ));
    }
    Ok(0)
}
