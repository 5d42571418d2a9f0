//! kill -9 of a decision at moments spread over its measured duration: each time the
//! decision is wholly made or wholly not, `git fsck --strict` is clean, no lock
//! outlives the stale window, and status, show, next and the narrative commands agree
//! with the run refs.

use crate::common::{Repo, BIN};
use crate::{run_json, train_repo};
use std::time::{Duration, Instant};

/// `.lock` files under the workbench refs and the notes index.
fn locks(repo: &Repo) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![
        repo.path(".git/refs/workbench"),
        repo.path(".git/refs/notes"),
    ];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else if e.file_name().to_string_lossy().ends_with(".lock") {
                out.push(e.path().display().to_string());
            }
        }
    }
    out
}

fn event(repo: &Repo, id: &str) -> String {
    let j = repo.wb(&["--json", "show", id]).ok().json();
    j["state"].as_str().unwrap().to_string()
}

fn approved(repo: &Repo) -> Option<String> {
    let s = repo.wb(&["--json", "status", "train"]).ok().json();
    s["stages"][0]["approved_run"].as_str().map(str::to_string)
}

/// Mean wall time of `args` on fresh reviewed runs.
fn measure(repo: &Repo, args: &dyn Fn(&str) -> Vec<String>) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..3 {
        let id = run_json(repo, &["train"]);
        repo.wb(&["review", &id]).ok();
        let a = args(&id);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let t = Instant::now();
        repo.wb(&a).ok();
        total += t.elapsed();
    }
    total / 3
}

/// Kills `args` on fresh reviewed runs at `n` moments spread over 3 × its measured
/// duration (measured on the first runs; later ones, among more records and on a
/// loaded machine, can take over 1.2 × as long, and then no kill landed after); after each, `check(id, state)` must hold.
fn kill_at_moments(
    repo: &Repo,
    n: u32,
    args: &dyn Fn(&str) -> Vec<String>,
    check: &mut dyn FnMut(&str, &str),
) -> (u32, u32) {
    let took = measure(repo, args);
    let (mut before, mut after) = (0, 0);
    for i in 0..n {
        let id = run_json(repo, &["train", "-p", &format!("train.lr={i}")]);
        repo.wb(&["review", &id]).ok();
        let a = args(&id);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let mut child = repo
            .cmd(BIN, &a)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(took.mul_f64(3.0 * f64::from(i) / f64::from(n)));
        let _ = child.kill();
        let _ = child.wait();
        let state = event(repo, &id);
        match state.as_str() {
            "reviewed" => before += 1,
            _ => after += 1,
        }
        check(&id, &state);
        if i % 20 == 19 {
            repo.fsck();
        }
    }
    (before, after)
}

#[test]
fn kill_9_of_approve_and_reject_leaves_each_decision_wholly_made_or_not() {
    let repo = train_repo();
    let mut current: Option<String> = None;
    let approve = |id: &str| vec!["approve".to_string(), id.to_string(), "--yes".to_string()];
    let (b, a) = kill_at_moments(&repo, 110, &approve, &mut |id, state| {
        // measure() approved three runs before the loop started
        if current.is_none() {
            current = approved(&repo);
        }
        match state {
            "approved" => current = Some(id.to_string()),
            "reviewed" => {}
            other => panic!("{id}: killed approve left it {other}"),
        }
        assert_eq!(
            approved(&repo),
            current,
            "status agrees with the run refs ({id} {state})"
        );
    });
    assert!(
        b > 0 && a > 0,
        "the kills landed on both sides: {b} before, {a} after"
    );

    let reject = |id: &str| {
        ["reject", id, "--issue", "not good enough"]
            .map(str::to_string)
            .to_vec()
    };
    let (b, a) = kill_at_moments(&repo, 110, &reject, &mut |id, state| {
        assert!(
            state == "reviewed" || state == "rejected",
            "{id}: killed reject left it {state}"
        );
        assert_eq!(
            approved(&repo),
            current,
            "a rejection never moves the approval"
        );
    });
    assert!(b > 0 && a > 0, "{b} before, {a} after");

    // whatever a kill left, nothing is torn and the next commands carry on
    repo.fsck();
    std::thread::sleep(Duration::from_millis(5200));
    let d = repo.wb(&["--json", "doctor"]).json();
    let check = |name: &str| {
        d["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(check("records")["status"], "ok", "{d}");
    assert_ne!(check("ref locks")["status"], "fail", "{d}");
    assert_eq!(
        locks(&repo),
        Vec::<String>::new(),
        "no lock outlives the stale window"
    );
    assert_eq!(check("approved index")["status"], "ok");
    // the index names the derived approved run again
    let index = repo.git(&["rev-parse", "refs/workbench/approved/train"]);
    let cur = current.clone().unwrap();
    assert_eq!(
        index,
        repo.git(&["rev-parse", &format!("refs/workbench/runs/train/{cur}")])
    );
    // and the narrative commands use the same run
    repo.write(".gitattributes", "reports/*.md workbench-narrative\n");
    repo.write("reports/r.md", "<!-- workbench:slot stage=train -->\n");
    repo.wb(&["narrative", "new", "train", "reports/r.md"]).ok();
    assert!(repo.read("reports/r.md").contains(&format!("run={cur}")));
    let id = run_json(&repo, &["train", "-p", "train.lr=99"]);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    assert_eq!(approved(&repo).as_deref(), Some(id.as_str()));
}
