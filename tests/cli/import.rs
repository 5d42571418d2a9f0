//! `import hydra` against real Hydra runs (multirun and single), and `import runs`:
//! logs are no outputs, folder times are read in a zone, the stage must be declared,
//! the tree must be inside the repository, run ids are unique, hostile trees refused.

use crate::common::Repo;
use serde_json::Value;
use std::path::{Path, PathBuf};

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

/// An app that only prints: Hydra still creates its `app.log`, empty.
const PRINTS: &str = r#"import hydra
from omegaconf import DictConfig

@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    print("score", cfg.model.lr * cfg.model.depth)

if __name__ == "__main__":
    main()
"#;

const CONF: &str = "model:\n  lr: 0.1\n  depth: 2\nseed: 0\n";

/// The Python of the test virtualenv, with hydra-core (`.ci/deps` installs it); the
/// test fails, never skips, without it.
fn hydra_python() -> PathBuf {
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

fn hydra_repo(config: &str, app: &str) -> Repo {
    Repo::with(config, &[("app.py", app), ("conf/config.yaml", CONF)])
}

/// Runs the app with real Hydra in `dir` under the zone `tz`.
fn hydra_in(repo: &Repo, dir: &Path, tz: &str, args: &[&str]) {
    let python = hydra_python();
    let app = repo.path("app.py");
    let mut argv = vec![app.to_str().unwrap()];
    argv.extend_from_slice(args);
    let o = repo
        .cmd(python.to_str().unwrap(), &argv)
        .current_dir(dir)
        .env("TZ", tz)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn hydra(repo: &Repo, args: &[&str]) {
    hydra_in(repo, &repo.root, "UTC", args);
}

fn ids(j: &Value, field: &str) -> Vec<String> {
    j[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn run_count(repo: &Repo) -> usize {
    repo.git(&["for-each-ref", "refs/workbench/runs/"])
        .lines()
        .count()
}

fn millis(t: &Value) -> i64 {
    let s = t.as_str().unwrap();
    let o = std::process::Command::new("date")
        .args(["-u", "-d", s, "+%s%3N"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn a_real_hydra_multirun_is_imported_once() {
    let repo = hydra_repo("[stages.train]\ncmd = \"python app.py\"\n", APP);
    hydra(
        &repo,
        &["--multirun", "model.lr=0.1,0.2", "model.depth=1,2,3"],
    );
    let j = repo
        .wb(&["--json", "import", "hydra", "multirun", "--stage", "train"])
        .ok()
        .json();
    let first = ids(&j, "imported");
    assert_eq!(first.len(), 6);
    assert_eq!(j["timezone"], "local");
    let mut seen = Vec::new();
    let mut sweeps = std::collections::BTreeSet::new();
    for id in &first {
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
        assert!(
            !outputs.keys().any(|k| k.ends_with(".log")),
            "the log is no output: {outputs:?}"
        );
        assert!(!outputs.keys().any(|k| k.contains(".hydra")));
        // the log is the run's log, byte for byte
        let run_dir = m["run_dir"].as_str().unwrap();
        let log = std::fs::read_to_string(repo.path(&format!("{run_dir}/app.log"))).unwrap();
        assert!(log.contains("score"), "{log}");
        assert_eq!(m["log_bytes"].as_u64().unwrap(), log.len() as u64);
        let stored = repo.git(&["show", &format!("refs/workbench/runs/train/{id}:log.txt")]);
        assert_eq!(stored, log.trim_end());
        assert!(m["started_at"]
            .as_str()
            .unwrap()
            .starts_with(&run_dir[9..19]));
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
    // idempotent, also through other spellings of the directory
    for spelling in ["./multirun/", "conf/../multirun"] {
        let again = repo
            .wb(&["--json", "import", "hydra", spelling, "--stage", "train"])
            .ok()
            .json();
        assert_eq!(again["imported"].as_array().unwrap().len(), 0);
        let mut same = ids(&again, "already_imported");
        same.sort();
        let mut sorted = first.clone();
        sorted.sort();
        assert_eq!(same, sorted, "the runs the first import recorded");
    }
    assert_eq!(run_count(&repo), 6);
    let t = repo
        .wb(&["--json", "compare", "--sweep", &sweep])
        .ok()
        .json();
    assert_eq!(t["rows"].as_array().unwrap().len(), 6);
    assert_eq!(repo.note_lines("HEAD").len(), 6);
    repo.fsck();
}

#[test]
fn an_app_that_only_prints_passes_review_without_force() {
    let repo = hydra_repo("[stages.train]\ncmd = \"python app.py\"\n", PRINTS);
    hydra(&repo, &["--multirun", "model.lr=0.1,0.2"]);
    let logs: Vec<PathBuf> = glob_logs(&repo.path("multirun"));
    assert_eq!(logs.len(), 2, "Hydra wrote a log per job");
    assert!(logs
        .iter()
        .all(|l| std::fs::metadata(l).unwrap().len() == 0));
    let j = repo
        .wb(&["--json", "import", "hydra", "multirun", "--stage", "train"])
        .ok()
        .json();
    for id in ids(&j, "imported") {
        let m = repo.manifest("train", &id);
        assert_eq!(
            m["outputs"],
            serde_json::json!({}),
            "the empty log is no output"
        );
        assert_eq!(m["log_bytes"], 0);
        let r = repo.wb(&["--json", "review", &id]).ok().json();
        assert_eq!(r["verdict"], "pass", "{r}");
        let empty = r["review"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "non_empty_outputs")
            .unwrap()
            .clone();
        assert_eq!(empty["pass"], true, "{empty}");
    }
    let last = ids(&j, "imported").pop().unwrap();
    repo.wb(&["approve", &last, "--yes"]).ok();
    let show = repo.wb(&["--json", "show", &last]).ok().json();
    assert_eq!(show["state"], "approved");
}

fn glob_logs(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "log") {
                out.push(p);
            }
        }
    }
    out
}

const THREE_STAGES: &str = "[stages.here]\ncmd = \"python app.py\"\n[stages.utc]\ncmd = \"python app.py\"\n[stages.named]\ncmd = \"python app.py\"\n[stages.offset]\ncmd = \"python app.py\"\n";

#[test]
fn hydra_folder_times_are_read_in_the_zone_of_the_machine_or_the_one_named() {
    let repo = hydra_repo(THREE_STAGES, APP);
    // a multirun and a single run, made in Tokyo
    let before = now_millis() / 1000 * 1000;
    hydra_in(
        &repo,
        &repo.root,
        "Asia/Tokyo",
        &["--multirun", "model.lr=0.1,0.2"],
    );
    hydra_in(&repo, &repo.root, "Asia/Tokyo", &[]);
    let after = now_millis();
    let import = |stage: &str, tz: &str, extra: &[&str]| {
        let mut multi = vec!["--json", "import", "hydra", "multirun", "--stage", stage];
        multi.extend_from_slice(extra);
        let mut single = vec!["--json", "import", "hydra", "outputs", "--stage", stage];
        single.extend_from_slice(extra);
        let m = repo
            .cmd(crate::common::BIN, &multi)
            .env("TZ", tz)
            .output()
            .unwrap();
        let s = repo
            .cmd(crate::common::BIN, &single)
            .env("TZ", tz)
            .output()
            .unwrap();
        assert!(
            m.status.success() && s.status.success(),
            "{}",
            String::from_utf8_lossy(&m.stderr)
        );
        let mut runs: Vec<Value> = Vec::new();
        for o in [m, s] {
            let j: Value = serde_json::from_slice(&o.stdout).unwrap();
            runs.extend(j["runs"].as_array().unwrap().iter().cloned());
        }
        assert_eq!(runs.len(), 3);
        runs
    };
    let true_time = |runs: &[Value]| {
        for r in runs {
            let t = millis(&r["started_at"]);
            assert!(
                (before..=after + 10).contains(&t),
                "{r} not in [{before}, {after}]"
            );
        }
    };
    // the importing machine is in Tokyo too: its zone is the default
    let here = import("here", "Asia/Tokyo", &[]);
    true_time(&here);
    // an importing machine in UTC reads the folder names as its own local time ...
    let utc = import("utc", "UTC", &[]);
    for (u, h) in utc.iter().zip(&here) {
        assert_eq!(
            millis(&u["started_at"]) - millis(&h["started_at"]),
            9 * 3600 * 1000
        );
    }
    // ... unless told the zone the jobs ran in, by name or offset
    true_time(&import("named", "UTC", &["--timezone", "Asia/Tokyo"]));
    true_time(&import("offset", "UTC", &["--timezone", "+09:00"]));
    // the single run is no sweep; the multirun's jobs share one
    for r in &here {
        let m = repo.manifest("here", r["run_id"].as_str().unwrap());
        let single = m["run_dir"].as_str().unwrap().starts_with("outputs/");
        assert_eq!(m["sweep_id"].is_null(), single, "{m}");
    }
}

#[test]
fn named_zones_follow_summer_time_and_bad_zones_are_refused() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"true\"\n",
        &[
            ("m/2026-07-01/10-00-00/0/.hydra/config.yaml", "a: 1\n"),
            ("m/2026-12-01/10-00-00/0/.hydra/config.yaml", "a: 2\n"),
        ],
    );
    let starts = |zone: &str| {
        let j = repo
            .wb(&[
                "--json",
                "import",
                "hydra",
                "m",
                "--stage",
                "s",
                "--timezone",
                zone,
            ])
            .ok()
            .json();
        let mut all: Vec<String> = j["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["started_at"].as_str().unwrap().to_string())
            .collect();
        all.sort();
        (all, j["timezone"].as_str().unwrap().to_string())
    };
    let (berlin, shown) = starts("Europe/Berlin");
    assert_eq!(shown, "Europe/Berlin");
    assert_eq!(
        berlin,
        ["2026-07-01T08:00:00.000Z", "2026-12-01T09:00:00.000Z"],
        "summer and winter time"
    );
    // the same jobs again, in another zone, are already imported
    let again = repo
        .wb(&[
            "--json",
            "import",
            "hydra",
            "m",
            "--stage",
            "s",
            "--timezone",
            "-05:30",
        ])
        .ok()
        .json();
    assert_eq!(again["already_imported"].as_array().unwrap().len(), 2);
    assert_eq!(run_count(&repo), 2);
    for (zone, needle) in [
        ("Asia/Tokio", "unknown time zone 'Asia/Tokio'"),
        ("Asia", "unknown time zone 'Asia'"),
        ("../../etc/passwd", "is neither a UTC offset"),
        ("+25:00", "more than 18 hours from UTC"),
        ("+9", "is not a UTC offset"),
    ] {
        repo.write("n/2026-01-01/00-00-00/0/.hydra/config.yaml", "a: 3\n");
        repo.wb(&["import", "hydra", "n", "--stage", "s", "--timezone", zone])
            .fails(2, needle);
    }
    assert_eq!(run_count(&repo), 2, "nothing recorded");
}

#[test]
fn an_undeclared_stage_is_refused_and_a_declared_one_shows_in_status_next_and_doctor() {
    let repo = hydra_repo("[stages.train]\ncmd = \"python app.py\"\n", APP);
    hydra(
        &repo,
        &["--multirun", "model.lr=0.1,0.2,0.3", "model.depth=1,2"],
    );
    let r = repo
        .wb(&["import", "hydra", "multirun", "--stage", "sweep"])
        .fails(
            2,
            "stage 'sweep' is not declared in workbench.toml (declared: train)",
        );
    assert!(
        r.stderr.contains("hint: add [stages.sweep] with cmd = "),
        "{}",
        r.stderr
    );
    repo.assert_nothing_recorded();
    // the hint, followed: the rest of the file is the user's, untouched
    let before = repo.read("workbench.toml");
    repo.write(
        "workbench.toml",
        &format!("{before}[stages.sweep]\ncmd = \"python app.py\"\n"),
    );
    let j = repo
        .wb(&["--json", "import", "hydra", "multirun", "--stage", "sweep"])
        .ok()
        .json();
    let imported = ids(&j, "imported");
    assert_eq!(imported.len(), 6);
    let status = repo.wb(&["--json", "status"]).ok().json();
    let row = status["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "sweep")
        .expect("the stage is in status")
        .clone();
    assert!(imported.contains(&row["latest_run"].as_str().unwrap().to_string()));
    let next = repo.wb(&["--json", "next"]).ok().json();
    assert!(
        next["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["stage"] == "sweep"),
        "next has something to do for the imported stage: {next}"
    );
    let doctor = repo.wb(&["--json", "doctor"]).json();
    let undeclared = |d: &Value| {
        d["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "undeclared stages")
            .unwrap()
            .clone()
    };
    assert_eq!(undeclared(&doctor)["status"], "ok");
    // runs whose stage is no longer declared are named by doctor
    repo.write("workbench.toml", &before);
    let doctor = repo.wb(&["--json", "doctor"]).json();
    let c = undeclared(&doctor);
    assert_eq!(c["status"], "warn");
    assert!(
        c["detail"].as_str().unwrap().contains("sweep (6 run(s))"),
        "{c}"
    );
    assert!(c["fix"].as_str().unwrap().contains("[stages.NAME]"), "{c}");
    // the same refusal for the seed's layout, and for pyproject.toml's table
    repo.write("old/r1/metrics.json", "{\"auc\": 0.7}");
    repo.wb(&["import", "runs", "old", "--stage", "old"])
        .fails(2, "stage 'old' is not declared");
    std::fs::remove_file(repo.path("workbench.toml")).unwrap();
    repo.write(
        "pyproject.toml",
        "[tool.workbench.stages.train]\ncmd = \"python app.py\"\n",
    );
    let r = repo
        .wb(&["import", "runs", "old", "--stage", "old"])
        .fails(2, "stage 'old' is not declared in pyproject.toml");
    assert!(
        r.stderr.contains("[tool.workbench.stages.old]"),
        "{}",
        r.stderr
    );
    assert_eq!(run_count(&repo), 6);
}

#[test]
fn a_multirun_outside_the_repository_is_refused() {
    let repo = hydra_repo("[stages.train]\ncmd = \"python app.py\"\n", APP);
    let away = tempfile::tempdir().unwrap();
    hydra_in(
        &repo,
        away.path(),
        "UTC",
        &["--multirun", "model.lr=0.1,0.2"],
    );
    let outside = away.path().join("multirun");
    assert!(outside.is_dir());
    let hint = "hint: move or copy the tree into the repository";
    let r = repo
        .wb(&[
            "import",
            "hydra",
            outside.to_str().unwrap(),
            "--stage",
            "train",
        ])
        .fails(2, "is outside the repository's working tree");
    assert!(r.stderr.contains(hint), "{}", r.stderr);
    // through a link in the repository, and through '..'
    std::os::unix::fs::symlink(&outside, repo.path("linked")).unwrap();
    repo.wb(&["import", "hydra", "linked", "--stage", "train"])
        .fails(2, "is outside the repository's working tree");
    repo.wb(&["import", "hydra", "..", "--stage", "train"])
        .fails(2, "is outside the repository's working tree");
    repo.wb(&["import", "hydra", ".git", "--stage", "train"])
        .fails(2, "is outside the repository's working tree");
    repo.assert_nothing_recorded();
    // the hint, followed
    std::fs::rename(&outside, repo.path("multirun")).unwrap();
    let j = repo
        .wb(&["--json", "import", "hydra", "multirun", "--stage", "train"])
        .ok()
        .json();
    for id in ids(&j, "imported") {
        let m = repo.manifest("train", &id);
        for path in m["outputs"].as_object().unwrap().keys() {
            assert!(path.starts_with("multirun/"), "{path}");
            assert!(repo.path(path).is_file(), "{path} names the real file");
        }
        assert!(repo.wb(&["--json", "review", &id]).ok().json()["verdict"] == "pass");
    }
}

#[test]
fn run_ids_are_unique_across_stages_and_every_ambiguity_hint_can_be_followed() {
    let repo = hydra_repo(
        "[stages.a]\ncmd = \"python app.py\"\n[stages.b]\ncmd = \"python app.py\"\nparams = { file = \"conf/config.yaml\", keys = [\"model.depth\"] }\n",
        APP,
    );
    hydra(&repo, &["--multirun", "model.lr=0.1,0.2"]);
    let import = |stage: &str| {
        repo.wb(&["--json", "import", "hydra", "multirun", "--stage", stage])
            .ok()
            .json()
    };
    let a = ids(&import("a"), "imported");
    let b = ids(&import("b"), "imported");
    assert_eq!((a.len(), b.len()), (2, 2));
    let all: std::collections::BTreeSet<&String> = a.iter().chain(&b).collect();
    assert_eq!(
        all.len(),
        4,
        "one multirun in two stages: four ids {a:?} {b:?}"
    );
    // importing again into the same stage is idempotent: the same runs
    let again = import("a");
    assert_eq!(ids(&again, "imported").len(), 0);
    assert_eq!(ids(&again, "already_imported"), a);
    assert_eq!(run_count(&repo), 4);
    // a prefix every run shares is ambiguous; each way the hint offers works
    let prefix = &a[0][..8];
    let r = repo.wb(&["show", prefix]).fails(2, "is ambiguous");
    assert!(
        r.stderr.contains(
            "hint: give more characters of the run id, or write one as listed (STAGE/ID)"
        ),
        "{}",
        r.stderr
    );
    let message = r.stderr.lines().next().unwrap();
    let listed: Vec<&str> = message
        .split_once(": ")
        .unwrap()
        .1
        .split_once(": ")
        .unwrap()
        .1
        .split(", ")
        .collect();
    assert_eq!(listed.len(), 4, "{message}");
    for spec in listed {
        let (stage, id) = spec.split_once('/').unwrap();
        for arg in [spec, id] {
            let j = repo.wb(&["--json", "show", arg]).ok().json();
            assert_eq!(
                (j["stage"].as_str(), j["run_id"].as_str()),
                (Some(stage), Some(id))
            );
        }
    }
}

#[test]
fn hostile_multirun_trees_are_refused_whole_or_recorded_faithfully() {
    let repo = hydra_repo(
        "max_stored_size = \"64kB\"\n[stages.s]\ncmd = \"python app.py\"\n",
        APP,
    );
    hydra(&repo, &["--multirun", "model.lr=0.1,0.2"]);
    let job = glob_logs(&repo.path("multirun"))[0]
        .parent()
        .unwrap()
        .to_path_buf();
    // a fresh copy of the real multirun's two jobs under hostile/<case>/<stamp>/
    let case = |name: &str| -> PathBuf {
        let sweep = repo.path(&format!("hostile/{name}/2026-12-01/10-00-00"));
        for n in ["0", "1"] {
            copy_dir(&job, &sweep.join(n));
            std::fs::write(sweep.join(n).join("pred.csv"), format!("{name},{n}\n")).unwrap();
        }
        sweep
    };
    let refused = |name: &str, needle: &str| {
        let before = run_count(&repo);
        let r = repo
            .wb(&[
                "import",
                "hydra",
                &format!("hostile/{name}"),
                "--stage",
                "s",
            ])
            .fails(2, needle);
        assert!(r.stderr.contains("nothing was imported"), "{}", r.stderr);
        assert_eq!(run_count(&repo), before, "{name}: nothing recorded");
    };
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "s3cr3t").unwrap();

    let d = case("link-out");
    std::os::unix::fs::symlink(outside.path().join("secret"), d.join("1/leak.txt")).unwrap();
    refused("link-out", "is a symbolic link to");

    let d = case("hydra-link");
    std::fs::remove_dir_all(d.join("1/.hydra")).unwrap();
    std::os::unix::fs::symlink(job.join(".hydra"), d.join("1/.hydra")).unwrap();
    refused("hydra-link", ".hydra is a symbolic link");

    let d = case("config-link");
    std::fs::remove_file(d.join("1/.hydra/config.yaml")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret"),
        d.join("1/.hydra/config.yaml"),
    )
    .unwrap();
    refused("config-link", "config.yaml is a symbolic link");

    let d = case("dots");
    std::fs::rename(d.join("1"), d.join("...")).unwrap();
    refused(
        "dots",
        "a name that no record can hold: it is only dots and spaces",
    );

    let d = case("newline");
    std::fs::rename(d.join("1"), d.join("a\nb")).unwrap();
    refused("newline", "control character");

    let d = case("not-utf8");
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.csv");
        std::fs::write(d.join("1").join(name), "x").unwrap();
    }
    refused("not-utf8", "is not UTF-8");

    let d = case("overrides-corrupt");
    std::fs::write(d.join("1/.hydra/overrides.yaml"), "lr: [unclosed\n").unwrap();
    refused_plain(&repo, "overrides-corrupt", "not valid YAML");
    std::fs::write(d.join("1/.hydra/overrides.yaml"), "lr: 0.1\n").unwrap();
    refused_plain(&repo, "overrides-corrupt", "not a list of Hydra overrides");

    let d = case("config-huge");
    let huge = format!(
        "model:\n  lr: 0.1\n  depth: 2\npad: '{}'\n",
        "p".repeat(1 << 20)
    );
    std::fs::write(d.join("1/.hydra/config.yaml"), huge).unwrap();
    refused_plain(
        &repo,
        "config-huge",
        "more than the 1048576 read of a job's records",
    );

    let d = case("yaml-bomb");
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    std::fs::write(d.join("1/.hydra/config.yaml"), bomb).unwrap();
    refused_plain(
        &repo,
        "yaml-bomb",
        "not valid YAML: repetition limit exceeded",
    );

    // what can be recorded faithfully, is
    let d = case("tolerated");
    // a link to a file in the repository is that file
    std::os::unix::fs::symlink(repo.path("conf/config.yaml"), d.join("0/conf.yaml")).unwrap();
    // a job folder with '..' inside its name
    std::fs::rename(d.join("1"), d.join("a..b")).unwrap();
    // no overrides.yaml: no overrides, and a warning
    std::fs::remove_file(d.join("a..b/.hydra/overrides.yaml")).unwrap();
    // a FIFO (and a link to one) is no file: never opened, so never waited on
    let fifo = d.join("0/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink(&fifo, d.join("0/pipe-link")).unwrap();
    // a link to a folder above the jobs is not followed, and named
    std::os::unix::fs::symlink(outside.path(), d.join("elsewhere")).unwrap();
    // a corrupt multirun.yaml: not a job's file, never read
    std::fs::write(d.join("multirun.yaml"), b"\xff\xfe: [ {{{\n").unwrap();
    // a huge log: its end is kept, within max_stored_size, never read whole
    let log = d.join("0/app.log");
    let mut big = "x".repeat(1 << 20);
    big.push_str("\nTHE LAST LINE\n");
    std::fs::write(&log, &big).unwrap();
    let j = repo
        .wb(&[
            "--json",
            "import",
            "hydra",
            "hostile/tolerated",
            "--stage",
            "s",
        ])
        .ok()
        .json();
    assert_eq!(j["imported"].as_array().unwrap().len(), 2, "{j}");
    let warnings = j["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap()
            == "hostile/tolerated/2026-12-01/10-00-00/elsewhere: a link to a folder, not followed; no job behind it is imported"),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("a..b: no .hydra/overrides.yaml")),
        "{warnings:?}"
    );
    let runs = j["runs"].as_array().unwrap();
    let zero = repo.manifest("s", runs[0]["run_id"].as_str().unwrap());
    let dots = repo.manifest("s", runs[1]["run_id"].as_str().unwrap());
    assert!(zero["run_dir"].as_str().unwrap().ends_with("/0"), "{zero}");
    assert_eq!(
        zero["outputs"]["hostile/tolerated/2026-12-01/10-00-00/0/conf.yaml"],
        crate::common::sha256sum(&repo.path("conf/config.yaml")).as_str()
    );
    assert!(!zero["outputs"]
        .as_object()
        .unwrap()
        .keys()
        .any(|k| k.contains("multirun.yaml") || k.contains("pipe")));
    assert_eq!(zero["log_bytes"], big.len() as u64);
    assert_eq!(zero["log_truncated"], true);
    let id = runs[0]["run_id"].as_str().unwrap();
    let stored = repo.git(&[
        "cat-file",
        "-s",
        &format!("refs/workbench/runs/s/{id}:log.txt"),
    ]);
    let stored: usize = stored.parse().unwrap();
    assert!(stored <= 64_000 + 100, "{stored}");
    let text = repo.git(&["show", &format!("refs/workbench/runs/s/{id}:log.txt")]);
    assert!(text.starts_with("[git-workbench: log truncated, first "));
    assert!(text.ends_with("THE LAST LINE"));
    assert!(dots["run_dir"].as_str().unwrap().ends_with("/a..b"));
    assert_eq!(dots["overrides"], serde_json::json!({}));
    assert_eq!(
        dots["params_used"]["model.lr"], 0.2,
        "the composed config still says"
    );
    repo.fsck();
}

fn refused_plain(repo: &Repo, name: &str, needle: &str) {
    let before = run_count(repo);
    repo.wb(&[
        "import",
        "hydra",
        &format!("hostile/{name}"),
        "--stage",
        "s",
    ])
    .fails(2, needle);
    assert_eq!(run_count(repo), before, "{name}: nothing recorded");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
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
    assert_eq!(run_count(&repo), 2);
    // errors
    repo.wb(&["import", "hydra", "old", "--stage", "s"]).fails(
        2,
        "old is not a Hydra multirun tree: no <job>/.hydra/config.yaml below it",
    );
    repo.wb(&["import", "hydra", "nowhere", "--stage", "s"])
        .fails(2, "nowhere");
    repo.wb(&["import", "runs", "old", "--stage", "a/b"])
        .fails(2, "is not a stage name");
    repo.wb(&[
        "import",
        "runs",
        "old",
        "--stage",
        "s",
        "--metrics",
        "../m.json",
    ])
    .fails(2, "--metrics '../m.json'");
    repo.wb(&["import", "runs", "old", "--stage", "s", "--timezone", "UTC"])
        .fails(2, "--timezone");
    repo.write("bad/x/config.yaml", "a: [1,\n");
    repo.wb(&["import", "runs", "bad", "--stage", "s"])
        .fails(2, "not valid YAML");
    assert_eq!(run_count(&repo), 2);
}

#[test]
fn an_imported_multirun_is_a_sweep_whose_best_run_next_presents() {
    let repo = hydra_repo(
        "[stages.train]\ncmd = \"python app.py\"\nparams = { file = \"conf/config.yaml\", keys = [\"model.*\"] }\ndirections = { score = \"maximize\" }\n",
        APP,
    );
    hydra(&repo, &["--multirun", "model.lr=0.1,0.3,0.2"]);
    let j = repo
        .wb(&[
            "--json",
            "import",
            "hydra",
            "multirun",
            "--stage",
            "train",
            "--metrics",
            "metrics.json",
        ])
        .ok()
        .json();
    assert_eq!(ids(&j, "imported").len(), 3);
    // imported runs are candidates: not stale for their command, deps or overrides
    let row = repo.wb(&["--json", "status"]).ok().json()["stages"][0].clone();
    assert_eq!(row["state"], "executed", "{row}");
    let best = row["sweep"]["best"].as_str().unwrap().to_string();
    assert_eq!(row["current_run"], best.as_str());
    let m = repo.manifest("train", &best);
    assert_eq!(m["params_used"]["model.lr"], 0.3, "{m}");
    let item = &repo.wb(&["--json", "next"]).ok().json()["items"][0];
    assert_eq!(
        (item["kind"].as_str(), item["run_id"].as_str()),
        (Some("review"), Some(best.as_str())),
        "{item}"
    );
}

/// The Python of the test virtualenv with hydra-submitit-launcher (`.ci/deps`).
fn submitit_python() -> PathBuf {
    let python = hydra_python();
    let ok = std::process::Command::new(&python)
        .args([
            "-c",
            "import hydra_plugins.hydra_submitit_launcher, submitit",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} cannot import hydra_submitit_launcher: run .ci/deps (it installs hydra-submitit-launcher in the test virtualenv)",
        python.display()
    );
    python
}

#[test]
fn a_multirun_launched_through_submitit_is_imported_with_its_origin_and_compared() {
    let repo = hydra_repo("[stages.train]\ncmd = \"python app.py\"\n", APP);
    submitit_python();
    // submitit's local executor: the code path of its Slurm executor, jobs in
    // subprocesses, their stdout/stderr under multirun/<date>/<time>/.submitit/<job id>/
    hydra(
        &repo,
        &[
            "--multirun",
            "hydra/launcher=submitit_local",
            "hydra.launcher.timeout_min=1",
            "model.lr=0.1,0.2,0.3",
        ],
    );
    let sweep_dir = glob_sweep(&repo.path("multirun"));
    assert!(sweep_dir.join(".submitit").is_dir(), "not a submitit sweep");
    let j = repo
        .wb(&["--json", "import", "hydra", "multirun", "--stage", "train"])
        .ok()
        .json();
    let imported = ids(&j, "imported");
    assert_eq!(imported.len(), 3, "{j}");
    let mut sweeps = std::collections::BTreeSet::new();
    let mut jobs = std::collections::BTreeSet::new();
    for id in &imported {
        let m = repo.manifest("train", id);
        let origin = &m["origin"];
        assert_eq!(origin["orchestrator"], "submitit-local", "{m}");
        let job = origin["run_id"].as_str().unwrap().to_string();
        assert!(job.chars().all(|c| c.is_ascii_digit()), "{job}");
        assert!(origin["host"].as_str().is_some_and(|h| !h.is_empty()));
        assert_eq!(m["host"], origin["host"]);
        assert_eq!(m["status"], "executed");
        let outputs = m["outputs"].as_object().unwrap();
        assert!(
            outputs
                .keys()
                .all(|k| !k.contains(".submitit") && !k.ends_with("app.log")),
            "{outputs:?}"
        );
        // the run's log is what the job printed, as submitit kept it
        let log = repo.git(&["show", &format!("refs/workbench/runs/train/{id}:log.txt")]);
        assert!(log.contains(&format!("job_id={job}")), "{log}");
        assert!(log.contains("Job completed successfully"), "{log}");
        sweeps.insert(m["sweep_id"].as_str().unwrap().to_string());
        jobs.insert(job);
    }
    assert_eq!(sweeps.len(), 1, "one multirun, one sweep");
    assert_eq!(jobs.len(), 3, "one submitit job per run");
    let shown = repo.wb(&["show", &imported[0]]).ok().stdout;
    assert!(shown.contains("origin:     submitit-local run "), "{shown}");
    let sweep = sweeps.into_iter().next().unwrap();
    let c = repo
        .wb(&["--json", "compare", "--sweep", &sweep])
        .ok()
        .json();
    let mut scores: Vec<(f64, f64)> = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["params.model.lr"].as_f64().unwrap(),
                r["metrics.score"].as_f64().unwrap(),
            )
        })
        .collect();
    scores.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(scores.len(), 3, "{c}");
    for (lr, score) in scores {
        assert!((score - lr * 2.0).abs() < 1e-9, "{lr} {score}");
    }
    let again = repo
        .wb(&["--json", "import", "hydra", "multirun", "--stage", "train"])
        .ok()
        .json();
    assert_eq!(ids(&again, "imported").len(), 0);
    assert_eq!(ids(&again, "already_imported").len(), 3);
    // a job's submitit log that is a link (to a secret of the machine): refused whole
    let copy = repo.path("copied/sweep");
    std::fs::create_dir_all(repo.path("copied")).unwrap();
    let o = std::process::Command::new("cp")
        .args(["-a", sweep_dir.to_str().unwrap(), copy.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success());
    let job = &jobs.iter().next().unwrap();
    let log = copy.join(format!(".submitit/{job}/{job}_0_log.out"));
    std::fs::remove_file(&log).unwrap();
    repo.write("secret.txt", "hostname=evil\n");
    std::os::unix::fs::symlink(repo.path("secret.txt"), &log).unwrap();
    let before = run_count(&repo);
    repo.wb(&["import", "hydra", "copied", "--stage", "train"])
        .fails(2, "is a symbolic link");
    assert_eq!(run_count(&repo), before);
    repo.fsck();
}

/// The one `<date>/<time>` folder below `multirun`.
fn glob_sweep(multirun: &Path) -> PathBuf {
    let date = std::fs::read_dir(multirun)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::read_dir(date)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}
