//! The working-tree mirror, `review/<stage>/`: the contract files of one run, as the
//! seed lays them out, so a pull request shows them. The check here is shared by
//! `doctor` (the files on disk) and `verify` (the files committed at the tip): every
//! mirrored file must be byte for byte one the run's records hold.

use super::ids::{RunId, StageName};
use super::manifest::RunManifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The mirror's directory and files.
pub const MIRROR_DIR: &str = "review";
pub const MIRROR_FILES: [&str; 5] = [
    "manifest.json",
    "review.json",
    "approval.json",
    "feedback.json",
    "card.md",
];

/// What the records hold for the run a mirror shows.
pub struct MirrorRecords {
    /// Every version of each contract file along the run's transitions.
    pub versions: BTreeMap<&'static str, Vec<Vec<u8>>>,
    /// The stage's latest run, if the mirror must show that one.
    pub latest: Option<RunId>,
}

/// One way a mirror disagrees with the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MirrorProblem {
    /// `manifest.json` is not a manifest.
    NotAManifest,
    /// `review/<dir>/` holds the records of another stage's run.
    WrongStage { dir: String, stage: StageName },
    /// The mirror names a run this clone has no record of.
    UnknownRun { run_id: RunId },
    /// The mirror shows another run than the stage's latest.
    NotLatest { shown: RunId, latest: RunId },
    /// A mirrored file is not what any record of the run holds.
    Differs { file: String, run_id: RunId },
}

impl std::fmt::Display for MirrorProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MirrorProblem::NotAManifest => write!(f, "the mirrored manifest does not parse"),
            MirrorProblem::WrongStage { dir, stage } => write!(
                f,
                "{MIRROR_DIR}/{dir}/ holds a run of stage {stage}, not of {dir}"
            ),
            MirrorProblem::UnknownRun { run_id } => write!(
                f,
                "the mirror names run {run_id} but the records have no such run"
            ),
            MirrorProblem::NotLatest { shown, latest } => write!(
                f,
                "the mirror shows run {shown} but the latest run is {latest}"
            ),
            MirrorProblem::Differs { file, run_id } => {
                write!(f, "{file} differs from the records of run {run_id}")
            }
        }
    }
}

/// The run a mirror's `manifest.json` names.
pub fn mirrored_run(manifest: &[u8]) -> Result<RunManifest, MirrorProblem> {
    RunManifest::from_json(manifest).map_err(|_| MirrorProblem::NotAManifest)
}

/// Every problem of the mirror in `review/<stage>/`: `manifest` is its manifest,
/// `files` the mirrored files present, `records` what the records hold for the run the
/// manifest names (`None`: no such run here).
pub fn mirror_problems(
    stage: &str,
    manifest: &RunManifest,
    files: &BTreeMap<&'static str, Vec<u8>>,
    records: Option<&MirrorRecords>,
) -> Vec<MirrorProblem> {
    // Another stage's approved records under this stage's name would pass as its own.
    if manifest.stage.as_str() != stage {
        return vec![MirrorProblem::WrongStage {
            dir: stage.to_string(),
            stage: manifest.stage.clone(),
        }];
    }
    let shown = &manifest.run_id;
    let Some(records) = records else {
        return vec![MirrorProblem::UnknownRun {
            run_id: shown.clone(),
        }];
    };
    let mut out = Vec::new();
    if let Some(latest) = &records.latest {
        if latest != shown {
            out.push(MirrorProblem::NotLatest {
                shown: shown.clone(),
                latest: latest.clone(),
            });
        }
    }
    for (name, bytes) in files {
        let known = records
            .versions
            .get(name)
            .is_some_and(|v| v.iter().any(|b| b == bytes));
        if !known {
            out.push(MirrorProblem::Differs {
                file: format!("{MIRROR_DIR}/{stage}/{name}"),
                run_id: shown.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_table() {
        let run = RunId::new("20260308T110000Z-0000").unwrap();
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
        let later = RunId::new("20260308T120000Z-0000").unwrap();
        let files = |card: &str| {
            BTreeMap::from([
                ("manifest.json", b"m".to_vec()),
                ("card.md", card.as_bytes().to_vec()),
            ])
        };
        let records = |latest: Option<&RunId>| MirrorRecords {
            versions: BTreeMap::from([
                ("manifest.json", vec![b"m".to_vec()]),
                ("card.md", vec![b"draft 1".to_vec(), b"draft 2".to_vec()]),
            ]),
            latest: latest.cloned(),
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
        #[rustfmt::skip]
        let table: Vec<(&str, Option<MirrorRecords>, Vec<&str>)> = vec![
            ("draft 2", Some(records(None)), vec![]),
            ("draft 1", Some(records(None)), vec![], ),
            ("edited", Some(records(None)), vec!["differs"]),
            ("draft 2", Some(records(Some(&run))), vec![]),
            ("draft 2", Some(records(Some(&later))), vec!["not_latest"]),
            ("edited", Some(records(Some(&later))), vec!["not_latest", "differs"]),
            ("draft 2", None, vec!["unknown_run"]),
        ];
        for (card, rec, want) in table {
            let got = kinds(mirror_problems(
                "train",
                &manifest("train"),
                &files(card),
                rec.as_ref(),
            ));
            assert_eq!(got, want, "{card}");
        }
        // a file the records never held is reported even when the others agree
        let extra = BTreeMap::from([("approval.json", b"{}".to_vec())]);
        let p = mirror_problems("train", &manifest("train"), &extra, Some(&records(None)));
        assert_eq!(
            p[0].to_string(),
            format!("review/train/approval.json differs from the records of run {run}")
        );
        assert_eq!(mirrored_run(b"not json"), Err(MirrorProblem::NotAManifest));
        // eval's directory holding train's approved run is refused whatever it holds
        let p = mirror_problems(
            "eval",
            &manifest("train"),
            &files("draft 2"),
            Some(&records(None)),
        );
        assert_eq!(kinds(p.clone()), ["wrong_stage"]);
        assert_eq!(
            p[0].to_string(),
            "review/eval/ holds a run of stage train, not of eval"
        );
    }
}
