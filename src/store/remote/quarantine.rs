//! Fetching another clone's records without trusting them. The remote's objects land
//! first in a quarantine repository whose object store borrows ours (alternates), so
//! nothing fetched touches this repository's objects or refs. Every run record there
//! is judged (`check_run_deep`: the record rules and every tree path); only the ones
//! that pass are then fetched from the quarantine into the tracking refs, with git's
//! own object checks on (`fetch.fsckObjects`), so `git fsck --strict` stays clean
//! whatever a remote holds. Refused records are named with their reason, remembered
//! (so an unchanged remote is not fetched again), and left out of pushes; the rest of
//! the sync goes on.

use super::super::error::{Error, Result};
use super::super::refs::{APPROVED_PREFIX, NOTES_REF, RUNS_PREFIX};
use super::super::{id, Store, TreeMemo};
use super::{tracking_approved, tracking_notes, tracking_runs};
use crate::exec::progress::{Phase, Progress, Unit};
use crate::model::ObjectId;
use git2::Oid;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A remote record a fetch did not take, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusedRecord {
    /// The ref as the remote names it, e.g. `refs/workbench/runs/train/<id>`.
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub commit: ObjectId,
    pub why: String,
}

/// The quarantine directory, removed however the fetch ends.
struct Quarantine(PathBuf);

impl Drop for Quarantine {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Store {
    fn refused_file(&self, remote: &str) -> PathBuf {
        let key = crate::model::digest::sha256_hex(remote.as_bytes());
        self.repo
            .commondir()
            .join("workbench")
            .join("refused")
            .join(&key[..16])
    }

    /// Records refused at the last fetch from `remote`: tracking name → record.
    fn refused_before(&self, remote: &str) -> BTreeMap<String, RefusedRecord> {
        std::fs::read(self.refused_file(remote))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn remember_refused(&self, remote: &str, refused: &BTreeMap<String, RefusedRecord>) {
        let file = self.refused_file(remote);
        if refused.is_empty() {
            let _ = std::fs::remove_file(&file);
            return;
        }
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let bytes = serde_json::to_vec(refused).expect("refused records serialize");
        if std::fs::write(&tmp, bytes).is_ok() {
            let _ = std::fs::rename(&tmp, &file);
        }
    }

    /// The local run refs a push must leave alone: the remote holds a record for
    /// them that was refused.
    pub(crate) fn refused_local_refs(&self, remote: &str) -> BTreeSet<String> {
        self.refused_before(remote)
            .into_values()
            .map(|r| r.ref_name)
            .collect()
    }

    /// Fetches the remote's run refs, approved index and notes into tracking refs,
    /// through the quarantine; skipped when the remote advertises exactly what the
    /// tracking refs hold and what was refused before. Returns what was refused.
    pub fn fetch_records(&self, remote: &str) -> Result<Vec<RefusedRecord>> {
        self.fetch_records_shown(remote, &crate::exec::progress::NONE)
    }

    /// `fetch_records`, reporting its phases (fetching, judging each run record) to
    /// `progress`.
    pub fn fetch_records_shown(
        &self,
        remote: &str,
        progress: &dyn Progress,
    ) -> Result<Vec<RefusedRecord>> {
        let fetching = Phase::begin(progress, &format!("fetching {remote}"), None, Unit::Steps);
        self.check_remote(remote)?;
        let advertised = self.remote_state(remote)?;
        let before = self.refused_before(remote);
        let mut expected = self.tracking_state(remote)?;
        for (tracked, r) in &before {
            expected.insert(tracked.clone(), r.commit.to_string());
        }
        if advertised == expected {
            return Ok(before.into_values().collect());
        }
        let q = self.quarantine(remote)?;
        let qstore = Store {
            repo: git2::Repository::open_bare(&q.0)
                .map_err(Error::git("cannot open the fetch quarantine"))?,
            events: Default::default(),
            decisions: Default::default(),
        };
        drop(fetching);
        let runs = qstore.refs_under(&tracking_runs(remote))?;
        let judging = Phase::begin(
            progress,
            "judging records",
            Some(runs.len() as u64),
            Unit::Records,
        );
        let mut refused = BTreeMap::new();
        let mut accepted: Vec<(String, Oid)> = Vec::new();
        let mut memo = TreeMemo::default();
        let mut run_tips = BTreeSet::new();
        let runs_prefix = tracking_runs(remote);
        for (name, tip) in runs {
            progress.advance(1);
            let remote_ref = format!("{RUNS_PREFIX}{}", &name[runs_prefix.len()..]);
            progress.item(&remote_ref);
            let refuse = |why: String| RefusedRecord {
                ref_name: remote_ref.clone(),
                commit: id(tip),
                why,
            };
            let Some((stage, run_id)) = super::super::refs::parse_run_ref(&remote_ref) else {
                refused.insert(name, refuse("its name is not a stage and run id".into()));
                continue;
            };
            let run = super::super::RunRef {
                stage,
                run_id,
                tip: id(tip),
            };
            match qstore.check_run_deep(&run, &mut memo) {
                Ok(Ok(_)) => {
                    run_tips.insert(tip);
                    accepted.push((name, tip));
                }
                Ok(Err(invalid)) => {
                    refused.insert(name, refuse(invalid.why));
                }
                Err(e) => {
                    refused.insert(name, refuse(format!("it cannot be read: {e}")));
                }
            }
        }
        let approved_prefix = tracking_approved(remote);
        for (name, target) in qstore.refs_under(&approved_prefix)? {
            if run_tips.contains(&target) || self.repo.find_commit(target).is_ok() {
                accepted.push((name, target));
            } else {
                let stage = &name[approved_prefix.len()..];
                refused.insert(
                    name.clone(),
                    RefusedRecord {
                        ref_name: format!("{APPROVED_PREFIX}{stage}"),
                        commit: id(target),
                        why: "the approved index names a commit that is no valid run's record"
                            .into(),
                    },
                );
            }
        }
        if let Ok(notes) = qstore.repo.refname_to_id(&tracking_notes(remote)) {
            accepted.push((tracking_notes(remote), notes));
        }
        drop(judging);
        let _taking = Phase::begin(progress, "taking accepted records", None, Unit::Steps);
        self.take_from_quarantine(&q.0, &accepted, &mut refused)?;
        self.prune_tracking(remote, &advertised)?;
        self.remember_refused(remote, &refused);
        Ok(refused.into_values().collect())
    }

    /// A fresh quarantine repository holding what the remote has that we lack.
    fn quarantine(&self, remote: &str) -> Result<Quarantine> {
        let base = self.repo.commondir().join("workbench");
        remove_stale_quarantines(&base);
        let dir = base.join(format!(
            "quarantine-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let q = Quarantine(dir);
        for sub in ["objects/info", "objects/pack", "refs"] {
            std::fs::create_dir_all(q.0.join(sub)).map_err(|e| Error::Io {
                path: q.0.join(sub),
                source: e,
            })?;
        }
        let objects = self.repo.commondir().join("objects");
        let objects = objects.canonicalize().unwrap_or(objects);
        let files = [
            ("HEAD", "ref: refs/heads/main\n".to_string()),
            (
                "config",
                "[core]\n\trepositoryformatversion = 0\n\tbare = true\n".into(),
            ),
            (
                "objects/info/alternates",
                format!("{}\n", objects.display()),
            ),
        ];
        for (name, text) in files {
            std::fs::write(q.0.join(name), text).map_err(|e| Error::Io {
                path: q.0.join(name),
                source: e,
            })?;
        }
        let url = match self.repo.find_remote(remote) {
            Ok(r) => r
                .url()
                .ok()
                .map_or_else(|| remote.to_string(), str::to_string),
            Err(_) => remote.to_string(),
        };
        let o = self.run_git(
            "fetch",
            Command::new("git")
                .arg("--git-dir")
                .arg(&q.0)
                .env_remove("GIT_INDEX_FILE")
                .env_remove("GIT_DIR")
                .env_remove("GIT_WORK_TREE")
                .env_remove("GIT_OBJECT_DIRECTORY")
                .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES")
                .args(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"])
                .arg(&url)
                .arg(format!("+{RUNS_PREFIX}*:{}*", tracking_runs(remote)))
                .arg(format!(
                    "+{APPROVED_PREFIX}*:{}*",
                    tracking_approved(remote)
                ))
                // a glob, so a remote without notes is no error
                .arg(format!("+{NOTES_REF}*:{}*", tracking_notes(remote))),
        )?;
        if !o.status.success() {
            return Err(super::transport::transport_error(
                "fetch from",
                remote,
                &o.stderr,
            ));
        }
        Ok(q)
    }

    /// Fetches the accepted refs from the quarantine into the tracking refs with
    /// git's object checks on; when git refuses the batch, ref by ref, refusing the
    /// ones it rejects.
    fn take_from_quarantine(
        &self,
        q: &Path,
        accepted: &[(String, Oid)],
        refused: &mut BTreeMap<String, RefusedRecord>,
    ) -> Result<()> {
        if accepted.is_empty() {
            return Ok(());
        }
        let specs: Vec<String> = accepted.iter().map(|(n, _)| format!("+{n}:{n}")).collect();
        if self.fetch_checked(q, &specs)?.is_ok() {
            return Ok(());
        }
        for ((name, target), spec) in accepted.iter().zip(&specs) {
            if let Err(why) = self.fetch_checked(q, std::slice::from_ref(spec))? {
                refused.insert(
                    name.clone(),
                    RefusedRecord {
                        ref_name: remote_name_of(name),
                        commit: id(*target),
                        why: format!("git refuses its objects: {why}"),
                    },
                );
            }
        }
        Ok(())
    }

    fn fetch_checked(&self, q: &Path, specs: &[String]) -> Result<std::result::Result<(), String>> {
        let mut child = self
            .git_cmd()
            .args([
                "-c",
                "fetch.fsckObjects=true",
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--stdin",
            ])
            .arg(q)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Tool {
                what: "cannot run git fetch".into(),
                message: e.to_string(),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(specs.join("\n").as_bytes());
        }
        let o = child.wait_with_output().map_err(|e| Error::Tool {
            what: "cannot run git fetch".into(),
            message: e.to_string(),
        })?;
        if o.status.success() {
            return Ok(Ok(()));
        }
        let text = String::from_utf8_lossy(&o.stderr);
        let first = text
            .lines()
            .find(|l| l.contains("error") || l.contains("fatal"))
            .or_else(|| text.lines().next())
            .unwrap_or("git fetch failed")
            .trim()
            .to_string();
        Ok(Err(first))
    }

    /// Deletes tracking refs of records the remote no longer has.
    fn prune_tracking(&self, remote: &str, advertised: &BTreeMap<String, String>) -> Result<()> {
        for prefix in [tracking_runs(remote), tracking_approved(remote)] {
            for (name, _) in self.refs_under(&prefix)? {
                if !advertised.contains_key(&name) {
                    if let Ok(mut r) = self.repo.find_reference(&name) {
                        let _ = r.delete();
                    }
                }
            }
        }
        Ok(())
    }
}

/// The remote's name of a tracking ref.
fn remote_name_of(tracking: &str) -> String {
    for (kind, local) in [("/runs/", RUNS_PREFIX), ("/approved/", APPROVED_PREFIX)] {
        if let Some(rest) = tracking
            .strip_prefix("refs/workbench/remotes/")
            .and_then(|r| r.split_once(kind))
        {
            return format!("{local}{}", rest.1);
        }
    }
    NOTES_REF.to_string()
}

/// Removes quarantines a killed fetch left behind (an hour old: a fetch never takes
/// that long holding one, and a live one is never touched sooner).
fn remove_stale_quarantines(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600));
        if old && e.file_name().to_string_lossy().starts_with("quarantine-") {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
