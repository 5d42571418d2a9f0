//! Test harness: a temporary repository with a fixed environment, driving the built
//! `git-workbench` binary and the real `git` CLI.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_git-workbench");

pub struct Repo {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub home: PathBuf,
}

/// The PATH tests run with: the caller's, without any directory that holds a
/// `git-workbench` (an installed copy must not stand in for the binary under test).
/// Tests that need it on PATH, as git's hooks and drivers do, add the built one
/// (`path_with_binary`).
pub fn test_path() -> std::ffi::OsString {
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let kept = dirs
        .into_iter()
        .filter(|d| !d.join("git-workbench").exists());
    std::env::join_paths(kept).unwrap_or_default()
}

/// `test_path()` with the built binary's directory first.
pub fn path_with_binary() -> std::ffi::OsString {
    let bin_dir = Path::new(BIN).parent().unwrap().to_path_buf();
    let mut dirs = vec![bin_dir];
    dirs.extend(std::env::split_paths(&test_path()));
    std::env::join_paths(dirs).unwrap_or_default()
}

/// The fixed environment every command runs in.
pub fn fixed_env(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", test_path())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", home.join("gitconfig"))
        .env("GIT_AUTHOR_NAME", "Ada Analyst")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Analyst")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env("GIT_AUTHOR_DATE", "2026-03-08T12:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-03-08T12:00:00Z")
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("NO_COLOR", "1");
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts an error exit with a message containing `needle`.
    pub fn fails(self, code: i32, needle: &str) -> Run {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

impl Repo {
    /// An empty directory with a fixed HOME, not yet a repository.
    pub fn bare_dir() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join("gitconfig"), "").unwrap();
        Repo {
            _tmp: tmp,
            root,
            home,
        }
    }

    /// A repository with `workbench.toml` = `config` and the given files, committed.
    pub fn with(config: &str, files: &[(&str, &str)]) -> Repo {
        let r = Repo::bare_dir();
        r.git(&["init", "-q", "-b", "main"]);
        r.write("workbench.toml", config);
        for (p, c) in files {
            r.write(p, c);
        }
        r.write(".gitignore", "runs/*/\n");
        r.git(&["add", "-A"]);
        r.git(&["commit", "-q", "-m", "initial"]);
        r
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    pub fn cmd(&self, program: &str, args: &[&str]) -> Command {
        let mut c = Command::new(program);
        fixed_env(&mut c, &self.home);
        c.args(args).current_dir(&self.root).stdin(Stdio::null());
        c
    }

    pub fn wb(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(BIN, args).output().unwrap())
    }

    pub fn wb_in(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from(self.cmd(BIN, args).current_dir(dir).output().unwrap())
    }

    /// `git` with git-workbench on PATH, as an installed user has it (for hooks and
    /// drivers, which git runs as `git workbench ...`).
    pub fn git_wb(&self, args: &[&str]) -> Output {
        self.cmd("git", args)
            .env("PATH", path_with_binary())
            .output()
            .unwrap()
    }

    pub fn git_run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd("git", args).output().unwrap())
    }

    /// Runs git and returns its trimmed stdout, failing the test on error.
    pub fn git(&self, args: &[&str]) -> String {
        let r = self.git_run(args);
        assert_eq!(r.code, 0, "git {args:?} failed:\n{}", r.stderr);
        r.stdout.trim_end().to_string()
    }

    /// `refname` lines under refs/workbench/.
    pub fn run_refs(&self) -> Vec<String> {
        let out = self.git(&["for-each-ref", "--format=%(refname)", "refs/workbench/"]);
        out.lines().map(str::to_string).collect()
    }

    pub fn note_lines(&self, rev: &str) -> Vec<serde_json::Value> {
        let r = self.git_run(&["notes", "--ref=workbench", "show", rev]);
        if r.code != 0 {
            return Vec::new();
        }
        r.stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("note line is JSON"))
            .collect()
    }

    /// Asserts that no workbench record of any kind exists.
    pub fn assert_nothing_recorded(&self) {
        assert!(
            self.run_refs().is_empty(),
            "unexpected refs: {:?}",
            self.run_refs()
        );
        let notes = self.git_run(&["rev-parse", "-q", "--verify", "refs/notes/workbench"]);
        assert_ne!(notes.code, 0, "unexpected notes ref");
    }

    pub fn fsck(&self) {
        let r = self.git_run(&["fsck", "--strict", "--no-progress"]);
        assert_eq!(r.code, 0, "git fsck failed:\n{}{}", r.stdout, r.stderr);
        assert!(!r.stderr.contains("error"), "{}", r.stderr);
    }

    /// The manifest of a run, read through git.
    pub fn manifest(&self, stage: &str, run_id: &str) -> serde_json::Value {
        let text = self.git(&[
            "show",
            &format!("refs/workbench/runs/{stage}/{run_id}:manifest.json"),
        ]);
        serde_json::from_str(&text).unwrap()
    }
}

/// A program of the test virtualenv (`.ci/deps` creates `target/test-venv`, or
/// `WORKBENCH_TEST_VENV` names another), never one that happens to be on PATH. A
/// missing one fails the test with the command that installs it.
pub fn venv_tool(name: &str) -> PathBuf {
    let venv = std::env::var_os("WORKBENCH_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv"));
    let p = venv.join("bin").join(name);
    assert!(
        p.is_file(),
        "{name} is not installed in {}: run .ci/deps (it creates the test virtualenv with every package the tests use)",
        venv.display()
    );
    p
}

/// A system program the tests need (`ssh-keygen`, `man`), or a failure saying how to
/// install it.
pub fn require_program(name: &str, package: &str) {
    let found = std::env::split_paths(&test_path()).any(|d| d.join(name).is_file());
    assert!(
        found,
        "{name} is not installed: apt-get install {package} (.ci/deps installs it)"
    );
}

/// `sha256:<hex>` of a file, as the real `sha256sum` computes it.
pub fn sha256sum(path: &Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().unwrap();
    let s = String::from_utf8_lossy(&o.stdout);
    format!("sha256:{}", s.split_whitespace().next().unwrap())
}

/// The pre-commit framework from the test virtualenv, run in `repo` with its cache in
/// the test's home and the built git-workbench on PATH (as `language: system` hooks
/// need it).
pub fn pre_commit_framework(repo: &Repo, args: &[&str]) -> Run {
    Run::from(
        repo.cmd(venv_tool("pre-commit").to_str().unwrap(), args)
            .env("PRE_COMMIT_HOME", repo.home.join("pre-commit-cache"))
            .env("PATH", path_with_binary())
            .output()
            .unwrap(),
    )
}
