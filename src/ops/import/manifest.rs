//! `import manifest FILE|DIR`: record runs another orchestrator ran (Dagster, Prefect,
//! a CI runner, a cluster job) from the import manifests it wrote
//! (`model::import_manifest`, docs/import.md). DIR imports each `*.workbench.json`
//! directly in it, in byte order of the names. Beside a manifest `NAME.workbench.json`,
//! the folder `NAME.workbench.files/` may hold output files by their repository paths
//! (stored in the record, as `run` stores small outputs, once their size and sha256
//! match the manifest's) and `NAME.workbench.log` the run's log.
//!
//! Every manifest is read, judged and its files verified before the first run is
//! recorded: a refusal of any leaves the repository as it was. Each run is then one
//! record written objects first and its ref last, so an interruption between runs
//! leaves whole runs; importing again records the rest. A run is known by its
//! orchestrator and the orchestrator's run id (`origin`): the same manifest again is
//! already recorded; another manifest claiming the same run is refused.

use super::{declared_stage, read_log, TakenIds};
use crate::error::{Error, Result};
use crate::model::config::expand as expand_placeholder;
use crate::model::digest::FileHashes;
use crate::model::import_manifest::{FileEntry, ImportManifest, MAX_FILES, MAX_MANIFEST_BYTES};
use crate::model::integrity::contained_path;
use crate::model::manifest::{CodeRef, RunManifest};
use crate::model::origin::RunOrigin;
use crate::model::params::flatten;
use crate::model::{RunId, StageName};
use crate::ops::records::record_new_run;
use crate::ops::workspace::Workspace;
use crate::store::{FileBlob, NewRun};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The ending of the manifests a directory is searched for.
pub const MANIFEST_SUFFIX: &str = ".workbench.json";

pub struct ManifestRequest {
    /// A manifest file, or a directory of `*.workbench.json` files.
    pub path: PathBuf,
    /// The stage of manifests that name none; one that names another is refused.
    pub stage: Option<StageName>,
}

/// One run of `import manifest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRun {
    /// The manifest file, as found.
    pub manifest: String,
    pub stage: StageName,
    pub run_id: RunId,
    pub origin: RunOrigin,
    /// Outputs whose bytes the record holds (from the manifest's files folder).
    pub stored_outputs: Vec<String>,
}

/// `import manifest --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestReport {
    pub imported: Vec<ManifestRun>,
    pub already_imported: Vec<ManifestRun>,
    pub warnings: Vec<String>,
}

/// A manifest judged and its files verified: what recording it takes.
struct Planned {
    shown: String,
    m: ImportManifest,
    stage: StageName,
    source: String,
    code_ref: CodeRef,
    stored: Vec<(String, FileBlob)>,
    log: (Vec<u8>, u64, bool),
    /// The run this very manifest was recorded as already.
    existing: Option<RunId>,
}

pub fn import_manifests(ws: &Workspace, req: &ManifestRequest) -> Result<ManifestReport> {
    let files = manifest_files(&req.path)?;
    let recorded = recorded_origins(ws)?;
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    let mut plans = Vec::new();
    for f in &files {
        plans.push(plan(ws, req, f, &recorded, &mut seen)?);
    }
    let mut report = ManifestReport {
        imported: Vec::new(),
        already_imported: Vec::new(),
        warnings: Vec::new(),
    };
    let Some(first) = plans.first() else {
        return Ok(report);
    };
    let mut ids = TakenIds::read(ws, &first.stage)?;
    for p in plans {
        let done = ManifestRun {
            manifest: p.shown.clone(),
            stage: p.stage.clone(),
            run_id: match &p.existing {
                Some(id) => id.clone(),
                None => record(ws, &p, &mut ids, &mut report.warnings)?,
            },
            origin: p.m.origin.clone(),
            stored_outputs: p.stored.iter().map(|(r, _)| r.clone()).collect(),
        };
        match p.existing {
            Some(_) => report.already_imported.push(done),
            None => report.imported.push(done),
        }
    }
    Ok(report)
}

/// The manifests named: FILE itself, or DIR's `*.workbench.json` (its own regular
/// files, never links, in byte order of the names).
fn manifest_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(path).map_err(Error::io(path))? {
        let e = e.map_err(Error::io(path))?;
        let name = e.file_name();
        if !name
            .as_encoded_bytes()
            .ends_with(MANIFEST_SUFFIX.as_bytes())
        {
            continue;
        }
        let t = e.file_type().map_err(Error::io(&e.path()))?;
        if t.is_symlink() {
            return Err(Error::input(format!(
                "{} is a symbolic link: a directory's manifests are read from its own files only",
                e.path().display()
            ))
            .hint("replace the link by the file it points to, or import it by name; nothing was imported"));
        }
        if t.is_file() {
            out.push(e.path());
        }
    }
    if out.is_empty() {
        return Err(Error::input(format!(
            "{} holds no import manifest (*{MANIFEST_SUFFIX})",
            path.display()
        ))
        .hint("name each manifest NAME.workbench.json (docs/import.md), or import one file by its name"));
    }
    out.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    Ok(out)
}

/// A run already recorded from an orchestrator.
struct Recorded {
    stage: StageName,
    run_id: RunId,
    source: Option<String>,
}

/// Every recorded run with an origin, by orchestrator and its run id (any stage's:
/// a run happened once).
fn recorded_origins(ws: &Workspace) -> Result<HashMap<(String, String), Recorded>> {
    let mut out = HashMap::new();
    for r in ws.store.list_runs(None)? {
        // an unreadable record is doctor's to report; it claims no origin here
        let Ok(m) = ws.store.read_manifest(r.tip) else {
            continue;
        };
        if let Some(o) = m.origin {
            out.insert(
                (o.orchestrator, o.run_id),
                Recorded {
                    stage: r.stage,
                    run_id: r.run_id,
                    source: m.imported_from,
                },
            );
        }
    }
    Ok(out)
}

fn plan(
    ws: &Workspace,
    req: &ManifestRequest,
    file: &Path,
    recorded: &HashMap<(String, String), Recorded>,
    seen: &mut HashMap<(String, String), String>,
) -> Result<Planned> {
    let shown = file.display().to_string();
    let refuse = |why: String| {
        Error::input(format!("{shown}: {why}")).hint(
            "docs/import.md describes every field of an import manifest; nothing was imported",
        )
    };
    let text = read_manifest_text(file)?;
    let m = ImportManifest::parse(&text).map_err(refuse)?;
    let stage = match (&m.stage, &req.stage) {
        (Some(a), Some(b)) if a != b => {
            return Err(
                Error::input(format!("{shown} is a run of stage {a}, not of --stage {b}")).hint(
                    "leave --stage out, or correct the manifest's stage; nothing was imported",
                ),
            )
        }
        (Some(s), _) | (None, Some(s)) => s.clone(),
        (None, None) => {
            return Err(Error::input(format!("{shown} names no stage")).hint(
                "pass --stage STAGE, or write \"stage\" in the manifest; nothing was imported",
            ))
        }
    };
    let decl = declared_stage(ws, &stage)?;
    let identity = (m.origin.orchestrator.clone(), m.origin.run_id.clone());
    if let Some(other) = seen.insert(identity.clone(), shown.clone()) {
        return Err(Error::input(format!(
            "{other} and {shown} both describe {}: a run is recorded once",
            m.origin.identity()
        ))
        .hint("remove one of them; nothing was imported"));
    }
    let source = format!("manifest {}", m.digest(&stage));
    let existing = match recorded.get(&identity) {
        Some(r) if r.source.as_deref() == Some(source.as_str()) => Some(r.run_id.clone()),
        Some(r) => {
            return Err(Error::refused(format!(
                "{shown}: {} is already recorded as run {} of stage {}, from another manifest than this one",
                m.origin.identity(),
                r.run_id,
                r.stage
            ))
            .hint("a run is recorded once and its record never changes: give a new run its own origin.run_id; nothing was imported"))
        }
        None => None,
    };
    let code_ref = code_ref(ws, &m, &refuse)?;
    let (stored, log) = match existing {
        Some(_) => (Vec::new(), (Vec::new(), 0, false)),
        None => (
            stored_files(ws, file, &m, decl.max_stored_size, &shown)?,
            match beside(file, ".log") {
                Some(l) if present(&l, false, &shown)? => read_log(&l, decl.max_stored_size)?,
                _ => (Vec::new(), 0, false),
            },
        ),
    };
    Ok(Planned {
        shown,
        m,
        stage,
        source,
        code_ref,
        stored,
        log,
        existing,
    })
}

/// The manifest's text, refused from its size before it is read.
fn read_manifest_text(file: &Path) -> Result<String> {
    use std::io::Read;
    let f =
        std::fs::File::open(file).map_err(|e| Error::input(format!("{}: {e}", file.display())))?;
    let mut bytes = Vec::new();
    f.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(Error::io(file))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(Error::input(format!(
            "{}: more than {MAX_MANIFEST_BYTES} bytes, larger than any import manifest",
            file.display()
        ))
        .hint("keep file contents out of the manifest: put small outputs in its .files folder; nothing was imported"));
    }
    String::from_utf8(bytes).map_err(|_| {
        Error::input(format!("{}: not UTF-8 text", file.display()))
            .hint("write the manifest as UTF-8 JSON; nothing was imported")
    })
}

/// The code the run names: its commit must be here, so the record's snapshot is the
/// commit's tree; without one, the empty tree (what ran is not known).
fn code_ref(
    ws: &Workspace,
    m: &ImportManifest,
    refuse: &dyn Fn(String) -> Error,
) -> Result<CodeRef> {
    let code = m
        .code
        .clone()
        .unwrap_or(crate::model::import_manifest::Code {
            commit: None,
            branch: None,
            dirty: false,
        });
    let tree = match code.commit {
        Some(c) => ws.store.tree_of_commit(c).ok_or_else(|| {
            refuse(format!(
                "code.commit {c} is not a commit of this repository"
            ))
            .hint(format!(
                "fetch it (git fetch origin {c}) and import again; nothing was imported"
            ))
        })?,
        None => ws.store.empty_tree_id()?,
    };
    Ok(CodeRef {
        commit: code.commit,
        dirty: code.dirty,
        tree,
        branch: code.branch,
    })
}

/// `NAME.workbench.json` → `NAME.workbench<ending>` beside it.
fn beside(file: &Path, ending: &str) -> Option<PathBuf> {
    let name = file.file_name()?.to_str()?;
    let stem = name.strip_suffix(".json")?;
    Some(file.with_file_name(format!("{stem}{ending}")))
}

/// Whether `path`, beside the manifest, is there as a folder (`dir`) or a regular
/// file: absent is false; a link, or the other kind, is refused.
fn present(path: &Path, dir: bool, shown: &str) -> Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if (dir && m.file_type().is_dir()) || (!dir && m.file_type().is_file()) => Ok(true),
        Ok(_) => Err(Error::input(format!(
            "{}, beside {shown}, is a symbolic link or not a {}: a run's files are read from their own files only",
            path.display(),
            if dir { "folder" } else { "regular file" }
        ))
        .hint("replace it by what it points to; nothing was imported")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path)(e)),
    }
}

/// The files of `NAME.workbench.files/`: each a declared output of the declared size
/// and sha256, small enough to store, and a regular file (no link at any depth).
fn stored_files(
    ws: &Workspace,
    file: &Path,
    m: &ImportManifest,
    max_stored: u64,
    shown: &str,
) -> Result<Vec<(String, FileBlob)>> {
    let Some(dir) = beside(file, ".files") else {
        return Ok(Vec::new());
    };
    if !present(&dir, true, shown)? {
        return Ok(Vec::new());
    }
    let refuse = |rel: &str, why: String| {
        Error::input(format!(
            "{}: '{}' {why}",
            dir.display(),
            rel.escape_debug()
        ))
        .hint("the folder holds declared outputs by their repository paths, byte for byte (docs/import.md); nothing was imported")
    };
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(Error::io(&d))? {
            let e = e.map_err(Error::io(&d))?;
            let path = e.path();
            let rel = crate::exec::paths::utf8_relative(&dir, &path)
                .map_err(|escaped| refuse(&escaped, "is not a UTF-8 name".into()))?;
            contained_path(&rel).map_err(|why| refuse(&rel, why.to_string()))?;
            let t = e.file_type().map_err(Error::io(&path))?;
            if t.is_dir() {
                stack.push(path);
                continue;
            }
            if !t.is_file() {
                return Err(refuse(
                    &rel,
                    "is a symbolic link or not a regular file".into(),
                ));
            }
            let Some(FileEntry { sha256, size }) = m.outputs.get(&rel) else {
                return Err(refuse(&rel, "is not one of the manifest's outputs".into()));
            };
            let len = e.metadata().map_err(Error::io(&path))?.len();
            if len != *size {
                return Err(refuse(
                    &rel,
                    format!("is {len} bytes; the manifest says {size}"),
                ));
            }
            if len > max_stored {
                return Err(refuse(
                    &rel,
                    format!("is {len} bytes, more than the stage's max_stored_size ({max_stored}): leave it out of the folder and its digest alone is recorded"),
                ));
            }
            if out.len() >= MAX_FILES {
                return Err(refuse(
                    &rel,
                    format!("is one file too many (at most {MAX_FILES})"),
                ));
            }
            let blob = ws
                .store
                .blob_of_file(&path)?
                .ok_or_else(|| refuse(&rel, "vanished while it was read".into()))?;
            if &blob.sha256 != sha256 {
                return Err(refuse(
                    &rel,
                    format!(
                        "has sha256 {}; the manifest says {}",
                        blob.sha256.hex(),
                        sha256.hex()
                    ),
                ));
            }
            out.push((rel, blob));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn hashes(files: &BTreeMap<String, FileEntry>) -> FileHashes {
    files.iter().map(|(p, f)| (p.clone(), f.sha256)).collect()
}

/// Records one judged manifest; its run id.
fn record(
    ws: &Workspace,
    p: &Planned,
    ids: &mut TakenIds,
    warnings: &mut Vec<String>,
) -> Result<RunId> {
    let m = &p.m;
    let started_ms = m.started_at.unix_millis();
    // From the orchestrator's run, not the manifest's bytes: two imports of one run
    // racing aim at one ref, and its compare-and-swap lets one of them win.
    let key = format!("manifest\n{}\n{}", m.origin.orchestrator, m.origin.run_id);
    let run_id = ids.choose(&key, &p.stage, started_ms)?;
    let run_dir = expand_placeholder(&ws.config.run_dir, p.stage.as_str(), run_id.as_str());
    let command = m
        .command
        .clone()
        .unwrap_or_else(|| format!("imported from {}", m.origin.identity()));
    let (log, log_bytes, truncated) = &p.log;
    let manifest = RunManifest::builder(p.stage.clone(), run_id, p.code_ref.clone(), m.started_at)
        .params(flatten(&Value::Object(m.params.clone())), BTreeMap::new())
        .consumed(hashes(&m.inputs), hashes(&m.code_files))
        .produced(
            hashes(&m.outputs),
            Vec::new(),
            p.stored.iter().map(|(r, _)| r.clone()).collect(),
        )
        .command(command, m.exit_code, m.duration_seconds)
        .metrics(Ok(flatten(&Value::Object(m.metrics.clone()))))
        .place(run_dir, m.origin.host.clone().unwrap_or_default())
        .log(*log_bytes, *truncated)
        .imported_from(p.source.clone())
        .origin(Some(m.origin.clone()))
        .build();
    let snapshot_tree = p.code_ref.tree;
    let (run, w) = record_new_run(
        &ws.store,
        &NewRun {
            manifest: &manifest,
            log,
            outputs: p.stored.clone(),
            // Files beside a manifest over max_stored_size are refused, so none goes to LFS.
            lfs_pointers: Vec::new(),
            snapshot_tree,
        },
    )?;
    warnings.extend(w);
    warnings.extend(crate::ops::mirror::show_new_run(ws, &run));
    Ok(manifest.run_id)
}
