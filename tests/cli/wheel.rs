//! The Python package (pyproject.toml, docs/install.md): maturin from the test
//! virtualenv builds a wheel of the binary, pip installs it into a fresh virtualenv
//! with no Rust toolchain anywhere on PATH, and `git workbench` works from there; the
//! pre-commit hook `workbench-narratives` then runs that binary and builds nothing on
//! first use. The documented hook revision exists in this repository and offers the
//! hook.

use crate::common::{venv_tool, Repo};
use crate::narratives::{reported, tamper};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const PROJECT: &str = env!("CARGO_MANIFEST_DIR");

/// The wheel, built once per test process. Its own target directory: a build into
/// `target/debug` would replace the binary the other tests are running.
fn wheel() -> &'static Path {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL.get_or_init(|| {
        let out = Path::new(PROJECT).join("target/wheel-test/dist");
        let _ = std::fs::remove_dir_all(&out);
        let o = Command::new(venv_tool("maturin"))
            .args(["build", "--profile", "dev", "--locked", "--quiet", "-o"])
            .arg(&out)
            .current_dir(PROJECT)
            .env(
                "CARGO_TARGET_DIR",
                Path::new(PROJECT).join("target/wheel-test/target"),
            )
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "maturin build failed:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let wheels: Vec<PathBuf> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "whl"))
            .collect();
        assert_eq!(wheels.len(), 1, "{wheels:?}");
        wheels[0].clone()
    })
}

fn cargo_version() -> String {
    let toml = std::fs::read_to_string(Path::new(PROJECT).join("Cargo.toml")).unwrap();
    let line = toml.lines().find(|l| l.starts_with("version = ")).unwrap();
    line.trim_start_matches("version = ")
        .trim_matches('"')
        .to_string()
}

/// A fresh virtualenv with only the wheel installed (offline: no index, no
/// dependencies), and a PATH of its `bin` and the system's, in which no directory
/// holds cargo or rustc.
fn installed(repo: &Repo) -> (PathBuf, std::ffi::OsString) {
    let venv = repo.home.join("fresh-venv");
    let o = Command::new(venv_tool("python"))
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--no-index", "--no-deps"])
        .arg(wheel())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pip install of the wheel failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let dirs = [venv.join("bin"), "/usr/bin".into(), "/bin".into()];
    for d in &dirs {
        for tool in ["cargo", "rustc", "rustup"] {
            assert!(!d.join(tool).exists(), "{} holds {tool}", d.display());
        }
    }
    (venv.clone(), std::env::join_paths(dirs).unwrap())
}

/// The exit code and stdout then stderr of a command.
pub(crate) fn output(cmd: &mut Command) -> (i32, String) {
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn the_wheel_holds_the_binary_and_its_metadata() {
    let wheel = wheel();
    let name = wheel.file_name().unwrap().to_str().unwrap();
    let version = cargo_version();
    assert!(
        name.starts_with(&format!("git_workbench-{version}-py3-none-")),
        "{name}"
    );
    // The wheel's files, as Python's zipfile reads them.
    let listing = Command::new(venv_tool("python"))
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print('\\n'.join(z.namelist())); \
             print(next(z.read(n).decode() for n in z.namelist() if n.endswith('.dist-info/METADATA')))",
        ])
        .arg(wheel)
        .output()
        .unwrap();
    let text = String::from_utf8(listing.stdout).unwrap();
    let script = format!("git_workbench-{version}.data/scripts/git-workbench");
    assert!(text.lines().any(|l| l == script), "{text}");
    assert!(text.contains("Name: git-workbench\n"), "{text}");
    assert!(text.contains(&format!("Version: {version}\n")), "{text}");
}

#[test]
fn pip_install_puts_git_workbench_on_path_without_rust() {
    let repo = crate::train_repo();
    let (venv, path) = installed(&repo);
    let exe = venv.join("bin/git-workbench");
    assert!(exe.is_file());
    // git finds it as a subcommand, on a PATH with no Rust toolchain.
    let (code, text) = output(
        repo.cmd("git", &["workbench", "--version"])
            .env("PATH", &path),
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(text.trim(), format!("git-workbench {}", cargo_version()));
    let (code, text) = output(
        repo.cmd("git", &["workbench", "run", "train", "--json"])
            .env("PATH", &path),
    );
    assert_eq!(code, 0, "{text}");
    let (code, text) = output(repo.cmd("git", &["workbench", "status"]).env("PATH", &path));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("EXECUTED"), "{text}");
    repo.fsck();
}

/// pre-commit installs the hook repository (this one, as it is now: `try-repo`)
/// into an empty cache and runs `workbench-narratives` with the wheel's binary: it
/// refuses a tampered narrative and passes the true one, and its environment holds
/// no build (no cargo on PATH, nothing but the repository clone in the cache).
#[test]
fn the_pre_commit_hook_compiles_nothing() {
    let pre_commit = venv_tool("pre-commit");
    let (repo, _) = reported();
    repo.wb(&["hooks", "uninstall"]).ok();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "report"]);
    let (_venv, path) = installed(&repo);
    let cache = repo.home.join("empty-pre-commit-cache");
    let run = |repo: &Repo| {
        output(
            repo.cmd(
                pre_commit.to_str().unwrap(),
                &["try-repo", PROJECT, "workbench-narratives", "--all-files"],
            )
            .env("PRE_COMMIT_HOME", &cache)
            .env("PATH", &path),
        )
    };
    tamper(&repo);
    repo.git(&["add", "reports/summary.md"]);
    let (code, text) = run(&repo);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("differs from the approved rendering"),
        "{text}"
    );
    repo.wb(&["narrative", "sync"]).ok();
    repo.git(&["add", "reports/summary.md"]);
    let (code, text) = run(&repo);
    assert_eq!(code, 0, "{text}");
    // pre-commit made no language environment: no rustenv, no cargo target.
    let mut stack = vec![cache.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with("rustenv") && name != "target",
                "pre-commit built something: {}",
                e.path().display()
            );
            if e.file_type().unwrap().is_dir() && name != ".git" {
                stack.push(e.path());
            }
        }
    }
}

/// Every `rev:` the docs give for this repository as a pre-commit hook repository is
/// a commit of it whose manifest offers `workbench-narratives` with `language:
/// system`.
#[test]
fn the_documented_hook_revision_exists() {
    let docs = ["README.md", "docs/install.md"];
    let mut revs = Vec::new();
    for doc in docs {
        let text = std::fs::read_to_string(Path::new(PROJECT).join(doc)).unwrap();
        for line in text.lines() {
            if let Some(rev) = line.trim().strip_prefix("rev: ") {
                revs.push((doc, rev.split_whitespace().next().unwrap().to_string()));
            }
        }
    }
    assert!(!revs.is_empty(), "no `rev:` in {docs:?}");
    for (doc, rev) in revs {
        let o = Command::new("git")
            .args([
                "-C",
                PROJECT,
                "show",
                &format!("{rev}:.pre-commit-hooks.yaml"),
            ])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{doc}: rev {rev} is no commit of this repository with a .pre-commit-hooks.yaml"
        );
        let manifest = String::from_utf8_lossy(&o.stdout);
        let hook = manifest
            .split("\n- id: ")
            .find(|h| h.starts_with("workbench-narratives\n"))
            .unwrap_or_else(|| panic!("{doc}: rev {rev} has no workbench-narratives hook"));
        assert!(
            hook.contains("\n  language: system\n"),
            "{doc}: {rev}:\n{hook}"
        );
    }
}
