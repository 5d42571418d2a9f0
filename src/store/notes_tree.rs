//! The tree of a notes commit: where the note on a commit lives (the path is the
//! annotated id, fanned out as `ab/cdef…` or deeper), and the lines a note holds.
//! Every reader and writer of notes trees finds notes here, at any fan-out git may
//! have written.

use crate::model::note_blob;
use git2::{ObjectType, Oid, Repository, Tree};
use std::collections::BTreeMap;
use std::path::Path;

/// The paths a note on `target` may have: flat, 2/38, 2/2/36 and 2/2/2/34.
fn candidate_paths(target: Oid) -> [String; 4] {
    let hex = target.to_string();
    [
        hex.clone(),
        format!("{}/{}", &hex[..2], &hex[2..]),
        format!("{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..]),
        format!("{}/{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..6], &hex[6..]),
    ]
}

/// The path and blob of the note on `target`, if any.
pub fn find(tree: &Tree, target: Oid) -> Option<(String, Oid)> {
    candidate_paths(target).into_iter().find_map(|p| {
        tree.get_path(Path::new(&p))
            .ok()
            .filter(|e| e.kind() == Some(ObjectType::Blob))
            .map(|e| (p, e.id()))
    })
}

/// The path for a new note on `target`, following the fan-out depth the tree uses
/// (2/38 by default: libgit2 never fans out on its own and a flat tree makes every
/// lookup linear).
pub fn new_path(repo: &Repository, tree: &Tree, target: Oid) -> String {
    let hex = target.to_string();
    let is_fanout = |e: &git2::TreeEntry| {
        e.kind() == Some(ObjectType::Tree)
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

/// The lines of a note blob, as `model::note_blob::lines` reads them.
pub fn lines(repo: &Repository, blob: Oid) -> Result<Vec<String>, git2::Error> {
    Ok(note_blob::lines(repo.find_blob(blob)?.content()))
}

/// A note blob's content from lines: one per line, each ending in a newline.
pub fn content(lines: &[String]) -> String {
    note_blob::content(lines)
}

/// Every note of a notes tree: path → (annotated object, note blob).
pub fn all(tree: &Tree) -> Result<BTreeMap<String, (Oid, Oid)>, git2::Error> {
    let mut out = BTreeMap::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
        if e.kind() == Some(ObjectType::Blob) {
            if let Ok(n) = e.name() {
                let path = format!("{dir}{n}");
                let hex: String = path.chars().filter(|c| *c != '/').collect();
                if hex.len() == 40 {
                    if let Ok(target) = Oid::from_str(&hex) {
                        out.insert(path, (target, e.id()));
                    }
                }
            }
        }
        git2::TreeWalkResult::Ok
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use git2::build::TreeUpdateBuilder;

    #[test]
    fn notes_are_found_at_every_fanout_and_new_ones_follow_the_tree() {
        let d = tempfile::tempdir().unwrap();
        let repo = Repository::init(d.path()).unwrap();
        let target = repo.blob(b"annotated").unwrap();
        let note = repo.blob(b"line one\n\nline two\n").unwrap();
        let empty = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        for path in candidate_paths(target) {
            let mut u = TreeUpdateBuilder::new();
            u.upsert(path.as_str(), note, git2::FileMode::Blob);
            let tree = repo
                .find_tree(u.create_updated(&repo, &empty).unwrap())
                .unwrap();
            assert_eq!(find(&tree, target), Some((path.clone(), note)), "{path}");
            let listed = all(&tree).unwrap();
            assert_eq!(listed.get(&path), Some(&(target, note)));
        }
        assert_eq!(lines(&repo, note).unwrap(), ["line one", "line two"]);
        assert_eq!(content(&["a".into(), "b".into()]), "a\nb\n");
        // an empty tree gets 2/38; a tree already at 2/2/36 gets 2/2/36
        let hex = target.to_string();
        assert_eq!(
            new_path(&repo, &empty, target),
            format!("{}/{}", &hex[..2], &hex[2..])
        );
        let mut u = TreeUpdateBuilder::new();
        u.upsert(
            "ab/cd/ef0123456789012345678901234567890123",
            note,
            git2::FileMode::Blob,
        );
        let deep = repo
            .find_tree(u.create_updated(&repo, &empty).unwrap())
            .unwrap();
        assert_eq!(
            new_path(&repo, &deep, target),
            format!("{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..])
        );
    }
}
