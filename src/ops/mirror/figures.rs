//! The figures of a mirror slot on disk: `<slot>/figures/`, written from the stored
//! output blobs of the run the slot shows (`model::figures` names them) and emptied of
//! every file that is not one of them. Nothing is followed through a symbolic link: a
//! linked directory on the way is refused, a linked file is replaced or removed as
//! the link it is.

use crate::error::{Error, Result};
use crate::model::figures::{figures, FIGURES_DIR};
use crate::model::manifest::RunManifest;
use crate::model::ObjectId;
use crate::ops::workspace::write_atomic;
use crate::store::Store;
use std::collections::BTreeMap;
use std::path::Path;

/// The figures a slot showing the run recorded at `tip` holds: each name under
/// `figures/` and the stored bytes of its output (a figure whose blob the record
/// lacks is not one).
pub fn record_figures(
    store: &Store,
    tip: ObjectId,
    m: &RunManifest,
) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    for f in figures(m) {
        let Ok(name) = f.mirrored else { continue };
        if let Some(bytes) = store.record_file(tip, &format!("outputs/{}", f.output))? {
            out.insert(name, bytes);
        }
    }
    Ok(out)
}

/// The files below `dir` (relative to it, `/`-separated), symbolic links listed as
/// files and never followed; nothing when `dir` is not a directory.
pub fn files_below(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let is_dir = std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
    if is_dir {
        walk(dir, "", &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let entry = entry.map_err(Error::io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = format!("{prefix}{name}");
        let kind = entry.file_type().map_err(Error::io(&entry.path()))?;
        if kind.is_dir() {
            walk(&entry.path(), &format!("{rel}/"), out)?;
        } else {
            out.push(rel);
        }
    }
    Ok(())
}

/// Makes `<root>/<slot_dir>/figures/` hold exactly `new`; the paths (relative to the
/// root) written or removed, for staging.
pub fn sync(root: &Path, slot_dir: &str, new: &BTreeMap<String, Vec<u8>>) -> Result<Vec<String>> {
    let rel_dir = format!("{slot_dir}/{FIGURES_DIR}");
    let dir = root.join(&rel_dir);
    let mut touched = Vec::new();
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Error::input(format!(
                "{rel_dir} is a symbolic link; the mirror is never written through one"
            ))
            .hint(format!("make {rel_dir} a directory (or remove it)")))
        }
        // A file where the directory goes is the mirror's to replace.
        Ok(m) if !m.is_dir() => {
            super::remove_file(&dir)?;
            touched.push(rel_dir.clone());
        }
        _ => {}
    }
    for old in files_below(&dir)? {
        if !new.contains_key(&old) {
            super::remove_file(&dir.join(&old))?;
            remove_empty_parents(&dir, &old);
            touched.push(format!("{rel_dir}/{old}"));
        }
    }
    for (name, bytes) in new {
        let path = dir.join(name);
        let parent = make_dirs(&dir, name)?;
        let same = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
            && std::fs::read(&path).is_ok_and(|b| b == *bytes);
        if !same {
            write_atomic(&parent, &path, bytes)?;
        }
        touched.push(format!("{rel_dir}/{name}"));
    }
    if new.is_empty() {
        let _ = std::fs::remove_dir(&dir);
    }
    Ok(touched)
}

/// Removes the directories of `name` below `dir` that are empty now, deepest first.
fn remove_empty_parents(dir: &Path, name: &str) {
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    while !parts.is_empty() {
        if std::fs::remove_dir(dir.join(parts.join("/"))).is_err() {
            return;
        }
        parts.pop();
    }
}

/// Creates `dir` and the directories of `name` below it, one at a time, refusing a
/// symbolic link on the way; the directory `name` goes in.
fn make_dirs(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    let mut at = dir.to_path_buf();
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    let mut steps = vec![at.clone()];
    for p in parts {
        at = at.join(p);
        steps.push(at.clone());
    }
    for step in &steps {
        match std::fs::symlink_metadata(step) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::input(format!(
                    "{} is not a directory; the mirror's figures are never written through a link or over a file",
                    step.display()
                ))
                .hint("remove it; the next transition rewrites the mirror"))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(step).map_err(Error::io(step))?
            }
            Err(e) => return Err(Error::io(step)(e)),
        }
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figs(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn sync_writes_the_new_figures_and_removes_the_rest() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("review/s")).unwrap();
        let t = sync(
            root,
            "review/s",
            &figs(&[("a.png", "1"), ("sub/b.png", "2")]),
        )
        .unwrap();
        assert_eq!(t, ["review/s/figures/a.png", "review/s/figures/sub/b.png"]);
        assert_eq!(
            std::fs::read(root.join("review/s/figures/sub/b.png")).unwrap(),
            b"2"
        );
        let t = sync(root, "review/s", &figs(&[("a.png", "3")])).unwrap();
        assert_eq!(t, ["review/s/figures/sub/b.png", "review/s/figures/a.png"]);
        assert!(!root.join("review/s/figures/sub").exists());
        assert_eq!(
            std::fs::read(root.join("review/s/figures/a.png")).unwrap(),
            b"3"
        );
        sync(root, "review/s", &BTreeMap::new()).unwrap();
        assert!(!root.join("review/s/figures").exists());
    }

    #[test]
    fn sync_never_writes_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("review/s/figures")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("review/s/figures/sub")).unwrap();
        // the link is no figure: removed as the link it is, then a directory made
        sync(root, "review/s", &figs(&[("sub/b.png", "2")])).unwrap();
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
        assert!(root.join("review/s/figures/sub").is_dir());
        std::fs::remove_dir_all(root.join("review/s/figures")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("review/s/figures")).unwrap();
        let e = sync(root, "review/s", &figs(&[("b.png", "2")])).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    }
}
