//! `hooks install` and the real pre-commit framework (from the test virtualenv,
//! `.ci/deps`) in either order: the check keeps running through a real `git commit`,
//! and `doctor` knows what runs it. The framework is driven offline: a `repo: local`
//! hook with `language: system` runs the built git-workbench from PATH.

use crate::common::{path_with_binary, pre_commit_framework, Repo, Run, BIN};
use crate::narratives::{commit_ok, commit_refused, reported, tamper};

/// A configuration with an unrelated hook only: the team uses pre-commit for other
/// things.
const OTHER_HOOKS: &str = "repos:\n  - repo: local\n    hooks:\n      - id: nothing\n        name: nothing\n        entry: \"true\"\n        language: system\n";

const TAMPERED: &str = "differs from the approved rendering";

fn pre_commit(repo: &Repo, args: &[&str]) -> Run {
    pre_commit_framework(repo, args).ok()
}

/// git-workbench with itself on PATH, as a user who installed it runs it (doctor
/// checks that the hook can find it).
fn wb_installed(repo: &Repo, args: &[&str]) -> Run {
    let o = repo
        .cmd(BIN, args)
        .env("PATH", path_with_binary())
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// doctor's `pre-commit hook` check: (status, detail, fix).
fn doctor_hook(repo: &Repo) -> (String, String, String) {
    let j = wb_installed(repo, &["--json", "doctor"]).json();
    let c = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "pre-commit hook")
        .unwrap_or_else(|| panic!("no hook check: {j}"))
        .clone();
    let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
    (s("status"), s("detail"), s("fix"))
}

fn assert_doctor_ok(repo: &Repo, needle: &str) {
    let (status, detail, _) = doctor_hook(repo);
    assert_eq!(status, "ok", "{detail}");
    assert!(detail.contains(needle), "{detail}");
}

fn assert_doctor_warns(repo: &Repo, detail_needle: &str, fix_needle: &str) {
    let (status, detail, fix) = doctor_hook(repo);
    assert_eq!(status, "warn", "{detail}");
    assert!(detail.contains(detail_needle), "{detail}");
    assert!(fix.contains(fix_needle), "{fix}");
}

/// Commits the config, then checks that a tampered narrative is refused by a real
/// `git commit` and that a clean commit goes through.
fn tampering_is_refused(repo: &Repo) {
    tamper(repo);
    repo.git(&["add", "reports/summary.md"]);
    commit_refused(repo, &["commit", "-q", "-m", "tampered"], TAMPERED);
    commit_refused(repo, &["commit", "-q", "-a", "-m", "tampered"], TAMPERED);
    repo.wb(&["narrative", "sync"]).ok();
    repo.git(&["add", "reports/summary.md"]);
}

/// `reported()` with the report committed, the block removed from the hook (so the
/// test decides what is installed) and a pre-commit configuration `config` committed.
fn committed_with(config: &str) -> Repo {
    let (repo, _) = reported();
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    repo.write(".pre-commit-config.yaml", config);
    repo.git(&["add", ".pre-commit-config.yaml"]);
    commit_ok(&repo, &["commit", "-q", "-m", "pre-commit"]);
    repo
}

/// The entry `hooks install` prints, added under `repos:`.
fn with_our_hook(repo: &Repo, snippet: &str) {
    let config = format!("{OTHER_HOOKS}{snippet}");
    repo.write(".pre-commit-config.yaml", &config);
    repo.git(&["add", ".pre-commit-config.yaml"]);
}

#[test]
fn hooks_install_then_pre_commit_install_keeps_the_check() {
    let repo = committed_with(OTHER_HOOKS);
    let hook = repo.path(".git/hooks/pre-commit");
    let legacy = repo.path(".git/hooks/pre-commit.legacy");
    assert!(repo
        .read(".git/hooks/pre-commit")
        .contains("git-workbench >>>"));
    assert_doctor_ok(&repo, "installed in .git/hooks/pre-commit");

    // pre-commit moves our hook to pre-commit.legacy and runs it first
    let r = pre_commit(&repo, &["install"]);
    assert!(r.stdout.contains("migration mode"), "{}", r.stdout);
    assert!(repo
        .read(".git/hooks/pre-commit.legacy")
        .contains("git-workbench >>>"));
    assert_doctor_ok(
        &repo,
        "pre-commit.legacy, which pre-commit's script runs first",
    );
    tampering_is_refused(&repo);
    // a second `pre-commit install` keeps it
    pre_commit(&repo, &["install"]);
    tampering_is_refused(&repo);
    // hooks install sees it there and writes nothing into pre-commit's script
    let script = std::fs::read(&hook).unwrap();
    let j = repo.wb(&["--json", "hooks", "install"]).ok().json();
    assert_eq!(j["action"], "already in", "{j}");
    assert!(j["hook"].as_str().unwrap().ends_with("pre-commit.legacy"));
    assert_eq!(std::fs::read(&hook).unwrap(), script);

    // pre-commit's script skips a legacy hook that is not executable: doctor says so,
    // hooks install repairs it
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&legacy, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_doctor_warns(
            &repo,
            "not executable",
            "chmod +x .git/hooks/pre-commit.legacy",
        );
        repo.wb(&["hooks", "install"]).ok();
        assert_doctor_ok(&repo, "pre-commit.legacy");
    }

    // hooks uninstall removes our block from pre-commit.legacy too
    let j = repo.wb(&["--json", "hooks", "uninstall"]).ok().json();
    assert_eq!(j["action"], "removed from", "{j}");
    assert!(j["hook"].as_str().unwrap().ends_with("pre-commit.legacy"));
    assert!(
        !legacy.exists(),
        "a legacy hook holding only our block goes"
    );
    assert_eq!(std::fs::read(&hook).unwrap(), script);
    assert_doctor_warns(
        &repo,
        ".pre-commit-config.yaml has no hook running 'git-workbench hook pre-commit'",
        "git workbench hooks install",
    );
    tamper(&repo);
    repo.git(&["add", "reports/summary.md"]);
    commit_ok(&repo, &["commit", "-q", "-m", "nothing checks it now"]);
}

#[test]
fn pre_commit_install_then_hooks_install_points_at_the_config() {
    let repo = committed_with(OTHER_HOOKS);
    repo.wb(&["hooks", "uninstall"]).ok();
    pre_commit(&repo, &["install"]);
    let hook = repo.path(".git/hooks/pre-commit");
    let script = std::fs::read(&hook).unwrap();
    // neither runs the check: doctor warns, precisely
    assert_doctor_warns(
        &repo,
        "the hook .git/hooks/pre-commit is pre-commit's script, and .pre-commit-config.yaml has no hook running 'git-workbench hook pre-commit'",
        "git workbench hooks install (it prints the pre-commit configuration entry to add)",
    );
    // hooks install writes nothing pre-commit would clobber, and prints the entry
    let r = repo.wb(&["hooks", "install"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("does not run the check") && r.stdout.contains("- repo: local"),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read(&hook).unwrap(), script);
    assert!(!repo.path(".git/hooks/pre-commit.legacy").exists());
    let j = repo.wb(&["--json", "hooks", "install"]).json();
    assert_eq!(j["action"], "missing from", "{j}");
    let snippet = j["snippet"].as_str().unwrap().to_string();
    assert!(snippet.contains("entry: git-workbench hook pre-commit"));
    assert!(snippet.contains("language: system"));
    // `init --hooks` says the same
    let r = repo.wb(&["init", "--hooks"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("- repo: local"), "{}", r.stdout);

    // an earlier git-workbench wrote its block into pre-commit's script: it runs, but
    // the next `pre-commit install` drops it, and doctor says so
    let text = String::from_utf8(script.clone()).unwrap();
    let (shebang, rest) = text.split_once('\n').unwrap();
    let block = "# >>> git-workbench >>> (managed by 'git workbench hooks install')\ngit-workbench hook pre-commit || exit 1\n# <<< git-workbench <<<\n";
    std::fs::write(&hook, format!("{shebang}\n{block}{rest}")).unwrap();
    assert_doctor_warns(
        &repo,
        "inside pre-commit's script .git/hooks/pre-commit, which the next 'pre-commit install' rewrites",
        "git workbench hooks install",
    );
    let r = repo.wb(&["hooks", "install"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("note: our block inside pre-commit's script"),
        "{}",
        r.stdout
    );
    repo.wb(&["hooks", "uninstall"]).ok();
    assert_eq!(
        std::fs::read(&hook).unwrap(),
        script,
        "uninstall takes it out again"
    );

    // with the entry added, pre-commit runs the check; hooks install says so
    with_our_hook(&repo, &snippet);
    let r = repo.wb(&["hooks", "install"]).ok();
    assert!(
        r.stdout.contains("run by the pre-commit framework from")
            && r.stdout.contains("nothing written"),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read(&hook).unwrap(), script);
    assert_doctor_ok(
        &repo,
        "run by the pre-commit framework (.pre-commit-config.yaml lists it)",
    );
    tampering_is_refused(&repo);
    commit_ok(&repo, &["commit", "-q", "-m", "our hook"]);
    // re-running pre-commit install changes nothing
    pre_commit(&repo, &["install"]);
    assert_doctor_ok(&repo, "run by the pre-commit framework");
    tampering_is_refused(&repo);
}

#[test]
fn doctor_warns_only_when_nothing_runs_the_check() {
    // the config lists our hook but pre-commit's script is not installed
    let config = format!(
        "{OTHER_HOOKS}  - repo: local\n    hooks:\n      - id: workbench-narratives\n        name: workbench\n        entry: git-workbench hook pre-commit\n        language: system\n"
    );
    let repo = committed_with(&config);
    repo.wb(&["hooks", "uninstall"]).ok();
    assert_doctor_warns(
        &repo,
        ".pre-commit-config.yaml lists the check, but pre-commit's script is not installed",
        "pre-commit install",
    );
    tamper(&repo);
    repo.git(&["add", "reports/summary.md"]);
    commit_ok(&repo, &["commit", "-q", "-m", "unchecked"]);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    // installing pre-commit is enough
    pre_commit(&repo, &["install"]);
    assert_doctor_ok(&repo, "run by the pre-commit framework");
    tampering_is_refused(&repo);
    // `pre-commit install -f` over our block: the framework runs it anyway
    repo.wb(&["hooks", "uninstall"]).ok();
    pre_commit(&repo, &["uninstall"]);
    repo.wb(&["hooks", "install"]).ok();
    pre_commit(&repo, &["install", "-f"]);
    assert!(!repo.path(".git/hooks/pre-commit.legacy").exists());
    assert_doctor_ok(&repo, "run by the pre-commit framework");
    // without narratives marked nothing is needed
    repo.write(".gitattributes", "");
    repo.write(".pre-commit-config.yaml", OTHER_HOOKS);
    assert_doctor_ok(&repo, "no narratives marked");
}
