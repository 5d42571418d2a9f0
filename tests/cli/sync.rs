//! `fetch`, `push`, `sync`: records travel between clones through a bare remote,
//! merged without loss; diverged decisions are kept both ways as a conflict.

use crate::common::Repo;
use crate::{run_json, train_repo};

/// A bare remote and two clones of it (`ada` pushed the initial commit), both
/// initialised.
pub fn team() -> (Repo, Repo, Repo) {
    let remote = Repo::bare_dir();
    remote.git(&["init", "-q", "--bare", "-b", "main"]);
    let ada = train_repo();
    ada.git(&["remote", "add", "origin", remote.root.to_str().unwrap()]);
    ada.git(&["push", "-q", "origin", "main"]);
    ada.wb(&["init"]).ok();
    let bob = Repo::bare_dir();
    bob.git(&["clone", "-q", remote.root.to_str().unwrap(), "."]);
    bob.wb(&["init"]).ok();
    (remote, ada, bob)
}

fn approve(repo: &Repo, id: &str) {
    repo.wb(&["review", id]).ok();
    repo.wb(&["approve", id, "--yes"]).ok();
}

fn refs(repo: &Repo, prefix: &str) -> String {
    repo.git(&["for-each-ref", "--format=%(refname) %(objectname)", prefix])
}

#[test]
fn two_clones_sync_both_ways_and_lose_nothing() {
    let (remote, ada, bob) = team();
    let a1 = run_json(&ada, &["train"]);
    let a2 = run_json(&ada, &["train", "-p", "train.lr=0.2"]);
    approve(&ada, &a2);
    let b1 = run_json(&bob, &["train", "-p", "train.lr=0.3"]);
    approve(&bob, &b1); // approved later than a2
                        // concurrent syncs from both clones
    let t = std::thread::scope(|s| {
        let x = s.spawn(|| ada.wb(&["sync"]));
        let y = s.spawn(|| bob.wb(&["sync"]));
        (x.join().unwrap(), y.join().unwrap())
    });
    assert_eq!(t.0.code, 0, "{}", t.0.stderr);
    assert_eq!(t.1.code, 0, "{}", t.1.stderr);
    ada.wb(&["sync"]).ok();
    bob.wb(&["sync"]).ok();
    for r in [&ada, &bob] {
        assert_eq!(refs(r, "refs/workbench/runs/").lines().count(), 3);
        for id in [&a1, &a2, &b1] {
            assert!(
                r.note_lines("HEAD")
                    .iter()
                    .any(|n| n["run_id"] == id.as_str()),
                "{id} missing from the notes of {}",
                r.root.display()
            );
        }
        r.fsck();
    }
    assert_eq!(
        refs(&ada, "refs/workbench/runs/"),
        refs(&bob, "refs/workbench/runs/")
    );
    assert_eq!(
        refs(&ada, "refs/notes/workbench"),
        refs(&bob, "refs/notes/workbench")
    );
    assert_eq!(
        refs(&remote, "refs/workbench/runs/"),
        refs(&ada, "refs/workbench/runs/")
    );
    // the later approval is the stage's approved run everywhere
    for r in [&ada, &bob] {
        let s = r.wb(&["--json", "status", "train"]).ok().json();
        assert_eq!(s["stages"][0]["approved_run"], b1.as_str(), "{s}");
    }
    // a no-op sync changes nothing; gc keeps everything
    let before = refs(&bob, "refs/");
    let j = bob.wb(&["--json", "sync"]).ok().json();
    assert_eq!(j["pushed_refs"], 0);
    assert_eq!(refs(&bob, "refs/"), before);
    for r in [&ada, &bob, &remote] {
        r.git(&["gc", "-q", "--prune=now"]);
        r.fsck();
    }
    assert_eq!(
        bob.wb(&["--json", "log"]).ok().json()["runs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn diverged_decisions_are_a_conflict_until_a_human_decides() {
    let (_remote, ada, bob) = team();
    let id = run_json(&ada, &["train"]);
    ada.wb(&["review", &id]).ok();
    ada.wb(&["sync"]).ok();
    bob.wb(&["fetch"]).ok();
    // ada approves, bob rejects the same run, each in their own clone
    ada.wb(&["approve", &id, "--yes"]).ok();
    bob.wb(&["reject", &id, "--issue", "wrong data"]).ok();
    ada.wb(&["sync"]).ok();
    let j = bob.wb(&["--json", "sync"]).ok().json();
    assert_eq!(
        j["merged"]["conflicts"],
        serde_json::json!([format!("train/{id}")])
    );
    // both histories are kept: the run ref is a merge of the two decisions
    let tip = format!("refs/workbench/runs/train/{id}");
    let parents = bob.git(&["rev-list", "--parents", "-n", "1", &tip]);
    assert_eq!(parents.split(' ').count(), 3, "a merge commit: {parents}");
    let conflict = bob.git(&["show", &format!("{tip}:conflict.json")]);
    assert!(
        conflict.contains("\"event\": \"approved\"")
            && conflict.contains("\"event\": \"rejected\""),
        "{conflict}"
    );
    assert!(
        bob.git_run(&["cat-file", "-e", &format!("{tip}:approval.json")])
            .code
            != 0,
        "no top-level decision while in conflict"
    );
    // surfaced in status and next, refused for review
    let s = bob.wb(&["--json", "status", "train"]).ok().json();
    assert_eq!(s["stages"][0]["state"], "conflict", "{s}");
    assert!(bob.wb(&["status"]).ok().stdout.contains("CONFLICT"));
    let n = bob.wb(&["--json", "next"]).ok().json();
    assert_eq!(n["items"][0]["kind"], "resolve_conflict", "{n}");
    bob.wb(&["review", &id])
        .fails(1, "two clones decided differently");
    // ada sees it after her next fetch as well
    ada.wb(&["fetch"]).ok();
    assert_eq!(
        ada.wb(&["--json", "status", "train"]).ok().json()["stages"][0]["state"],
        "conflict"
    );
    // a new human decision resolves it (ada has the outputs the approval binds to),
    // and travels
    ada.wb(&["approve", &id, "--yes", "-m", "checked the data again"])
        .ok();
    assert!(
        ada.git_run(&["cat-file", "-e", &format!("{tip}:conflict.json")])
            .code
            != 0
    );
    ada.git(&["cat-file", "-e", &format!("{tip}:approval.json")]);
    ada.wb(&["sync"]).ok();
    bob.wb(&["sync"]).ok();
    assert_eq!(
        ada.wb(&["--json", "status", "train"]).ok().json()["stages"][0]["state"],
        "approved"
    );
    for r in [&ada, &bob] {
        let s = r.wb(&["--json", "status", "train"]).ok().json();
        assert_eq!(s["stages"][0]["latest_event"], "approved", "{s}");
        assert_eq!(s["stages"][0]["approved_run"], id.as_str());
        r.fsck();
    }
    assert_eq!(
        refs(&ada, "refs/workbench/runs/"),
        refs(&bob, "refs/workbench/runs/")
    );
}

#[test]
fn remote_problems_are_named_and_lose_nothing() {
    let (remote, ada, bob) = team();
    let id = run_json(&ada, &["train"]);
    // a host that refuses custom ref namespaces
    let hook = remote.root.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\nwhile read old new ref; do case $ref in refs/workbench/*|refs/notes/*) echo \"custom refs are not allowed\" >&2; exit 1;; esac; done\n",
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", hook.to_str().unwrap()])
        .status()
        .unwrap();
    let before = refs(&ada, "refs/");
    ada.wb(&["push"])
        .fails(1, "origin refused the workbench refs");
    let e = ada.wb(&["push"]).fails(1, "");
    assert!(
        e.stderr
            .contains("hint: the host must accept pushes to refs/workbench/*"),
        "{}",
        e.stderr
    );
    assert_eq!(refs(&ada, "refs/"), before, "nothing changed locally");
    std::fs::remove_file(&hook).unwrap();
    // a transport failure: nothing lost, a later retry works
    ada.git(&["remote", "set-url", "origin", "/nonexistent/remote.git"]);
    ada.wb(&["sync"]).fails(2, "cannot fetch from origin");
    ada.wb(&["push"]).fails(2, "cannot push to origin");
    assert_eq!(refs(&ada, "refs/"), before);
    ada.git(&["remote", "set-url", "origin", remote.root.to_str().unwrap()]);
    ada.wb(&["sync"]).ok();
    assert!(refs(&remote, "refs/workbench/runs/").contains(&id));
    // a malformed line in a fetched note is skipped with a warning; the good ones stay
    ada.git(&[
        "notes",
        "--ref=workbench",
        "append",
        "-m",
        "{not json",
        "HEAD",
    ]);
    ada.git(&[
        "push",
        "-q",
        "origin",
        "refs/notes/workbench:refs/notes/workbench",
    ]);
    let f = bob.wb(&["fetch"]).ok();
    let head = bob.git(&["rev-parse", "HEAD"]);
    assert!(
        f.stderr.contains(&format!(
            "note on {head} from origin, line 3: not a JSON object, skipped: {{not json"
        )),
        "{}",
        f.stderr
    );
    let lines = bob.note_lines("HEAD");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["run_id"], id.as_str());
    // unknown remote and no remote at all
    bob.wb(&["sync", "nope"]).fails(2, "no remote 'nope'");
    let lone = train_repo();
    lone.wb(&["sync"]).fails(2, "this repository has no remote");
}

/// Twenty writers at once on one repository — new runs, reviews and approvals of
/// different stages — and nothing is lost: every ref, every transition, every note.
#[test]
fn twenty_concurrent_writers_lose_nothing() {
    let mut config = String::new();
    for i in 0..5 {
        config.push_str(&format!(
            "[stages.a{i}]\ncmd = \"echo {i} > out{i}.txt\"\nouts = [\"out{i}.txt\"]\n"
        ));
    }
    config.push_str("[stages.s]\ncmd = \"true\"\n");
    let repo = Repo::with(&config, &[]);
    let mut to_approve = Vec::new();
    for i in 0..5 {
        let id = run_json(&repo, &[&format!("a{i}")]);
        repo.wb(&["review", &id]).ok();
        to_approve.push(id);
    }
    let to_review: Vec<String> = (0..5).map(|_| run_json(&repo, &["s"])).collect();
    let r = &repo;
    let outputs: Vec<std::process::Output> = std::thread::scope(|sc| {
        let mut hs = Vec::new();
        for _ in 0..10 {
            hs.push(sc.spawn(move || r.cmd(crate::common::BIN, &["run", "s"]).output().unwrap()));
        }
        for id in &to_review {
            hs.push(sc.spawn(move || r.cmd(crate::common::BIN, &["review", id]).output().unwrap()));
        }
        for id in &to_approve {
            hs.push(sc.spawn(move || {
                r.cmd(crate::common::BIN, &["approve", id, "--yes"])
                    .output()
                    .unwrap()
            }));
        }
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(outputs.len(), 20);
    for o in &outputs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let runs = refs(&repo, "refs/workbench/runs/s/").lines().count();
    assert_eq!(runs, 5 + 10, "5 earlier runs and 10 concurrent ones");
    let notes = repo.note_lines("HEAD");
    let count = |event: &str| notes.iter().filter(|n| n["event"] == event).count();
    assert_eq!(count("executed"), 20);
    assert_eq!(count("reviewed"), 10);
    assert_eq!(count("approved"), 5);
    for (i, id) in to_approve.iter().enumerate() {
        let s = repo.wb(&["--json", "show", id]).ok().json();
        assert_eq!(s["state"], "approved", "{s}");
        assert_eq!(
            repo.git(&["rev-parse", &format!("refs/workbench/approved/a{i}")]),
            repo.git(&["rev-parse", &format!("refs/workbench/runs/a{i}/{id}")])
        );
    }
    for id in &to_review {
        assert_eq!(
            repo.wb(&["--json", "show", id]).ok().json()["state"],
            "reviewed"
        );
    }
    repo.fsck();
}
