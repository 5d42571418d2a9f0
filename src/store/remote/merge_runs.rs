//! Merging a remote's run refs: create, fast-forward, or keep both histories of a run
//! two clones moved differently as a `conflict` merge commit.

use super::super::cas::{Cas, RefUpdate};
use super::super::error::{Error, Result};
use super::super::refs::{parse_run_ref, run_ref, CONFLICTS_PREFIX, RUNS_PREFIX};
use super::super::transitions::CONFLICT_FILE;
use super::super::{id, oid, Store};
use super::{tracking_runs, MergeReport};
use crate::model::decision::{ConflictRecord, ConflictSide, CONFLICT_SCHEMA};
use crate::model::event::{record_message, Trailers};
use crate::model::state::RunEvent;
use crate::model::{RunId, StageName};
use git2::{FileMode, Oid};

/// What one run's merge did.
enum Merged {
    Created,
    FastForwarded,
    Unchanged,
    Conflict,
    /// Both clones made the same decision: merged into one, no conflict.
    Identical,
    /// The remote's record of this run id shares no history with ours.
    Unrelated,
}

impl Store {
    /// Leaves a conflict marker when `tip` records a conflict (best effort: the
    /// marker is derived, and `doctor` rebuilds it).
    fn mark_if_conflict(&self, stage: &StageName, run_id: &RunId, tip: Oid) {
        if self.latest_event(id(tip)).ok().flatten() == Some(RunEvent::Conflict) {
            let _ = self.repo.reference(
                &format!("{CONFLICTS_PREFIX}{stage}/{run_id}"),
                tip,
                true,
                "workbench: conflict",
            );
        }
    }

    /// The runs of `stage` whose record is in conflict now, newest first; markers of
    /// runs that moved on are removed.
    pub fn conflicted_runs(&self, stage: &StageName) -> Result<Vec<RunId>> {
        Ok(self
            .conflicted_runs_by_stage()?
            .remove(stage)
            .unwrap_or_default())
    }

    /// Every stage's runs in conflict now, newest first, from the markers (one
    /// listing, and none at all when no marker was ever written).
    pub fn conflicted_runs_by_stage(
        &self,
    ) -> Result<std::collections::BTreeMap<StageName, Vec<RunId>>> {
        let mut out: std::collections::BTreeMap<StageName, Vec<RunId>> = Default::default();
        let dir = self
            .repo
            .commondir()
            .join(CONFLICTS_PREFIX.trim_end_matches('/'));
        // a binary search, not a read of every packed ref
        let packed =
            crate::store::packed_refs::may_hold_under(self.repo.commondir(), CONFLICTS_PREFIX);
        if !dir.exists() && !packed {
            return Ok(out);
        }
        for (name, target) in self.refs_under(CONFLICTS_PREFIX)? {
            let Some((stage, run_id)) = name[CONFLICTS_PREFIX.len()..]
                .split_once('/')
                .and_then(|(s, r)| Some((StageName::new(s).ok()?, RunId::new(r).ok()?)))
            else {
                continue;
            };
            match self.find_run(&stage, &run_id)? {
                Some(r) if r.tip == id(target) => out.entry(stage).or_default().push(run_id),
                _ => {
                    if let Ok(mut r) = self.repo.find_reference(&name) {
                        let _ = r.delete();
                    }
                }
            }
        }
        for v in out.values_mut() {
            v.reverse();
        }
        Ok(out)
    }

    /// Rebuilds every conflict marker from the run refs; the number of runs in conflict.
    pub fn rebuild_conflict_markers(&self) -> Result<usize> {
        let mut n = 0;
        for r in self.list_runs(None)? {
            if self.latest_event(r.tip)? == Some(RunEvent::Conflict) {
                self.mark_if_conflict(&r.stage, &r.run_id, oid(r.tip));
                n += 1;
            }
        }
        Ok(n)
    }

    /// Merges each tracking run ref (`theirs`, in name order). With `verify`, a tip
    /// this clone does not hold already is judged (`check_run_deep`) before it is taken.
    pub(super) fn merge_runs(
        &self,
        remote: &str,
        theirs: &[(String, Oid)],
        verify: bool,
        report: &mut MergeReport,
    ) -> Result<()> {
        let prefix = tracking_runs(remote);
        let mut memo = super::super::TreeMemo::default();
        for (name, theirs) in theirs {
            let theirs = *theirs;
            let local = format!("{RUNS_PREFIX}{}", &name[prefix.len()..]);
            // A tracking ref that is not a valid stage and run id names no run.
            let Some((stage, run_id)) = parse_run_ref(&local) else {
                continue;
            };
            if verify {
                let ours = self.repo.refname_to_id(&local).ok();
                let held = ours.is_some_and(|o| o == theirs || self.descends(o, theirs));
                if !held {
                    let run = super::super::RunRef {
                        stage: stage.clone(),
                        run_id: run_id.clone(),
                        tip: id(theirs),
                    };
                    let why = match self.check_run_deep(&run, &mut memo) {
                        Ok(Ok(_)) => None,
                        Ok(Err(invalid)) => Some(invalid.why),
                        Err(e) => Some(format!("it cannot be read: {e}")),
                    };
                    if let Some(why) = why {
                        report.refused.push(super::RefusedRecord {
                            ref_name: local.clone(),
                            commit: id(theirs),
                            why: format!(
                                "{why} (its tracking ref was not written by a fetch through the quarantine); not merged"
                            ),
                        });
                        continue;
                    }
                }
            }
            let merged = self.merge_run(&stage, &run_id, theirs, remote)?;
            if !matches!(merged, Merged::Unchanged | Merged::Unrelated) {
                report.touched.insert(stage.to_string());
            }
            match merged {
                Merged::Created => report.created += 1,
                Merged::FastForwarded => report.fast_forwarded += 1,
                Merged::Unchanged => report.unchanged += 1,
                Merged::Identical => report.identical.push(format!("{stage}/{run_id}")),
                Merged::Unrelated => report.refused.push(super::RefusedRecord {
                    ref_name: local.clone(),
                    commit: id(theirs),
                    why: "it shares no history with this clone's record of the same run id; not merged".into(),
                }),
                Merged::Conflict => report.conflicts.push(format!("{stage}/{run_id}")),
            }
        }
        Ok(())
    }

    fn merge_run(
        &self,
        stage: &StageName,
        run_id: &RunId,
        theirs: Oid,
        remote: &str,
    ) -> Result<Merged> {
        let name = run_ref(stage, run_id);
        let msg = format!("workbench: merged from {remote}");
        let what = format!("it was not merged from {remote}");
        self.retry(&name, &what, || {
            let ours = self.repo.refname_to_id(&name).ok();
            let (new, merged) = match ours {
                None => (theirs, Merged::Created),
                Some(o) if o == theirs || self.descends(o, theirs) => {
                    return Ok(Ok(Merged::Unchanged))
                }
                Some(o) if self.descends(theirs, o) => (theirs, Merged::FastForwarded),
                // The same run id with another first record: not the same run at all.
                // Merging would make a record with two first commits, which no rule
                // accepts; it stays out, and is reported.
                Some(o) if self.repo.merge_base(o, theirs).is_err() => {
                    return Ok(Ok(Merged::Unrelated))
                }
                Some(o) if self.identical_decisions(o, theirs)? => (
                    self.identical_merge(stage, run_id, o, theirs)?,
                    Merged::Identical,
                ),
                Some(o) => (
                    self.conflict_commit(stage, run_id, o, theirs, remote)?,
                    Merged::Conflict,
                ),
            };
            match self.compare_and_swap(&[RefUpdate::new(&name, ours, new)], &msg) {
                Ok(()) => {
                    self.mark_if_conflict(stage, run_id, new);
                    Ok(Ok(merged))
                }
                Err(Cas::Failed(e)) => Err(e),
                Err(lost) => Ok(Err(lost)),
            }
        })
    }

    /// True when both tips record the same decision (`model::integrity::identical_decisions`).
    fn identical_decisions(&self, a: Oid, b: Oid) -> Result<bool> {
        type Decision = (
            Option<RunEvent>,
            std::collections::BTreeMap<String, Vec<u8>>,
        );
        let read = |o: Oid| -> Result<Decision> {
            let ctx = || format!("cannot read run record {o}");
            let c = self.find_commit(o, ctx)?;
            let tree = c.tree().map_err(Error::git(ctx()))?;
            let files = self.rule_files(&tree).map_err(Error::git(ctx()))?;
            Ok((
                Trailers::parse(c.message().unwrap_or_default()).event,
                files,
            ))
        };
        let ((ea, fa), (eb, fb)) = (read(a)?, read(b)?);
        Ok(ea == eb
            && matches!(ea, Some(RunEvent::Approved | RunEvent::Rejected))
            && crate::model::integrity::identical_decisions(&fa, &fb))
    }

    /// The merge of two identical decisions: both as parents, lower object id first,
    /// with that one's tree, author, committer and times, so every clone that merges
    /// the same two makes the same commit and they converge.
    fn identical_merge(&self, stage: &StageName, run_id: &RunId, a: Oid, b: Oid) -> Result<Oid> {
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        let ctx = || format!("cannot merge the identical decisions on run {run_id}");
        let (lc, hc) = (self.find_commit(lo, ctx)?, self.find_commit(hi, ctx)?);
        let event = Trailers::parse(lc.message().unwrap_or_default())
            .event
            .unwrap_or(RunEvent::Approved);
        let summary = format!("identical {event} decisions from two clones: {lo} and {hi}");
        let message = record_message(event, stage, run_id, &summary);
        let tree = lc.tree().map_err(Error::git(ctx()))?;
        let (author, committer) = (lc.author().to_owned(), lc.committer().to_owned());
        self.repo
            .commit(None, &author, &committer, &message, &tree, &[&lc, &hc])
            .map_err(Error::git(ctx()))
    }

    /// A merge commit of two diverged run histories: files both sides agree on stay;
    /// the others go under `ours/` and `theirs/`, decisions (approval, feedback) leave
    /// the top level, and `conflict.json` says what each side last did.
    fn conflict_commit(
        &self,
        stage: &StageName,
        run_id: &RunId,
        ours: Oid,
        theirs: Oid,
        remote: &str,
    ) -> Result<Oid> {
        let ctx = || format!("cannot merge the diverged histories of run {run_id}");
        let repo = &self.repo;
        let (oc, tc) = (self.find_commit(ours, ctx)?, self.find_commit(theirs, ctx)?);
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
            Trailers::parse(c.message().unwrap_or_default())
                .event
                .map_or("unknown", RunEvent::as_str)
                .to_string()
        };
        let conflict = ConflictRecord {
            schema: CONFLICT_SCHEMA.into(),
            stage: stage.clone(),
            run_id: run_id.clone(),
            remote: remote.to_string(),
            ours: ConflictSide {
                commit: id(ours),
                event: event(&oc),
            },
            theirs: ConflictSide {
                commit: id(theirs),
                event: event(&tc),
            },
        };
        let blob = repo
            .blob(crate::model::record::to_json(&conflict).as_bytes())
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
            "diverged: ours {} ({ours}), theirs from {remote} {} ({theirs}); a new decision resolves it",
            conflict.ours.event, conflict.theirs.event
        );
        let message = record_message(RunEvent::Conflict, stage, run_id, &summary);
        let sig = self.signature()?;
        repo.commit(None, &sig, &sig, &message, &tree, &[&oc, &tc])
            .map_err(Error::git(ctx()))
    }
}

fn is_decision(name: &str) -> bool {
    matches!(name, "approval.json" | "feedback.json")
}

#[cfg(test)]
mod tests {
    use crate::model::decision::ConflictRecord;
    use crate::model::state::RunEvent;
    use crate::store::remote::tests::{a_run, decide, decide_as, team};

    #[test]
    fn new_behind_and_diverged_runs() {
        let t = team();
        let run = a_run(&t.ours, "20260308T142233Z-0001");
        t.ours.push_records("origin").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        let r = t.theirs.merge_records("origin").unwrap();
        assert_eq!((r.created, r.unchanged), (1, 0));
        let r = t.theirs.merge_records("origin").unwrap();
        assert_eq!((r.created, r.unchanged), (0, 1), "idempotent");

        // ours moves on: theirs fast-forwards
        let reviewed = decide(&t.ours, &run, RunEvent::Reviewed);
        t.ours.push_records("origin").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        assert_eq!(t.theirs.merge_records("origin").unwrap().fast_forwarded, 1);

        // both decide differently: a conflict commit with both parents
        let theirs_run = t.theirs.find_run(&run.stage, &run.run_id).unwrap().unwrap();
        decide(&t.theirs, &theirs_run, RunEvent::Rejected);
        decide(&t.ours, &reviewed, RunEvent::Approved);
        t.theirs.push_records("origin").unwrap();
        t.ours.fetch_records("origin").unwrap();
        let r = t.ours.merge_records("origin").unwrap();
        assert_eq!(r.conflicts, [format!("train/{}", run.run_id)]);
        let merged = t.ours.find_run(&run.stage, &run.run_id).unwrap().unwrap();
        assert_eq!(
            t.ours.latest_event(merged.tip).unwrap(),
            Some(RunEvent::Conflict)
        );
        let c: ConflictRecord = t.ours.read_record(merged.tip).unwrap().unwrap();
        assert_eq!(c.schema, "workbench/conflict/v1");
        assert_eq!(
            (c.ours.event.as_str(), c.theirs.event.as_str()),
            ("approved", "rejected")
        );
        let commit = t
            .ours
            .raw()
            .find_commit(crate::store::oid(merged.tip))
            .unwrap();
        assert_eq!(commit.parent_count(), 2);
    }

    #[test]
    fn identical_decisions_merge_into_one_commit_in_every_clone() {
        let t = team();
        let run = a_run(&t.ours, "20260308T142233Z-0001");
        let reviewed = decide(&t.ours, &run, RunEvent::Reviewed);
        t.ours.push_records("origin").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        t.theirs.merge_records("origin").unwrap();
        // both approve the same bytes with the same interpretation, a second apart
        decide_as(&t.ours, &reviewed, RunEvent::Approved, "same");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        decide_as(&t.theirs, &reviewed, RunEvent::Approved, "same");
        t.ours.push_records("origin").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        let r = t.theirs.merge_records("origin").unwrap();
        assert!(r.conflicts.is_empty(), "{r:?}");
        assert_eq!(r.identical, [format!("train/{}", run.run_id)]);
        let theirs = t.theirs.find_run(&run.stage, &run.run_id).unwrap().unwrap();
        assert_eq!(
            t.theirs.latest_event(theirs.tip).unwrap(),
            Some(RunEvent::Approved)
        );
        t.theirs
            .checked_run(&theirs)
            .expect("the merge is a valid record");
        assert_eq!(
            t.theirs.approved_run(&run.stage).unwrap().unwrap().tip,
            theirs.tip
        );
        t.theirs.push_records("origin").unwrap();
        t.ours.fetch_records("origin").unwrap();
        // from its side, ours makes the very same merge commit of the two approvals
        let ours_tip = crate::store::oid(
            t.ours
                .find_run(&run.stage, &run.run_id)
                .unwrap()
                .unwrap()
                .tip,
        );
        let merge = t
            .theirs
            .raw()
            .find_commit(crate::store::oid(theirs.tip))
            .unwrap();
        let other = merge.parent_ids().find(|p| *p != ours_tip).unwrap();
        let same = t
            .ours
            .identical_merge(&run.stage, &run.run_id, ours_tip, other)
            .unwrap();
        assert_eq!(crate::store::id(same), theirs.tip);
        let r = t.ours.merge_records("origin").unwrap();
        assert!(r.conflicts.is_empty(), "{r:?}");
        let ours = t.ours.find_run(&run.stage, &run.run_id).unwrap().unwrap();
        assert_eq!(ours.tip, theirs.tip, "both clones hold the same record");

        // a different interpretation is a conflict
        let run2 = a_run(&t.ours, "20260308T142233Z-0002");
        let reviewed2 = decide(&t.ours, &run2, RunEvent::Reviewed);
        t.ours.push_records("origin").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        t.theirs.merge_records("origin").unwrap();
        decide_as(&t.ours, &reviewed2, RunEvent::Approved, "one reading");
        decide_as(&t.theirs, &reviewed2, RunEvent::Approved, "another reading");
        t.ours.push_records("origin").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        let r = t.theirs.merge_records("origin").unwrap();
        assert_eq!(r.conflicts, [format!("train/{}", run2.run_id)]);
        assert_eq!(
            t.theirs.conflicted_runs(&run.stage).unwrap(),
            std::slice::from_ref(&run2.run_id)
        );
    }

    #[test]
    fn a_tracking_ref_no_fetch_validated_is_judged_before_it_is_merged() {
        let t = team();
        let run = a_run(&t.ours, "20260308T142233Z-0001");
        t.ours.push_records("origin").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        // as a plain `git fetch` or `git update-ref` could: a tracking ref naming a
        // commit that is no run record
        let repo = t.theirs.raw();
        let empty = repo
            .find_tree(repo.treebuilder(None).unwrap().write().unwrap())
            .unwrap();
        let sig = git2::Signature::now("Mallory", "m@example.com").unwrap();
        let head = repo
            .commit(None, &sig, &sig, "not a record", &empty, &[])
            .unwrap();
        let forged = format!(
            "{}train/20260308T142233Z-0002",
            super::tracking_runs("origin")
        );
        t.theirs
            .raw()
            .reference(&forged, head, true, "forged")
            .unwrap();
        let r = t.theirs.merge_records("origin").unwrap();
        assert_eq!(r.created, 1, "the real run still merges: {r:?}");
        assert_eq!(r.refused.len(), 1, "{r:?}");
        assert!(r.refused[0].why.contains("not written by a fetch"), "{r:?}");
        let id = crate::model::RunId::new("20260308T142233Z-0002").unwrap();
        assert!(t.theirs.find_run(&run.stage, &id).unwrap().is_none());
        // a fetch through the quarantine puts the tracking refs back as the remote has them
        t.theirs.fetch_records("origin").unwrap();
        assert!(t.theirs.raw().find_reference(&forged).is_err());
        let r = t.theirs.merge_records("origin").unwrap();
        assert_eq!((r.unchanged, r.refused.len()), (1, 0), "{r:?}");
    }
}
