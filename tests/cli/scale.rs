//! What keeps costs flat as records pile up, checked for behaviour (never timing):
//! the notes journal for large notes, packing loose run refs, reading packed refs,
//! and the event cache.

use crate::common::Repo;
use crate::run_json;
use crate::sync::team;

fn journal(repo: &Repo) -> String {
    std::fs::read_to_string(repo.path(".git/workbench/notes-journal")).unwrap_or_default()
}

#[test]
fn lines_for_a_large_note_go_through_the_journal_and_a_push_folds_them() {
    let (remote, ada, bob) = team();
    let head = ada.git(&["rev-parse", "HEAD"]).trim().to_string();
    // a note already past 64 KiB on the commit the runs execute at
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70_000));
    ada.git(&["notes", "--ref=workbench", "add", "-m", &big, "HEAD"]);
    let ids: Vec<String> = (0..3).map(|_| run_json(&ada, &["train"])).collect();
    let pending = journal(&ada);
    assert_eq!(pending.lines().count(), 3, "{pending}");
    assert!(pending.lines().all(|l| l.starts_with(&head)));
    // git sees only the folded note; git-workbench's readers see every line
    assert_eq!(ada.note_lines("HEAD").len(), 1);
    let shown = ada.wb(&["show", &format!("train/{}", ids[1])]).ok().stdout;
    assert!(shown.contains("executed"), "{shown}");
    ada.wb(&["doctor"]).ok();
    // a push folds the journal first: the remote gets every line
    ada.wb(&["push"]).ok();
    assert_eq!(journal(&ada), "");
    let lines = ada.note_lines("HEAD");
    assert_eq!(lines.len(), 4);
    for id in &ids {
        assert_eq!(
            lines.iter().filter(|l| l["run_id"] == id.as_str()).count(),
            1
        );
    }
    bob.wb(&["fetch"]).ok();
    assert_eq!(bob.note_lines(&head).len(), 4);
    ada.fsck();
    drop(remote);
}

#[test]
fn a_journal_with_torn_and_repeated_lines_folds_to_each_line_once() {
    let (_remote, ada, _bob) = team();
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70_000));
    ada.git(&["notes", "--ref=workbench", "add", "-m", &big, "HEAD"]);
    run_json(&ada, &["train"]);
    let head = ada.git(&["rev-parse", "HEAD"]).trim().to_string();
    let line = journal(&ada);
    // as after a fold killed before the journal was emptied, plus a torn write
    let doubled = format!("{line}{line}garbage\n{head} {{\"torn\"");
    std::fs::write(ada.path(".git/workbench/notes-journal"), doubled).unwrap();
    ada.wb(&["push"]).ok();
    assert_eq!(ada.note_lines("HEAD").len(), 2);
    assert_eq!(journal(&ada), "");
}

#[test]
fn run_packs_loose_run_refs_past_a_thousand_and_every_reader_still_finds_them() {
    let repo = crate::train_repo();
    repo.wb(&["init"]).ok();
    let first = run_json(&repo, &["train"]);
    let tip = repo
        .git(&["rev-parse", &format!("refs/workbench/runs/train/{first}")])
        .trim()
        .to_string();
    // 1,001 more loose run refs, with ids older than any real run
    let mut stdin = String::new();
    for i in 0..1001 {
        stdin.push_str(&format!(
            "create refs/workbench/runs/other/20200101T{:02}{:02}{:02}Z-0000 {tip}\n",
            i / 3600,
            (i / 60) % 60,
            i % 60
        ));
    }
    let mut cmd = repo.cmd("git", &["update-ref", "--stdin"]);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let before = repo.run_refs();
    let newest = run_json(&repo, &["train"]);
    let loose = walk(&repo.path(".git/refs/workbench/runs"));
    assert!(loose < 10, "{loose} loose run refs left");
    let packed = repo.read(".git/packed-refs");
    assert!(packed.contains(&format!("refs/workbench/runs/train/{first}")));
    let mut after = repo.run_refs();
    after.retain(|r| !r.ends_with(&newest));
    assert_eq!(after, before, "packing changed no ref");
    // readers of packed refs: the newest run, one run, the last n of each stage
    let status = repo.wb(&["--json", "status", "train"]).ok().json();
    assert_eq!(status["stages"][0]["latest_run"], newest.as_str());
    repo.wb(&["show", &format!("train/{first}")]).ok();
    // a packed ref is judged like a loose one: these copies name another run
    repo.wb(&["show", "other/20200101T000000Z-0000"])
        .fails(1, "its trailers name train/");
    let log = repo.wb(&["--json", "log", "-n", "2"]).ok().json();
    let ids: Vec<&str> = log["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [newest.as_str(), first.as_str()]);
    let log = repo.wb(&["--json", "log", "other", "-n", "1"]).ok().json();
    assert_eq!(log["runs"][0]["run_id"], "20200101T001640Z-0000");
    repo.fsck();
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.flatten()
            .map(|e| match e.file_type().unwrap().is_dir() {
                true => walk(&e.path()),
                false => 1,
            })
            .sum()
    })
}

#[test]
fn a_corrupt_event_cache_changes_nothing_next_says() {
    let repo = crate::train_repo();
    repo.wb(&["init"]).ok();
    let a = run_json(&repo, &["train"]);
    repo.wb(&["review", &a]).ok();
    repo.wb(&[
        "reject",
        &a,
        "--issue",
        "too slow",
        "--criterion",
        "acc > 0.5",
    ])
    .ok();
    for _ in 0..3 {
        run_json(&repo, &["train"]);
    }
    let first = repo.wb(&["--json", "next"]).ok().json();
    assert!(repo.path(".git/workbench/event-cache").exists());
    let second = repo.wb(&["--json", "next"]).ok().json();
    assert_eq!(first, second);
    for junk in [&b"workbench-event-cache v1\nshort"[..], b"", &[0xff; 64]] {
        std::fs::write(repo.path(".git/workbench/event-cache"), junk).unwrap();
        assert_eq!(repo.wb(&["--json", "next"]).ok().json(), first);
    }
    assert!(first.to_string().contains("acc > 0.5"), "{first}");
}

fn next_says(repo: &Repo) -> String {
    repo.wb(&["--json", "next"]).ok().json().to_string()
}

#[test]
fn the_remembered_decision_follows_plumbing_packing_and_approvals() {
    let repo = crate::train_repo();
    repo.wb(&["init"]).ok();
    let a = run_json(&repo, &["train"]);
    repo.wb(&["review", &a]).ok();
    repo.wb(&[
        "reject",
        &a,
        "--issue",
        "slow",
        "--criterion",
        "score > 0.5",
    ])
    .ok();
    let b = run_json(&repo, &["train"]);
    run_json(&repo, &["train"]);
    let first = next_says(&repo);
    assert!(first.contains("score > 0.5"), "{first}");
    let cache = std::fs::read_to_string(repo.path(".git/workbench/decision-cache")).unwrap();
    assert!(cache.contains("train "), "{cache}");
    assert!(cache.contains(&format!("rejected {a} ")), "{cache}");
    assert_eq!(next_says(&repo), first);
    // the rejected run's ref deleted and restored with plumbing
    let ref_a = format!("refs/workbench/runs/train/{a}");
    let tip_a = repo.git(&["rev-parse", &ref_a]).trim().to_string();
    repo.git(&["update-ref", "-d", &ref_a]);
    assert!(!next_says(&repo).contains("score > 0.5"));
    repo.git(&["update-ref", &ref_a, &tip_a]);
    assert_eq!(next_says(&repo), first);
    // packed by git: other bytes, the same answer
    repo.git(&["pack-refs", "--all"]);
    assert_eq!(next_says(&repo), first);
    // an approval after the rejection closes the matter for the runs after it
    let ref_b = format!("refs/workbench/runs/train/{b}");
    let unapproved_b = repo.git(&["rev-parse", &ref_b]).trim().to_string();
    repo.wb(&["review", &b]).ok();
    repo.wb(&["approve", &b, "--yes"]).ok();
    run_json(&repo, &["train"]);
    assert!(!next_says(&repo).contains("score > 0.5"));
    // the approval undone with plumbing: the rejection binds again
    repo.git(&["update-ref", &ref_b, &unapproved_b]);
    assert!(next_says(&repo).contains("score > 0.5"));
}

#[test]
fn a_decision_cache_claiming_what_the_records_do_not_say_is_not_believed() {
    let repo = crate::train_repo();
    repo.wb(&["init"]).ok();
    let a = run_json(&repo, &["train"]);
    repo.wb(&["review", &a]).ok();
    repo.wb(&[
        "reject",
        &a,
        "--issue",
        "slow",
        "--criterion",
        "score > 0.5",
    ])
    .ok();
    let b = run_json(&repo, &["train"]);
    run_json(&repo, &["train"]);
    let first = next_says(&repo);
    assert!(first.contains("score > 0.5"), "{first}");
    let file = repo.path(".git/workbench/decision-cache");
    let good = std::fs::read_to_string(&file).unwrap();
    let tip_b = repo
        .git(&["rev-parse", &format!("refs/workbench/runs/train/{b}")])
        .trim()
        .to_string();
    let line = good.lines().find(|l| l.starts_with("train ")).unwrap();
    let tip_a = line.rsplit(' ').next().unwrap();
    for bad in [
        // the rejection said to be an approval
        good.replace(&format!("rejected {a}"), &format!("approved {a}")),
        // another tip for the rejected run
        good.replace(tip_a, &tip_b),
        // another run, not decided, in its place
        good.replace(
            &format!("rejected {a} {tip_a}"),
            &format!("approved {b} {tip_b}"),
        ),
        String::from("garbage"),
        String::new(),
    ] {
        std::fs::write(&file, &bad).unwrap();
        assert_eq!(next_says(&repo), first, "{bad}");
    }
}

#[test]
fn a_rejection_fetched_from_another_clone_reaches_next() {
    let (_remote, ada, bob) = team();
    let r1 = run_json(&ada, &["train"]);
    ada.wb(&["review", &r1]).ok();
    run_json(&ada, &["train"]);
    ada.wb(&["push"]).ok();
    bob.wb(&["fetch"]).ok();
    assert!(!next_says(&bob).contains("score > 0.5"));
    assert!(bob.path(".git/workbench/decision-cache").exists());
    ada.wb(&[
        "reject",
        &r1,
        "--issue",
        "slow",
        "--criterion",
        "score > 0.5",
    ])
    .ok();
    ada.wb(&["push"]).ok();
    bob.wb(&["fetch"]).ok();
    let now = next_says(&bob);
    assert!(now.contains("score > 0.5"), "{now}");
}
