//! `doctor`: each problem named with the command that fixes it.

use crate::common::Repo;
use crate::{run_json, train_repo};

fn status_of(j: &serde_json::Value, check: &str) -> String {
    j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == check)
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn doctor_explains_problems_and_their_fixes() {
    let bare = Repo::bare_dir();
    bare.git(&["init", "-q"]);
    let r = bare.wb(&["--json", "doctor"]);
    assert_eq!(r.code, 1, "a missing configuration fails");
    let j = r.json();
    assert_eq!(status_of(&j, "configuration"), "fail");
    assert_eq!(status_of(&j, "notes survive rebase and amend"), "warn");
    let text = bare.wb(&["doctor"]).fails(1, "").stdout;
    assert!(text.contains("fix: git workbench init"), "{text}");

    let repo = train_repo();
    let remote = Repo::bare_dir();
    remote.git(&["init", "-q", "--bare"]);
    repo.git(&["remote", "add", "origin", remote.root.to_str().unwrap()]);
    repo.wb(&["init"]).ok();
    let j = repo.wb(&["--json", "doctor"]).ok().json();
    assert_eq!(j["ok"], true, "{j}");
    assert_eq!(status_of(&j, "fetch refspecs"), "ok");
    assert_eq!(status_of(&j, "records pushed"), "ok");
    // unpushed records, then pushed
    run_json(&repo, &["train"]);
    let j = repo.wb(&["--json", "doctor"]).ok().json();
    assert_eq!(status_of(&j, "records pushed"), "warn");
    repo.wb(&["sync"]).ok();
    assert_eq!(
        status_of(
            &repo.wb(&["--json", "doctor"]).ok().json(),
            "records pushed"
        ),
        "ok"
    );
    // a hook that cannot find git-workbench (the test PATH lacks it)
    repo.wb(&["hooks", "install"]).ok();
    let r = repo.wb(&["--json", "doctor"]);
    assert_eq!(r.code, 1);
    assert_eq!(status_of(&r.json(), "pre-commit hook"), "fail");
    repo.wb(&["hooks", "uninstall"]).ok();
    // index lines on a commit no branch reaches any more (a squash merge)
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.write("data/in.csv", "a,b\n3,4\n");
    repo.git(&["commit", "-q", "-am", "new data"]);
    run_json(&repo, &["train"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["merge", "-q", "--squash", "topic"]);
    repo.git(&["commit", "-q", "-m", "squashed"]);
    repo.git(&["branch", "-q", "-D", "topic"]);
    let j = repo.wb(&["--json", "doctor"]).ok().json();
    assert_eq!(status_of(&j, "notes index"), "warn", "{j}");
    // notes-repair moves them to the squash commit, which has the same tree
    let dry = repo
        .wb(&["--json", "notes-repair", "--dry-run"])
        .ok()
        .json();
    assert_eq!(dry["moved"].as_array().unwrap().len(), 1, "{dry}");
    assert_eq!(
        status_of(&repo.wb(&["--json", "doctor"]).ok().json(), "notes index"),
        "warn"
    );
    let fixed = repo.wb(&["--json", "notes-repair"]).ok().json();
    let head = repo.git(&["rev-parse", "HEAD"]);
    assert_eq!(fixed["moved"][0]["to"], head.as_str());
    assert_eq!(
        repo.note_lines("HEAD").len(),
        1,
        "the topic run's line is on the squash commit"
    );
    assert_eq!(
        status_of(&repo.wb(&["--json", "doctor"]).ok().json(), "notes index"),
        "ok"
    );
    assert!(repo
        .wb(&["notes-repair"])
        .ok()
        .stdout
        .contains("nothing to repair"));
    repo.fsck();
    // the review mirror: current, then edited by hand
    assert_eq!(
        status_of(&repo.wb(&["--json", "doctor"]).ok().json(), "review mirror"),
        "ok"
    );
    let mirror = repo.read("review/train/candidate/manifest.json");
    repo.write(
        "review/train/candidate/manifest.json",
        &mirror.replace("\"exit_code\": 0", "\"exit_code\": 0 "),
    );
    assert_eq!(
        status_of(&repo.wb(&["--json", "doctor"]).ok().json(), "review mirror"),
        "warn"
    );
    repo.write("review/train/candidate/manifest.json", &mirror);
    // missing identity fails
    let r = repo
        .cmd(crate::common::BIN, &["--json", "doctor"])
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(status_of(&j, "identity"), "fail", "{j}");
}
