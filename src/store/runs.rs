//! Run records: one ref per run, `refs/workbench/runs/<stage>/<run-id>`, pointing at
//! a chain of commits, one per state transition. Each commit's tree holds
//! `manifest.json`, `log.txt`, the stored output files under `outputs/`, and the
//! `snapshot` tree of the working state the run executed on.

use super::refs::{parse_run_ref, run_ref, RUNS_PREFIX};
use super::Store;
use crate::error::{Error, Result};
use crate::model::event::{event_of_message, record_message};
use crate::model::manifest::RunManifest;
use crate::model::state::RunEvent;
use git2::{FileMode, Oid};
use std::path::{Path, PathBuf};

/// A run ref as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    pub stage: String,
    pub run_id: String,
    /// The newest record commit of the run.
    pub tip: Oid,
}

impl RunRef {
    pub fn ref_name(&self) -> String {
        run_ref(&self.stage, &self.run_id)
    }
}

/// One state transition: a commit on a run ref.
#[derive(Debug, Clone)]
pub struct Transition {
    pub commit: Oid,
    pub event: Option<RunEvent>,
    pub summary: String,
    pub author: String,
    pub time: i64,
}

/// Everything a first run record is made of.
pub struct NewRun<'a> {
    pub manifest: &'a RunManifest,
    /// The captured log (already cut to its stored size).
    pub log: &'a [u8],
    /// Outputs to store: repository-relative path and file on disk.
    pub outputs: Vec<(String, PathBuf)>,
    pub snapshot_tree: Oid,
}

impl Store {
    /// Every run ref, optionally of one stage, sorted by stage then run id.
    ///
    /// In the files ref backend this reads `packed-refs` and the loose files under
    /// `refs/workbench/runs/` directly, as git does: libgit2 would parse and index
    /// every packed ref of the repository first, which dominated `status` with ten
    /// thousand runs. Loose refs win over packed ones. Anything unusual (a symbolic
    /// ref, `GIT_NAMESPACE`) falls back to libgit2's listing.
    pub fn list_runs(&self, stage: Option<&str>) -> Result<Vec<RunRef>> {
        let prefix = match stage {
            Some(s) => format!("{RUNS_PREFIX}{s}/"),
            None => RUNS_PREFIX.to_string(),
        };
        let direct = if std::env::var_os("GIT_NAMESPACE").is_some() {
            None
        } else {
            read_files_backend(self.repo.commondir(), &prefix)
        };
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
            if let Some((st, id)) = parse_run_ref(name) {
                out.push(RunRef {
                    stage: st.to_string(),
                    run_id: id.to_string(),
                    tip,
                });
            }
        }
        Ok(out)
    }

    /// The run ref of `stage`/`run_id`, if it exists.
    pub fn find_run(&self, stage: &str, run_id: &str) -> Result<Option<RunRef>> {
        match self.repo.refname_to_id(&run_ref(stage, run_id)) {
            Ok(tip) => Ok(Some(RunRef {
                stage: stage.to_string(),
                run_id: run_id.to_string(),
                tip,
            })),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::Git {
                context: format!("cannot read {}", run_ref(stage, run_id)),
                source: e,
            }),
        }
    }

    /// A file of a record commit's tree, if present.
    pub fn record_file(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>> {
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(Error::git(format!("cannot read run record {commit}")))?;
        let entry = match tree.get_path(std::path::Path::new(path)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(Error::git(format!("cannot read {path} of {commit}"))(e)),
        };
        let blob = self.repo.find_blob(entry.id()).map_err(Error::git(format!(
            "{path} of run record {commit} is not a file"
        )))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// The manifest of a record commit.
    pub fn read_manifest(&self, commit: Oid) -> Result<RunManifest> {
        let bytes = self
            .record_file(commit, "manifest.json")?
            .ok_or_else(|| Error::input(format!("run record {commit} has no manifest.json")))?;
        RunManifest::from_json(&bytes)
            .map_err(|e| Error::input(format!("manifest.json of run record {commit}: {e}")))
    }

    /// The transitions of a run, oldest first.
    pub fn history(&self, tip: Oid) -> Result<Vec<Transition>> {
        let mut out = Vec::new();
        let mut next = Some(tip);
        while let Some(oid) = next {
            let c = self
                .repo
                .find_commit(oid)
                .map_err(Error::git(format!("cannot read run record {oid}")))?;
            let message = c.message().unwrap_or_default();
            out.push(Transition {
                commit: oid,
                event: event_of_message(message),
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

    /// The newest event of a run.
    pub fn latest_event(&self, tip: Oid) -> Result<Option<RunEvent>> {
        let c = self
            .repo
            .find_commit(tip)
            .map_err(Error::git(format!("cannot read run record {tip}")))?;
        Ok(event_of_message(c.message().unwrap_or_default()))
    }

    /// Writes the first record of a run and creates its ref (create-only, with a
    /// reflog). Returns the record commit.
    pub fn create_run(&self, new: &NewRun) -> Result<Oid> {
        let m = new.manifest;
        let ctx = || format!("cannot write the record of run {}", m.run_id);
        let repo = &self.repo;
        let manifest_blob = repo
            .blob(m.to_json().as_bytes())
            .map_err(Error::git(ctx()))?;
        let log_blob = repo.blob(new.log).map_err(Error::git(ctx()))?;
        let mut root = repo.treebuilder(None).map_err(Error::git(ctx()))?;
        for (name, oid, mode) in [
            ("manifest.json", manifest_blob, FileMode::Blob),
            ("log.txt", log_blob, FileMode::Blob),
            ("snapshot", new.snapshot_tree, FileMode::Tree),
        ] {
            root.insert(name, oid, mode.into())
                .map_err(Error::git(ctx()))?;
        }
        if !new.outputs.is_empty() {
            let mut updates = git2::build::TreeUpdateBuilder::new();
            for (rel, disk) in &new.outputs {
                let blob = repo.blob_path(disk).map_err(Error::git(format!(
                    "cannot store output {rel} of run {}",
                    m.run_id
                )))?;
                updates.upsert(rel.as_str(), blob, output_mode(disk));
            }
            let empty = repo
                .find_tree(self.empty_tree()?)
                .map_err(Error::git(ctx()))?;
            let outputs = updates
                .create_updated(repo, &empty)
                .map_err(Error::git(ctx()))?;
            root.insert("outputs", outputs, FileMode::Tree.into())
                .map_err(Error::git(ctx()))?;
        }
        let tree_id = root.write().map_err(Error::git(ctx()))?;
        let tree = repo.find_tree(tree_id).map_err(Error::git(ctx()))?;
        let event = match m.status {
            crate::model::manifest::RunStatus::Executed => RunEvent::Executed,
            crate::model::manifest::RunStatus::Failed => RunEvent::Failed,
        };
        let summary = format!("command: {}\nexit code: {}", m.command, m.exit_code);
        let message = record_message(event, &m.stage, &m.run_id, &summary);
        let sig = self.signature()?;
        let commit = repo
            .commit(None, &sig, &sig, &message, &tree, &[])
            .map_err(Error::git(ctx()))?;
        let name = run_ref(&m.stage, &m.run_id);
        repo.reference_ensure_log(&name)
            .map_err(Error::git(format!("cannot create the reflog of {name}")))?;
        match self.create_ref_exclusive(&name, commit, &format!("workbench: {event}")) {
            Ok(()) => Ok(commit),
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::Exists | git2::ErrorCode::Modified
                ) =>
            {
                Err(Error::refused(format!(
                    "{name} already exists; run ids must be unique"
                )))
            }
            Err(e) => Err(Error::Git {
                context: format!("cannot create {name}"),
                source: e,
            }),
        }
    }
}

#[cfg(unix)]
fn output_mode(p: &std::path::Path) -> FileMode {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(p) {
        Ok(m) if m.permissions().mode() & 0o111 != 0 => FileMode::BlobExecutable,
        _ => FileMode::Blob,
    }
}

#[cfg(not(unix))]
fn output_mode(_: &std::path::Path) -> FileMode {
    FileMode::Blob
}

/// Run refs under `prefix` read from the files backend, or `None` when something
/// needs libgit2's full resolution.
fn read_files_backend(common: &Path, prefix: &str) -> Option<Vec<RunRef>> {
    let mut found: std::collections::BTreeMap<String, Oid> = Default::default();
    match std::fs::read_to_string(common.join("packed-refs")) {
        Ok(text) => {
            for line in text.lines() {
                if line.starts_with('#') || line.starts_with('^') {
                    continue;
                }
                let (hex, name) = line.split_at_checked(40)?;
                let name = name.strip_prefix(' ')?;
                if name.starts_with(prefix) {
                    found.insert(name.to_string(), Oid::from_str(hex).ok()?);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return None,
    }
    let dir = common.join(prefix.trim_end_matches('/'));
    walk_loose(&dir, prefix.trim_end_matches('/'), &mut found)?;
    Some(
        found
            .into_iter()
            .filter_map(|(name, tip)| {
                let (stage, id) = parse_run_ref(&name)?;
                Some(RunRef {
                    stage: stage.to_string(),
                    run_id: id.to_string(),
                    tip,
                })
            })
            .collect(),
    )
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
            match std::fs::read_to_string(entry.path()) {
                Ok(text) => {
                    found.insert(child, Oid::from_str(text.trim_end()).ok()?);
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
    pub fn record_files(&self, commit: Oid, dir: &str) -> Result<Vec<RecordFile>> {
        let ctx = || format!("cannot read {dir}/ of run record {commit}");
        let tree = self
            .repo
            .find_commit(commit)
            .and_then(|c| c.tree())
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
