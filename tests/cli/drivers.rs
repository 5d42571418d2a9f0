//! The workbench-table git drivers, driven by real git: `git diff`, `git log -p`,
//! `git show --ext-diff`, renames, and `git merge` through the installed merge driver.

use crate::common::Repo;
use crate::{run_json, train_repo};

const ATTRS: &str = "runs/comparison.csv diff=workbench-table merge=workbench-table\n";
const HEADER: &str = "run_id,stage,started_at,state,params.lr,metrics.auc\n";

fn git_ok(repo: &Repo, args: &[&str]) -> String {
    let o = repo.git_wb(args);
    assert!(
        o.status.success(),
        "git {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The text with runs of spaces collapsed, so table assertions do not depend on
/// column widths.
fn squash(s: &str) -> String {
    s.split('\n')
        .map(|l| {
            l.split(' ')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A repository with the drivers configured and a committed two-row table.
fn table_repo() -> Repo {
    let repo = Repo::with("", &[(".gitattributes", ATTRS)]);
    repo.wb(&["init"]).ok();
    repo.write(
        "runs/comparison.csv",
        &format!("{HEADER}a,train,t1,executed,0.1,0.5\nb,train,t2,executed,0.2,0.6\n"),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "table"]);
    repo
}

#[test]
fn init_configures_both_drivers_once() {
    let repo = Repo::with("", &[]);
    let first = repo.wb(&["--json", "init"]).ok().json();
    let keys: Vec<&str> = first["git_config"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    for k in [
        "diff.workbench-table.command",
        "diff.workbench-table.textconv",
        "diff.workbench-table.trustexitcode",
        "merge.workbench-table.driver",
    ] {
        assert!(
            keys.iter().any(|x| x.eq_ignore_ascii_case(k)),
            "{k}: {keys:?}"
        );
    }
    let merge = repo.git(&["config", "merge.workbench-table.driver"]);
    assert!(
        merge.contains("git-workbench driver merge \"$@\""),
        "{merge}"
    );
    assert!(merge.ends_with("; f %O %A %B %L %P"), "{merge}");
    assert_eq!(
        repo.git(&["config", "--bool", "diff.workbench-table.trustExitCode"]),
        "true"
    );
    let again = repo.wb(&["--json", "init"]).ok().json();
    assert!(again["git_config"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["action"] == "unchanged"));
}

#[test]
fn git_diff_log_and_show_render_the_keyed_table() {
    let repo = table_repo();
    // reorder rows, reformat a number, change one value, add a row
    repo.write(
        "runs/comparison.csv",
        &format!(
            "{HEADER}c,train,t3,executed,0.3,0.7\nb,train,t2,executed,0.20,0.6\na,train,t1,approved,0.1,0.5\n"
        ),
    );
    let d = squash(&git_ok(&repo, &["diff"]));
    assert!(
        d.starts_with("diff --workbench a/runs/comparison.csv b/runs/comparison.csv\n"),
        "{d}"
    );
    assert!(
        d.contains("| a | changed | state | executed | approved |"),
        "{d}"
    );
    assert!(
        d.contains("| c | added | | | stage=train started_at=t3 state=executed lr=0.3 auc=0.7 |"),
        "{d}"
    );
    assert!(
        !d.contains("| b "),
        "a reformatted number is not a change:\n{d}"
    );
    assert!(d.contains("1 added, 0 removed, 1 changed"), "{d}");
    // trustExitCode feeds --exit-code / --quiet
    assert_eq!(repo.git_wb(&["diff", "--exit-code"]).status.code(), Some(1));
    assert_eq!(repo.git_wb(&["diff", "--quiet"]).status.code(), Some(1));
    repo.git(&["checkout", "--", "runs/comparison.csv"]);
    assert_eq!(repo.git_wb(&["diff", "--exit-code"]).status.code(), Some(0));

    repo.write(
        "runs/comparison.csv",
        &format!("{HEADER}a,train,t1,approved,0.1,0.5\nb,train,t2,executed,0.2,0.65\n"),
    );
    repo.git(&["commit", "-q", "-am", "approve a"]);
    // log -p and show use textconv: one line per cell, so the hunk names run and column
    let log = git_ok(&repo, &["log", "-p", "-1"]);
    assert!(
        log.contains("-a  state = executed\n+a  state = approved\n"),
        "{log}"
    );
    assert!(
        log.contains("-b  metrics.auc = 0.6\n+b  metrics.auc = 0.65\n"),
        "{log}"
    );
    let show = squash(&git_ok(&repo, &["show", "--ext-diff", "HEAD"]));
    assert!(
        show.contains("| b | changed | metrics.auc | 0.6 | 0.65 | +0.05 (+8.3%) |"),
        "{show}"
    );
    // a rename hands the driver nine arguments; the new name is shown
    repo.git(&["mv", "runs/comparison.csv", "runs/table.csv"]);
    repo.write(
        ".gitattributes",
        "runs/*.csv diff=workbench-table merge=workbench-table\n",
    );
    let d = git_ok(&repo, &["diff", "--cached", "-M", "--", "runs/"]);
    assert!(
        d.contains("diff --workbench a/runs/comparison.csv b/runs/table.csv"),
        "{d}"
    );
}

#[test]
fn a_file_that_is_not_a_keyed_table_gets_a_line_diff_not_a_failure() {
    let repo = table_repo();
    repo.write("runs/comparison.csv", "a,b\n1,2,3\n");
    let d = git_ok(&repo, &["diff"]);
    assert!(d.contains("not a keyed table"), "{d}");
    assert!(d.contains("+1,2,3"), "{d}");
    // textconv never fails either: the text passes through
    repo.git(&["commit", "-q", "-am", "ragged"]);
    let log = git_ok(&repo, &["log", "-p", "-1"]);
    assert!(log.contains("+1,2,3"), "{log}");
}

/// Two clones each run the stage and commit their comparison table; pulling one
/// into the other merges the tables by run id without a conflict.
#[test]
fn git_merge_of_two_clones_that_added_runs_is_clean() {
    let upstream = train_repo();
    upstream.write(".gitattributes", ATTRS);
    upstream.wb(&["init"]).ok();
    let base = run_json(&upstream, &["train"]);
    upstream.wb(&["compare", "-o", "runs/comparison.csv"]).ok();
    upstream.git(&["add", ".gitattributes", "runs/comparison.csv"]);
    upstream.git(&["commit", "-q", "-m", "base table"]);

    let clone = |lr: &str| {
        let c = Repo::bare_dir();
        c.git(&["clone", "-q", upstream.root.to_str().unwrap(), "."]);
        c.wb(&["init"]).ok();
        // the run records travel with the clone (what `git workbench sync` will do)
        let from = upstream.root.to_str().unwrap();
        c.git(&["fetch", "-q", from, "refs/workbench/*:refs/workbench/*"]);
        let id = run_json(&c, &["train", "-p", &format!("train.lr={lr}")]);
        c.wb(&["compare", "-o", "runs/comparison.csv"]).ok();
        c.git(&["commit", "-q", "-am", &format!("run lr={lr}")]);
        (c, id)
    };
    let (ada, ada_run) = clone("0.2");
    let (bob, bob_run) = clone("0.3");
    ada.git(&["fetch", "-q", bob.root.to_str().unwrap(), "main:bob"]);
    git_ok(&ada, &["merge", "-q", "--no-edit", "bob"]);
    assert_eq!(ada.git(&["ls-files", "-u"]), "", "no unmerged paths");
    let merged = ada.read("runs/comparison.csv");
    let mut rows: Vec<&str> = merged.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{merged}");
    let ids: Vec<&str> = rows.iter().map(|r| r.split(',').next().unwrap()).collect();
    let mut sorted = vec![base.as_str(), ada_run.as_str(), bob_run.as_str()];
    sorted.sort();
    assert_eq!(ids, sorted, "rows in run-id order, as compare writes them");
    rows.retain(|r| r.starts_with(&bob_run));
    assert!(rows[0].contains(",0.3,"), "{merged}");
    // the merged table is what compare writes once bob's records are fetched too
    ada.git(&[
        "fetch",
        "-q",
        bob.root.to_str().unwrap(),
        "refs/workbench/*:refs/workbench/*",
    ]);
    let fresh = ada.wb(&["compare", "--format", "csv"]).ok().stdout;
    assert_eq!(fresh, merged);
    ada.fsck();
}

#[test]
fn a_true_conflict_stays_a_conflict_with_both_values() {
    let repo = table_repo();
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write(
        "runs/comparison.csv",
        &format!("{HEADER}a,train,t1,rejected,0.1,0.5\nb,train,t2,executed,0.2,0.6\n"),
    );
    repo.git(&["commit", "-q", "-am", "reject a"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        "runs/comparison.csv",
        &format!(
            "{HEADER}a,train,t1,approved,0.1,0.5\nb,train,t2,executed,0.2,0.6\nc,train,t3,executed,0.3,0.7\n"
        ),
    );
    repo.git(&["commit", "-q", "-am", "approve a, add c"]);
    let o = repo.git_wb(&["merge", "--no-edit", "other"]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("run_id a: state: ours \"approved\", theirs \"rejected\""),
        "{stderr}"
    );
    assert!(repo
        .git(&["ls-files", "-u"])
        .contains("runs/comparison.csv"));
    assert_eq!(
        repo.read("runs/comparison.csv"),
        format!(
            "{HEADER}<<<<<<< ours\na,train,t1,approved,0.1,0.5\n=======\na,train,t1,rejected,0.1,0.5\n>>>>>>> theirs\nb,train,t2,executed,0.2,0.6\nc,train,t3,executed,0.3,0.7\n"
        )
    );
    // the analyst resolves it and the merge completes
    repo.write(
        "runs/comparison.csv",
        &format!(
            "{HEADER}a,train,t1,approved,0.1,0.5\nb,train,t2,executed,0.2,0.6\nc,train,t3,executed,0.3,0.7\n"
        ),
    );
    repo.git(&["add", "runs/comparison.csv"]);
    git_ok(&repo, &["commit", "-q", "--no-edit"]);
    repo.fsck();
}

#[test]
fn a_marked_file_that_is_not_a_table_falls_back_to_a_line_merge() {
    let repo = table_repo();
    repo.write("runs/comparison.csv", "just,text\nline one\n");
    repo.git(&["commit", "-q", "-am", "not a table"]);
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("runs/comparison.csv", "just,text\nline one\nline two\n");
    repo.git(&["commit", "-q", "-am", "theirs"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.write("runs/comparison.csv", "just,text,more\nline one\n");
    repo.git(&["commit", "-q", "-am", "ours"]);
    let o = repo.git_wb(&["merge", "--no-edit", "other"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("merging runs/comparison.csv line by line"),
        "{stderr}"
    );
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert_eq!(
        repo.read("runs/comparison.csv"),
        "just,text,more\nline one\nline two\n"
    );
}

/// Without git-workbench on PATH (a collaborator who has not installed it), git still
/// diffs, shows and merges the marked files as text instead of failing.
#[test]
fn without_git_workbench_on_path_git_falls_back_to_text() {
    let repo = Repo::with(
        "",
        &[(
            ".gitattributes",
            "*.csv diff=workbench-table merge=workbench-table\n",
        )],
    );
    repo.wb(&["init"]).ok();
    let path = "my table.csv"; // a space: %P and the temp files stay one argument each
    repo.write(path, "run_id,x\na,1\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "t"]);
    repo.write(path, "run_id,x\na,2\n");
    // repo.git runs git with the test's PATH, which lacks the built binary
    let d = repo.git_run(&["diff"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(d.stdout.contains("-a,1\n+a,2"), "{}", d.stdout);
    assert_eq!(repo.git_run(&["diff", "--exit-code"]).code, 1);
    repo.git(&["commit", "-q", "-am", "two"]);
    let log = repo.git(&["log", "-p", "-1"]);
    assert!(log.contains("-a,1\n+a,2"), "{log}");
    // a line merge of two branches that each added a row at the end conflicts as
    // text would, and the file has git's markers; nothing is lost
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write(path, "run_id,x\na,2\nb,3\n");
    repo.git(&["commit", "-q", "-am", "b"]);
    repo.git(&["checkout", "-q", "-"]);
    repo.write(path, "run_id,x\na,2\nc,4\n");
    repo.git(&["commit", "-q", "-am", "c"]);
    let m = repo.git_run(&["merge", "--no-edit", "other"]);
    assert_eq!(m.code, 1, "{}{}", m.stdout, m.stderr);
    let merged = repo.read(path);
    assert!(
        merged.contains("<<<<<<<") && merged.contains("b,3") && merged.contains("c,4"),
        "{merged}"
    );
    // with git-workbench on PATH the same merge is clean
    repo.git(&["merge", "--abort"]);
    let o = repo.git_wb(&["merge", "--no-edit", "other"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(repo.read(path), "run_id,x\na,2\nb,3\nc,4\n");
}
