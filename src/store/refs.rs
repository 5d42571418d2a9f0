//! Names of the refs git-workbench writes, in one place.

use crate::model::{RunId, StageName};

/// Prefix of run records: `refs/workbench/runs/<stage>/<run-id>`.
pub const RUNS_PREFIX: &str = "refs/workbench/runs/";
/// Index of each stage's current approved run: `refs/workbench/approved/<stage>`.
pub const APPROVED_PREFIX: &str = "refs/workbench/approved/";

pub fn approved_ref(stage: &str) -> String {
    format!("{APPROVED_PREFIX}{stage}")
}

/// The notes index on code commits.
pub const NOTES_REF: &str = "refs/notes/workbench";

pub fn run_ref(stage: &str, run_id: &str) -> String {
    format!("{RUNS_PREFIX}{stage}/{run_id}")
}

/// Splits a run ref into its stage and run id; a ref whose parts are not a valid
/// stage name and run id is not a run ref.
pub fn parse_run_ref(name: &str) -> Option<(StageName, RunId)> {
    let rest = name.strip_prefix(RUNS_PREFIX)?;
    let (stage, id) = rest.split_once('/')?;
    Some((StageName::new(stage).ok()?, RunId::new(id).ok()?))
}

/// Fetch refspecs `init` adds for a remote: tracking namespaces only, never a
/// forced fetch into the local notes ref, never a push refspec.
pub fn fetch_refspecs(remote: &str) -> [String; 2] {
    [
        format!("+{NOTES_REF}:refs/notes/remotes/{remote}/workbench"),
        format!("+{RUNS_PREFIX}*:refs/workbench/remotes/{remote}/runs/*"),
    ]
}

/// Prefix of the conflict markers: `refs/workbench/conflicts/<stage>/<run-id>` points
/// at a run's conflict record while it is the run's tip. Local and derived: written
/// when a merge leaves a run in conflict, ignored (and removed) once the run moved on.
pub const CONFLICTS_PREFIX: &str = "refs/workbench/conflicts/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_refs_round_trip() {
        let r = run_ref("train", "20260308T142233Z-3f2a");
        assert_eq!(r, "refs/workbench/runs/train/20260308T142233Z-3f2a");
        let (stage, id) = parse_run_ref(&r).unwrap();
        assert_eq!(
            (stage.as_str(), id.as_str()),
            ("train", "20260308T142233Z-3f2a")
        );
        assert_eq!(parse_run_ref("refs/workbench/runs/x"), None);
        assert_eq!(parse_run_ref("refs/heads/main"), None);
        assert_eq!(
            parse_run_ref("refs/workbench/runs/a/b/20260308T142233Z-3f2a"),
            None
        );
        assert_eq!(parse_run_ref("refs/workbench/runs/train/notarunid"), None);
    }
}
