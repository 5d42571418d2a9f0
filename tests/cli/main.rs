//! The one integration-test binary: drives the built `git-workbench` on temporary
//! repositories and checks the results with the real `git` CLI.

mod agent_loop;
mod attack_r;
mod attacks;
mod attributes;
mod checkout;
mod ci_recipes;
mod common;
mod compare;
mod completion;
mod concurrency;
mod crash;
mod decisions;
mod demo;
mod doctor;
mod drivers;
mod dvc;
mod errors;
mod figures;
mod forced;
mod git_config;
mod help;
mod import;
mod import_manifest;
mod init;
mod interpretations;
mod json;
mod lfs;
mod limits;
mod manpages;
mod marimo_app;
mod mirror;
mod narrative_attacks;
mod narratives;
mod notebooks;
mod params;
mod params_reach;
mod precommit;
mod progress;
mod records;
mod report;
mod run;
mod run_log;
mod scale;
mod status;
mod sweep;
mod sync;
mod sync_scale;
mod wheel;

use common::Repo;

pub const TRAIN_CONFIG: &str = r#"
[stages.train]
cmd = "sh scripts/train.sh"
deps = ["data/in.csv"]
outs = ["runs/{run_id}/out.csv"]
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["train.*"] }

[stages.report]
cmd = "echo report"
"#;

pub const TRAIN_SH: &str = r#"set -e
mkdir -p "$WORKBENCH_RUN_DIR"
cat data/in.csv > "$WORKBENCH_RUN_DIR/out.csv"
echo "run=$WORKBENCH_RUN_ID stage=$WORKBENCH_STAGE dir=$WORKBENCH_RUN_DIR"
echo "params=$WORKBENCH_PARAMS"
echo "to stderr" >&2
printf '{"score": 0.75, "nested": {"n": 3}}' > "$WORKBENCH_RUN_DIR/metrics.json"
"#;

/// A repository with the `train` and `report` stages, committed.
pub fn train_repo() -> Repo {
    Repo::with(
        TRAIN_CONFIG,
        &[
            ("scripts/train.sh", TRAIN_SH),
            ("data/in.csv", "a,b\n1,2\n"),
            ("params.yaml", "train:\n  lr: 0.1\n  depth: 3\nother: 1\n"),
        ],
    )
}

/// Runs a stage with `--json` and returns its run id.
pub fn run_json(repo: &Repo, args: &[&str]) -> String {
    let mut a = vec!["--json", "run"];
    a.extend_from_slice(args);
    let r = repo.wb(&a).ok();
    r.json()["run_id"].as_str().unwrap().to_string()
}
