//! The files of one version of the repository — a commit's tree, the index, or the
//! index with some files replaced by their working-tree content — as a map from path
//! to blob id, and the `.gitattributes` that version commits. The narrative checks
//! compare two versions through these maps, so the hook, `verify` and
//! `narrative check` apply one rule to three sources.

use super::error::{Error, Result};
use super::{id, oid, Store};
use crate::model::attributes::{AttrFile, Attributes};
use crate::model::ObjectId;
use std::collections::BTreeMap;
use std::path::Path;

/// A regular (or executable) file or symlink of one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileEntry {
    pub blob: ObjectId,
    pub mode: u32,
}

const SYMLINK: u32 = 0o120000;

/// Every file of one version, by repository-relative path.
#[derive(Debug, Clone, Default)]
pub struct FileMap {
    pub files: BTreeMap<String, FileEntry>,
    /// Content that is not (or not yet) in the object database: working-tree files.
    pub overlay: BTreeMap<String, Vec<u8>>,
}

impl FileMap {
    pub fn get(&self, path: &str) -> Option<&FileEntry> {
        self.files.get(path)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }
}

/// The last path component.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Store {
    /// The files of the tree of commit (or tree) `rev`.
    pub fn files_at(&self, rev: ObjectId) -> Result<FileMap> {
        let tree = self
            .repo
            .find_object(oid(rev), None)
            .and_then(|o| o.peel_to_tree())
            .map_err(Error::git(format!("cannot read the tree of {rev}")))?;
        let mut files = BTreeMap::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                let name = String::from_utf8_lossy(entry.name_bytes());
                files.insert(
                    format!("{dir}{name}"),
                    FileEntry {
                        blob: id(entry.id()),
                        mode: entry.filemode() as u32,
                    },
                );
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(Error::git(format!("cannot list the files of {rev}")))?;
        Ok(FileMap {
            files,
            overlay: BTreeMap::new(),
        })
    }

    /// The files of the index git is committing (`GIT_INDEX_FILE`), stage 0 only.
    pub fn files_staged(&self) -> Result<FileMap> {
        let index = self
            .repo
            .index()
            .map_err(Error::git("cannot read the index"))?;
        let files = index
            .iter()
            .filter(|e| (e.flags >> 12) & 3 == 0 && e.mode != 0o160000)
            .map(|e| {
                (
                    String::from_utf8_lossy(&e.path).into_owned(),
                    FileEntry {
                        blob: id(e.id),
                        mode: e.mode,
                    },
                )
            })
            .collect();
        Ok(FileMap {
            files,
            overlay: BTreeMap::new(),
        })
    }

    /// `map` with `paths` replaced by their working-tree content (absent from the
    /// working tree: removed from the map). Content is hashed, never written.
    pub fn overlay_worktree(&self, map: &mut FileMap, paths: &[String]) -> Result<()> {
        let root = self.workdir("narrative check")?;
        for p in paths {
            // Only paths inside the working tree: a name from a hook's arguments is
            // never followed out of it.
            let inside = Path::new(p)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !inside {
                continue;
            }
            let full = root.join(p);
            match std::fs::symlink_metadata(&full) {
                Ok(m) if m.is_file() => {
                    let bytes = std::fs::read(&full).map_err(Error::io(&full))?;
                    let blob = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes)
                        .map_err(Error::git(format!("cannot hash {p}")))?;
                    let exec = {
                        use std::os::unix::fs::PermissionsExt;
                        m.permissions().mode() & 0o111 != 0
                    };
                    map.files.insert(
                        p.clone(),
                        FileEntry {
                            blob: id(blob),
                            mode: if exec { 0o100755 } else { 0o100644 },
                        },
                    );
                    map.overlay.insert(p.clone(), bytes);
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    // A symlink: git stores its target; it is never a narrative's text.
                    map.overlay.remove(p);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    map.files.remove(p);
                    map.overlay.remove(p);
                }
                Err(e) => return Err(Error::io(&full)(e)),
            }
        }
        Ok(())
    }

    /// Paths whose working-tree content differs from the index, or that are untracked
    /// and not ignored.
    pub fn worktree_edits(&self) -> Result<Vec<String>> {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(Error::git("cannot read the working tree's status"))?;
        let wt = git2::Status::WT_NEW
            | git2::Status::WT_MODIFIED
            | git2::Status::WT_DELETED
            | git2::Status::WT_TYPECHANGE
            | git2::Status::WT_RENAMED;
        Ok(statuses
            .iter()
            .filter(|e| e.status().intersects(wt))
            .map(|e| String::from_utf8_lossy(e.path_bytes()).into_owned())
            .collect())
    }

    /// The content of `path` in `map`.
    pub fn file_content(&self, map: &FileMap, path: &str) -> Result<Option<Vec<u8>>> {
        if let Some(b) = map.overlay.get(path) {
            return Ok(Some(b.clone()));
        }
        let Some(e) = map.get(path) else {
            return Ok(None);
        };
        if e.mode == SYMLINK {
            return Ok(None);
        }
        self.repo
            .find_blob(oid(e.blob))
            .map(|b| Some(b.content().to_vec()))
            .map_err(Error::git(format!("cannot read {path} ({})", e.blob)))
    }

    /// The attributes `map` commits: its regular `.gitattributes` files (git does
    /// not follow a symlinked one), and nothing local to this clone.
    pub fn attributes_of(&self, map: &FileMap) -> Result<Attributes> {
        let mut files = Vec::new();
        for (path, e) in &map.files {
            if basename(path) != ".gitattributes" || e.mode == SYMLINK {
                continue;
            }
            if let Some(text) = self.file_content(map, path)? {
                let dir = Path::new(path)
                    .parent()
                    .map(|d| d.to_string_lossy().into_owned())
                    .unwrap_or_default();
                files.push(AttrFile { dir, text });
            }
        }
        Ok(Attributes::parse(&files))
    }

    /// The parents of a commit.
    pub fn parents(&self, commit: ObjectId) -> Result<Vec<ObjectId>> {
        let c = self
            .repo
            .find_commit(oid(commit))
            .map_err(Error::git(format!("cannot read commit {commit}")))?;
        Ok(c.parent_ids().map(id).collect())
    }

    /// The author of a commit, as `Name <email>`.
    pub fn commit_author(&self, commit: ObjectId) -> Result<String> {
        let c = self
            .repo
            .find_commit(oid(commit))
            .map_err(Error::git(format!("cannot read commit {commit}")))?;
        let a = c.author();
        Ok(format!(
            "{} <{}>",
            String::from_utf8_lossy(a.name_bytes()),
            String::from_utf8_lossy(a.email_bytes())
        ))
    }

    /// The commit HEAD points at; `None` on an unborn branch.
    pub fn head_commit(&self) -> Option<ObjectId> {
        self.repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .map(|c| id(c.id()))
    }
}
