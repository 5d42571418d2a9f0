//! `checkout RUN`: restore a run's stored outputs (and its code snapshot) from the
//! record, and those kept in git LFS from the LFS store (`ops::lfs`), every byte
//! checked against the manifest's sha256 before anything is written; files with other
//! content are replaced only when forced.

use super::resolve::resolve_run;
use crate::error::{Error, Result};
use crate::model::digest::Sha256;
use crate::model::RunId;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

mod dvc;

pub struct CheckoutRequest {
    pub run: String,
    /// Restore into this directory instead of the run directory.
    pub to: Option<PathBuf>,
    /// Also restore the working-tree snapshot into `<destination>/code/`.
    pub code: bool,
    /// Overwrite files whose content differs.
    pub force: bool,
}

/// What happens to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    New,
    Unchanged,
    Replaced,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restored {
    pub path: String,
    pub to: PathBuf,
    pub action: FileAction,
}

/// An output the record has only the hash of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotStored {
    pub path: String,
    pub sha256: Sha256,
    /// The file at its destination has exactly these bytes.
    pub present: bool,
}

/// `checkout --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutReport {
    pub run_id: RunId,
    pub files: Vec<Restored>,
    pub not_stored: Vec<NotStored>,
}

struct Planned {
    rel: String,
    dest: PathBuf,
    bytes: Vec<u8>,
    executable: bool,
    action: FileAction,
}

pub fn checkout(store: &Store, req: &CheckoutRequest) -> Result<CheckoutReport> {
    let run = resolve_run(store, &req.run)?;
    // Every tree path too: nothing of a record that could leave the destination is
    // written, and nothing at all is written when any of it could.
    store
        .check_run_deep(&run, &mut crate::store::TreeMemo::default())?
        .map_err(crate::store::Error::Invalid)?;
    let m = store.read_manifest(run.tip)?;
    let root = match &req.to {
        Some(d) => d.clone(),
        None => store.workdir("checkout")?,
    };
    let run_dir = m.run_dir.trim_end_matches('/').to_string();
    // Where an output goes: its own path in the repository; with --to, relative to the
    // run directory when it lies below it.
    let dest_of = |rel: &str| -> PathBuf {
        match (&req.to, rel.strip_prefix(&format!("{run_dir}/"))) {
            (Some(_), Some(inner)) => root.join(inner),
            (None, Some(_)) => root.join(rel),
            (Some(_), None) => root.join(rel),
            // Never over the working file of the same name: into the run directory.
            (None, None) => root.join(&run_dir).join(rel),
        }
    };
    let mut plan = Vec::new();
    for f in store.record_files(run.tip, "outputs")? {
        let want = m.outputs.get(&f.path).ok_or_else(|| {
            Error::input(format!(
                "the record of run {} stores {} but its manifest does not list it",
                run.run_id, f.path
            ))
        })?;
        let got = Sha256::of(&f.bytes);
        if &got != want {
            return Err(Error::input(format!(
                "the stored {} of run {} does not match its manifest ({got}, expected {want}); nothing was written",
                f.path, run.run_id
            )));
        }
        let dest = dest_of(&f.path);
        plan.push(planned(f.path, dest, f.bytes, f.executable)?);
    }
    plan.extend(from_dvc(store, &m, &plan, &dest_of)?);
    if req.code {
        let code_root = dest_of("code");
        for f in store.record_files(run.tip, "snapshot")? {
            let dest = code_root.join(&f.path);
            plan.push(planned(
                format!("code/{}", f.path),
                dest,
                f.bytes,
                f.executable,
            )?);
        }
    }
    // Outputs kept in git LFS: verified (and fetched when missing) here, written below.
    let lfs = super::lfs::plan(store, &run, &m, &dest_of)?;
    for p in &plan {
        contained(&root, &p.dest)?;
    }
    for l in &lfs {
        contained(&root, &l.dest)?;
    }
    let differing: Vec<&Path> = plan
        .iter()
        .filter(|p| p.action == FileAction::Replaced)
        .map(|p| p.dest.as_path())
        .chain(
            lfs.iter()
                .filter(|l| l.action == FileAction::Replaced)
                .map(|l| l.dest.as_path()),
        )
        .collect();
    if !differing.is_empty() && !req.force {
        return Err(Error::refused(format!(
            "{} file(s) exist with other content, e.g. {}; nothing was written",
            differing.len(),
            differing[0].display()
        ))
        .hint("restore elsewhere with --to DIR, or overwrite with --force"));
    }
    for p in plan.iter().filter(|p| p.action != FileAction::Unchanged) {
        write_file(&p.dest, &p.bytes, p.executable)?;
    }
    for l in lfs.iter().filter(|l| l.action != FileAction::Unchanged) {
        super::lfs::write(l)?;
    }
    let not_stored = m
        .outputs
        .iter()
        .filter(|(k, _)| !plan.iter().any(|p| &p.rel == *k))
        .filter(|(k, _)| !lfs.iter().any(|l| &l.rel == *k))
        .map(|(k, h)| NotStored {
            path: k.clone(),
            sha256: *h,
            present: std::fs::read(dest_of(k)).is_ok_and(|b| Sha256::of(&b) == *h),
        })
        .collect();
    Ok(CheckoutReport {
        run_id: run.run_id,
        files: plan
            .into_iter()
            .map(|p| Restored {
                path: p.rel,
                to: p.dest,
                action: p.action,
            })
            .chain(lfs.into_iter().map(|l| Restored {
                path: l.rel,
                to: l.dest,
                action: l.action,
            }))
            .collect(),
        not_stored,
    })
}

/// The outputs the record does not store that DVC tracks (`checkout/dvc.rs`), those
/// not already at their destination with the run's bytes, verified.
fn from_dvc(
    store: &Store,
    m: &crate::model::manifest::RunManifest,
    plan: &[Planned],
    dest_of: &dyn Fn(&str) -> PathBuf,
) -> Result<Vec<Planned>> {
    if m.dvc.is_none() {
        return Ok(Vec::new());
    }
    let wanted: Vec<String> = m
        .outputs
        .iter()
        .filter(|(k, h)| {
            !plan.iter().any(|p| &p.rel == *k)
                && !m.lfs_outputs.contains_key(*k) // git LFS restores those
                && !already_there(&dest_of(k), h)
        })
        .map(|(k, _)| k.clone())
        .collect();
    let root = store.workdir("checkout")?;
    let program = store.config_string(crate::exec::dvc::PROGRAM_KEY);
    dvc::restore(&root, program, m, &wanted)?
        .into_iter()
        .map(|(rel, bytes)| {
            let dest = dest_of(&rel);
            planned(rel, dest, bytes, false)
        })
        .collect()
}

/// The destination is a regular file (never a link or FIFO, see `at_dest`) with
/// exactly these bytes, hashed as a stream.
fn already_there(dest: &Path, want: &Sha256) -> bool {
    matches!(at_dest(dest), Ok(AtDest::File))
        && crate::exec::hash::sha256_file(dest).is_ok_and(|got| &got == want)
}

/// Refuses a destination outside `root` or reached through a symbolic link (an
/// existing directory on the way, or the file itself): a write there could land
/// anywhere on disk.
fn contained(root: &Path, dest: &Path) -> Result<()> {
    let outside = |why: &str| {
        Error::refused(format!("{} {why}; nothing was written", dest.display()))
            .hint("check out into a plain directory with --to DIR")
    };
    let Ok(rel) = dest.strip_prefix(root) else {
        return Err(outside("is outside the destination"));
    };
    let mut at = root.to_path_buf();
    for part in rel.components() {
        match part {
            std::path::Component::Normal(p) => at.push(p),
            _ => return Err(outside("climbs out of the destination")),
        }
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(outside(&format!(
                    "would be written through the symbolic link {}",
                    at.display()
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// What is at a destination, found without following a link and without opening
/// anything but a regular file: a FIFO there would block the read and a link to
/// `/dev/zero` never end it. A link is refused later (`contained`); any other
/// non-file is other content, replaced only when forced.
pub(super) enum AtDest {
    Missing,
    File,
    Other,
}

pub(super) fn at_dest(dest: &Path) -> Result<AtDest> {
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_file() => Ok(AtDest::File),
        Ok(_) => Ok(AtDest::Other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AtDest::Missing),
        Err(e) => Err(Error::io(dest)(e)),
    }
}

fn planned(rel: String, dest: PathBuf, bytes: Vec<u8>, executable: bool) -> Result<Planned> {
    let action = match at_dest(&dest)? {
        AtDest::Missing => FileAction::New,
        AtDest::Other => FileAction::Replaced,
        AtDest::File => match std::fs::read(&dest) {
            Ok(b) if b == bytes => FileAction::Unchanged,
            Ok(_) => FileAction::Replaced,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileAction::New,
            Err(e) => return Err(Error::io(&dest)(e)),
        },
    };
    Ok(Planned {
        rel,
        dest,
        bytes,
        executable,
        action,
    })
}

fn write_file(dest: &Path, bytes: &[u8], executable: bool) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(Error::io(dir))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(Error::io(dest))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(Error::io(dest))?;
    }
    tmp.persist(dest).map_err(|e| Error::io(dest)(e.error))?;
    Ok(())
}
