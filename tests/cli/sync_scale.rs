//! The fast paths of `sync` (issue 15) hold exactly: a no-op sync skips the fetch and
//! the per-run merge and changes nothing, while anything a plain `git fetch` or
//! `git update-ref` put in the tracking refs, a ref on one side only, or new notes
//! still go through the full path, judged as before.

use crate::attacks::forge_run;
use crate::common::Repo;
use crate::run_json;
use crate::sync::team;

fn refs(repo: &Repo, prefix: &str) -> String {
    repo.git(&["for-each-ref", "--format=%(refname) %(objectname)", prefix])
}

/// Two runs made by ada, synced to bob and back, so everything is in step.
fn in_step() -> (Repo, Repo, Repo, String, String) {
    let (remote, ada, bob) = team();
    let a1 = run_json(&ada, &["train"]);
    let a2 = run_json(&ada, &["train", "-p", "train.lr=0.2"]);
    ada.wb(&["sync"]).ok();
    bob.wb(&["sync"]).ok();
    ada.wb(&["sync"]).ok();
    (remote, ada, bob, a1, a2)
}

#[test]
fn a_no_op_sync_fetches_nothing_merges_nothing_and_changes_nothing() {
    let (_remote, _ada, bob, _, _) = in_step();
    let before = refs(&bob, "refs/");
    let trace = bob.path(".git/trace.txt");
    let r = bob
        .cmd(env!("CARGO_BIN_EXE_git-workbench"), &["--json", "sync"])
        .env("GIT_TRACE", &trace)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let j: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(j["merged"]["unchanged"], 2, "{j}");
    assert_eq!(j["merged"]["created"], 0, "{j}");
    assert_eq!(j["pushed_refs"], 0, "{j}");
    assert_eq!(refs(&bob, "refs/"), before);
    let trace = std::fs::read_to_string(&trace).unwrap();
    for git in [" fetch-pack ", " fetch ", " update-ref ", " push "] {
        assert!(!trace.contains(git), "a no-op sync ran {git}:\n{trace}");
    }
    bob.fsck();
}

#[test]
fn a_forged_record_a_plain_git_fetch_put_in_the_tracking_refs_is_refused() {
    let (remote, ada, bob, a1, _) = in_step();
    // the attacker forges a record (run_dir climbing out) and pushes it with plain git
    let forged_id = "20260308T142233Z-bad1";
    let forged = forge_run(
        &ada,
        &a1,
        forged_id,
        |m| m["run_dir"] = "../../escape".into(),
        &[],
    );
    ada.git(&[
        "push",
        "-q",
        "origin",
        "refs/workbench/runs/*:refs/workbench/runs/*",
    ]);
    // bob fetches with plain git: init's refspecs write the tracking refs directly,
    // so they equal what the remote advertises
    bob.git(&["fetch", "-q", "origin"]);
    let tracking = format!("refs/workbench/remotes/origin/runs/train/{forged_id}");
    assert_eq!(bob.git(&["rev-parse", &tracking]), forged);
    let r = bob.wb(&["--json", "sync"]).ok().json();
    let refused = r["merged"]["refused"].to_string();
    assert!(
        refused.contains(forged_id) && refused.contains("escape"),
        "{r}"
    );
    assert_eq!(r["merged"]["created"], 0, "{r}");
    assert!(!refs(&bob, "refs/workbench/runs/").contains(forged_id));
    assert!(!refs(&bob, "refs/workbench/remotes/").contains(forged_id));
    // and again: remembered, still refused, never merged
    let r = bob.wb(&["--json", "sync"]).ok().json();
    assert!(
        r["merged"]["refused"].to_string().contains(forged_id),
        "{r}"
    );
    assert!(!refs(&bob, "refs/workbench/runs/").contains(forged_id));
    bob.fsck();
    let _ = remote;
}

#[test]
fn a_tracking_ref_moved_to_another_record_is_put_back_not_skipped() {
    let (_remote, _ada, bob, a1, a2) = in_step();
    let t1 = format!("refs/workbench/remotes/origin/runs/train/{a1}");
    let t2 = format!("refs/workbench/remotes/origin/runs/train/{a2}");
    let tip2 = bob.git(&["rev-parse", &t2]);
    let tip1 = bob.git(&["rev-parse", &t1]);
    // a1's tracking ref now names a2's record (a valid record, under the wrong name)
    bob.git(&["update-ref", &t1, &tip2]);
    let local = refs(&bob, "refs/workbench/runs/");
    let r = bob.wb(&["--json", "sync"]).ok().json();
    assert_eq!(r["merged"]["conflicts"], serde_json::json!([]), "{r}");
    assert_eq!(bob.git(&["rev-parse", &t1]), tip1, "the fetch put it back");
    assert_eq!(refs(&bob, "refs/workbench/runs/"), local);
    bob.fsck();
}

#[test]
fn a_ref_on_one_side_only_is_not_skipped() {
    let (remote, ada, bob, a1, a2) = in_step();
    // a local run ref deleted: the sync brings it back from the tracking ref
    let local = format!("refs/workbench/runs/train/{a1}");
    let tip = bob.git(&["rev-parse", &local]);
    bob.git(&["update-ref", "-d", &local]);
    let r = bob.wb(&["--json", "sync"]).ok().json();
    assert_eq!(r["merged"]["created"], 1, "{r}");
    assert_eq!(bob.git(&["rev-parse", &local]), tip);
    // a tracking ref deleted: fetched again
    let t2 = format!("refs/workbench/remotes/origin/runs/train/{a2}");
    bob.git(&["update-ref", "-d", &t2]);
    bob.wb(&["sync"]).ok();
    assert_eq!(
        bob.git(&["rev-parse", &t2]),
        bob.git(&["rev-parse", &format!("refs/workbench/runs/train/{a2}")])
    );
    // a run only bob has: pushed
    let b1 = run_json(&bob, &["train", "-p", "train.lr=0.3"]);
    let r = bob.wb(&["--json", "sync"]).ok().json();
    assert!(r["pushed_refs"].as_u64().unwrap() >= 1, "{r}");
    assert!(refs(&remote, "refs/workbench/runs/").contains(&b1));
    ada.wb(&["sync"]).ok();
    assert!(refs(&ada, "refs/workbench/runs/").contains(&b1));
}

#[test]
fn notes_still_sync_when_the_runs_are_in_step() {
    let (_remote, ada, bob, _, _) = in_step();
    ada.git(&[
        "notes",
        "--ref=workbench",
        "append",
        "-m",
        "{\"extra\":1}",
        "HEAD",
    ]);
    ada.wb(&["sync"]).ok();
    let r = bob.wb(&["--json", "sync"]).ok().json();
    assert_eq!(r["merged"]["unchanged"], 2, "{r}");
    assert_eq!(r["merged"]["notes_lines_added"], 1, "{r}");
    assert!(bob.note_lines("HEAD").iter().any(|n| n["extra"] == 1));
}

/// A fetch moves the quarantine's pack in with a `.keep` until its refs are written:
/// none is left after it, and one a killed fetch left (an hour old, ours by its text)
/// is removed by the next fetch; a young one, or another tool's, stays.
#[test]
fn a_fetch_leaves_no_kept_pack_and_clears_the_ones_a_killed_fetch_left() {
    let (_remote, ada, bob) = team();
    run_json(&ada, &["train"]);
    ada.wb(&["push"]).ok();
    let pack = bob.path(".git/objects/pack");
    let write = |name: &str, text: &str, old: bool| {
        let p = pack.join(name);
        std::fs::write(&p, text).unwrap();
        if old {
            let t = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
            std::fs::File::options()
                .write(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
    };
    std::fs::create_dir_all(&pack).unwrap();
    write("pack-stale.keep", "workbench fetch\n", true);
    write("pack-young.keep", "workbench fetch\n", false);
    write("pack-other.keep", "kept by someone else\n", true);
    bob.wb(&["fetch"]).ok();
    let mut keeps: Vec<String> = std::fs::read_dir(&pack)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".keep"))
        .collect();
    keeps.sort();
    assert_eq!(keeps, ["pack-other.keep", "pack-young.keep"]);
    assert!(bob
        .git(&["for-each-ref", "refs/workbench/runs/"])
        .contains("train"));
    bob.fsck();
}
