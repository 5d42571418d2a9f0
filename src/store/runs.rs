//! Run records: one ref per run, `refs/workbench/runs/<stage>/<run-id>`, pointing at
//! a chain of commits, one per state transition. Each commit's tree holds
//! `manifest.json`, `log.txt`, the stored output files under `outputs/`, the git LFS
//! pointer files of the outputs kept in LFS under `lfs/` (at the output's path), and
//! the `snapshot` tree of the working state the run executed on.

use super::cas::{Cas, RefUpdate};
use super::error::{Error, Result};
use super::files::FileBlob;
use super::packed_refs::{parse_range, Opened, PackedRefs};
use super::refs::{parse_run_ref, run_ref, RUNS_PREFIX};
use super::{id, oid, Store};
use crate::model::event::{record_message, Trailers};
use crate::model::manifest::{RunManifest, RunStatus};
use crate::model::record::Record;
use crate::model::state::RunEvent;
use crate::model::{ObjectId, RunId, StageName};
use git2::{FileMode, Oid};
use std::path::Path;

/// A run ref as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    pub stage: StageName,
    pub run_id: RunId,
    /// The newest record commit of the run.
    pub tip: ObjectId,
}

impl RunRef {
    pub fn ref_name(&self) -> String {
        run_ref(&self.stage, &self.run_id)
    }

    /// The same run, its tip moved to `tip`.
    pub fn at(&self, tip: ObjectId) -> RunRef {
        RunRef {
            tip,
            ..self.clone()
        }
    }
}

/// One stage's run refs as read by `Store::stage_listing`.
pub struct StageListing {
    stage: StageName,
    /// sha256 of the bytes read; `None` when they were not read as files.
    pub digest: Option<[u8; 32]>,
    raw: Option<RawRuns>,
}

/// One state transition: a commit on a run ref.
#[derive(Debug, Clone)]
pub struct Transition {
    pub commit: ObjectId,
    pub event: Option<RunEvent>,
    pub summary: String,
    pub author: String,
    /// Commit time, seconds since the epoch.
    pub time: i64,
}

/// Everything a first run record is made of.
pub struct NewRun<'a> {
    pub manifest: &'a RunManifest,
    /// The captured log (already cut to its stored size).
    pub log: &'a [u8],
    /// Outputs to store: repository-relative path and its file as stored
    /// (`Store::blob_of_file`).
    pub outputs: Vec<(String, FileBlob)>,
    /// Outputs kept in git LFS: repository-relative path, the blob of its pointer
    /// file (`Store::lfs_pointer_blob`) and whether the output is executable (the
    /// pointer's mode, as git-lfs keeps it).
    pub lfs_pointers: Vec<(String, ObjectId, bool)>,
    pub snapshot_tree: ObjectId,
}

impl Store {
    /// Every run ref, optionally of one stage, sorted by stage then run id.
    ///
    /// In the files ref backend this reads `packed-refs` and the loose files under
    /// `refs/workbench/runs/` directly, as git does: libgit2 would parse and index
    /// every packed ref of the repository first, which dominated `status` with ten
    /// thousand runs. Loose refs win over packed ones. Anything unusual (a symbolic
    /// ref, `GIT_NAMESPACE`) falls back to libgit2's listing. Refs whose names are not
    /// a valid stage and run id are not runs and are left out.
    pub fn list_runs(&self, stage: Option<&StageName>) -> Result<Vec<RunRef>> {
        let prefix = match stage {
            Some(s) => format!("{RUNS_PREFIX}{s}/"),
            None => RUNS_PREFIX.to_string(),
        };
        let direct = self
            .files_backend()
            .and_then(|common| read_files_backend(common, &prefix));
        let mut out = match direct {
            Some(refs) => refs,
            None => self.list_runs_libgit2(&prefix)?,
        };
        out.sort_by(|a, b| (&a.stage, &a.run_id).cmp(&(&b.stage, &b.run_id)));
        Ok(out)
    }

    fn list_runs_libgit2(&self, prefix: &str) -> Result<Vec<RunRef>> {
        let mut out = Vec::new();
        let refs = self
            .repo
            .references_glob(&format!("{prefix}*"))
            .map_err(Error::git("cannot list run refs"))?;
        for r in refs {
            let r = r.map_err(Error::git("cannot read a run ref"))?;
            let (Ok(name), Some(tip)) = (r.name(), r.target()) else {
                continue;
            };
            if let Some((stage, run_id)) = parse_run_ref(name) {
                out.push(RunRef {
                    stage,
                    run_id,
                    tip: id(tip),
                });
            }
        }
        Ok(out)
    }

    /// The run ref of `stage`/`run_id`, if it exists. In the files backend this reads
    /// the one loose file or binary-searches `packed-refs` (libgit2 would load every
    /// packed ref first).
    pub fn find_run(&self, stage: &StageName, run_id: &RunId) -> Result<Option<RunRef>> {
        let name = run_ref(stage, run_id);
        let tip = match self.files_backend() {
            Some(common) => read_one(common, &name),
            None => None,
        };
        let tip = match tip {
            Some(tip) => tip,
            None => match self.repo.refname_to_id(&name) {
                Ok(tip) => Some(tip),
                Err(e) if e.code() == git2::ErrorCode::NotFound => None,
                Err(e) => return Err(Error::git(format!("cannot read {name}"))(e)),
            },
        };
        Ok(tip.map(|tip| RunRef {
            stage: stage.clone(),
            run_id: run_id.clone(),
            tip: id(tip),
        }))
    }

    /// The newest run of `stage` (the greatest run id), without listing the others:
    /// the stage's loose refs and one binary search of `packed-refs`.
    pub fn latest_run(&self, stage: &StageName) -> Result<Option<RunRef>> {
        let prefix = format!("{RUNS_PREFIX}{stage}/");
        let found = self
            .files_backend()
            .and_then(|common| read_latest(common, &prefix));
        match found {
            Some(Some((name, tip))) => {
                let Some((stage, run_id)) = parse_run_ref(&name) else {
                    return Ok(self.list_runs(Some(stage))?.pop());
                };
                Ok(Some(RunRef {
                    stage,
                    run_id,
                    tip: id(tip),
                }))
            }
            Some(None) => Ok(None),
            None => Ok(self.list_runs(Some(stage))?.pop()),
        }
    }

    /// The newest `n` runs (greatest run ids) of every stage, or of `stage`: what a
    /// `log -n` needs, without listing every run. Per stage, the last `n` packed refs
    /// and the loose ones; the caller sorts across stages.
    pub fn newest_runs(&self, stage: Option<&StageName>, n: usize) -> Result<Vec<RunRef>> {
        let fast = self.files_backend().and_then(|common| {
            let packed = match PackedRefs::open(common) {
                Opened::Absent => None,
                Opened::Sorted(p) => Some(p),
                Opened::Unsupported => return None,
            };
            let stages: Vec<String> = match stage {
                Some(s) => vec![s.to_string()],
                None => {
                    let mut all: std::collections::BTreeSet<String> = Default::default();
                    if let Some(p) = &packed {
                        all.extend(p.children_of(RUNS_PREFIX)?);
                    }
                    match std::fs::read_dir(common.join(RUNS_PREFIX.trim_end_matches('/'))) {
                        Ok(d) => {
                            for e in d {
                                all.insert(e.ok()?.file_name().into_string().ok()?);
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(_) => return None,
                    }
                    all.into_iter().collect()
                }
            };
            let mut out = Vec::new();
            for s in stages {
                let prefix = format!("{RUNS_PREFIX}{s}/");
                // loose first (see `read_files_backend`), then the packed tail
                let mut found: std::collections::BTreeMap<String, Oid> = Default::default();
                let dir = common.join(prefix.trim_end_matches('/'));
                walk_loose(&dir, prefix.trim_end_matches('/'), &mut found)?;
                if let Some(p) = &packed {
                    for (name, tip) in p.last_n_under(&prefix, n)? {
                        found.entry(name).or_insert(tip);
                    }
                }
                for (name, tip) in found.into_iter().rev().take(n) {
                    if let Some((stage, run_id)) = parse_run_ref(&name) {
                        out.push(RunRef {
                            stage,
                            run_id,
                            tip: id(tip),
                        });
                    }
                }
            }
            Some(out)
        });
        match fast {
            Some(runs) => Ok(runs),
            None => self.list_runs(stage),
        }
    }

    /// A stage's run refs read once, with a digest that identifies the listing exactly
    /// (`None` when libgit2 lists them: no caching then). Callers keep derived answers
    /// under the digest and parse the listing only when the digest is new.
    pub fn stage_listing(&self, stage: &StageName) -> StageListing {
        let raw = self
            .files_backend()
            .and_then(|common| read_raw(common, &format!("{RUNS_PREFIX}{stage}/")));
        StageListing {
            stage: stage.clone(),
            digest: raw.as_ref().map(RawRuns::digest),
            raw,
        }
    }

    /// The runs of a listing, sorted by run id, and the listing's digest when they were
    /// parsed from the bytes it was taken of (else they are listed again through
    /// libgit2, and there is no digest for them).
    pub fn listing_runs(&self, listing: StageListing) -> Result<(Vec<RunRef>, Option<[u8; 32]>)> {
        let digest = listing.digest;
        match listing.raw.and_then(RawRuns::into_runs) {
            Some(mut runs) => {
                runs.sort_by(|a, b| a.run_id.cmp(&b.run_id));
                Ok((runs, digest))
            }
            None => Ok((self.list_runs(Some(&listing.stage))?, None)),
        }
    }

    /// The target of a direct ref, `None` when it does not exist or cannot be read:
    /// its loose file or a binary search of `packed-refs`, else libgit2.
    pub(crate) fn ref_target(&self, name: &str) -> Option<ObjectId> {
        match self
            .files_backend()
            .and_then(|common| read_one(common, name))
        {
            Some(found) => found.map(id),
            None => self.repo.refname_to_id(name).ok().map(id),
        }
    }

    /// The common directory when refs may be read as files (the files backend, no
    /// `GIT_NAMESPACE`): `None` sends every read through libgit2.
    fn files_backend(&self) -> Option<&Path> {
        (std::env::var_os("GIT_NAMESPACE").is_none()).then(|| self.repo.commondir())
    }

    /// A file of a record commit's tree, if present.
    pub fn record_file(&self, commit: ObjectId, path: &str) -> Result<Option<Vec<u8>>> {
        let tree = self
            .find_commit(oid(commit), || format!("cannot read run record {commit}"))?
            .tree()
            .map_err(Error::git(format!("cannot read run record {commit}")))?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(Error::git(format!("cannot read {path} of {commit}"))(e)),
        };
        let blob = self.repo.find_blob(entry.id()).map_err(Error::git(format!(
            "{path} of run record {commit} is not a file"
        )))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// A record of a record commit, checked against its schema, if present.
    pub fn read_record<R: Record>(&self, commit: ObjectId) -> Result<Option<R>> {
        match self.record_file(commit, R::FILE)? {
            None => Ok(None),
            Some(bytes) => crate::model::record::parse(&bytes)
                .map(Some)
                .map_err(Error::record(format!("run record {commit}"))),
        }
    }

    /// The manifest of a record commit.
    pub fn read_manifest(&self, commit: ObjectId) -> Result<RunManifest> {
        self.read_record(commit)?.ok_or_else(|| Error::Record {
            object: format!("run record {commit}"),
            source: crate::model::Error::Record {
                file: RunManifest::FILE,
                why: "missing".to_string(),
            },
        })
    }

    /// The transitions of a run, oldest first (first parents: a conflict merge's
    /// other side is kept in its record, not listed here).
    pub fn history(&self, tip: ObjectId) -> Result<Vec<Transition>> {
        let mut out = Vec::new();
        let mut next = Some(oid(tip));
        while let Some(o) = next {
            let c = self.find_commit(o, || format!("cannot read run record {o}"))?;
            let message = c.message().unwrap_or_default();
            out.push(Transition {
                commit: id(o),
                event: Trailers::parse(message).event,
                summary: c.summary().ok().flatten().unwrap_or("").to_string(),
                author: format!(
                    "{} <{}>",
                    c.author().name().unwrap_or_default(),
                    c.author().email().unwrap_or_default()
                ),
                time: c.time().seconds(),
            });
            next = c.parent_id(0).ok();
        }
        out.reverse();
        Ok(out)
    }

    /// The trailers of a record commit: its event, stage and run.
    pub fn trailers(&self, commit: ObjectId) -> Result<Trailers> {
        let c = self.find_commit(oid(commit), || format!("cannot read run record {commit}"))?;
        Ok(Trailers::parse(c.message().unwrap_or_default()))
    }

    /// The newest event of a run.
    pub fn latest_event(&self, tip: ObjectId) -> Result<Option<RunEvent>> {
        Ok(self.trailers(tip)?.event)
    }

    /// Writes the first record of a run and creates its ref (create-only, with a
    /// reflog). Returns the record commit.
    pub fn create_run(&self, new: &NewRun) -> Result<ObjectId> {
        let m = new.manifest;
        let ctx = || format!("cannot write the record of run {}", m.run_id);
        let repo = &self.repo;
        let manifest_blob = repo
            .blob(m.to_json().as_bytes())
            .map_err(Error::git(ctx()))?;
        let log_blob = repo.blob(new.log).map_err(Error::git(ctx()))?;
        let mut root = repo.treebuilder(None).map_err(Error::git(ctx()))?;
        for (name, o, mode) in [
            ("manifest.json", manifest_blob, FileMode::Blob),
            ("log.txt", log_blob, FileMode::Blob),
            ("snapshot", oid(new.snapshot_tree), FileMode::Tree),
        ] {
            root.insert(name, o, mode.into())
                .map_err(Error::git(ctx()))?;
        }
        let outputs = new.outputs.iter().map(|(rel, file)| {
            let mode = match file.executable {
                true => FileMode::BlobExecutable,
                false => FileMode::Blob,
            };
            (rel.as_str(), file.blob, mode)
        });
        let pointers = new.lfs_pointers.iter().map(|(rel, blob, executable)| {
            let mode = match executable {
                true => FileMode::BlobExecutable,
                false => FileMode::Blob,
            };
            (rel.as_str(), *blob, mode)
        });
        for (dir, files) in [
            ("outputs", outputs.collect::<Vec<_>>()),
            ("lfs", pointers.collect()),
        ] {
            if files.is_empty() {
                continue;
            }
            let mut updates = git2::build::TreeUpdateBuilder::new();
            for (rel, blob, mode) in files {
                updates.upsert(rel, oid(blob), mode);
            }
            let empty = repo
                .find_tree(self.empty_tree()?)
                .map_err(Error::git(ctx()))?;
            let sub = updates
                .create_updated(repo, &empty)
                .map_err(Error::git(ctx()))?;
            root.insert(dir, sub, FileMode::Tree.into())
                .map_err(Error::git(ctx()))?;
        }
        let tree_id = root.write().map_err(Error::git(ctx()))?;
        let tree = repo.find_tree(tree_id).map_err(Error::git(ctx()))?;
        let event = match m.status {
            RunStatus::Executed => RunEvent::Executed,
            RunStatus::Failed => RunEvent::Failed,
        };
        let summary = format!("command: {}\nexit code: {}", m.command, m.exit_code);
        let message = record_message(event, &m.stage, &m.run_id, &summary);
        let sig = self.signature()?;
        let commit = repo
            .commit(None, &sig, &sig, &message, &tree, &[])
            .map_err(Error::git(ctx()))?;
        let name = run_ref(&m.stage, &m.run_id);
        match self.compare_and_swap(
            &[RefUpdate::new(&name, None, commit)],
            &format!("workbench: {event}"),
        ) {
            Ok(()) => Ok(id(commit)),
            Err(Cas::Moved { .. }) => Err(Error::Exists {
                refname: name,
                why: "run ids must be unique",
            }),
            Err(Cas::Locked { .. }) => Err(Error::Locked { refname: name }),
            Err(Cas::Failed(e)) => Err(e),
        }
    }
}

/// Run refs under `prefix` read from the files backend, or `None` when something
/// needs libgit2's full resolution.
fn read_files_backend(common: &Path, prefix: &str) -> Option<Vec<RunRef>> {
    read_raw(common, prefix)?.into_runs()
}

/// The run refs under a prefix as read from the files backend, before parsing: the
/// loose refs and the bytes of packed-refs' lines for the prefix.
struct RawRuns {
    prefix: String,
    loose: std::collections::BTreeMap<String, Oid>,
    /// `None` when there is no packed-refs file.
    packed: Option<Vec<u8>>,
}

fn read_raw(common: &Path, prefix: &str) -> Option<RawRuns> {
    // Loose refs first, then packed-refs, as git reads them: `git pack-refs` writes
    // packed-refs before it deletes the loose files, so a ref being packed while we
    // read is seen in one place or the other (a loose file listed but gone when read
    // sends the listing to libgit2).
    let mut loose: std::collections::BTreeMap<String, Oid> = Default::default();
    let dir = common.join(prefix.trim_end_matches('/'));
    walk_loose(&dir, prefix.trim_end_matches('/'), &mut loose)?;
    let packed = match PackedRefs::open(common) {
        Opened::Absent => None,
        Opened::Sorted(p) => Some(p.raw_under(prefix)?),
        Opened::Unsupported => return None,
    };
    Some(RawRuns {
        prefix: prefix.to_string(),
        loose,
        packed,
    })
}

/// Every ref under `prefix` (ending in `/`) with its target, in name order, read from
/// the files backend (`read_raw`: loose files, then the packed range, a loose ref
/// winning); `None` when libgit2 must list (`GIT_NAMESPACE`, a symbolic or short ref,
/// an unsorted `packed-refs`, a file gone while listed).
pub(super) fn refs_under_files(common: &Path, prefix: &str) -> Option<Vec<(String, Oid)>> {
    if std::env::var_os("GIT_NAMESPACE").is_some() || !prefix.ends_with('/') {
        return None;
    }
    let raw = read_raw(common, prefix)?;
    let mut found = raw.loose;
    if let Some(bytes) = raw.packed {
        for (name, tip) in parse_range(&bytes, prefix)? {
            found.entry(name).or_insert(tip);
        }
    }
    Some(found.into_iter().collect())
}

impl RawRuns {
    /// sha256 of everything the listing is made of: equal digests, equal listings.
    fn digest(&self) -> [u8; 32] {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(b"workbench run listing v1\0");
        h.update(self.prefix.as_bytes());
        h.update(b"\0loose\0");
        for (name, tip) in &self.loose {
            h.update(name.as_bytes());
            h.update(b"\0");
            h.update(tip.as_bytes());
        }
        match &self.packed {
            None => h.update(b"\0no packed-refs"),
            Some(raw) => {
                h.update(b"\0packed\0");
                h.update(raw);
            }
        }
        h.finalize().into()
    }

    /// The runs, sorted by name; `None` when a packed line does not parse.
    fn into_runs(self) -> Option<Vec<RunRef>> {
        let prefix = self.prefix;
        let mut found = self.loose;
        let found: Vec<(String, Oid)> = match self.packed {
            None => found.into_iter().collect(),
            Some(raw) => {
                let packed = super::packed_refs::parse_range(&raw, &prefix)?;
                if found.is_empty() {
                    // packed-refs is sorted: without loose refs it is the listing
                    packed
                } else {
                    for (name, tip) in packed {
                        found.entry(name).or_insert(tip); // a loose ref wins
                    }
                    found.into_iter().collect()
                }
            }
        };
        // Refs come sorted, so one stage's runs are adjacent: validate its name once.
        let mut last: Option<StageName> = None;
        let mut out = Vec::with_capacity(found.len());
        for (name, tip) in found {
            let Some((stage, run)) = name
                .strip_prefix(RUNS_PREFIX)
                .and_then(|rest| rest.split_once('/'))
            else {
                continue;
            };
            let stage = match &last {
                Some(s) if s.as_str() == stage => s.clone(),
                _ => match StageName::new(stage) {
                    Ok(s) => {
                        last = Some(s.clone());
                        s
                    }
                    Err(_) => continue,
                },
            };
            if let Ok(run_id) = RunId::new(run) {
                out.push(RunRef {
                    stage,
                    run_id,
                    tip: id(tip),
                });
            }
        }
        Some(out)
    }
}

/// One ref from the files backend: its loose file, else `packed-refs`. `None` when
/// libgit2 must decide (a symbolic or unreadable ref, an unsorted `packed-refs`);
/// `Some(None)` when the ref does not exist.
fn read_one(common: &Path, name: &str) -> Option<Option<Oid>> {
    match std::fs::read(common.join(name)) {
        Ok(text) => return loose_target(&text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        // A directory of that name, or a name the file system refuses: not a ref here.
        Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {}
        Err(_) => return None,
    }
    match PackedRefs::open(common) {
        Opened::Absent => Some(None),
        Opened::Sorted(p) => p.find(name),
        Opened::Unsupported => None,
    }
}

/// The target of a loose ref file: 40 hex digits and a newline; anything else (a
/// symbolic ref) is for libgit2.
fn loose_target(text: &[u8]) -> Option<Oid> {
    let hex = text.strip_suffix(b"\n").unwrap_or(text);
    if hex.len() != 40 {
        return None;
    }
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

/// The greatest ref name under `prefix` (a stage's runs, one level deep) and its
/// target: the largest loose name against the last packed one. `None` when libgit2
/// must list.
fn read_latest(common: &Path, prefix: &str) -> Option<Option<(String, Oid)>> {
    // Loose first, then packed (see `read_files_backend`).
    let dir = common.join(prefix.trim_end_matches('/'));
    let mut loose: Option<String> = None;
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.ok()?;
                let name = entry.file_name().into_string().ok()?;
                if name.ends_with(".lock") {
                    continue; // an update in flight
                }
                if loose.as_ref().is_none_or(|l| name > *l) {
                    loose = Some(name);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return None,
    }
    let loose = match loose {
        Some(file) => {
            let name = format!("{prefix}{file}");
            match std::fs::read(common.join(&name)) {
                Ok(text) => Some((name, loose_target(&text)?)),
                // a directory (not a run ref) or packed since: let libgit2 list
                Err(_) => return None,
            }
        }
        None => None,
    };
    let packed = match PackedRefs::open(common) {
        Opened::Absent => None,
        Opened::Sorted(p) => p.last_under(prefix)?,
        Opened::Unsupported => return None,
    };
    Some(match (loose, packed) {
        (Some(l), Some(p)) if p.0 > l.0 => Some(p),
        (Some(l), _) => Some(l),
        (None, p) => p,
    })
}

/// Past this many loose run refs, `run` packs them (`Store::pack_run_refs_if_many`).
pub const LOOSE_RUNS_LIMIT: usize = 1000;

impl Store {
    /// Packs the run refs into `packed-refs` once more than `LOOSE_RUNS_LIMIT` are
    /// loose, as `git gc --auto` would, with `git pack-refs` (git's own locking; the
    /// refs keep their values). Loose refs cost a file read each in every listing;
    /// packed ones are binary-searched. Returns a warning when packing failed: the
    /// refs are intact either way.
    pub fn pack_run_refs_if_many(&self) -> Option<String> {
        let common = self.files_backend()?;
        let dir = common.join(RUNS_PREFIX.trim_end_matches('/'));
        let mut loose = 0;
        for stage in std::fs::read_dir(&dir).ok()?.flatten() {
            if stage.file_type().is_ok_and(|t| t.is_dir()) {
                loose += std::fs::read_dir(stage.path()).map_or(0, |d| d.count());
            }
        }
        if loose <= LOOSE_RUNS_LIMIT {
            return None;
        }
        let out = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(common)
            .args(["pack-refs", "--include", &format!("{RUNS_PREFIX}*")])
            .stdin(std::process::Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => None,
            Ok(o) => Some(format!(
                "{loose} loose run refs were not packed: git pack-refs: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => Some(format!(
                "{loose} loose run refs were not packed: cannot run git pack-refs: {e}"
            )),
        }
    }
}

fn walk_loose(
    dir: &Path,
    name: &str,
    found: &mut std::collections::BTreeMap<String, Oid>,
) -> Option<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(()),
        Err(_) => return None,
    };
    for entry in entries {
        let entry = entry.ok()?;
        let file_name = entry.file_name();
        let file_name = file_name.to_str()?;
        let child = format!("{name}/{file_name}");
        let kind = entry.file_type().ok()?;
        if kind.is_dir() {
            walk_loose(&entry.path(), &child, found)?;
        } else if file_name.ends_with(".lock") {
            continue; // an update in flight; the ref itself still holds the old value
        } else {
            match std::fs::read(entry.path()) {
                // a symbolic or malformed ref (libgit2 would pad a short id) is
                // for libgit2 to judge
                Ok(text) => {
                    found.insert(child, loose_target(&text)?);
                }
                // Deleted while we looked, perhaps by `git pack-refs` after we read
                // packed-refs: let libgit2 list again rather than miss it.
                Err(_) => return None,
            }
        }
    }
    Some(())
}

/// A file of a record subtree: its path below the subtree, content and whether it is
/// executable.
pub struct RecordFile {
    pub path: String,
    pub bytes: Vec<u8>,
    pub executable: bool,
}

impl Store {
    /// Every file under `dir` (`outputs`, `snapshot`) of a record commit.
    pub fn record_files(&self, commit: ObjectId, dir: &str) -> Result<Vec<RecordFile>> {
        let ctx = || format!("cannot read {dir}/ of run record {commit}");
        let tree = self
            .find_commit(oid(commit), ctx)?
            .tree()
            .map_err(Error::git(ctx()))?;
        let sub = match tree.get_path(std::path::Path::new(dir)) {
            Ok(e) => self.repo.find_tree(e.id()).map_err(Error::git(ctx()))?,
            Err(_) => return Ok(Vec::new()),
        };
        let mut entries = Vec::new();
        sub.walk(git2::TreeWalkMode::PreOrder, |parent, e| {
            if e.kind() == Some(git2::ObjectType::Blob) {
                if let Ok(n) = e.name() {
                    entries.push((format!("{parent}{n}"), e.id(), e.filemode()));
                }
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(Error::git(ctx()))?;
        entries
            .into_iter()
            .map(|(path, id, mode)| {
                let blob = self.repo.find_blob(id).map_err(Error::git(ctx()))?;
                Ok(RecordFile {
                    path,
                    bytes: blob.content().to_vec(),
                    executable: mode == i32::from(FileMode::BlobExecutable),
                })
            })
            .collect()
    }
}
