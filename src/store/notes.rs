//! The notes index, `refs/notes/workbench`: one JSON line per event on the code commit
//! a run executed at.
//!
//! libgit2's note API (and `git notes add`) force-write the notes ref and lose notes
//! under concurrency, so every edit here reads the ref, edits the tree, writes a
//! commit and moves the ref with the store's compare-and-swap, retrying on
//! contention (`edit_notes`).

use super::cas::{Cas, RefUpdate};
use super::error::{Error, Result};
use super::notes_journal::DIRECT_MAX;
use super::notes_tree;
use super::refs::NOTES_REF;
use super::{id, oid, Store};
use crate::model::event::NoteEvent;
use crate::model::note_blob;
use crate::model::ObjectId;
use git2::{FileMode, Oid};

/// What one attempt of a notes edit decided.
pub(super) enum Edit<T> {
    /// Nothing to write.
    Unchanged(T),
    /// A new notes commit with this tree, on top of the current one (and of
    /// `merged`, for a merge).
    Tree {
        tree: Oid,
        merged: Option<Oid>,
        value: T,
    },
    /// Move the ref to an existing notes commit (a fast-forward).
    To { commit: Oid, value: T },
}

impl Store {
    pub(super) fn notes_tree(&self) -> Result<Option<git2::Tree<'_>>> {
        match self.repo.find_reference(NOTES_REF) {
            Ok(r) => r
                .peel_to_tree()
                .map(Some)
                .map_err(Error::git(format!("cannot read {NOTES_REF}"))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(Error::git(format!("cannot read {NOTES_REF}"))(e)),
        }
    }

    /// The lines of the workbench note on `target`, if any, with the journal's lines
    /// not folded yet (`notes_journal`).
    pub fn note_lines(&self, target: ObjectId) -> Result<Vec<String>> {
        let mut lines = match self.notes_tree()? {
            None => Vec::new(),
            Some(tree) => match notes_tree::find(&tree, oid(target)) {
                Some((_, blob)) => notes_tree::lines(&self.repo, blob)
                    .map_err(Error::git(format!("cannot read the note on {target}")))?,
                None => Vec::new(),
            },
        };
        let pending = self.journal_lines_for(oid(target))?;
        if !pending.is_empty() {
            let mut seen: std::collections::HashSet<String> = lines.iter().cloned().collect();
            lines.extend(pending.into_iter().filter(|l| seen.insert(l.clone())));
        }
        Ok(lines)
    }

    /// The events of the note on `target` that parse; malformed lines are skipped.
    pub fn note_events(&self, target: ObjectId) -> Result<Vec<NoteEvent>> {
        Ok(self
            .note_lines(target)?
            .iter()
            .filter_map(|l| NoteEvent::parse(l).ok())
            .collect())
    }

    /// One compare-and-swap edit of the notes index, retried until it goes through:
    /// `edit` sees the current notes tree (empty when there is no index yet).
    pub(super) fn edit_notes<T>(
        &self,
        what: &str,
        message: &str,
        mut edit: impl FnMut(&git2::Tree) -> Result<Edit<T>>,
    ) -> Result<T> {
        let ctx = || format!("cannot update {NOTES_REF}");
        self.retry(NOTES_REF, what, || {
            let old = match self.repo.refname_to_id(NOTES_REF) {
                Ok(o) => Some(o),
                Err(e) if e.code() == git2::ErrorCode::NotFound => None,
                Err(e) => return Err(Error::git(ctx())(e)),
            };
            let parent = match old {
                Some(o) => Some(self.find_commit(o, ctx)?),
                None => None,
            };
            let base = match &parent {
                Some(c) => c.tree().map_err(Error::git(ctx()))?,
                None => self
                    .repo
                    .find_tree(self.empty_tree()?)
                    .map_err(Error::git(ctx()))?,
            };
            let (new, value) = match edit(&base)? {
                Edit::Unchanged(v) => return Ok(Ok(v)),
                Edit::To { commit, value } => (commit, value),
                Edit::Tree {
                    tree,
                    merged,
                    value,
                } => {
                    let tree = self.repo.find_tree(tree).map_err(Error::git(ctx()))?;
                    let other = match merged {
                        Some(m) => Some(self.find_commit(m, ctx)?),
                        None => None,
                    };
                    let parents: Vec<&git2::Commit> = parent.iter().chain(other.iter()).collect();
                    let sig = self.signature()?;
                    let c = self
                        .repo
                        .commit(None, &sig, &sig, message, &tree, &parents)
                        .map_err(Error::git(ctx()))?;
                    (c, value)
                }
            };
            match self.compare_and_swap(&[RefUpdate::new(NOTES_REF, old, new)], message) {
                Ok(()) => Ok(Ok(value)),
                Err(Cas::Failed(e)) => Err(e),
                Err(lost) => Ok(Err(lost)),
            }
        })
    }

    /// Appends `line` to the note on `target` unless the note already has it: directly
    /// while the note is small and the journal empty, else through the journal
    /// (`notes_journal`), so a large note is not rewritten on every append.
    pub fn append_note_line(&self, target: ObjectId, line: &str, message: &str) -> Result<()> {
        let target = oid(target);
        let ctx = || format!("cannot update {NOTES_REF} for {target}");
        let size = match self.notes_tree()? {
            Some(tree) => match notes_tree::find(&tree, target) {
                Some((_, blob)) => {
                    let odb = self.repo.odb().map_err(Error::git(ctx()))?;
                    odb.read_header(blob).map_err(Error::git(ctx()))?.0 as u64
                }
                None => 0,
            },
            None => 0,
        };
        if size >= DIRECT_MAX || self.journal_len() > 0 {
            return self.journal_append(target, line, size, message);
        }
        let what = format!("the note for {target} was not written");
        self.edit_notes(&what, message, |base| {
            let (path, old) = match notes_tree::find(base, target) {
                Some((path, blob)) => {
                    let b = self.repo.find_blob(blob).map_err(Error::git(ctx()))?;
                    (path, b.content().to_vec())
                }
                None => (notes_tree::new_path(&self.repo, base, target), Vec::new()),
            };
            let Some(content) = note_blob::append_line(&old, line) else {
                return Ok(Edit::Unchanged(()));
            };
            let blob = self.repo.blob(&content).map_err(Error::git(ctx()))?;
            let mut upd = git2::build::TreeUpdateBuilder::new();
            upd.upsert(path.as_str(), blob, FileMode::Blob);
            let tree = upd
                .create_updated(&self.repo, base)
                .map_err(Error::git(ctx()))?;
            Ok(Edit::Tree {
                tree,
                merged: None,
                value: (),
            })
        })
    }

    /// Moves the note on `from` to `to`, unioning it with `to`'s lines; one
    /// compare-and-swap update (after folding the journal). Returns how many lines
    /// `to` gained.
    pub fn move_note(&self, from: ObjectId, to: ObjectId, message: &str) -> Result<usize> {
        self.fold_notes_journal(message)?;
        let (from, to) = (oid(from), oid(to));
        let ctx = || format!("cannot move the note of {from} to {to}");
        self.edit_notes("nothing was moved", message, |base| {
            let Some((from_path, from_blob)) = notes_tree::find(base, from) else {
                return Ok(Edit::Unchanged(0));
            };
            let moved = notes_tree::lines(&self.repo, from_blob).map_err(Error::git(ctx()))?;
            let (to_path, mut lines) = match notes_tree::find(base, to) {
                Some((p, b)) => (
                    p,
                    notes_tree::lines(&self.repo, b).map_err(Error::git(ctx()))?,
                ),
                None => (notes_tree::new_path(&self.repo, base, to), Vec::new()),
            };
            let before = lines.len();
            for l in moved {
                if !lines.contains(&l) {
                    lines.push(l);
                }
            }
            let blob = self
                .repo
                .blob(notes_tree::content(&lines).as_bytes())
                .map_err(Error::git(ctx()))?;
            let mut upd = git2::build::TreeUpdateBuilder::new();
            upd.remove(from_path.as_str());
            upd.upsert(to_path.as_str(), blob, FileMode::Blob);
            let tree = upd
                .create_updated(&self.repo, base)
                .map_err(Error::git(ctx()))?;
            Ok(Edit::Tree {
                tree,
                merged: None,
                value: lines.len() - before,
            })
        })
    }

    /// Annotated commits of the notes index that no branch or tag reaches (after a
    /// squash merge or a deleted branch), with their line counts.
    pub fn orphaned_notes(&self) -> Result<Vec<(ObjectId, usize)>> {
        let Some(tree) = self.notes_tree()? else {
            return Ok(Vec::new());
        };
        let mut walk = self
            .repo
            .revwalk()
            .map_err(Error::git("cannot walk history"))?;
        for r in self
            .repo
            .references()
            .map_err(Error::git("cannot list refs"))?
            .flatten()
        {
            let name = r.name().unwrap_or_default();
            if name.starts_with("refs/heads/")
                || name.starts_with("refs/tags/")
                || name.starts_with("refs/remotes/")
            {
                if let Ok(c) = r.peel_to_commit() {
                    let _ = walk.push(c.id());
                }
            }
        }
        if let Ok(h) = self.repo.head().and_then(|h| h.peel_to_commit()) {
            let _ = walk.push(h.id());
        }
        let reachable: std::collections::HashSet<Oid> = walk.flatten().collect();
        let mut out = Vec::new();
        // Lines still in the journal count as the note's.
        let mut pending: std::collections::BTreeMap<ObjectId, usize> =
            self.journal_targets()?.into_iter().collect();
        for (target, blob) in notes_tree::all(&tree)
            .map_err(Error::git("cannot walk the notes tree"))?
            .into_values()
        {
            let more = pending.remove(&id(target)).unwrap_or(0);
            if !reachable.contains(&target) {
                let lines = notes_tree::lines(&self.repo, blob).map_or(0, |l| l.len());
                out.push((id(target), lines + more));
            }
        }
        for (target, lines) in pending {
            if !reachable.contains(&oid(target)) {
                out.push((target, lines));
            }
        }
        Ok(out)
    }

    /// The commit on HEAD's first-parent history (newest first) whose tree is `tree`.
    pub fn landed_commit_with_tree(&self, tree: ObjectId) -> Option<ObjectId> {
        let mut c = self.repo.head().ok()?.peel_to_commit().ok()?;
        for _ in 0..100_000 {
            if c.tree_id() == oid(tree) {
                return Some(id(c.id()));
            }
            c = c.parent(0).ok()?;
        }
        None
    }

    /// The tree of a commit.
    pub fn tree_of_commit(&self, commit: ObjectId) -> Option<ObjectId> {
        self.repo
            .find_commit(oid(commit))
            .ok()
            .map(|c| id(c.tree_id()))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::testing::temp_store;

    #[test]
    fn appends_are_idempotent_and_moves_union() {
        let (_d, store) = temp_store();
        let (head, _) = store.head().unwrap();
        store.append_note_line(head, "{\"a\":1}", "m").unwrap();
        store.append_note_line(head, "{\"a\":1}", "m").unwrap();
        store.append_note_line(head, "{\"b\":2}", "m").unwrap();
        assert_eq!(store.note_lines(head).unwrap(), ["{\"a\":1}", "{\"b\":2}"]);
        let other = store.tree_of_commit(head).unwrap(); // any other object id
        store.append_note_line(other, "{\"b\":2}", "m").unwrap();
        assert_eq!(store.move_note(head, other, "move").unwrap(), 1);
        assert!(store.note_lines(head).unwrap().is_empty());
        assert_eq!(store.note_lines(other).unwrap(), ["{\"b\":2}", "{\"a\":1}"]);
        assert_eq!(store.move_note(head, other, "again").unwrap(), 0);
        // each edit is one commit on the notes ref, with a reflog entry
        let log = store.raw().reflog(crate::store::refs::NOTES_REF).unwrap();
        assert_eq!(log.len(), 4);
    }

    #[test]
    fn concurrent_appenders_lose_no_line() {
        let (d, store) = temp_store();
        let (head, _) = store.head().unwrap();
        drop(store);
        std::thread::scope(|s| {
            for t in 0..4 {
                let path = d.path().to_path_buf();
                s.spawn(move || {
                    let store = crate::store::Store::open(&path).unwrap();
                    for i in 0..15 {
                        store
                            .append_note_line(head, &format!("{{\"t\":{t},\"i\":{i}}}"), "m")
                            .unwrap();
                    }
                });
            }
        });
        let store = crate::store::Store::open(d.path()).unwrap();
        assert_eq!(store.note_lines(head).unwrap().len(), 60);
    }
}
