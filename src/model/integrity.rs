//! Whether a run record can be what it claims: the rules every record read must pass,
//! local or fetched. A record is a small graph of commits under
//! `refs/workbench/runs/<stage>/<run-id>`; the store reads it into a `RecordGraph`
//! and `check_graph` judges it here, as a pure function:
//!
//! * the ref names the run the record is of: every commit's trailers, and the
//!   manifest, carry the ref's stage and run id, and the manifest never changes;
//! * every path the record will ever be written to is contained: `run_dir` and every
//!   output path are relative, without `.`, `..` or `.git` (in any spelling a file
//!   system folds to it), and tree entries obey the same rule (`entry_problem`);
//! * the chain of events is one the state machine allows (`model::state`), a
//!   conflict merge has the two parents its conflict record names, and an identical
//!   decision made in two clones merges into one;
//! * an approval rests on a review whose verdict it states, is forced exactly when
//!   that review failed, approves the manifest's outputs with their digest, and is
//!   authored by the identity it names; a rejection likewise.
//!
//! Signatures are checked where the allowed signers are known (`verify`, `show`).

use super::decision::{artifact_digest, ApprovalRecord, ConflictRecord, FeedbackRecord};
use super::event::Trailers;
use super::ids::{ObjectId, RunId, StageName};
use super::manifest::{RunManifest, RunStatus};
use super::record::{parse, Record};
use super::review::{ReviewRecord, Verdict};
use super::state::{transition, Action, RunEvent, RunState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The most commits a run record may have. A real run has a handful; a longer one
/// is refused rather than walked.
pub const MAX_COMMITS: usize = 256;

/// The top-level files of a record tree the rules read.
pub const RULE_FILES: [&str; 6] = [
    "manifest.json",
    "review.json",
    "approval.json",
    "feedback.json",
    "conflict.json",
    "card.md",
];

/// One commit of a run record, as the store read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCommit {
    pub id: ObjectId,
    pub parents: Vec<ObjectId>,
    pub message: String,
    /// The author identity, `Name <email>`.
    pub author: String,
    pub tree: ObjectId,
    /// The `RULE_FILES` present at the top of its tree, by name.
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A run record: the ref's stage and run id, and every commit reachable from its tip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordGraph {
    pub stage: StageName,
    pub run_id: RunId,
    pub tip: ObjectId,
    pub commits: BTreeMap<ObjectId, RecordCommit>,
}

/// Why a run record is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invalid {
    pub stage: StageName,
    pub run_id: RunId,
    /// The commit that breaks a rule.
    pub commit: ObjectId,
    pub why: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "run {} of stage {} is not a valid record (commit {}): {}",
            self.run_id,
            self.stage,
            &self.commit.to_string()[..12],
            self.why
        )
    }
}

/// What a valid record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub state: RunState,
}

/// Judges a record graph; the state of its tip when every rule holds.
pub fn check_graph(g: &RecordGraph) -> Result<Checked, Invalid> {
    let fail = |commit: ObjectId, why: String| Invalid {
        stage: g.stage.clone(),
        run_id: g.run_id.clone(),
        commit,
        why,
    };
    // Post-order over the graph without recursion: a forged history cannot blow the
    // stack, and each commit is judged once.
    let mut states: BTreeMap<ObjectId, RunState> = BTreeMap::new();
    let mut root_manifest: Option<(ObjectId, &[u8])> = None;
    let mut visiting = std::collections::BTreeSet::new();
    let mut stack = vec![(g.tip, false)];
    while let Some((id, expanded)) = stack.pop() {
        if states.contains_key(&id) {
            continue;
        }
        if !expanded && !visiting.insert(id) {
            return Err(fail(id, "its history is a cycle".into()));
        }
        let Some(c) = g.commits.get(&id) else {
            return Err(fail(
                id,
                format!("its history is missing or longer than {MAX_COMMITS} commits"),
            ));
        };
        if !expanded {
            stack.push((id, true));
            for p in &c.parents {
                if !states.contains_key(p) {
                    stack.push((*p, false));
                }
            }
            continue;
        }
        if c.parents.is_empty() {
            if let Some((other, _)) = root_manifest {
                return Err(fail(
                    id,
                    format!("it has two first records ({other} and {id})"),
                ));
            }
        }
        let state = check_commit(g, c, &states).map_err(|why| fail(id, why))?;
        let manifest = c.files.get(RunManifest::FILE).map(Vec::as_slice);
        match (manifest, root_manifest) {
            (None, _) => return Err(fail(id, "it has no manifest.json".into())),
            (Some(m), None) if c.parents.is_empty() => root_manifest = Some((id, m)),
            (Some(m), Some((_, root))) if m != root => {
                return Err(fail(
                    id,
                    "its manifest.json differs from the run's first record; manifests never change"
                        .into(),
                ))
            }
            _ => {}
        }
        states.insert(id, state);
    }
    Ok(Checked {
        state: states[&g.tip],
    })
}

fn read<R: Record>(c: &RecordCommit) -> Result<Option<R>, String> {
    match c.files.get(R::FILE) {
        None => Ok(None),
        Some(b) => parse(b).map(Some).map_err(|e| e.to_string()),
    }
}

fn need<R: Record>(c: &RecordCommit, event: RunEvent) -> Result<R, String> {
    read(c)?.ok_or_else(|| format!("its {event} record has no {}", R::FILE))
}

fn same_run(g: &RecordGraph, file: &str, stage: &StageName, run: &RunId) -> Result<(), String> {
    if stage != &g.stage || run != &g.run_id {
        return Err(format!(
            "its {file} is of run {run} of stage {stage}, not of the ref's run"
        ));
    }
    Ok(())
}

fn check_commit(
    g: &RecordGraph,
    c: &RecordCommit,
    states: &BTreeMap<ObjectId, RunState>,
) -> Result<RunState, String> {
    let t = Trailers::parse(&c.message);
    let Some(event) = t.event else {
        return Err("it has no Workbench-Event trailer".into());
    };
    if t.stage.as_ref() != Some(&g.stage) || t.run.as_ref() != Some(&g.run_id) {
        return Err(format!(
            "its trailers name {}/{}, not the ref's {}/{}",
            t.stage.as_ref().map_or("?", |s| s.as_str()),
            t.run.as_ref().map_or("?", |r| r.as_str()),
            g.stage,
            g.run_id
        ));
    }
    let parent = |i: usize| states[&c.parents[i]];
    match (c.parents.len(), event) {
        (0, RunEvent::Executed | RunEvent::Failed) => {
            let m: RunManifest = need(c, event)?;
            same_run(g, RunManifest::FILE, &m.stage, &m.run_id)?;
            let want = match m.status {
                RunStatus::Executed => RunEvent::Executed,
                RunStatus::Failed => RunEvent::Failed,
            };
            if want != event {
                return Err(format!(
                    "its event is {event} but its manifest says {}",
                    want.as_str()
                ));
            }
            manifest_paths(&m)?;
            Ok(RunState::of(event))
        }
        (0, e) => Err(format!("its first record is {e}, not executed or failed")),
        (1, RunEvent::Executed | RunEvent::Failed | RunEvent::Conflict) => Err(format!(
            "a {event} record follows another record; only a run's first record is {event}, and a conflict has two parents"
        )),
        (1, _) => {
            let before = parent(0);
            let action = match event {
                RunEvent::Reviewed => Action::Review,
                RunEvent::Carded => Action::Card,
                RunEvent::Approved => Action::Approve,
                _ => Action::Reject,
            };
            let after = transition(before, action)
                .map_err(|_| format!("{before} -> {event} is a move the state machine forbids"))?;
            decision(g, c, event)?;
            Ok(after)
        }
        (2, RunEvent::Conflict) => {
            let rec: ConflictRecord = need(c, event)?;
            same_run(g, ConflictRecord::FILE, &rec.stage, &rec.run_id)?;
            if [rec.ours.commit, rec.theirs.commit] != [c.parents[0], c.parents[1]] {
                return Err("its conflict.json names other commits than its two parents".into());
            }
            Ok(RunState::Conflict)
        }
        (2, RunEvent::Approved | RunEvent::Rejected) => {
            identical_merge(g, c, event)?;
            Ok(parent(0))
        }
        (2, e) => Err(format!("a merge of two histories records {e}")),
        (n, _) => Err(format!("it has {n} parents")),
    }
}

/// The files a decision record must carry, and what they must agree on.
fn decision(g: &RecordGraph, c: &RecordCommit, event: RunEvent) -> Result<(), String> {
    match event {
        RunEvent::Reviewed => {
            let r: ReviewRecord = need(c, event)?;
            same_run(g, ReviewRecord::FILE, &r.stage, &r.run_id)
        }
        RunEvent::Carded if !c.files.contains_key("card.md") => {
            Err("its carded record has no card.md".into())
        }
        RunEvent::Approved => {
            let a: ApprovalRecord = need(c, event)?;
            same_run(g, ApprovalRecord::FILE, &a.stage, &a.run_id)?;
            if a.approved_by != c.author {
                return Err(format!(
                    "its approval names {} as approver but the commit's author is {}",
                    a.approved_by, c.author
                ));
            }
            let Some(review) = read::<ReviewRecord>(c)? else {
                return Err("it is approved without a review".into());
            };
            if review.verdict != a.review_verdict {
                return Err(format!(
                    "its approval claims a {} review, the review says {}",
                    a.review_verdict.as_str(),
                    review.verdict.as_str()
                ));
            }
            if a.forced != (review.verdict == Verdict::Fail) {
                return Err(if a.forced {
                    "its approval is marked forced but its review did not fail".into()
                } else {
                    "it approves a failed review without being marked forced".into()
                });
            }
            let m: RunManifest = need(c, event)?;
            if a.artifacts_approved != m.outputs || a.artifact_digest != artifact_digest(&m.outputs)
            {
                return Err("its approval is of other outputs than its manifest records".into());
            }
            Ok(())
        }
        RunEvent::Rejected => {
            let f: FeedbackRecord = need(c, event)?;
            same_run(g, FeedbackRecord::FILE, &f.stage, &f.run_id)?;
            if f.rejected_by != c.author {
                return Err(format!(
                    "its feedback names {} as rejecting but the commit's author is {}",
                    f.rejected_by, c.author
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Two clones made the same decision: the merge keeps both as parents (lower object
/// id first), takes the first one's tree and author, and is the same commit in
/// every clone (`identical_decisions`).
fn identical_merge(g: &RecordGraph, c: &RecordCommit, event: RunEvent) -> Result<(), String> {
    let (a, b) = (&g.commits[&c.parents[0]], &g.commits[&c.parents[1]]);
    let same_event = |x: &RecordCommit| Trailers::parse(&x.message).event == Some(event);
    if !same_event(a) || !same_event(b) || a.id >= b.id {
        return Err(format!(
            "a merge recording {event} must join two {event} records, lower object id first"
        ));
    }
    if !identical_decisions(&a.files, &b.files) {
        return Err(format!(
            "it merges two {event} records that decided differently"
        ));
    }
    if c.tree != a.tree || c.author != a.author {
        return Err("its tree or author is not its first parent's".into());
    }
    Ok(())
}

/// True when two record trees hold the same decision: same run, decision, artifact
/// digest and interpretation (approvals), or same issue, suggestions and criteria
/// (rejections). Who made it and when may differ.
pub fn identical_decisions(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> bool {
    let approval = |f: &BTreeMap<String, Vec<u8>>| {
        f.get(ApprovalRecord::FILE)
            .and_then(|x| parse::<ApprovalRecord>(x).ok())
    };
    let feedback = |f: &BTreeMap<String, Vec<u8>>| {
        f.get(FeedbackRecord::FILE)
            .and_then(|x| parse::<FeedbackRecord>(x).ok())
    };
    match (approval(a), approval(b), feedback(a), feedback(b)) {
        (Some(x), Some(y), None, None) => {
            (&x.run_id, &x.stage, x.decision, &x.artifact_digest)
                == (&y.run_id, &y.stage, y.decision, &y.artifact_digest)
                && x.approved_interpretation.trim() == y.approved_interpretation.trim()
                && x.artifacts_approved == y.artifacts_approved
                && (x.review_verdict, x.forced) == (y.review_verdict, y.forced)
        }
        (None, None, Some(x), Some(y)) => {
            (
                &x.run_id,
                &x.stage,
                x.issue.trim(),
                &x.suggested_params,
                &x.acceptance_criteria,
            ) == (
                &y.run_id,
                &y.stage,
                y.issue.trim(),
                &y.suggested_params,
                &y.acceptance_criteria,
            )
        }
        _ => false,
    }
}

/// Every path of the manifest that `checkout` or `approve` would touch is contained.
fn manifest_paths(m: &RunManifest) -> Result<(), String> {
    if !m.run_dir.is_empty() {
        contained_path(m.run_dir.trim_end_matches('/'))
            .map_err(|why| format!("its run_dir '{}' {why}", m.run_dir.escape_debug()))?;
    }
    let paths = m
        .outputs
        .keys()
        .chain(m.inputs.keys())
        .chain(m.code_files.keys())
        .chain(&m.stored_outputs)
        .chain(m.lfs_outputs.keys())
        .chain(&m.missing_outputs);
    for p in paths {
        contained_path(p).map_err(|why| format!("its path '{}' {why}", p.escape_debug()))?;
    }
    Ok(())
}

/// Whether a repository-relative path stays inside the repository: `Err` says why not.
pub fn contained_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("is empty");
    }
    if path.starts_with('/') || path.contains('\\') || path.as_bytes().get(1) == Some(&b':') {
        return Err("is absolute");
    }
    for part in path.split('/') {
        entry_problem(part.as_bytes())?;
    }
    Ok(())
}

/// Whether one tree entry name (a path component) may be written to disk: not empty,
/// not `.` or `..`, no `/`, NUL or control character, and not a name a file system
/// folds to `.git` (any case, trailing dots or spaces as on NTFS, the 8.3 short name
/// `git~1`, characters HFS+ ignores).
pub fn entry_problem(name: &[u8]) -> Result<(), &'static str> {
    match name {
        b"" => return Err("has an empty path component"),
        b"." | b".." => return Err("climbs out with '.' or '..'"),
        _ => {}
    }
    if name.iter().any(|&b| b == b'/' || b < 0x20 || b == 0x7f) {
        return Err("has a '/', NUL or control character in a name");
    }
    let Ok(text) = std::str::from_utf8(name) else {
        return Ok(()); // bytes that are no text cannot fold to ".git"
    };
    if text.chars().any(char::is_control) {
        return Err("has a '/', NUL or control character in a name");
    }
    let folded: String = text
        .chars()
        .filter(|c| !hfs_ignorable(*c))
        .collect::<String>()
        .to_lowercase();
    let trimmed = folded.trim_end_matches(['.', ' ']);
    if trimmed == ".git" || trimmed == "git~1" {
        return Err("names the repository's .git");
    }
    if trimmed.is_empty() {
        return Err("is only dots and spaces");
    }
    Ok(())
}

/// Code points HFS+ drops when comparing names (as git's `is_hfs_dotgit`).
fn hfs_ignorable(c: char) -> bool {
    matches!(c as u32, 0x200c..=0x200f | 0x202a..=0x202e | 0x206a..=0x206f | 0xfeff)
}

/// Whether a tree entry's mode is one a record may hold: file, executable, symlink,
/// tree (no submodule links, no non-canonical modes).
pub fn mode_allowed(mode: i32) -> bool {
    matches!(mode, 0o100644 | 0o100755 | 0o120000 | 0o040000)
}

/// Whether a symlink at `at` (a contained path) pointing at `target` stays inside
/// the tree it is in.
pub fn symlink_contained(at: &str, target: &[u8]) -> bool {
    let Ok(target) = std::str::from_utf8(target) else {
        return false;
    };
    if target.is_empty() || target.starts_with('/') || target.contains('\\') {
        return false;
    }
    let mut depth: usize = at.split('/').count() - 1;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            p if entry_problem(p.as_bytes()).is_err() => return false,
            _ => depth += 1,
        }
    }
    true
}

#[cfg(test)]
mod tests;
