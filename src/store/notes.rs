//! The notes index, `refs/notes/workbench`: one JSON line per event on the code commit
//! a run executed at.
//!
//! libgit2's note API (and `git notes add`) force-write the notes ref and lose notes
//! under concurrency, so appends here read the ref, edit the tree, write a commit and
//! move the ref with compare-and-swap, retrying on contention. New notes go to a
//! 2/38 fan-out path (what git uses from a few hundred notes on): libgit2 never fans
//! out on its own and a flat tree makes every lookup linear.

use super::refs::NOTES_REF;
use super::Store;
use crate::error::{Error, Result};
use git2::{FileMode, Oid};
use std::path::Path;

const MAX_ATTEMPTS: u32 = 400;

impl Store {
    /// The lines of the workbench note on `target`, if any.
    pub fn note_lines(&self, target: Oid) -> Result<Vec<String>> {
        let Some(tree) = self.notes_tree()? else {
            return Ok(Vec::new());
        };
        match find_note(&tree, target) {
            Some((_, blob)) => {
                let blob = self
                    .repo
                    .find_blob(blob)
                    .map_err(Error::git(format!("cannot read the note on {target}")))?;
                Ok(String::from_utf8_lossy(blob.content())
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect())
            }
            None => Ok(Vec::new()),
        }
    }

    fn notes_tree(&self) -> Result<Option<git2::Tree<'_>>> {
        match self.repo.find_reference(NOTES_REF) {
            Ok(r) => r
                .peel_to_tree()
                .map(Some)
                .map_err(Error::git(format!("cannot read {NOTES_REF}"))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::git(format!("cannot read {NOTES_REF}"))(e)),
        }
    }

    /// Appends `line` to the note on `target` unless the note already has it.
    pub fn append_note_line(&self, target: Oid, line: &str, message: &str) -> Result<()> {
        let ctx = || format!("cannot update {NOTES_REF} for {target}");
        for attempt in 0..MAX_ATTEMPTS {
            let old = match self.repo.refname_to_id(NOTES_REF) {
                Ok(o) => Some(o),
                Err(e) if e.code() == git2::ErrorCode::NotFound => None,
                Err(e) => return Err(Error::git(ctx())(e)),
            };
            let (base, parents) = match old {
                Some(o) => {
                    let c = self.repo.find_commit(o).map_err(Error::git(ctx()))?;
                    (c.tree().map_err(Error::git(ctx()))?, vec![c])
                }
                None => (
                    self.repo
                        .find_tree(self.empty_tree()?)
                        .map_err(Error::git(ctx()))?,
                    vec![],
                ),
            };
            let (path, mut content) = match find_note(&base, target) {
                Some((path, blob)) => {
                    let b = self.repo.find_blob(blob).map_err(Error::git(ctx()))?;
                    (path, b.content().to_vec())
                }
                None => (new_note_path(&self.repo, &base, target), Vec::new()),
            };
            if content.split(|b| *b == b'\n').any(|l| l == line.as_bytes()) {
                return Ok(());
            }
            if !content.is_empty() && !content.ends_with(b"\n") {
                content.push(b'\n');
            }
            content.extend_from_slice(line.as_bytes());
            content.push(b'\n');
            let blob = self.repo.blob(&content).map_err(Error::git(ctx()))?;
            let mut upd = git2::build::TreeUpdateBuilder::new();
            upd.upsert(path.as_str(), blob, FileMode::Blob);
            let tree_id = upd
                .create_updated(&self.repo, &base)
                .map_err(Error::git(ctx()))?;
            let tree = self.repo.find_tree(tree_id).map_err(Error::git(ctx()))?;
            let sig = self.signature()?;
            let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
            let commit = self
                .repo
                .commit(None, &sig, &sig, message, &tree, &parent_refs)
                .map_err(Error::git(ctx()))?;
            let _ = self.repo.reference_ensure_log(NOTES_REF);
            let moved = match old {
                Some(o) => self
                    .repo
                    .reference_matching(NOTES_REF, commit, true, o, message)
                    .map(|_| ()),
                None => self.create_ref_exclusive(NOTES_REF, commit, message),
            };
            match moved {
                Ok(_) => return Ok(()),
                Err(e) => self
                    .wait_to_retry(e, NOTES_REF, attempt)
                    .map_err(Error::git(ctx()))?,
            }
        }
        Err(Error::refused(format!(
            "{NOTES_REF} stayed busy through {MAX_ATTEMPTS} attempts; the note for {target} was not written"
        ))
        .hint("the run record itself is saved; retry later"))
    }
}

/// Finds the note for `target` at any fan-out git may have written.
fn find_note(tree: &git2::Tree, target: Oid) -> Option<(String, Oid)> {
    let hex = target.to_string();
    [
        hex.clone(),
        format!("{}/{}", &hex[..2], &hex[2..]),
        format!("{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..]),
        format!("{}/{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..6], &hex[6..]),
    ]
    .into_iter()
    .find_map(|p| {
        tree.get_path(Path::new(&p))
            .ok()
            .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
            .map(|e| (p, e.id()))
    })
}

/// Chooses the path for a new note, following the depth of fan-out the tree uses.
fn new_note_path(repo: &git2::Repository, tree: &git2::Tree, target: Oid) -> String {
    let hex = target.to_string();
    let is_fanout = |e: &git2::TreeEntry| {
        e.kind() == Some(git2::ObjectType::Tree)
            && e.name()
                .is_ok_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    let deeper = tree
        .iter()
        .find(|e| is_fanout(e))
        .and_then(|e| repo.find_tree(e.id()).ok())
        .is_some_and(|sub| sub.iter().any(|e| is_fanout(&e)));
    if deeper {
        format!("{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..])
    } else {
        format!("{}/{}", &hex[..2], &hex[2..])
    }
}

impl Store {
    /// Annotated commits of the notes index that no branch or tag reaches (after a
    /// squash merge or a deleted branch), with their line counts.
    pub fn orphaned_notes(&self) -> Result<Vec<(Oid, usize)>> {
        let Some(tree) = self.notes_tree()? else {
            return Ok(Vec::new());
        };
        let mut tips = Vec::new();
        for r in self
            .repo
            .references()
            .map_err(Error::git("cannot list refs"))?
            .flatten()
        {
            let name = r.name().unwrap_or_default().to_string();
            if name.starts_with("refs/heads/")
                || name.starts_with("refs/tags/")
                || name.starts_with("refs/remotes/")
            {
                if let Ok(c) = r.peel_to_commit() {
                    tips.push(c.id());
                }
            }
        }
        if let Ok(h) = self.repo.head().and_then(|h| h.peel_to_commit()) {
            tips.push(h.id());
        }
        let mut walk = self
            .repo
            .revwalk()
            .map_err(Error::git("cannot walk history"))?;
        for t in &tips {
            let _ = walk.push(*t);
        }
        let reachable: std::collections::HashSet<Oid> = walk.flatten().collect();
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(git2::ObjectType::Blob) {
                let hex = format!("{dir}{}", e.name().unwrap_or_default()).replace('/', "");
                if let Ok(target) = Oid::from_str(&hex) {
                    if hex.len() == 40 && !reachable.contains(&target) {
                        let lines = self
                            .repo
                            .find_blob(e.id())
                            .map(|b| {
                                b.content()
                                    .split(|c| *c == b'\n')
                                    .filter(|l| !l.is_empty())
                                    .count()
                            })
                            .unwrap_or(0);
                        out.push((target, lines));
                    }
                }
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(Error::git("cannot walk the notes tree"))?;
        Ok(out)
    }
}

impl Store {
    /// Moves the note on `from` to `to`, unioning it with `to`'s lines; one CAS update.
    pub fn move_note(&self, from: Oid, to: Oid, message: &str) -> Result<usize> {
        let ctx = || format!("cannot move the note of {from} to {to}");
        for attempt in 0..MAX_ATTEMPTS {
            let Ok(old) = self.repo.refname_to_id(NOTES_REF) else {
                return Ok(0);
            };
            let parent = self.repo.find_commit(old).map_err(Error::git(ctx()))?;
            let base = parent.tree().map_err(Error::git(ctx()))?;
            let Some((from_path, from_blob)) = find_note(&base, from) else {
                return Ok(0);
            };
            let read = |b: Oid| -> Result<Vec<String>> {
                let blob = self.repo.find_blob(b).map_err(Error::git(ctx()))?;
                Ok(String::from_utf8_lossy(blob.content())
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string)
                    .collect())
            };
            let moved = read(from_blob)?;
            let (to_path, mut lines) = match find_note(&base, to) {
                Some((p, b)) => (p, read(b)?),
                None => (new_note_path(&self.repo, &base, to), Vec::new()),
            };
            let before = lines.len();
            for l in &moved {
                if !lines.contains(l) {
                    lines.push(l.clone());
                }
            }
            let mut content = lines.join("\n");
            content.push('\n');
            let blob = self
                .repo
                .blob(content.as_bytes())
                .map_err(Error::git(ctx()))?;
            let mut upd = git2::build::TreeUpdateBuilder::new();
            upd.remove(from_path.as_str());
            upd.upsert(to_path.as_str(), blob, FileMode::Blob);
            let tree_id = upd
                .create_updated(&self.repo, &base)
                .map_err(Error::git(ctx()))?;
            let tree = self.repo.find_tree(tree_id).map_err(Error::git(ctx()))?;
            let sig = self.signature()?;
            let commit = self
                .repo
                .commit(None, &sig, &sig, message, &tree, &[&parent])
                .map_err(Error::git(ctx()))?;
            match self
                .repo
                .reference_matching(NOTES_REF, commit, true, old, message)
            {
                Ok(_) => return Ok(lines.len() - before),
                Err(e) => self
                    .wait_to_retry(e, NOTES_REF, attempt)
                    .map_err(Error::git(ctx()))?,
            }
        }
        Err(Error::refused(format!(
            "{NOTES_REF} stayed busy; nothing was moved"
        )))
    }

    /// The commit on HEAD's first-parent history (newest first) whose tree is `tree`.
    pub fn landed_commit_with_tree(&self, tree: Oid) -> Option<Oid> {
        let mut c = self.repo.head().ok()?.peel_to_commit().ok()?;
        for _ in 0..100_000 {
            if c.tree_id() == tree {
                return Some(c.id());
            }
            c = c.parent(0).ok()?;
        }
        None
    }

    /// The tree of a commit.
    pub fn tree_of_commit(&self, commit: Oid) -> Option<Oid> {
        self.repo.find_commit(commit).ok().map(|c| c.tree_id())
    }
}
