//! `demo`: a fresh repository with an embedded example analysis, and the loop walked
//! as far as the tool goes, showing each command a user would type. The steps run
//! this binary and `git` as subprocesses, exactly as a user would type them, so the
//! demo is a script of the CLI (the one place that drives git by command line outside
//! `store`, on purpose: it shows those commands).

use super::run::shell_join;
use crate::error::{Error, Result};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FILES: &[(&str, &str)] = &[
    (
        "data/incidents.csv",
        include_str!("../../examples/demo/data/incidents.csv"),
    ),
    (
        "scripts/baseline.py",
        include_str!("../../examples/demo/scripts/baseline.py"),
    ),
    (
        "params.yaml",
        include_str!("../../examples/demo/params.yaml"),
    ),
    (
        "workbench.toml",
        include_str!("../../examples/demo/workbench.toml"),
    ),
    (".gitignore", include_str!("../../examples/demo/gitignore")),
];

/// One command the demo ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub command: String,
    pub exit_code: i32,
}

/// `demo --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoReport {
    pub dir: PathBuf,
    pub steps: Vec<Step>,
}

/// Where the demo's narration and its steps' output go.
pub trait Narrator {
    /// A line of narration.
    fn say(&self, text: &str);
    /// Send the steps' stdout to stderr (keeps a `--json` stdout one document).
    fn steps_to_stderr(&self) -> bool;
}

struct Demo<'a> {
    narrator: &'a dyn Narrator,
    dir: PathBuf,
    exe: PathBuf,
    store: Store,
    steps: Vec<Step>,
}

impl Demo<'_> {
    fn say(&self, text: &str) {
        self.narrator.say(text);
    }

    /// Runs `git workbench ARGS` (or `git ARGS` when `git` is true) in the demo repo.
    fn step(&mut self, git: bool, args: &[&str]) -> Result<i32> {
        let dir = self.dir.clone();
        self.step_at(&dir, git, args)
    }

    /// `step` in another directory (the teammate's clone).
    fn step_at(&mut self, dir: &Path, git: bool, args: &[&str]) -> Result<i32> {
        let shown = if git { "git" } else { "git workbench" };
        let owned: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let place = if dir == self.dir {
            String::new()
        } else {
            format!(
                "({}) ",
                dir.file_name().unwrap_or_default().to_string_lossy()
            )
        };
        self.say(&format!("\n{place}$ {shown} {}", shell_join(&owned)));
        let mut cmd = if git {
            // git runs the hook and the table drivers as `git workbench ...`
            let mut c = Command::new("git");
            c.env("PATH", demo_path(&self.exe));
            c
        } else {
            Command::new(&self.exe)
        };
        cmd.args(args).current_dir(dir).stdin(Stdio::null());
        if self.narrator.steps_to_stderr() {
            use std::os::fd::AsFd;
            if let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() {
                cmd.stdout(Stdio::from(fd));
            }
        }
        let status = cmd
            .status()
            .map_err(|e| Error::input(format!("cannot run '{shown}': {e}")))?;
        let code = status.code().unwrap_or(1);
        self.steps.push(Step {
            command: format!("{shown} {}", shell_join(&owned)),
            exit_code: code,
        });
        Ok(code)
    }

    fn expect_ok(&mut self, git: bool, args: &[&str]) -> Result<()> {
        let dir = self.dir.clone();
        self.expect_ok_at(&dir, git, args)
    }

    fn expect_ok_at(&mut self, dir: &Path, git: bool, args: &[&str]) -> Result<()> {
        match self.step_at(dir, git, args)? {
            0 => Ok(()),
            c => Err(Error::input(format!(
                "demo step 'git workbench {}' exited {c}",
                args.join(" ")
            ))),
        }
    }

    /// `git ARGS` with this binary on PATH (the hook runs through it).
    fn commit(&mut self, args: &[&str]) -> Result<i32> {
        self.step(true, args)
    }

    fn write(&self, rel: &str, text: &str) -> Result<()> {
        let p = self.dir.join(rel);
        std::fs::write(&p, text).map_err(Error::io(&p))
    }

    fn read(&self, rel: &str) -> Result<String> {
        let p = self.dir.join(rel);
        std::fs::read_to_string(&p).map_err(Error::io(&p))
    }
}

/// PATH with this binary's directory first, so the hook finds `git-workbench`.
fn demo_path(exe: &Path) -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = exe
        .parent()
        .map(|p| vec![p.to_path_buf()])
        .unwrap_or_default();
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

fn prepare_dir(dir: Option<PathBuf>) -> Result<PathBuf> {
    match dir {
        Some(d) => {
            if d.exists() {
                let empty = std::fs::read_dir(&d)
                    .map_err(Error::io(&d))?
                    .next()
                    .is_none();
                if !empty {
                    return Err(
                        Error::input(format!("{} exists and is not empty", d.display()))
                            .hint("give a new or empty directory, or none for a temporary one"),
                    );
                }
            }
            std::fs::create_dir_all(&d).map_err(Error::io(&d))?;
            Ok(d)
        }
        None => tempfile::Builder::new()
            .prefix("workbench-demo-")
            .tempdir()
            .map(|t| t.keep())
            .map_err(Error::io(Path::new("temporary directory"))),
    }
}

/// Where the teamwork part puts the bare remote and the teammate's clone: next to the
/// demo directory. Both must not exist yet.
fn team_dirs(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let name = dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let parent = dir.parent().unwrap_or(Path::new("/")).to_path_buf();
    let remote = parent.join(format!("{name}-remote.git"));
    let mate = parent.join(format!("{name}-teammate"));
    for p in [&remote, &mate] {
        if p.exists() {
            return Err(Error::input(format!("{} already exists", p.display()))
                .hint("give the demo a fresh directory"));
        }
    }
    Ok((remote, mate))
}

/// A bare remote and a teammate's clone next to the demo: the teammate sweeps a param,
/// and `sync` carries records both ways.
fn teamwork(d: &mut Demo) -> Result<()> {
    let (remote, mate) = team_dirs(&d.dir)?;
    let name = d
        .dir
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let (remote_s, mate_s) = (remote.display().to_string(), mate.display().to_string());
    d.say(&format!(
        "\n# Teamwork: a shared bare remote ({name}-remote.git) and a teammate's clone ({name}-teammate)."
    ));
    d.expect_ok(true, &["init", "-q", "--bare", "-b", "main", &remote_s])?;
    d.expect_ok(true, &["remote", "add", "origin", &remote_s])?;
    d.expect_ok(true, &["push", "-q", "origin", "HEAD:refs/heads/main"])?;
    d.expect_ok(false, &["init"])?;
    d.say("# Records travel with sync (fetch + merge + push), never force-overwriting anything.");
    d.expect_ok(false, &["sync"])?;
    d.expect_ok(true, &["clone", "-q", &remote_s, &mate_s])?;
    d.expect_ok_at(&mate, false, &["init"])?;
    d.say("\n# The teammate sweeps the window size, two runs at a time, and shares the runs.");
    d.expect_ok_at(
        &mate,
        false,
        &[
            "sweep",
            "baseline",
            "-p",
            "baseline.window=12,48",
            "-j",
            "2",
        ],
    )?;
    d.expect_ok_at(&mate, false, &["sync"])?;
    d.say("\n# Back in the first clone: the teammate's runs arrive, with their notes.");
    d.expect_ok(false, &["sync"])?;
    d.expect_ok(false, &["compare", "--only-changed", "--last", "3"])?;
    Ok(())
}

const TABLE_ATTRS: &str = "runs/comparison.csv diff=workbench-table merge=workbench-table\n";

/// Creates the demo repository in `dir` (new or empty; `None`: a temporary one) and
/// walks the loop in it.
pub fn demo(dir: Option<PathBuf>, narrator: &dyn Narrator) -> Result<DemoReport> {
    let dir = prepare_dir(dir)?;
    let dir = dir.canonicalize().map_err(Error::io(&dir))?;
    team_dirs(&dir)?;
    let store = Store::init(&dir)?;
    for (rel, text) in FILES {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(&p, text).map_err(Error::io(&p))?;
    }
    store.set_local_config("user.name", "Demo Analyst")?;
    store.set_local_config("user.email", "analyst@example.com")?;
    store.commit_all("Add the incident-alert example analysis")?;
    let exe = std::env::current_exe().map_err(Error::io(Path::new("current executable")))?;
    let mut d = Demo {
        narrator,
        dir: dir.clone(),
        exe,
        store,
        steps: Vec::new(),
    };
    d.say(&format!(
        "git-workbench demo: a new repository at {}\n\
         It holds data/incidents.csv, scripts/baseline.py, params.yaml and a workbench.toml\n\
         declaring one stage, 'baseline'. Every command below is one you can type there.",
        dir.display()
    ));
    first_run_and_rejection(&mut d)?;
    comparison_and_sweep(&mut d)?;
    adoption_and_approval(&mut d)?;
    report_and_hook(&mut d)?;
    teamwork(&mut d)?;
    finale(&mut d)?;
    Ok(DemoReport {
        dir,
        steps: d.steps,
    })
}

fn first_run_and_rejection(d: &mut Demo) -> Result<()> {
    d.expect_ok(false, &["init"])?;
    d.say("\n# Nothing has run yet, so the stage is STALE: never run.");
    d.expect_ok(false, &["status"])?;
    d.say("\n# The agent runs the stage: output streams, and the run is recorded in git.");
    d.expect_ok(false, &["run", "baseline"])?;
    d.say(
        "\n# It checks its own work before showing anything (exit 1 would mean a failed review).",
    );
    d.expect_ok(false, &["review", "baseline@latest"])?;
    d.say("\n# It presents the run with a drafted interpretation; the card is also in review/baseline/candidate/card.md.");
    d.expect_ok(false, &["card", "baseline@latest", "-m", "Threshold 1.5 flags few false alarms (precision 0.93) but misses 4 in 10 incidents (recall 0.61)."])?;
    d.say("\n# What now? `next` says: a human decision.");
    d.expect_ok(false, &["next"])?;
    d.say("\n# The human rejects it, with an acceptance criterion and a suggestion.");
    d.expect_ok(
        false,
        &[
            "reject",
            "baseline@latest",
            "--issue",
            "recall 0.61 misses too many incidents",
            "--criterion",
            "recall >= 0.8",
            "--suggest",
            "baseline.threshold=1.3",
        ],
    )?;
    d.expect_ok(false, &["next"])
}

fn comparison_and_sweep(d: &mut Demo) -> Result<()> {
    d.say("\n# The comparison table (one row per run) is a committed file; git diffs and merges it\n\
           # by run id through the drivers `init` configured:\n\
           $ echo 'runs/comparison.csv diff=workbench-table merge=workbench-table' > .gitattributes");
    d.write(".gitattributes", TABLE_ATTRS)?;
    d.expect_ok(false, &["compare", "-o"])?;
    d.say("$ git add -A && git commit -qm 'Record the comparison table'");
    d.store.commit_all("Record the comparison table")?;
    d.say("\n# Around the suggestion, the agent sweeps a few thresholds first.");
    for t in ["1.1", "1.2", "1.4"] {
        d.expect_ok(
            false,
            &["run", "baseline", "-p", &format!("baseline.threshold={t}")],
        )?;
    }
    d.say("\n# The agent follows the suggestion; the run shows the feedback it answers.");
    d.expect_ok(false, &["run", "baseline", "-p", "baseline.threshold=1.3"])?;
    d.say("\n# All runs side by side, best recall first; the best value of each metric is marked.");
    d.expect_ok(false, &["compare", "--only-changed", "--sort", "-recall"])?;
    d.say("\n# The table file, rewritten, and what changed since the last commit (rows matched by run id):");
    d.expect_ok(false, &["compare", "-o"])?;
    d.expect_ok(false, &["diff"])?;
    d.say("$ git add -A && git commit -qm 'Sweep the alert threshold'");
    d.store.commit_all("Sweep the alert threshold")?;
    d.say("\n# The same diff between two commits, as Markdown for a pull-request comment:");
    d.expect_ok(false, &["diff", "HEAD~1", "HEAD", "--format", "markdown"])
}

fn adoption_and_approval(d: &mut Demo) -> Result<()> {
    d.say("\n# The runs with -p are candidates: params.yaml still says 1.5, and the stage is not\n# stale for it. The run with 1.3 awaits review.");
    d.expect_ok(false, &["status"])?;
    d.expect_ok(false, &["review", "baseline@latest"])?;
    d.expect_ok(
        false,
        &[
            "card",
            "baseline@latest",
            "-m",
            "Threshold 1.3 catches 83% of incidents; half of the alerts are false alarms.",
        ],
    )?;
    d.say(
        "\n# The human approves with their own wording of the interpretation:\n$ cat approved.md",
    );
    let approved = "Lowering the threshold to 1.3 meets the recall goal (0.83 >= 0.8) at the cost of precision (0.51): about one alert in two is a real incident.\n";
    d.write("approved.md", approved)?;
    d.say(approved.trim_end());
    d.expect_ok(
        false,
        &[
            "approve",
            "baseline@latest",
            "--yes",
            "--interpretation",
            "approved.md",
            "--write-params",
        ],
    )?;
    let _ = std::fs::remove_file(d.dir.join("approved.md"));
    d.say("\n# --write-params adopted the approved value into params.yaml (comments kept), so\n# `git workbench run baseline` reproduces the approved run:\n$ git diff params.yaml");
    let _ = d.step(true, &["diff", "params.yaml"]);
    d.say("$ git add -A && git commit -qm 'Adopt the approved alert threshold'");
    d.store.commit_all("Adopt the approved alert threshold")?;
    d.expect_ok(false, &["status"])?;
    d.expect_ok(false, &["next"])
}

fn report_and_hook(d: &mut Demo) -> Result<()> {
    d.say("\n# The report: results enter it only as blocks rendered from approvals.\n$ echo 'report.md workbench-narrative' >> .gitattributes");
    d.write(
        ".gitattributes",
        &format!("{TABLE_ATTRS}report.md workbench-narrative\n"),
    )?;
    d.write(
        "report.md",
        "# Incident alerting: findings\n\nThe baseline flags load spikes against a trailing mean.\n\n<!-- workbench:slot stage=baseline -->\n\nNext we will try a seasonal baseline.\n",
    )?;
    d.expect_ok(
        false,
        &[
            "narrative",
            "new",
            "baseline",
            "report.md",
            "--metrics",
            "precision,recall",
        ],
    )?;
    d.expect_ok(false, &["hooks", "install"])?;
    d.say("\n# Committing the report runs the hook, which checks every block (git-workbench must be on PATH).");
    d.commit(&["add", "-A"])?;
    if d.commit(&["commit", "-q", "-m", "Add the report"])? != 0 {
        return Err(Error::input("demo: the report commit was refused"));
    }
    d.say("\n# Someone edits a result by hand (recall 0.8261 -> 0.95); the hook refuses the commit and shows the diff.");
    let text = d.read("report.md")?;
    d.write(
        "report.md",
        &text.replace("| recall | 0.8261 |", "| recall | 0.95 |"),
    )?;
    if d.commit(&["commit", "-q", "-am", "Improve recall"])? == 0 {
        return Err(Error::input("demo: the hook let a tampered result through"));
    }
    d.say("\n# --no-verify skips the hook, but not CI: `verify` checks every commit of a range.");
    d.commit(&["commit", "-q", "--no-verify", "-am", "Improve recall"])?;
    if d.step(false, &["verify", "--range", "HEAD~1..HEAD"])? != 1 {
        return Err(Error::input("demo: verify missed the tampered commit"));
    }
    d.say("\n# The fix: re-render the blocks from their approvals.");
    d.expect_ok(false, &["narrative", "sync"])?;
    d.commit(&["commit", "-q", "-am", "Restore the approved results"])?;
    d.expect_ok(false, &["verify"])?;
    d.say("\n# Approval changed a run's state; rewrite the table and commit it.");
    d.expect_ok(false, &["compare", "-o"])?;
    d.commit(&["commit", "-q", "-am", "Update the comparison table"])?;
    d.say(
        "# git itself shows the table change by run and column (the diff driver, via --ext-diff):",
    );
    d.expect_ok(
        true,
        &[
            "show",
            "--ext-diff",
            "--format=%s",
            "HEAD",
            "--",
            "runs/comparison.csv",
        ],
    )
}

fn finale(d: &mut Demo) -> Result<()> {
    d.say("\n# Every run, newest first, with its chain of transitions:");
    d.expect_ok(false, &["log"])?;
    d.expect_ok(false, &["show", "baseline@approved"])?;
    d.say("\n# The records are plain git: one ref per run, a ref per stage's approved run, and a notes index.");
    let _ = d.step(true, &["for-each-ref", "refs/workbench/"]);
    let _ = d.step(
        true,
        &["log", "--notes=workbench", "--format=%h %s%n%N", "-2"],
    );
    let _ = d.step(true, &["status", "--short", "review/"]);
    d.say("\n# What the human sees: every run, its plots, cards, checks, approvals and figures, offline.");
    d.expect_ok(false, &["report"])?;
    let index = d
        .dir
        .join(crate::ops::report::REPORT_DIR)
        .join("index.html");
    d.say(&format!(
        "\nDone. The demo repository stays at {}.\n\
         Open the report: file://{} (or: git workbench report --open).\n\
         review/baseline/ mirrors the approved run's manifest, review, card and approval for a pull request.\n\
         report.md holds the approved result; the hook and `verify` keep it that way.\n\
         The teammate's clone and the shared bare remote are next to it (-teammate, -remote.git).",
        d.dir.display(),
        index.display()
    ));
    Ok(())
}
