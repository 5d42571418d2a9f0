//! Blobs of files on disk that other processes may be rewriting or removing while
//! they are read (a parallel run writing the `review/` mirror or a shared output):
//! each blob is made from the bytes read, once, through `exec::stable`, so its id and
//! the digest recorded beside it describe the same bytes, and a file that changed or
//! vanished is never an error. libgit2's own path-based blob functions stat a file
//! and then read it, and fail when the two disagree. Content is streamed into the
//! object database in one pass, never held whole in memory.

use super::error::{Error, Result};
use super::{id, Store};
use crate::exec::stable::{all_bytes, read_stable, Found, Links};
use crate::exec::statcache::{now_ns, Stamp};
use crate::model::digest::Sha256;
use crate::model::ObjectId;
use git2::{AttrCheckFlags, ObjectType, Oid};
use sha2::Digest as _;
use std::fs::File;
use std::io::{self, Read, Write};
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

/// What one read of a file streamed into the object database: the blob, and the
/// sha256 of its bytes when asked for; `None` when the file did not hold as many
/// bytes as its size said (it changed during the read).
type Streamed = Option<(Oid, Option<Sha256>)>;

/// Read buffer of the streaming copy.
const CHUNK: usize = 1 << 16;

impl Store {
    /// Stores the file at `path` (links followed) as a blob, unfiltered: `None` when
    /// there is no file there (any more).
    pub fn blob_of_file(&self, path: &Path) -> Result<Option<FileBlob>> {
        let ctx = || format!("cannot store {}", path.display());
        let odb = self.repo.odb().map_err(Error::git(ctx()))?;
        let found = read_stable(path, Links::Follow, |f| stream_blob(&odb, f, true))
            .map_err(Error::io(path))?;
        let Found::File {
            value,
            stamp,
            executable,
            stable,
        } = found
        else {
            return Ok(None);
        };
        let cacheable = stable.then(|| (stamp, now_ns()));
        let (blob, sha256) = match value {
            Some((blob, Some(sha256))) => (blob, sha256),
            // It kept changing size under every read: keep the bytes of one more.
            _ => match read_stable(path, Links::Follow, all_bytes).map_err(Error::io(path))? {
                Found::File { value, .. } => (
                    self.repo.blob(&value).map_err(Error::git(ctx()))?,
                    Sha256::of(&value),
                ),
                Found::Link { .. } | Found::Gone => return Ok(None),
            },
        };
        Ok(Some(FileBlob {
            blob: id(blob),
            sha256,
            executable,
            cacheable,
        }))
    }

    /// Stores the working-tree file of the tracked path `rel` (at `abs`) as
    /// `git add` would: a link as its target, content through the filters its
    /// attributes and `core.autocrlf` select. Content is streamed, never held whole.
    pub(super) fn store_work_file(
        &self,
        rel: &Path,
        abs: &Path,
        autocrlf: bool,
    ) -> Result<WorkFile> {
        let ctx = || format!("cannot snapshot {}", rel.display());
        let filtered = autocrlf || self.has_filter_attrs(rel);
        let odb = self.repo.odb().map_err(Error::git(ctx()))?;
        let found = read_stable(abs, Links::Keep, |f| {
            if filtered {
                self.filtered_blob(rel, f).map(|b| Some((b, None)))
            } else {
                stream_blob(&odb, f, false)
            }
        })
        .map_err(Error::io(abs))?;
        match found {
            Found::Link { target } => Ok(WorkFile::Link {
                blob: self.repo.blob(&target).map_err(Error::git(ctx()))?,
            }),
            Found::File {
                value: Some((blob, _)),
                executable,
                ..
            } => Ok(WorkFile::File { blob, executable }),
            // It kept changing size under every read: keep the bytes of one more.
            Found::File { .. } => {
                match read_stable(abs, Links::Keep, all_bytes).map_err(Error::io(abs))? {
                    Found::File {
                        value, executable, ..
                    } => Ok(WorkFile::File {
                        blob: self.repo.blob(&value).map_err(Error::git(ctx()))?,
                        executable,
                    }),
                    Found::Link { target } => Ok(WorkFile::Link {
                        blob: self.repo.blob(&target).map_err(Error::git(ctx()))?,
                    }),
                    Found::Gone => Ok(WorkFile::Gone),
                }
            }
            Found::Gone => Ok(WorkFile::Gone),
        }
    }

    /// The blob of an open file's content after the filters `rel` selects (libgit2
    /// buffers it in a temporary file and filters it on commit).
    fn filtered_blob(&self, rel: &Path, f: &mut File) -> io::Result<Oid> {
        let mut w = self.repo.blob_writer(Some(rel)).map_err(io::Error::other)?;
        io::copy(f, &mut w)?;
        w.commit().map_err(io::Error::other)
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

/// Copies exactly as many bytes as the open file's size into a new blob, hashing
/// them on the way when `sha` says so.
fn stream_blob(odb: &git2::Odb, f: &mut File, sha: bool) -> io::Result<Streamed> {
    let size = f.metadata()?.len();
    let Ok(len) = usize::try_from(size) else {
        return Err(io::Error::other("file too large for this platform"));
    };
    let mut w = odb
        .writer(len, ObjectType::Blob)
        .map_err(io::Error::other)?;
    let mut hasher = sha.then(sha2::Sha256::new);
    let mut buf = vec![0u8; CHUNK.min(len).max(1)];
    let mut left = len;
    while left > 0 {
        let n = f.read(&mut buf[..left.min(CHUNK)])?;
        if n == 0 {
            return Ok(None); // shorter than its size said
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&buf[..n]);
        }
        w.write_all(&buf[..n])?;
        left -= n;
    }
    if f.read(&mut [0u8; 1])? != 0 {
        return Ok(None); // longer than its size said
    }
    let blob = w.finalize().map_err(io::Error::other)?;
    Ok(Some((
        blob,
        hasher.map(|h| Sha256::from_bytes(h.finalize().into())),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    #[test]
    fn a_stored_file_has_gits_blob_id_and_the_sha256_of_its_bytes() {
        let (d, store) = temp_store();
        let p = d.path().join("out.bin");
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        let b = store.blob_of_file(&p).unwrap().unwrap();
        let git = std::process::Command::new("git")
            .args(["hash-object", "--no-filters"])
            .arg(&p)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&git.stdout).trim(),
            b.blob.to_string()
        );
        assert_eq!(b.sha256, Sha256::of(&bytes));
        assert!(!b.executable);
        assert!(b.cacheable.is_some());
        let stored = store.raw().find_blob(super::super::oid(b.blob)).unwrap();
        assert_eq!(stored.content(), &bytes[..]);
        std::fs::write(&p, "").unwrap();
        let empty = store.blob_of_file(&p).unwrap().unwrap();
        assert_eq!(empty.sha256, Sha256::of(b""));
        assert!(store
            .blob_of_file(&d.path().join("none"))
            .unwrap()
            .is_none());
    }
}
