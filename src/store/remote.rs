//! Sharing records between clones. Transport is the system `git` (so every credential
//! helper and ssh setting works); merging is done here, with the same rules as local
//! writes: objects first, refs moved with compare-and-swap, nothing ever overwritten.
//!
//! * Run refs: a missing one is created, a behind one fast-forwarded, and two that
//!   diverged (two clones made different transitions) get a merge commit keeping both
//!   histories, whose event is `conflict` until a human decides again.
//! * The notes index: a set union of JSON lines per annotated commit (git's
//!   `cat_sort_uniq`), malformed lines dropped with a warning, never the good ones.
//! * The approved-run index: taken from the remote when it names a run whose local
//!   tip it matches and the local index is missing, stale, or an older approval.

use super::refs::{approved_ref, parse_run_ref, run_ref, APPROVED_PREFIX, NOTES_REF, RUNS_PREFIX};
use super::transitions::CONFLICT_FILE;
use super::{is_contention, Store};
use crate::error::{Error, Result};
use crate::model::event::{event_of_message, record_message};
use crate::model::state::RunEvent;
use git2::{FileMode, Oid};
use std::collections::BTreeMap;
use std::process::Command;

/// What merging a remote's records changed locally.
#[derive(Debug, Default, serde::Serialize)]
pub struct MergeReport {
    pub created: usize,
    pub fast_forwarded: usize,
    pub unchanged: usize,
    /// Runs whose histories diverged: `stage/run-id`.
    pub conflicts: Vec<String>,
    pub notes_lines_added: usize,
    /// Malformed note lines skipped: `<commit>: line N: ...`.
    pub bad_note_lines: Vec<String>,
    /// Stages whose approved-run index moved.
    pub approved_updated: Vec<String>,
}

/// How a push ended.
#[derive(Debug)]
pub enum PushResult {
    Done {
        updated: usize,
    },
    /// The remote moved since the last fetch: fetch, merge and try again.
    Stale,
}

fn tracking_runs(remote: &str) -> String {
    format!("refs/workbench/remotes/{remote}/runs/")
}

fn tracking_approved(remote: &str) -> String {
    format!("refs/workbench/remotes/{remote}/approved/")
}

fn tracking_notes(remote: &str) -> String {
    format!("refs/notes/remotes/{remote}/workbench")
}

impl Store {
    /// The remote to use when none is named: the only one, or `origin`.
    pub fn default_remote(&self) -> Result<String> {
        let remotes = self
            .repo
            .remotes()
            .map_err(Error::git("cannot list remotes"))?;
        let names: Vec<&str> = remotes.iter().filter_map(|n| n.ok().flatten()).collect();
        match names.as_slice() {
            [] => Err(Error::input("this repository has no remote")
                .hint("add one with 'git remote add origin URL'")),
            [one] => Ok(one.to_string()),
            many if many.contains(&"origin") => Ok("origin".into()),
            many => Err(Error::input(format!(
                "several remotes ({}) and none is called origin",
                many.join(", ")
            ))
            .hint("name the remote: git workbench sync REMOTE")),
        }
    }

    fn git_cmd(&self) -> Command {
        let mut c = Command::new("git");
        c.arg("--git-dir").arg(self.repo.path());
        c.env_remove("GIT_INDEX_FILE");
        c
    }

    /// The remote's records as the tracking refs would hold them, by `git ls-remote`
    /// (an advertisement only: no negotiation, no connectivity check).
    fn remote_state(&self, remote: &str) -> Result<BTreeMap<String, String>> {
        let o = self
            .git_cmd()
            .args(["ls-remote", "--quiet"])
            .arg(remote)
            .args([
                &format!("{RUNS_PREFIX}*"),
                &format!("{APPROVED_PREFIX}*"),
                NOTES_REF,
            ])
            .output()
            .map_err(|e| Error::input(format!("cannot run git ls-remote: {e}")))?;
        if !o.status.success() {
            return Err(transport_error("fetch from", remote, &o.stderr));
        }
        let mut out = BTreeMap::new();
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let Some((oid, name)) = line.split_once('\t') else {
                continue;
            };
            let tracked = if let Some(rest) = name.strip_prefix(RUNS_PREFIX) {
                format!("{}{rest}", tracking_runs(remote))
            } else if let Some(rest) = name.strip_prefix(APPROVED_PREFIX) {
                format!("{}{rest}", tracking_approved(remote))
            } else if name == NOTES_REF {
                tracking_notes(remote)
            } else {
                continue;
            };
            out.insert(tracked, oid.to_string());
        }
        Ok(out)
    }

    /// The tracking refs of `remote` as they are here.
    fn tracking_state(&self, remote: &str) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for prefix in [tracking_runs(remote), tracking_approved(remote)] {
            for (n, o) in self.refs_under(&prefix)? {
                out.insert(n, o.to_string());
            }
        }
        if let Ok(o) = self.repo.refname_to_id(&tracking_notes(remote)) {
            out.insert(tracking_notes(remote), o.to_string());
        }
        Ok(out)
    }

    /// True when every local record ref equals its tracking ref and vice versa: a push
    /// would change nothing.
    pub fn in_step_with(&self, remote: &str) -> Result<bool> {
        let tracking = self.tracking_state(remote)?;
        let mut local = BTreeMap::new();
        for (prefix, to) in [
            (RUNS_PREFIX, tracking_runs(remote)),
            (APPROVED_PREFIX, tracking_approved(remote)),
        ] {
            for (n, o) in self.refs_under(prefix)? {
                local.insert(format!("{to}{}", &n[prefix.len()..]), o.to_string());
            }
        }
        if let Ok(o) = self.repo.refname_to_id(NOTES_REF) {
            local.insert(tracking_notes(remote), o.to_string());
        }
        Ok(local == tracking)
    }

    /// Fetches the remote's run refs, approved index and notes into tracking refs;
    /// skipped when the remote advertises exactly what the tracking refs hold.
    pub fn fetch_records(&self, remote: &str) -> Result<()> {
        self.check_remote(remote)?;
        if self.remote_state(remote)? == self.tracking_state(remote)? {
            return Ok(());
        }
        let o = self
            .git_cmd()
            .args([
                "fetch",
                "--quiet",
                "--prune",
                "--no-tags",
                "--no-write-fetch-head",
            ])
            .arg(remote)
            .arg(format!("+{RUNS_PREFIX}*:{}*", tracking_runs(remote)))
            .arg(format!(
                "+{APPROVED_PREFIX}*:{}*",
                tracking_approved(remote)
            ))
            .arg(format!("+{NOTES_REF}*:{}*", tracking_notes(remote)))
            .output()
            .map_err(|e| Error::input(format!("cannot run git fetch: {e}")))?;
        if !o.status.success() {
            return Err(transport_error("fetch from", remote, &o.stderr));
        }
        Ok(())
    }

    fn check_remote(&self, remote: &str) -> Result<()> {
        if self.repo.find_remote(remote).is_err() && !remote.contains(['/', ':']) {
            return Err(Error::input(format!("no remote '{remote}'"))
                .hint("see the remotes with 'git remote -v'"));
        }
        Ok(())
    }

    /// Merges the tracking refs of `remote` into the local records.
    pub fn merge_records(&self, remote: &str) -> Result<MergeReport> {
        let mut report = MergeReport::default();
        let prefix = tracking_runs(remote);
        let tracked = self.refs_under(&prefix)?;
        for (name, theirs) in &tracked {
            let local = format!("{RUNS_PREFIX}{}", &name[prefix.len()..]);
            let Some((stage, run_id)) = parse_run_ref(&local) else {
                continue;
            };
            self.merge_run(stage, run_id, *theirs, remote, &mut report)?;
        }
        self.merge_notes(remote, &mut report)?;
        self.merge_approved(remote, &mut report)?;
        Ok(report)
    }

    fn refs_under(&self, prefix: &str) -> Result<Vec<(String, Oid)>> {
        let mut out = Vec::new();
        let refs = self
            .repo
            .references_glob(&format!("{prefix}*"))
            .map_err(Error::git(format!("cannot list {prefix}*")))?;
        for r in refs.flatten() {
            if let (Ok(name), Some(oid)) = (r.name(), r.target()) {
                out.push((name.to_string(), oid));
            }
        }
        Ok(out)
    }

    fn merge_run(
        &self,
        stage: &str,
        run_id: &str,
        theirs: Oid,
        remote: &str,
        report: &mut MergeReport,
    ) -> Result<()> {
        let name = run_ref(stage, run_id);
        let msg = format!("workbench: merged from {remote}");
        for attempt in 0..100 {
            let ours = self.repo.refname_to_id(&name).ok();
            let moved = match ours {
                None => {
                    let _ = self.repo.reference_ensure_log(&name);
                    self.create_ref_exclusive(&name, theirs, &msg)
                        .map(|_| report.created += 1)
                }
                Some(o) if o == theirs => {
                    report.unchanged += 1;
                    return Ok(());
                }
                Some(o) if self.descends(o, theirs) => {
                    report.unchanged += 1;
                    return Ok(());
                }
                Some(o) if self.descends(theirs, o) => self
                    .repo
                    .reference_matching(&name, theirs, true, o, &msg)
                    .map(|_| report.fast_forwarded += 1),
                Some(o) => {
                    let merged = self.conflict_commit(stage, run_id, o, theirs, remote)?;
                    self.repo
                        .reference_matching(&name, merged, true, o, &msg)
                        .map(|_| report.conflicts.push(format!("{stage}/{run_id}")))
                }
            };
            match moved {
                Ok(()) => return Ok(()),
                Err(e) => self
                    .wait_to_retry(e, &name, attempt)
                    .map_err(Error::git(format!("cannot move {name}")))?,
            }
        }
        Err(Error::refused(format!(
            "{name} stayed busy; it was not merged from {remote}"
        ))
        .hint("run 'git workbench fetch' again"))
    }

    fn descends(&self, commit: Oid, ancestor: Oid) -> bool {
        self.repo
            .graph_descendant_of(commit, ancestor)
            .unwrap_or(false)
    }

    /// A merge commit of two diverged run histories: files both sides agree on stay;
    /// the others go under `ours/` and `theirs/`, decisions (approval, feedback) leave
    /// the top level, and `conflict.json` says what each side last did.
    fn conflict_commit(
        &self,
        stage: &str,
        run_id: &str,
        ours: Oid,
        theirs: Oid,
        remote: &str,
    ) -> Result<Oid> {
        let ctx = || format!("cannot merge the diverged histories of run {run_id}");
        let repo = &self.repo;
        let (oc, tc) = (
            repo.find_commit(ours).map_err(Error::git(ctx()))?,
            repo.find_commit(theirs).map_err(Error::git(ctx()))?,
        );
        let (ot, tt) = (
            oc.tree().map_err(Error::git(ctx()))?,
            tc.tree().map_err(Error::git(ctx()))?,
        );
        let mut top = repo.treebuilder(Some(&ot)).map_err(Error::git(ctx()))?;
        let mut ours_dir = repo.treebuilder(None).map_err(Error::git(ctx()))?;
        let mut theirs_dir = repo.treebuilder(None).map_err(Error::git(ctx()))?;
        let mut names: Vec<String> = Vec::new();
        for t in [&ot, &tt] {
            for e in t.iter() {
                if let Ok(n) = e.name() {
                    if !names.iter().any(|x| x == n) {
                        names.push(n.to_string());
                    }
                }
            }
        }
        for n in &names {
            let (a, b) = (ot.get_name(n), tt.get_name(n));
            if a.as_ref().map(|e| e.id()) == b.as_ref().map(|e| e.id()) {
                continue;
            }
            if let Some(e) = &a {
                ours_dir
                    .insert(n, e.id(), e.filemode())
                    .map_err(Error::git(ctx()))?;
            }
            if let Some(e) = &b {
                theirs_dir
                    .insert(n, e.id(), e.filemode())
                    .map_err(Error::git(ctx()))?;
                if a.is_none() && !is_decision(n) {
                    top.insert(n, e.id(), e.filemode())
                        .map_err(Error::git(ctx()))?;
                }
            }
            if is_decision(n) && top.get(n).ok().flatten().is_some() {
                top.remove(n).map_err(Error::git(ctx()))?;
            }
        }
        let event = |c: &git2::Commit| {
            event_of_message(c.message().unwrap_or_default()).map_or("unknown", RunEvent::as_str)
        };
        let (ours_event, theirs_event) = (event(&oc), event(&tc));
        let conflict = serde_json::json!({
            "schema": "workbench.conflict/v1",
            "stage": stage,
            "run_id": run_id,
            "remote": remote,
            "ours": {"commit": ours.to_string(), "event": ours_event},
            "theirs": {"commit": theirs.to_string(), "event": theirs_event},
        });
        let blob = repo
            .blob(
                format!(
                    "{}\n",
                    serde_json::to_string_pretty(&conflict).expect("json")
                )
                .as_bytes(),
            )
            .map_err(Error::git(ctx()))?;
        top.insert(CONFLICT_FILE, blob, FileMode::Blob.into())
            .map_err(Error::git(ctx()))?;
        for (dir, b) in [("ours", ours_dir), ("theirs", theirs_dir)] {
            if !b.is_empty() {
                let id = b.write().map_err(Error::git(ctx()))?;
                top.insert(dir, id, FileMode::Tree.into())
                    .map_err(Error::git(ctx()))?;
            }
        }
        let tree = repo
            .find_tree(top.write().map_err(Error::git(ctx()))?)
            .map_err(Error::git(ctx()))?;
        let summary = format!(
            "diverged: ours {ours_event} ({ours}), theirs from {remote} {theirs_event} ({theirs}); a new decision resolves it"
        );
        let message = record_message(RunEvent::Conflict, stage, run_id, &summary);
        let sig = self.signature()?;
        repo.commit(None, &sig, &sig, &message, &tree, &[&oc, &tc])
            .map_err(Error::git(ctx()))
    }

    /// Unions the remote's notes into the local index, line by line.
    fn merge_notes(&self, remote: &str, report: &mut MergeReport) -> Result<()> {
        let Ok(theirs) = self.repo.refname_to_id(&tracking_notes(remote)) else {
            return Ok(());
        };
        let ctx = || format!("cannot merge the notes index from {remote}");
        for attempt in 0..100 {
            let ours = self.repo.refname_to_id(NOTES_REF).ok();
            if let Some(o) = ours {
                if o == theirs || self.descends(o, theirs) {
                    return Ok(());
                }
            }
            let their_notes = self.note_blobs(theirs)?;
            let base = match ours {
                Some(o) => self
                    .repo
                    .find_commit(o)
                    .and_then(|c| c.tree())
                    .map_err(Error::git(ctx()))?,
                None => self
                    .repo
                    .find_tree(self.empty_tree()?)
                    .map_err(Error::git(ctx()))?,
            };
            let mut upd = git2::build::TreeUpdateBuilder::new();
            let mut added = 0;
            for (path, (target, blob)) in &their_notes {
                let mine = base
                    .get_path(std::path::Path::new(path))
                    .ok()
                    .map(|e| e.id());
                if mine == Some(*blob) {
                    continue;
                }
                let local_path = self.note_path_in(&base, *target).unwrap_or(path.clone());
                let mut lines: Vec<String> =
                    self.note_lines_in(&base, &local_path).unwrap_or_default();
                let before = lines.len();
                let text = self.repo.find_blob(*blob).map_err(Error::git(ctx()))?;
                for (n, line) in String::from_utf8_lossy(text.content()).lines().enumerate() {
                    let line = line.trim_end();
                    if line.is_empty() {
                        continue;
                    }
                    if serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line)
                        .is_err()
                    {
                        report.bad_note_lines.push(format!(
                            "note on {target} from {remote}, line {}: not a JSON object, skipped: {}",
                            n + 1,
                            line.chars().take(60).collect::<String>()
                        ));
                        continue;
                    }
                    lines.push(line.to_string());
                }
                lines.sort();
                lines.dedup();
                if lines.len() == before {
                    continue;
                }
                added += lines.len() - before;
                let mut content = lines.join("\n");
                content.push('\n');
                let b = self
                    .repo
                    .blob(content.as_bytes())
                    .map_err(Error::git(ctx()))?;
                upd.upsert(local_path.as_str(), b, FileMode::Blob);
            }
            let tree_id = upd
                .create_updated(&self.repo, &base)
                .map_err(Error::git(ctx()))?;
            let tree = self.repo.find_tree(tree_id).map_err(Error::git(ctx()))?;
            let tc = self.repo.find_commit(theirs).map_err(Error::git(ctx()))?;
            // Theirs already holds everything ours does (and nothing malformed): take it
            // as it is, so clones converge on one notes commit instead of merging forever.
            let fast_forward =
                tc.tree_id() == tree_id && ours.is_none_or(|o| self.descends(theirs, o));
            let oc = match ours {
                Some(o) => Some(self.repo.find_commit(o).map_err(Error::git(ctx()))?),
                None => None,
            };
            let parents: Vec<&git2::Commit> = oc.iter().chain(std::iter::once(&tc)).collect();
            let sig = self.signature()?;
            let msg = format!("workbench: merged the notes index from {remote}");
            let commit = if fast_forward {
                theirs
            } else {
                self.repo
                    .commit(None, &sig, &sig, &msg, &tree, &parents)
                    .map_err(Error::git(ctx()))?
            };
            let _ = self.repo.reference_ensure_log(NOTES_REF);
            let moved = match ours {
                Some(o) => self
                    .repo
                    .reference_matching(NOTES_REF, commit, true, o, &msg)
                    .map(|_| ()),
                None => self.create_ref_exclusive(NOTES_REF, commit, &msg),
            };
            match moved {
                Ok(()) => {
                    report.notes_lines_added += added;
                    return Ok(());
                }
                Err(e) => self
                    .wait_to_retry(e, NOTES_REF, attempt)
                    .map_err(Error::git(ctx()))?,
            }
        }
        Err(Error::refused(format!(
            "{NOTES_REF} stayed busy; the notes were not merged"
        ))
        .hint("run 'git workbench fetch' again"))
    }

    /// Every note blob of a notes commit: path → (annotated commit, blob).
    fn note_blobs(&self, notes_commit: Oid) -> Result<BTreeMap<String, (Oid, Oid)>> {
        let tree = self
            .repo
            .find_commit(notes_commit)
            .and_then(|c| c.tree())
            .map_err(Error::git(format!(
                "cannot read notes commit {notes_commit}"
            )))?;
        let mut out = BTreeMap::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, e| {
            if e.kind() == Some(git2::ObjectType::Blob) {
                if let Ok(n) = e.name() {
                    let path = format!("{dir}{n}");
                    let hex: String = path.chars().filter(|c| *c != '/').collect();
                    if let Ok(target) = Oid::from_str(&hex) {
                        if hex.len() == 40 {
                            out.insert(path, (target, e.id()));
                        }
                    }
                }
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(Error::git("cannot walk the notes tree"))?;
        Ok(out)
    }

    fn note_path_in(&self, tree: &git2::Tree, target: Oid) -> Option<String> {
        let hex = target.to_string();
        [
            hex.clone(),
            format!("{}/{}", &hex[..2], &hex[2..]),
            format!("{}/{}/{}", &hex[..2], &hex[2..4], &hex[4..]),
        ]
        .into_iter()
        .find(|p| tree.get_path(std::path::Path::new(p)).is_ok())
    }

    fn note_lines_in(&self, tree: &git2::Tree, path: &str) -> Option<Vec<String>> {
        let e = tree.get_path(std::path::Path::new(path)).ok()?;
        let b = self.repo.find_blob(e.id()).ok()?;
        Some(
            String::from_utf8_lossy(b.content())
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    /// Takes the remote's approved index for a stage when it is valid here and newer.
    fn merge_approved(&self, remote: &str, report: &mut MergeReport) -> Result<()> {
        let prefix = tracking_approved(remote);
        for (name, theirs) in self.refs_under(&prefix)? {
            let stage = &name[prefix.len()..];
            let index = approved_ref(stage);
            let ours = self.repo.refname_to_id(&index).ok();
            if ours == Some(theirs) {
                continue;
            }
            // Valid only if it is the current tip of the run it names.
            let Some(run) = self.run_of_record(stage, theirs)? else {
                continue;
            };
            if run.tip != theirs {
                continue;
            }
            let newer = match ours {
                None => true,
                Some(o) => match self.run_of_record(stage, o)? {
                    Some(r) if r.tip == o => self.approval_time(theirs) > self.approval_time(o),
                    _ => true, // the local index is stale
                },
            };
            if !newer {
                continue;
            }
            let _ = self.repo.reference_ensure_log(&index);
            let msg = format!("workbench: approved index from {remote}");
            let moved = match ours {
                Some(o) => self
                    .repo
                    .reference_matching(&index, theirs, true, o, &msg)
                    .map(|_| ()),
                None => self.create_ref_exclusive(&index, theirs, &msg),
            };
            match moved {
                Ok(()) => report.approved_updated.push(stage.to_string()),
                // Someone approved meanwhile: theirs is no longer newer by definition.
                Err(e) if is_contention(&e) => {}
                Err(e) => return Err(Error::git(format!("cannot move {index}"))(e)),
            }
        }
        Ok(())
    }

    /// The run a record commit belongs to, from its `Workbench-Run` trailer.
    fn run_of_record(&self, stage: &str, commit: Oid) -> Result<Option<super::RunRef>> {
        let Ok(c) = self.repo.find_commit(commit) else {
            return Ok(None);
        };
        let message = c.message().unwrap_or_default();
        let Some(run_id) = message
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("Workbench-Run: "))
            .map(str::trim)
        else {
            return Ok(None);
        };
        self.find_run(stage, run_id)
    }

    fn approval_time(&self, commit: Oid) -> String {
        self.record_file(commit, "approval.json")
            .ok()
            .flatten()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["timestamp"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Pushes the records with compare-and-swap: run refs and the notes index only
    /// fast-forward (the merge made them descend from the remote's), approved-index refs
    /// with `--force-with-lease` against the value last fetched; all in one atomic
    /// push. A remote that moved since the fetch gives `Stale`.
    pub fn push_records(&self, remote: &str) -> Result<PushResult> {
        self.check_remote(remote)?;
        let mut cmd = self.git_cmd();
        cmd.args(["push", "--porcelain", "--atomic", "--no-verify"])
            .arg(remote);
        let mut specs = 0;
        if !self.refs_under(RUNS_PREFIX)?.is_empty() {
            cmd.arg(format!("{RUNS_PREFIX}*:{RUNS_PREFIX}*"));
            specs += 1;
        }
        if self.repo.refname_to_id(NOTES_REF).is_ok() {
            cmd.arg(format!("{NOTES_REF}:{NOTES_REF}"));
            specs += 1;
        }
        for (name, _) in self.refs_under(APPROVED_PREFIX)? {
            let stage = &name[APPROVED_PREFIX.len()..];
            let expect = self
                .repo
                .refname_to_id(&format!("{}{stage}", tracking_approved(remote)))
                .map(|o| o.to_string())
                .unwrap_or_default();
            cmd.arg(format!("--force-with-lease={name}:{expect}"));
            cmd.arg(format!("{name}:{name}"));
            specs += 1;
        }
        if specs == 0 {
            return Ok(PushResult::Done { updated: 0 });
        }
        let o = cmd
            .output()
            .map_err(|e| Error::input(format!("cannot run git push: {e}")))?;
        let stdout = String::from_utf8_lossy(&o.stdout);
        let mut updated = 0;
        let mut stale = false;
        let mut refused: Vec<String> = Vec::new();
        for line in stdout.lines() {
            let mut parts = line.split('\t');
            let (Some(flag), Some(spec), summary) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let summary = summary.unwrap_or("");
            match flag {
                " " | "+" | "*" => updated += 1,
                // A concurrent push to the same remote: try again after a fetch.
                "!" if summary.contains("remote rejected") && is_race(summary) => stale = true,
                "!" if summary.contains("remote rejected") => refused.push(format!(
                    "{}: {summary}",
                    spec.split(':').nth(1).unwrap_or(spec)
                )),
                "!" if summary.contains("atomic push failed") => {}
                "!" => stale = true,
                _ => {}
            }
        }
        if !refused.is_empty() {
            return Err(Error::refused(format!(
                "{remote} refused the workbench refs ({}{})",
                refused[0],
                if refused.len() > 1 {
                    format!(" and {} more", refused.len() - 1)
                } else {
                    String::new()
                }
            ))
            .hint("the host must accept pushes to refs/workbench/* and refs/notes/workbench (custom ref namespaces); nothing was changed there, and nothing is lost here"));
        }
        if stale {
            return Ok(PushResult::Stale);
        }
        if !o.status.success() {
            return Err(transport_error("push to", remote, &o.stderr));
        }
        Ok(PushResult::Done { updated })
    }
}

/// Reasons a remote gives when another push won a race, not a policy refusal.
fn is_race(summary: &str) -> bool {
    [
        "atomic transaction failed",
        "failed to update ref",
        "lock",
        "incorrect old value",
        "stale",
    ]
    .iter()
    .any(|r| summary.contains(r))
}

fn is_decision(name: &str) -> bool {
    matches!(name, "approval.json" | "feedback.json")
}

fn transport_error(what: &str, remote: &str, stderr: &[u8]) -> Error {
    let text = String::from_utf8_lossy(stderr);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("git failed without a message")
        .trim()
        .to_string();
    Error::input(format!("cannot {what} {remote}: {first}"))
        .hint("nothing was lost locally; run the command again when the remote is reachable")
}
