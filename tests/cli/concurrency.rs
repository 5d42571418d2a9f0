//! Runs in parallel on a repository that commits its `review/` mirror: each run's
//! snapshot reads tracked files that the other runs are rewriting at that moment, and
//! the runs take turns at writing the mirror.

use crate::common::Repo;

/// Besides the mirror every run writes when it is recorded, every run's command
/// rewrites a committed file of the mirror's directory in place, at another size each
/// time, and removes and writes again another tracked file, as a slow writer would;
/// some runs also take a little longer, so runs finish out of the order they started.
const STAGE: &str = r#"[stages.s]
cmd = "sh scripts/churn.sh"
params = { file = "params.yaml", keys = ["a", "b"] }
"#;

const CHURN_SH: &str = r#"rm -f shared.txt
i=0
while [ $i -lt 6 ]; do
  printf '%*s' $((i * 37 + 1)) > review/s/notes.txt
  printf '%*s' $((i * 11 + 1)) > shared.txt
  i=$((i + 1))
done
case $WORKBENCH_PARAMS in *'"b":1}'|*'"b":3}'|*'"b":5}'|*'"b":7}') sleep 0.01;; esac
"#;

/// The stage's runs, as `git for-each-ref` lists them.
fn run_refs(repo: &Repo) -> Vec<String> {
    let out = repo.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/workbench/runs/",
    ]);
    out.lines().map(str::to_string).collect()
}

#[test]
fn a_parallel_sweep_records_every_run_while_the_committed_mirror_is_rewritten() {
    let repo = Repo::with(
        STAGE,
        &[
            ("scripts/churn.sh", CHURN_SH),
            ("params.yaml", "a: 0\nb: 0\n"),
            ("shared.txt", "x\n"),
            ("review/s/notes.txt", "x\n"),
        ],
    );
    repo.wb(&["run", "s"]).ok();
    // -f: untracked mirror files are ignored (docs/decisions.md), this repository
    // commits them anyway, so the runs rewrite tracked files.
    repo.git(&["add", "-f", "review"]);
    repo.git(&["commit", "-q", "-m", "the review mirror"]);
    let j = repo
        .wb(&[
            "--json",
            "sweep",
            "s",
            "-p",
            "a=range(20)",
            "-p",
            "b=range(20)",
            "-j",
            "2",
        ])
        .ok()
        .json();
    assert_eq!(j["combinations"], 400);
    assert_eq!(j["failed"], 0);
    assert_eq!(j["runs"].as_array().unwrap().len(), 400);
    let refs = run_refs(&repo);
    assert_eq!(refs.len(), 401, "the first run and the sweep's 400");
    // candidate/ shows the stage's latest run, whole, however the runs finished.
    let latest = refs.last().unwrap();
    assert_eq!(
        repo.read("review/s/candidate/manifest.json"),
        repo.git(&["show", &format!("{latest}:manifest.json")]) + "\n",
    );
    let doctor = repo.wb(&["--json", "doctor"]).json();
    let mirror: Vec<_> = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "review mirror")
        .collect();
    assert_eq!(mirror.len(), 1);
    assert_eq!(mirror[0]["status"], "ok", "{}", mirror[0]);
    repo.fsck();
}

#[test]
fn a_mirror_lock_file_left_by_a_killed_run_does_not_stop_the_next_from_mirroring() {
    let repo = Repo::with("[stages.s]\ncmd = \"true\"\n", &[]);
    // The lock is the kernel's, on this file: a file alone holds nothing.
    let lock = repo.path(".git/workbench/mirror-s.lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let id = crate::run_json(&repo, &["s"]);
    let shown: serde_json::Value =
        serde_json::from_str(&repo.read("review/s/candidate/manifest.json")).unwrap();
    assert_eq!(shown["run_id"], id.as_str());
}
