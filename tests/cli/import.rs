//! `import hydra` against a real Hydra --multirun, and `import runs`.

use crate::common::Repo;

const APP: &str = r#"import json, logging, os
import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
log = logging.getLogger(__name__)

@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    out = HydraConfig.get().runtime.output_dir
    score = cfg.model.lr * cfg.model.depth
    log.info("score %s", score)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"score": score}, f)
    with open(os.path.join(out, "pred.csv"), "w") as f:
        f.write("a,b\n1,2\n")

if __name__ == "__main__":
    main()
"#;

/// The Python of the test virtualenv, with hydra-core (`.ci/deps` installs it); the
/// test fails, never skips, without it.
fn hydra_python() -> std::path::PathBuf {
    let python = crate::common::venv_tool("python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import hydra"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} cannot import hydra: run .ci/deps (it installs hydra-core in the test virtualenv)",
        python.display()
    );
    python
}

#[test]
fn a_real_hydra_multirun_is_imported_once() {
    let python = hydra_python();
    let repo = Repo::with(
        "[stages.train]\ncmd = \"python app.py\"\n",
        &[
            ("app.py", APP),
            (
                "conf/config.yaml",
                "model:\n  lr: 0.1\n  depth: 2\nseed: 0\n",
            ),
        ],
    );
    let o = repo
        .cmd(
            python.to_str().unwrap(),
            &[
                "app.py",
                "--multirun",
                "model.lr=0.1,0.2",
                "model.depth=1,2,3",
            ],
        )
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j = repo
        .wb(&["--json", "import", "hydra", "multirun", "--stage", "train"])
        .ok()
        .json();
    let ids: Vec<String> = j["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 6);
    let mut seen = Vec::new();
    let mut sweeps = std::collections::BTreeSet::new();
    for id in &ids {
        let m = repo.manifest("train", id);
        let (lr, depth) = (
            m["params_used"]["model.lr"].as_f64().unwrap(),
            m["params_used"]["model.depth"].as_i64().unwrap(),
        );
        assert_eq!(
            m["params_used"]["seed"], 0,
            "the composed config, flattened"
        );
        assert_eq!(m["overrides"]["model.lr"].as_f64(), Some(lr));
        assert!((m["metrics"]["score"].as_f64().unwrap() - lr * depth as f64).abs() < 1e-9);
        let outputs = m["outputs"].as_object().unwrap();
        assert!(
            outputs.keys().any(|k| k.ends_with("/pred.csv")),
            "{outputs:?}"
        );
        assert!(outputs.keys().any(|k| k.ends_with("/app.log")));
        assert!(!outputs.keys().any(|k| k.contains(".hydra")));
        assert!(m["log_bytes"].as_u64().unwrap() > 0, "the job's log");
        assert!(m["started_at"]
            .as_str()
            .unwrap()
            .starts_with(&m["run_dir"].as_str().unwrap()[9..19]));
        assert!(m["imported_from"]
            .as_str()
            .unwrap()
            .starts_with("hydra multirun/"));
        sweeps.insert(m["sweep_id"].as_str().unwrap().to_string());
        seen.push((lr, depth));
        // the stored output is the job's file, byte for byte
        let pred = outputs.keys().find(|k| k.ends_with("/pred.csv")).unwrap();
        assert_eq!(
            repo.git(&[
                "show",
                &format!("refs/workbench/runs/train/{id}:outputs/{pred}")
            ]),
            "a,b\n1,2"
        );
    }
    seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        seen,
        [(0.1, 1), (0.1, 2), (0.1, 3), (0.2, 1), (0.2, 2), (0.2, 3)]
    );
    assert_eq!(sweeps.len(), 1, "one multirun, one sweep id");
    let sweep = sweeps.into_iter().next().unwrap();
    assert!(sweep.starts_with("hydra-"));
    // idempotent, also through another spelling of the directory
    let again = repo
        .wb(&[
            "--json",
            "import",
            "hydra",
            "./multirun/",
            "--stage",
            "train",
        ])
        .ok()
        .json();
    assert_eq!(again["imported"].as_array().unwrap().len(), 0);
    assert_eq!(again["already_imported"].as_array().unwrap().len(), 6);
    assert_eq!(
        repo.git(&["for-each-ref", "refs/workbench/runs/"])
            .lines()
            .count(),
        6
    );
    let t = repo
        .wb(&["--json", "compare", "--sweep", &sweep])
        .ok()
        .json();
    assert_eq!(t["rows"].as_array().unwrap().len(), 6);
    assert_eq!(repo.note_lines("HEAD").len(), 6);
    repo.fsck();
}

#[test]
fn plain_run_folders_are_imported_and_bad_trees_refused() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"true\"\n",
        &[
            (
                "old/20260301T101500Z-1a00/config.yaml",
                "lr: 0.5\nnet:\n  width: 8\n",
            ),
            ("old/20260301T101500Z-1a00/metrics.json", "{\"auc\": 0.7}"),
            ("old/20260301T101500Z-1a00/figures/roc.svg", "<svg/>"),
            ("old/other-run/metrics.json", "{\"auc\": 0.6}"),
        ],
    );
    let j = repo
        .wb(&["--json", "import", "runs", "old", "--stage", "s"])
        .ok()
        .json();
    let ids = j["imported"].as_array().unwrap();
    assert_eq!(ids.len(), 2);
    let first = repo.manifest("s", ids[0].as_str().unwrap());
    assert_eq!(first["params_used"]["net.width"], 8);
    assert_eq!(first["metrics"]["auc"], 0.7);
    assert_eq!(
        first["started_at"], "2026-03-01T10:15:00.104Z",
        "the folder's run id keeps its time"
    );
    assert!(first["outputs"]["old/20260301T101500Z-1a00/figures/roc.svg"].is_string());
    repo.wb(&["--json", "import", "runs", "old", "--stage", "s"])
        .ok();
    assert_eq!(
        repo.git(&["for-each-ref", "refs/workbench/runs/"])
            .lines()
            .count(),
        2
    );
    // errors
    repo.wb(&["import", "hydra", "old", "--stage", "s"]).fails(
        2,
        "old is not a Hydra multirun tree: no <job>/.hydra/config.yaml below it",
    );
    repo.wb(&["import", "hydra", "nowhere", "--stage", "s"])
        .fails(2, "nowhere");
    repo.wb(&["import", "runs", "old", "--stage", "a/b"])
        .fails(2, "is not a stage name");
    repo.write("bad/x/config.yaml", "a: [1,\n");
    repo.wb(&["import", "runs", "bad", "--stage", "s"])
        .fails(2, "not valid YAML");
}
