//! Reading file content as git sees it: the staged blob (the index named by
//! `GIT_INDEX_FILE`, so plain `commit`, `commit -a` and `commit <paths>` all work),
//! a blob at a revision, and the name of the `workbench-narrative` attribute (evaluated
//! by `model::attributes` from committed files, `store::trees`).

use super::error::{Error, Result};
use super::{id, Store};
use crate::model::ObjectId;
use std::path::Path;

/// The attribute that marks narrative files in `.gitattributes`.
pub const NARRATIVE_ATTR: &str = "workbench-narrative";

impl Store {
    /// The staged content of `path`, if the index has it.
    pub fn staged_blob(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let index = self
            .repo
            .index()
            .map_err(Error::git("cannot read the index"))?;
        match index.get_path(Path::new(path), 0) {
            None => Ok(None),
            Some(e) => self
                .repo
                .find_blob(e.id)
                .map(|b| Some(b.content().to_vec()))
                .map_err(Error::git(format!("cannot read the staged {path}"))),
        }
    }

    /// Paths of every file in the tree of `rev`.
    pub fn paths_at(&self, rev: &str) -> Result<Vec<String>> {
        let tree = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
            .map_err(|e| self.bad_revision(rev, e))?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) {
                out.push(format!("{dir}{}", entry.name().unwrap_or_default()));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(Error::git(format!("cannot list the files of {rev}")))?;
        Ok(out)
    }

    /// The content of `path` in the tree of `rev`, if present.
    pub fn blob_at(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let tree = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
            .map_err(|e| self.bad_revision(rev, e))?;
        match tree.get_path(Path::new(path)) {
            Ok(e) => self
                .repo
                .find_blob(e.id())
                .map(|b| Some(b.content().to_vec()))
                .map_err(Error::git(format!("cannot read {path} at {rev}"))),
            Err(_) => Ok(None),
        }
    }
}

impl Store {
    /// The commit `rev` names.
    pub fn resolve_commit(&self, rev: &str) -> Result<ObjectId> {
        self.repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map(|c| id(c.id()))
            .map_err(|e| self.bad_revision(rev, e))
    }

    /// Commits reachable from `tip` but not from `base` (merges included), oldest first;
    /// just `tip` without a base.
    pub fn commits_in_range(&self, base: Option<&str>, tip: &str) -> Result<Vec<ObjectId>> {
        let tip_id = self.resolve_commit(tip)?;
        let Some(base) = base else {
            return Ok(vec![tip_id]);
        };
        let base_id = self.resolve_commit(base)?;
        let mut walk = self
            .repo
            .revwalk()
            .map_err(Error::git("cannot walk the history"))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
            .and_then(|_| walk.push(super::oid(tip_id)))
            .and_then(|_| walk.hide(super::oid(base_id)))
            .map_err(Error::git(format!("cannot walk {base}..{tip}")))?;
        walk.map(|r| r.map(id).map_err(Error::git("cannot walk the history")))
            .collect()
    }
}

/// A file found on the first-parent history: the commit that has it, and its content.
pub type FoundBlob = (ObjectId, Vec<u8>);

impl Store {
    /// A revision that does not resolve; on a branch without commits, say so.
    fn bad_revision(&self, rev: &str, e: git2::Error) -> Error {
        let unborn = e.code() == git2::ErrorCode::UnbornBranch
            || self
                .repo
                .head()
                .is_err_and(|h| h.code() == git2::ErrorCode::UnbornBranch);
        if unborn {
            return Error::UnbornBranch {
                what: format!("cannot resolve '{rev}'"),
            };
        }
        Error::BadRevision {
            rev: rev.to_string(),
            message: e.message().to_string(),
        }
    }
}

impl Store {
    fn tree_of(&self, rev: &str) -> Result<git2::Tree<'_>> {
        self.repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_tree())
            .map_err(|e| self.bad_revision(rev, e))
    }

    /// The names of the directories directly under `dir` in the tree of `rev`.
    pub fn subdirs_at(&self, rev: &str, dir: &str) -> Result<Vec<String>> {
        let tree = self.tree_of(rev)?;
        let Ok(entry) = tree.get_path(Path::new(dir)) else {
            return Ok(Vec::new());
        };
        let Ok(sub) = self.repo.find_tree(entry.id()) else {
            return Ok(Vec::new());
        };
        Ok(sub
            .iter()
            .filter(|e| e.kind() == Some(git2::ObjectType::Tree))
            .filter_map(|e| e.name().ok().map(str::to_string))
            .collect())
    }

    /// For each `(dir, file)`: the content of `dir/file` at `rev` or, when absent
    /// there, at the nearest first-parent ancestor that has it, with that commit's
    /// id. The search for a file stops where `dir` itself no longer exists.
    pub fn latest_on_first_parent(
        &self,
        rev: &str,
        wanted: &[(String, String)],
    ) -> Result<Vec<Option<FoundBlob>>> {
        let mut commit = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| self.bad_revision(rev, e))?;
        let mut found: Vec<Option<FoundBlob>> = vec![None; wanted.len()];
        let mut open: Vec<usize> = (0..wanted.len()).collect();
        while !open.is_empty() {
            let tree = commit.tree().map_err(Error::git(format!(
                "cannot read the tree of {}",
                commit.id()
            )))?;
            open.retain(|&i| {
                let (dir, file) = &wanted[i];
                if tree.get_path(Path::new(dir)).is_err() {
                    return false;
                }
                match tree.get_path(&Path::new(dir).join(file)) {
                    Ok(e) => match self.repo.find_blob(e.id()) {
                        Ok(b) => {
                            found[i] = Some((id(commit.id()), b.content().to_vec()));
                            false
                        }
                        Err(_) => true,
                    },
                    Err(_) => true,
                }
            });
            match commit.parent(0) {
                Ok(p) => commit = p,
                Err(_) => break,
            }
        }
        Ok(found)
    }
}
