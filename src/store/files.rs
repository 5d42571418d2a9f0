//! Blobs of files on disk that other processes may be rewriting or removing while
//! they are read (a parallel run writing the `review/` mirror or a shared output):
//! each blob is made from the bytes read, once, through `exec::stable`, so its id and
//! the digest recorded beside it describe the same bytes, and a file that changed or
//! vanished is never an error. libgit2's own path-based blob functions stat a file
//! and then read it, and fail when the two disagree.

use super::error::{Error, Result};
use super::{id, Store};
use crate::exec::stable::{all_bytes, read_stable, Found, Links};
use crate::exec::statcache::{now_ns, Stamp};
use crate::model::digest::Sha256;
use crate::model::ObjectId;
use git2::{AttrCheckFlags, Oid};
use std::path::Path;

/// The attributes that make libgit2 filter content on its way into the repository
/// (`filter` drivers are not run by libgit2, but may be registered one day).
const FILTER_ATTRS: [&str; 5] = ["text", "eol", "crlf", "ident", "filter"];

/// A file stored as a blob.
#[derive(Debug, Clone)]
pub struct FileBlob {
    pub blob: ObjectId,
    /// sha256 of the bytes read (before any filter).
    pub sha256: Sha256,
    pub executable: bool,
    /// The file's stat data and the time it was read, when nothing changed it
    /// meanwhile (what the stat cache may keep).
    pub cacheable: Option<(Stamp, i128)>,
}

/// A tracked path as the working tree holds it, stored.
pub(super) enum WorkFile {
    File { blob: Oid, executable: bool },
    Link { blob: Oid },
    Gone,
}

impl Store {
    /// Stores the file at `path` (links followed) as a blob, unfiltered: `None` when
    /// there is no file there (any more).
    pub fn blob_of_file(&self, path: &Path) -> Result<Option<FileBlob>> {
        let ctx = || format!("cannot store {}", path.display());
        match read_stable(path, Links::Follow, all_bytes).map_err(Error::io(path))? {
            Found::File {
                value,
                stamp,
                executable,
                stable,
            } => {
                let cacheable = stable.then(|| (stamp, now_ns()));
                Ok(Some(FileBlob {
                    blob: id(self.repo.blob(&value).map_err(Error::git(ctx()))?),
                    sha256: Sha256::of(&value),
                    executable,
                    cacheable,
                }))
            }
            Found::Link { .. } | Found::Gone => Ok(None),
        }
    }

    /// Stores the working-tree file of the tracked path `rel` (at `abs`) as
    /// `git add` would: a link as its target, content through the filters its
    /// attributes and `core.autocrlf` select.
    pub(super) fn store_work_file(
        &self,
        rel: &Path,
        abs: &Path,
        autocrlf: bool,
    ) -> Result<WorkFile> {
        let ctx = || format!("cannot snapshot {}", rel.display());
        match read_stable(abs, Links::Keep, all_bytes).map_err(Error::io(abs))? {
            Found::Link { target } => Ok(WorkFile::Link {
                blob: self.repo.blob(&target).map_err(Error::git(ctx()))?,
            }),
            Found::File {
                value, executable, ..
            } => {
                let blob = if autocrlf || self.has_filter_attrs(rel) {
                    let mut w = self
                        .repo
                        .blob_writer(Some(rel))
                        .map_err(Error::git(ctx()))?;
                    std::io::Write::write_all(&mut w, &value).map_err(Error::io(abs))?;
                    w.commit().map_err(Error::git(ctx()))?
                } else {
                    self.repo.blob(&value).map_err(Error::git(ctx()))?
                };
                Ok(WorkFile::File { blob, executable })
            }
            Found::Gone => Ok(WorkFile::Gone),
        }
    }

    /// Whether an attribute that selects a content filter is set, unset or given a
    /// value for `rel` (an unreadable attribute counts as set: the filtered path is
    /// only slower).
    fn has_filter_attrs(&self, rel: &Path) -> bool {
        FILTER_ATTRS.iter().any(|a| {
            self.repo
                .get_attr(rel, a, AttrCheckFlags::FILE_THEN_INDEX)
                .map_or(true, |v| v.is_some())
        })
    }
}
