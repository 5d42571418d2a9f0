//! The snapshot of the working state a run executes on: the tree of every tracked
//! file as it is on disk, uncommitted edits included. It is built on an in-memory copy
//! of the index and never written back, so the user's index is untouched.

use super::error::{Error, Result};
use super::{id, Store};
use crate::model::ObjectId;
use git2::{Status, StatusOptions};
use std::path::Path;

/// The code state a run executed on.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub head: Option<ObjectId>,
    pub branch: Option<String>,
    pub tree: ObjectId,
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
            return Err(Error::IndexConflicts);
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
}
