//! Writing and checking the working-tree mirror, `review/<stage>/` (the approved run)
//! and `review/<stage>/candidate/` (the run awaiting a decision). `model::mirror`
//! decides which transition writes which part and judges what a mirror holds; here the
//! files are written (under a per-stage turn), kept ignored while untracked, staged
//! when a decision presents them, and read back for `doctor` and `verify`.

#[path = "mirror/figures.rs"]
pub(crate) mod figures;

pub use figures::{files_below, record_figures};

use super::workspace::{write_atomic, Workspace};
use crate::error::{Error, Result};
use crate::model::figures::FIGURES_DIR;
use crate::model::manifest::RunManifest;
use crate::model::mirror::{
    exclude_patterns, mirrored_run, plan, slot_problems, CandidateChange, MirrorProblem,
    RunRecords, Shown, Slot, CANDIDATE_DIR, MIRROR_DIR, MIRROR_FILES,
};
use crate::model::state::RunEvent;
use crate::model::{RunId, StageName};
use crate::store::{RunRef, Store};
use std::collections::BTreeMap;
use std::path::Path;

/// Writes the mirror of a run just recorded; what went wrong comes back as warnings,
/// since the run is recorded already. (A failed run's mirror is written as an executed
/// one's: `model::mirror::plan` treats them alike.)
pub fn show_new_run(ws: &Workspace, run: &RunRef) -> Vec<String> {
    after(ws, run, RunEvent::Executed, "run recorded")
}

/// Writes the mirror after a transition of `run` (its new tip); what went wrong comes
/// back as warnings, since the decision is recorded already.
pub fn show_transition(ws: &Workspace, run: &RunRef, event: RunEvent) -> Vec<String> {
    after(ws, run, event, "recorded")
}

fn after(ws: &Workspace, run: &RunRef, event: RunEvent, done: &str) -> Vec<String> {
    match write(ws, run, event) {
        Ok(warnings) => warnings,
        Err(e) => vec![format!(
            "{done}, but the {MIRROR_DIR}/ mirror was not written: {e}"
        )],
    }
}

/// The writers of a stage's mirror take turns, so that looking at what `candidate/`
/// shows and writing it are one step.
fn write(ws: &Workspace, run: &RunRef, event: RunEvent) -> Result<Vec<String>> {
    let _turn = MirrorTurn::take(&ws.store.private_dir(), &run.stage);
    let stage = run.stage.as_str();
    let shown = match shown_run(&ws.root.join(Slot::Candidate.file(stage, "manifest.json"))) {
        Some(id) if ws.store.find_run(&run.stage, &id)?.is_some() => Some(id),
        _ => None,
    };
    let approved = ws.store.approved_run(&run.stage)?.map(|r| r.run_id);
    let plan = plan(event, &run.run_id, shown.as_ref(), approved.as_ref());
    let mut warnings = Vec::new();
    let mut touched = Vec::new();
    if plan.approved || plan.candidate != CandidateChange::Keep {
        refuse_linked_dirs(&ws.root, stage)?;
        // Before any file exists: a `git status` in between never lists it.
        if let Err(e) = ws.store.ensure_mirror_excluded() {
            warnings.push(format!(
                "untracked {MIRROR_DIR}/ mirror files are not ignored ({e}): a `git pull` bringing a teammate's committed mirror would refuse to overwrite them"
            ));
        }
    }
    if plan.approved {
        touched.extend(write_slot(ws, Slot::Approved, run)?);
    }
    match plan.candidate {
        CandidateChange::Show => touched.extend(write_slot(ws, Slot::Candidate, run)?),
        CandidateChange::Clear => touched.extend(clear_candidate(ws, stage)?),
        CandidateChange::Keep => {}
    }
    if plan.stage {
        warnings.extend(stage_presented(ws, &touched));
    }
    Ok(warnings)
}

/// Puts a run's newest record into a slot: every contract file it holds and its
/// figures (`model::figures`), and no file of an earlier run. Every record file is
/// read before the first is written, so a record that cannot be read leaves the slot
/// as it was.
fn write_slot(ws: &Workspace, slot: Slot, run: &RunRef) -> Result<Vec<String>> {
    let stage = run.stage.as_str();
    let dir = ws.root.join(slot.dir(stage));
    let mut files = Vec::new();
    for name in MIRROR_FILES {
        files.push((name, ws.store.record_file(run.tip, name)?));
    }
    let figures = match files
        .iter()
        .find_map(|(n, b)| b.as_ref().filter(|_| *n == "manifest.json"))
    {
        Some(m) => record_figures(&ws.store, run.tip, &RunManifest::from_json(m)?)?,
        None => BTreeMap::new(),
    };
    std::fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
    for (name, bytes) in &files {
        let path = dir.join(name);
        match bytes {
            Some(b) => write_atomic(&dir, &path, b)?,
            None => remove_file(&path)?,
        }
    }
    let mut touched: Vec<String> = MIRROR_FILES.iter().map(|n| slot.file(stage, n)).collect();
    touched.extend(figures::sync(&ws.root, &slot.dir(stage), &figures)?);
    Ok(touched)
}

/// Empties `candidate/`: its mirrored files, and the directory when nothing else of
/// the user's is in it.
fn clear_candidate(ws: &Workspace, stage: &str) -> Result<Vec<String>> {
    let slot = Slot::Candidate;
    for name in MIRROR_FILES {
        remove_file(&ws.root.join(slot.file(stage, name)))?;
    }
    let mut touched: Vec<String> = MIRROR_FILES.iter().map(|n| slot.file(stage, n)).collect();
    touched.extend(figures::sync(&ws.root, &slot.dir(stage), &BTreeMap::new())?);
    let _ = std::fs::remove_dir(ws.root.join(slot.dir(stage)));
    Ok(touched)
}

/// Refuses a mirror directory that is a symbolic link (a committed one, say): the
/// mirror would write and remove files wherever it points, outside the repository.
/// A mirrored file that is a link is replaced by the rename, never followed.
fn refuse_linked_dirs(root: &Path, stage: &str) -> Result<()> {
    for rel in [
        MIRROR_DIR.to_string(),
        Slot::Approved.dir(stage),
        Slot::Candidate.dir(stage),
        Slot::Approved.file(stage, FIGURES_DIR),
        Slot::Candidate.file(stage, FIGURES_DIR),
    ] {
        let is_link =
            std::fs::symlink_metadata(root.join(&rel)).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            return Err(Error::input(format!(
                "{rel} is a symbolic link; the mirror is never written through one"
            ))
            .hint(format!("make {rel} a directory (or remove it)")));
        }
    }
    Ok(())
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path)(e)),
    }
}

/// Stages what a decision wrote or removed, except paths the user's own ignore rules
/// keep out of git; failing to is a warning (the files are written).
fn stage_presented(ws: &Workspace, paths: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    let staged = ws
        .store
        .ignored_by_user(&ws.root, paths, &exclude_patterns())
        .and_then(|user| {
            let kept: Vec<String> = paths
                .iter()
                .filter(|p| !user.contains(*p))
                .cloned()
                .collect();
            let figures: Vec<&String> = user
                .iter()
                .filter(|p| p.contains(&format!("/{FIGURES_DIR}/")) && ws.root.join(p).is_file())
                .collect();
            if !figures.is_empty() {
                let list: Vec<&str> = figures.iter().map(|p| p.as_str()).collect();
                warnings.push(format!(
                    "not staged, as an ignore rule of yours ignores them, so the card shows a broken image on a forge: {} (stage them with git add -f, or add '!/{MIRROR_DIR}/**' to .gitignore)",
                    list.join(", ")
                ));
            }
            ws.store.stage_paths(&ws.root, &kept)
        });
    match staged {
        Ok(()) => warnings,
        Err(e) => {
            let mut dirs: Vec<String> = paths
                .iter()
                .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string()))
                .collect();
            dirs.dedup();
            vec![format!(
                "the {MIRROR_DIR}/ mirror was written but not staged ({e}); stage it with: git add -A -f {}",
                dirs.join(" ")
            )]
        }
    }
}

/// The run a mirrored manifest names, if it names one.
fn shown_run(manifest: &Path) -> Option<RunId> {
    let bytes = std::fs::read(manifest).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    RunId::new(v.get("run_id")?.as_str()?).ok()
}

/// A turn at writing one stage's mirror: an advisory lock on a file in the private
/// directory, which the kernel releases when the turn ends, even when its process is
/// killed. Taking a turn never fails: after a few seconds of waiting, or when no lock
/// can be taken, the mirror is written without one (it is a view of the records,
/// which `doctor` checks and a later transition rewrites).
struct MirrorTurn(Option<std::fs::File>);

impl MirrorTurn {
    fn take(private: &Path, stage: &StageName) -> MirrorTurn {
        if std::fs::create_dir_all(private).is_err() {
            return MirrorTurn(None);
        }
        let Ok(file) = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(private.join(format!("mirror-{stage}.lock")))
        else {
            return MirrorTurn(None);
        };
        // Turns last a millisecond or so: poll rather than block, so a writer that is
        // stopped (Ctrl-Z) midway costs the others a few seconds, never a hang.
        let mut waited = std::time::Duration::ZERO;
        let mut pause = std::time::Duration::from_micros(50);
        while waited < std::time::Duration::from_secs(5) {
            match file.try_lock() {
                Ok(()) => return MirrorTurn(Some(file)),
                Err(std::fs::TryLockError::WouldBlock) => {
                    std::thread::sleep(pause);
                    waited += pause;
                    pause = (pause * 2).min(std::time::Duration::from_millis(2));
                }
                Err(std::fs::TryLockError::Error(_)) => break,
            }
        }
        MirrorTurn(None)
    }
}

impl Drop for MirrorTurn {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            let _ = file.unlock();
        }
    }
}

/// What the records hold for the run a mirror's manifest names (`None`: no such run
/// here).
pub fn run_records(store: &Store, m: &RunManifest) -> Result<Option<RunRecords>> {
    let Some(run) = store.find_run(&m.stage, &m.run_id)? else {
        return Ok(None);
    };
    let chain = store.history(run.tip)?;
    let mut versions = BTreeMap::new();
    let mut newest = BTreeMap::new();
    for name in MIRROR_FILES {
        let mut v = Vec::new();
        for t in &chain {
            if let Some(b) = store.record_file(t.commit, name)? {
                if !v.contains(&b) {
                    v.push(b);
                }
            }
        }
        versions.insert(name, v);
        if let Some(b) = store.record_file(run.tip, name)? {
            newest.insert(name, b);
        }
    }
    let approved = store.latest_event(run.tip)? == Some(RunEvent::Approved);
    let figures = record_figures(store, run.tip, &store.read_manifest(run.tip)?)?;
    Ok(Some(RunRecords {
        versions,
        newest,
        approved,
        figures,
    }))
}

/// A problem of one slot of a stage's mirror.
pub struct SlotProblem {
    pub slot: Slot,
    /// The slot's directory, relative to the root.
    pub dir: String,
    /// The file the problem is about (the manifest for a problem of the whole slot).
    pub file: String,
    pub problem: MirrorProblem,
}

/// Every problem of the mirror of stage directory `stage` (`review/<stage>/`), its
/// files read through `read` (a path relative to the root, `None` when absent) and
/// the files below a directory listed by `list` (relative to that directory): the
/// working tree for `doctor`, a commit's tree for `verify`. A directory that cannot
/// be a stage's is no mirror and has none.
pub fn stage_problems(
    store: &Store,
    stage: &str,
    read: &mut dyn FnMut(&str) -> Result<Option<Vec<u8>>>,
    list: &mut dyn FnMut(&str) -> Result<Vec<String>>,
) -> Result<Vec<SlotProblem>> {
    let Ok(name) = StageName::new(stage) else {
        return Ok(Vec::new());
    };
    let approved = store.approved_run(&name)?.map(|r| r.run_id);
    let mut out = Vec::new();
    for slot in Slot::ALL {
        let mut files = BTreeMap::new();
        for n in MIRROR_FILES {
            if let Some(b) = read(&slot.file(stage, n))? {
                files.insert(n, b);
            }
        }
        let fig_dir = slot.file(stage, FIGURES_DIR);
        let mut figures = BTreeMap::new();
        for name in list(&fig_dir)? {
            if let Some(b) = read(&format!("{fig_dir}/{name}"))? {
                figures.insert(name, b);
            }
        }
        let manifest = files.get("manifest.json").map(|b| mirrored_run(b));
        let records = match &manifest {
            Some(Ok(m)) => run_records(store, m)?,
            _ => None,
        };
        let shown = match &manifest {
            None => Shown::Nothing,
            Some(Err(_)) => Shown::Unparsable,
            Some(Ok(m)) => Shown::Run(m, records.as_ref()),
        };
        for problem in slot_problems(slot, stage, &files, &figures, shown, approved.as_ref()) {
            let file = match problem.file() {
                Some(f) => f.to_string(),
                None => slot.file(stage, "manifest.json"),
            };
            out.push(SlotProblem {
                slot,
                dir: slot.dir(stage),
                file,
                problem,
            });
        }
    }
    Ok(out)
}

/// The stage directories among paths relative to the root that hold a mirrored file
/// of either slot, in order.
pub fn mirrored_stages<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = paths
        .into_iter()
        .filter_map(|p| {
            let rest = p.strip_prefix(MIRROR_DIR)?.strip_prefix('/')?;
            let (stage, file) = rest.split_once('/')?;
            let file = file
                .strip_prefix(CANDIDATE_DIR)
                .and_then(|f| f.strip_prefix('/'))
                .unwrap_or(file);
            let figure = file
                .strip_prefix(FIGURES_DIR)
                .is_some_and(|f| f.starts_with('/'));
            (MIRROR_FILES.contains(&file) || figure).then(|| stage.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The mirrored files of the working tree that are untracked and not ignored: a
/// `git pull` bringing a teammate's committed file there would refuse to run.
pub fn exposed_untracked(store: &Store, root: &Path, stage: &str) -> Result<Vec<String>> {
    let mut present: Vec<String> = Slot::ALL
        .iter()
        .flat_map(|slot| MIRROR_FILES.iter().map(move |n| slot.file(stage, n)))
        .filter(|p| root.join(p).is_file())
        .collect();
    for slot in Slot::ALL {
        let dir = slot.file(stage, FIGURES_DIR);
        for name in files_below(&root.join(&dir))? {
            present.push(format!("{dir}/{name}"));
        }
    }
    Ok(store.untracked_not_ignored(root, &present)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stages_of_mirrored_paths() {
        let paths = [
            "review/train/manifest.json",
            "review/train/candidate/card.md",
            "review/eval/candidate/manifest.json",
            "review/notes/README.md",
            "review/x/candidate/notes.txt",
            "review/y/deeper/manifest.json",
            "review/f/figures/a/b.png",
            "review/g/candidate/figures/c.png",
            "review/h/figuresx/c.png",
            "reviewers/z/manifest.json",
            "review/manifest.json",
        ];
        assert_eq!(mirrored_stages(paths), ["eval", "f", "g", "train"]);
    }
}
