//! `init`: a configuration skeleton, notes rewriting, fetch refspecs, the table
//! drivers and (optionally) the hook. Idempotent: running it again changes nothing
//! and says so.

use super::hooks::{install, HooksReport};
use super::workspace::{find_config, ConfigSource, CONFIG_FILE, PYPROJECT_FILE};
use crate::error::{Error, Result};
use crate::store::{gitcli, ConfigChange, Store};
use serde::{Deserialize, Serialize};

pub const SKELETON: &str = r#"# git-workbench configuration (format: docs/config.md in the git-workbench repository).
# Declare one [stages.NAME] table per stage; `git workbench run NAME` runs it and
# records the run in git under refs/workbench/runs/NAME/<run-id>.

# tier = 3                    # ceremony: 2 light, 3 the full review/approval loop, 4 team rules
# run_dir = "runs/{run_id}"   # per-run folder, created for each run, exported as WORKBENCH_RUN_DIR
# max_stored_size = "10MiB"   # outputs up to this size are stored in the run record; larger are hashed
# large_outputs = "lfs"       # ...or kept in git LFS, so push shares them and checkout restores them
# max_metrics_size = "1MiB"   # a larger metrics file is not read; the run records why
# max_decoded_figure_size = "256MiB"  # review fails a figure that would decode to more, undecoded

# [stages.baseline]
# cmd = "python scripts/baseline.py"                       # run through `sh -c` at the repository root
# deps = ["data/raw/incidents.csv"]                        # input files, directories or globs
# outs = ["runs/{run_id}/alerts.csv"]                      # outputs; {run_id} and {stage} are replaced
# metrics = "runs/{run_id}/metrics.json"                   # a JSON object of metrics
# params = { file = "params.yaml", keys = ["baseline.*"] } # dotted keys to record (YAML, JSON or TOML)
# code = ["src/*.py"]                                      # code files; scripts named in cmd count too
"#;

/// What the skeleton starts with in a DVC project (a `dvc.yaml` at the root): its
/// stages are imported, read live (docs/dvc.md).
pub const DVC_SKELETON: &str = r#"# This repository has a DVC pipeline: its stages are read from dvc.yaml each time
# (never copied here) and `git workbench run NAME` runs them with `dvc repro`
# (docs/dvc.md). A [stages.NAME] table without cmd adds workbench-only fields
# (review, directions, max_stored_size) to the DVC stage NAME.
dvc = "dvc.yaml"

"#;

/// `init --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitReport {
    /// `workbench.toml`, `pyproject.toml`, or null in a bare repository.
    pub config_file: Option<String>,
    pub config_created: bool,
    pub git_config: Vec<ConfigChange>,
    pub hook: Option<HooksReport>,
}

pub fn init(store: &Store, hooks: bool) -> Result<InitReport> {
    let mut config_file = None;
    let mut config_created = false;
    if let Some(root) = store.maybe_workdir() {
        config_file = Some(match find_config(root)? {
            ConfigSource::Workbench => CONFIG_FILE,
            ConfigSource::Pyproject => PYPROJECT_FILE,
            ConfigSource::None => {
                let p = root.join(CONFIG_FILE);
                let dvc = std::fs::symlink_metadata(root.join(crate::model::dvc::DVC_YAML))
                    .is_ok_and(|m| m.is_file());
                let text = if dvc {
                    format!("{DVC_SKELETON}{SKELETON}")
                } else {
                    SKELETON.to_string()
                };
                std::fs::write(&p, text).map_err(Error::io(&p))?;
                config_created = true;
                CONFIG_FILE
            }
        });
    }
    let mut git_config = store.configure_notes()?;
    git_config.extend(store.configure_remotes()?);
    git_config.extend(store.configure_drivers(gitcli::git_trusts_exit_codes())?);
    let hook = match (hooks, store.maybe_workdir()) {
        (true, Some(_)) => Some(install(store)?),
        _ => None,
    };
    Ok(InitReport {
        config_file: config_file.map(str::to_string),
        config_created,
        git_config,
        hook,
    })
}
