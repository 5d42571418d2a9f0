//! `run`: what a run records, checked with the real git CLI.

use crate::common::{sha256sum, Repo};
use crate::{run_json, train_repo};

#[test]
fn run_records_manifest_ref_note_and_log() {
    let repo = train_repo();
    let r = repo.wb(&["run", "train"]).ok();
    assert!(
        r.stdout
            .contains("params={\"train.depth\":3,\"train.lr\":0.1}"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.contains("to stderr"));
    assert!(r.stdout.contains("recorded run "));
    let refs = repo.run_refs();
    assert_eq!(refs.len(), 1, "{refs:?}");
    let run_id = refs[0].rsplit('/').next().unwrap().to_string();
    assert!(refs[0].starts_with("refs/workbench/runs/train/"));
    assert!(r
        .stdout
        .contains(&format!("run={run_id} stage=train dir=runs/{run_id}")));

    let m = repo.manifest("train", &run_id);
    assert_eq!(m["schema"], "workbench/manifest/v1");
    assert_eq!(m["stage"], "train");
    assert_eq!(m["run_id"], run_id.as_str());
    assert_eq!(m["status"], "executed");
    assert_eq!(m["exit_code"], 0);
    assert!(m["parent_run_id"].is_null());
    assert_eq!(
        m["params_used"],
        serde_json::json!({"train.lr": 0.1, "train.depth": 3})
    );
    assert_eq!(
        m["metrics"],
        serde_json::json!({"score": 0.75, "nested.n": 3})
    );
    assert_eq!(m["command"], "sh scripts/train.sh");
    assert!(m["duration_seconds"].as_f64().unwrap() >= 0.0);
    for f in ["started_at", "host", "tool_version", "code_ref"] {
        assert!(!m[f].is_null(), "{f}");
    }
    // hashes equal sha256sum's
    assert_eq!(
        m["inputs"]["data/in.csv"],
        sha256sum(&repo.path("data/in.csv")).as_str()
    );
    let out = format!("runs/{run_id}/out.csv");
    assert_eq!(m["outputs"][&out], sha256sum(&repo.path(&out)).as_str());
    let metrics = format!("runs/{run_id}/metrics.json");
    assert_eq!(
        m["outputs"][&metrics],
        sha256sum(&repo.path(&metrics)).as_str()
    );
    assert_eq!(
        m["code_files"]["scripts/train.sh"],
        sha256sum(&repo.path("scripts/train.sh")).as_str()
    );
    // code ref: HEAD, clean, and the snapshot equals HEAD's tree
    let head = repo.git(&["rev-parse", "HEAD"]);
    assert_eq!(m["code_ref"]["commit"], head.as_str());
    assert_eq!(m["code_ref"]["dirty"], false);
    assert_eq!(
        m["code_ref"]["tree"],
        repo.git(&["rev-parse", "HEAD^{tree}"]).as_str()
    );

    // the record tree: log, stored outputs, snapshot
    let rref = &refs[0];
    let log = repo.git(&["show", &format!("{rref}:log.txt")]);
    assert!(
        log.contains("to stderr") && log.contains(&format!("run={run_id}")),
        "{log}"
    );
    assert_eq!(
        repo.git(&["show", &format!("{rref}:outputs/{out}")]),
        "a,b\n1,2"
    );
    assert_eq!(
        repo.git(&["rev-parse", &format!("{rref}:snapshot")]),
        repo.git(&["rev-parse", "HEAD^{tree}"])
    );
    // reflog exists for the run ref
    let reflog = repo.git(&["reflog", "show", rref]);
    assert!(reflog.contains("workbench: executed"), "{reflog}");

    // the note on HEAD
    let notes = repo.note_lines("HEAD");
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["run_id"], run_id.as_str());
    assert_eq!(notes[0]["event"], "executed");
    assert_eq!(notes[0]["ref"], rref.as_str());
    assert_eq!(notes[0]["record"], repo.git(&["rev-parse", rref]).as_str());
    repo.fsck();
}

#[test]
fn failing_command_is_recorded_and_its_code_returned() {
    let repo = Repo::with("[stages.s]\ncmd = \"echo partial; exit 3\"\n", &[]);
    let r = repo.wb(&["run", "s"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stdout.contains("(failed, exit 3"), "{}", r.stdout);
    let refs = repo.run_refs();
    assert_eq!(refs.len(), 1);
    let id = refs[0].rsplit('/').next().unwrap();
    let m = repo.manifest("s", id);
    assert_eq!(m["status"], "failed");
    assert_eq!(m["exit_code"], 3);
    assert_eq!(repo.note_lines("HEAD")[0]["event"], "failed");
    let log = repo.git(&["show", &format!("{}:log.txt", refs[0])]);
    assert_eq!(log, "partial");
    repo.fsck();
}

#[test]
fn command_not_found_is_a_failed_run_with_127() {
    let repo = Repo::with("[stages.s]\ncmd = \"no-such-command-xyz --flag\"\n", &[]);
    let r = repo.wb(&["run", "s"]);
    assert_eq!(r.code, 127);
    assert!(r.stderr.contains("not found"), "{}", r.stderr);
    let refs = repo.run_refs();
    assert_eq!(refs.len(), 1);
    let m = repo.manifest("s", refs[0].rsplit('/').next().unwrap());
    assert_eq!(m["exit_code"], 127);
    assert_eq!(m["status"], "failed");
    // the same through `-- CMD`, which is executed without a shell
    let r = repo.wb(&["run", "s", "--", "no-such-binary-xyz"]);
    assert_eq!(r.code, 127);
    assert!(r.stderr.contains("command not found"), "{}", r.stderr);
    assert_eq!(repo.run_refs().len(), 2);
}

#[test]
fn missing_output_is_recorded_and_flagged() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"true\"\nouts = [\"runs/{run_id}/never.csv\", \"made.txt\"]\n",
        &[("made.txt", "x")],
    );
    let r = repo.wb(&["--json", "run", "s"]).ok();
    let j = r.json();
    let id = j["run_id"].as_str().unwrap();
    assert!(
        r.stderr.contains(&format!(
            "declared output 'runs/{id}/never.csv' was not produced"
        )),
        "{}",
        r.stderr
    );
    let m = repo.manifest("s", id);
    assert_eq!(
        m["missing_outputs"],
        serde_json::json!([format!("runs/{id}/never.csv")])
    );
    assert_eq!(
        m["outputs"]["made.txt"],
        sha256sum(&repo.path("made.txt")).as_str()
    );
}

#[test]
fn overrides_are_recorded_and_passed_to_the_command() {
    let repo = train_repo();
    let r = repo
        .wb(&[
            "--json",
            "run",
            "train",
            "-p",
            "train.lr=0.5",
            "-p",
            "other=\"x\"",
        ])
        .ok();
    let j = r.json();
    assert!(
        r.stderr.contains("\"train.lr\":0.5"),
        "command output goes to stderr with --json"
    );
    let m = &j["manifest"];
    assert_eq!(m["params_used"]["train.lr"], 0.5);
    assert_eq!(m["params_used"]["other"], "x");
    assert_eq!(
        m["overrides"],
        serde_json::json!({"train.lr": 0.5, "other": "x"})
    );
}

#[test]
fn parent_run_and_code_snapshot_with_uncommitted_edits() {
    let repo = train_repo();
    let first = run_json(&repo, &["train"]);
    repo.write(
        "scripts/train.sh",
        &format!("{}\necho edited\n", crate::TRAIN_SH),
    );
    let second = run_json(&repo, &["train"]);
    let m = repo.manifest("train", &second);
    assert_eq!(m["parent_run_id"], first.as_str());
    assert_eq!(m["code_ref"]["dirty"], true);
    let tree = m["code_ref"]["tree"].as_str().unwrap();
    let script = repo.git(&["show", &format!("{tree}:scripts/train.sh")]);
    assert!(script.ends_with("echo edited"), "{script}");
    // the user's index is untouched
    assert_eq!(repo.git(&["diff", "--cached", "--name-only"]), "");
    assert_eq!(repo.git(&["diff", "--name-only"]), "scripts/train.sh");
}

#[test]
fn large_outputs_are_hashed_not_stored() {
    let repo = Repo::with(
        "max_stored_size = 10\n[stages.s]\ncmd = \"printf 0123456789abcdef > big.txt; printf 1 > small.txt\"\nouts = [\"big.txt\", \"small.txt\"]\n",
        &[],
    );
    let id = run_json(&repo, &["s"]);
    let m = repo.manifest("s", &id);
    assert_eq!(m["stored_outputs"], serde_json::json!(["small.txt"]));
    assert_eq!(
        m["outputs"]["big.txt"],
        sha256sum(&repo.path("big.txt")).as_str()
    );
    let r = repo.git_run(&[
        "cat-file",
        "-e",
        &format!("refs/workbench/runs/s/{id}:outputs/big.txt"),
    ]);
    assert_ne!(r.code, 0);
    repo.git(&[
        "cat-file",
        "-e",
        &format!("refs/workbench/runs/s/{id}:outputs/small.txt"),
    ]);
}

#[test]
fn parallel_runs_all_recorded_with_all_note_lines() {
    let repo = train_repo();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            repo.cmd(crate::common::BIN, &["run", "train"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut stderr = String::new();
    for h in handles {
        let o = h.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        stderr.push_str(&String::from_utf8_lossy(&o.stderr));
    }
    let refs = repo.run_refs();
    assert_eq!(refs.len(), 8, "{refs:?}");
    let notes = repo.note_lines("HEAD");
    let commits: Vec<String> = refs
        .iter()
        .map(|r| {
            let m = repo.manifest("train", r.rsplit('/').next().unwrap());
            format!("{} {}", m["run_id"], m["code_ref"]["commit"])
        })
        .collect();
    assert_eq!(
        notes.len(),
        8,
        "{stderr}\n{commits:#?}\n{notes:#?}\n{}",
        repo.git(&["reflog", "--format=%H %gs", "refs/notes/workbench"])
    );
    let mut ids: Vec<&str> = notes
        .iter()
        .map(|n| n["run_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    repo.fsck();
}

#[test]
fn json_stdout_stays_json_when_the_command_prints() {
    let repo = train_repo();
    let r = repo.wb(&["--json", "run", "train"]).ok();
    let j = r.json();
    assert_eq!(j["stage"], "train");
    assert_eq!(j["status"], "executed");
    assert!(j["ref"]
        .as_str()
        .unwrap()
        .starts_with("refs/workbench/runs/train/"));
}

#[cfg(unix)]
#[test]
fn interrupt_records_nothing() {
    let repo = Repo::with("[stages.slow]\ncmd = \"echo started; sleep 30\"\n", &[]);
    let mut child = repo
        .cmd(crate::common::BIN, &["run", "slow"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // wait until the command is running
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 7];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"started");
    let k = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    let started = std::time::Instant::now();
    let o = child.wait_with_output().unwrap();
    drop(stdout);
    assert!(started.elapsed().as_secs() < 20, "the command was stopped");
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("not recorded"));
    repo.assert_nothing_recorded();
    repo.fsck();
}

#[cfg(unix)]
#[test]
fn kill_dash_nine_at_any_moment_leaves_a_consistent_repository() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"echo x > out.txt\"\nouts = [\"out.txt\"]\n",
        &[("in.txt", "1")],
    );
    // Kill runs at staggered moments: before, during and after the command and
    // while the record is written. Whatever survives must be complete. The moments
    // spread over the time one run takes on this machine, however fast it is.
    let t = std::time::Instant::now();
    repo.wb(&["run", "s"]).ok();
    let full = t.elapsed().as_micros() as u64;
    for step in 0..20u64 {
        let delay_us = full * step / 16;
        let mut child = repo
            .cmd(crate::common::BIN, &["run", "s"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(delay_us));
        let _ = child.kill();
        let _ = child.wait();
    }
    repo.fsck();
    let runs = repo.wb(&["--json", "log"]).ok().json();
    for r in runs["runs"].as_array().unwrap() {
        let id = r["run_id"].as_str().unwrap();
        let m = repo.manifest("s", id);
        assert_eq!(m["run_id"], id);
        // The only bytes the command ever writes are "x\n"; a later killed run may
        // have truncated the file on disk, but a record holds what its run produced.
        assert_eq!(
            m["outputs"]["out.txt"],
            "sha256:73cb3858a687a8494ca3323053016282f3dad39d42cf62ca4e79dda2aac7d9ac"
        );
    }
    // every note line points at an existing record
    for n in repo.note_lines("HEAD") {
        repo.git(&["cat-file", "-e", n["record"].as_str().unwrap()]);
    }
    // and the repository still takes new runs
    let id = run_json(&repo, &["s"]);
    assert!(repo
        .note_lines("HEAD")
        .iter()
        .any(|n| n["run_id"] == id.as_str()));
    repo.fsck();
}

/// A lock file a killed writer left behind is cleared once it is plainly stale, and
/// only then: a fresh lock still refuses a decision rather than being broken.
#[test]
fn stale_ref_locks_left_by_a_killed_writer_are_cleared() {
    let repo = train_repo();
    let first = run_json(&repo, &["train"]);
    let notes_lock = repo.path(".git/refs/notes/workbench.lock");
    std::fs::write(&notes_lock, "").unwrap();
    let touch_old = |p: &std::path::Path| {
        let o = std::process::Command::new("touch")
            .args(["-d", "1 minute ago"])
            .arg(p)
            .status()
            .unwrap();
        assert!(o.success());
    };
    touch_old(&notes_lock);
    let second = run_json(&repo, &["train"]);
    assert!(!notes_lock.exists(), "stale notes lock was not removed");
    let lines = repo.note_lines("HEAD");
    for id in [&first, &second] {
        assert!(lines.iter().any(|n| n["run_id"] == id.as_str()), "{id}");
    }

    // a fresh lock on the run ref: the decision is refused, nothing is recorded
    let run_lock = repo.path(&format!(".git/refs/workbench/runs/train/{second}.lock"));
    std::fs::write(&run_lock, "").unwrap();
    let before = repo.git(&["for-each-ref", "refs/workbench"]);
    repo.wb(&["reject", &second, "--issue", "redo"])
        .fails(1, "changed while this transition was being written");
    assert_eq!(repo.git(&["for-each-ref", "refs/workbench"]), before);
    assert!(run_lock.exists(), "a fresh lock must not be broken");
    // once stale, it is cleared and the decision goes through
    touch_old(&run_lock);
    repo.wb(&["reject", &second, "--issue", "redo"]).ok();
    assert!(!run_lock.exists());
    repo.fsck();
}

#[test]
fn runs_in_a_linked_worktree_are_shared() {
    let repo = train_repo();
    let wt = repo.root.parent().unwrap().join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap()]);
    let r = repo.wb_in(&wt, &["--json", "run", "train"]).ok();
    let id = r.json()["run_id"].as_str().unwrap().to_string();
    assert!(
        wt.join(format!("runs/{id}/out.csv")).is_file(),
        "outputs land in the worktree"
    );
    let j = repo.wb(&["--json", "show", &id]).ok().json();
    assert_eq!(j["run_id"], id.as_str());
    let status = repo.wb_in(&wt, &["--json", "status"]).ok().json();
    assert_eq!(status["stages"][0]["state"], "executed");
    repo.fsck();
}

/// Metrics are recorded as the stage wrote them, to the last digit: 12/13 and 1/11 as
/// Python's `json.dump` writes them once came back one ulp off (docs/reliability.md).
#[test]
fn metrics_are_recorded_exactly_as_written() {
    let repo = train_repo();
    let written = r#"{"precision": 0.9230769230769231, "recall": 0.09090909090909091, "tiny": 6.197453742514761e-303}"#;
    let script = TRAIN_SH_METRICS.replace("METRICS", written);
    repo.write("scripts/train.sh", &script);
    repo.git(&["commit", "-qam", "exact metrics"]);
    let run_id = run_json(&repo, &["train"]);
    let text = repo.git(&[
        "show",
        &format!("refs/workbench/runs/train/{run_id}:manifest.json"),
    ]);
    for number in [
        "0.9230769230769231",
        "0.09090909090909091",
        "6.197453742514761e-303",
    ] {
        assert!(text.contains(&format!(": {number}")), "{number}:\n{text}");
    }
}

const TRAIN_SH_METRICS: &str = r#"set -e
mkdir -p "$WORKBENCH_RUN_DIR"
cat data/in.csv > "$WORKBENCH_RUN_DIR/out.csv"
printf '%s' 'METRICS' > "$WORKBENCH_RUN_DIR/metrics.json"
"#;
