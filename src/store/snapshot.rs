//! The snapshot of the working state a run executes on: the tree of every tracked
//! file as it is on disk, uncommitted edits included. It is built on an in-memory copy
//! of the index and never written back, so the user's index is untouched. Files that
//! other processes change while the snapshot is taken are recorded as read.

use super::error::{Error, Result};
use super::files::WorkFile;
use super::{id, Store};
use crate::model::ObjectId;
use git2::{IndexEntry, IndexTime, Status, StatusOptions};
use std::path::{Path, PathBuf};

/// The code state a run executed on.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub head: Option<ObjectId>,
    pub branch: Option<String>,
    pub tree: ObjectId,
    /// The working state differs from HEAD's tree.
    pub dirty: bool,
}

/// `statuses()` attempts: libgit2 fails a status when a file changes between its
/// stat and its read, so a failed one is taken again.
const STATUS_ATTEMPTS: u32 = 5;

const MODE_FILE: u32 = 0o100644;
const MODE_EXECUTABLE: u32 = 0o100755;
const MODE_LINK: u32 = 0o120000;
/// libgit2's GIT_INDEX_ENTRY_STAGEMASK (in `flags`): the conflict stage.
const STAGE_MASK: u16 = 0x3000;
/// libgit2's GIT_INDEX_ENTRY_INTENT_TO_ADD (in `flags_extended`).
const INTENT_TO_ADD: u16 = 1 << 13;

/// What the working tree holds at a tracked path, as the snapshot needs it.
enum Change {
    Deleted,
    Modified,
}

impl Store {
    /// Writes the snapshot tree of tracked files as they are on disk.
    ///
    /// Other processes may rewrite or remove tracked files meanwhile (a parallel
    /// run writing its `review/` mirror): each changed file is read once, with
    /// retries while it changes under the read, and its blob is made from exactly
    /// those bytes; a file gone by then is recorded as deleted. So the tree is of
    /// the bytes read, and a concurrent writer is never an error.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let ctx = || "cannot snapshot the working tree".to_string();
        let workdir = self.workdir("run")?;
        let mut index = self.repo.index().map_err(Error::git(ctx()))?;
        if index.has_conflicts() {
            return Err(Error::IndexConflicts);
        }
        let changes = self.worktree_changes()?;
        let modes = Modes {
            trust_exec_bit: self.config_bool("core.filemode").unwrap_or(true),
            symlinks: self.config_bool("core.symlinks").unwrap_or(true),
        };
        let autocrlf = self.config_string("core.autocrlf").is_some_and(|v| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "false" | "no" | "off" | "0" | ""
            )
        });
        let edited = changes.into_iter().try_for_each(|(path, change)| {
            let rel = &as_path(&path);
            let stored = match change {
                Change::Deleted => WorkFile::Gone,
                Change::Modified => self.store_work_file(rel, &workdir.join(rel), autocrlf)?,
            };
            let old = index.get_path(rel, 0);
            let (blob, mode) = match stored {
                WorkFile::Gone => {
                    if old.is_some() {
                        index.remove_path(rel).map_err(Error::git(ctx()))?;
                    }
                    return Ok(());
                }
                WorkFile::Link { blob } => (blob, MODE_LINK),
                WorkFile::File { blob, executable } => (
                    blob,
                    modes.of_file(executable, old.as_ref().map(|e| e.mode)),
                ),
            };
            let entry = entry(old, path, blob, mode);
            index.add(&entry).map_err(Error::git(ctx()))
        });
        let tree = edited.and_then(|()| index.write_tree().map_err(Error::git(ctx())));
        // Reload so nothing else in this process sees the edited in-memory index.
        let _ = index.read(true);
        let tree = tree?;
        let head = self.head();
        let head_tree = head
            .as_ref()
            .and_then(|(c, _)| self.repo.find_commit(super::oid(*c)).ok())
            .map(|c| c.tree_id());
        let dirty = head_tree != Some(tree);
        let tree = id(tree);
        let (head, branch) = match head {
            Some((c, b)) => (Some(c), b),
            None => (None, None),
        };
        Ok(Snapshot {
            head,
            branch,
            tree,
            dirty,
        })
    }

    /// Tracked paths whose working-tree file differs from the index.
    fn worktree_changes(&self) -> Result<Vec<(Vec<u8>, Change)>> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let mut attempt = 1;
        let statuses = loop {
            match self.repo.statuses(Some(&mut opts)) {
                Ok(s) => break s,
                Err(_) if attempt < STATUS_ATTEMPTS => {
                    std::thread::sleep(std::time::Duration::from_millis(1 << attempt));
                    attempt += 1;
                }
                Err(e) => return Err(Error::git("cannot snapshot the working tree")(e)),
            }
        };
        Ok(statuses
            .iter()
            .filter_map(|entry| {
                let path = entry.path_bytes().to_vec();
                let s = entry.status();
                if s.intersects(Status::WT_DELETED) {
                    Some((path, Change::Deleted))
                } else if s
                    .intersects(Status::WT_MODIFIED | Status::WT_TYPECHANGE | Status::WT_RENAMED)
                {
                    Some((path, Change::Modified))
                } else {
                    None
                }
            })
            .collect())
    }
}

/// How modes are recorded, as `core.filemode` and `core.symlinks` say.
struct Modes {
    trust_exec_bit: bool,
    symlinks: bool,
}

impl Modes {
    /// The mode of a regular file on disk whose index entry has mode `old`.
    fn of_file(&self, executable: bool, old: Option<u32>) -> u32 {
        match old {
            // Without symlinks, a link is checked out as a file holding its target.
            Some(MODE_LINK) if !self.symlinks => MODE_LINK,
            Some(m @ (MODE_FILE | MODE_EXECUTABLE)) if !self.trust_exec_bit => m,
            _ if !self.trust_exec_bit => MODE_FILE,
            _ if executable => MODE_EXECUTABLE,
            _ => MODE_FILE,
        }
    }
}

/// The index entry for `path` with new content: the old entry's flags kept (an
/// intent-to-add entry becomes a real one), stat data left empty, since this index
/// is never written.
fn entry(old: Option<IndexEntry>, path: Vec<u8>, blob: git2::Oid, mode: u32) -> IndexEntry {
    let zero = IndexTime::new(0, 0);
    let (flags, flags_extended) = old
        .map(|e| (e.flags & !STAGE_MASK, e.flags_extended & !INTENT_TO_ADD))
        .unwrap_or((0, 0));
    IndexEntry {
        ctime: zero,
        mtime: zero,
        dev: 0,
        ino: 0,
        mode,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: blob,
        flags,
        flags_extended,
        path,
    }
}

/// A path from libgit2 as a `Path`: any bytes on Unix, UTF-8 elsewhere.
#[cfg(unix)]
fn as_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(bytes)).to_path_buf()
}

#[cfg(not(unix))]
fn as_path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The blob and mode `snapshot` recorded at `path`, if any.
    fn entry_of(store: &Store, s: &Snapshot, path: &str) -> Option<(Vec<u8>, i32)> {
        let repo = store.raw();
        let tree = repo.find_tree(super::super::oid(s.tree)).unwrap();
        let e = tree.get_path(Path::new(path)).ok()?;
        let blob = repo.find_blob(e.id()).unwrap();
        Some((blob.content().to_vec(), e.filemode()))
    }

    #[test]
    fn files_rewritten_or_removed_meanwhile_never_fail_a_snapshot() {
        let (d, store) = temp_store();
        let mirror = d.path().join("review/s");
        std::fs::create_dir_all(&mirror).unwrap();
        std::fs::write(mirror.join("manifest.json"), "{}").unwrap();
        std::fs::write(mirror.join("card.md"), "# card\n").unwrap();
        store.commit_all("mirror").unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let (m, card) = (mirror.join("manifest.json"), mirror.join("card.md"));
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let body = "x".repeat(1 + i % 97);
                    // as write_mirror does it, through a rename ...
                    let tmp = mirror.join(".tmp");
                    std::fs::write(&tmp, &body).unwrap();
                    std::fs::rename(&tmp, &m).unwrap();
                    // ... in place, and removed and written again
                    std::fs::write(&card, body.repeat(50)).unwrap();
                    if i.is_multiple_of(3) {
                        let _ = std::fs::remove_file(&card);
                    }
                }
            });
            // Stops the writer however this thread ends, a failed assertion included.
            struct Stop<'a>(&'a AtomicBool);
            impl Drop for Stop<'_> {
                fn drop(&mut self) {
                    self.0.store(true, Ordering::Relaxed);
                }
            }
            let _stop = Stop(&stop);
            for _ in 0..300 {
                let s = store.snapshot().expect("a snapshot despite the writer");
                // What was recorded is what a read found: a whole file of the writer's.
                let (bytes, mode) = entry_of(&store, &s, "review/s/manifest.json").unwrap();
                assert_eq!(mode, 0o100644);
                assert!(bytes == b"{}" || (!bytes.is_empty() && bytes.iter().all(|b| *b == b'x')));
                assert_eq!(entry_of(&store, &s, "file.txt").unwrap().0, b"hello\n");
            }
        });
        // The index on disk is untouched.
        let index = git2::Index::open(&store.raw().path().join("index")).unwrap();
        let e = index
            .get_path(Path::new("review/s/manifest.json"), 0)
            .unwrap();
        assert_eq!(store.raw().find_blob(e.id).unwrap().content(), b"{}");
    }

    #[cfg(unix)]
    #[test]
    fn records_content_modes_links_and_deletions_as_git_add_would() {
        use std::os::unix::fs::PermissionsExt;
        let (d, store) = temp_store();
        let p = |rel: &str| d.path().join(rel);
        std::fs::write(p("run.sh"), "echo hi\n").unwrap();
        std::fs::write(p("gone.txt"), "soon gone\n").unwrap();
        std::fs::write(p("link-target.txt"), "target\n").unwrap();
        std::os::unix::fs::symlink("link-target.txt", p("link")).unwrap();
        store.commit_all("files").unwrap();
        let clean = store.snapshot().unwrap();
        assert!(!clean.dirty);

        std::fs::write(p("file.txt"), "edited\n").unwrap();
        std::fs::set_permissions(p("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::remove_file(p("gone.txt")).unwrap();
        std::fs::remove_file(p("link")).unwrap();
        std::os::unix::fs::symlink("elsewhere", p("link")).unwrap();
        std::fs::write(p("untracked.txt"), "not in the snapshot\n").unwrap();
        let s = store.snapshot().unwrap();
        assert!(s.dirty);
        assert_eq!(
            entry_of(&store, &s, "file.txt").unwrap(),
            (b"edited\n".to_vec(), 0o100644)
        );
        assert_eq!(
            entry_of(&store, &s, "run.sh").unwrap(),
            (b"echo hi\n".to_vec(), 0o100755)
        );
        assert_eq!(
            entry_of(&store, &s, "link").unwrap(),
            (b"elsewhere".to_vec(), 0o120000)
        );
        assert_eq!(entry_of(&store, &s, "gone.txt"), None);
        assert_eq!(entry_of(&store, &s, "untracked.txt"), None);

        // Without core.filemode the executable bit on disk is not trusted.
        store
            .raw()
            .config()
            .unwrap()
            .set_bool("core.filemode", false)
            .unwrap();
        std::fs::write(p("run.sh"), "echo edited\n").unwrap();
        let s = store.snapshot().unwrap();
        assert_eq!(
            entry_of(&store, &s, "run.sh").unwrap(),
            (b"echo edited\n".to_vec(), 0o100644)
        );
    }

    #[test]
    fn content_goes_through_the_filters_its_attributes_select() {
        let (d, store) = temp_store();
        std::fs::write(d.path().join(".gitattributes"), "*.txt text eol=lf\n").unwrap();
        std::fs::write(d.path().join("data.csv"), "a\r\n").unwrap();
        store.commit_all("attributes").unwrap();
        std::fs::write(d.path().join("file.txt"), "one\r\ntwo\r\n").unwrap();
        std::fs::write(d.path().join("data.csv"), "a\r\nb\r\n").unwrap();
        let s = store.snapshot().unwrap();
        assert_eq!(entry_of(&store, &s, "file.txt").unwrap().0, b"one\ntwo\n");
        assert_eq!(entry_of(&store, &s, "data.csv").unwrap().0, b"a\r\nb\r\n");
    }
}
