//! The CI recipes (examples/ci/, docs/ci.md): linted with actionlint (with
//! shellcheck) and yamllint, and their scripts run as written, in a shallow clone of
//! a bare remote holding a pull request, with the binary where a cache hit puts it.
//! They fetch only the history the range needs and the records, verify, and post the
//! summary; a tampered pull request fails.

use crate::common::{fixed_env, require_program, venv_tool, Repo, BIN};
use crate::narratives::{reported, tamper};
use crate::run_json;
use crate::wheel::output;
use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROJECT: &str = env!("CARGO_MANIFEST_DIR");
const GITHUB: &str = "examples/ci/github-workflow.yml";
const GITLAB: &str = "examples/ci/gitlab-ci.yml";
/// Commits on main before the pull request forks: a full clone would fetch them.
const HISTORY: usize = 60;

fn recipe(rel: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(PROJECT).join(rel)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn actionlint(file: &Path) -> (i32, String) {
    require_program("shellcheck", "shellcheck");
    let mut cmd = Command::new(venv_tool("actionlint"));
    cmd.arg("-no-color").arg(file).current_dir(PROJECT);
    // actionlint runs shellcheck from PATH on every `run:` script.
    cmd.env("PATH", crate::common::test_path());
    output(&mut cmd)
}

#[test]
fn the_recipes_pass_actionlint_and_yamllint() {
    let (code, text) = actionlint(&Path::new(PROJECT).join(GITHUB));
    assert_eq!(code, 0, "actionlint:\n{text}");
    // The linter lints: a misspelt input and a shell bug are found.
    let tmp = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(Path::new(PROJECT).join(GITHUB))
        .unwrap()
        .replace("fetch-depth: 1", "fetch-dept: 1")
        .replace(
            "git workbench fetch origin",
            "cd $UNQUOTED && git workbench fetch origin",
        );
    let broken_file = tmp.path().join("broken.yml");
    std::fs::write(&broken_file, broken).unwrap();
    let (code, text) = actionlint(&broken_file);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("fetch-dept"), "{text}");
    assert!(text.contains("shellcheck"), "{text}");

    let config = "{extends: default, rules: {line-length: {max: 120}, document-start: disable, truthy: {check-keys: false}}}";
    let (code, text) = output(
        Command::new(venv_tool("yamllint"))
            .args(["--strict", "-d", config, GITHUB, GITLAB])
            .current_dir(PROJECT),
    );
    assert_eq!(code, 0, "yamllint:\n{text}");
}

/// What the recipes promise in their structure: a shallow checkout, no full history,
/// the build only on a cache miss keyed by the pinned revision, which is a commit of
/// this repository.
#[test]
fn the_recipes_are_shallow_and_build_only_on_a_cache_miss() {
    for rel in [GITHUB, GITLAB] {
        let text = std::fs::read_to_string(Path::new(PROJECT).join(rel)).unwrap();
        assert!(!text.contains("fetch-depth: 0"), "{rel}");
        assert!(!text.contains("GIT_DEPTH: \"0\""), "{rel}");
        let rev = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("WORKBENCH_REV: "))
            .unwrap_or_else(|| panic!("{rel} pins no WORKBENCH_REV"));
        let o = Command::new("git")
            .args([
                "-C",
                PROJECT,
                "cat-file",
                "-e",
                &format!("{rev}^{{commit}}"),
            ])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{rel}: {rev} is no commit of this repository"
        );
    }
    let gh = recipe(GITHUB);
    let steps = gh["jobs"]["verify"]["steps"].as_sequence().unwrap();
    assert_eq!(steps[0]["with"]["fetch-depth"].as_u64(), Some(1));
    let cache = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/cache@"))
        })
        .unwrap();
    assert!(cache["with"]["key"]
        .as_str()
        .unwrap()
        .contains("env.WORKBENCH_REV"));
    let build = steps
        .iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("cargo install"))
        })
        .unwrap();
    assert_eq!(
        build["if"].as_str(),
        Some("steps.cache.outputs.cache-hit != 'true'")
    );
    let gl = recipe(GITLAB);
    let job = &gl["workbench-verify"];
    assert_eq!(job["variables"]["GIT_DEPTH"].as_str(), Some("1"));
    assert_eq!(
        job["cache"]["key"].as_str(),
        Some("git-workbench-$WORKBENCH_REV")
    );
    let script = job["script"].as_sequence().unwrap();
    assert!(script[0]
        .as_str()
        .unwrap()
        .starts_with("if [ ! -x .git-workbench/bin/git-workbench ]; then"));
}

/// A remote with a long main, records pushed, and two pull requests forked from it:
/// `refs/pull/1/head` approves a new run and renders it; `refs/pull/2/head` edits a
/// number by hand (committed with --no-verify). Main moves on after the fork. Both
/// are also `refs/merge-requests/N/head`, as GitLab names them.
struct Forge {
    remote: Repo,
    dev: Repo,
}

fn forge() -> Forge {
    let (dev, _) = reported();
    dev.wb(&["hooks", "uninstall"]).ok();
    dev.git(&["add", "-A"]);
    dev.git(&["commit", "-q", "--no-verify", "-m", "report"]);
    for i in 0..HISTORY {
        dev.write(&format!("notes/{i}.txt"), &format!("{i}\n"));
        dev.git(&["add", "-A"]);
        dev.git(&["commit", "-q", "--no-verify", "-m", &format!("history {i}")]);
    }
    let remote = Repo::bare_dir();
    remote.git(&["init", "-q", "--bare", "-b", "main"]);
    dev.git(&["remote", "add", "origin", remote.root.to_str().unwrap()]);
    dev.git(&["push", "-q", "origin", "main"]);

    dev.git(&["checkout", "-q", "-b", "pr1"]);
    let id = run_json(&dev, &["train", "-p", "train.lr=0.2"]);
    dev.wb(&["review", &id]).ok();
    dev.wb(&["card", &id, "-m", "A better learning rate."]).ok();
    dev.wb(&["approve", &id, "--yes"]).ok();
    dev.wb(&["narrative", "sync"]).ok();
    dev.git(&["add", "-A"]);
    dev.git(&["commit", "-q", "--no-verify", "-m", "lr 0.2"]);
    dev.wb(&["push", "origin"]).ok();
    for r in ["refs/pull/1/head", "refs/merge-requests/1/head"] {
        dev.git(&["push", "-q", "origin", &format!("HEAD:{r}")]);
    }

    dev.git(&["checkout", "-q", "main"]);
    dev.git(&["checkout", "-q", "-b", "pr2"]);
    tamper(&dev);
    dev.git(&["commit", "-q", "-a", "--no-verify", "-m", "a better number"]);
    for r in ["refs/pull/2/head", "refs/merge-requests/2/head"] {
        dev.git(&["push", "-q", "origin", &format!("HEAD:{r}")]);
    }

    dev.git(&["checkout", "-q", "main"]);
    for i in 0..3 {
        dev.write(&format!("later/{i}.txt"), "x\n");
        dev.git(&["add", "-A"]);
        dev.git(&[
            "commit",
            "-q",
            "--no-verify",
            "-m",
            &format!("main moves {i}"),
        ]);
    }
    dev.git(&["push", "-q", "origin", "main"]);
    Forge { remote, dev }
}

/// A CI checkout: the pull request's head only, depth 1, as actions/checkout and
/// GitLab's GIT_DEPTH 1 make it.
fn ci_checkout(forge: &Forge, pr: &str) -> (Repo, String) {
    let ci = Repo::bare_dir();
    let url = format!("file://{}", forge.remote.root.display());
    ci.git(&["init", "-q"]);
    ci.git(&["remote", "add", "origin", &url]);
    ci.git(&["fetch", "-q", "--no-tags", "--depth=1", "origin", pr]);
    ci.git(&["checkout", "-q", "--detach", "FETCH_HEAD"]);
    let sha = ci.git(&["rev-parse", "HEAD"]).trim().to_string();
    (ci, sha)
}

/// A script as the runner runs it: bash, -e and pipefail, in the checkout.
fn bash(ci: &Repo, script: &str, env: &[(&str, String)], path: &std::ffi::OsStr) -> (i32, String) {
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(&ci.root);
    fixed_env(&mut cmd, &ci.home);
    cmd.env("PATH", path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    output(&mut cmd)
}

/// The binary where the cache restores it.
fn cached_binary(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::os::unix::fs::symlink(BIN, dir.join("git-workbench")).unwrap();
}

fn assert_shallow_with_records(ci: &Repo) {
    assert_eq!(
        ci.git(&["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    // the code history only: records and notes are commits of their own
    let commits: usize = ci
        .git(&["rev-list", "--count", "HEAD", "origin/main"])
        .trim()
        .parse()
        .unwrap();
    assert!(
        commits < HISTORY / 2,
        "the recipe fetched {commits} commits of a history of {}",
        HISTORY + 6
    );
    let runs = ci.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/workbench/runs/",
    ]);
    assert_eq!(runs.lines().count(), 2, "{runs}");
    ci.fsck();
}

/// The GitHub workflow's steps from checkout on, run in order (the cache step and the
/// build it skips on a hit are the forge's; the binary is where the cache puts it).
fn github_steps(forge: &Forge, pr: u32) -> (Repo, i32, String, String) {
    let (ci, sha) = ci_checkout(forge, &format!("refs/pull/{pr}/head"));
    cached_binary(&ci.home.join(".local/git-workbench/bin"));
    let gh_path = ci.home.join("github_path");
    let summary = ci.home.join("step_summary");
    std::fs::write(&gh_path, "").unwrap();
    std::fs::write(&summary, "").unwrap();
    let env = vec![
        ("BASE_REF", "main".to_string()),
        ("HEAD_REF", format!("refs/pull/{pr}/head")),
        ("HEAD_SHA", sha),
        ("GITHUB_REPOSITORY", "octo/analysis".to_string()),
        ("GITHUB_PATH", gh_path.display().to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ];
    let gh = recipe(GITHUB);
    let steps = gh["jobs"]["verify"]["steps"].as_sequence().unwrap();
    let mut path: Vec<PathBuf> = std::env::split_paths(&crate::common::test_path()).collect();
    let mut last = (0, String::new());
    for step in steps {
        let (Some(script), Some(name)) = (step["run"].as_str(), step["name"].as_str()) else {
            continue;
        };
        if step["if"].as_str() == Some("steps.cache.outputs.cache-hit != 'true'")
            || name.starts_with("Comment")
        {
            continue;
        }
        let joined = std::env::join_paths(&path).unwrap();
        last = bash(&ci, script, &env, &joined);
        if name.starts_with("Verify") {
            break;
        }
        assert_eq!(last.0, 0, "step {name:?} failed:\n{}", last.1);
        for line in std::fs::read_to_string(&gh_path).unwrap().lines() {
            path.insert(0, PathBuf::from(line));
        }
    }
    let summary = std::fs::read_to_string(&summary).unwrap();
    (ci, last.0, last.1, summary)
}

#[test]
fn the_github_recipe_verifies_a_shallow_pull_request() {
    let forge = forge();
    let (ci, code, text, summary) = github_steps(&forge, 1);
    assert_eq!(code, 0, "{text}\n{summary}");
    // exactly the pull request's commit: the range survived the shallow clone
    assert!(summary.contains("1 commit(s) checked"), "{summary}");
    assert!(summary.contains("`train`: run"), "{summary}");
    assert_shallow_with_records(&ci);

    let (_ci, code, text, summary) = github_steps(&forge, 2);
    assert_eq!(code, 1, "{text}\n{summary}");
    assert!(
        summary.contains("differs from the approved rendering"),
        "{summary}"
    );
    drop(forge.dev);
}

fn gitlab_script(forge: &Forge, iid: u32) -> (Repo, i32, String) {
    let (ci, sha) = ci_checkout(forge, &format!("refs/merge-requests/{iid}/head"));
    cached_binary(&ci.root.join(".git-workbench/bin"));
    let gl = recipe(GITLAB);
    let script: Vec<&str> = gl["workbench-verify"]["script"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let env = vec![
        ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main".to_string()),
        ("CI_MERGE_REQUEST_IID", iid.to_string()),
        (
            "CI_PROJECT_URL",
            "https://gitlab.example.com/octo/analysis".to_string(),
        ),
        ("CI_COMMIT_SHA", sha),
        (
            "CI_API_V4_URL",
            "https://gitlab.example.com/api/v4".to_string(),
        ),
        ("CI_PROJECT_ID", "7".to_string()),
    ];
    let (code, text) = bash(&ci, &script.join("\n"), &env, &crate::common::test_path());
    (ci, code, text)
}

#[test]
fn the_gitlab_recipe_fetches_the_target_branch_and_verifies() {
    let forge = forge();
    let (ci, code, text) = gitlab_script(&forge, 1);
    assert_eq!(code, 0, "{text}");
    let md = std::fs::read_to_string(ci.root.join("verify.md")).unwrap();
    assert!(md.contains("1 commit(s) checked"), "{md}");
    assert!(md.contains("`train`: run"), "{md}");
    assert!(text.contains(&md), "the job log shows the summary");
    assert_shallow_with_records(&ci);

    let (ci, code, text) = gitlab_script(&forge, 2);
    assert_eq!(code, 1, "{text}");
    let md = std::fs::read_to_string(ci.root.join("verify.md")).unwrap();
    assert!(md.contains("differs from the approved rendering"), "{md}");
}
