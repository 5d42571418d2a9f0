//! The working-tree mirror, `review/<stage>/`: the contract files of a stage's runs, as
//! the seed lays them out, so that a pull request shows both what is approved and what
//! awaits a decision. The top level holds the stage's approved run, `candidate/` the run
//! last recorded, reviewed, carded or rejected that is not approved. Here: the layout,
//! which transition writes which part (`plan`), the lines that keep untracked mirror
//! files ignored, and the check shared by `doctor` (the files on disk) and `verify`
//! (the files committed at the tip).

use super::figures::FIGURES_DIR;
use super::ids::{RunId, StageName};
use super::manifest::RunManifest;
use super::state::RunEvent;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The mirror's directory and files.
pub const MIRROR_DIR: &str = "review";
/// The directory, inside a stage's, of the run that awaits a decision.
pub const CANDIDATE_DIR: &str = "candidate";
pub const MIRROR_FILES: [&str; 5] = [
    "manifest.json",
    "review.json",
    "approval.json",
    "feedback.json",
    "card.md",
];

/// One of the two runs a stage's mirror shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Slot {
    /// `review/<stage>/`: the stage's approved run.
    Approved,
    /// `review/<stage>/candidate/`: the run that awaits a decision.
    Candidate,
}

impl Slot {
    pub const ALL: [Slot; 2] = [Slot::Approved, Slot::Candidate];

    /// The slot's directory, relative to the repository root, without a final `/`.
    pub fn dir(self, stage: &str) -> String {
        match self {
            Slot::Approved => format!("{MIRROR_DIR}/{stage}"),
            Slot::Candidate => format!("{MIRROR_DIR}/{stage}/{CANDIDATE_DIR}"),
        }
    }

    /// A mirrored file of the slot, relative to the repository root.
    pub fn file(self, stage: &str, name: &str) -> String {
        format!("{}/{name}", self.dir(stage))
    }
}

/// What `candidate/` does on a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateChange {
    /// It shows the transition's run.
    Show,
    /// It is emptied: the run it showed is approved, or can no longer be.
    Clear,
    /// It stays as it is.
    Keep,
}

/// What one transition does to its stage's mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorPlan {
    /// The top level shows the transition's run (an approval, and nothing else).
    pub approved: bool,
    pub candidate: CandidateChange,
    /// What is written is also staged in the index, so the next commit presents it: a
    /// card, an approval and a rejection are presented on purpose, while a run or a
    /// review is exploratory work that stays untracked (and ignored) until then.
    pub stage: bool,
}

/// The mirror's part in the transition `event` of `run`. `shown` is the run
/// `candidate/` shows now, when it names a run of the stage this clone has; `approved`
/// is the stage's approved run.
///
/// No transition but an approval touches the top level, so an exploratory run never
/// removes a committed approval or card. An explicit review, card or rejection shows
/// its run, whichever it is; a run just recorded does not replace a later one (runs of
/// a parallel sweep finish in any order), nor one recorded behind the approved run (it
/// can never be approved). An approval empties `candidate/` when it shows the approved
/// run or one older: the approval decided it or superseded it.
pub fn plan(
    event: RunEvent,
    run: &RunId,
    shown: Option<&RunId>,
    approved: Option<&RunId>,
) -> MirrorPlan {
    let candidate = |change, stage| MirrorPlan {
        approved: false,
        candidate: change,
        stage,
    };
    match event {
        RunEvent::Approved => MirrorPlan {
            approved: true,
            candidate: if shown.is_some_and(|s| s <= run) {
                CandidateChange::Clear
            } else {
                CandidateChange::Keep
            },
            stage: true,
        },
        RunEvent::Executed | RunEvent::Failed => {
            let later = |other: Option<&RunId>| other.is_some_and(|o| o > run);
            if later(shown) || later(approved) {
                candidate(CandidateChange::Keep, false)
            } else {
                candidate(CandidateChange::Show, false)
            }
        }
        RunEvent::Reviewed => candidate(CandidateChange::Show, false),
        RunEvent::Carded | RunEvent::Rejected => candidate(CandidateChange::Show, true),
        // Written by `fetch` when two clones decided differently: the mirror waits for
        // the decision that resolves it.
        RunEvent::Conflict => candidate(CandidateChange::Keep, false),
    }
}

/// The lines of `info/exclude` between these markers are git-workbench's own: they
/// ignore untracked mirror files, so that `git pull` of a teammate's committed mirror
/// replaces them instead of refusing to ("untracked working tree files would be
/// overwritten"). Ignore rules never apply to tracked files, so a staged or committed
/// mirror is unaffected.
pub const EXCLUDE_BEGIN: &str =
    "# git-workbench: untracked review/ mirror files (see docs/decisions.md); edits here are replaced";
pub const EXCLUDE_END: &str = "# git-workbench: end";

/// The ignore patterns of the block: each mirrored file of each slot and everything
/// under its `figures/`, and nothing else, so a file of the user's own under
/// `review/` stays visible to `git status`.
pub fn exclude_patterns() -> Vec<String> {
    Slot::ALL
        .iter()
        .flat_map(|slot| {
            MIRROR_FILES
                .iter()
                .map(move |name| format!("/{}", slot.file("*", name)))
                .chain([format!("/{}/**", slot.file("*", FIGURES_DIR))])
        })
        .collect()
}

/// The block as it stands in `info/exclude`, markers included, each line ended.
pub fn exclude_block() -> String {
    let mut s = format!("{EXCLUDE_BEGIN}\n");
    for p in exclude_patterns() {
        s.push_str(&p);
        s.push('\n');
    }
    s.push_str(EXCLUDE_END);
    s.push('\n');
    s
}

/// `text` (an `info/exclude` file) with the block in it: an existing block replaced in
/// place, else appended; `None` when it already holds exactly the block.
pub fn with_exclude_block(text: &str) -> Option<String> {
    let block = exclude_block();
    let begin = text
        .match_indices(EXCLUDE_BEGIN)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n');
    let out = match begin {
        Some(b) => {
            let rest = &text[b..];
            let end = rest
                .find(&format!("\n{EXCLUDE_END}"))
                .map(|e| {
                    let after = e + 1 + EXCLUDE_END.len();
                    after + usize::from(rest[after..].starts_with('\n'))
                })
                .unwrap_or(rest.len());
            format!("{}{block}{}", &text[..b], &rest[end..])
        }
        None if text.is_empty() || text.ends_with('\n') => format!("{text}{block}"),
        None => format!("{text}\n{block}"),
    };
    (out != text).then_some(out)
}

/// What the records hold for the run a slot shows.
pub struct RunRecords {
    /// Every version of each contract file along the run's transitions.
    pub versions: BTreeMap<&'static str, Vec<Vec<u8>>>,
    /// The contract files of the run's newest record.
    pub newest: BTreeMap<&'static str, Vec<u8>>,
    /// The run's newest event is an approval.
    pub approved: bool,
    /// The figures the mirror holds beside the run's card (`model::figures`): each
    /// name under `figures/` and the stored bytes of its output.
    pub figures: BTreeMap<String, Vec<u8>>,
}

/// What a slot's `manifest.json` says.
pub enum Shown<'a> {
    /// The slot has no `manifest.json`.
    Nothing,
    /// It is not a manifest.
    Unparsable,
    /// It names this run; the records of it (`None`: no such run here).
    Run(&'a RunManifest, Option<&'a RunRecords>),
}

/// One way a mirror disagrees with the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MirrorProblem {
    /// `manifest.json` is not a manifest.
    NotAManifest,
    /// Mirrored files without the `manifest.json` that says whose they are.
    NoManifest { dir: String },
    /// A slot of stage `dir` holds the records of another stage's run.
    WrongStage { dir: String, stage: StageName },
    /// The mirror names a run this clone has no record of.
    UnknownRun { run_id: RunId },
    /// The top level shows a run that is not approved.
    NotApproved { shown: RunId },
    /// The top level shows an approved run that a newer approval superseded.
    Superseded { shown: RunId, approved: RunId },
    /// The stage has an approved run and the top level shows none.
    NotMirrored { approved: RunId },
    /// `candidate/` shows a run that is approved: it belongs in the top level.
    Decided { shown: RunId },
    /// The approved run's record has this file and the top level lacks it.
    Missing { file: String, run_id: RunId },
    /// A mirrored file is not what the records of the run hold.
    Differs { file: String, run_id: RunId },
    /// A figure of the run's card is not mirrored beside it (a mirror written before
    /// figures were, or a file dropped): the card shows a broken image.
    FigureMissing { file: String, run_id: RunId },
    /// A file under `figures/` that is no figure of the run.
    NotAFigure { file: String, run_id: RunId },
}

impl MirrorProblem {
    /// A mirror that lags behind the records (a newer decision not yet mirrored here)
    /// rather than one that no record backs or that drops a record's file.
    pub fn is_lag(&self) -> bool {
        matches!(
            self,
            MirrorProblem::Superseded { .. }
                | MirrorProblem::NotMirrored { .. }
                | MirrorProblem::Decided { .. }
        )
    }

    /// A problem `verify` reports as a warning: a lag, or a figure missing beside its
    /// card (the card shows a broken image, while every record file is there).
    pub fn is_warning(&self) -> bool {
        self.is_lag() || matches!(self, MirrorProblem::FigureMissing { .. })
    }

    /// The file the problem is about, when it is about one file.
    pub fn file(&self) -> Option<&str> {
        match self {
            MirrorProblem::Missing { file, .. }
            | MirrorProblem::Differs { file, .. }
            | MirrorProblem::FigureMissing { file, .. }
            | MirrorProblem::NotAFigure { file, .. } => Some(file),
            _ => None,
        }
    }
}

impl std::fmt::Display for MirrorProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MirrorProblem::NotAManifest => write!(f, "the mirrored manifest does not parse"),
            MirrorProblem::NoManifest { dir } => write!(
                f,
                "{dir}/ holds mirrored files but no manifest.json naming their run"
            ),
            MirrorProblem::WrongStage { dir, stage } => {
                let own = dir
                    .strip_prefix(&format!("{MIRROR_DIR}/"))
                    .and_then(|d| d.split('/').next())
                    .unwrap_or(dir);
                write!(f, "{dir}/ holds a run of stage {stage}, not of {own}")
            }
            MirrorProblem::UnknownRun { run_id } => write!(
                f,
                "the mirror names run {run_id} but the records have no such run"
            ),
            MirrorProblem::NotApproved { shown } => write!(
                f,
                "the top level shows run {shown}, which is not approved (it holds the approved run only; a candidate goes in {CANDIDATE_DIR}/)"
            ),
            MirrorProblem::Superseded { shown, approved } => write!(
                f,
                "the top level shows run {shown} but the approved run is now {approved}"
            ),
            MirrorProblem::NotMirrored { approved } => write!(
                f,
                "the approved run {approved} is not mirrored in the top level"
            ),
            MirrorProblem::Decided { shown } => write!(
                f,
                "{CANDIDATE_DIR}/ shows run {shown}, which is approved: the top level shows approved runs"
            ),
            MirrorProblem::Missing { file, run_id } => write!(
                f,
                "{file} is missing: the approved record of run {run_id} has it"
            ),
            MirrorProblem::Differs { file, run_id } => {
                write!(f, "{file} differs from the records of run {run_id}")
            }
            MirrorProblem::FigureMissing { file, run_id } => write!(
                f,
                "{file} is missing: the card of run {run_id} shows that figure"
            ),
            MirrorProblem::NotAFigure { file, run_id } => write!(
                f,
                "{file} is no figure of run {run_id} (the records hold no such figure)"
            ),
        }
    }
}

/// The run a mirror's `manifest.json` names.
pub fn mirrored_run(manifest: &[u8]) -> Result<RunManifest, MirrorProblem> {
    RunManifest::from_json(manifest).map_err(|_| MirrorProblem::NotAManifest)
}

/// Every problem of one slot of the mirror of `stage`: `files` are the mirrored files
/// present in it (`manifest.json` included), `figures` the files under its
/// `figures/` (by their names there), `shown` what its manifest says, and `approved`
/// the stage's approved run.
///
/// The top level must be the approved run's record exactly: every file of it, each
/// byte for byte, so a commit that drops or edits the approval is caught. `candidate/`
/// may show any state its run went through (a pull request may be pushed between two
/// transitions), but only files the run's records held. Both hold the run's figures,
/// each byte for byte, and nothing else under `figures/`.
pub fn slot_problems(
    slot: Slot,
    stage: &str,
    files: &BTreeMap<&'static str, Vec<u8>>,
    figures: &BTreeMap<String, Vec<u8>>,
    shown: Shown,
    approved: Option<&RunId>,
) -> Vec<MirrorProblem> {
    let dir = slot.dir(stage);
    let (m, records) = match shown {
        Shown::Nothing if !files.is_empty() || !figures.is_empty() => {
            return vec![MirrorProblem::NoManifest { dir }]
        }
        Shown::Nothing => {
            return match (slot, approved) {
                (Slot::Approved, Some(a)) => vec![MirrorProblem::NotMirrored {
                    approved: a.clone(),
                }],
                _ => Vec::new(),
            }
        }
        Shown::Unparsable => return vec![MirrorProblem::NotAManifest],
        Shown::Run(m, records) => (m, records),
    };
    // Another stage's approved records under this stage's name would pass as its own.
    if m.stage.as_str() != stage {
        return vec![MirrorProblem::WrongStage {
            dir,
            stage: m.stage.clone(),
        }];
    }
    let id = &m.run_id;
    let Some(records) = records else {
        return vec![MirrorProblem::UnknownRun { run_id: id.clone() }];
    };
    let differs = |name: &str| MirrorProblem::Differs {
        file: slot.file(stage, name),
        run_id: id.clone(),
    };
    let mut out = Vec::new();
    let exact = slot == Slot::Approved && records.approved;
    match slot {
        Slot::Approved if !records.approved => {
            out.push(MirrorProblem::NotApproved { shown: id.clone() })
        }
        Slot::Approved => {
            if let Some(a) = approved.filter(|a| *a != id) {
                out.push(MirrorProblem::Superseded {
                    shown: id.clone(),
                    approved: a.clone(),
                });
            }
            for name in records.newest.keys() {
                if !files.contains_key(name) {
                    out.push(MirrorProblem::Missing {
                        file: slot.file(stage, name),
                        run_id: id.clone(),
                    });
                }
            }
        }
        Slot::Candidate if records.approved => {
            out.push(MirrorProblem::Decided { shown: id.clone() })
        }
        Slot::Candidate => {}
    }
    for (name, bytes) in files {
        let known = if exact {
            records.newest.get(name) == Some(bytes)
        } else {
            records
                .versions
                .get(name)
                .is_some_and(|v| v.iter().any(|b| b == bytes))
        };
        if !known {
            out.push(differs(name));
        }
    }
    out.extend(figure_problems(slot, stage, figures, records, id));
    out
}

/// The figures of a slot against the run's: each present and exact, no other file.
fn figure_problems(
    slot: Slot,
    stage: &str,
    present: &BTreeMap<String, Vec<u8>>,
    records: &RunRecords,
    id: &RunId,
) -> Vec<MirrorProblem> {
    let file = |name: &str| slot.file(stage, &format!("{FIGURES_DIR}/{name}"));
    let mut out = Vec::new();
    for (name, bytes) in &records.figures {
        match present.get(name) {
            None => out.push(MirrorProblem::FigureMissing {
                file: file(name),
                run_id: id.clone(),
            }),
            Some(b) if b != bytes => out.push(MirrorProblem::Differs {
                file: file(name),
                run_id: id.clone(),
            }),
            Some(_) => {}
        }
    }
    for name in present.keys().filter(|n| !records.figures.contains_key(*n)) {
        out.push(MirrorProblem::NotAFigure {
            file: file(name),
            run_id: id.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> RunId {
        RunId::new(s).unwrap()
    }

    #[test]
    fn which_transition_writes_which_part() {
        use CandidateChange::{Clear, Keep, Show};
        use RunEvent::*;
        let (old, run, new) = (
            id("20260308T100000Z-0000"),
            id("20260308T110000Z-0000"),
            id("20260308T120000Z-0000"),
        );
        #[rustfmt::skip]
        let table = vec![
            // event      shown        approved     top    candidate staged
            (Executed, None,        None,        false, Show,  false),
            (Executed, Some(&old),  None,        false, Show,  false),
            (Executed, Some(&run),  None,        false, Show,  false),
            (Executed, Some(&new),  None,        false, Keep,  false),
            (Failed,   Some(&new),  None,        false, Keep,  false),
            (Executed, None,        Some(&old),  false, Show,  false),
            (Executed, None,        Some(&new),  false, Keep,  false),
            (Reviewed, Some(&new),  Some(&new),  false, Show,  false),
            (Carded,   Some(&new),  None,        false, Show,  true),
            (Rejected, Some(&new),  Some(&old),  false, Show,  true),
            (Approved, Some(&run),  Some(&run),  true,  Clear, true),
            (Approved, Some(&old),  Some(&run),  true,  Clear, true),
            (Approved, Some(&new),  Some(&run),  true,  Keep,  true),
            (Approved, None,        Some(&run),  true,  Keep,  true),
            (Conflict, Some(&old),  None,        false, Keep,  false),
        ];
        for (event, shown, approved, top, candidate, stage) in table {
            assert_eq!(
                plan(event, &run, shown, approved),
                MirrorPlan {
                    approved: top,
                    candidate,
                    stage
                },
                "{event:?} shown {shown:?} approved {approved:?}"
            );
        }
    }

    #[test]
    fn the_exclude_block_is_added_once_and_replaced_in_place() {
        let block = exclude_block();
        assert!(block.starts_with(EXCLUDE_BEGIN) && block.ends_with(&format!("{EXCLUDE_END}\n")));
        for p in [
            "/review/*/approval.json",
            "/review/*/card.md",
            "/review/*/candidate/manifest.json",
            "/review/*/candidate/feedback.json",
            "/review/*/figures/**",
            "/review/*/candidate/figures/**",
        ] {
            assert!(block.lines().any(|l| l == p), "{p} missing:\n{block}");
        }
        assert_eq!(exclude_patterns().len(), 12);
        let user = "# git ls-files --others --exclude-from=.git/info/exclude\n*.swp\n";
        let added = with_exclude_block(user).unwrap();
        assert_eq!(added, format!("{user}{block}"));
        assert_eq!(with_exclude_block(&added), None);
        // no final newline on the user's last line
        assert_eq!(
            with_exclude_block("*.swp").unwrap(),
            format!("*.swp\n{block}")
        );
        assert_eq!(with_exclude_block("").unwrap(), block);
        // an older block is replaced where it stands; the user's lines around it stay
        let older = format!("a\n{EXCLUDE_BEGIN}\n/review/*/x\n{EXCLUDE_END}\nb\n");
        assert_eq!(
            with_exclude_block(&older).unwrap(),
            format!("a\n{block}b\n")
        );
        // a block whose end marker was deleted: the rest of the file was the block's
        let cut = format!("a\n{EXCLUDE_BEGIN}\n/review/*/x\n");
        assert_eq!(with_exclude_block(&cut).unwrap(), format!("a\n{block}"));
        // the marker quoted inside a line is not a block
        let quoted = format!("# {EXCLUDE_BEGIN}\n");
        assert_eq!(
            with_exclude_block(&quoted).unwrap(),
            format!("{quoted}{block}")
        );
    }

    #[test]
    fn the_whole_table() {
        let run = id("20260308T110000Z-0000");
        let later = id("20260308T120000Z-0000");
        let manifest = |stage: &str| {
            crate::model::manifest::RunManifest::builder(
                StageName::new(stage).unwrap(),
                run.clone(),
                crate::model::manifest::CodeRef {
                    commit: None,
                    dirty: false,
                    tree: crate::model::ObjectId::from_bytes([0; 20]),
                    branch: None,
                },
                crate::model::time::Timestamp::from_unix_millis(0),
            )
            .build()
        };
        let files = |card: Option<&str>, approval: Option<&str>| {
            let mut f = BTreeMap::from([("manifest.json", b"m".to_vec())]);
            if let Some(c) = card {
                f.insert("card.md", c.as_bytes().to_vec());
            }
            if let Some(a) = approval {
                f.insert("approval.json", a.as_bytes().to_vec());
            }
            f
        };
        // A run carded twice, then approved (or not).
        let records = |approved: bool| {
            let mut newest = BTreeMap::from([
                ("manifest.json", b"m".to_vec()),
                ("card.md", b"draft 2".to_vec()),
            ]);
            let mut versions = BTreeMap::from([
                ("manifest.json", vec![b"m".to_vec()]),
                ("card.md", vec![b"draft 1".to_vec(), b"draft 2".to_vec()]),
            ]);
            if approved {
                newest.insert("approval.json", b"a".to_vec());
                versions.insert("approval.json", vec![b"a".to_vec()]);
            }
            RunRecords {
                versions,
                newest,
                approved,
                figures: BTreeMap::new(),
            }
        };
        let kinds = |p: Vec<MirrorProblem>| -> Vec<String> {
            p.iter()
                .map(|p| {
                    serde_json::to_value(p).unwrap()["kind"]
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect()
        };
        let (m, yes, no) = (manifest("train"), records(true), records(false));
        let none = BTreeMap::new();
        use Slot::{Approved as Top, Candidate as Cand};
        #[rustfmt::skip]
        let table = vec![
            // the top level: exactly the approved record
            (Top, files(Some("draft 2"), Some("a")), Shown::Run(&m, Some(&yes)), Some(&run), vec![]),
            (Top, files(Some("draft 1"), Some("a")), Shown::Run(&m, Some(&yes)), Some(&run), vec!["differs"]),
            (Top, files(Some("draft 2"), None), Shown::Run(&m, Some(&yes)), Some(&run), vec!["missing"]),
            (Top, files(None, None), Shown::Run(&m, Some(&yes)), Some(&run), vec!["missing", "missing"]),
            (Top, files(Some("draft 2"), Some("b")), Shown::Run(&m, Some(&yes)), Some(&run), vec!["differs"]),
            (Top, files(Some("draft 2"), Some("a")), Shown::Run(&m, Some(&yes)), Some(&later), vec!["superseded"]),
            (Top, files(Some("draft 2"), None), Shown::Run(&m, Some(&no)), None, vec!["not_approved"]),
            (Top, files(Some("edited"), None), Shown::Run(&m, Some(&no)), None, vec!["not_approved", "differs"]),
            (Top, files(Some("draft 2"), None), Shown::Run(&m, None), None, vec!["unknown_run"]),
            (Top, BTreeMap::new(), Shown::Nothing, Some(&run), vec!["not_mirrored"]),
            (Top, BTreeMap::new(), Shown::Nothing, None, vec![]),
            (Top, BTreeMap::from([("approval.json", b"a".to_vec())]), Shown::Nothing, Some(&run), vec!["no_manifest"]),
            (Top, files(None, None), Shown::Unparsable, None, vec!["not_a_manifest"]),
            // candidate/: any version of a run that is not approved
            (Cand, files(Some("draft 1"), None), Shown::Run(&m, Some(&no)), None, vec![]),
            (Cand, files(Some("draft 2"), None), Shown::Run(&m, Some(&no)), Some(&later), vec![]),
            (Cand, files(None, None), Shown::Run(&m, Some(&no)), None, vec![]),
            (Cand, files(Some("edited"), None), Shown::Run(&m, Some(&no)), None, vec!["differs"]),
            (Cand, files(Some("draft 2"), Some("a")), Shown::Run(&m, Some(&no)), None, vec!["differs"]),
            (Cand, files(Some("draft 2"), Some("a")), Shown::Run(&m, Some(&yes)), Some(&run), vec!["decided"]),
            (Cand, files(None, None), Shown::Run(&m, None), None, vec!["unknown_run"]),
            (Cand, BTreeMap::new(), Shown::Nothing, Some(&run), vec![]),
            (Cand, BTreeMap::from([("card.md", b"x".to_vec())]), Shown::Nothing, None, vec!["no_manifest"]),
        ];
        for (i, (slot, f, shown, approved, want)) in table.into_iter().enumerate() {
            let got = kinds(slot_problems(slot, "train", &f, &none, shown, approved));
            assert_eq!(got, want, "row {i}");
        }
        let p = slot_problems(
            Top,
            "train",
            &files(Some("draft 2"), None),
            &none,
            Shown::Run(&m, Some(&yes)),
            Some(&run),
        );
        assert_eq!(
            p[0].to_string(),
            format!(
                "review/train/approval.json is missing: the approved record of run {run} has it"
            )
        );
        let p = slot_problems(
            Cand,
            "train",
            &files(Some("edited"), None),
            &none,
            Shown::Run(&m, Some(&no)),
            None,
        );
        assert_eq!(
            p[0].to_string(),
            format!("review/train/candidate/card.md differs from the records of run {run}")
        );
        assert_eq!(mirrored_run(b"not json"), Err(MirrorProblem::NotAManifest));
        // eval's directory holding train's approved run is refused whatever it holds
        for slot in Slot::ALL {
            let p = slot_problems(
                slot,
                "eval",
                &files(Some("draft 2"), Some("a")),
                &none,
                Shown::Run(&m, Some(&yes)),
                None,
            );
            assert_eq!(kinds(p.clone()), ["wrong_stage"]);
            assert_eq!(
                p[0].to_string(),
                format!(
                    "{}/ holds a run of stage train, not of eval",
                    slot.dir("eval")
                )
            );
        }
        // figures: both slots hold the run's exactly, and nothing else under figures/
        let mut with_fig = records(true);
        with_fig.figures.insert("plot.png".into(), b"png".to_vec());
        let mut cand_fig = records(false);
        cand_fig.figures.insert("plot.png".into(), b"png".to_vec());
        let fig = |pairs: &[(&str, &str)]| -> BTreeMap<String, Vec<u8>> {
            pairs
                .iter()
                .map(|(n, b)| (n.to_string(), b.as_bytes().to_vec()))
                .collect()
        };
        #[rustfmt::skip]
        let table = vec![
            (Top, fig(&[("plot.png", "png")]), &with_fig, vec![]),
            (Top, fig(&[]), &with_fig, vec!["figure_missing"]),
            (Top, fig(&[("plot.png", "PNG")]), &with_fig, vec!["differs"]),
            (Top, fig(&[("plot.png", "png"), ("x.png", "png")]), &with_fig, vec!["not_a_figure"]),
            (Top, fig(&[("x.png", "png")]), &yes, vec!["not_a_figure"]),
            (Cand, fig(&[("plot.png", "png")]), &cand_fig, vec![]),
            (Cand, fig(&[]), &cand_fig, vec!["figure_missing"]),
            (Cand, fig(&[("plot.png", "tampered")]), &cand_fig, vec!["differs"]),
        ];
        for (i, (slot, figs, recs, want)) in table.into_iter().enumerate() {
            let f = if slot == Top {
                files(Some("draft 2"), Some("a"))
            } else {
                files(Some("draft 2"), None)
            };
            let got = kinds(slot_problems(
                slot,
                "train",
                &f,
                &figs,
                Shown::Run(&m, Some(recs)),
                Some(&run).filter(|_| slot == Top),
            ));
            assert_eq!(got, want, "figure row {i}");
        }
        let only_figs = fig(&[("plot.png", "png")]);
        assert_eq!(
            kinds(slot_problems(
                Top,
                "train",
                &BTreeMap::new(),
                &only_figs,
                Shown::Nothing,
                None
            )),
            ["no_manifest"]
        );
        let missing = MirrorProblem::FigureMissing {
            file: "review/train/figures/plot.png".into(),
            run_id: run.clone(),
        };
        assert!(missing.is_warning() && !missing.is_lag());
        assert_eq!(missing.file(), Some("review/train/figures/plot.png"));
        assert!(MirrorProblem::Decided { shown: run.clone() }.is_lag());
        assert!(!MirrorProblem::NotApproved { shown: run }.is_lag());
    }
}
