//! The snapshot of the working state a run executes on: the tree of every tracked
//! file as it is on disk, uncommitted edits included. It is built on an in-memory copy
//! of the index and never written back, so the user's index is untouched.

use super::Store;
use crate::error::{Error, Result};
use git2::{Oid, Status, StatusOptions};
use std::path::Path;

/// The code state a run executed on.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub head: Option<Oid>,
    pub branch: Option<String>,
    pub tree: Oid,
    /// The working state differs from HEAD's tree.
    pub dirty: bool,
}

impl Store {
    /// Writes the snapshot tree of tracked files as they are on disk.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let ctx = || "cannot snapshot the working tree".to_string();
        let workdir = self.workdir("run")?;
        let mut index = self.repo.index().map_err(Error::git(ctx()))?;
        if index.has_conflicts() {
            return Err(Error::input("the index has unresolved merge conflicts")
                .hint("resolve them (git status) before running a stage"));
        }
        let mut opts = StatusOptions::new();
        opts.include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(Error::git(ctx()))?;
        for entry in statuses.iter() {
            let Ok(path) = entry.path() else { continue };
            let s = entry.status();
            if s.intersects(Status::WT_DELETED) {
                index
                    .remove_path(Path::new(path))
                    .map_err(Error::git(ctx()))?;
            } else if s.intersects(Status::WT_MODIFIED | Status::WT_TYPECHANGE | Status::WT_RENAMED)
                && workdir.join(path).symlink_metadata().is_ok()
            {
                index.add_path(Path::new(path)).map_err(Error::git(ctx()))?;
            }
        }
        let tree = index.write_tree().map_err(Error::git(ctx()))?;
        // Reload so nothing else in this process sees the edited in-memory index.
        let _ = index.read(true);
        let head = self.head();
        let head_tree = head
            .as_ref()
            .and_then(|(c, _)| self.repo.find_commit(*c).ok())
            .map(|c| c.tree_id());
        let dirty = head_tree != Some(tree);
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
}
