//! Narratives: blocks, sync, the pre-commit hook through real `git commit`, verify.

use crate::common::Repo;
use crate::run_json;

/// A repository with an approved run of `train`, a marked report with its block, the
/// hook installed and git-workbench on PATH for it.
pub(crate) fn reported() -> (Repo, String) {
    let repo = crate::train_repo();
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", "Score 0.75 is fine."]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    repo.write(".gitattributes", "reports/*.md workbench-narrative\n");
    repo.write(
        "reports/summary.md",
        "# Summary\n\nWritten by hand.\n\n<!-- workbench:slot stage=train -->\n\nMore prose.\n",
    );
    repo.wb(&[
        "narrative",
        "new",
        "train",
        "reports/summary.md",
        "--metrics",
        "score",
    ])
    .ok();
    repo.wb(&["hooks", "install"]).ok();
    (repo, id)
}

pub(crate) fn commit_ok(repo: &Repo, args: &[&str]) {
    let o = repo.git_wb(args);
    assert!(
        o.status.success(),
        "git {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

pub(crate) fn commit_refused(repo: &Repo, args: &[&str], needle: &str) -> String {
    let o = repo.git_wb(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "git {args:?} should be refused");
    assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    err
}

pub(crate) fn tamper(repo: &Repo) {
    let t = repo
        .read("reports/summary.md")
        .replace("| score | 0.75 |", "| score | 0.95 |");
    repo.write("reports/summary.md", &t);
}

#[test]
fn the_hook_guards_every_index_mode() {
    let (repo, id) = reported();
    let text = repo.read("reports/summary.md");
    assert!(
        text.contains(&format!(
            "<!-- workbench:begin stage=train run={id} metrics=score -->"
        )),
        "{text}"
    );
    assert!(text.contains("Score 0.75 is fine.") && text.contains("| score | 0.75 |"));
    assert!(text.contains("Written by hand.") && text.contains("More prose."));
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);

    // 1. plain commit of a staged tampered file
    tamper(&repo);
    repo.git(&["add", "reports/summary.md"]);
    let err = commit_refused(
        &repo,
        &["commit", "-q", "-m", "tampered"],
        "differs from the approved rendering",
    );
    assert!(err.contains("reports/summary.md:"), "{err}");
    assert!(
        err.contains("-| score | 0.75 |") && err.contains("+| score | 0.95 |"),
        "a diff: {err}"
    );
    assert!(err.contains("git workbench narrative sync reports/summary.md"));
    repo.git(&["reset", "-q", "reports/summary.md"]);
    // 2. commit -a (index.lock)
    commit_refused(
        &repo,
        &["commit", "-q", "-a", "-m", "tampered"],
        "differs from the approved rendering",
    );
    // 3. commit <paths> (next-index-*.lock)
    commit_refused(
        &repo,
        &["commit", "-q", "-m", "tampered", "--", "reports/summary.md"],
        "differs",
    );
    // prose outside blocks is the human's own
    repo.wb(&["narrative", "sync"]).ok();
    let t = repo
        .read("reports/summary.md")
        .replace("More prose.", "Different prose.");
    repo.write("reports/summary.md", &t);
    commit_ok(&repo, &["commit", "-q", "-a", "-m", "prose"]);
    // the hook never touches the index or the working tree
    tamper(&repo);
    repo.git(&["add", "reports/summary.md"]);
    let staged = repo.git(&["diff", "--cached", "--stat"]);
    let on_disk = repo.read("reports/summary.md");
    commit_refused(&repo, &["commit", "-q", "-m", "x"], "differs");
    assert_eq!(repo.git(&["diff", "--cached", "--stat"]), staged);
    assert_eq!(repo.read("reports/summary.md"), on_disk);
    repo.fsck();
}

#[test]
fn unapproved_and_foreign_runs_and_bad_markers_are_refused() {
    let (repo, approved) = reported();
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    let unapproved = run_json(&repo, &["train"]);
    let report_run = run_json(&repo, &["report"]);
    let block = |stage: &str, run: &str| {
        format!(
            "<!-- workbench:begin stage={stage} run={run} -->\nwhatever\n<!-- workbench:end -->\n"
        )
    };
    for (text, needle) in [
        (block("train", &unapproved), "is executed, not approved"),
        (block("train", &report_run), "belongs to stage report"),
        (
            block("train", "20200101T000000Z-0000"),
            "not in this repository's records",
        ),
        (
            "<!-- workbench:begin stage=train -->\n".to_string(),
            "needs run=",
        ),
        (
            format!("<!-- workbench:begin stage=train run={approved} -->\nx\n"),
            "no end marker",
        ),
    ] {
        repo.write("reports/other.md", &text);
        repo.git(&["add", "reports/other.md"]);
        commit_refused(&repo, &["commit", "-q", "-m", "x"], needle);
        repo.git(&["rm", "-q", "--cached", "reports/other.md"]);
    }
    // a commit cannot unmark its own narrative by editing .gitattributes
    repo.write(".gitattributes", "");
    repo.write("reports/other.md", &block("train", &unapproved));
    repo.git(&["add", "-A"]);
    commit_refused(&repo, &["commit", "-q", "-m", "sneaky"], "not approved");
}

#[test]
fn binary_deleted_renamed_and_unrelated_files() {
    let (repo, _) = reported();
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    std::fs::write(repo.path("reports/blob.md"), [0xff, 0xfe, 0x00, 0x01]).unwrap();
    repo.git(&["add", "reports/blob.md"]);
    commit_refused(&repo, &["commit", "-q", "-m", "bin"], "not UTF-8");
    repo.git(&["rm", "-q", "--cached", "reports/blob.md"]);
    std::fs::remove_file(repo.path("reports/blob.md")).unwrap();
    repo.git(&["mv", "reports/summary.md", "reports/final.md"]);
    commit_ok(&repo, &["commit", "-q", "-m", "rename"]);
    repo.git(&["rm", "-q", "reports/final.md"]);
    commit_ok(&repo, &["commit", "-q", "-m", "delete"]);
    repo.write("notes.txt", "unrelated");
    repo.git(&["add", "notes.txt"]);
    commit_ok(&repo, &["commit", "-q", "-m", "unrelated"]);
}

#[test]
fn a_repository_without_records_passes_quietly_until_a_narrative_needs_them() {
    let repo = Repo::with(
        "[stages.a]\ncmd = \"true\"\n",
        &[(".gitattributes", "*.md workbench-narrative\n")],
    );
    repo.wb(&["hooks", "install"]).ok();
    repo.write("notes.txt", "x");
    repo.git(&["add", "notes.txt"]);
    let o = repo.git_wb(&["commit", "-q", "-m", "x"]);
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "quiet: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    repo.write(
        "r.md",
        "<!-- workbench:begin stage=a run=20260308T142233Z-1e2a -->\nx\n<!-- workbench:end -->\n",
    );
    repo.git(&["add", "r.md"]);
    commit_refused(
        &repo,
        &["commit", "-q", "-m", "x"],
        "fetch the workbench refs",
    );
}

/// Issue 10, item 8: the first commit of a repository (an unborn branch, no HEAD to
/// compare with) goes through the installed hook, however it was installed.
#[test]
fn the_first_commit_of_a_new_repository_goes_through_the_hook() {
    let fresh = |install: &[&str]| {
        let repo = Repo::bare_dir();
        repo.git(&["init", "-q", "-b", "main"]);
        repo.wb(install).ok();
        assert!(repo
            .read(".git/hooks/pre-commit")
            .contains("git-workbench hook pre-commit"));
        repo
    };
    let first_commit = |repo: &Repo| {
        repo.git(&["add", "-A"]);
        let o = repo.git_wb(&["commit", "-q", "-m", "first"]);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{err}");
        assert!(err.is_empty(), "quiet: {err}");
        assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]), "1");
    };
    // no narrative files at all, the hook from `init --hooks`
    let repo = fresh(&["init", "--hooks"]);
    repo.write("notes.txt", "x\n");
    first_commit(&repo);
    // a narrative file without result blocks, the hook from `hooks install`
    let repo = fresh(&["hooks", "install"]);
    repo.write(".gitattributes", "*.md workbench-narrative\n");
    repo.write("report.md", "# Report\n\nNo results yet.\n");
    first_commit(&repo);
    // the hook did run: a block naming a run this repository has no record of is
    // refused, on the first commit too
    let repo = fresh(&["hooks", "install"]);
    repo.write(".gitattributes", "*.md workbench-narrative\n");
    repo.write(
        "report.md",
        "<!-- workbench:begin stage=a run=20260308T142233Z-1e2a -->\nx\n<!-- workbench:end -->\n",
    );
    repo.git(&["add", "-A"]);
    commit_refused(
        &repo,
        &["commit", "-q", "-m", "first"],
        "is not in this repository's records",
    );
    assert!(repo.git_run(&["rev-parse", "-q", "--verify", "HEAD"]).code != 0);
}

#[test]
fn hooks_install_keeps_existing_hooks_and_honours_hooks_path() {
    let repo = Repo::with("[stages.a]\ncmd = \"true\"\n", &[]);
    let hook = repo.path(".git/hooks/pre-commit");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho user-hook-ran >&2\n").unwrap();
    repo.wb(&["hooks", "install"]).ok();
    let once = std::fs::read_to_string(&hook).unwrap();
    repo.wb(&["hooks", "install"]).ok();
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        once,
        "install twice = install once"
    );
    repo.write("x.txt", "1");
    repo.git(&["add", "x.txt"]);
    let o = repo.git_wb(&["commit", "-q", "-m", "x"]);
    assert!(o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("user-hook-ran"),
        "the user's hook still runs"
    );
    repo.wb(&["hooks", "uninstall"]).ok();
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho user-hook-ran >&2\n"
    );

    // core.hooksPath
    repo.git(&["config", "core.hooksPath", "my-hooks"]);
    let r = repo.wb(&["--json", "hooks", "install"]).ok().json();
    assert!(
        r["hook"].as_str().unwrap().ends_with("my-hooks/pre-commit"),
        "{r}"
    );
    assert!(repo.path("my-hooks/pre-commit").is_file());
    // husky
    repo.git(&["config", "core.hooksPath", ".husky/_"]);
    std::fs::create_dir_all(repo.path(".husky/_")).unwrap();
    repo.write(".husky/pre-commit", "npm test\n");
    repo.wb(&["hooks", "install"]).ok();
    let husky = repo.read(".husky/pre-commit");
    assert!(
        husky.contains("git-workbench hook pre-commit") && husky.contains("npm test"),
        "{husky}"
    );
    repo.wb(&["hooks", "uninstall"]).ok();
    assert!(!repo.read(".husky/pre-commit").contains("git-workbench"));

    // a linked worktree shares the hook
    repo.git(&["config", "--unset", "core.hooksPath"]);
    let wt = repo.root.parent().unwrap().join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap()]);
    let r = repo.wb_in(&wt, &["--json", "hooks", "install"]).ok().json();
    assert_eq!(
        std::path::Path::new(r["hook"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        hook.canonicalize().unwrap()
    );
}

#[test]
fn sync_advances_only_when_asked() {
    let (repo, first) = reported();
    let second = run_json(&repo, &["train", "-p", "train.lr=0.2"]);
    repo.wb(&["review", &second]).ok();
    repo.wb(&["card", &second, "-m", "Better."]).ok();
    repo.wb(&["approve", &second, "--yes"]).ok();
    let r = repo.wb(&["narrative", "check"]);
    assert_eq!(r.code, 0, "outdated is a warning: {}", r.stderr);
    assert!(
        r.stderr.contains(&format!("newer approved run, {second}")),
        "{}",
        r.stderr
    );
    repo.git(&["config", "workbench.strictNarrative", "true"]);
    repo.wb(&["narrative", "check"])
        .fails(1, "newer approved run");
    let r = repo.wb(&["narrative", "sync"]).ok();
    assert!(r.stderr.contains("outdated"), "{}", r.stderr);
    assert!(repo.read("reports/summary.md").contains(&first));
    repo.wb(&["narrative", "sync", "--advance"]).ok();
    let text = repo.read("reports/summary.md");
    assert!(
        text.contains(&second) && !text.contains(&first) && text.contains("Better."),
        "{text}"
    );
    repo.wb(&["narrative", "check"]).ok();
}

#[test]
fn verify_catches_no_verify_commits_mirror_edits_and_unsigned_approvals() {
    let (repo, _) = reported();
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.wb(&["verify"]).ok();
    // a tampered narrative committed with --no-verify
    tamper(&repo);
    commit_ok(
        &repo,
        &["commit", "-q", "-a", "--no-verify", "-m", "tampered"],
    );
    repo.wb(&["narrative", "sync"]).ok();
    commit_ok(&repo, &["commit", "-q", "-a", "-m", "fixed"]);
    repo.wb(&["verify"]).ok();
    let range = format!("{base}..HEAD");
    let r = repo.wb(&["--json", "verify", "--range", &range]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let j = r.json();
    assert_eq!(j["commits"].as_array().unwrap().len(), 2);
    assert!(
        j["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("differs"),
        "{j}"
    );
    let md = repo
        .wb(&["verify", "--range", &range, "--format", "markdown"])
        .stdout;
    assert!(md.starts_with("## git-workbench verify: ❌"), "{md}");
    assert!(
        md.contains("| reports/summary.md:") && md.contains("```diff"),
        "{md}"
    );

    // a hand-edited mirror file
    let approval = repo
        .read("review/train/approval.json")
        .replace("\"note\": null", "\"note\": \"edited\"");
    repo.write("review/train/approval.json", &approval);
    commit_ok(&repo, &["commit", "-q", "-a", "-m", "edit mirror"]);
    let r = repo.wb(&["verify"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("review/train/approval.json differs from the records"),
        "{}",
        r.stdout
    );
    repo.git(&[
        "checkout",
        "-q",
        "HEAD~1",
        "--",
        "review/train/approval.json",
    ]);
    commit_ok(&repo, &["commit", "-q", "-a", "-m", "restore mirror"]);
    repo.wb(&["verify"]).ok();

    // approved bytes changed on disk
    let run_dir = std::fs::read_dir(repo.path("runs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(run_dir.join("out.csv"), "changed\n").unwrap();
    let r = repo.wb(&["verify"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("changed on disk after the approval"),
        "{}",
        r.stdout
    );
    std::fs::remove_file(run_dir.join("out.csv")).unwrap();

    // requireSigned: the approval is not signed
    repo.write(".workbench/allowed_signers", "ada@example.com namespaces=\"git\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n");
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "signers"]);
    let r = repo.wb(&["verify", "--require-signed"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("is unsigned"), "{}", r.stdout);
}

/// The pre-commit framework path: this repository as a hook repository, its
/// `workbench-narratives-from-source` hook (`language: rust`, so pre-commit builds
/// git-workbench with cargo), `pre-commit run --all-files`. The hook that builds
/// nothing is tested from the wheel (tests/cli/wheel.rs).
/// pre-commit comes from the test virtualenv (`.ci/deps`); without it the test fails.
#[test]
fn the_pre_commit_framework_runs_the_hook() {
    let pre_commit = crate::common::venv_tool("pre-commit");
    let (repo, _) = reported();
    repo.wb(&["hooks", "uninstall"]).ok();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "report"]);
    let project = env!("CARGO_MANIFEST_DIR");
    let rev = String::from_utf8(
        std::process::Command::new("git")
            .args(["-C", project, "rev-parse", "HEAD"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    repo.write(
        ".pre-commit-config.yaml",
        &format!("repos:\n  - repo: {project}\n    rev: {}\n    hooks:\n      - id: workbench-narratives-from-source\n", rev.trim()),
    );
    repo.git(&["add", ".pre-commit-config.yaml"]);
    // pre-commit builds the hook with cargo: give it the real toolchain and a cache
    // that survives between test runs.
    let real_home = std::env::var("HOME").unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or(format!("{real_home}/.cargo"));
    let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or(format!("{real_home}/.rustup"));
    let cache = std::path::Path::new(project)
        .join("target")
        .join("pre-commit-home");
    let run = |repo: &Repo| {
        repo.cmd(pre_commit.to_str().unwrap(), &["run", "--all-files"])
            .env("PRE_COMMIT_HOME", &cache)
            .env("CARGO_HOME", &cargo_home)
            .env("RUSTUP_HOME", &rustup_home)
            .output()
            .unwrap()
    };
    tamper(&repo);
    repo.git(&["add", "reports/summary.md"]);
    let o = run(&repo);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("differs from the approved rendering"),
        "{text}"
    );
    repo.wb(&["narrative", "sync"]).ok();
    repo.git(&["add", "reports/summary.md"]);
    let o = run(&repo);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    // a tampered narrative that is already committed is caught by --all-files too
    tamper(&repo);
    repo.git(&["commit", "-q", "-a", "--no-verify", "-m", "tampered"]);
    assert_eq!(run(&repo).status.code(), Some(1));
}

#[test]
fn init_hooks_installs_and_verify_walks_merges() {
    let (repo, _) = reported();
    repo.wb(&["hooks", "uninstall"]).ok();
    let r = repo.wb(&["init", "--hooks"]).ok();
    assert!(
        r.stdout.contains("installed the pre-commit check in"),
        "{}",
        r.stdout
    );
    assert!(repo
        .read(".git/hooks/pre-commit")
        .contains("git-workbench hook pre-commit"));
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    let base = repo.git(&["rev-parse", "HEAD"]);
    // a side branch tampers with --no-verify, and is merged
    repo.git(&["checkout", "-q", "-b", "side"]);
    tamper(&repo);
    commit_ok(
        &repo,
        &["commit", "-q", "-a", "--no-verify", "-m", "side: tampered"],
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.write("other.txt", "x");
    repo.git(&["add", "other.txt"]);
    commit_ok(&repo, &["commit", "-q", "-m", "main: other"]);
    commit_ok(
        &repo,
        &[
            "merge",
            "-q",
            "--no-ff",
            "--no-verify",
            "-m",
            "merge side",
            "side",
        ],
    );
    let j = repo
        .wb(&["--json", "verify", "--range", &format!("{base}..HEAD")])
        .json();
    assert_eq!(
        j["commits"].as_array().unwrap().len(),
        3,
        "side, main and the merge: {j}"
    );
    assert_eq!(j["ok"], false);
    let bad: Vec<&str> = j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["commit"].as_str().unwrap())
        .collect();
    assert!(
        bad.len() >= 2,
        "the side commit and the merge both carry the tampered block: {j}"
    );
}

/// One stage's approved records committed under another stage's name in review/ would
/// pass as that stage's; verify and doctor refuse them.
#[test]
fn a_mirror_under_another_stage_is_refused() {
    let (repo, _) = reported();
    for f in ["manifest.json", "review.json", "approval.json", "card.md"] {
        repo.write(
            &format!("review/report/{f}"),
            &repo.read(&format!("review/train/{f}")),
        );
    }
    // -f: copied by hand, the files are untracked mirror files, which are ignored
    repo.git(&["add", "-f", "review/report"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    let r = repo.wb(&["verify"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("review/report/ holds a run of stage train, not of report"),
        "{}",
        r.stdout
    );
    // (doctor also fails the hook: the test PATH has no git-workbench)
    let doctor = repo.wb(&["--json", "doctor"]).json();
    let mirror = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "review mirror")
        .unwrap()
        .clone();
    assert_eq!(mirror["status"], "warn");
    assert!(
        mirror["detail"].as_str().unwrap().contains("not of report"),
        "{mirror}"
    );
}
