//! `sweep`: one recorded run per combination, N at a time, failures isolated.

use crate::common::Repo;

const STAGE: &str = r#"[stages.s]
cmd = "mkdir -p $WORKBENCH_RUN_DIR && case $WORKBENCH_PARAMS in *'\"lr\":0.3'*) echo boom >&2; exit 3;; esac; echo \"{\\\"sweep\\\": \\\"$WORKBENCH_SWEEP_ID\\\"}\" > $WORKBENCH_RUN_DIR/m.json"
metrics = "runs/{run_id}/m.json"
params = { file = "params.yaml", keys = ["lr", "depth"] }
"#;

fn repo() -> Repo {
    Repo::with(STAGE, &[("params.yaml", "lr: 0.1\ndepth: 1\n")])
}

#[test]
fn every_combination_is_a_recorded_run_of_the_sweep() {
    let repo = repo();
    let j = repo
        .wb(&[
            "--json",
            "sweep",
            "s",
            "-p",
            "lr=0.1,0.2",
            "-p",
            "depth=range(1,4)",
            "-j",
            "2",
        ])
        .ok()
        .json();
    let id = j["sweep_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("sweep-"));
    assert_eq!(j["combinations"], 6);
    assert_eq!(j["failed"], 0);
    let runs = j["runs"].as_array().unwrap();
    let mut seen: Vec<(f64, i64)> = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for r in runs {
        let run_id = r["run_id"].as_str().unwrap();
        let m = repo.manifest("s", run_id);
        assert_eq!(m["sweep_id"], id.as_str());
        assert_eq!(m["params_used"], r["params"]);
        assert_eq!(
            m["metrics"]["sweep"],
            id.as_str(),
            "WORKBENCH_SWEEP_ID is set"
        );
        assert!(dirs.insert(m["run_dir"].as_str().unwrap().to_string()));
        seen.push((
            m["params_used"]["lr"].as_f64().unwrap(),
            m["params_used"]["depth"].as_i64().unwrap(),
        ));
    }
    seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        seen,
        [(0.1, 1), (0.1, 2), (0.1, 3), (0.2, 1), (0.2, 2), (0.2, 3)]
    );
    assert_eq!(repo.run_refs().len(), 6);
    // compare --sweep shows exactly that sweep, not other runs
    repo.wb(&["run", "s"]).ok();
    let t = repo.wb(&["--json", "compare", "--sweep", &id]).ok().json();
    assert_eq!(t["rows"].as_array().unwrap().len(), 6);
    // the human form ends with the sweep's table and how to see it again
    let h = repo.wb(&["sweep", "s", "-p", "depth=5,6"]).ok();
    assert!(
        h.stdout.contains("params.") && h.stdout.contains("depth"),
        "{}",
        h.stdout
    );
    assert!(h.stdout.contains("2 run(s), 0 failed"), "{}", h.stdout);
    assert!(h.stderr.contains("[2/2]"), "{}", h.stderr);
    repo.fsck();
}

#[test]
fn a_failing_combination_does_not_stop_the_others_unless_fail_fast() {
    let repo = repo();
    let r = repo
        .wb(&["--json", "sweep", "s", "-p", "lr=0.3,0.1,0.2"])
        .fails(1, "");
    let j = r.json();
    assert_eq!(j["failed"], 1);
    assert_eq!(j["runs"].as_array().unwrap().len(), 3);
    assert_eq!(j["runs"][0]["exit_code"], 3);
    assert_eq!(repo.run_refs().len(), 3, "the failed run is recorded too");
    let h = repo
        .wb(&["sweep", "s", "-p", "lr=0.3,0.1"])
        .fails(1, "failed: lr=0.3 (exit 3)");
    assert!(h.stdout.contains("2 run(s), 1 failed"), "{}", h.stdout);
    let j = repo
        .wb(&[
            "--json",
            "sweep",
            "s",
            "-p",
            "lr=0.3,0.1,0.2",
            "--fail-fast",
        ])
        .fails(1, "")
        .json();
    assert_eq!(j["runs"].as_array().unwrap().len(), 1);
    assert_eq!(j["not_started"], 2);
}

#[test]
fn bad_sweeps_are_refused_before_anything_runs() {
    let repo = repo();
    repo.wb(&["sweep", "s", "-p", "lr=0.1,,0.2"])
        .fails(2, "-p lr: empty value in '0.1,,0.2'");
    repo.wb(&["sweep", "s", "-p", "lr=0.1", "--jobs", "0"])
        .fails(2, "--jobs must be at least 1");
    repo.wb(&["sweep", "nope", "-p", "lr=0.1"])
        .fails(2, "no stage 'nope'");
    repo.wb(&["sweep", "s", "-p", "lr=1", "-p", "lr=2"])
        .fails(2, "-p lr is given twice");
    repo.wb(&["sweep", "s", "-p", "lr=range(0,100000)"])
        .fails(2, "more than 10000");
    // a key the stage does not declare: the first run is refused, the sweep stops
    repo.wb(&["sweep", "s", "-p", "typo=1,2", "-j", "2"])
        .fails(2, "sweep stopped: the run with typo=");
    repo.assert_nothing_recorded();
}

/// A sweep runs its combinations in this process: an interrupt reaches every running
/// command at once, records none of them, and starts no more.
#[cfg(unix)]
#[test]
fn an_interrupt_stops_every_running_combination_and_records_nothing_of_them() {
    let repo = Repo::with(
        "[stages.slow]\ncmd = \"mkdir -p $WORKBENCH_RUN_DIR && touch $WORKBENCH_RUN_DIR/started && sleep 30\"\nparams = { file = \"params.yaml\", keys = [\"x\"] }\n",
        &[("params.yaml", "x: 0\n")],
    );
    let child = repo
        .cmd(
            crate::common::BIN,
            &["--json", "sweep", "slow", "-p", "x=range(6)", "-j", "2"],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let count = || {
        std::fs::read_dir(repo.path("runs"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().join("started").exists())
                    .count()
            })
            .unwrap_or(0)
    };
    while count() < 2 {
        assert!(
            started.elapsed().as_secs() < 20,
            "two combinations never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let k = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    let o = child.wait_with_output().unwrap();
    assert!(
        started.elapsed().as_secs() < 25,
        "the commands were stopped"
    );
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: workbench::ops::sweep::SweepReport =
        serde_json::from_slice(&o.stdout).expect("the report is still one JSON document");
    assert!(report.interrupted);
    assert_eq!(report.runs.len(), 2, "{report:?}");
    assert!(report
        .runs
        .iter()
        .all(|r| r.run_id.is_none() && r.exit_code == 130));
    assert_eq!(report.not_started, 4);
    assert_eq!(count(), 2, "no new combination started");
    assert!(repo.run_refs().is_empty(), "nothing recorded");
    repo.fsck();
}
