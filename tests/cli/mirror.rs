//! The working-tree mirror across runs and clones: `review/<stage>/` holds the approved
//! run and only an approval replaces it, `candidate/` the run awaiting a decision;
//! decisions stage what they present, untracked mirror files are ignored so that a
//! real `git pull` of a teammate's committed mirror goes through, files get git's
//! permissions, and `doctor` and `verify` catch each way of tampering with it.

use crate::common::{Repo, BIN};
use crate::{run_json, train_repo};

const TOP: [&str; 4] = ["manifest.json", "review.json", "approval.json", "card.md"];

/// A file of a run's newest record, through git.
fn record(repo: &Repo, id: &str, file: &str) -> String {
    repo.git(&["show", &format!("refs/workbench/runs/train/{id}:{file}")])
}

/// A file committed at HEAD, through git.
fn committed(repo: &Repo, path: &str) -> String {
    repo.git(&["show", &format!("HEAD:{path}")])
}

/// The staged changes under review/, as `git diff --cached --name-status` has them.
fn staged(repo: &Repo) -> Vec<String> {
    let out = repo.git(&[
        "diff",
        "--cached",
        "--name-status",
        "--no-renames",
        "--",
        "review",
    ]);
    out.lines().map(|l| l.replace('\t', " ")).collect()
}

fn assert_shows(repo: &Repo, dir: &str, id: &str, files: &[&str]) {
    for f in files {
        assert_eq!(
            repo.read(&format!("{dir}/{f}")).trim_end(),
            record(repo, id, f),
            "{dir}/{f}"
        );
    }
}

fn presented(repo: &Repo, args: &[&str]) -> String {
    let id = run_json(repo, args);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", "Score 0.75 is fine."]).ok();
    id
}

fn mirror_check(repo: &Repo) -> serde_json::Value {
    let j = repo.wb(&["--json", "doctor"]).json();
    j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "review mirror")
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn an_exploratory_run_after_an_approval_leaves_the_committed_approval_alone() {
    let repo = train_repo();
    let a = run_json(&repo, &["train"]);
    // before any approval the top level is empty: a file there always means approved
    for f in TOP {
        assert!(!repo.path(&format!("review/train/{f}")).exists(), "{f}");
    }
    assert_shows(&repo, "review/train/candidate", &a, &["manifest.json"]);
    assert!(
        staged(&repo).is_empty(),
        "a run stages nothing: {:?}",
        staged(&repo)
    );
    repo.wb(&["review", &a]).ok();
    assert!(staged(&repo).is_empty(), "a review stages nothing");
    let j = repo
        .wb(&["--json", "card", &a, "-m", "Score 0.75 is fine."])
        .ok()
        .json();
    assert_eq!(j["card_path"], "review/train/candidate/card.md");
    assert_eq!(
        repo.read("review/train/candidate/card.md"),
        j["card"].as_str().unwrap()
    );
    // the card is presented on purpose: staged
    assert_eq!(
        staged(&repo),
        [
            "A review/train/candidate/card.md",
            "A review/train/candidate/manifest.json",
            "A review/train/candidate/review.json"
        ]
    );
    repo.wb(&["approve", &a, "--yes"]).ok();
    assert_shows(&repo, "review/train", &a, &TOP);
    assert!(!repo.path("review/train/candidate").exists());
    assert_eq!(
        staged(&repo),
        [
            "A review/train/approval.json",
            "A review/train/card.md",
            "A review/train/manifest.json",
            "A review/train/review.json"
        ]
    );
    repo.git(&["commit", "-q", "-m", "approve train"]);

    // an exploratory run: candidate/ shows it, the top level stays as committed
    let b = run_json(&repo, &["train", "-p", "train.lr=0.5"]);
    assert_shows(&repo, "review/train/candidate", &b, &["manifest.json"]);
    assert_shows(&repo, "review/train", &a, &TOP);
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "the candidate is ignored"
    );
    repo.git(&[
        "commit",
        "-q",
        "-a",
        "--allow-empty",
        "-m",
        "after exploring",
    ]);
    for f in TOP {
        assert_eq!(
            committed(&repo, &format!("review/train/{f}")),
            record(&repo, &a, f),
            "{f}"
        );
    }
    assert_eq!(repo.git(&["ls-files", "review/train/candidate"]), "");
    repo.wb(&["verify"]).ok();
    assert_eq!(mirror_check(&repo)["status"], "ok");

    // the user's own files under review/ are not hidden by the mirror's ignore rules
    repo.write("review/train/notes.md", "mine\n");
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "?? review/train/notes.md"
    );
    // the block is written once, after git's own lines
    let exclude = repo.read(".git/info/exclude");
    assert!(
        exclude.starts_with("# git ls-files --others --exclude-from"),
        "{exclude}"
    );
    assert_eq!(
        exclude.matches("# git-workbench: untracked").count(),
        1,
        "{exclude}"
    );
    // a negation that un-ignores a mirrored file is reported: a pull would stop on it
    repo.write(
        ".gitignore",
        "runs/*/\n!review/train/candidate/manifest.json\n",
    );
    let c = mirror_check(&repo);
    assert_eq!(c["status"], "warn", "{c}");
    assert!(
        c["detail"]
            .as_str()
            .unwrap()
            .contains("untracked and not ignored, so a `git pull` bringing a teammate's committed mirror would refuse to run: review/train/candidate/manifest.json"),
        "{c}"
    );
}

#[test]
fn a_later_approval_replaces_the_top_level_and_a_rejection_keeps_it() {
    let repo = train_repo();
    let a = presented(&repo, &["train"]);
    repo.wb(&["approve", &a, "--yes"]).ok();
    repo.git(&["commit", "-q", "-m", "approve a"]);
    // rejecting the candidate: its feedback shows, staged; the top level is untouched
    let b = presented(&repo, &["train", "-p", "train.lr=0.2"]);
    repo.wb(&["reject", &b, "--issue", "too slow"]).ok();
    assert_shows(
        &repo,
        "review/train/candidate",
        &b,
        &["manifest.json", "review.json", "card.md", "feedback.json"],
    );
    assert_shows(&repo, "review/train", &a, &TOP);
    assert_eq!(
        staged(&repo),
        [
            "A review/train/candidate/card.md",
            "A review/train/candidate/feedback.json",
            "A review/train/candidate/manifest.json",
            "A review/train/candidate/review.json"
        ]
    );
    repo.git(&["commit", "-q", "-m", "reject b"]);
    repo.wb(&["verify"]).ok();

    // a later run approved without a card: the top level is exactly its record (the
    // earlier card goes), and the committed candidate it replaced is removed
    let c = run_json(&repo, &["train", "-p", "train.lr=0.3"]);
    repo.wb(&["review", &c]).ok();
    repo.wb(&["approve", &c, "--yes"]).ok();
    assert_shows(
        &repo,
        "review/train",
        &c,
        &["manifest.json", "review.json", "approval.json"],
    );
    assert!(!repo.path("review/train/card.md").exists());
    assert!(!repo.path("review/train/candidate").exists());
    assert_eq!(
        staged(&repo),
        [
            "M review/train/approval.json",
            "D review/train/candidate/card.md",
            "D review/train/candidate/feedback.json",
            "D review/train/candidate/manifest.json",
            "D review/train/candidate/review.json",
            "D review/train/card.md",
            "M review/train/manifest.json",
            "M review/train/review.json"
        ]
    );
    repo.git(&["commit", "-q", "-m", "approve c"]);
    assert_eq!(
        repo.git(&["ls-tree", "--name-only", "HEAD", "review/train/"]),
        "review/train/approval.json\nreview/train/manifest.json\nreview/train/review.json"
    );
    repo.wb(&["verify"]).ok();
    assert_eq!(mirror_check(&repo)["status"], "ok");
}

#[test]
fn the_candidate_follows_explicit_transitions_and_an_approval_clears_only_what_it_decided() {
    let repo = train_repo();
    let a = run_json(&repo, &["train"]);
    let b = run_json(&repo, &["train", "-p", "train.lr=0.2"]);
    let shown = |repo: &Repo| -> String {
        let m: serde_json::Value =
            serde_json::from_str(&repo.read("review/train/candidate/manifest.json")).unwrap();
        m["run_id"].as_str().unwrap().to_string()
    };
    assert_eq!(shown(&repo), b);
    // an explicit review of an older run shows that run
    repo.wb(&["review", &a]).ok();
    assert_eq!(shown(&repo), a);
    assert_shows(&repo, "review/train/candidate", &a, &["review.json"]);
    repo.wb(&["review", &b]).ok();
    assert_eq!(shown(&repo), b);
    // approving the older run leaves the later candidate, which can still be approved
    repo.wb(&["approve", &a, "--yes"]).ok();
    assert_eq!(shown(&repo), b);
    assert_shows(
        &repo,
        "review/train",
        &a,
        &["manifest.json", "approval.json"],
    );
    let c = run_json(&repo, &["train", "-p", "train.lr=0.3"]);
    assert_eq!(shown(&repo), c);
    repo.wb(&["review", &c]).ok();
    repo.wb(&["review", &b]).ok();
    assert_eq!(shown(&repo), b);
    // approving c supersedes b, which candidate/ showed: it is emptied
    repo.wb(&["approve", &c, "--yes"]).ok();
    assert!(!repo.path("review/train/candidate").exists());
    assert_shows(
        &repo,
        "review/train",
        &c,
        &["manifest.json", "approval.json"],
    );
    assert_eq!(mirror_check(&repo)["status"], "ok");
}

/// Runs the binary under `umask`.
fn wb_umask(repo: &Repo, umask: &str, args: &[&str]) {
    let mut all = vec!["-c", "umask \"$0\"; exec \"$@\"", umask, BIN];
    all.extend_from_slice(args);
    let o = repo.cmd("sh", &all).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn mode(repo: &Repo, rel: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(repo.path(rel))
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn mirror_files_get_the_permissions_git_gives_a_checkout() {
    for (umask, file, dir) in [("022", 0o644, 0o755), ("077", 0o600, 0o700)] {
        let repo = Repo::with("[stages.s]\ncmd = \"true\"\n", &[]);
        wb_umask(&repo, umask, &["run", "s"]);
        // a file an earlier version wrote 0600 gets git's mode when it is replaced
        let m = "review/s/candidate/manifest.json";
        std::fs::set_permissions(
            repo.path(m),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        wb_umask(&repo, umask, &["run", "s"]);
        assert_eq!(mode(&repo, m), file, "umask {umask}");
        assert_eq!(mode(&repo, "review/s/candidate"), dir, "umask {umask}");
        let id = repo.wb(&["--json", "show", "s@latest"]).ok().json()["run_id"]
            .as_str()
            .unwrap()
            .to_string();
        wb_umask(&repo, umask, &["review", &id]);
        wb_umask(&repo, umask, &["approve", &id, "--yes"]);
        for f in ["manifest.json", "review.json", "approval.json"] {
            assert_eq!(
                mode(&repo, &format!("review/s/{f}")),
                file,
                "{f} umask {umask}"
            );
        }
        // what git itself gives a file it checks out under the same umask
        std::fs::remove_file(repo.path("workbench.toml")).unwrap();
        let o = repo
            .cmd(
                "sh",
                &["-c", "umask \"$0\"; git checkout -- workbench.toml", umask],
            )
            .output()
            .unwrap();
        assert!(o.status.success());
        assert_eq!(mode(&repo, "workbench.toml"), file);
        assert_eq!(mode(&repo, ".git/info/exclude"), file);
    }
}

/// A clone of `remote` next to the others, initialised like `sync::team`'s.
fn clone(remote: &Repo) -> Repo {
    let r = Repo::bare_dir();
    r.git(&["clone", "-q", remote.root.to_str().unwrap(), "."]);
    r.wb(&["init"]).ok();
    r
}

/// The git facts the design rests on, for the record: an untracked file in the way
/// of an incoming one stops a pull even when identical.
fn pull_fails_on_untracked(repo: &Repo) {
    let r = repo.git_run(&["pull", "-q", "origin", "main"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("untracked working tree files would be overwritten"),
        "{}",
        r.stderr
    );
}

/// The mirror lines of `.git/info/exclude` removed, as before this design.
fn without_block(repo: &Repo) -> String {
    let path = ".git/info/exclude";
    let saved = repo.read(path);
    let cut = saved
        .split("# git-workbench: untracked")
        .next()
        .unwrap()
        .to_string();
    repo.write(path, &cut);
    saved
}

#[test]
fn a_pull_replaces_an_untracked_candidate_identical_or_not() {
    let (remote, ada, bob) = crate::sync::team();
    let carol = clone(&remote);
    // Ada runs and reviews r and shares the records: her candidate/ is untracked
    let r = run_json(&ada, &["train"]);
    ada.wb(&["review", &r]).ok();
    ada.wb(&["sync"]).ok();
    assert!(ada
        .git(&["status", "--porcelain", "--ignored", "review"])
        .contains("!! review/"));
    // Carol explores on her own: her candidate/ shows another run
    let c = run_json(&carol, &["train", "-p", "train.lr=0.3"]);
    // Bob presents r in a commit
    bob.wb(&["sync"]).ok();
    bob.wb(&["card", &r, "-m", "Score 0.75 is fine."]).ok();
    bob.git(&["commit", "-q", "-m", "present r"]);
    bob.git(&["push", "-q", "origin", "main"]);
    bob.wb(&["sync"]).ok();
    // Ada's untracked manifest.json and review.json are byte for byte Bob's
    for f in ["manifest.json", "review.json"] {
        let p = format!("review/train/candidate/{f}");
        assert_eq!(ada.read(&p).trim_end(), committed(&bob, &p), "{f}");
    }
    let saved = without_block(&ada);
    pull_fails_on_untracked(&ada);
    ada.write(".git/info/exclude", &saved);
    ada.git(&["pull", "-q", "origin", "main"]);
    assert_eq!(ada.git(&["status", "--porcelain"]), "");
    // Carol's differs: the pull replaces it with Bob's; her run stays in her records
    let saved = without_block(&carol);
    pull_fails_on_untracked(&carol);
    carol.write(".git/info/exclude", &saved);
    carol.git(&["pull", "-q", "origin", "main"]);
    assert_eq!(carol.git(&["status", "--porcelain"]), "");
    for f in ["manifest.json", "review.json", "card.md"] {
        let p = format!("review/train/candidate/{f}");
        assert_eq!(carol.read(&p).trim_end(), committed(&bob, &p), "{f}");
    }
    carol.wb(&["show", &c]).ok();
    // once the records are fetched, the pulled mirror agrees with them
    for repo in [&ada, &carol] {
        repo.wb(&["sync"]).ok();
        repo.wb(&["verify"]).ok();
        assert_eq!(mirror_check(repo)["status"], "ok", "{}", mirror_check(repo));
    }
}

#[test]
fn a_pull_replaces_an_untracked_approval_identical_or_not() {
    let (remote, _ada, bob) = crate::sync::team();
    let carol = clone(&remote);
    // Carol approves a run of her own and does not commit it: untracked
    let c = run_json(&carol, &["train", "-p", "train.lr=0.3"]);
    carol.wb(&["review", &c]).ok();
    carol.wb(&["approve", &c, "--yes"]).ok();
    carol.git(&["reset", "-q"]);
    // Bob approves r, commits and pushes the mirror, then steps his branch back: his
    // top level is untracked and identical to the commit he pulls again
    let r = presented(&bob, &["train"]);
    bob.wb(&["approve", &r, "--yes"]).ok();
    bob.git(&["commit", "-q", "-m", "approve r"]);
    bob.git(&["push", "-q", "origin", "main"]);
    bob.wb(&["sync"]).ok();
    bob.git(&["reset", "-q", "HEAD~1"]);
    assert!(bob.git(&["status", "--porcelain"]).is_empty());
    let saved = without_block(&bob);
    pull_fails_on_untracked(&bob);
    bob.write(".git/info/exclude", &saved);
    bob.git(&["pull", "-q", "origin", "main"]);
    assert_eq!(bob.git(&["status", "--porcelain"]), "");
    // Carol's approval differs from Bob's: the pull replaces her untracked files
    let saved = without_block(&carol);
    pull_fails_on_untracked(&carol);
    carol.write(".git/info/exclude", &saved);
    carol.git(&["pull", "-q", "origin", "main"]);
    assert_eq!(carol.git(&["status", "--porcelain"]), "");
    for f in TOP {
        let p = format!("review/train/{f}");
        assert_eq!(carol.read(&p).trim_end(), committed(&bob, &p), "{f}");
    }
}

#[test]
fn decisions_stage_nothing_the_user_ignores_and_a_locked_index_is_a_warning() {
    let repo = train_repo();
    repo.write(".gitignore", "runs/*/\nreview/\n");
    repo.git(&["commit", "-q", "-am", "no mirror in git"]);
    let a = presented(&repo, &["train"]);
    repo.wb(&["approve", &a, "--yes"]).ok();
    assert!(repo.path("review/train/approval.json").is_file());
    assert!(staged(&repo).is_empty(), "{:?}", staged(&repo));
    assert_eq!(repo.git(&["status", "--porcelain"]), "");

    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    repo.write(".git/index.lock", "");
    let j = repo.wb(&["--json", "card", &id, "-m", "fine"]).ok().json();
    let w = j["warnings"].to_string();
    assert!(w.contains("written but not staged"), "{w}");
    assert!(w.contains("git add -A -f review/train/candidate"), "{w}");
    // the card is recorded and mirrored all the same
    assert_eq!(
        repo.read("review/train/candidate/card.md").trim_end(),
        record(&repo, &id, "card.md")
    );
    std::fs::remove_file(repo.path(".git/index.lock")).unwrap();
}

/// Each way of tampering with a committed mirror, committed on a branch from a good
/// state, against `verify` (the commit) and `doctor` (the working tree).
#[test]
fn verify_and_doctor_catch_each_tampering_of_the_layout() {
    let repo = train_repo();
    let a = presented(&repo, &["train"]);
    repo.wb(&["approve", &a, "--yes"]).ok();
    let b = presented(&repo, &["train", "-p", "train.lr=0.2"]);
    repo.git(&["commit", "-q", "-m", "approved a, presenting b"]);
    repo.wb(&["verify"]).ok();
    assert_eq!(mirror_check(&repo)["status"], "ok");
    let good = repo.git(&["rev-parse", "HEAD"]);
    let top = |f: &str| format!("review/train/{f}");
    let cand = |f: &str| format!("review/train/candidate/{f}");
    let copy = |from: &str, to: &str| repo.write(to, &repo.read(from));
    type Tamper<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, Tamper, String, &str)> = vec![
        (
            "a commit drops the approval",
            Box::new(|| std::fs::remove_file(repo.path(&top("approval.json"))).unwrap()),
            format!("review/train/approval.json is missing: the approved record of run {a} has it"),
            "error",
        ),
        (
            "the approved card edited",
            Box::new(|| repo.write(&top("card.md"), "# a better card\n")),
            format!("review/train/card.md differs from the records of run {a}"),
            "error",
        ),
        (
            "the candidate moved to the top level by hand",
            Box::new(|| {
                for f in ["manifest.json", "review.json", "card.md"] {
                    copy(&cand(f), &top(f));
                }
                std::fs::remove_file(repo.path(&top("approval.json"))).unwrap();
            }),
            format!("the top level shows run {b}, which is not approved"),
            "error",
        ),
        (
            "the candidate's card edited",
            Box::new(|| repo.write(&cand("card.md"), "# approve me\n")),
            format!("review/train/candidate/card.md differs from the records of run {b}"),
            "error",
        ),
        (
            "the candidate's manifest removed",
            Box::new(|| std::fs::remove_file(repo.path(&cand("manifest.json"))).unwrap()),
            "review/train/candidate/ holds mirrored files but no manifest.json".to_string(),
            "error",
        ),
        (
            "a forged approval beside the candidate",
            Box::new(|| copy(&top("approval.json"), &cand("approval.json"))),
            format!("review/train/candidate/approval.json differs from the records of run {b}"),
            "error",
        ),
        (
            "the candidate names a run nobody recorded",
            Box::new(|| {
                let m = repo.read(&cand("manifest.json"));
                repo.write(
                    &cand("manifest.json"),
                    &m.replace(&b, "20200101T000000Z-0000"),
                );
            }),
            "the mirror names run 20200101T000000Z-0000 but the records have no such run"
                .to_string(),
            "error",
        ),
        (
            "train's candidate under another stage",
            Box::new(|| {
                for f in ["manifest.json", "review.json", "card.md"] {
                    copy(&cand(f), &format!("review/report/candidate/{f}"));
                }
            }),
            "review/report/candidate/ holds a run of stage train, not of report".to_string(),
            "error",
        ),
        (
            "the approved run copied into candidate/",
            Box::new(|| {
                for f in TOP {
                    copy(&top(f), &cand(f));
                }
            }),
            format!("candidate/ shows run {a}, which is approved"),
            "warning",
        ),
    ];
    for (what, tamper, reason, severity) in cases {
        repo.git(&["checkout", "-q", "-B", "tampered", &good]);
        tamper();
        repo.git(&["add", "-A", "-f", "review"]);
        repo.git(&["commit", "-q", "-m", what]);
        let r = repo.wb(&["--json", "verify"]);
        let j = r.json();
        assert_eq!(
            r.code,
            if severity == "error" { 1 } else { 0 },
            "{what}: {j}"
        );
        let found =
            j["problems"].as_array().unwrap().iter().any(|p| {
                p["reason"].as_str().unwrap().contains(&reason) && p["severity"] == severity
            });
        assert!(found, "{what}: {reason} ({severity}) not in {j}");
        let c = mirror_check(&repo);
        assert_eq!(c["status"], "warn", "{what}: {c}");
        assert!(
            c["detail"].as_str().unwrap().contains(&reason),
            "{what}: {c}"
        );
        repo.git(&["checkout", "-q", "-f", "main"]);
        repo.git(&["clean", "-q", "-f", "-d", "-x", "review"]);
        repo.git(&["branch", "-q", "-D", "tampered"]);
    }
    // a newer approval the commit does not show yet lags: a warning, not an error
    repo.wb(&["approve", &b, "--yes"]).ok();
    repo.git(&["reset", "-q", "--hard"]);
    let j = repo.wb(&["--json", "verify"]).ok().json();
    let reasons = j["problems"].to_string();
    assert!(
        reasons.contains(&format!(
            "the top level shows run {a} but the approved run is now {b}"
        )),
        "{reasons}"
    );
    assert!(j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["severity"] == "warning"));
}

#[test]
fn a_mirror_directory_that_is_a_link_is_never_written_through() {
    let repo = train_repo();
    let outside = repo.home.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("card.md"), "not yours\n").unwrap();
    std::fs::create_dir_all(repo.path("review/train")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.path("review/train/candidate")).unwrap();
    repo.git(&["add", "review"]);
    repo.git(&["commit", "-q", "-m", "a link where the candidate goes"]);
    let r = repo.wb(&["--json", "run", "train"]).ok();
    let w = r.json()["warnings"].to_string();
    assert!(
        w.contains(
            "review/train/candidate is a symbolic link; the mirror is never written through one"
        ),
        "{w}"
    );
    let id = r.json()["run_id"].as_str().unwrap().to_string();
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", "fine"]).ok();
    // recorded all the same; the linked directory is as it was
    assert!(record(&repo, &id, "card.md").contains("## What ran"));
    let mut left: Vec<String> = std::fs::read_dir(&outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["card.md"]);
    assert_eq!(
        std::fs::read_to_string(outside.join("card.md")).unwrap(),
        "not yours\n"
    );
}

#[test]
fn a_decision_never_resolves_a_merge_conflict_in_the_mirror() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    // two branches committed different candidates: the merge leaves a conflict there
    let card = "review/train/candidate/card.md";
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write(card, "theirs\n");
    repo.git(&["add", "-f", card]);
    repo.git(&["commit", "-q", "-m", "their card"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write(card, "ours\n");
    repo.git(&["add", "-f", card]);
    repo.git(&["commit", "-q", "-m", "our card"]);
    assert_ne!(repo.git_run(&["merge", "-q", "other"]).code, 0);
    let j = repo.wb(&["--json", "card", &id, "-m", "fine"]).ok().json();
    let w = j["warnings"].to_string();
    assert!(
        w.contains(
            "review/train/candidate/card.md has an unresolved merge conflict; resolve it first"
        ),
        "{w}"
    );
    assert!(
        repo.git(&["ls-files", "-u"]).contains(card),
        "still unmerged"
    );
    assert_eq!(repo.read(card).trim_end(), record(&repo, &id, "card.md"));
}
