//! `import hydra DIR` and `import runs DIR`: record runs made outside git-workbench — a
//! Hydra `--multirun` (or single-run) tree, or the seed's plain `runs/<run-id>/`
//! layout — one run per job, idempotently (by the job's place and bytes). Manifests
//! come from the same builder as `run`'s, files are hashed through the stat cache.
//!
//! Everything that can refuse an import (an undeclared stage, a tree outside the
//! repository, a name no record can hold, a link out of the repository, bad YAML, an
//! unknown zone) is judged for every job before the first run is recorded.

mod jobs;
pub mod manifest;

use super::records::record_new_run;
use super::run::{code_ref, hash_outputs, read_metrics};
use super::workspace::Workspace;
use crate::error::{Error, Result};
use crate::exec::clock;
use crate::exec::progress::{Phase, Unit, NONE};
use crate::model::config::Stage;
use crate::model::digest::sha256_hex;
use crate::model::integrity::contained_path;
use crate::model::manifest::RunManifest;
use crate::model::params::{flatten, selects};
use crate::model::time::{Timestamp, Zone};
use crate::model::{RunId, StageName};
use crate::store::{NewRun, Snapshot};
use jobs::Job;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
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
    /// The zone Hydra's folder names are read in; `None`: the machine's.
    pub zone: Option<Zone>,
}

/// One imported job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Imported {
    pub run_id: RunId,
    /// The job's folder as recorded in the manifest's `run_dir`.
    pub run_dir: String,
    pub started_at: Timestamp,
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
    /// The zone Hydra's folder names were read in: `local` (the machine's), an
    /// offset (`+09:00`) or a tz database name.
    pub timezone: String,
    pub warnings: Vec<String>,
}

pub fn import(ws: &Workspace, req: &ImportRequest) -> Result<ImportReport> {
    let stage = declared_stage(ws, &req.stage)?;
    contained_path(&req.metrics).map_err(|why| {
        Error::input(format!("--metrics '{}' {why}", req.metrics))
            .hint("name the metrics file relative to each job's folder, e.g. metrics.json")
    })?;
    let (root, repo_root) = inside_repository(ws, &req.dir)?;
    if let Some(Zone::Named(name)) = &req.zone {
        clock::zone_known(name).map_err(|e| {
            Error::input(e)
                .hint("name a zone of the tz database (Asia/Tokyo; package tzdata) or give a UTC offset (+09:00)")
        })?;
    }
    let mut warnings = Vec::new();
    let jobs = match req.layout {
        Layout::Hydra => {
            jobs::hydra_jobs(&root, &repo_root, stage.max_metrics_size, &mut warnings)?
        }
        Layout::Runs => jobs::plain_jobs(&root, &req.metrics)?,
    };
    if jobs.is_empty() {
        return Err(no_jobs(req));
    }
    // Every refusal happens here, for every job, before anything is recorded; the
    // times are converted here too, before any thread is started (clock's rule).
    let plans = jobs
        .iter()
        .map(|job| plan(req, stage, &repo_root, job, &mut warnings))
        .collect::<Result<Vec<_>>>()?;
    let mut ids = TakenIds::read(ws, &req.stage)?;
    let snapshot = ws.store.snapshot()?;
    let mut cache = ws.stat_cache();
    let mut report = ImportReport {
        stage: req.stage.clone(),
        imported: Vec::new(),
        already_imported: Vec::new(),
        runs: Vec::new(),
        timezone: req
            .zone
            .as_ref()
            .map_or_else(|| "local".to_string(), Zone::to_string),
        warnings,
    };
    let progress = &*ws.progress;
    let _phase = Phase::begin(
        progress,
        "importing runs",
        Some(plans.len() as u64),
        Unit::Records,
    );
    for p in &plans {
        progress.item(&p.run_dir);
        let job = JobImport {
            ws,
            req,
            stage,
            root: &repo_root,
            snapshot: &snapshot,
        };
        job.import(p, &mut ids, &mut cache, &mut report)?;
        progress.advance(1);
    }
    cache.save();
    Ok(report)
}

/// The stage's declaration: runs of a stage the configuration does not declare are
/// shown by no `status`, `next` or `doctor` line, so importing into one is refused.
pub(super) fn declared_stage<'a>(ws: &'a Workspace, name: &StageName) -> Result<&'a Stage> {
    if let Some(s) = ws.config.stage(name) {
        return Ok(s);
    }
    let section = if ws.config_file == super::workspace::PYPROJECT_FILE {
        format!("[tool.workbench.stages.{name}]")
    } else {
        format!("[stages.{name}]")
    };
    let declared = ws.config.stage_names();
    let declared = if declared.is_empty() {
        "none yet".to_string()
    } else {
        declared.join(", ")
    };
    Err(Error::input(format!(
        "stage '{name}' is not declared in {} (declared: {declared}): runs imported into it would show in no status, next or doctor",
        ws.config_file
    ))
    .hint(format!(
        "add {section} with cmd = \"<the command that makes its runs>\" (docs/config.md) to {}, then import again; nothing was imported",
        ws.config_file
    )))
}

/// DIR, resolved, and the repository root: a tree outside the repository is refused,
/// since a run's files are named, reviewed and checked out by repository paths.
fn inside_repository(ws: &Workspace, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let root = dir
        .canonicalize()
        .map_err(|e| Error::input(format!("{}: {e}", dir.display())))?;
    let repo_root = ws.root.canonicalize().map_err(Error::io(&ws.root))?;
    let inside = root.strip_prefix(&repo_root).ok().filter(|rel| {
        rel.components()
            .next()
            .is_none_or(|c| c.as_os_str() != ".git")
    });
    if inside.is_none() {
        return Err(Error::input(format!(
            "{} is outside the repository's working tree ({}): its files could not be named, reviewed or checked out by repository paths",
            dir.display(),
            repo_root.display()
        ))
        .hint("move or copy the tree into the repository (Hydra writes multirun/ there when run from its root) and import it from there; nothing was imported"));
    }
    Ok((root, repo_root))
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

/// What is known of a job before anything is hashed or recorded.
struct Plan<'a> {
    job: &'a Job,
    /// The job's folder from the repository root.
    run_dir: String,
    /// Its files from the repository root (not its log, not `.hydra/`).
    outputs: Vec<String>,
    params: BTreeMap<String, Value>,
    overrides: BTreeMap<String, Value>,
    /// The job's metrics file, when it has one a record may read.
    metrics: Option<PathBuf>,
    started_ms: i64,
    command: String,
}

fn plan<'a>(
    req: &ImportRequest,
    stage: &Stage,
    root: &Path,
    job: &'a Job,
    warnings: &mut Vec<String>,
) -> Result<Plan<'a>> {
    let run_dir = recordable(root, &job.dir, &job.dir)?;
    let hydra = req.layout == Layout::Hydra;
    let mut outputs = Vec::new();
    for f in jobs::job_files(&job.dir, hydra)? {
        let rel = recordable(root, &job.dir, &f.path)?;
        if Some(&f.path) == job.log.as_ref() {
            continue;
        }
        if f.link && !link_to_file_inside(root, &job.dir, &f.path, &rel)? {
            continue;
        }
        outputs.push(rel);
    }
    let (params, overrides) = params(stage, job)?;
    if hydra && job.overrides.is_none() {
        warnings.push(format!(
            "{run_dir}: no .hydra/overrides.yaml; recorded without overrides"
        ));
    }
    let started_ms = started_millis(req, job, &run_dir, warnings);
    let metrics = job.dir.join(&req.metrics);
    let metrics = match std::fs::symlink_metadata(&metrics) {
        Ok(m) if m.file_type().is_file() => Some(metrics),
        Ok(m) if m.file_type().is_symlink() => {
            let rel = recordable(root, &job.dir, &metrics)?;
            link_to_file_inside(root, &job.dir, &metrics, &rel)?.then_some(metrics)
        }
        _ => None,
    };
    let command = format!(
        "imported from {} {run_dir}",
        match (&job.submitit, hydra) {
            (Some(s), _) => format!("Hydra job {} {}", s.launcher, s.job_id),
            (None, true) => "Hydra job".to_string(),
            (None, false) => "run folder".to_string(),
        }
    );
    Ok(Plan {
        job,
        run_dir,
        outputs,
        params,
        overrides,
        metrics,
        started_ms,
        command,
    })
}

/// `path` from the repository root, when a record can hold that name.
fn recordable(root: &Path, job: &Path, path: &Path) -> Result<String> {
    let refuse = |shown: &str, why: &str| {
        Error::input(format!(
            "{} holds '{shown}', a name that no record can hold: it {why}",
            job.display()
        ))
        .hint("rename it; nothing was imported")
    };
    let rel = crate::exec::paths::utf8_relative(root, path)
        .map_err(|escaped| refuse(&escaped, "is not UTF-8"))?;
    contained_path(&rel).map_err(|why| refuse(&rel.escape_debug().to_string(), why))?;
    Ok(rel)
}

/// Whether a link in a job folder is recorded as the file it points to (as `run`
/// records its outputs): a link to a file in the repository is; a link to a folder,
/// or a dangling one, is passed over; a link out of the repository, or into `.git`,
/// refuses the import, since its bytes would go into the record.
fn link_to_file_inside(root: &Path, job: &Path, path: &Path, rel: &str) -> Result<bool> {
    let Ok(target) = path.canonicalize() else {
        return Ok(false);
    };
    let inside = target.strip_prefix(root).is_ok_and(|r| {
        r.components()
            .next()
            .is_some_and(|c| c.as_os_str() != ".git")
    });
    if !inside {
        return Err(Error::input(format!(
            "{}: '{rel}' is a symbolic link to {}, outside the repository",
            job.display(),
            target.display()
        ))
        .hint("copy the file into the job folder, or remove the link; nothing was imported"));
    }
    Ok(target.is_file())
}

/// The job's composed config, flattened (the stage's declared keys when it declares
/// params), and the overrides its sweep set, with the values the job ran with.
fn params(stage: &Stage, job: &Job) -> Result<(BTreeMap<String, Value>, BTreeMap<String, Value>)> {
    let limit = stage.max_metrics_size;
    let all = match &job.config {
        Some(c) => flatten(&jobs::yaml(c, limit)?),
        None => BTreeMap::new(),
    };
    let mut overrides = BTreeMap::new();
    if let Some(o) = &job.overrides {
        let items = match jobs::yaml(o, limit)? {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            _ => {
                return Err(Error::input(format!(
                    "{}: not a list of Hydra overrides (key=value lines)",
                    o.display()
                )))
            }
        };
        for item in items {
            let Some(text) = item.as_str() else {
                return Err(Error::input(format!(
                    "{}: {item} is not an override (key=value)",
                    o.display()
                )));
            };
            // `~key` deletes a key: its absence is in the params already.
            let Some((key, value)) = text.split_once('=').filter(|_| !text.starts_with('~')) else {
                continue;
            };
            let key = key.trim_start_matches('+').trim();
            if key.is_empty() {
                continue;
            }
            let value = all.get(key).cloned().unwrap_or_else(|| {
                serde_yaml_ng::from_str(value).unwrap_or_else(|_| Value::String(value.into()))
            });
            overrides.insert(key.to_string(), value);
        }
    }
    let params = match &stage.params {
        Some(spec) => all
            .into_iter()
            .filter(|(k, _)| overrides.contains_key(k) || spec.keys.iter().any(|p| selects(p, k)))
            .collect(),
        None => all,
    };
    Ok((params, overrides))
}

/// When the job started: its folder's wall-clock name read in the requested zone
/// (plus its number in milliseconds, which keeps one second's jobs in order), a
/// run-id folder name's time, or its config's modification time.
fn started_millis(
    req: &ImportRequest,
    job: &Job,
    run_dir: &str,
    warnings: &mut Vec<String>,
) -> i64 {
    if let Some(w) = &job.wall_clock {
        let base = match &req.zone {
            None => clock::wall_clock_millis(w.fields(), None),
            Some(Zone::Offset(m)) => Some(w.at_offset(*m)),
            Some(Zone::Named(n)) => clock::wall_clock_millis(w.fields(), Some(n)),
        };
        match base {
            Some(ms) => {
                return ms.saturating_add(i64::try_from(job.number).unwrap_or(i64::MAX));
            }
            None => warnings.push(format!(
                "{run_dir}: its folder's time cannot be read in that zone; the file time is recorded"
            )),
        }
    }
    if req.layout == Layout::Runs {
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

/// Run ids no new run may take (any stage's: an id names one run, so a bare id or
/// prefix never needs its stage), and the stage's imported jobs by their source.
pub(super) struct TakenIds {
    ids: BTreeSet<RunId>,
    imported: HashMap<String, RunId>,
}

impl TakenIds {
    pub(super) fn read(ws: &Workspace, stage: &StageName) -> Result<TakenIds> {
        let mut taken = TakenIds {
            ids: BTreeSet::new(),
            imported: HashMap::new(),
        };
        for r in ws.store.list_runs(None)? {
            if &r.stage == stage {
                // an unreadable record is doctor's to report; it imported nothing here
                if let Ok(m) = ws.store.read_manifest(r.tip) {
                    if let Some(source) = m.imported_from {
                        taken.imported.insert(source, r.run_id.clone());
                    }
                }
            }
            taken.ids.insert(r.run_id);
        }
        Ok(taken)
    }

    /// A free id for a job started at `started_ms`, its random bits from the job's
    /// key and the stage, so two stages importing one job get different ids.
    pub(super) fn choose(
        &mut self,
        key: &str,
        stage: &StageName,
        started_ms: i64,
    ) -> Result<RunId> {
        for attempt in 0..256u32 {
            let bits = sha256_hex(format!("{key}\n{stage}\n{attempt}").as_bytes());
            let random = u16::from_str_radix(&bits[..4], 16).unwrap_or(0);
            let ms = started_ms.saturating_add(i64::from(attempt / 64));
            let id = RunId::generate(ms, random);
            if self.ids.insert(id.clone()) {
                return Ok(id);
            }
        }
        Err(Error::input(format!(
            "no free run id near {}",
            Timestamp::from_unix_millis(started_ms)
        )))
    }
}

/// One job being recorded.
struct JobImport<'a> {
    ws: &'a Workspace,
    req: &'a ImportRequest,
    stage: &'a Stage,
    root: &'a Path,
    snapshot: &'a Snapshot,
}

impl JobImport<'_> {
    fn import(
        &self,
        p: &Plan,
        ids: &mut TakenIds,
        cache: &mut crate::exec::statcache::StatCache,
        report: &mut ImportReport,
    ) -> Result<()> {
        let hydra = self.req.layout == Layout::Hydra;
        let mut hashed = hash_outputs(
            &self.ws.store,
            self.root,
            &p.outputs,
            self.stage.max_stored_size,
            cache,
            // counted as one run of the import's phase, not in bytes
            &NONE,
        )?;
        // What makes this job this job: its place (however DIR was written) and bytes.
        let key = sha256_hex(
            format!(
                "{}\n{}\n{}",
                p.run_dir,
                serde_json::to_string(&p.params).expect("json"),
                serde_json::to_string(&hashed.hashes).expect("json")
            )
            .as_bytes(),
        );
        let source = format!(
            "{} {} {key}",
            if hydra { "hydra" } else { "runs" },
            p.run_dir
        );
        if let Some(id) = ids.imported.get(&source) {
            report.already_imported.push(id.clone());
            return Ok(());
        }
        let run_id = ids.choose(&key, &self.req.stage, p.started_ms)?;
        // As `run` does: the stage's outputs over max_stored_size into git LFS.
        let lfs = match self.stage.large_outputs {
            crate::model::config::LargeOutputs::Hash => super::lfs::KeptInLfs::default(),
            crate::model::config::LargeOutputs::Lfs => {
                let stored: Vec<String> = hashed.stored.iter().map(|(r, _)| r.clone()).collect();
                super::lfs::keep_large(
                    &self.ws.store,
                    self.root,
                    &mut hashed.hashes,
                    &stored,
                    &mut hashed.gone,
                )?
            }
        };
        let limit = self.stage.max_stored_size;
        let (log, log_bytes, truncated) = match (&p.job.submitit, &p.job.log) {
            (Some(s), _) if s.stdout.is_some() || s.stderr.is_some() => submitit_log(s, limit)?,
            (_, Some(f)) => read_log(f, limit)?,
            _ => (Vec::new(), 0, false),
        };
        let origin = p
            .job
            .submitit
            .as_ref()
            .and_then(|s| submitit_origin(s, &log, &p.run_dir, &mut report.warnings));
        // submitit logs the outcome of the job's function; a plain Hydra job's is
        // not known, and was a success when its folder was written.
        let failed =
            p.job.submitit.is_some() && contains(&log, b"Submitted job triggered an exception");
        let manifest = self
            .manifest(p, run_id, source.clone())
            .command(p.command.clone(), i32::from(failed), 0.0)
            .place(
                p.run_dir.clone(),
                origin
                    .as_ref()
                    .and_then(|o| o.host.clone())
                    .unwrap_or_default(),
            )
            .origin(origin)
            .produced(
                hashed.hashes,
                hashed.gone,
                hashed.stored.iter().map(|(r, _)| r.clone()).collect(),
            )
            .log(log_bytes, truncated)
            .lfs(lfs.sizes)
            .build();
        let (run, warnings) = record_new_run(
            &self.ws.store,
            &NewRun {
                manifest: &manifest,
                log: &log,
                outputs: hashed.stored,
                lfs_pointers: lfs.pointers,
                snapshot_tree: self.snapshot.tree,
            },
        )?;
        ids.imported.insert(source, manifest.run_id.clone());
        report.warnings.extend(warnings);
        // The newest imported run awaits a decision in review/<stage>/candidate/.
        report
            .warnings
            .extend(super::mirror::show_new_run(self.ws, &run));
        report.runs.push(Imported {
            run_id: manifest.run_id.clone(),
            run_dir: manifest.run_dir.clone(),
            started_at: manifest.started_at,
            overrides: manifest.overrides.clone(),
        });
        report.imported.push(manifest.run_id);
        Ok(())
    }

    /// The manifest of an imported job, through the same builder as `run`'s.
    fn manifest(
        &self,
        p: &Plan,
        run_id: RunId,
        source: String,
    ) -> crate::model::manifest::ManifestBuilder {
        let metrics = match &p.metrics {
            Some(f) => read_metrics(f, self.stage.max_metrics_size)
                .map_err(|e| format!("{}/{}: {e}", p.run_dir, self.req.metrics)),
            None => Ok(BTreeMap::new()),
        };
        RunManifest::builder(
            self.req.stage.clone(),
            run_id,
            code_ref(self.snapshot),
            Timestamp::from_unix_millis(p.started_ms),
        )
        .params(p.params.clone(), p.overrides.clone())
        .metrics(metrics)
        .sweep(p.job.sweep.clone())
        .imported_from(source)
    }
}

/// A submitit job's log: its stdout, then its stderr behind a marker line, each cut
/// to `limit` bytes as `run` cuts a log.
fn submitit_log(s: &jobs::Submitit, limit: u64) -> Result<(Vec<u8>, u64, bool)> {
    let mut log = Vec::new();
    let (mut bytes, mut cut) = (0, false);
    for (part, marker) in [(&s.stdout, None), (&s.stderr, Some("submitit stderr"))] {
        let Some(f) = part else { continue };
        let (kept, len, truncated) = read_log(f, limit)?;
        if kept.is_empty() {
            continue;
        }
        if let Some(m) = marker.filter(|_| !log.is_empty()) {
            if !log.ends_with(b"\n") {
                log.push(b'\n');
            }
            log.extend(format!("[git-workbench: {m}]\n").bytes());
        }
        log.extend(kept);
        bytes += len;
        cut |= truncated;
    }
    Ok((log, bytes, cut))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Where a submitit job ran: the launcher, its job id, and the host submitit's first
/// log line names (`JobEnvironment(job_id=.., hostname=..`); a value no origin may
/// hold is left out, with a warning.
fn submitit_origin(
    s: &jobs::Submitit,
    log: &[u8],
    run_dir: &str,
    warnings: &mut Vec<String>,
) -> Option<crate::model::origin::RunOrigin> {
    const HOST: &[u8] = b"hostname=";
    let host = log
        .windows(HOST.len())
        .position(|w| w == HOST)
        .map(|i| &log[i + HOST.len()..])
        .and_then(|rest| {
            let end = rest.iter().position(|b| matches!(b, b',' | b')' | b'\n'))?;
            std::str::from_utf8(&rest[..end]).ok().map(str::to_string)
        });
    let mut origin = crate::model::origin::RunOrigin {
        orchestrator: s.launcher.clone(),
        run_id: s.job_id.clone(),
        job: None,
        host,
        url: None,
    };
    if origin.check().is_err() {
        origin.host = None;
    }
    match origin.check() {
        Ok(()) => Some(origin),
        Err(why) => {
            warnings.push(format!("{run_dir}: recorded without its origin: {why}"));
            None
        }
    }
}

/// The job's log, at most `limit` bytes of it (its end, behind the marker `run`
/// writes), read without holding more than that: a huge log is not read whole.
/// Returns the bytes kept, the log's length and whether it was cut.
pub(super) fn read_log(path: &Path, limit: u64) -> Result<(Vec<u8>, u64, bool)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(Error::io(path))?;
    let len = f.metadata().map_err(Error::io(path))?.len();
    let mut kept = Vec::new();
    if len <= limit {
        f.take(limit)
            .read_to_end(&mut kept)
            .map_err(Error::io(path))?;
        return Ok((kept, len, false));
    }
    let dropped = len - limit;
    f.seek(SeekFrom::Start(dropped)).map_err(Error::io(path))?;
    kept.extend(format!("[git-workbench: log truncated, first {dropped} bytes dropped]\n").bytes());
    f.take(limit)
        .read_to_end(&mut kept)
        .map_err(Error::io(path))?;
    Ok((kept, len, true))
}
