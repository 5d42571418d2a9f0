//! Merging a remote's notes index: a set union of JSON lines per annotated commit, in
//! one compare-and-swap edit of the local index. Lines that are not JSON objects are
//! skipped and named; the good ones always stay.

use super::super::error::{Error, Result};
use super::super::notes::Edit;
use super::super::notes_tree;
use super::super::Store;
use super::{tracking_notes, MergeReport};
use crate::model::note_blob;
use git2::FileMode;

impl Store {
    pub(super) fn merge_notes(&self, remote: &str, report: &mut MergeReport) -> Result<()> {
        let Some(theirs) = self
            .ref_target(&tracking_notes(remote))
            .map(super::super::oid)
        else {
            return Ok(());
        };
        let ctx = || format!("cannot merge the notes index from {remote}");
        let their_tree = self
            .find_commit(theirs, ctx)?
            .tree()
            .map_err(Error::git(ctx()))?;
        let their_notes = notes_tree::all(&their_tree).map_err(Error::git(ctx()))?;
        let msg = format!("workbench: merged the notes index from {remote}");
        let (added, bad) = self.edit_notes("the notes were not merged", &msg, |base| {
            let ours = self
                .ref_target(super::super::refs::NOTES_REF)
                .map(super::super::oid);
            if ours.is_some_and(|o| o == theirs || self.descends(o, theirs)) {
                return Ok(Edit::Unchanged((0, Vec::new())));
            }
            let mut bad = Vec::new();
            let mut upd = git2::build::TreeUpdateBuilder::new();
            let mut added = 0;
            for (path, (target, blob)) in &their_notes {
                if base
                    .get_path(std::path::Path::new(path))
                    .ok()
                    .map(|e| e.id())
                    == Some(*blob)
                {
                    continue;
                }
                let (local_path, mut lines) = match notes_tree::find(base, *target) {
                    Some((p, b)) => (
                        p,
                        notes_tree::lines(&self.repo, b).map_err(Error::git(ctx()))?,
                    ),
                    None => (path.clone(), Vec::new()),
                };
                let before = lines.len();
                let text = self.repo.find_blob(*blob).map_err(Error::git(ctx()))?;
                let (good, skipped) = note_blob::remote_lines(text.content());
                for (n, line) in skipped {
                    bad.push(format!(
                        "note on {target} from {remote}, line {n}: not a JSON object, skipped: {}",
                        line.chars().take(60).collect::<String>()
                    ));
                }
                lines.extend(good);
                lines.sort();
                lines.dedup();
                if lines.len() == before {
                    continue;
                }
                added += lines.len() - before;
                let b = self
                    .repo
                    .blob(notes_tree::content(&lines).as_bytes())
                    .map_err(Error::git(ctx()))?;
                upd.upsert(local_path.as_str(), b, FileMode::Blob);
            }
            let tree = upd
                .create_updated(&self.repo, base)
                .map_err(Error::git(ctx()))?;
            // Theirs already holds everything ours does (and nothing malformed): take it
            // as it is, so clones converge on one notes commit instead of merging forever.
            if their_tree.id() == tree && ours.is_none_or(|o| self.descends(theirs, o)) {
                return Ok(Edit::To {
                    commit: theirs,
                    value: (added, bad),
                });
            }
            Ok(Edit::Tree {
                tree,
                merged: Some(theirs),
                value: (added, bad),
            })
        })?;
        report.notes_lines_added += added;
        report.bad_note_lines.extend(bad);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::remote::tests::team;

    #[test]
    fn notes_union_line_by_line_and_skip_malformed_lines() {
        let t = team();
        let (head, _) = t.ours.head().unwrap();
        t.ours.append_note_line(head, "{\"a\":1}", "m").unwrap();
        t.ours.push_records("origin").unwrap();
        t.theirs.append_note_line(head, "{\"b\":2}", "m").unwrap();
        t.theirs.append_note_line(head, "{not json", "m").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        let r = t.theirs.merge_records("origin").unwrap();
        assert_eq!(r.notes_lines_added, 1);
        let mut lines = t.theirs.note_lines(head).unwrap();
        lines.sort();
        assert_eq!(
            lines,
            ["{\"a\":1}", "{\"b\":2}", "{not json"],
            "local lines stay"
        );
        t.theirs.push_records("origin").unwrap();
        t.ours.fetch_records("origin").unwrap();
        let r = t.ours.merge_records("origin").unwrap();
        assert_eq!(r.bad_note_lines.len(), 1, "{r:?}");
        assert!(r.bad_note_lines[0].contains("not a JSON object, skipped: {not json"));
        assert_eq!(t.ours.note_lines(head).unwrap(), ["{\"a\":1}", "{\"b\":2}"]);
    }
}
