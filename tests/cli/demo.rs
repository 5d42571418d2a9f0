//! `demo`: the embedded example runs end to end on a fresh machine's tools.

use crate::common::Repo;

#[test]
fn demo_walks_the_loop_in_a_new_repository() {
    let scratch = Repo::bare_dir();
    let dir = scratch.root.join("demo");
    let r = scratch.wb(&["demo", dir.to_str().unwrap()]).ok();
    for step in [
        "$ git workbench init",
        "$ git workbench run baseline",
        "$ git workbench status",
        "$ git workbench log",
        "$ git workbench narrative new baseline report.md --metrics precision,recall",
        "$ git workbench hooks install",
        "$ git commit -q --no-verify -am 'Improve recall'",
        "$ git workbench verify --range 'HEAD~1..HEAD'",
        "$ git workbench narrative sync",
        "$ git workbench run baseline -p baseline.threshold=1.1",
        "$ git workbench compare --only-changed --sort -recall",
        "$ git workbench compare -o",
        "$ git workbench diff 'HEAD~1' HEAD --format markdown",
        "runs/comparison.csv: 4 added, 0 removed, 0 changed",
        "diff --workbench a/runs/comparison.csv b/runs/comparison.csv",
        "| changed | state  | executed | approved |",
    ] {
        assert!(r.stdout.contains(step), "missing {step}:\n{}", r.stdout);
    }
    assert!(r.stdout.contains("+  threshold: 1.3"), "{}", r.stdout);
    let refs = scratch.wb_in(&dir, &["--json", "log"]).ok().json();
    let runs = refs["runs"].as_array().unwrap();
    assert_eq!(
        runs.len(),
        7,
        "the rejected run, a sweep of three, the approved run, the teammate's sweep of two"
    );
    assert_eq!(runs[2]["state"], "approved");
    assert_eq!(runs[6]["state"], "rejected");
    // the teammate's clone and the bare remote hold every record too
    for other in ["demo-teammate", "demo-remote.git"] {
        let refs = scratch
            .cmd("git", &["for-each-ref", "refs/workbench/runs/"])
            .current_dir(scratch.root.join(other))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&refs.stdout).lines().count(),
            7,
            "{other}"
        );
    }
    assert!(r
        .stdout
        .contains("(demo-teammate) $ git workbench sweep baseline -p baseline.window=12,48 -j 2"));
    assert!(
        r.stdout.contains("fetched from origin: 2 new run(s)"),
        "{}",
        r.stdout
    );
    // the committed table has every run, and git shows it through the driver
    let table = std::fs::read_to_string(dir.join("runs/comparison.csv")).unwrap();
    assert_eq!(table.lines().count(), 6, "{table}");
    let log = scratch
        .cmd("git", &["log", "--format=%s", "--", "runs/comparison.csv"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&log.stdout),
        "Update the comparison table\nSweep the alert threshold\nRecord the comparison table\n"
    );
    assert!(r
        .stdout
        .contains("nothing to do: every stage is approved and up to date"));
    assert!(dir.join("review/baseline/approval.json").is_file());
    assert!(
        r.stderr
            .contains("the block differs from the approved rendering"),
        "the hook refused: {}",
        r.stderr
    );
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(
        report.contains("| recall | 0.8261 |") && !report.contains("0.95"),
        "{report}"
    );
    // it ends by writing the report and says where to open it
    let index = dir.join("runs/report/index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(
        html.contains("<table") && html.contains("class=\"plot\""),
        "a table and plots"
    );
    assert!(
        r.stdout.contains(&format!("file://{}", index.display())),
        "{}",
        r.stdout
    );
    let pages = std::fs::read_dir(dir.join("runs/report/runs"))
        .unwrap()
        .count();
    let refs = scratch
        .cmd("git", &["for-each-ref", "refs/workbench/runs/"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let runs = String::from_utf8_lossy(&refs.stdout).lines().count();
    assert_eq!(pages, runs, "one page per run");
    scratch.wb_in(&dir, &["verify"]).ok();
    let fsck = scratch
        .cmd("git", &["fsck", "--strict"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(fsck.status.success());
    // a second demo into the same, now non-empty, directory is refused
    scratch
        .wb(&["demo", dir.to_str().unwrap()])
        .fails(2, "not empty");
    // --json keeps stdout a single document
    let dir2 = scratch.root.join("demo2");
    let r = scratch.wb(&["--json", "demo", dir2.to_str().unwrap()]).ok();
    let report: workbench::ops::demo::DemoReport =
        serde_json::from_str(&r.stdout).expect("the demo report parses strictly");
    assert!(report.steps.len() > 40);
    let j = r.json();
    let refused: Vec<&serde_json::Value> = j["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["exit_code"] != 0)
        .map(|s| &s["command"])
        .collect();
    // exactly the two refusals the demo shows: the hook, and verify after --no-verify
    assert_eq!(
        refused,
        [
            &serde_json::json!("git commit -q -am 'Improve recall'"),
            &serde_json::json!("git workbench verify --range 'HEAD~1..HEAD'")
        ]
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let repo = crate::train_repo();
    for _ in 0..3 {
        crate::run_json(&repo, &["train"]);
    }
    let bin = crate::common::BIN;
    let o = repo
        .cmd(
            "sh",
            &[
                "-c",
                &format!("'{bin}' log | head -c 10 >/dev/null; echo \"rc=${{PIPESTATUS:-x}}\""),
            ],
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}
