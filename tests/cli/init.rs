//! `init`: skeleton, notes config, refspecs; idempotent.

use crate::common::Repo;

#[test]
fn init_writes_skeleton_and_config_idempotently() {
    let repo = Repo::bare_dir();
    repo.git(&["init", "-q"]);
    repo.git(&["remote", "add", "origin", "https://example.invalid/x.git"]);
    let r = repo.wb(&["init"]).ok();
    assert!(r.stdout.contains("created workbench.toml"), "{}", r.stdout);
    assert!(r
        .stdout
        .contains("added notes.rewriteRef = refs/notes/workbench"));
    let skeleton = repo.read("workbench.toml");
    assert!(skeleton.contains("[stages.baseline]"));
    // the skeleton parses: status runs and says no stages are configured
    let s = repo.wb(&["status"]).ok();
    assert!(s.stdout.contains("no stages configured"), "{}", s.stdout);

    assert_eq!(
        repo.git(&["config", "--get-all", "notes.rewriteRef"]),
        "refs/notes/workbench"
    );
    assert_eq!(repo.git(&["config", "notes.rewriteMode"]), "cat_sort_uniq");
    let fetch = repo.git(&["config", "--get-all", "remote.origin.fetch"]);
    assert!(fetch.contains("+refs/heads/*:refs/remotes/origin/*"));
    assert!(fetch.contains("+refs/notes/workbench:refs/notes/remotes/origin/workbench"));
    assert!(fetch.contains("+refs/workbench/runs/*:refs/workbench/remotes/origin/runs/*"));
    assert!(
        !fetch.contains(":refs/notes/workbench\n") && !fetch.ends_with(":refs/notes/workbench")
    );
    assert_eq!(
        repo.git_run(&["config", "--get-all", "remote.origin.push"])
            .code,
        1,
        "no push refspec"
    );

    let again = repo.wb(&["--json", "init"]).ok().json();
    assert_eq!(again["config_created"], false);
    assert!(
        again["git_config"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] == "unchanged"),
        "{again}"
    );
    assert_eq!(
        repo.git(&["config", "--get-all", "notes.rewriteRef"])
            .lines()
            .count(),
        1
    );
    assert_eq!(
        repo.git(&["config", "--get-all", "remote.origin.fetch"])
            .lines()
            .count(),
        3
    );
    assert_eq!(repo.read("workbench.toml"), skeleton);
}

#[test]
fn init_keeps_other_rewrite_refs_and_existing_config() {
    let repo = Repo::with("[stages.a]\ncmd = \"true\"\n", &[]);
    repo.git(&["config", "--add", "notes.rewriteRef", "refs/notes/commits"]);
    let r = repo.wb(&["init"]).ok();
    assert!(r.stdout.contains("kept workbench.toml"));
    let refs = repo.git(&["config", "--get-all", "notes.rewriteRef"]);
    assert_eq!(refs, "refs/notes/commits\nrefs/notes/workbench");
    assert_eq!(repo.read("workbench.toml"), "[stages.a]\ncmd = \"true\"\n");
}

#[test]
fn fetch_brings_records_into_the_tracking_namespace() {
    let upstream = crate::train_repo();
    let id = crate::run_json(&upstream, &["train"]);
    let clone = Repo::bare_dir();
    clone.git(&["clone", "-q", upstream.root.to_str().unwrap(), "."]);
    clone.wb(&["init"]).ok();
    clone.git(&["fetch", "-q", "origin"]);
    let refs = clone.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/workbench/remotes/",
        "refs/notes/remotes/",
    ]);
    assert!(
        refs.contains(&format!("refs/workbench/remotes/origin/runs/train/{id}")),
        "{refs}"
    );
    assert!(
        refs.contains("refs/notes/remotes/origin/workbench"),
        "{refs}"
    );
    // a plain push still pushes the branch only
    let bare = Repo::bare_dir();
    bare.git(&["init", "-q", "--bare", "."]);
    clone.git(&["remote", "add", "backup", bare.root.to_str().unwrap()]);
    clone.wb(&["init"]).ok();
    clone.git(&["push", "-q", "backup", "HEAD:refs/heads/main"]);
    assert!(bare.run_refs().is_empty());
}
