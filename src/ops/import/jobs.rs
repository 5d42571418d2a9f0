//! Finding the jobs of a tree `import` reads — Hydra's output folders (a `.hydra/`
//! beside the job's files) or the seed's run folders — and what Hydra's own files say
//! of each job: its log file, its number, whether it belongs to a multirun, and the
//! wall-clock time its folder is named after. Nothing here follows a symbolic link:
//! a job's records read through one are refused, its files are listed as links for
//! the caller to judge.

use crate::error::{Error, Result};
use crate::model::digest::sha256_hex;
use crate::model::time::WallClock;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// How deep below DIR job folders are looked for (`multirun/<date>/<time>/<n>` is 3).
const MAX_DEPTH: usize = 6;

/// One job found in the tree.
pub struct Job {
    pub dir: PathBuf,
    pub config: Option<PathBuf>,
    /// `.hydra/overrides.yaml`; a Hydra job without one is recorded without overrides.
    pub overrides: Option<PathBuf>,
    /// The time its folder names (`<date>/<time>/<n>` or `<date>/<time>`), zone-less.
    pub wall_clock: Option<WallClock>,
    /// `hydra.job.num`, or the folder's number: keeps jobs of one second in order.
    pub number: u64,
    /// The job's log file (Hydra's `<job name>.log`): the run's log, never an output.
    pub log: Option<PathBuf>,
    /// The sweep id shared by the jobs of one multirun.
    pub sweep: Option<String>,
    /// What hydra-submitit-launcher kept of the job, when it launched it.
    pub submitit: Option<Submitit>,
}

/// A job hydra-submitit-launcher ran (locally or on Slurm: one code path): submitit's
/// job id, and the job's stdout and stderr in the sweep's `.submitit/<job id>/`.
pub struct Submitit {
    /// `submitit-local`, `submitit-slurm` (the launcher's class), or `submitit`.
    pub launcher: String,
    pub job_id: String,
    pub stdout: Option<PathBuf>,
    pub stderr: Option<PathBuf>,
}

/// What `.hydra/hydra.yaml` says of a job.
#[derive(Default)]
struct HydraMeta {
    name: Option<String>,
    num: Option<u64>,
    multirun: Option<bool>,
    /// `hydra.job_logging.handlers.file.filename`, as written (interpolations left).
    log_filename: Option<String>,
    /// `hydra.job.id`: submitit's job id under its launcher.
    job_id: Option<String>,
    /// `hydra.launcher._target_`.
    launcher: Option<String>,
    /// `hydra.launcher.submitit_folder`, as written.
    submitit_folder: Option<String>,
}

/// Reads a small file, refusing one larger than `limit` before reading it.
pub fn read_limited(path: &Path, limit: u64) -> Result<String> {
    let len = std::fs::metadata(path).map_err(Error::io(path))?.len();
    if len > limit {
        return Err(Error::input(format!(
            "{}: {len} bytes, more than the {limit} read of a job's records",
            path.display()
        ))
        .hint("raise max_metrics_size in the configuration if the file is genuine"));
    }
    std::fs::read_to_string(path).map_err(Error::io(path))
}

pub fn yaml(path: &Path, limit: u64) -> Result<Value> {
    let text = read_limited(path, limit)?;
    serde_yaml_ng::from_str(&text)
        .map_err(|e| Error::input(format!("{}: not valid YAML: {e}", path.display())))
}

/// What a path of a job's records is: a file, absent, or refused (a link, a folder).
fn record_file(path: &Path) -> Result<Option<PathBuf>> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => Ok(Some(path.to_path_buf())),
        Ok(m) if m.file_type().is_symlink() => Err(Error::input(format!(
            "{} is a symbolic link: a job's records are read from the job's own files only",
            path.display()
        ))
        .hint("replace the link by the file it points to; nothing was imported")),
        Ok(_) => Err(Error::input(format!("{} is not a file", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path)(e)),
    }
}

fn file_name(p: &Path) -> Option<String> {
    p.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// Every Hydra job below `dir` (itself included), in time and number order; `repo`
/// is the root paths are named from. A link to a folder is not followed (it may lead
/// out of the repository, or loop): it is named in `warnings`.
pub fn hydra_jobs(
    dir: &Path,
    repo: &Path,
    limit: u64,
    warnings: &mut Vec<String>,
) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((d, depth)) = stack.pop() {
        let dot = d.join(".hydra");
        let is_job = match std::fs::symlink_metadata(&dot) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::input(format!(
                "{} is a symbolic link: a job's records are read from the job's own folder only",
                dot.display()
            ))
                .hint("replace the link by the folder it points to; nothing was imported"))
            }
            Ok(m) => m.is_dir() && record_file(&dot.join("config.yaml"))?.is_some(),
            Err(_) => false,
        };
        if is_job {
            jobs.push(hydra_job(repo, d, limit)?);
            continue;
        }
        if depth < MAX_DEPTH {
            for (p, _) in subdirs(&d)? {
                if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                    warnings.push(format!(
                        "{}: a link to a folder, not followed; no job behind it is imported",
                        crate::exec::paths::relative(repo, &p)
                    ));
                } else {
                    stack.push((p, depth + 1));
                }
            }
        }
    }
    jobs.sort_by(|a, b| {
        let at = |j: &Job| j.wall_clock.map(|w| w.at_offset(0));
        (at(a), a.number, &a.dir).cmp(&(at(b), b.number, &b.dir))
    });
    Ok(jobs)
}

/// Subfolders and links to folders (never `.git` or `.hydra`), with their names.
fn subdirs(d: &Path) -> Result<Vec<(PathBuf, String)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).map_err(Error::io(d))? {
        let e = e.map_err(Error::io(d))?;
        let name = e.file_name();
        // `.submitit/` holds submitit's pickles and logs, read through the job's
        // hydra.yaml only (never a job, never unpickled)
        if name == ".hydra" || name == ".git" || name == ".submitit" {
            continue;
        }
        let t = e.file_type().map_err(Error::io(&e.path()))?;
        if t.is_dir() || (t.is_symlink() && e.path().is_dir()) {
            out.push((e.path(), name.to_string_lossy().into_owned()));
        }
    }
    out.sort();
    Ok(out)
}

fn hydra_job(root: &Path, dir: PathBuf, limit: u64) -> Result<Job> {
    let dot = dir.join(".hydra");
    let config = record_file(&dot.join("config.yaml"))?;
    let overrides = record_file(&dot.join("overrides.yaml"))?;
    let meta = match record_file(&dot.join("hydra.yaml"))? {
        Some(p) => Some(hydra_meta(&yaml(&p, limit)?)),
        None => None,
    };
    let parent = dir.parent().unwrap_or(&dir);
    let grandparent = parent.parent().unwrap_or(parent);
    let (n, p, g) = (file_name(&dir), file_name(parent), file_name(grandparent));
    let clock = |date: &Option<String>, time: &Option<String>| {
        WallClock::parse_hydra(date.as_deref()?, time.as_deref()?)
    };
    // `<date>/<time>/<n>` (a multirun's job) before `<date>/<time>` (a single run).
    let (wall_clock, multirun_layout) = match (clock(&g, &p), clock(&p, &n)) {
        (Some(w), _) => (Some(w), true),
        (None, Some(w)) => (Some(w), false),
        (None, None) => (None, false),
    };
    let meta = meta.unwrap_or_default();
    let multirun = meta.multirun.unwrap_or(multirun_layout);
    let sweep = multirun.then(|| match (&g, &p) {
        (Some(date), Some(time)) if multirun_layout => format!("hydra-{date}T{time}"),
        // another hydra.sweep.dir: the multirun is its folder
        _ => {
            let place = crate::exec::paths::relative(root, parent);
            format!("hydra-{}", &sha256_hex(place.as_bytes())[..12])
        }
    });
    let number = meta
        .num
        .or_else(|| n.as_deref().and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let log = log_file(&dir, &meta)?;
    let submitit = submitit(parent, &meta)?;
    Ok(Job {
        config,
        overrides,
        wall_clock,
        number,
        log,
        sweep,
        submitit,
        dir,
    })
}

/// What hydra-submitit-launcher kept of a job it launched: its stdout and stderr in
/// `${hydra.sweep.dir}/.submitit/%j/%j_0_log.{out,err}` (the launcher's default
/// folder; another is not looked for), `sweep` being the job folder's parent.
fn submitit(sweep: &Path, meta: &HydraMeta) -> Result<Option<Submitit>> {
    let (Some(target), Some(job_id)) = (&meta.launcher, &meta.job_id) else {
        return Ok(None);
    };
    if !target.starts_with("hydra_plugins.hydra_submitit_launcher.") {
        return Ok(None);
    }
    let launcher = match target.rsplit('.').next() {
        Some("LocalLauncher") => "submitit-local",
        Some("SlurmLauncher") => "submitit-slurm",
        _ => "submitit",
    };
    // A job id names a folder and files: only digits, letters, `_` and `-`.
    let safe = !job_id.is_empty()
        && job_id.len() <= 64
        && job_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let folder = meta
        .submitit_folder
        .as_deref()
        .unwrap_or("${hydra.sweep.dir}/.submitit/%j")
        .strip_prefix("${hydra.sweep.dir}/")
        .map(|rest| rest.replace("%j", job_id))
        .filter(|rest| {
            safe && !rest.contains(['$', '%'])
                && crate::model::integrity::contained_path(rest).is_ok()
        })
        .map(|rest| sweep.join(rest));
    let (stdout, stderr) = match &folder {
        Some(f) => (
            record_file(&f.join(format!("{job_id}_0_log.out")))?,
            record_file(&f.join(format!("{job_id}_0_log.err")))?,
        ),
        None => (None, None),
    };
    Ok(Some(Submitit {
        launcher: launcher.to_string(),
        job_id: job_id.clone(),
        stdout,
        stderr,
    }))
}

fn hydra_meta(v: &Value) -> HydraMeta {
    let at = |path: &[&str]| path.iter().try_fold(v, |v, k| v.get(k));
    let text = |path: &[&str]| at(path).and_then(Value::as_str).map(str::to_string);
    HydraMeta {
        name: text(&["hydra", "job", "name"]),
        num: at(&["hydra", "job", "num"]).and_then(Value::as_u64),
        multirun: text(&["hydra", "mode"]).map(|m| m == "MULTIRUN"),
        log_filename: text(&["hydra", "job_logging", "handlers", "file", "filename"]),
        job_id: at(&["hydra", "job", "id"]).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }),
        launcher: text(&["hydra", "launcher", "_target_"]),
        submitit_folder: text(&["hydra", "launcher", "submitit_folder"]),
    }
}

/// The job's log: the file Hydra's job logging writes (`${hydra.runtime.output_dir}/
/// ${hydra.job.name}.log` by default), or, without hydra.yaml, the one `*.log` in the
/// job folder. A log configured outside the job folder is not the job's to record.
fn log_file(dir: &Path, meta: &HydraMeta) -> Result<Option<PathBuf>> {
    const OUTPUT_DIR: &str = "${hydra.runtime.output_dir}/";
    let from_setting = match (&meta.log_filename, &meta.name) {
        (Some(f), Some(name)) => f
            .strip_prefix(OUTPUT_DIR)
            .map(|rest| rest.replace("${hydra.job.name}", name))
            .filter(|rest| {
                !rest.contains("${") && crate::model::integrity::contained_path(rest).is_ok()
            }),
        _ => None,
    };
    let rel = match (from_setting, &meta.name) {
        (Some(rel), _) => rel,
        (None, Some(name)) if meta.log_filename.is_none() => format!("{name}.log"),
        (None, Some(_)) => return Ok(None),
        (None, None) => {
            let logs: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(Error::io(dir))?
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect();
            return Ok(match <[PathBuf; 1]>::try_from(logs) {
                Ok([one]) => Some(one),
                Err(_) => None,
            });
        }
    };
    let path = dir.join(rel);
    Ok(std::fs::symlink_metadata(&path)
        .is_ok_and(|m| m.file_type().is_file())
        .then_some(path))
}

/// The seed's `runs/<run-id>/` folders below `root`: each with config.yaml or the
/// metrics file.
pub fn plain_jobs(root: &Path, metrics: &str) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for (d, _) in subdirs(root)? {
        if std::fs::symlink_metadata(&d).is_ok_and(|m| m.file_type().is_symlink()) {
            continue; // not followed, as in a Hydra tree
        }
        let config = record_file(&d.join("config.yaml"))?;
        let has_metrics = std::fs::symlink_metadata(d.join(metrics)).is_ok();
        if config.is_none() && !has_metrics {
            continue;
        }
        jobs.push(Job {
            config,
            overrides: None,
            wall_clock: None,
            number: 0,
            log: None,
            sweep: None,
            submitit: None,
            dir: d,
        });
    }
    Ok(jobs)
}

/// A file below a job folder, as found (links are not followed here).
pub struct Found {
    pub path: PathBuf,
    pub link: bool,
}

/// The job's files (not `.hydra/`, not in linked folders): regular files and links.
pub fn job_files(dir: &Path, hydra: bool) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(Error::io(&d))? {
            let e = e.map_err(Error::io(&d))?;
            if hydra && e.file_name() == ".hydra" {
                continue;
            }
            let t = e.file_type().map_err(Error::io(&e.path()))?;
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() || t.is_symlink() {
                out.push(Found {
                    path: e.path(),
                    link: t.is_symlink(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}
