//! The notes journal, `<git-common-dir>/workbench/notes-journal`: index lines waiting
//! to be folded into `refs/notes/workbench`, so that appending to a large note does not
//! rewrite it each time.
//!
//! A note is one blob: appending a line to a note of n lines writes n lines again. A
//! sweep of thousands of runs on one commit made every run pay for all the earlier
//! ones (quadratic in total). So a line for a note that is already large
//! (`DIRECT_MAX`), or while the journal holds lines, is appended to the journal
//! (`<annotated id> <line>`, one `write` under a shared lock), and the journal is
//! folded into the notes ref once it holds a quarter of the largest note it touches
//! (at least `DIRECT_MAX`): every byte of a note is rewritten a bounded number of
//! times, so a run's cost stays flat. Small notes (the usual case: a few runs per
//! commit) are written directly, as before.
//!
//! The journal is local and derived: the run records are written first, every reader
//! of notes (`Store::note_lines`) adds the journal's lines, and `push`, `sync` and
//! `notes repair` fold it before they use the notes ref. A fold moves the notes ref
//! with compare-and-swap and only then empties the journal, under an exclusive lock:
//! killed in between, the next fold writes the same lines again, which changes nothing
//! (a note never holds a line twice).

use super::error::{Error, Result};
use super::notes::Edit;
use super::notes_tree;
use super::{id, Store};
use crate::model::note_blob;
use crate::model::ObjectId;
use git2::{FileMode, Oid};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;

/// Notes up to this size are rewritten directly; larger ones go through the journal.
pub(super) const DIRECT_MAX: u64 = 64 * 1024;

impl Store {
    fn journal_path(&self) -> PathBuf {
        self.private_dir().join("notes-journal")
    }

    fn open_journal(&self) -> Result<File> {
        let path = self.journal_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        }
        OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(Error::io(&path))
    }

    /// The size of the journal, 0 when there is none.
    pub(super) fn journal_len(&self) -> u64 {
        std::fs::metadata(self.journal_path()).map_or(0, |m| m.len())
    }

    /// Appends `line` for `target` to the journal, then folds the journal when it has
    /// grown to a quarter of `note_size` (the size of `target`'s note).
    pub(super) fn journal_append(
        &self,
        target: Oid,
        line: &str,
        note_size: u64,
        message: &str,
    ) -> Result<()> {
        let path = self.journal_path();
        let mut f = self.open_journal()?;
        f.lock_shared().map_err(Error::io(&path))?;
        // One write of one line: appends of concurrent writers never interleave.
        let entry = format!("{target} {line}\n");
        let written = f.write_all(entry.as_bytes()).map_err(Error::io(&path));
        let len = f.metadata().map_or(0, |m| m.len());
        drop(f);
        written?;
        if len >= DIRECT_MAX.max(note_size / 4) {
            self.fold_notes_journal(message)?;
        }
        Ok(())
    }

    /// The journal's lines, by annotated object, in the order they were appended.
    /// Lines that do not parse (a write cut short) are skipped.
    fn journal_lines(&self, file: &mut File) -> Result<BTreeMap<Oid, Vec<String>>> {
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .map_err(Error::io(&self.journal_path()))?;
        let mut out: BTreeMap<Oid, Vec<String>> = BTreeMap::new();
        for raw in text.split(|b| *b == b'\n') {
            let Ok(raw) = std::str::from_utf8(raw) else {
                continue;
            };
            let Some((hex, line)) = raw.split_once(' ') else {
                continue;
            };
            let (Ok(target), true) = (Oid::from_str(hex), hex.len() == 40) else {
                continue;
            };
            if line.is_empty() || !line.starts_with('{') || !line.ends_with('}') {
                continue;
            }
            out.entry(target).or_default().push(line.to_string());
        }
        Ok(out)
    }

    /// Every line the journal holds, read under a shared lock (none without a
    /// journal).
    fn pending(&self) -> Result<BTreeMap<Oid, Vec<String>>> {
        let path = self.journal_path();
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(Error::io(&path)(e)),
        };
        f.lock_shared().map_err(Error::io(&path))?;
        self.journal_lines(&mut f)
    }

    /// The journal's lines for `target`.
    pub(super) fn journal_lines_for(&self, target: Oid) -> Result<Vec<String>> {
        Ok(self.pending()?.remove(&target).unwrap_or_default())
    }

    /// The annotated objects the journal holds lines for, with their line counts.
    pub(super) fn journal_targets(&self) -> Result<Vec<(ObjectId, usize)>> {
        Ok(self
            .pending()?
            .into_iter()
            .map(|(t, l)| (id(t), l.len()))
            .collect())
    }

    /// Folds the journal into the notes ref: one compare-and-swap commit with every
    /// journal line added to its note (lines a note already has are not added again),
    /// then the journal is emptied. Returns how many lines the notes gained.
    pub fn fold_notes_journal(&self, message: &str) -> Result<usize> {
        if self.journal_len() == 0 {
            return Ok(0);
        }
        let path = self.journal_path();
        let mut f = self.open_journal()?;
        f.lock().map_err(Error::io(&path))?;
        let pending = self.journal_lines(&mut f)?;
        let ctx = || "cannot fold the notes journal".to_string();
        let added = if pending.is_empty() {
            0
        } else {
            self.edit_notes("the journal's lines stay in the journal", message, |base| {
                let mut upd = git2::build::TreeUpdateBuilder::new();
                let mut added = 0;
                for (target, lines) in &pending {
                    let (path, old) = match notes_tree::find(base, *target) {
                        Some((path, blob)) => {
                            let b = self.repo.find_blob(blob).map_err(Error::git(ctx()))?;
                            (path, b.content().to_vec())
                        }
                        None => (notes_tree::new_path(&self.repo, base, *target), Vec::new()),
                    };
                    let (content, n) = note_blob::append_lines(&old, lines);
                    if n == 0 {
                        continue;
                    }
                    added += n;
                    let blob = self.repo.blob(&content).map_err(Error::git(ctx()))?;
                    upd.upsert(path.as_str(), blob, FileMode::Blob);
                }
                if added == 0 {
                    return Ok(Edit::Unchanged(0));
                }
                let tree = upd
                    .create_updated(&self.repo, base)
                    .map_err(Error::git(ctx()))?;
                Ok(Edit::Tree {
                    tree,
                    merged: None,
                    value: added,
                })
            })?
        };
        // The notes ref has every line now: only then is the journal emptied.
        f.set_len(0).map_err(Error::io(&path))?;
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    fn big_line() -> String {
        format!("{{\"pad\":\"{}\"}}", "x".repeat(DIRECT_MAX as usize))
    }

    fn notes_ref_lines(store: &Store, target: ObjectId) -> Vec<String> {
        let tree = store.notes_tree().unwrap().unwrap();
        let (_, blob) = notes_tree::find(&tree, super::super::oid(target)).unwrap();
        notes_tree::lines(&store.repo, blob).unwrap()
    }

    #[test]
    fn a_large_note_takes_lines_through_the_journal_and_folds_them_once() {
        let (_d, store) = temp_store();
        let (head, _) = store.head().unwrap();
        store.append_note_line(head, &big_line(), "m").unwrap();
        assert_eq!(store.journal_len(), 0, "a small note is written directly");
        let commits = || {
            store
                .raw()
                .reflog(crate::store::refs::NOTES_REF)
                .unwrap()
                .len()
        };
        let before = commits();
        for i in 0..100 {
            store
                .append_note_line(head, &format!("{{\"i\":{i}}}"), "m")
                .unwrap();
        }
        store.append_note_line(head, "{\"i\":7}", "m").unwrap();
        assert_eq!(commits(), before, "no notes commit per append");
        assert!(store.journal_len() > 0);
        let all = store.note_lines(head).unwrap();
        assert_eq!(all.len(), 101, "readers see the journal's lines, once each");
        assert_eq!(store.journal_targets().unwrap(), [(head, 101)]);
        assert_eq!(notes_ref_lines(&store, head).len(), 1);
        assert_eq!(store.fold_notes_journal("fold").unwrap(), 100);
        assert_eq!(store.journal_len(), 0);
        assert_eq!(commits(), before + 1, "one commit for the whole fold");
        assert_eq!(notes_ref_lines(&store, head), all);
        assert_eq!(store.note_lines(head).unwrap(), all);
        // a fold with nothing to fold writes nothing
        assert_eq!(store.fold_notes_journal("fold").unwrap(), 0);
        assert_eq!(commits(), before + 1);
    }

    #[test]
    fn the_journal_folds_itself_once_it_holds_a_quarter_of_the_note() {
        let (_d, store) = temp_store();
        let (head, _) = store.head().unwrap();
        store.append_note_line(head, &big_line(), "m").unwrap();
        let line = |i: usize| format!("{{\"i\":{i},\"pad\":\"{}\"}}", "y".repeat(200));
        let mut i = 0;
        while store.journal_len() < DIRECT_MAX - 1000 {
            store.append_note_line(head, &line(i), "m").unwrap();
            i += 1;
        }
        // the next few appends cross the threshold and fold
        for _ in 0..10 {
            store.append_note_line(head, &line(i), "m").unwrap();
            i += 1;
        }
        assert!(store.journal_len() < DIRECT_MAX, "{}", store.journal_len());
        assert_eq!(store.note_lines(head).unwrap().len(), i + 1);
        assert!(notes_ref_lines(&store, head).len() > i / 2);
    }

    #[test]
    fn a_fold_cut_short_and_torn_lines_change_nothing() {
        let (_d, store) = temp_store();
        let (head, _) = store.head().unwrap();
        store.append_note_line(head, &big_line(), "m").unwrap();
        store.append_note_line(head, "{\"a\":1}", "m").unwrap();
        let journal = std::fs::read(store.journal_path()).unwrap();
        store.fold_notes_journal("fold").unwrap();
        // killed after the notes ref moved, before the journal was emptied: the same
        // lines again, a torn last write and junk
        let mut again = journal.clone();
        again.extend_from_slice(b"not a line\n0123 {\"short\":1}\n");
        again.extend_from_slice(format!("{head} {{\"torn\"").as_bytes());
        std::fs::write(store.journal_path(), &again).unwrap();
        assert_eq!(store.note_lines(head).unwrap().len(), 2);
        assert_eq!(store.fold_notes_journal("fold").unwrap(), 0);
        assert_eq!(store.journal_len(), 0);
        assert_eq!(notes_ref_lines(&store, head).len(), 2);
    }

    #[test]
    fn concurrent_appenders_and_folders_lose_no_line() {
        let (d, store) = temp_store();
        let (head, _) = store.head().unwrap();
        store.append_note_line(head, &big_line(), "m").unwrap();
        drop(store);
        std::thread::scope(|s| {
            for t in 0..4 {
                let path = d.path().to_path_buf();
                s.spawn(move || {
                    let store = Store::open(&path).unwrap();
                    for i in 0..40 {
                        let line = format!("{{\"t\":{t},\"i\":{i}}}");
                        store.append_note_line(head, &line, "m").unwrap();
                        if i % 10 == 9 {
                            store.fold_notes_journal("fold").unwrap();
                        }
                    }
                });
            }
        });
        let store = Store::open(d.path()).unwrap();
        assert_eq!(store.note_lines(head).unwrap().len(), 161);
        store.fold_notes_journal("fold").unwrap();
        assert_eq!(notes_ref_lines(&store, head).len(), 161);
    }
}
