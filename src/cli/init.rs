//! `git workbench init`: a configuration skeleton, notes rewriting and fetch
//! refspecs. Idempotent: running it again changes nothing and says so.

use super::Out;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::workspace::{find_config, ConfigSource, CONFIG_FILE, PYPROJECT_FILE};
use serde_json::json;

/// Prepare the repository: write a commented workbench.toml when no configuration
/// exists, keep the notes index across amend/rebase, add fetch refspecs for run
/// records (never push refspecs: they would change what a plain `git push` does) and
/// configure the workbench-table diff and merge drivers.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Also install the pre-commit hook that checks narrative files.
    #[arg(long)]
    pub hooks: bool,
}

pub const SKELETON: &str = r#"# git-workbench configuration (format: docs/config.md in the git-workbench repository).
# Declare one [stages.NAME] table per stage; `git workbench run NAME` runs it and
# records the run in git under refs/workbench/runs/NAME/<run-id>.

# tier = 3                    # ceremony: 2 light, 3 the full review/approval loop, 4 team rules
# run_dir = "runs/{run_id}"   # per-run folder, created for each run, exported as WORKBENCH_RUN_DIR
# max_stored_size = "10MiB"   # outputs up to this size are stored in the run record; larger are hashed

# [stages.baseline]
# cmd = "python scripts/baseline.py"                       # run through `sh -c` at the repository root
# deps = ["data/raw/incidents.csv"]                        # input files, directories or globs
# outs = ["runs/{run_id}/alerts.csv"]                      # outputs; {run_id} and {stage} are replaced
# metrics = "runs/{run_id}/metrics.json"                   # a JSON object of metrics
# params = { file = "params.yaml", keys = ["baseline.*"] } # dotted keys to record (YAML, JSON or TOML)
# code = ["src/*.py"]                                      # code files; scripts named in cmd count too
"#;

pub fn cmd_init(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let mut config_file = None;
    let mut created = false;
    if let Some(root) = store.maybe_workdir() {
        match find_config(root)? {
            ConfigSource::Workbench => config_file = Some(CONFIG_FILE),
            ConfigSource::Pyproject => config_file = Some(PYPROJECT_FILE),
            ConfigSource::None => {
                let p = root.join(CONFIG_FILE);
                std::fs::write(&p, SKELETON).map_err(Error::io(&p))?;
                config_file = Some(CONFIG_FILE);
                created = true;
            }
        }
    }
    let mut changes = store.configure_notes()?;
    changes.extend(store.configure_remotes()?);
    changes.extend(store.configure_drivers(git_trusts_exit_codes())?);
    let hook = match (args.hooks, store.maybe_workdir()) {
        (true, Some(root)) => {
            let path = crate::hooks::hook_path(root)?;
            let what = crate::hooks::install(&path)?;
            Some((path, what))
        }
        _ => None,
    };
    if out.json {
        out.json_value(&json!({
            "config_file": config_file,
            "config_created": created,
            "git_config": changes,
            "hook": hook.as_ref().map(|(p, _)| p),
        }));
        return Ok(0);
    }
    match (config_file, created) {
        (Some(f), true) => out.line(&format!(
            "created {f} (a commented skeleton: declare your stages there)"
        )),
        (Some(f), false) => out.line(&format!("kept {f} (configuration already present)")),
        (None, _) => out.line("bare repository: no configuration file written"),
    }
    for c in &changes {
        let line = match (c.action, &c.previous) {
            ("unchanged", _) => format!("already set {} = {}", c.key, c.value),
            (_, Some(prev)) => format!("set {} = {} (was {prev})", c.key, c.value),
            _ => format!("added {} = {}", c.key, c.value),
        };
        out.line(&line);
    }
    if let Some((path, what)) = hook {
        let word = match what {
            crate::hooks::Installed::Unchanged => "already installed in",
            _ => "installed the pre-commit check in",
        };
        out.line(&format!("{word} {}", path.display()));
    }
    Ok(0)
}

/// True when the installed git honours `diff.<driver>.trustExitCode` (git 2.46+);
/// an unknown version is taken as new.
fn git_trusts_exit_codes() -> bool {
    let Ok(o) = std::process::Command::new("git").arg("--version").output() else {
        return true;
    };
    let text = String::from_utf8_lossy(&o.stdout);
    let mut nums = text
        .split_whitespace()
        .nth(2)
        .unwrap_or("")
        .split('.')
        .map(|n| n.parse::<u32>().ok());
    match (nums.next().flatten(), nums.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (2, 46),
        _ => true,
    }
}
