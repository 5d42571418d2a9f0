//! `import hydra DIR` and `import runs DIR`: record runs made outside git-workbench — a
//! Hydra `--multirun` tree, or the seed's plain `runs/<run-id>/` layout — one run per
//! job, idempotently (by the job's place and bytes). Manifests come from the same
//! builder as `run`'s, files are hashed through the stat cache.

use super::records::record_new_run;
use super::run::{code_ref, hash_outputs, read_metrics};
use super::workspace::Workspace;
use crate::error::{Error, Result};
use crate::model::digest::sha256_hex;
use crate::model::manifest::RunManifest;
use crate::model::params::{flatten, parse_override};
use crate::model::time::{Timestamp, UtcDateTime};
use crate::model::{RunId, StageName};
use crate::store::{NewRun, Snapshot};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which layout the tree has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `multirun/<date>/<time>/<n>/.hydra/config.yaml`
    Hydra,
    /// `runs/<run-id>/{config.yaml, metrics.json, ...}`
    Runs,
}

pub struct ImportRequest {
    pub layout: Layout,
    pub dir: PathBuf,
    pub stage: StageName,
    /// The metrics file of each job, relative to its folder.
    pub metrics: String,
}

/// One imported job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Imported {
    pub run_id: RunId,
    /// The job's folder as recorded in the manifest's `run_dir`.
    pub run_dir: String,
    pub overrides: BTreeMap<String, Value>,
}

/// `import --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportReport {
    pub stage: StageName,
    pub imported: Vec<RunId>,
    pub already_imported: Vec<RunId>,
    pub runs: Vec<Imported>,
    pub warnings: Vec<String>,
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

pub fn import(ws: &Workspace, req: &ImportRequest) -> Result<ImportReport> {
    let root = req
        .dir
        .canonicalize()
        .map_err(|e| Error::input(format!("{}: {e}", req.dir.display())))?;
    let jobs = match req.layout {
        Layout::Hydra => hydra_jobs(&root),
        Layout::Runs => plain_jobs(&root, &req.metrics),
    };
    if jobs.is_empty() {
        return Err(no_jobs(req));
    }
    let stage = ws.config.stage(&req.stage);
    let max_stored = stage.map_or(ws.config.max_stored_size, |s| s.max_stored_size);
    let max_metrics = stage.map_or(ws.config.max_metrics_size, |s| s.max_metrics_size);
    let snapshot = ws.store.snapshot()?;
    // Files inside the repository are named from its root, others from DIR's parent.
    let repo_root = ws.root.canonicalize().map_err(Error::io(&ws.root))?;
    let base = if root.starts_with(&repo_root) {
        repo_root
    } else {
        root.parent().unwrap_or(&root).to_path_buf()
    };
    let mut cache = ws.stat_cache();
    let mut report = ImportReport {
        stage: req.stage.clone(),
        imported: Vec::new(),
        already_imported: Vec::new(),
        runs: Vec::new(),
        warnings: Vec::new(),
    };
    // A job with a file no record can name is refused before any job is imported.
    let hydra = req.layout == Layout::Hydra;
    for job in &jobs {
        for f in files_below(&job.dir, hydra) {
            if let Err(escaped) = crate::exec::paths::utf8_relative(&base, &f) {
                return Err(Error::input(format!(
                    "{} holds a file whose name is not UTF-8, which no record can name: {escaped}",
                    job.dir.display()
                ))
                .hint("rename it to a UTF-8 name; nothing was imported"));
            }
        }
    }
    for job in &jobs {
        let job = JobImport {
            ws,
            req,
            job,
            base: &base,
            max_stored,
            max_metrics,
            snapshot: &snapshot,
        };
        job.import(&mut cache, &mut report)?;
    }
    cache.save();
    Ok(report)
}

fn no_jobs(req: &ImportRequest) -> Error {
    match req.layout {
        Layout::Hydra => Error::input(format!(
            "{} is not a Hydra multirun tree: no <job>/.hydra/config.yaml below it",
            req.dir.display()
        ))
        .hint("point at the directory Hydra's --multirun wrote (hydra.sweep.dir, by default multirun/)"),
        Layout::Runs => Error::input(format!(
            "{} has no run folders (subfolders with config.yaml or {})",
            req.dir.display(),
            req.metrics
        )),
    }
}

/// What was found of a job before its manifest is built.
struct Found {
    run_id: RunId,
    started_ms: i64,
    params: BTreeMap<String, Value>,
    overrides: BTreeMap<String, Value>,
    outputs: crate::model::digest::FileHashes,
    stored: Vec<String>,
    log_bytes: u64,
    source: String,
}

/// One job being imported.
struct JobImport<'a> {
    ws: &'a Workspace,
    req: &'a ImportRequest,
    job: &'a Job,
    base: &'a Path,
    max_stored: u64,
    max_metrics: u64,
    snapshot: &'a Snapshot,
}

impl JobImport<'_> {
    fn rel(&self, p: &Path) -> String {
        crate::exec::paths::relative(self.base, p)
    }

    fn import(
        &self,
        cache: &mut crate::exec::statcache::StatCache,
        report: &mut ImportReport,
    ) -> Result<()> {
        let hydra = self.req.layout == Layout::Hydra;
        let (params, overrides) = self.params()?;
        let files = files_below(&self.job.dir, hydra);
        let rels: Vec<String> = files.iter().map(|f| self.rel(f)).collect();
        let hashed = hash_outputs(&self.ws.store, self.base, &rels, self.max_stored, cache)?;
        let (outputs, stored) = (hashed.hashes, hashed.stored);
        // What makes this job this job: its place (however DIR was written) and bytes.
        let place = match self.job.dir.strip_prefix(&self.ws.root) {
            Ok(r) => r.to_string_lossy().into_owned(),
            Err(_) => self.job.dir.to_string_lossy().into_owned(),
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
        let started_ms = self.started_millis();
        let (run_id, done) = self.choose_run_id(&key, &source, started_ms)?;
        if done {
            report.already_imported.push(run_id);
            return Ok(());
        }
        let log = match files
            .iter()
            .find(|f| hydra && f.extension().is_some_and(|e| e == "log"))
        {
            Some(f) => std::fs::read(f).map_err(Error::io(f))?,
            None => Vec::new(),
        };
        let found = Found {
            run_id,
            started_ms,
            params,
            overrides,
            outputs,
            stored: stored.iter().map(|(r, _)| r.clone()).collect(),
            log_bytes: log.len() as u64,
            source,
        };
        let manifest = self.manifest(found);
        let (_, warnings) = record_new_run(
            &self.ws.store,
            &NewRun {
                manifest: &manifest,
                log: &log,
                outputs: stored,
                snapshot_tree: self.snapshot.tree,
            },
        )?;
        report.warnings.extend(warnings);
        report.runs.push(Imported {
            run_id: manifest.run_id.clone(),
            run_dir: manifest.run_dir.clone(),
            overrides: manifest.overrides.clone(),
        });
        report.imported.push(manifest.run_id);
        Ok(())
    }

    /// The manifest of an imported job, through the same builder as `run`'s.
    fn manifest(&self, f: Found) -> RunManifest {
        let hydra = self.req.layout == Layout::Hydra;
        let metrics_file = self.job.dir.join(&self.req.metrics);
        let metrics = if metrics_file.is_file() {
            read_metrics(&metrics_file, self.max_metrics)
                .map_err(|e| format!("{}: {e}", self.rel(&metrics_file)))
        } else {
            Ok(BTreeMap::new())
        };
        RunManifest::builder(
            self.req.stage.clone(),
            f.run_id,
            code_ref(self.snapshot),
            Timestamp::from_unix_millis(f.started_ms),
        )
        .params(f.params, f.overrides)
        .produced(f.outputs, Vec::new(), f.stored)
        .command(
            format!(
                "imported from {} {}",
                if hydra { "Hydra job" } else { "run folder" },
                self.rel(&self.job.dir)
            ),
            0,
            0.0,
        )
        .metrics(metrics)
        .place(self.rel(&self.job.dir), String::new())
        .log(f.log_bytes, false)
        .sweep(
            self.job
                .stamp
                .as_ref()
                .map(|(d, t)| format!("hydra-{d}T{t}")),
        )
        .imported_from(f.source)
        .build()
    }

    /// The job's composed config, flattened, and the overrides its sweep set.
    fn params(&self) -> Result<(BTreeMap<String, Value>, BTreeMap<String, Value>)> {
        let params = match &self.job.config {
            Some(c) => flatten(&yaml(c)?),
            None => BTreeMap::new(),
        };
        let mut overrides = BTreeMap::new();
        if let Some(o) = &self.job.overrides {
            if let Value::Array(items) = yaml(o)? {
                for it in items.iter().filter_map(Value::as_str) {
                    if let Ok((k, v)) = parse_override(it) {
                        overrides.insert(k.trim_start_matches(['+', '~']).to_string(), v);
                    }
                }
            }
        }
        Ok((params, overrides))
    }

    /// A run id for the job: the first free one of sixteen derived from its key, or
    /// the one an earlier import of the same job recorded (`done`).
    fn choose_run_id(&self, key: &str, source: &str, started_ms: i64) -> Result<(RunId, bool)> {
        for attempt in 0..16usize {
            let random = u16::from_str_radix(&key[attempt * 4..attempt * 4 + 4], 16).unwrap_or(0);
            let id = RunId::generate(started_ms, random);
            match self.ws.store.find_run(&self.req.stage, &id)? {
                None => return Ok((id, false)),
                Some(r) => {
                    let m = self.ws.store.read_manifest(r.tip)?;
                    if m.imported_from.as_deref() == Some(source) {
                        return Ok((id, true));
                    }
                }
            }
        }
        Err(Error::input(format!(
            "no free run id for {}",
            self.job.dir.display()
        )))
    }

    fn started_millis(&self) -> i64 {
        let job = self.job;
        if let Some((date, time)) = &job.stamp {
            let text = format!("{date}T{}Z", time.replace('-', ":"));
            if let Some(t) = UtcDateTime::parse(&text) {
                // keep jobs apart and in order
                return t
                    .unix_millis()
                    .saturating_add(i64::try_from(job.number).unwrap_or(i64::MAX));
            }
        }
        if self.req.layout == Layout::Runs {
            // a folder named by a git-workbench run id keeps its time
            if let Some(id) = job
                .dir
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| RunId::new(n).ok())
            {
                return id.unix_millis();
            }
        }
        let probe = job.config.clone().unwrap_or_else(|| job.dir.clone());
        std::fs::metadata(&probe)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64)
    }
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
