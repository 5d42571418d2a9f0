//! Records as git objects: show, log, run resolution, gc, amend and rebase.

use crate::common::Repo;
use crate::{run_json, train_repo};

#[test]
fn show_and_log_read_the_refs() {
    let repo = train_repo();
    let a = run_json(&repo, &["train"]);
    let b = run_json(&repo, &["train", "-p", "train.lr=0.3"]);
    let j = repo.wb(&["--json", "show", "train@latest"]).ok().json();
    assert_eq!(j["run_id"], b.as_str());
    assert_eq!(j["state"], "executed");
    assert_eq!(j["manifest"]["parent_run_id"], a.as_str());
    assert_eq!(j["transitions"][0]["event"], "executed");
    assert_eq!(j["notes"][0]["run_id"], b.as_str());
    let j = repo.wb(&["--json", "show", &a]).ok().json();
    assert_eq!(j["run_id"], a.as_str());
    let j = repo
        .wb(&["--json", "show", &format!("train/{}", &a[..a.len() - 1])])
        .ok()
        .json();
    assert_eq!(j["run_id"], a.as_str());
    let text = repo.wb(&["show", &b]).ok().stdout;
    assert!(
        text.contains("train.lr") && text.contains("(-p)") && text.contains("transitions:"),
        "{text}"
    );

    let j = repo.wb(&["--json", "log"]).ok().json();
    let runs = j["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["run_id"], b.as_str(), "newest first");
    assert_eq!(runs[0]["events"], serde_json::json!(["executed"]));
    let j = repo.wb(&["--json", "log", "report"]).ok().json();
    assert_eq!(j["runs"].as_array().unwrap().len(), 0);
    let j = repo.wb(&["--json", "log", "-n", "1"]).ok().json();
    assert_eq!(j["runs"].as_array().unwrap().len(), 1);
    let text = repo.wb(&["log"]).ok().stdout;
    assert!(text.contains(&a) && text.contains(&b) && text.contains("EXECUTED"));
}

#[test]
fn ambiguous_and_unknown_run_ids() {
    let repo = train_repo();
    run_json(&repo, &["train"]);
    run_json(&repo, &["train"]);
    let r = repo.wb(&["show", "20"]).fails(2, "ambiguous");
    assert!(
        r.stderr.contains("train/"),
        "lists candidates: {}",
        r.stderr
    );
    assert!(r.stderr.contains("hint:"));
    repo.wb(&["show", "1999"]).fails(2, "no run matches '1999'");
    repo.wb(&["show", "report@latest"])
        .fails(2, "stage 'report' has no runs");
    repo.wb(&["show", "train@approved"])
        .fails(2, "no approved run");
    repo.wb(&["show", "train@best"])
        .fails(2, "unknown run selector");
}

#[test]
fn gc_keeps_records_and_snapshots() {
    let repo = train_repo();
    repo.write(
        "scripts/train.sh",
        &format!("{}# uncommitted\n", crate::TRAIN_SH),
    );
    let id = run_json(&repo, &["train"]);
    let m = repo.manifest("train", &id);
    let tree = m["code_ref"]["tree"].as_str().unwrap().to_string();
    repo.git(&["gc", "-q", "--prune=now"]);
    repo.git(&["cat-file", "-e", &tree]);
    let script = repo.git(&["show", &format!("{tree}:scripts/train.sh")]);
    assert!(script.ends_with("# uncommitted"));
    repo.git(&[
        "cat-file",
        "-e",
        &format!("refs/workbench/runs/train/{id}:outputs/runs/{id}/out.csv"),
    ]);
    assert_eq!(repo.note_lines("HEAD").len(), 1);
    repo.wb(&["show", &id]).ok();
    repo.fsck();
}

#[test]
fn amend_and_rebase_keep_the_notes() {
    let repo = train_repo();
    repo.wb(&["init"]).ok();
    let id = run_json(&repo, &["train"]);
    repo.write("extra.txt", "1");
    repo.git(&["add", "extra.txt"]);
    repo.git(&["commit", "-q", "--amend", "-m", "initial, amended"]);
    let notes = repo.note_lines("HEAD");
    assert_eq!(notes.len(), 1, "amend kept the note");
    assert_eq!(notes[0]["run_id"], id.as_str());

    // rebase: put the noted commit on top of a new base
    repo.git(&["checkout", "-q", "-b", "side", "HEAD"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["reset", "-q", "--hard", "HEAD"]);
    repo.git(&["checkout", "-q", "--orphan", "base"]);
    repo.git(&["rm", "-q", "-rf", "--cached", "."]);
    repo.write("base.txt", "b");
    repo.git(&["add", "base.txt"]);
    repo.git(&["commit", "-q", "-m", "base"]);
    repo.git(&["checkout", "-q", "-f", "side"]);
    let before = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["rebase", "-q", "--root", "--onto", "base"]);
    let after = repo.git(&["rev-parse", "HEAD"]);
    assert_ne!(before, after);
    let notes = repo.note_lines("HEAD");
    assert_eq!(notes.len(), 1, "rebase kept the note");
    assert_eq!(notes[0]["run_id"], id.as_str());
}

#[test]
fn runs_work_from_a_subdirectory_and_in_a_repo_without_commits() {
    let repo = train_repo();
    let r = repo
        .wb_in(&repo.path("scripts"), &["--json", "run", "train"])
        .ok();
    assert_eq!(r.json()["status"], "executed");

    let fresh = Repo::bare_dir();
    fresh.git(&["init", "-q", "-b", "main"]);
    fresh.write("workbench.toml", "[stages.s]\ncmd = \"true\"\n");
    let id = run_json(&fresh, &["s"]);
    let m = fresh.manifest("s", &id);
    assert!(m["code_ref"]["commit"].is_null());
    assert_eq!(m["code_ref"]["dirty"], true);
    fresh.fsck();
}

fn listed(repo: &Repo) -> Vec<String> {
    let j = repo.wb(&["--json", "log"]).ok().json();
    let mut v: Vec<String> = j["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["record"].as_str().unwrap(),
                r["ref"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

fn for_each_ref(repo: &Repo) -> Vec<String> {
    let mut v: Vec<String> = repo
        .git(&[
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "refs/workbench/runs/",
        ])
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

#[test]
fn run_listing_agrees_with_git_for_loose_packed_and_mixed_refs() {
    let repo = train_repo();
    for _ in 0..3 {
        run_json(&repo, &["train"]);
    }
    run_json(&repo, &["report"]);
    assert_eq!(listed(&repo), for_each_ref(&repo));
    repo.git(&["pack-refs", "--all"]);
    assert_eq!(listed(&repo), for_each_ref(&repo));
    run_json(&repo, &["train"]);
    // a packed train ref overridden by a loose one with another train record
    let refs = for_each_ref(&repo);
    let train: Vec<(&str, &str)> = refs
        .iter()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, name)| name.contains("/train/"))
        .collect();
    repo.git(&["update-ref", train[0].1, train[1].0]);
    assert_eq!(listed(&repo), for_each_ref(&repo));
    assert_eq!(listed(&repo).len(), 5);
    let j = repo.wb(&["--json", "status"]).ok().json();
    assert_eq!(j["stages"][1]["stage"], "report");
    assert_eq!(j["stages"][1]["state"], "executed");
}
