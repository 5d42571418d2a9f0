//! Outputs over `max_stored_size` kept in git LFS (a stage's `large_outputs = "lfs"`):
//! `run` stores each in the local LFS store and its pointer file in the record,
//! `push`/`sync` upload the objects of the runs they publish before the refs, and
//! `checkout` restores them from the local store or, missing there, from the remote —
//! every byte checked against the record's sha256 and size before anything is written.
//!
//! The LFS object id is the sha256 of the bytes, the digest the manifest already holds
//! in `outputs`, so a pointer adds no second hash: the manifest's `lfs_outputs` says
//! which outputs are in LFS and their sizes, and a pointer (from another clone:
//! hostile) is used only when it says exactly what the manifest says.

use super::checkout::FileAction;
use crate::error::{Error, Result};
use crate::model::digest::Sha256;
use crate::model::lfs::LfsPointer;
use crate::model::manifest::RunManifest;
use crate::model::ObjectId;
use crate::store::{copy_hashing, LocalObject, RunRef, Store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The tree of a record that holds the pointer files.
pub const POINTER_DIR: &str = "lfs";

/// What `run` kept in LFS.
#[derive(Debug, Default)]
pub struct KeptInLfs {
    /// path → size (the manifest's `lfs_outputs`).
    pub sizes: BTreeMap<String, u64>,
    /// path → blob of its pointer file (the record's `lfs/` tree), and whether the
    /// output is executable.
    pub pointers: Vec<(String, ObjectId, bool)>,
}

/// Stores each output of `hashes` not in `stored` (those over the size limit) in the
/// local LFS store. Its digest becomes that of the bytes stored (the same unless the
/// file changed since it was hashed); one removed meanwhile moves to `gone`.
pub fn keep_large(
    store: &Store,
    root: &Path,
    hashes: &mut BTreeMap<String, Sha256>,
    stored: &[String],
    gone: &mut Vec<String>,
) -> Result<KeptInLfs> {
    let mut kept = KeptInLfs::default();
    let large: Vec<String> = hashes
        .keys()
        .filter(|k| !stored.contains(k))
        .cloned()
        .collect();
    for rel in large {
        match store.lfs_store_file(&root.join(&rel))? {
            Some((pointer, executable)) => {
                hashes.insert(rel.clone(), pointer.oid);
                kept.sizes.insert(rel.clone(), pointer.size);
                let blob = store.lfs_pointer_blob(&pointer)?;
                kept.pointers.push((rel, blob, executable));
            }
            None => {
                hashes.remove(&rel);
                gone.push(rel);
            }
        }
    }
    gone.sort();
    Ok(kept)
}

/// Uploads to `remote` the LFS objects of every run whose tip the remote does not
/// have yet (as last fetched), before `push` moves any ref: a teammate who sees a
/// record can fetch its objects. Objects this clone does not have (runs fetched from
/// elsewhere) are left to the clone that has them; a local object whose bytes are not
/// its id's is refused, and nothing is pushed. Returns how many objects were offered.
pub fn push_objects(store: &Store, remote: &str) -> Result<usize> {
    let mut oids: Vec<Sha256> = Vec::new();
    for run in store.list_runs(None)? {
        if store.tracking_run_tip(remote, &run) == Some(run.tip) {
            continue;
        }
        // A record whose manifest does not read names no object to share (what
        // happens to the record itself is push's and the record rules' business).
        let Ok(m) = store.read_manifest(run.tip) else {
            continue;
        };
        for (path, size) in &m.lfs_outputs {
            let Some(oid) = m.outputs.get(path) else {
                continue; // checkout refuses such a record; nothing to share
            };
            let pointer = LfsPointer {
                oid: *oid,
                size: *size,
            };
            match store.lfs_local_object(&pointer)? {
                LocalObject::Valid(_) => oids.push(*oid),
                LocalObject::Missing => {}
                LocalObject::Corrupt { path: at, why } => {
                    return Err(Error::refused(format!(
                        "the git LFS object of {path} (run {}) at {} is corrupt: {why}; nothing was pushed",
                        run.run_id,
                        at.display()
                    ))
                    .hint("delete it and check the run out again to download it, or run the stage again"));
                }
            }
        }
    }
    oids.sort();
    oids.dedup();
    store.lfs_push(remote, &oids)?;
    Ok(oids.len())
}

/// One LFS output `checkout` restores.
pub struct LfsPlanned {
    pub rel: String,
    pub dest: PathBuf,
    pub pointer: LfsPointer,
    pub executable: bool,
    /// The verified object in the local LFS store.
    pub source: PathBuf,
    pub action: FileAction,
}

/// The LFS outputs of a run, each pointer validated against the manifest and each
/// object verified byte for byte (fetched from the default remote when the local
/// store lacks it). Nothing is written outside the LFS store.
pub fn plan(
    store: &Store,
    run: &RunRef,
    m: &RunManifest,
    dest_of: &dyn Fn(&str) -> PathBuf,
) -> Result<Vec<LfsPlanned>> {
    let refuse = |what: String| {
        Error::input(format!(
            "run {}: {what}; nothing was written",
            run.run_id
        ))
        .hint("the record is not what git-workbench writes (edited or from a foreign clone); investigate before trusting it")
    };
    let mut files: BTreeMap<String, (Vec<u8>, bool)> = store
        .record_files(run.tip, POINTER_DIR)?
        .into_iter()
        .map(|f| (f.path, (f.bytes, f.executable)))
        .collect();
    let mut pointers = Vec::new();
    for (rel, size) in &m.lfs_outputs {
        let Some(want) = m.outputs.get(rel) else {
            return Err(refuse(format!(
                "its manifest lists {rel} in lfs_outputs but not in outputs"
            )));
        };
        if m.stored_outputs.contains(rel) {
            return Err(refuse(format!(
                "its manifest lists {rel} both as stored and as kept in git LFS"
            )));
        }
        let Some((bytes, executable)) = files.remove(rel) else {
            return Err(refuse(format!(
                "its record has no LFS pointer for {rel} ({POINTER_DIR}/{rel})"
            )));
        };
        let pointer = LfsPointer::parse(&bytes)
            .map_err(|e| refuse(format!("the LFS pointer of {rel} is {e}")))?;
        if pointer.oid != *want {
            return Err(refuse(format!(
                "the LFS pointer of {rel} names {}, its manifest records {want}",
                pointer.oid
            )));
        }
        if pointer.size != *size {
            return Err(refuse(format!(
                "the LFS pointer of {rel} says {} bytes, its manifest records {size}",
                pointer.size
            )));
        }
        pointers.push((rel.clone(), pointer, executable));
    }
    if let Some(extra) = files.keys().next() {
        return Err(refuse(format!(
            "its record holds an LFS pointer for {extra}, which its manifest does not list"
        )));
    }
    let mut missing = Vec::new();
    for (rel, p, _) in &pointers {
        match store.lfs_local_object(p)? {
            LocalObject::Valid(_) => {}
            LocalObject::Missing => missing.push(*p),
            LocalObject::Corrupt { path, why } => return Err(corrupt(run, rel, &path, &why)),
        }
    }
    if !missing.is_empty() {
        let remote = store.default_remote().map_err(|e| {
            Error::input(format!(
                "{} output(s) of run {} are kept in git LFS and missing from the local LFS store, and there is no remote to fetch them from ({e}); nothing was written",
                missing.len(),
                run.run_id
            ))
            .hint("add the remote the run was pushed to: git remote add origin URL")
        })?;
        store.lfs_fetch(&remote, &missing).map_err(|e| match e {
            crate::store::Error::Lfs { message, hint } => {
                Error::input(format!("{message}; nothing was written")).hint(hint)
            }
            other => other.into(),
        })?;
    }
    let mut out = Vec::new();
    for (rel, pointer, executable) in pointers {
        let source = match store.lfs_local_object(&pointer)? {
            LocalObject::Valid(path) => path,
            LocalObject::Missing => {
                return Err(Error::input(format!(
                    "the git LFS object of {rel} (run {}, {}) could not be fetched; nothing was written",
                    run.run_id, pointer.oid
                ))
                .hint("push it from the clone that ran the stage: git workbench push"))
            }
            LocalObject::Corrupt { path, why } => return Err(corrupt(run, &rel, &path, &why)),
        };
        let dest = dest_of(&rel);
        let action = action_of(&dest, &pointer)?;
        out.push(LfsPlanned {
            rel,
            dest,
            pointer,
            executable,
            source,
            action,
        });
    }
    Ok(out)
}

fn corrupt(run: &RunRef, rel: &str, path: &Path, why: &str) -> Error {
    Error::refused(format!(
        "the git LFS object of {rel} (run {}) at {} does not match its record: {why}; nothing was written",
        run.run_id,
        path.display()
    ))
    .hint(format!(
        "delete {} and check out again to download it from the remote",
        path.display()
    ))
}

/// What restoring would do to the file at `dest`.
fn action_of(dest: &Path, pointer: &LfsPointer) -> Result<FileAction> {
    match super::checkout::at_dest(dest)? {
        super::checkout::AtDest::Missing => return Ok(FileAction::New),
        super::checkout::AtDest::Other => return Ok(FileAction::Replaced),
        super::checkout::AtDest::File => {}
    }
    let mut f = match std::fs::File::open(dest) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileAction::New),
        Err(e) => return Err(Error::io(dest)(e)),
    };
    let (oid, size) = copy_hashing(&mut f, &mut std::io::sink()).map_err(Error::io(dest))?;
    Ok(if oid == pointer.oid && size == pointer.size {
        FileAction::Unchanged
    } else {
        FileAction::Replaced
    })
}

/// Copies a planned object to its destination through a temporary file beside it,
/// checking the bytes copied once more: an object changed since it was verified is
/// refused and the destination left as it was.
pub fn write(p: &LfsPlanned) -> Result<()> {
    let dir = p.dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let mut src = std::fs::File::open(&p.source).map_err(Error::io(&p.source))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(Error::io(dir))?;
    let (oid, size) = copy_hashing(&mut src, tmp.as_file_mut()).map_err(Error::io(&p.dest))?;
    if oid != p.pointer.oid || size != p.pointer.size {
        return Err(Error::refused(format!(
            "the git LFS object of {} at {} changed while it was restored; {} was not written",
            p.rel,
            p.source.display(),
            p.dest.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if p.executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(Error::io(&p.dest))?;
    }
    tmp.persist(&p.dest)
        .map_err(|e| Error::io(&p.dest)(e.error))?;
    Ok(())
}
