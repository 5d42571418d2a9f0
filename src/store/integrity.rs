//! Reading a run record into the graph `model::integrity` judges, and walking its
//! trees for paths that must never reach a disk. Every use of a record that trusts
//! it goes through `checked_run`; `sync` refuses what fails before merging it.

use super::error::{Error, Result};
use super::runs::RunRef;
use super::{id, oid, Store};
use crate::model::integrity::{
    check_graph, entry_problem, mode_allowed, symlink_contained, Checked, Invalid, RecordCommit,
    RecordGraph, MAX_COMMITS, RULE_FILES,
};
use crate::model::ObjectId;
use git2::{ObjectType, Oid};
use std::collections::{BTreeMap, HashSet};

/// Tree ids already walked and found clean: trees are content-addressed, so one
/// clean walk holds for every record that shares it (snapshots of the same code).
#[derive(Default)]
pub struct TreeMemo(HashSet<Oid>);

impl Store {
    /// The record graph of a run: every commit reachable from its tip, at most
    /// `MAX_COMMITS` (a longer history is left incomplete, which the rules refuse).
    pub fn record_graph(&self, run: &RunRef) -> Result<RecordGraph> {
        let mut commits = BTreeMap::new();
        let mut todo = vec![oid(run.tip)];
        while let Some(o) = todo.pop() {
            if commits.contains_key(&id(o)) || commits.len() >= MAX_COMMITS {
                continue;
            }
            let ctx = || format!("cannot read run record {o} of {}", run.ref_name());
            let c = self.find_commit(o, ctx)?;
            let tree = c.tree().map_err(Error::git(ctx()))?;
            let files = self.rule_files(&tree).map_err(Error::git(ctx()))?;
            let parents: Vec<ObjectId> = c.parent_ids().map(id).collect();
            todo.extend(c.parent_ids());
            let author = c.author();
            commits.insert(
                id(o),
                RecordCommit {
                    id: id(o),
                    parents,
                    message: String::from_utf8_lossy(c.message_bytes()).into_owned(),
                    author: format!(
                        "{} <{}>",
                        String::from_utf8_lossy(author.name_bytes()),
                        String::from_utf8_lossy(author.email_bytes())
                    ),
                    tree: id(tree.id()),
                    files,
                },
            );
        }
        Ok(RecordGraph {
            stage: run.stage.clone(),
            run_id: run.run_id.clone(),
            tip: run.tip,
            commits,
        })
    }

    /// The `RULE_FILES` at the top of a record tree, by name.
    pub(super) fn rule_files(
        &self,
        tree: &git2::Tree,
    ) -> std::result::Result<BTreeMap<String, Vec<u8>>, git2::Error> {
        let mut files = BTreeMap::new();
        for name in RULE_FILES {
            let Some(e) = tree.get_name(name) else {
                continue;
            };
            if e.kind() != Some(ObjectType::Blob) {
                continue; // not a file: as if absent, and the rules say what is missing
            }
            let blob = self.repo.find_blob(e.id())?;
            files.insert(name.to_string(), blob.content().to_vec());
        }
        Ok(files)
    }

    /// Judges a run's record: its state when valid, else why it is not.
    pub fn check_run(&self, run: &RunRef) -> Result<std::result::Result<Checked, Invalid>> {
        Ok(check_graph(&self.record_graph(run)?))
    }

    /// The run's record judged, as an error when it is not valid.
    pub fn checked_run(&self, run: &RunRef) -> Result<Checked> {
        self.check_run(run)?.map_err(Error::Invalid)
    }

    /// Judges a run's record and every tree of every commit in it: each entry name
    /// must be safe to write (`model::integrity::entry_problem`), each mode a file,
    /// executable, symlink or tree, and no symlink under `outputs/` (a run stores
    /// file contents, never links) or leaving the snapshot.
    pub fn check_run_deep(
        &self,
        run: &RunRef,
        memo: &mut TreeMemo,
    ) -> Result<std::result::Result<Checked, Invalid>> {
        let graph = self.record_graph(run)?;
        let checked = match check_graph(&graph) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        for c in graph.commits.values() {
            let tree = self
                .repo
                .find_tree(oid(c.tree))
                .map_err(Error::git(format!(
                    "cannot read the tree of record {}",
                    c.id
                )))?;
            if let Some(why) = self.tree_problem(&tree, "", memo)? {
                return Ok(Err(Invalid {
                    stage: run.stage.clone(),
                    run_id: run.run_id.clone(),
                    commit: c.id,
                    why,
                }));
            }
        }
        Ok(Ok(checked))
    }

    fn tree_problem(
        &self,
        tree: &git2::Tree,
        at: &str,
        memo: &mut TreeMemo,
    ) -> Result<Option<String>> {
        // A clean subtree is clean wherever it sits, except that what counts as a
        // link leaving depends on the depth: memoise only symlink-free trees.
        if memo.0.contains(&tree.id()) {
            return Ok(None);
        }
        let mut has_link = false;
        for e in tree.iter() {
            let name = e.name_bytes();
            let shown = String::from_utf8_lossy(name);
            let path = if at.is_empty() {
                shown.to_string()
            } else {
                format!("{at}/{shown}")
            };
            if let Err(why) = entry_problem(name) {
                return Ok(Some(format!(
                    "its tree entry '{}' {why}",
                    path.escape_debug()
                )));
            }
            if !mode_allowed(e.filemode()) {
                return Ok(Some(format!(
                    "its tree entry '{}' has mode {:o}, not a file, link or directory",
                    path.escape_debug(),
                    e.filemode()
                )));
            }
            match e.kind() {
                Some(ObjectType::Tree) => {
                    let sub = self
                        .repo
                        .find_tree(e.id())
                        .map_err(Error::git(format!("cannot read tree {path}")))?;
                    if let Some(p) = self.tree_problem(&sub, &path, memo)? {
                        return Ok(Some(p));
                    }
                    has_link |= !memo.0.contains(&e.id());
                }
                Some(ObjectType::Blob) if e.filemode() == 0o120000 => {
                    has_link = true;
                    let target = self
                        .repo
                        .find_blob(e.id())
                        .map_err(Error::git(format!("cannot read link {path}")))?;
                    let inside = path.split_once('/').map_or("", |(_, rest)| rest);
                    if path.starts_with("outputs/") || !symlink_contained(inside, target.content())
                    {
                        return Ok(Some(format!(
                            "its tree holds a symbolic link '{}' that leaves it",
                            path.escape_debug()
                        )));
                    }
                }
                Some(ObjectType::Blob) => {}
                _ => {
                    return Ok(Some(format!(
                        "its tree entry '{}' is not a file or directory",
                        path.escape_debug()
                    )))
                }
            }
        }
        if !has_link {
            memo.0.insert(tree.id());
        }
        Ok(None)
    }
}
