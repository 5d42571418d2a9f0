//! Params reach the command in the form it reads (issue 12, item 3): a script that
//! reads its params file with PyYAML sees the `-p` and sweep values, every sweep job
//! only its own; what it does beside the file lands in the tree; the user's file is
//! byte-identical after runs, sweeps, kill -9 of either and a command outliving its
//! run; a later run removes the views killed runs left.

use crate::common::{sha256sum, venv_tool, Repo, BIN};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PARAMS: &str = "# tuned by hand\ntrain:\n  lr: 0.1   # default\n  depth: 3\nother: 1\n";

/// Reads its params file (the path is its first argument) as the seed's scripts do,
/// and writes what it read into its run directory. Files under `runs/` (a link to the
/// tree's in a view) steer it: `runs/barrier/need` makes jobs wait for each other,
/// `runs/hold` makes it wait for `runs/release`, then write its params file and a
/// file beside it, as a command outliving a killed run would.
const READER: &str = r#"
import json, os, sys, time, yaml
PARAMS = sys.argv[1]
run_dir = os.environ["WORKBENCH_RUN_DIR"]
with open(PARAMS) as f:
    p = yaml.safe_load(f)
seen = {"params": p, "cwd": os.getcwd(), "env": json.loads(os.environ["WORKBENCH_PARAMS"])}
if os.path.exists("runs/barrier/need"):
    n = int(open("runs/barrier/need").read())
    open("runs/barrier/" + os.environ["WORKBENCH_RUN_ID"], "w").close()
    deadline = time.time() + 120
    while len(os.listdir("runs/barrier")) - 1 < n and time.time() < deadline:
        time.sleep(0.02)
    seen["arrived"] = len(os.listdir("runs/barrier")) - 1
    with open(PARAMS) as f:
        seen["again"] = yaml.safe_load(f)
    # a directory new to the tree, made by every job at once
    os.makedirs("shared", exist_ok=True)
    with open("shared/" + os.environ["WORKBENCH_RUN_ID"], "w") as f:
        f.write(str(p["train"]["lr"]))
if os.path.exists("runs/hold"):
    with open(os.path.join(run_dir, "pgid"), "w") as f:
        f.write(str(os.getpgid(0)))
    deadline = time.time() + 120
    while not os.path.exists("runs/release") and time.time() < deadline:
        time.sleep(0.02)
    with open(PARAMS, "w") as f:
        f.write("tampered: true\n")
    with open("late.txt", "w") as f:
        f.write("late")
    with open(os.path.join(run_dir, "done"), "w") as f:
        f.write("done")
with open(os.path.join(run_dir, "seen.json"), "w") as f:
    json.dump(seen, f)
with open(os.path.join(run_dir, "metrics.json"), "w") as f:
    json.dump({"lr": p["train"]["lr"], "depth": p["train"]["depth"]}, f)
"#;

/// The test virtualenv's Python, which has PyYAML (through hydra-core's omegaconf).
fn python() -> PathBuf {
    let python = venv_tool("python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "{} cannot import yaml: run .ci/deps", python.display());
    python
}

/// A stage that runs READER on `params.yaml`.
fn reader_repo() -> Repo {
    let config = format!(
        r#"[stages.train]
cmd = "{} reader.py params.yaml"
outs = ["runs/{{run_id}}/seen.json"]
metrics = "runs/{{run_id}}/metrics.json"
params = {{ file = "params.yaml", keys = ["train.*"] }}
"#,
        python().display()
    );
    let repo = Repo::with(&config, &[("params.yaml", PARAMS), ("reader.py", READER)]);
    std::fs::create_dir_all(repo.path("runs")).unwrap();
    repo
}

fn seen(repo: &Repo, run_id: &str) -> Value {
    serde_json::from_str(&repo.read(&format!("runs/{run_id}/seen.json"))).unwrap()
}

fn views(repo: &Repo) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo.path(".git/workbench/views"))
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// `git status --porcelain`, one entry a line, sorted.
fn status(repo: &Repo) -> Vec<String> {
    let mut l: Vec<String> = repo
        .git_run(&["status", "--porcelain", "--untracked-files=normal"])
        .stdout
        .lines()
        .map(str::to_string)
        .collect();
    l.sort();
    l
}

/// Waits (up to two minutes: this is no timing test) for `n` files named `name` in
/// run directories, and returns them.
fn wait_for(repo: &Repo, name: &str, n: usize) -> Vec<PathBuf> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let found: Vec<PathBuf> = std::fs::read_dir(repo.path("runs"))
            .unwrap()
            .flatten()
            .map(|e| e.path().join(name))
            .filter(|p| p.is_file() && std::fs::metadata(p).unwrap().len() > 0)
            .collect();
        if found.len() >= n {
            return found;
        }
        assert!(Instant::now() < deadline, "no {n} × {name} in runs/");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill_group(pgid: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

fn pgid_in(file: &Path) -> i32 {
    std::fs::read_to_string(file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Starts `git-workbench ARGS` in a process group of its own (its command gets
/// another one, as it runs without a terminal).
fn spawn(repo: &Repo, args: &[&str]) -> std::process::Child {
    repo.cmd(BIN, args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap()
}

#[test]
fn a_script_that_reads_its_params_file_sees_the_overrides() {
    let repo = reader_repo();
    let before = sha256sum(&repo.path("params.yaml"));
    let r = repo
        .wb(&[
            "--json",
            "run",
            "train",
            "-p",
            "train.lr=0.5",
            "-p",
            "+train.extra=[1,2]",
        ])
        .ok()
        .json();
    let id = r["run_id"].as_str().unwrap();
    let s = seen(&repo, id);
    assert_eq!(
        s["params"],
        json!({"train": {"lr": 0.5, "depth": 3, "extra": [1, 2]}, "other": 1})
    );
    assert_eq!(r["metrics"], json!({"lr": 0.5, "depth": 3}));
    assert_eq!(
        r["manifest"]["params_used"], s["env"],
        "the record says what it read"
    );
    assert_eq!(r["manifest"]["params_used"]["train.lr"], 0.5);
    assert_eq!(r["warnings"], json!([]));
    let root = repo.root.canonicalize().unwrap();
    let cwd = PathBuf::from(s["cwd"].as_str().unwrap());
    assert!(
        cwd.starts_with(root.join(".git/workbench/views")),
        "it ran in a view: {}",
        cwd.display()
    );
    assert_eq!(sha256sum(&repo.path("params.yaml")), before);
    assert_eq!(repo.read("params.yaml"), PARAMS);

    // without overrides it runs in the tree itself, with the file's values
    let r = repo.wb(&["--json", "run", "train"]).ok().json();
    let s = seen(&repo, r["run_id"].as_str().unwrap());
    assert_eq!(s["params"]["train"]["lr"], 0.1);
    assert_eq!(r["metrics"]["lr"], 0.1);
    assert_eq!(PathBuf::from(s["cwd"].as_str().unwrap()), root);

    assert_eq!(sha256sum(&repo.path("params.yaml")), before);
    assert_eq!(views(&repo), Vec::<PathBuf>::new());
    assert_eq!(status(&repo), Vec::<String>::new());
    repo.fsck();
}

#[test]
fn every_sweep_job_sees_exactly_its_own_values() {
    let repo = reader_repo();
    let before = sha256sum(&repo.path("params.yaml"));
    for (jobs, lrs, depths, wave) in [("1", "0.1,0.2,0.3", "3", 1), ("3", "0.4,0.5,0.6", "1,2", 3)]
    {
        // jobs wait until `wave` of them run at once: parallel jobs truly overlap
        std::fs::create_dir_all(repo.path("runs/barrier")).unwrap();
        repo.write("runs/barrier/need", &wave.to_string());
        let j = repo
            .wb(&[
                "--json",
                "sweep",
                "train",
                "-p",
                &format!("train.lr={lrs}"),
                "-p",
                &format!("train.depth={depths}"),
                "-j",
                jobs,
            ])
            .ok()
            .json();
        let runs = j["runs"].as_array().unwrap();
        assert_eq!(runs.len(), j["combinations"].as_u64().unwrap() as usize);
        let mut combos = std::collections::BTreeSet::new();
        for run in runs {
            let id = run["run_id"].as_str().unwrap();
            let s = seen(&repo, id);
            let want =
                json!({"lr": run["params"]["train.lr"], "depth": run["params"]["train.depth"]});
            assert_eq!(s["params"]["train"], want, "{id} with -j {jobs}");
            assert_eq!(s["again"]["train"], want, "{id} after the others started");
            assert_eq!(s["params"]["other"], 1);
            assert!(s["arrived"].as_u64().unwrap() >= wave, "{id}: {s}");
            let m = repo.manifest("train", id);
            assert_eq!(m["metrics"], want);
            assert_eq!(m["params_used"], s["env"]);
            combos.insert(want.to_string());
        }
        assert_eq!(combos.len(), runs.len(), "each job had its own combination");
        // each job's file in the directory they all made lands in the tree's
        for run in runs {
            let id = run["run_id"].as_str().unwrap();
            assert_eq!(
                repo.read(&format!("shared/{id}")),
                run["params"]["train.lr"].to_string()
            );
        }
        std::fs::remove_dir_all(repo.path("runs/barrier")).unwrap();
        assert_eq!(sha256sum(&repo.path("params.yaml")), before);
        assert_eq!(views(&repo), Vec::<PathBuf>::new());
    }
    assert_eq!(status(&repo), ["?? shared/"]);
    assert_eq!(std::fs::read_dir(repo.path("shared")).unwrap().count(), 9);
    repo.fsck();
}

#[test]
fn kill_9_of_run_or_sweep_mid_command_leaves_the_params_file_and_a_later_run_cleans_up() {
    let repo = reader_repo();
    let before = sha256sum(&repo.path("params.yaml"));
    let refs = repo.run_refs();
    repo.write("runs/hold", "");

    // run, killed with its command
    let mut child = spawn(&repo, &["run", "train", "-p", "train.lr=0.9"]);
    let pgid = wait_for(&repo, "pgid", 1);
    let v = views(&repo);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(
        std::fs::read_to_string(v[0].join("params.yaml")).unwrap(),
        "# tuned by hand\ntrain:\n  lr: 0.9   # default\n  depth: 3\nother: 1\n",
        "the view shows the override, the file's comments kept"
    );
    assert_eq!(sha256sum(&repo.path("params.yaml")), before, "mid-command");
    kill_group(child.id() as i32);
    kill_group(pgid_in(&pgid[0]));
    child.wait().unwrap();
    assert_eq!(sha256sum(&repo.path("params.yaml")), before);
    assert_eq!(views(&repo).len(), 1, "the killed run's view is left");
    std::fs::remove_file(&pgid[0]).unwrap();

    // sweep, two jobs at once, killed with both commands
    let killed = views(&repo);
    let mut child = spawn(
        &repo,
        &["sweep", "train", "-p", "train.lr=0.7,0.8", "-j", "2"],
    );
    let pgids = wait_for(&repo, "pgid", 2);
    // the sweep's runs removed the killed run's view, and have one each
    let v = views(&repo);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(!v.contains(&killed[0]));
    kill_group(child.id() as i32);
    for p in &pgids {
        kill_group(pgid_in(p));
    }
    child.wait().unwrap();
    assert_eq!(sha256sum(&repo.path("params.yaml")), before);
    assert_eq!(repo.run_refs(), refs, "killed runs record nothing");
    assert_eq!(views(&repo), v);

    // the next run removes them, and runs with its own values
    std::fs::remove_file(repo.path("runs/hold")).unwrap();
    let id = crate::run_json(&repo, &["train", "-p", "train.lr=0.3"]);
    assert_eq!(seen(&repo, &id)["params"]["train"]["lr"], 0.3);
    assert_eq!(views(&repo), Vec::<PathBuf>::new());
    assert_eq!(sha256sum(&repo.path("params.yaml")), before);
    assert_eq!(status(&repo), Vec::<String>::new());
    repo.fsck();
}

#[test]
fn a_command_outliving_its_killed_run_never_reaches_the_params_file() {
    let repo = reader_repo();
    let before = sha256sum(&repo.path("params.yaml"));
    repo.write("runs/hold", "");
    let mut child = spawn(&repo, &["run", "train", "-p", "train.lr=0.9"]);
    let pgid = wait_for(&repo, "pgid", 1);
    // only git-workbench dies: the command, in its own group, goes on
    kill_group(child.id() as i32);
    child.wait().unwrap();
    repo.write("runs/release", "");
    wait_for(&repo, "done", 1);
    // it wrote its params file and a file beside it, in a view no run holds now
    let v = views(&repo);
    assert_eq!(v.len(), 1);
    assert_eq!(
        std::fs::read_to_string(v[0].join("params.yaml")).unwrap(),
        "tampered: true\n"
    );
    assert_eq!(sha256sum(&repo.path("params.yaml")), before);
    kill_group(pgid_in(&pgid[0])); // gone already, normally
    std::fs::remove_file(repo.path("runs/hold")).unwrap();
    std::fs::remove_file(repo.path("runs/release")).unwrap();
    repo.wb(&["run", "train"]).ok();
    assert_eq!(views(&repo), Vec::<PathBuf>::new());
    assert!(
        !repo.path("late.txt").exists(),
        "a killed run's view is not carried back"
    );
    assert_eq!(sha256sum(&repo.path("params.yaml")), before);
    assert_eq!(status(&repo), Vec::<String>::new());
    repo.fsck();
}

/// Writes outputs at the top of the tree and beside its params file, deletes a file,
/// replaces one by an atomic rename, and does everything it can to its params file
/// and to `.git`.
const EFFECTS: &str = r#"
import json, os, sys, yaml
P = sys.argv[1]
D = os.path.dirname(P) or "."
with open(P) as f:
    lr = yaml.safe_load(f)["train"]["lr"]
with open("metrics.json", "w") as f:
    json.dump({"lr": lr}, f)
with open("out.csv", "w") as f:
    f.write(f"lr\n{lr}\n")
os.makedirs("plots", exist_ok=True)
with open("plots/a.txt", "w") as f:
    f.write(f"plot {lr}\n")
with open(os.path.join(D, "derived.txt"), "w") as f:
    f.write(f"derived {lr}\n")
os.remove("old.txt")
with open("report.tmp", "w") as f:
    f.write(f"report {lr}\n")
os.replace("report.tmp", "report.txt")
if D != ".":
    os.remove(os.path.join(D, "stale.txt"))
    with open(os.path.join(D, "other.tmp"), "w") as f:
        f.write("other: 2\n")
    os.replace(os.path.join(D, "other.tmp"), os.path.join(D, "other.yaml"))
with open(P, "a") as f:
    f.write("appended: 1\n")
with open(P + ".new", "w") as f:
    f.write("replaced: 1\n")
os.replace(P + ".new", P)
os.chmod(P, 0o777)
os.remove(P)
os.remove(".git")
"#;

fn effects_repo(params: &str) -> Repo {
    let dir = Path::new(params).parent().unwrap().to_str().unwrap();
    let derived = if dir.is_empty() {
        "derived.txt".to_string()
    } else {
        format!("{dir}/derived.txt")
    };
    let config = format!(
        r#"[stages.fx]
cmd = "{} effects.py {params}"
outs = ["out.csv", "plots/*.txt", "{derived}"]
metrics = "metrics.json"
params = {{ file = "{params}", keys = ["train.*"] }}
"#,
        python().display()
    );
    let mut files = vec![
        (params, PARAMS),
        ("effects.py", EFFECTS),
        ("old.txt", "to be deleted\n"),
        ("report.txt", "old report\n"),
    ];
    if !dir.is_empty() {
        files.push(("conf/stale.txt", "stale\n"));
        files.push(("conf/other.yaml", "other: 1\n"));
    }
    Repo::with(&config, &files)
}

fn check_effects(params: &str, expected_status: &[&str]) {
    let repo = effects_repo(params);
    let before = sha256sum(&repo.path(params));
    let mode = std::fs::metadata(repo.path(params)).unwrap().permissions();
    let r = repo
        .wb(&["--json", "run", "fx", "-p", "train.lr=0.25"])
        .ok()
        .json();
    let m = &r["manifest"];
    assert_eq!(m["metrics"], json!({"lr": 0.25}));
    assert_eq!(m["missing_outputs"], json!([]));
    let derived = params.replace("params.yaml", "derived.txt");
    let outs = m["outputs"].as_object().unwrap();
    let mut names: Vec<&str> = outs.keys().map(String::as_str).collect();
    names.sort();
    let mut want = vec!["metrics.json", "out.csv", "plots/a.txt", derived.as_str()];
    want.sort();
    assert_eq!(names, want);
    for (path, digest) in outs {
        assert_eq!(digest, sha256sum(&repo.path(path)).as_str(), "{path}");
    }
    assert_eq!(repo.read("out.csv"), "lr\n0.25\n");
    assert_eq!(repo.read(&derived), "derived 0.25\n");
    assert_eq!(repo.read("report.txt"), "report 0.25\n");
    assert!(!repo.path("old.txt").exists());
    // nothing the command did reached its params file, or .git
    assert_eq!(sha256sum(&repo.path(params)), before);
    assert_eq!(
        std::fs::metadata(repo.path(params)).unwrap().permissions(),
        mode
    );
    assert!(repo.path(".git").is_dir());
    let w: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w.iter().any(|m| m.contains(".git is never touched")),
        "{w:?}"
    );
    let told = format!("changed its params file '{params}'");
    assert!(w.iter().any(|m| m.contains(&told)), "{w:?}");
    assert_eq!(status(&repo), expected_status);
    assert_eq!(views(&repo), Vec::<PathBuf>::new());
    repo.fsck();
    // the record's outputs are the tree's: only the params differ from the file's
    let s = repo.wb(&["--json", "status", "fx"]).ok().json();
    let reasons = s["stages"][0]["reasons"].as_array().unwrap();
    assert!(reasons.iter().all(|r| r["kind"] == "param_changed"), "{s}");
}

#[test]
fn outputs_deletions_and_replacements_in_the_view_land_in_the_tree() {
    check_effects(
        "params.yaml",
        &[
            " D old.txt",
            " M report.txt",
            "?? derived.txt",
            "?? metrics.json",
            "?? out.csv",
            "?? plots/",
        ],
    );
}

#[test]
fn with_the_params_file_in_a_subdirectory_its_directory_is_carried_too() {
    check_effects(
        "conf/params.yaml",
        &[
            " D conf/stale.txt",
            " D old.txt",
            " M conf/other.yaml",
            " M report.txt",
            "?? conf/derived.txt",
            "?? metrics.json",
            "?? out.csv",
            "?? plots/",
        ],
    );
}

#[test]
fn a_run_in_a_linked_worktree_gets_its_view_and_its_outputs() {
    let repo = reader_repo();
    repo.git(&["add", "-A"]);
    let wt = repo.root.parent().unwrap().join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap()]);
    std::fs::create_dir_all(wt.join("runs")).unwrap();
    let before = sha256sum(&wt.join("params.yaml"));
    let r = repo
        .wb_in(&wt, &["--json", "run", "train", "-p", "train.depth=9"])
        .ok()
        .json();
    let id = r["run_id"].as_str().unwrap();
    let s: Value = serde_json::from_str(
        &std::fs::read_to_string(wt.join(format!("runs/{id}/seen.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(s["params"]["train"]["depth"], 9);
    assert_eq!(r["metrics"]["depth"], 9);
    assert_eq!(sha256sum(&wt.join("params.yaml")), before);
    // the worktree's .git is a file: the view linked it, and it is intact
    assert!(std::fs::read_to_string(wt.join(".git"))
        .unwrap()
        .starts_with("gitdir: "));
    assert_eq!(views(&repo), Vec::<PathBuf>::new());
    repo.fsck();
}

/// Finds its params file from its own path, in every way scripts do.
const FROM_ITS_PATH: &str = r#"
import json, os, yaml
from pathlib import Path
ways = {
    "resolved": Path(__file__).resolve().parents[1] / "params.yaml",
    "parents": Path(__file__).parent.parent / "params.yaml",
    "dotdot": os.path.join(os.path.dirname(__file__), "..", "params.yaml"),
    "realpath": os.path.join(os.path.dirname(os.path.realpath(__file__)), "..", "params.yaml"),
    "cwd": "params.yaml",
}
seen = {k: yaml.safe_load(open(v))["train"]["lr"] for k, v in ways.items()}
import helper
seen["helper"] = helper.lr()
with open(os.path.join(os.environ["WORKBENCH_RUN_DIR"], "seen.json"), "w") as f:
    json.dump(seen, f)
"#;

const HELPER: &str = r#"
import os, yaml
def lr():
    here = os.path.dirname(os.path.realpath(__file__))
    return yaml.safe_load(open(os.path.join(here, "..", "params.yaml")))["train"]["lr"]
"#;

#[test]
fn a_script_in_a_subdirectory_finds_the_overrides_from_its_own_path() {
    let config = format!(
        r#"[stages.train]
cmd = "{} src/train.py"
code = ["src/helper.py"]
outs = ["runs/{{run_id}}/seen.json"]
params = {{ file = "params.yaml", keys = ["train.*"] }}
"#,
        python().display()
    );
    let repo = Repo::with(
        &config,
        &[
            ("params.yaml", PARAMS),
            ("src/train.py", FROM_ITS_PATH),
            ("src/helper.py", HELPER),
        ],
    );
    let before = sha256sum(&repo.path("params.yaml"));
    let train_ino =
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(repo.path("src/train.py")).unwrap());
    let id = crate::run_json(&repo, &["train", "-p", "train.lr=0.75"]);
    let s = seen(&repo, &id);
    for way in ["resolved", "parents", "dotdot", "realpath", "cwd", "helper"] {
        assert_eq!(s[way], 0.75, "{way}: {s}");
    }
    let id = crate::run_json(&repo, &["train"]);
    assert_eq!(seen(&repo, &id)["resolved"], 0.1);
    assert_eq!(sha256sum(&repo.path("params.yaml")), before);
    // the code files are the tree's, untouched
    let m = std::fs::metadata(repo.path("src/train.py")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::ino(&m), train_ino);
    assert_eq!(std::os::unix::fs::MetadataExt::nlink(&m), 1);
    assert_eq!(status(&repo), ["?? src/__pycache__/"]);
    assert_eq!(views(&repo), Vec::<PathBuf>::new());
    repo.fsck();
}
