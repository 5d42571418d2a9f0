//! The human-in-the-loop core: review, card, approve, reject, next, signatures.

use crate::common::Repo;
use crate::{run_json, train_repo};

fn tip(repo: &Repo, stage: &str, id: &str) -> String {
    repo.git(&["rev-parse", &format!("refs/workbench/runs/{stage}/{id}")])
}

/// A run of `train`, reviewed and carded.
fn presented(repo: &Repo) -> String {
    let id = run_json(repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", "Score 0.75 is fine."]).ok();
    id
}

#[test]
fn the_whole_loop_with_mirror_notes_and_states() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    // awaiting a decision: candidate/ shows it, the top level (the approved run) is empty
    assert!(!repo.path("review/train/manifest.json").exists());
    assert_eq!(
        repo.read("review/train/candidate/manifest.json"),
        repo.git(&[
            "show",
            &format!("refs/workbench/runs/train/{id}:manifest.json")
        ]) + "\n"
    );

    let j = repo.wb(&["--json", "review", &id]).ok().json();
    assert_eq!(j["verdict"], "pass", "{j}");
    let names: Vec<&str> = j["review"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for n in [
        "output_files_exist",
        "non_empty_outputs",
        "summary_valid",
        "no_nan_inf",
        "figures_non_trivial",
        "metric_ranges",
        "row_counts",
        "command_succeeded",
    ] {
        assert!(names.contains(&n), "{n} missing from {names:?}");
    }
    let s = repo.wb(&["--json", "status", "train"]).ok().json();
    assert_eq!(s["stages"][0]["state"], "reviewed");

    let card = repo
        .wb(&[
            "card",
            &id,
            "-m",
            "Score 0.75 is fine.",
            "--recommendation",
            "Approve it.",
        ])
        .ok()
        .stdout;
    for h in [
        "## What ran",
        "## Key outputs",
        "## Self-review",
        "## AI interpretation",
        "Draft — pending human approval",
        "Score 0.75 is fine.",
        "## Recommendation",
        "Approve it.",
    ] {
        assert!(card.contains(h), "card lacks {h}:\n{card}");
    }
    assert_eq!(repo.read("review/train/candidate/card.md"), card);

    let j = repo
        .wb(&["--json", "approve", &id, "--yes", "-m", "looks right"])
        .ok()
        .json();
    let a = &j["approval"];
    assert_eq!(a["decision"], "approved");
    assert_eq!(a["approved_by"], "Ada Analyst <ada@example.com>");
    assert_eq!(a["approved_interpretation"], "Score 0.75 is fine.");
    assert_eq!(a["interpretation_edited"], false);
    assert_eq!(a["interpretation_approved"], true);
    assert_eq!(a["note"], "looks right");
    assert!(a["supersedes"].is_null());
    assert_eq!(a["forced"], false);
    for f in [
        "run_id",
        "stage",
        "timestamp",
        "artifacts_approved",
        "artifact_digest",
    ] {
        assert!(!a[f].is_null(), "{f}");
    }
    // the digest is reproducible with sha256sum
    let m = repo.manifest("train", &id);
    let mut lines: Vec<String> = m["outputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(p, h)| {
            format!(
                "{}  {p}\n",
                h.as_str().unwrap().trim_start_matches("sha256:")
            )
        })
        .collect();
    lines.sort_by(|x, y| x.split("  ").nth(1).cmp(&y.split("  ").nth(1)));
    let listing = repo.path("listing.txt");
    std::fs::write(&listing, lines.concat()).unwrap();
    assert_eq!(
        a["artifact_digest"],
        crate::common::sha256sum(&listing).as_str()
    );

    // mirror = refs, for every file
    let rref = format!("refs/workbench/runs/train/{id}");
    for f in ["manifest.json", "review.json", "approval.json", "card.md"] {
        let from_git = repo.git(&["show", &format!("{rref}:{f}")]);
        assert_eq!(
            repo.read(&format!("review/train/{f}")).trim_end(),
            from_git.trim_end(),
            "{f}"
        );
    }
    assert!(!repo.path("review/train/feedback.json").exists());
    // the approval moved the run to the top level and emptied candidate/
    assert!(!repo.path("review/train/candidate").exists());

    let s = repo.wb(&["--json", "status", "train"]).ok().json();
    assert_eq!(s["stages"][0]["state"], "approved");
    assert_eq!(s["stages"][0]["approved_run"], id.as_str());
    assert_eq!(
        repo.wb(&["--json", "show", "train@approved"]).ok().json()["run_id"],
        id.as_str()
    );
    let log = repo.wb(&["--json", "log", "train"]).ok().json();
    assert_eq!(
        log["runs"][0]["events"],
        serde_json::json!(["executed", "reviewed", "carded", "approved"])
    );
    let events: Vec<String> = repo
        .note_lines("HEAD")
        .iter()
        .map(|n| n["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["executed", "reviewed", "carded", "approved"]);
    let commits = repo.git(&["rev-list", "--count", &rref]);
    assert_eq!(commits, "4", "one commit per transition");
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>", &rref]),
        "Ada Analyst <ada@example.com>"
    );
    let next = repo.wb(&["--json", "next"]).ok().json();
    assert!(next["done"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "train"));
    repo.fsck();
}

#[test]
fn refusals_write_nothing() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    let before = tip(&repo, "train", &id);
    let r = repo
        .wb(&["approve", &id, "--yes"])
        .fails(1, "no review yet");
    assert!(
        r.stderr.contains("legal moves: review, reject"),
        "{}",
        r.stderr
    );
    repo.wb(&["card", &id]).fails(1, "review it first");
    assert_eq!(tip(&repo, "train", &id), before);

    repo.wb(&["review", &id]).ok();
    // without --yes and without a terminal, nobody confirmed
    repo.wb(&["approve", &id])
        .fails(1, "needs a human's confirmation");
    // outputs changed on disk after the run
    let out = format!("runs/{id}/out.csv");
    let original = repo.read(&out);
    repo.write(&out, "a,b\n9,9\n");
    let reviewed = tip(&repo, "train", &id);
    repo.wb(&["approve", &id, "--yes"])
        .fails(1, "no longer the bytes it produced");
    assert_eq!(tip(&repo, "train", &id), reviewed);
    repo.write(&out, &original);
    repo.wb(&["approve", &id, "--yes"]).ok();
    let approved = tip(&repo, "train", &id);
    repo.wb(&["approve", &id, "--yes"])
        .fails(1, "already approved");
    repo.wb(&["reject", &id, "--issue", "too late"])
        .fails(1, "is approved");
    repo.wb(&["review", &id]).fails(1, "approved");
    assert_eq!(tip(&repo, "train", &id), approved);
    repo.fsck();
}

#[test]
fn failed_reviews_need_force_and_say_so() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"mkdir -p $WORKBENCH_RUN_DIR && printf 'x,y\\\\n1,nan\\\\n2,3\\\\n' > $WORKBENCH_RUN_DIR/t.csv && echo '{\\\"precision\\\": 1.5}' > $WORKBENCH_RUN_DIR/m.json\"\nouts = [\"runs/{run_id}/t.csv\"]\nmetrics = \"runs/{run_id}/m.json\"\n[stages.s.review]\nmetric_ranges = { precision = [0, 1] }\nmin_rows = 10\n",
        &[],
    );
    let id = run_json(&repo, &["s"]);
    let r = repo.wb(&["--json", "review", &id]);
    assert_eq!(r.code, 1, "a failed review exits 1: {}", r.stderr);
    let j = r.json();
    assert_eq!(j["verdict"], "fail");
    let issues = j["review"]["blocking_issues"].to_string();
    assert!(issues.contains("precision=1.5 outside [0, 1]"), "{issues}");
    assert!(issues.contains("1 NaN/Inf in column 'y'"), "{issues}");
    assert!(issues.contains("2 rows (below min_rows 10)"), "{issues}");
    repo.wb(&["approve", &id, "--yes"])
        .fails(1, "failed its review");
    let j = repo
        .wb(&["--json", "approve", &id, "--yes", "--force"])
        .ok()
        .json();
    assert_eq!(j["approval"]["forced"], true);
    assert_eq!(j["approval"]["review_verdict"], "fail");
}

#[test]
fn agent_checks_merge_and_bad_files_are_refused() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    let before = tip(&repo, "train", &id);
    repo.write("bad.json", "{not json");
    repo.wb(&["review", &id, "--checks", "bad.json"])
        .fails(2, "--checks bad.json");
    repo.write(
        "bad.json",
        r#"[{"name": "x", "pass": true, "colour": "red"}]"#,
    );
    repo.wb(&["review", &id, "--checks", "bad.json"])
        .fails(2, "colour");
    assert_eq!(tip(&repo, "train", &id), before, "nothing written");
    repo.write(
        "checks.json",
        r#"[{"name": "figure shows the trend", "pass": true}, {"name": "axis labels", "pass": false, "note": "y unlabeled", "blocking": false}]"#,
    );
    let j = repo
        .wb(&["--json", "review", &id, "--checks", "checks.json"])
        .ok()
        .json();
    assert_eq!(j["verdict"], "pass_with_warnings");
    assert_eq!(
        j["review"]["warnings"],
        serde_json::json!(["axis labels: y unlabeled"])
    );
    let agent: Vec<&serde_json::Value> = j["review"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["source"] == "agent")
        .collect();
    assert_eq!(agent.len(), 2);
}

#[test]
fn identical_metrics_despite_new_params_is_a_warning() {
    let repo = train_repo();
    run_json(&repo, &["train"]);
    let id = run_json(&repo, &["train", "-p", "train.lr=0.9"]);
    let j = repo.wb(&["--json", "review", &id]).ok().json();
    assert_eq!(j["verdict"], "pass_with_warnings");
    assert!(
        j["review"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("identical"),
        "{j}"
    );
}

#[test]
fn flat_figures_fail_the_review() {
    // a 16x16 all-white RGB PNG, made by python's zlib (standard library only)
    let repo = Repo::with(
        "[stages.fig]\ncmd = \"python3 make_png.py\"\nouts = [\"plot.png\"]\n",
        &[(
            "make_png.py",
            r#"import struct, zlib, sys
w = h = 16
flat = len(sys.argv) < 2
raw = b"".join(b"\x00" + b"".join((b"\xff\xff\xff" if flat or (x + y) % 2 else b"\x00\x00\x00") for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open("plot.png", "wb").write(png)
"#,
        )],
    );
    let id = run_json(&repo, &["fig"]);
    let r = repo.wb(&["--json", "review", &id]);
    assert_eq!(r.code, 1);
    assert!(r.json()["review"]["blocking_issues"]
        .to_string()
        .contains("plot.png: a single flat colour"));
    let id = run_json(&repo, &["fig", "--", "python3", "make_png.py", "checker"]);
    assert_eq!(
        repo.wb(&["--json", "review", &id]).ok().json()["verdict"],
        "pass"
    );
}

#[test]
fn reject_feeds_the_next_run() {
    let repo = train_repo();
    let id = presented(&repo);
    let j = repo
        .wb(&[
            "--json",
            "reject",
            &id,
            "--issue",
            "learning rate too high",
            "--criterion",
            "score >= 0.8",
            "--suggest",
            "train.lr=0.05",
        ])
        .ok()
        .json();
    assert_eq!(j["feedback"]["issue"], "learning rate too high");
    assert_eq!(j["feedback"]["suggested_params"]["train.lr"], 0.05);
    assert_eq!(
        j["feedback"]["acceptance_criteria"],
        serde_json::json!(["score >= 0.8"])
    );
    assert_eq!(
        j["feedback"]["rejected_by"],
        "Ada Analyst <ada@example.com>"
    );
    assert_eq!(
        repo.read("review/train/candidate/feedback.json"),
        repo.git(&[
            "show",
            &format!("refs/workbench/runs/train/{id}:feedback.json")
        ]) + "\n"
    );
    let s = repo.wb(&["--json", "status", "train"]).ok().json();
    assert_eq!(s["stages"][0]["state"], "rejected");
    let next = repo.wb(&["--json", "next"]).ok().json();
    let item = &next["items"][0];
    assert_eq!(item["kind"], "rerun_after_rejection");
    assert_eq!(item["command"], "git workbench run train -p train.lr=0.05");
    assert!(item["why"].to_string().contains("score >= 0.8"));
    let r = repo.wb(&["run", "train", "-p", "train.lr=0.05"]).ok();
    assert!(
        r.stderr
            .contains("was rejected by Ada Analyst <ada@example.com>: learning rate too high"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("suggested: -p train.lr=0.05"));
    let newest = repo.wb(&["--json", "show", "train@latest"]).ok().json();
    assert_eq!(newest["manifest"]["parent_run_id"], id.as_str());
    repo.wb(&["approve", &id, "--yes"]).fails(1, "rejected");
}

#[test]
fn newer_approvals_supersede_and_older_runs_cannot_step_back() {
    let repo = train_repo();
    let older = presented(&repo);
    let newer = presented(&repo);
    repo.wb(&["approve", &newer, "--yes"]).ok();
    let r = repo
        .wb(&["approve", &older, "--yes"])
        .fails(1, &format!("{newer}, is already approved"));
    assert!(r.stderr.contains("hint:"));
    let third = presented(&repo);
    let j = repo.wb(&["--json", "approve", &third, "--yes"]).ok().json();
    assert_eq!(j["approval"]["supersedes"], newer.as_str());
    assert_eq!(
        repo.git(&["rev-parse", "refs/workbench/approved/train"]),
        tip(&repo, "train", &third)
    );
}

#[test]
fn next_walks_the_agent_and_the_human_through_the_loop() {
    let repo = train_repo();
    let kind = |repo: &Repo| {
        repo.wb(&["--json", "next"]).ok().json()["items"][0]["kind"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(kind(&repo), "run");
    let id = run_json(&repo, &["train"]);
    assert_eq!(kind(&repo), "review");
    repo.wb(&["review", &id]).ok();
    assert_eq!(kind(&repo), "card");
    repo.wb(&["card", &id, "-m", "fine"]).ok();
    let j = repo.wb(&["--json", "next"]).ok().json();
    assert_eq!(j["items"][0]["kind"], "decide");
    assert_eq!(j["items"][0]["who"], "human");
    assert_eq!(j["items"][0]["card"], "review/train/candidate/card.md");
    let text = repo.wb(&["next"]).ok().stdout;
    assert!(
        text.contains(&format!("git workbench approve {id}")),
        "{text}"
    );
}

#[test]
fn editing_the_interpretation() {
    let repo = train_repo();
    let id = presented(&repo);
    let before = tip(&repo, "train", &id);
    // an editor that fails aborts
    let r = repo
        .cmd(crate::common::BIN, &["approve", &id, "--yes", "--edit"])
        .env("GIT_EDITOR", "false")
        .output()
        .unwrap();
    assert_eq!(
        r.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(String::from_utf8_lossy(&r.stderr).contains("approval aborted"));
    // an editor that empties the text is refused
    let r = repo
        .cmd(crate::common::BIN, &["approve", &id, "--yes", "--edit"])
        .env("GIT_EDITOR", "truncate -s 0")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("empty"));
    assert_eq!(tip(&repo, "train", &id), before, "nothing written");
    // a real edit is recorded as the human's version
    let r = repo
        .cmd(
            crate::common::BIN,
            &["--json", "approve", &id, "--yes", "--edit"],
        )
        .env("GIT_EDITOR", "sed -i 's/is fine/is acceptable for now/'")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let j: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(j["approval"]["interpretation_edited"], true);
    assert_eq!(
        j["approval"]["approved_interpretation"],
        "Score 0.75 is acceptable for now."
    );
    // --interpretation FILE
    let id2 = presented(&repo);
    repo.write("mine.md", "My own reading.\n");
    let j = repo
        .wb(&[
            "--json",
            "approve",
            &id2,
            "--yes",
            "--interpretation",
            "mine.md",
        ])
        .ok()
        .json();
    assert_eq!(
        j["approval"]["approved_interpretation"],
        "My own reading.\n"
    );
    assert_eq!(j["approval"]["interpretation_edited"], true);
}

#[test]
fn decisions_need_a_git_identity() {
    let repo = train_repo();
    let id = presented(&repo);
    let before = tip(&repo, "train", &id);
    for args in [
        vec!["approve", id.as_str(), "--yes"],
        vec!["reject", id.as_str(), "--issue", "x"],
    ] {
        let o = repo
            .cmd(crate::common::BIN, &args)
            .env_remove("GIT_AUTHOR_NAME")
            .env_remove("GIT_AUTHOR_EMAIL")
            .env_remove("GIT_COMMITTER_NAME")
            .env_remove("GIT_COMMITTER_EMAIL")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("user.name") && err.contains("user.email"),
            "{err}"
        );
    }
    assert_eq!(tip(&repo, "train", &id), before);
}

#[test]
fn concurrent_decisions_on_one_run_exactly_one_wins() {
    for round in 0..4 {
        let repo = train_repo();
        let id = presented(&repo);
        let spawn = |args: &[&str]| {
            repo.cmd(crate::common::BIN, args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = if round % 2 == 0 {
            (
                spawn(&["approve", &id, "--yes"]),
                spawn(&["reject", &id, "--issue", "no"]),
            )
        } else {
            (
                spawn(&["approve", &id, "--yes"]),
                spawn(&["approve", &id, "--yes"]),
            )
        };
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let codes = [a.status.code().unwrap(), b.status.code().unwrap()];
        assert_eq!(
            codes.iter().filter(|c| **c == 0).count(),
            1,
            "round {round}: {codes:?} {} {}",
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&b.stderr)
        );
        assert!(codes.contains(&1), "the loser is refused: {codes:?}");
        let log = repo.wb(&["--json", "log", "train"]).ok().json();
        let events = log["runs"][0]["events"].as_array().unwrap().clone();
        assert_eq!(events.len(), 4, "{events:?}");
        repo.fsck();
    }
}

#[cfg(unix)]
#[test]
fn signed_approvals_verify_with_git_and_verify_approvals() {
    crate::common::require_program("ssh-keygen", "openssh-client");
    let repo = train_repo();
    let key = repo.home.join("id_ed25519");
    let other = repo.home.join("other_ed25519");
    for k in [&key, &other] {
        let ok = std::process::Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "test",
                "-f",
                k.to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let id = presented(&repo);
    // signing asked for, no key configured
    repo.wb(&["approve", &id, "--yes", "--sign"])
        .fails(2, "user.signingKey");
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&["config", "user.signingKey", key.to_str().unwrap()]);
    let j = repo
        .wb(&["--json", "approve", &id, "--yes", "--sign"])
        .ok()
        .json();
    assert_eq!(j["signed"], true);
    let pubkey = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    repo.write(
        ".workbench/allowed_signers",
        &format!("ada@example.com namespaces=\"git\" {pubkey}"),
    );
    let allowed = repo.path(".workbench/allowed_signers");
    let rref = format!("refs/workbench/runs/train/{id}");
    let v = repo.git_run(&[
        "-c",
        &format!("gpg.ssh.allowedSignersFile={}", allowed.display()),
        "verify-commit",
        &rref,
    ]);
    assert_eq!(v.code, 0, "git verify-commit: {}", v.stderr);
    assert!(
        v.stderr
            .contains("Good \"git\" signature for ada@example.com"),
        "{}",
        v.stderr
    );
    let r = repo.wb(&["--json", "verify-approvals"]).ok().json();
    assert_eq!(r["approvals"][0]["status"], "good");
    assert!(repo.wb(&["show", &id]).ok().stdout.contains("(signed)"));

    // an approval signed by a key that is not allowed, and one not signed at all
    repo.git(&["config", "user.signingKey", other.to_str().unwrap()]);
    let id2 = presented(&repo);
    repo.wb(&["approve", &id2, "--yes", "--sign"]).ok();
    let id3 = presented(&repo);
    repo.wb(&["approve", &id3, "--yes"]).ok();
    let r = repo.wb(&["--json", "verify-approvals"]);
    assert_eq!(r.code, 1);
    let j = r.json();
    let status = |run: &str| {
        j["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["run_id"] == run)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status(&id), "good");
    assert_eq!(status(&id2), "unlisted_signer");
    assert_eq!(status(&id3), "unsigned");
    assert_eq!(j["problems"], 2);
    repo.fsck();
}

/// A signer that quits at once (no key, a broken setup) fails the approval with its
/// own words, exit 2, and nothing is recorded — never a silent success.
#[cfg(unix)]
#[test]
fn a_signer_that_quits_fails_the_approval_and_records_nothing() {
    let repo = train_repo();
    let id = presented(&repo);
    let signer = repo.home.join("broken-signer");
    script(&signer, "#!/bin/sh\necho 'no such key' >&2\nexit 3\n");
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&["config", "gpg.ssh.program", signer.to_str().unwrap()]);
    repo.git(&["config", "user.signingKey", "/nonexistent/key"]);
    let before = repo.git(&["rev-parse", &format!("refs/workbench/runs/train/{id}")]);
    let r = repo
        .wb(&["approve", &id, "--yes", "--sign"])
        .fails(2, "no such key");
    assert!(r.stderr.contains("signing with"), "{}", r.stderr);
    assert_eq!(
        repo.git(&["rev-parse", &format!("refs/workbench/runs/train/{id}")]),
        before
    );
    assert!(repo
        .git_run(&[
            "rev-parse",
            "-q",
            "--verify",
            "refs/workbench/approved/train"
        ])
        .stdout
        .is_empty());
}

/// The approval rules and the swap agree: if another run of the stage is approved
/// while the human is still editing, the older approval is refused, not recorded
/// over it.
#[cfg(unix)]
#[test]
fn an_approval_made_while_another_is_being_edited_wins() {
    let repo = train_repo();
    let older = presented(&repo);
    let newer = presented(&repo);
    let editor = repo.home.join("editor");
    script(
        &editor,
        &format!(
            "#!/bin/sh\n{} approve {newer} --yes >/dev/null 2>&1 || exit 9\necho 'my words' > \"$1\"\n",
            crate::common::BIN
        ),
    );
    let r = repo
        .cmd(crate::common::BIN, &["approve", &older, "--yes", "--edit"])
        .env("GIT_EDITOR", &editor)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains("was approved while this approval was being written"),
        "{err}"
    );
    let s = repo.wb(&["--json", "status", "train"]).ok().json();
    assert_eq!(s["stages"][0]["approved_run"], newer.as_str());
    repo.fsck();
}

#[cfg(unix)]
fn script(path: &std::path::Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
