//! Every known way around a narrative's protection, tried through a real
//! `git commit` (the installed hook), then committed with `--no-verify` and caught by
//! `verify --range` — the check CI runs, which a local hook bypass cannot skip.

use crate::common::{pre_commit_framework, Repo, Run};
use crate::narratives::{commit_ok, commit_refused, reported, tamper};
use crate::run_json;

/// The repository of `reported()` with the report committed; returns it and that
/// commit (the base of the range `verify` checks).
fn committed() -> (Repo, String, String) {
    let (repo, id) = reported();
    repo.write(".pre-commit-config.yaml", PRE_COMMIT_CONFIG);
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    let base = repo.git(&["rev-parse", "HEAD"]);
    (repo, id, base)
}

fn verify(repo: &Repo, base: &str, format: &str) -> Run {
    repo.wb(&[
        "verify",
        "--range",
        &format!("{base}..HEAD"),
        "--format",
        format,
    ])
}

/// The pre-commit framework running our hook as a team would configure it.
const PRE_COMMIT_CONFIG: &str = "repos:\n  - repo: local\n    hooks:\n      - id: workbench-narratives\n        name: workbench narratives\n        entry: git-workbench hook pre-commit\n        language: system\n        always_run: true\n";

/// `pre-commit ARGS`: exit code and everything it printed.
fn pre_commit(repo: &Repo, args: &[&str]) -> (i32, String) {
    let r = pre_commit_framework(repo, args);
    (r.code, r.stdout + &r.stderr)
}

/// Stages everything, expects the pre-commit framework (on the staged files, as in a
/// commit) and the installed hook (a real `git commit`) to refuse with `needle`,
/// commits past them with `--no-verify`, and expects `verify` over the range to
/// refuse with `needle` too.
fn refused_everywhere(repo: &Repo, base: &str, needle: &str) {
    refused_everywhere_as(repo, base, needle, needle)
}

/// `refused_everywhere`, where the pre-commit framework refuses with `framework`
/// (it passes regular files only, so it sees another side of the same change).
fn refused_everywhere_as(repo: &Repo, base: &str, needle: &str, framework: &str) {
    repo.git(&["add", "-A"]);
    let (code, out) = pre_commit(repo, &["run"]);
    assert_eq!(code, 1, "pre-commit passed:\n{out}");
    assert!(
        out.contains(framework),
        "pre-commit lacks {framework:?}:\n{out}"
    );
    commit_refused(repo, &["commit", "-q", "-m", "attack"], needle);
    commit_ok(repo, &["commit", "-q", "--no-verify", "-m", "attack"]);
    let v = verify(repo, base, "text");
    assert_eq!(v.code, 1, "verify passed:\n{}", v.stdout);
    assert!(
        v.stdout.contains(needle),
        "verify lacks {needle:?}:\n{}",
        v.stdout
    );
    let j = repo.wb(&["--json", "verify", "--range", &format!("{base}..HEAD")]);
    assert_eq!(j.code, 1);
    assert_eq!(j.json()["ok"], false);
}

const STOPS: &str = "stops being a narrative in the same change";
const TAMPERED: &str = "differs from the approved rendering";

#[test]
fn negating_or_unspecifying_the_attribute_while_editing_is_refused() {
    for line in [
        "reports/summary.md -workbench-narrative",
        "reports/summary.md !workbench-narrative",
        "reports/*.md -workbench-narrative",
        "[attr]plain -workbench-narrative\nreports/summary.md plain",
    ] {
        let (repo, _, base) = committed();
        repo.write(
            ".gitattributes",
            &format!("reports/*.md workbench-narrative\n{line}\n"),
        );
        tamper(&repo);
        refused_everywhere(&repo, &base, TAMPERED);
    }
    let (repo, _, base) = committed();
    repo.write(
        ".gitattributes",
        "reports/*.md workbench-narrative\nreports/summary.md -workbench-narrative\n",
    );
    tamper(&repo);
    refused_everywhere(&repo, &base, STOPS);
}

#[test]
fn a_nested_attributes_file_cannot_unmark() {
    let (repo, _, base) = committed();
    repo.write(
        "reports/.gitattributes",
        "summary.md -workbench-narrative\n",
    );
    tamper(&repo);
    refused_everywhere(&repo, &base, STOPS);
}

#[test]
fn local_attribute_sources_never_weaken_enforcement() {
    let (repo, _, base) = committed();
    repo.write(
        ".git/info/attributes",
        "reports/summary.md -workbench-narrative\n",
    );
    repo.write("global-attributes", "* -workbench-narrative\n");
    repo.git(&["config", "core.attributesFile", "global-attributes"]);
    tamper(&repo);
    refused_everywhere(&repo, &base, TAMPERED);
    repo.wb(&["narrative", "check"]).fails(1, TAMPERED);
}

#[test]
fn a_renamed_or_copied_narrative_is_still_one() {
    // Renamed out of the marked folder, and edited.
    let (repo, _, base) = committed();
    repo.git(&["mv", "reports/summary.md", "results.md"]);
    let t = repo
        .read("results.md")
        .replace("| score | 0.75 |", "| score | 0.95 |");
    repo.write("results.md", &t);
    refused_everywhere(&repo, &base, "carries the narrative reports/summary.md");
    // Renamed inside the marked folder and edited: checked as a narrative.
    let (repo, _, base) = committed();
    repo.git(&["mv", "reports/summary.md", "reports/results.md"]);
    let t = repo
        .read("reports/results.md")
        .replace("| score | 0.75 |", "| score | 0.95 |");
    repo.write("reports/results.md", &t);
    refused_everywhere(&repo, &base, TAMPERED);
    // Copied to an unmarked path.
    let (repo, _, base) = committed();
    repo.write("notes.txt", &repo.read("reports/summary.md"));
    refused_everywhere(&repo, &base, "carries the narrative reports/summary.md");
    // A clean rename to a marked path goes through and is listed.
    let (repo, _, base) = committed();
    repo.git(&["mv", "reports/summary.md", "reports/final.md"]);
    commit_ok(&repo, &["commit", "-q", "-m", "rename"]);
    let v = verify(&repo, &base, "text").ok();
    assert!(
        v.stdout
            .contains("narrative reports/summary.md is now reports/final.md"),
        "{}",
        v.stdout
    );
}

#[test]
fn blocks_cannot_lose_their_markers_and_keep_their_text() {
    let strip = |t: &str| -> String {
        t.lines()
            .filter(|l| !l.contains("workbench:"))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    // Markers deleted, the approved text kept as prose.
    let (repo, _, base) = committed();
    repo.write(
        "reports/summary.md",
        &strip(&repo.read("reports/summary.md")),
    );
    refused_everywhere(
        &repo,
        &base,
        "lost its markers but its approved text remains",
    );
    // Markers renamed, a number changed.
    let (repo, _, base) = committed();
    let t = repo
        .read("reports/summary.md")
        .replace("workbench:begin", "note:begin")
        .replace("workbench:end", "note:end")
        .replace("| score | 0.75 |", "| score | 0.95 |");
    repo.write("reports/summary.md", &t);
    refused_everywhere(&repo, &base, "provenance line");
    // A zero-width space inside 'workbench'.
    let (repo, _, base) = committed();
    let t = repo
        .read("reports/summary.md")
        .replace("workbench:", "work\u{200b}bench:");
    repo.write("reports/summary.md", &t);
    refused_everywhere(&repo, &base, "invisible characters");
    // Only the provenance line pasted into prose.
    let (repo, _, base) = committed();
    let t = repo.read("reports/summary.md");
    let prov = t
        .lines()
        .find(|l| l.starts_with("_Approved by"))
        .unwrap()
        .to_string();
    repo.write("reports/summary.md", &format!("{t}\nAs noted: {prov}\n"));
    refused_everywhere(&repo, &base, "provenance line");
}

#[test]
fn removing_a_block_whole_and_unmarking_alone_pass_and_are_listed() {
    let (repo, id, base) = committed();
    // `narrative remove` takes the block whole.
    repo.wb(&[
        "narrative",
        "remove",
        "reports/summary.md",
        "--stage",
        "train",
    ])
    .ok();
    let t = repo.read("reports/summary.md");
    assert!(
        !t.contains("workbench:") && !t.contains("Approved by") && t.contains("Written by hand."),
        "{t}"
    );
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "drop the block"]);
    let v = verify(&repo, &base, "text").ok();
    assert!(
        v.stdout
            .contains(&format!("removed block of stage train (run {id})")),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains("blocks: 0 added, 0 changed, 1 removed"),
        "{}",
        v.stdout
    );

    // `narrative unmark`, committed on its own: accepted, and verify says so loudly.
    let (repo, _, base) = committed();
    repo.wb(&["narrative", "unmark", "reports/summary.md"]).ok();
    assert!(
        repo.read(".gitattributes")
            .contains("/summary.md -workbench-narrative")
            || repo
                .read("reports/.gitattributes")
                .contains("/summary.md -workbench-narrative")
    );
    repo.git(&["add", "-A"]);
    let o = repo.git_wb(&["commit", "-q", "-m", "unmark"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("reports/summary.md is unmarked"));
    // Now free prose: the next commit may edit it, and the range lists the unmark.
    tamper(&repo);
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "edit"]);
    let v = verify(&repo, &base, "text").ok();
    assert!(
        v.stdout
            .contains("PROTECTION DROPPED: reports/summary.md was unmarked (1 block(s)"),
        "{}",
        v.stdout
    );
    let md = verify(&repo, &base, "markdown").ok();
    assert!(
        md.stdout.contains("Protection dropped")
            && md.stdout.contains("`reports/summary.md` was unmarked"),
        "{}",
        md.stdout
    );
    let j = repo
        .wb(&["--json", "verify", "--range", &format!("{base}..HEAD")])
        .ok()
        .json();
    assert_eq!(j["summary"]["unmarked"][0], "reports/summary.md", "{j}");
    assert!(
        j["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "unmarked"),
        "{j}"
    );

    // Unmark and edit in one commit: refused.
    let (repo, _, base) = committed();
    repo.wb(&["narrative", "unmark", "reports/summary.md"]).ok();
    tamper(&repo);
    refused_everywhere(&repo, &base, STOPS);

    // Deleting the whole file is removing its blocks whole.
    let (repo, _, base) = committed();
    repo.git(&["rm", "-q", "reports/summary.md"]);
    commit_ok(&repo, &["commit", "-q", "-m", "delete"]);
    let v = verify(&repo, &base, "text").ok();
    assert!(v.stdout.contains("1 removed"), "{}", v.stdout);
}

#[test]
fn unmarking_in_one_commit_with_no_verify_and_editing_in_the_next_is_listed() {
    let (repo, _, base) = committed();
    repo.write(".gitattributes", "");
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "--no-verify", "-m", "quiet"]);
    tamper(&repo);
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "edit"]);
    let v = verify(&repo, &base, "text").ok();
    assert!(
        v.stdout.contains("PROTECTION DROPPED: reports/summary.md"),
        "{}",
        v.stdout
    );
}

#[test]
fn narrative_commands_are_honest_about_their_arguments() {
    let (repo, _, _) = committed();
    repo.wb(&["narrative", "check", "reports/missing.md"])
        .fails(2, "reports/missing.md: no such file");
    repo.write("notes.md", "just notes\n");
    repo.wb(&["narrative", "check", "notes.md"])
        .fails(2, "notes.md is not a narrative");
    repo.wb(&["narrative", "unmark", "notes.md"])
        .fails(2, "not marked");
    repo.wb(&[
        "narrative",
        "remove",
        "reports/summary.md",
        "--stage",
        "other",
    ])
    .fails(2, "no block matching");
    repo.wb(&["narrative", "check", "reports/summary.md"]).ok();
    // A name no plain pattern can spell, and a file with several blocks: refused,
    // nothing written.
    let before = (repo.read(".gitattributes"), repo.read("reports/summary.md"));
    repo.write("reports/two words.md", "prose\n");
    repo.wb(&["narrative", "unmark", "reports/two words.md"])
        .fails(2, "cannot be written as a plain gitattributes pattern");
    assert!(!repo.path("reports/.gitattributes").exists());
    let text = before.1.clone();
    repo.write("reports/summary.md", &format!("{text}\n{text}"));
    repo.wb(&["narrative", "remove", "reports/summary.md"])
        .fails(2, "has 2 blocks; say which to remove");
    assert_eq!(repo.read("reports/summary.md"), format!("{text}\n{text}"));
    assert_eq!(repo.read(".gitattributes"), before.0);
}

#[test]
fn the_pre_commit_framework_checks_the_files_it_is_given() {
    let (repo, _, _) = committed();
    tamper(&repo);
    // The working copy is tampered, the index is not: pre-commit means the files.
    let (code, out) = pre_commit(&repo, &["run", "--all-files"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(TAMPERED), "{out}");
    let (code, out) = pre_commit(&repo, &["run", "--files", "reports/summary.md"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(TAMPERED), "{out}");
    // An untouched file named alone passes.
    let (code, out) = pre_commit(&repo, &["run", "--files", "params.yaml"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_narrative_cannot_become_a_link_or_go_through_a_filter() {
    let (repo, _, base) = committed();
    let mut t = repo.read("reports/summary.md");
    t = t.replace("| score | 0.75 |", "| score | 0.95 |");
    repo.write("elsewhere.txt", &t);
    std::fs::remove_file(repo.path("reports/summary.md")).unwrap();
    std::os::unix::fs::symlink("../elsewhere.txt", repo.path("reports/summary.md")).unwrap();
    refused_everywhere_as(
        &repo,
        &base,
        "is a symbolic link",
        "carries the narrative reports/summary.md",
    );
    // git LFS (or any clean/smudge filter): the committed bytes are a pointer.
    let (repo, _, base) = committed();
    repo.write(
        ".gitattributes",
        "reports/*.md workbench-narrative\nreports/*.md filter=lfs diff=lfs merge=lfs -text\n",
    );
    refused_everywhere(&repo, &base, "goes through a filter");
}

#[test]
fn a_removed_blocks_text_cannot_move_to_another_file_as_prose() {
    let approved_line = |repo: &Repo| {
        repo.read("reports/summary.md")
            .lines()
            .find(|l| l.starts_with("Score 0.75"))
            .unwrap()
            .to_string()
    };
    for target in ["reports/other.md", "README.md"] {
        let (repo, _, base) = committed();
        let line = approved_line(&repo).replace("0.75", "0.95");
        repo.wb(&[
            "narrative",
            "remove",
            "reports/summary.md",
            "--stage",
            "train",
        ])
        .ok();
        repo.write(target, &format!("# Notes\n\n{line}\n"));
        refused_everywhere(
            &repo,
            &base,
            "removed from reports/summary.md reappears here",
        );
    }
}

#[test]
fn an_unmark_amended_with_an_edit_is_caught_by_verify() {
    // The hook compares with HEAD, which after the unmark commit no longer marks the
    // file, so `--amend` folds an edit into the unmark unseen; `verify` judges the
    // resulting commit against its parent and refuses it.
    let (repo, _, base) = committed();
    repo.wb(&["narrative", "unmark", "reports/summary.md"]).ok();
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "unmark"]);
    tamper(&repo);
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "--amend", "-m", "unmark"]);
    let v = verify(&repo, &base, "text");
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stdout.contains(STOPS), "{}", v.stdout);
}

/// The hook remembers blocks it found exactly right (`.git/workbench/block-cache`); a
/// remembered block is trusted only for the same content of the same record tip.
#[test]
fn a_remembered_block_is_trusted_only_for_its_exact_content_and_record() {
    let (repo, id) = reported();
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    let cache = repo.path(".git/workbench/block-cache");
    assert!(cache.exists(), "the hook remembered nothing");
    let restore = |repo: &Repo| {
        repo.git(&["checkout", "HEAD", "--", "reports/summary.md"]);
    };
    // an edited number in a remembered block
    tamper(&repo);
    repo.git(&["add", "-A"]);
    commit_refused(
        &repo,
        &["commit", "-q", "-m", "edit"],
        "differs from the approved rendering",
    );
    restore(&repo);
    // the cited run's ref moved back to before its approval, with plumbing
    let run_ref = format!("refs/workbench/runs/train/{id}");
    let tip = repo.git(&["rev-parse", &run_ref]).trim().to_string();
    repo.git(&["update-ref", &run_ref, &format!("{tip}~1")]);
    let prose = |repo: &Repo, text: &str| {
        let t = repo.read("reports/summary.md") + text;
        repo.write("reports/summary.md", &t);
        repo.git(&["add", "-A"]);
    };
    prose(&repo, "\nMore.\n");
    commit_refused(&repo, &["commit", "-q", "-m", "prose"], "not approved");
    // another approved run's record put under the cited run's ref (a replay)
    let other = run_json(&repo, &["train"]);
    repo.wb(&["review", &other]).ok();
    repo.wb(&["approve", &other, "--yes"]).ok();
    let other_tip = repo
        .git(&["rev-parse", &format!("refs/workbench/runs/train/{other}")])
        .trim()
        .to_string();
    repo.git(&["update-ref", &run_ref, &other_tip]);
    let err = repo.git_wb(&["commit", "-q", "-m", "prose"]);
    assert!(!err.status.success(), "a replayed record passed the hook");
    // the record restored: the remembered block passes again, and still says that a
    // newer run is approved (an error when narratives are strict)
    repo.git(&["update-ref", &run_ref, &tip]);
    repo.git(&["config", "workbench.strictNarrative", "true"]);
    commit_refused(
        &repo,
        &["commit", "-q", "-m", "prose"],
        "has a newer approved run",
    );
    repo.git(&["config", "workbench.strictNarrative", "false"]);
    commit_ok(&repo, &["commit", "-q", "-m", "prose"]);
    // verify judges afresh: it neither reads nor writes the cache
    std::fs::remove_file(&cache).unwrap();
    repo.wb(&["verify", "--range", "HEAD~1..HEAD"]).ok();
    assert!(!cache.exists(), "verify wrote the block cache");
}
