//! Names of the refs git-workbench writes, in one place.

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

/// Splits a run ref into `(stage, run_id)`.
pub fn parse_run_ref(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix(RUNS_PREFIX)?;
    let (stage, id) = rest.split_once('/')?;
    (!id.contains('/')).then_some((stage, id))
}

/// Fetch refspecs `init` adds for a remote: tracking namespaces only, never a
/// forced fetch into the local notes ref, never a push refspec.
pub fn fetch_refspecs(remote: &str) -> [String; 2] {
    [
        format!("+{NOTES_REF}:refs/notes/remotes/{remote}/workbench"),
        format!("+{RUNS_PREFIX}*:refs/workbench/remotes/{remote}/runs/*"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_refs_round_trip() {
        let r = run_ref("train", "20260308T142233Z-3f2a");
        assert_eq!(r, "refs/workbench/runs/train/20260308T142233Z-3f2a");
        assert_eq!(parse_run_ref(&r), Some(("train", "20260308T142233Z-3f2a")));
        assert_eq!(parse_run_ref("refs/workbench/runs/x"), None);
        assert_eq!(parse_run_ref("refs/heads/main"), None);
    }
}
