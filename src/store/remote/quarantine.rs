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
use std::path::{Path, PathBuf};
use std::process::Command;

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

/// What an adopted pack's `.keep` file holds: how a stale one is known as ours.
const KEEP_TEXT: &str = "workbench fetch\n";

/// The `.keep` files of packs moved into our object store, removed when dropped.
#[derive(Default)]
struct Keeps(Vec<PathBuf>);

impl Drop for Keeps {
    fn drop(&mut self) {
        for k in &self.0 {
            let _ = std::fs::remove_file(k);
        }
    }
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
    /// tracking refs hold and what was refused before, and the tracking refs are the
    /// ones the last quarantine fetch validated. Returns what was refused.
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
        let tracking = self.tracking_state(remote)?;
        let mut expected = tracking.clone();
        for (tracked, r) in &before {
            expected.insert(tracked.clone(), r.commit.to_string());
        }
        // The tracking refs are also writable by a plain `git fetch` (the refspecs
        // `init` configures): skip only when they hold exactly what a quarantine fetch
        // validated, never because they match the remote.
        if advertised == expected && self.tracking_validated(remote, &tracking) {
            return Ok(before.into_values().collect());
        }
        let (q, tips, checked) = self.download(remote, &advertised)?;
        let qstore = Store {
            repo: git2::Repository::open_bare(&q.0)
                .map_err(Error::git("cannot open the fetch quarantine"))?,
            events: Default::default(),
            decisions: Default::default(),
        };
        drop(fetching);
        let runs_prefix = tracking_runs(remote);
        let approved_prefix = tracking_approved(remote);
        let runs: Vec<(&String, Oid)> = tips
            .iter()
            .filter(|(n, _)| n.starts_with(&runs_prefix))
            .map(|(n, o)| (n, *o))
            .collect();
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
                refused.insert(
                    name.clone(),
                    refuse("its name is not a stage and run id".into()),
                );
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
                    accepted.push((name.clone(), tip));
                }
                Ok(Err(invalid)) => {
                    refused.insert(name.clone(), refuse(invalid.why));
                }
                Err(e) => {
                    refused.insert(name.clone(), refuse(format!("it cannot be read: {e}")));
                }
            }
        }
        for (name, target) in tips.iter().filter(|(n, _)| n.starts_with(&approved_prefix)) {
            if run_tips.contains(target) || self.repo.find_commit(*target).is_ok() {
                accepted.push((name.clone(), *target));
            } else {
                let stage = &name[approved_prefix.len()..];
                refused.insert(
                    name.clone(),
                    RefusedRecord {
                        ref_name: format!("{APPROVED_PREFIX}{stage}"),
                        commit: id(*target),
                        why: "the approved index names a commit that is no valid run's record"
                            .into(),
                    },
                );
            }
        }
        if let Some(notes) = tips.get(&tracking_notes(remote)) {
            accepted.push((tracking_notes(remote), *notes));
        }
        drop(judging);
        let _taking = Phase::begin(progress, "taking accepted records", None, Unit::Steps);
        if checked && refused.is_empty() {
            // git checked every object received (`fetch.fsckObjects`) and every record
            // passed: the quarantine's objects are exactly what was accepted, so they
            // move in whole, without a second transfer.
            let mut keeps = Keeps::default();
            self.adopt_objects(&q.0, &mut keeps)?;
            self.set_tracking(remote, &accepted)?;
            drop(keeps);
        } else {
            // Something was refused (or git refused an object): only the accepted
            // records' objects are fetched from the quarantine, checked again.
            qstore.write_refs(&accepted)?;
            self.take_from_quarantine(&q.0, remote, &accepted, &mut refused)?;
            let taken: Vec<(String, Oid)> = accepted
                .into_iter()
                .filter(|(n, _)| !refused.contains_key(n))
                .collect();
            self.set_tracking(remote, &taken)?;
            accepted = taken;
        }
        self.remember_refused(remote, &refused);
        self.remember_validated(remote, &accepted);
        Ok(refused.into_values().collect())
    }

    /// A fresh, empty quarantine repository whose object store borrows ours.
    fn new_quarantine(&self) -> Result<Quarantine> {
        let base = self.repo.commondir().join("workbench");
        remove_stale_quarantines(&base);
        remove_stale_keeps(&self.objects_dir().join("pack"));
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
        let objects = self.objects_dir();
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
        Ok(q)
    }

    fn objects_dir(&self) -> PathBuf {
        let objects = self.repo.commondir().join("objects");
        objects.canonicalize().unwrap_or(objects)
    }

    /// What the remote has that we lack, in a quarantine: its tips by tracking name,
    /// and whether git checked every object received (`fetch.fsckObjects`, which only
    /// `git fetch-pack` is sure to apply). First `fetch-pack` with the checks on; when
    /// it cannot be used or git refuses (a malformed object, a remote that moved under
    /// the fetch), `git fetch` with them on, then off; what such a fetch received is
    /// checked on the way in (`take_from_quarantine`).
    fn download(
        &self,
        remote: &str,
        advertised: &BTreeMap<String, String>,
    ) -> Result<(Quarantine, BTreeMap<String, Oid>, bool)> {
        let url = match self.repo.find_remote(remote) {
            Ok(r) => r
                .url()
                .ok()
                .map_or_else(|| remote.to_string(), str::to_string),
            Err(_) => remote.to_string(),
        };
        let q = self.new_quarantine()?;
        if advertised.is_empty() {
            return Ok((q, BTreeMap::new(), true));
        }
        if let Some(tips) = self.fetch_pack(&q.0, remote, &url, advertised)? {
            return Ok((q, tips, true));
        }
        drop(q);
        let q = self.new_quarantine()?;
        if self.fetch_into(&q.0, remote, &url, true)?.is_ok() {
            // Not "checked": over dumb HTTP `git fetch` indexes packs and writes loose
            // objects without `fetch.fsckObjects`, so what it received is checked again
            // on the way in (`take_from_quarantine`).
            let tips = quarantine_refs(&q.0)?;
            return Ok((q, tips, false));
        }
        drop(q);
        let q = self.new_quarantine()?;
        if let Err(stderr) = self.fetch_into(&q.0, remote, &url, false)? {
            return Err(super::transport::transport_error(
                "fetch from",
                remote,
                stderr.as_bytes(),
            ));
        }
        let tips = quarantine_refs(&q.0)?;
        Ok((q, tips, false))
    }

    /// `git fetch-pack` of the advertised refs into the quarantine with git's object
    /// checks on, and git's connectivity check after it: no ref is written anywhere
    /// (`git fetch` would write one per record, as many again as taking them costs).
    /// `None` when the URL needs a remote helper (http and the like, which
    /// `fetch-pack` does not speak) or git refused: the caller fetches with `git fetch`.
    fn fetch_pack(
        &self,
        q: &Path,
        remote: &str,
        url: &str,
        advertised: &BTreeMap<String, String>,
    ) -> Result<Option<BTreeMap<String, Oid>>> {
        let helper = url.contains("::")
            || ["http://", "https://", "ftp://", "ftps://"]
                .iter()
                .any(|p| url.starts_with(p));
        if helper || url.starts_with('-') {
            return Ok(None);
        }
        let names: Vec<String> = advertised.keys().map(|t| remote_name_of(t)).collect();
        let mut input = names.join("\n");
        input.push('\n');
        let Some(out) = self.run_in(
            q,
            &[
                "-c",
                "fetch.fsckObjects=true",
                "fetch-pack",
                "-q",
                "-k",
                "--no-progress",
                "--stdin",
                url,
            ],
            input.as_bytes(),
        )?
        else {
            return Ok(None);
        };
        let mut tips = BTreeMap::new();
        for line in String::from_utf8_lossy(&out).lines() {
            let Some((hex, name)) = line.split_once(' ') else {
                continue;
            };
            let (Ok(o), Some(tracked)) = (Oid::from_str(hex), super::tracking_name(remote, name))
            else {
                continue;
            };
            tips.insert(tracked, o);
        }
        // git fetch's own connectivity check: every object the tips reach is in the
        // quarantine or already ours.
        let mut input = String::new();
        for o in tips.values() {
            input.push_str(&format!("{o}\n"));
        }
        let connected = self.run_in(
            q,
            &[
                "rev-list",
                "--objects",
                "--quiet",
                "--stdin",
                "--not",
                "--all",
                "--alternate-refs",
            ],
            input.as_bytes(),
        )?;
        Ok(connected.map(|_| tips))
    }

    /// Runs git in the quarantine with `input` on stdin: its stdout, `None` when it
    /// failed.
    fn run_in(&self, q: &Path, args: &[&str], input: &[u8]) -> Result<Option<Vec<u8>>> {
        let what = args
            .iter()
            .find(|a| !a.starts_with('-') && !a.contains('='))
            .copied();
        let o =
            self.run_git_with_input(what.unwrap_or("git"), quarantine_git(q).args(args), input)?;
        Ok(o.status.success().then_some(o.stdout))
    }

    /// `git fetch` of the remote's records into the quarantine's refs.
    fn fetch_into(
        &self,
        q: &Path,
        remote: &str,
        url: &str,
        fsck: bool,
    ) -> Result<std::result::Result<(), String>> {
        let o = self.run_git(
            "fetch",
            quarantine_git(q)
                .args(["-c", &format!("fetch.fsckObjects={fsck}")])
                .args([
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--no-auto-maintenance",
                    "--",
                ])
                .arg(url)
                .arg(format!("+{RUNS_PREFIX}*:{}*", tracking_runs(remote)))
                .arg(format!(
                    "+{APPROVED_PREFIX}*:{}*",
                    tracking_approved(remote)
                ))
                // a glob, so a remote without notes is no error
                .arg(format!("+{NOTES_REF}*:{}*", tracking_notes(remote))),
        )?;
        if o.status.success() {
            Ok(Ok(()))
        } else {
            Ok(Err(String::from_utf8_lossy(&o.stderr).into_owned()))
        }
    }

    /// Moves the quarantine's objects (packs, then loose objects) into ours: each
    /// pack's `.keep` first (so no `gc` drops it before a ref names its objects), its
    /// index last, as git writes a pack. The `.keep` files go into `keeps`, removed
    /// when it is dropped: once the refs are written, or when anything failed.
    fn adopt_objects(&self, q: &Path, keeps: &mut Keeps) -> Result<()> {
        let ours = self.objects_dir();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e| Error::Io { path, source: e }
        };
        let qpack = q.join("objects/pack");
        let mut stems = BTreeSet::new();
        for e in std::fs::read_dir(&qpack).map_err(io(&qpack))? {
            let name = e.map_err(io(&qpack))?.file_name();
            let name = name.to_string_lossy();
            if let Some(stem) = name.strip_suffix(".idx") {
                stems.insert(stem.to_string());
            }
        }
        for stem in stems {
            let keep = ours.join("pack").join(format!("{stem}.keep"));
            std::fs::write(&keep, KEEP_TEXT).map_err(io(&keep))?;
            keeps.0.push(keep);
            for ext in ["pack", "rev", "bitmap", "idx"] {
                let from = qpack.join(format!("{stem}.{ext}"));
                if from.exists() {
                    let to = ours.join("pack").join(format!("{stem}.{ext}"));
                    std::fs::rename(&from, &to).map_err(io(&to))?;
                }
            }
        }
        let qobjects = q.join("objects");
        for e in std::fs::read_dir(&qobjects)
            .map_err(io(&qobjects))?
            .flatten()
        {
            let dir = e.file_name().to_string_lossy().to_string();
            if dir.len() != 2 || !dir.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let to_dir = ours.join(&dir);
            std::fs::create_dir_all(&to_dir).map_err(io(&to_dir))?;
            for f in std::fs::read_dir(e.path())
                .map_err(io(&e.path()))?
                .flatten()
            {
                let to = to_dir.join(f.file_name());
                if !to.exists() {
                    std::fs::rename(f.path(), &to).map_err(io(&to))?;
                }
            }
        }
        Ok(())
    }

    /// Makes the quarantine's refs exactly `refs` (one `git update-ref` transaction).
    fn write_refs(&self, refs: &[(String, Oid)]) -> Result<()> {
        let mut lines = String::new();
        let keep: BTreeMap<&str, Oid> = refs.iter().map(|(n, o)| (n.as_str(), *o)).collect();
        for (name, _) in self.refs_under("refs/")? {
            if !keep.contains_key(name.as_str()) {
                lines.push_str(&format!("delete {name}\n"));
            }
        }
        for (name, o) in refs {
            lines.push_str(&format!("update {name} {o}\n"));
        }
        self.update_refs(&lines)
    }

    /// Makes the tracking refs of `remote` exactly `refs`, in one `git update-ref`
    /// transaction: refs that changed are set, refs not among them (the remote dropped
    /// them, or something other than this fetch wrote them) deleted.
    fn set_tracking(&self, remote: &str, refs: &[(String, Oid)]) -> Result<()> {
        let now = self.tracking_state(remote)?;
        let want: BTreeMap<&str, Oid> = refs.iter().map(|(n, o)| (n.as_str(), *o)).collect();
        let mut lines = String::new();
        for name in now.keys() {
            if !want.contains_key(name.as_str()) {
                lines.push_str(&format!("delete {name}\n"));
            }
        }
        for (name, o) in &want {
            if now.get(*name).map(String::as_str) != Some(o.to_string().as_str()) {
                lines.push_str(&format!("update {name} {o}\n"));
            }
        }
        self.update_refs(&lines)
    }

    /// Runs one `git update-ref --stdin` transaction (nothing when `lines` is empty).
    fn update_refs(&self, lines: &str) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let o = self.run_git_with_input(
            "update-ref",
            self.git_cmd().args(["update-ref", "--stdin"]),
            lines.as_bytes(),
        )?;
        if !o.status.success() {
            return Err(Error::Tool {
                what: "cannot write the tracking refs".into(),
                message: String::from_utf8_lossy(&o.stderr).trim().to_string(),
            });
        }
        Ok(())
    }

    fn validated_file(&self, remote: &str) -> PathBuf {
        let key = crate::model::digest::sha256_hex(remote.as_bytes());
        self.repo
            .commondir()
            .join("workbench")
            .join("validated")
            .join(&key[..16])
    }

    /// Remembers the tracking refs this fetch wrote (a digest of names and targets):
    /// these tips were judged in the quarantine.
    fn remember_validated(&self, remote: &str, refs: &[(String, Oid)]) {
        let state: BTreeMap<String, String> = refs
            .iter()
            .map(|(n, o)| (n.clone(), o.to_string()))
            .collect();
        let file = self.validated_file(remote);
        if let Some(dir) = file.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, state_digest(&state)).is_ok() {
            let _ = std::fs::rename(&tmp, &file);
        }
    }

    /// True when the tracking refs of `remote` are exactly the ones the last
    /// quarantine fetch validated (or there are none).
    pub(super) fn tracking_validated(
        &self,
        remote: &str,
        tracking: &BTreeMap<String, String>,
    ) -> bool {
        tracking.is_empty()
            || std::fs::read_to_string(self.validated_file(remote))
                .is_ok_and(|d| d == state_digest(tracking))
    }

    /// Fetches the accepted refs (the quarantine holds exactly these, under the
    /// tracking names) into the tracking refs with git's object checks on; when git
    /// refuses the batch, ref by ref, refusing the ones it rejects. (git leaves nothing
    /// of a fetch it refuses, `.gitmodules` checks included:
    /// `attacks::a_record_git_refuses_after_writing_its_objects_never_reaches_the_victim`.)
    fn take_from_quarantine(
        &self,
        q: &Path,
        remote: &str,
        accepted: &[(String, Oid)],
        refused: &mut BTreeMap<String, RefusedRecord>,
    ) -> Result<()> {
        if accepted.is_empty() {
            return Ok(());
        }
        // Globs, not one refspec per record: git matches every refspec against every
        // ref, so a refspec per record is quadratic in the number of records.
        let globs = [
            format!("+{}*:{}*", tracking_runs(remote), tracking_runs(remote)),
            format!(
                "+{}*:{}*",
                tracking_approved(remote),
                tracking_approved(remote)
            ),
            format!("+{}*:{}*", tracking_notes(remote), tracking_notes(remote)),
        ];
        if self.fetch_checked(q, &globs)?.is_ok() {
            return Ok(());
        }
        for (name, target) in accepted {
            let spec = format!("+{name}:{name}");
            if let Err(why) = self.fetch_checked(q, std::slice::from_ref(&spec))? {
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
        let o = self.run_git_with_input(
            "fetch",
            self.git_cmd()
                .args([
                    "-c",
                    "fetch.fsckObjects=true",
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--no-write-fetch-head",
                    "--stdin",
                ])
                .arg(q),
            specs.join("\n").as_bytes(),
        )?;
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

/// Removes the `.keep` files of adopted packs that a killed fetch left (ours by their
/// text, an hour old like a stale quarantine): a kept pack is never repacked.
fn remove_stale_keeps(pack: &Path) {
    let Ok(entries) = std::fs::read_dir(pack) else {
        return;
    };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().ends_with(".keep") {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600));
        if old && std::fs::read(e.path()).is_ok_and(|t| t == KEEP_TEXT.as_bytes()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A digest of a ref state: every `name oid` line in name order.
fn state_digest(state: &BTreeMap<String, String>) -> String {
    let mut text = String::with_capacity(state.len() * 110);
    for (n, o) in state {
        text.push_str(n);
        text.push(' ');
        text.push_str(o);
        text.push('\n');
    }
    crate::model::digest::sha256_hex(text.as_bytes())
}

/// `git` run in the quarantine, with nothing of the caller's repository environment.
fn quarantine_git(q: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("--git-dir")
        .arg(q)
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES");
    c
}

/// The quarantine's refs (written by `git fetch`) with their targets.
fn quarantine_refs(q: &Path) -> Result<BTreeMap<String, Oid>> {
    let repo =
        git2::Repository::open_bare(q).map_err(Error::git("cannot open the fetch quarantine"))?;
    let mut out = BTreeMap::new();
    let refs = repo
        .references()
        .map_err(Error::git("cannot list the fetch quarantine"))?;
    for r in refs.flatten() {
        if let (Ok(name), Some(o)) = (r.name(), r.target()) {
            out.insert(name.to_string(), o);
        }
    }
    Ok(out)
}
