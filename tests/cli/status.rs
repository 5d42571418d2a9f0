//! `status`: states and the reasons a stage is stale.

use crate::common::Repo;
use crate::{run_json, train_repo};

fn reasons(repo: &Repo, stage: &str) -> (String, Vec<String>) {
    let j = repo.wb(&["--json", "status"]).ok().json();
    let row = j["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["stage"] == stage)
        .unwrap()
        .clone();
    let kinds = row["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let detail = r
                .get("path")
                .or(r.get("key"))
                .and_then(|v| v.as_str())
                .unwrap_or("");
            format!("{}:{}", r["kind"].as_str().unwrap(), detail)
        })
        .collect();
    (row["state"].as_str().unwrap().to_string(), kinds)
}

#[test]
fn never_run_then_executed() {
    let repo = train_repo();
    assert_eq!(
        reasons(&repo, "train"),
        ("stale".into(), vec!["never_run:".into()])
    );
    let id = run_json(&repo, &["train"]);
    let j = repo.wb(&["--json", "status"]).ok().json();
    assert_eq!(j["stages"][0]["stage"], "train");
    assert_eq!(j["stages"][0]["state"], "executed");
    assert_eq!(j["stages"][0]["latest_run"], id.as_str());
    assert!(j["stages"][0]["approved_run"].is_null());
    assert_eq!(j["stages"][1]["stage"], "report");
    // human output names stages, states and reasons
    let text = repo.wb(&["status"]).ok().stdout;
    assert!(text.contains("train") && text.contains("EXECUTED") && text.contains(&id));
    assert!(text.contains("report") && text.contains("never run"));
}

#[test]
fn editing_a_dep_a_param_or_a_code_file_makes_it_stale() {
    let repo = train_repo();
    run_json(&repo, &["train"]);
    repo.write("data/in.csv", "a,b\n1,3\n");
    assert_eq!(
        reasons(&repo, "train"),
        ("stale".into(), vec!["dep_changed:data/in.csv".into()])
    );
    run_json(&repo, &["train"]);
    assert_eq!(reasons(&repo, "train").0, "executed");

    repo.write("params.yaml", "train:\n  lr: 0.2\n  depth: 3\nother: 1\n");
    assert_eq!(
        reasons(&repo, "train"),
        ("stale".into(), vec!["param_changed:train.lr".into()])
    );
    // a param the stage does not record does not matter
    run_json(&repo, &["train"]);
    repo.write("params.yaml", "train:\n  lr: 0.2\n  depth: 3\nother: 2\n");
    assert_eq!(reasons(&repo, "train").0, "executed");

    repo.write("scripts/train.sh", &format!("{}# tweak\n", crate::TRAIN_SH));
    assert_eq!(
        reasons(&repo, "train"),
        ("stale".into(), vec!["code_changed:scripts/train.sh".into()])
    );
    let text = repo.wb(&["status"]).ok().stdout;
    assert!(text.contains("code changed: scripts/train.sh"), "{text}");
}

#[test]
fn failed_runs_overrides_and_missing_outputs_are_reasons() {
    let repo = train_repo();
    // a run with an override is a candidate: not stale because the file says 0.1
    let id = run_json(&repo, &["train", "-p", "train.lr=9"]);
    let (state, why) = reasons(&repo, "train");
    assert_eq!((state.as_str(), why), ("executed", Vec::<String>::new()));
    std::fs::remove_dir_all(repo.path(&format!("runs/{id}"))).unwrap();
    let (_, why) = reasons(&repo, "train");
    assert!(
        why.contains(&format!("output_missing:runs/{id}/out.csv")),
        "{why:?}"
    );

    let r = Repo::with("[stages.s]\ncmd = \"exit 4\"\n", &[]);
    assert_eq!(r.wb(&["run", "s"]).code, 4);
    let j = r.wb(&["--json", "status"]).ok().json();
    assert_eq!(j["stages"][0]["state"], "stale");
    assert_eq!(j["stages"][0]["reasons"][0]["kind"], "latest_failed");
    assert_eq!(j["stages"][0]["reasons"][0]["exit_code"], 4);
}

#[test]
fn status_trusts_the_stat_cache_for_unchanged_files() {
    let repo = train_repo();
    // an old mtime makes the digest trustworthy (not "racy") once hashed
    let touch = |when: &str| {
        let o = std::process::Command::new("touch")
            .args(["-d", when, repo.path("data/in.csv").to_str().unwrap()])
            .status()
            .unwrap();
        assert!(o.success());
    };
    touch("2020-01-01 00:00:00");
    run_json(&repo, &["train"]);
    repo.wb(&["status"]).ok();
    let path = repo.path(".git/workbench/stat-cache");
    let cache = std::fs::read_to_string(&path).unwrap();
    assert!(cache.starts_with("workbench-statcache v2\n"), "{cache}");
    let line = cache
        .lines()
        .find(|l| l.contains("data/in.csv\t"))
        .unwrap_or_else(|| panic!("{cache}"));
    let digest = line.split('\t').nth(1).unwrap().split(' ').next().unwrap();
    // Forge the cached digest: a status that trusts the cache (without reading the
    // file) now believes the dep changed.
    let forged = line.replace(digest, &"0".repeat(64));
    std::fs::write(&path, cache.replace(line, &forged)).unwrap();
    assert_eq!(
        reasons(&repo, "train"),
        ("stale".into(), vec!["dep_changed:data/in.csv".into()])
    );
    // a new mtime invalidates the entry: the file is read again and found unchanged
    touch("2021-01-01 00:00:00");
    assert_eq!(reasons(&repo, "train").0, "executed");
}
