//! Judging one change of the repository's files — HEAD to the index (the hook), a
//! commit's parent to the commit (`verify`), HEAD to the working tree
//! (`narrative check`) — for what it does to narratives:
//! * a narrative stays a narrative: a file the old version marks, or a file that
//!   carries it under a new name (a rename or copy), is checked in the new version
//!   whatever the new attributes say;
//! * dropping the mark is an act of its own: accepted only when the file's content is
//!   unchanged, and reported as an `unmarked` event;
//! * a renamed or copied narrative must be marked at its new path;
//! * a removed block must be removed whole: its approved text or provenance left
//!   behind as prose is refused;
//! * every block added, changed or removed is reported.
//!
//! The attributes come from the versions' committed `.gitattributes` only
//! (`store::trees`), never from this clone's local files.

use super::{Checker, Problem};
use crate::error::Result;
use crate::model::attributes::{AttrState, Attributes};
use crate::model::narrative_change::{
    block_changes, carries, layout, remnant, BlockChange, FileBlock, Layout,
};
use crate::model::{RunId, StageName};
use crate::store::content::NARRATIVE_ATTR;
use crate::store::trees::{basename, FileMap};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One version of the files, with the attributes it commits.
pub struct Version {
    pub files: FileMap,
    pub attrs: Attributes,
}

impl Version {
    pub fn new(store: &Store, files: FileMap) -> Result<Version> {
        let attrs = store.attributes_of(&files)?;
        Ok(Version { files, attrs })
    }

    fn marks(&self, path: &str) -> bool {
        self.attrs.state(path, NARRATIVE_ATTR).is_set()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A block appeared.
    Added,
    /// A block cites another run or holds other content.
    Changed,
    /// A block was removed whole (or its file deleted).
    Removed,
    /// A narrative holding blocks stopped being one.
    Unmarked,
    /// A narrative moved to another path (or was copied there).
    Renamed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "added",
            EventKind::Changed => "changed",
            EventKind::Removed => "removed",
            EventKind::Unmarked => "unmarked",
            EventKind::Renamed => "renamed",
        }
    }
}

/// Something a change did to a narrative.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarrativeEvent {
    pub kind: EventKind,
    pub file: String,
    pub line: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunId>,
    /// Changed: the run the block cited before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_run: Option<RunId>,
    /// Renamed: the old path. Unmarked: how many blocks stopped being checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks: Option<usize>,
}

/// What to judge.
#[derive(Default)]
pub struct Scope<'a> {
    /// Paths named by the caller (as the pre-commit framework names them): checked
    /// whole with `all`, changed or not.
    pub only: &'a [String],
    /// Check every narrative of the new version (with `only`: every named one),
    /// changed or not.
    pub all: bool,
    /// Paths also treated as narratives on both sides (`verify`: the range's base).
    pub also: Option<&'a dyn Fn(&str) -> bool>,
}

/// The verdict on one change.
#[derive(Debug, Default)]
pub struct Judged {
    /// The narrative files of the new version that were checked.
    pub files: Vec<String>,
    pub problems: Vec<Problem>,
    pub events: Vec<NarrativeEvent>,
}

struct Judge<'s, 'c, 'a> {
    store: &'s Store,
    checker: &'c mut Checker<'s>,
    old: &'a Version,
    new: &'a Version,
    scope: &'a Scope<'a>,
    out: Judged,
    /// New path -> the old narrative it continues (itself, or a rename/copy source).
    check: BTreeMap<String, Option<String>>,
    /// Blocks removed by the change: (the file, the block, the old file's layout).
    removed: Vec<(String, FileBlock, Layout)>,
}

/// Judges the change from `old` to `new`.
pub fn judge<'s>(
    store: &'s Store,
    checker: &mut Checker<'s>,
    old: &Version,
    new: &Version,
    scope: &Scope,
) -> Result<Judged> {
    let mut j = Judge {
        store,
        checker,
        old,
        new,
        scope,
        out: Judged::default(),
        check: BTreeMap::new(),
        removed: Vec::new(),
    };
    j.run()?;
    let out = j.out;
    // Named files are checked whole, but what the change does elsewhere is still
    // reported: a commit the framework runs for `.gitattributes` alone must not hide
    // what that file does to a narrative it did not name.
    Ok(out)
}

impl Judge<'_, '_, '_> {
    fn old_narrative(&self, p: &str) -> bool {
        self.old.files.contains(p) && (self.old.marks(p) || self.also(p))
    }

    /// Marked by the new attributes, or by `also` unless this very change drops the
    /// file's own mark (that is an unmark, judged as such).
    fn new_narrative(&self, p: &str) -> bool {
        self.new.files.contains(p) && (self.new.marks(p) || (self.also(p) && !self.old.marks(p)))
    }

    /// Checked whether or not the change touches it.
    fn forced(&self, p: &str) -> bool {
        self.scope.all && (self.scope.only.is_empty() || self.scope.only.iter().any(|o| o == p))
    }

    fn also(&self, p: &str) -> bool {
        self.scope.also.is_some_and(|f| f(p))
    }

    fn text(&self, v: &Version, p: &str) -> Result<Option<String>> {
        Ok(self
            .store
            .file_content(&v.files, p)?
            .and_then(|b| String::from_utf8(b).ok()))
    }

    fn run(&mut self) -> Result<()> {
        let (old, new) = (&self.old.files, &self.new.files);
        let changed: BTreeSet<&String> = old
            .files
            .iter()
            .filter(|(p, e)| new.get(p) != Some(e))
            .map(|(p, _)| p)
            .chain(new.files.keys().filter(|p| !old.contains(p)))
            .collect();
        let added: Vec<String> = new
            .files
            .keys()
            .filter(|p| !old.contains(p))
            .cloned()
            .collect();
        let attrs_changed = changed.iter().any(|p| basename(p) == ".gitattributes");
        // The paths whose narrative status or content may have moved.
        let candidates: BTreeSet<String> = if attrs_changed || self.scope.all {
            old.files.keys().chain(new.files.keys()).cloned().collect()
        } else {
            changed.iter().map(|p| p.to_string()).collect()
        };
        for p in &candidates {
            let (on, nn) = (self.old_narrative(p), self.new_narrative(p));
            let is_changed = changed.contains(p);
            match (old.contains(p), new.contains(p)) {
                // Added under a pattern the old attributes mark while the new ones
                // do not: the same change drops the mark and writes the file.
                (false, true) if !nn && self.old.marks(p) => {
                    self.out.problems.push(Problem::error(
                        p,
                        0,
                        format!("{p} stops being a narrative in the same change that writes it"),
                        "keep the workbench-narrative attribute, or change .gitattributes in a commit of its own".into(),
                    ));
                    self.check.insert(p.clone(), None);
                }
                (_, true) if nn && (is_changed || !on || self.forced(p) || attrs_changed) => {
                    self.check.insert(p.clone(), on.then(|| p.clone()));
                }
                (_, true) if nn => {}
                (true, true) if on => self.unmarked(p, is_changed)?,
                (true, false) if on => self.deleted(p, &added)?,
                _ => {}
            }
        }
        if !added.is_empty() {
            self.copies(&added)?;
        }
        let check = std::mem::take(&mut self.check);
        for (path, from) in &check {
            self.check_file(path, from.as_deref())?;
        }
        if !self.removed.is_empty() {
            let targets: Vec<String> = changed
                .iter()
                .filter(|p| new.contains(p))
                .map(|p| p.to_string())
                .collect();
            self.moved_text(&targets)?;
        }
        Ok(())
    }

    /// A removed block's text written into another file of the change (a narrative
    /// or not) as prose.
    fn moved_text(&mut self, targets: &[String]) -> Result<()> {
        let removed = std::mem::take(&mut self.removed);
        for g in targets {
            if self.new.files.get(g).is_some_and(|e| e.mode == 0o120000) {
                continue;
            }
            let Some(text) = self.text(self.new, g)? else {
                continue;
            };
            if text.len() > 1 << 20 {
                continue;
            }
            let new = layout(g, &text);
            let before = self.text(self.old, g)?.map(|t| layout(g, &t));
            for (file, b, old) in &removed {
                if file == g {
                    continue;
                }
                let mut seen = old.clone();
                if let Some(l) = &before {
                    seen.outside.extend(l.outside.iter().cloned());
                }
                if let Some(line) = remnant(b, &seen, &new) {
                    let mut p = Problem::error(
                        g,
                        line,
                        format!("the approved text of the block of stage {} (run {}) removed from {file} reappears here as unchecked prose", b.stage, b.run),
                        format!("cite it with a block (git workbench narrative new {} {g}) instead of copying its text", b.stage),
                    );
                    p.stage = Some(b.stage.clone());
                    p.run = Some(b.run.clone());
                    self.out.problems.push(p);
                }
            }
        }
        Ok(())
    }

    /// A narrative the new attributes no longer mark.
    fn unmarked(&mut self, p: &str, changed: bool) -> Result<()> {
        let old_text = self.text(self.old, p)?.unwrap_or_default();
        let blocks = layout(p, &old_text).blocks.len();
        if changed {
            self.out.problems.push(Problem::error(
                p,
                0,
                format!("{p} stops being a narrative in the same change that edits it"),
                format!("keep the workbench-narrative attribute, or unmark it in a commit of its own that changes nothing else in the file: git workbench narrative unmark {p}"),
            ));
            self.check.insert(p.to_string(), Some(p.to_string()));
        } else if blocks > 0 {
            self.out.events.push(NarrativeEvent {
                kind: EventKind::Unmarked,
                file: p.to_string(),
                line: 0,
                stage: None,
                run: None,
                old_run: None,
                from: None,
                blocks: Some(blocks),
            });
        }
        Ok(())
    }

    /// A narrative that is gone from its path: renamed, or deleted with its blocks.
    fn deleted(&mut self, p: &str, added: &[String]) -> Result<()> {
        let old_text = self.text(self.old, p)?.unwrap_or_default();
        let mut carried = false;
        for q in added {
            let Some(new_text) = self.text(self.new, q)? else {
                continue;
            };
            if carries(p, &old_text, q, &new_text) {
                carried = true;
                self.successor(p, q);
            }
        }
        if !carried {
            let old_layout = layout(p, &old_text);
            for b in old_layout.blocks.clone() {
                self.removed
                    .push((p.to_string(), b.clone(), old_layout.clone()));
                self.out.events.push(NarrativeEvent {
                    kind: EventKind::Removed,
                    file: p.to_string(),
                    line: b.line,
                    stage: Some(b.stage),
                    run: Some(b.run),
                    old_run: None,
                    from: None,
                    blocks: None,
                });
            }
        }
        Ok(())
    }

    /// `q` carries narrative `p`: it is checked as one and must be marked.
    fn successor(&mut self, p: &str, q: &str) {
        if self.check.get(q).is_some_and(Option::is_some) {
            return;
        }
        self.check.insert(q.to_string(), Some(p.to_string()));
        self.out.events.push(NarrativeEvent {
            kind: EventKind::Renamed,
            file: q.to_string(),
            line: 0,
            stage: None,
            run: None,
            old_run: None,
            from: Some(p.to_string()),
            blocks: None,
        });
        if !self.new_narrative(q) {
            self.out.problems.push(Problem::error(
                q,
                0,
                format!("{q} carries the narrative {p} (renamed or copied) but is not marked workbench-narrative"),
                format!("mark {q} in .gitattributes, or remove its blocks with git workbench narrative remove"),
            ));
        }
    }

    /// Added files that copy a narrative still present.
    fn copies(&mut self, added: &[String]) -> Result<()> {
        let sources: Vec<String> = self
            .old
            .files
            .files
            .keys()
            .filter(|p| self.new.files.contains(p) && self.old_narrative(p))
            .cloned()
            .collect();
        let mut texts = Vec::new();
        for p in sources {
            if let Some(t) = self.text(self.old, &p)? {
                if !layout(&p, &t).blocks.is_empty() {
                    texts.push((p, t));
                }
            }
        }
        if texts.is_empty() {
            return Ok(());
        }
        for q in added {
            if self.check.get(q).is_some_and(Option::is_some) {
                continue;
            }
            let Some(new_text) = self.text(self.new, q)? else {
                continue;
            };
            if let Some((p, _)) = texts.iter().find(|(p, t)| carries(p, t, q, &new_text)) {
                let p = p.clone();
                self.successor(&p, q);
            }
        }
        Ok(())
    }

    /// Checks one narrative of the new version, and what it did to `from`'s blocks.
    fn check_file(&mut self, path: &str, from: Option<&str>) -> Result<()> {
        if self.new.files.get(path).is_some_and(|e| e.mode == 0o120000) {
            self.out.files.push(path.to_string());
            self.out.problems.push(Problem::error(
                path,
                0,
                format!("the narrative {path} is a symbolic link: what a reader sees is another file's content, unchecked"),
                "commit the narrative as a regular file".into(),
            ));
            return Ok(());
        }
        // A filter (git LFS, a clean/smudge pair) stores something other than the
        // text readers see: the checked bytes would not be the shown ones.
        if self.new.attrs.state(path, "filter") != AttrState::Unspecified
            && self.new.attrs.state(path, "filter") != AttrState::Unset
        {
            self.out.problems.push(Problem::error(
                path,
                0,
                format!("the narrative {path} goes through a filter (gitattribute filter=): its committed bytes are not what readers see"),
                format!("remove the filter attribute from {path}"),
            ));
        }
        let Some(bytes) = self.store.file_content(&self.new.files, path)? else {
            return Ok(());
        };
        self.out.files.push(path.to_string());
        self.out.problems.extend(self.checker.check(path, &bytes)?);
        let Ok(new_text) = String::from_utf8(bytes) else {
            return Ok(());
        };
        let new = layout(path, &new_text);
        let old = match from {
            Some(f) => layout(f, &self.text(self.old, f)?.unwrap_or_default()),
            None => Layout::default(),
        };
        for c in block_changes(&old.blocks, &new.blocks) {
            let ev =
                |kind, b: &crate::model::narrative_change::FileBlock, old_run| NarrativeEvent {
                    kind,
                    file: path.to_string(),
                    line: b.line,
                    stage: Some(b.stage.clone()),
                    run: Some(b.run.clone()),
                    old_run,
                    from: None,
                    blocks: None,
                };
            match c {
                BlockChange::Added(b) => self.out.events.push(ev(EventKind::Added, &b, None)),
                BlockChange::Changed { old: o, new: n } => {
                    let old_run = (o.run != n.run).then(|| o.run.clone());
                    self.out.events.push(ev(EventKind::Changed, &n, old_run))
                }
                BlockChange::Removed(b) => {
                    if let Some(line) = remnant(&b, &old, &new) {
                        let mut p = Problem::error(
                            path,
                            line,
                            format!("the block of stage {} (run {}) lost its markers but its approved text remains as unchecked prose", b.stage, b.run),
                            format!("remove the block whole (git workbench narrative remove {path} --stage {}), or restore its markers", b.stage),
                        );
                        p.stage = Some(b.stage.clone());
                        p.run = Some(b.run.clone());
                        self.out.problems.push(p);
                    }
                    self.out.events.push(ev(EventKind::Removed, &b, None));
                    self.removed.push((path.to_string(), b, old.clone()));
                }
            }
        }
        Ok(())
    }
}
