//! Attacks on the records, written as an attacker would: records forged with git
//! plumbing (`hash-object`, `mktree`, `commit-tree`, `update-ref`), pushed to a shared
//! bare remote and fetched by a victim clone; replayed signed approvals; destinations
//! reached through symbolic links. Each asserts the refusal and that nothing was
//! written or merged. docs/reliability.md lists what stops each one.

use crate::common::Repo;
use crate::sync::team;
use crate::{run_json, train_repo};
use std::io::Write;
use std::process::Stdio;

/// Runs git with `input` on stdin; its trimmed stdout.
pub(crate) fn git_in(repo: &Repo, args: &[&str], input: &[u8]) -> String {
    let mut child = repo
        .cmd("git", args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub(crate) fn blob(repo: &Repo, bytes: &[u8]) -> String {
    git_in(repo, &["hash-object", "-w", "--stdin"], bytes)
}

/// A tree: `base`'s entries with `entries` (mode, name, id) added or replaced.
pub(crate) fn tree(repo: &Repo, base: Option<&str>, entries: &[(&str, &str, String)]) -> String {
    let mut lines: Vec<String> = match base {
        Some(b) => repo
            .git(&["ls-tree", b])
            .lines()
            .map(str::to_string)
            .collect(),
        None => Vec::new(),
    };
    for (mode, name, id) in entries {
        lines.retain(|l| l.split('\t').nth(1) != Some(*name));
        let kind = if *mode == "040000" { "tree" } else { "blob" };
        lines.push(format!("{mode} {kind} {id}\t{name}"));
    }
    git_in(
        repo,
        &["mktree"],
        format!("{}\n", lines.join("\n")).as_bytes(),
    )
}

fn message(event: &str, stage: &str, run: &str) -> String {
    format!(
        "workbench: {event} {stage} {run}\n\nWorkbench-Event: {event}\nWorkbench-Stage: {stage}\nWorkbench-Run: {run}\n"
    )
}

/// A commit written with `commit-tree` as `Ada <ada@example.com>`.
fn commit(repo: &Repo, tree: &str, parents: &[&str], msg: &str) -> String {
    let mut args = vec!["commit-tree", tree];
    for p in parents {
        args.extend(["-p", p]);
    }
    git_in(repo, &args, msg.as_bytes())
}

fn tip(repo: &Repo, stage: &str, run: &str) -> String {
    repo.git(&["rev-parse", &format!("refs/workbench/runs/{stage}/{run}")])
}

/// A new run record forged from a real one: its tree with `manifest` edited and
/// `extra` entries, a first commit for run `id`, under `refs/workbench/runs/train/id`
/// (also used by the DVC tests: tests/cli/dvc.rs).
pub fn forge_run(
    repo: &Repo,
    real: &str,
    id: &str,
    edit: impl FnOnce(&mut serde_json::Value),
    extra: &[(&str, &str, String)],
) -> String {
    let mut m = repo.manifest("train", real);
    m["run_id"] = id.into();
    edit(&mut m);
    let manifest = blob(repo, serde_json::to_string(&m).unwrap().as_bytes());
    let base = format!("{}^{{tree}}", tip(repo, "train", real));
    let mut entries = vec![("100644", "manifest.json", manifest)];
    entries.extend(extra.iter().cloned());
    let t = tree(repo, Some(&base), &entries);
    let c = commit(repo, &t, &[], &message("executed", "train", id));
    repo.git(&["update-ref", &format!("refs/workbench/runs/train/{id}"), &c]);
    c
}

const X1: &str = "20260308T142233Z-aaa1";
const X2: &str = "20260308T142233Z-aaa2";
const X3: &str = "20260308T142233Z-aaa3";

/// Forged records in `ada`: a run_dir that climbs out, a tree entry named `..`, and a
/// real record replayed under another stage's ref. Returns the real run.
fn forge_three(ada: &Repo) -> String {
    let real = run_json(ada, &["train"]);
    forge_run(
        ada,
        &real,
        X1,
        |m| m["run_dir"] = "../../escape".into(),
        &[],
    );
    let evil = blob(ada, b"pwned\n");
    let dotdot = tree(ada, None, &[("100755", "pwned.sh", evil)]);
    let outputs = tree(ada, None, &[("040000", "..", dotdot)]);
    forge_run(ada, &real, X2, |_| {}, &[("040000", "outputs", outputs)]);
    let real_tip = tip(ada, "train", &real);
    ada.git(&[
        "update-ref",
        &format!("refs/workbench/runs/report/{X3}"),
        &real_tip,
    ]);
    real
}

#[test]
fn forged_records_from_a_remote_are_refused_and_every_clone_stays_clean() {
    let (remote, ada, bob) = team();
    let real = forge_three(&ada);
    // the attacker pushes with plain git: the bare remote checks nothing
    ada.git(&[
        "push",
        "-q",
        "origin",
        "refs/workbench/runs/*:refs/workbench/runs/*",
    ]);
    assert_eq!(
        remote
            .git(&[
                "for-each-ref",
                "--format=%(refname)",
                "refs/workbench/runs/"
            ])
            .lines()
            .count(),
        4
    );

    let r = bob.wb(&["--json", "sync"]).ok().json();
    let refused = r["merged"]["refused"].as_array().unwrap();
    let why = |run: &str| {
        refused
            .iter()
            .find(|x| x["ref"].as_str().unwrap().ends_with(run))
            .unwrap_or_else(|| panic!("{run} not refused: {r}"))["why"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(why(X1).contains("run_dir '../../escape'"), "{}", why(X1));
    assert!(why(X2).contains("tree entry 'outputs/..'"), "{}", why(X2));
    assert!(why(X3).contains("trailers name train/"), "{}", why(X3));
    assert_eq!(refused.len(), 3, "{r}");
    // the real run came through; none of the forged ones, not even as tracking refs
    assert_eq!(
        bob.run_refs()
            .iter()
            .filter(|r| r.starts_with("refs/workbench/runs/"))
            .collect::<Vec<_>>(),
        [&format!("refs/workbench/runs/train/{real}")]
    );
    // names only: an object id may contain "aaa" by chance (CI once failed on b501…aaa)
    let tracking = bob.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/workbench/remotes/",
    ]);
    for forged in [X1, X2, X3] {
        assert!(!tracking.contains(forged), "{tracking}");
    }
    bob.fsck();
    // nothing of the forged trees entered bob's object store
    let forged = ada.git(&["rev-parse", &format!("refs/workbench/runs/train/{X2}")]);
    assert_ne!(bob.git_run(&["cat-file", "-e", &forged]).code, 0);

    // the rest of the sync goes on: bob's own records are pushed past the forged refs
    let mine = run_json(&bob, &["train"]);
    let again = bob.wb(&["--json", "sync"]).ok().json();
    assert_eq!(
        again["merged"]["refused"].as_array().unwrap().len(),
        3,
        "remembered"
    );
    assert!(remote
        .git(&[
            "for-each-ref",
            "--format=%(refname)",
            "refs/workbench/runs/"
        ])
        .contains(&mine));
    bob.fsck();
    // a record forged under the id of bob's run and forced onto the remote shares no
    // history with bob's: refused at the merge, bob's record untouched
    let bobs = bob.git(&["rev-parse", &format!("refs/workbench/runs/train/{mine}")]);
    ada.wb(&["fetch"]).ok();
    forge_run(&ada, &real, &mine, |_| {}, &[]);
    ada.git(&[
        "push",
        "-q",
        "-f",
        "origin",
        &format!("refs/workbench/runs/train/{mine}"),
    ]);
    let r = bob.wb(&["--json", "fetch"]).ok().json();
    assert!(
        r["merged"]["refused"]
            .to_string()
            .contains("shares no history"),
        "{r}"
    );
    assert_eq!(
        bob.git(&["rev-parse", &format!("refs/workbench/runs/train/{mine}")]),
        bobs
    );
    bob.fsck();
    // and the human output names each refused record with its reason
    let text = bob.wb(&["fetch"]).ok();
    assert!(
        text.stdout.contains(X1) || text.stderr.contains(X1),
        "{}{}",
        text.stdout,
        text.stderr
    );
}

/// git checks `.gitmodules` blobs only after it has written the objects it received:
/// a fetch it refuses for that reason has already put them in the store it fetched
/// into, and a second fetch of the same record finds them there and checks nothing.
#[test]
fn a_record_git_refuses_after_writing_its_objects_never_reaches_the_victim() {
    let (_remote, ada, bob) = team();
    let real = run_json(&ada, &["train"]);
    let modules = blob(
        &ada,
        b"[submodule \"x\"]\n\tpath = x\n\turl = --upload-pack=touch /tmp/pwned\n",
    );
    const BAD: &str = "20260308T142233Z-aaa4";
    let forged = forge_run(
        &ada,
        &real,
        BAD,
        |_| {},
        &[("100644", ".gitmodules", modules)],
    );
    ada.git(&[
        "push",
        "-q",
        "origin",
        "refs/workbench/runs/*:refs/workbench/runs/*",
    ]);
    for round in 0..2 {
        let r = bob.wb(&["--json", "fetch"]).ok().json();
        let refused = r["merged"]["refused"].as_array().unwrap();
        assert_eq!(refused.len(), 1, "round {round}: {r}");
        assert!(refused[0]["ref"].as_str().unwrap().ends_with(BAD), "{r}");
        assert!(
            refused[0]["why"]
                .as_str()
                .unwrap()
                .contains("git refuses its objects"),
            "{r}"
        );
        // the real run came through, the forged one not even as a tracking ref
        assert!(
            bob.git_run(&[
                "rev-parse",
                "-q",
                "--verify",
                &format!("refs/workbench/runs/train/{real}")
            ])
            .code
                == 0
        );
        let refs = bob.git(&["for-each-ref", "--format=%(refname)", "refs/workbench/"]);
        assert!(!refs.contains(BAD), "{refs}");
        // nothing of it is in bob's object store, so git fsck --strict stays clean
        assert_ne!(bob.git_run(&["cat-file", "-e", &forged]).code, 0);
        bob.fsck();
        // no pack is left kept
        let packs = std::fs::read_dir(bob.path(".git/objects/pack")).unwrap();
        for p in packs.flatten() {
            assert!(!p.file_name().to_string_lossy().ends_with(".keep"), "{p:?}");
        }
        // and again after a record the remote adds, so the fetch is not skipped
        run_json(&ada, &["train"]);
        ada.wb(&["push"]).ok();
    }
}

#[test]
fn checkout_writes_nothing_for_a_forged_record_and_never_through_a_link() {
    let repo = train_repo();
    let real = forge_three(&repo);
    let outside = repo.root.parent().unwrap().join("escape");
    for (run, needle) in [
        (X1, "run_dir '../../escape'"),
        (X2, "tree entry 'outputs/..'"),
        (&format!("report/{X3}") as &str, "trailers name train/"),
    ] {
        repo.wb(&["checkout", run, "--force"]).fails(1, needle);
        repo.wb(&["show", run]).fails(1, "is not a valid record");
    }
    assert!(!outside.exists());
    assert!(!repo.root.parent().unwrap().join("pwned.sh").exists());

    // a real record, but the destination is reached through a symbolic link
    let away = tempfile::tempdir().unwrap();
    std::fs::remove_dir_all(repo.path(&format!("runs/{real}"))).unwrap();
    std::os::unix::fs::symlink(away.path(), repo.path(&format!("runs/{real}"))).unwrap();
    repo.wb(&["checkout", &real, "--force"])
        .fails(1, "through the symbolic link");
    assert_eq!(
        std::fs::read_dir(away.path()).unwrap().count(),
        0,
        "nothing written"
    );
    let to = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(away.path().join("out.csv"), to.path().join("out.csv")).unwrap();
    repo.wb(&[
        "checkout",
        &real,
        "--to",
        to.path().to_str().unwrap(),
        "--force",
    ])
    .fails(1, "through the symbolic link");
    assert_eq!(std::fs::read_dir(away.path()).unwrap().count(), 0);
    // without the link it restores
    std::fs::remove_file(to.path().join("out.csv")).unwrap();
    repo.wb(&["checkout", &real, "--to", to.path().to_str().unwrap()])
        .ok();
    assert!(to.path().join("out.csv").is_file());
    repo.fsck_forged_ok();
}

impl Repo {
    /// `git fsck` in a repository that holds forged trees on purpose: only the
    /// forged `..` entry may be reported.
    fn fsck_forged_ok(&self) {
        let r = self.git_run(&["fsck", "--no-progress"]);
        for l in r.stderr.lines() {
            assert!(l.contains("..") || !l.contains("error"), "{l}");
        }
    }
}

/// An approval written with plumbing on a run that was never reviewed, approved by
/// someone other than the commit's author.
fn forge_approval(repo: &Repo, approved: &str, victim: &str) {
    let mut a: serde_json::Value = serde_json::from_str(&repo.git(&[
        "show",
        &format!("refs/workbench/runs/train/{approved}:approval.json"),
    ]))
    .unwrap();
    a["run_id"] = victim.into();
    a["approved_by"] = "Mallory <mallory@example.com>".into();
    let b = blob(repo, serde_json::to_string(&a).unwrap().as_bytes());
    let t = tip(repo, "train", victim);
    let tr = tree(
        repo,
        Some(&format!("{t}^{{tree}}")),
        &[("100644", "approval.json", b)],
    );
    let c = commit(repo, &tr, &[&t], &message("approved", "train", victim));
    repo.git(&[
        "update-ref",
        &format!("refs/workbench/runs/train/{victim}"),
        &c,
    ]);
    // as the tool would: the stage's approved index names it
    repo.git(&["update-ref", "refs/workbench/approved/train", &c]);
}

#[test]
fn impossible_approvals_reach_no_narrative_hook_verify_status_or_next() {
    let repo = train_repo();
    let good = run_json(&repo, &["train"]);
    repo.wb(&["review", &good]).ok();
    repo.wb(&["approve", &good, "--yes"]).ok();
    let forged = run_json(&repo, &["train", "-p", "train.lr=0.5"]);
    forge_approval(&repo, &good, &forged);

    let bad = "executed -> approved is a move the state machine forbids";
    repo.write(".gitattributes", "reports/*.md workbench-narrative\n");
    repo.write("reports/r.md", "<!-- workbench:slot stage=train -->\n");
    repo.wb(&["narrative", "new", "train", "reports/r.md"])
        .fails(1, bad);
    assert_eq!(
        repo.read("reports/r.md"),
        "<!-- workbench:slot stage=train -->\n"
    );
    repo.wb(&["show", &forged]).fails(1, bad);
    repo.wb(&["approve", &forged, "--yes"]).fails(1, bad);
    let s = repo.wb(&["--json", "status", "train"]).ok().json();
    let row = &s["stages"][0];
    assert!(row["invalid"][0].as_str().unwrap().contains(bad), "{row}");
    assert_eq!(
        row["approved_run"],
        serde_json::Value::Null,
        "not the forged one"
    );
    let n = repo.wb(&["--json", "next"]).ok().json();
    assert_eq!(n["items"][0]["kind"], "invalid_record", "{n}");
    let log = repo.wb(&["log", "train"]).ok().stdout;
    assert!(log.contains("INVALID") && log.contains(bad), "{log}");
    let d = repo.wb(&["--json", "doctor"]);
    assert!(d.stdout.contains(bad), "{}", d.stdout);
    assert_eq!(d.code, 1);

    // a block citing it: the hook refuses the commit, verify refuses the history
    repo.write(
        "reports/r.md",
        &format!("<!-- workbench:begin stage=train run={forged} -->\n| score | 0.75 |\n<!-- workbench:end -->\n"),
    );
    repo.wb(&["hooks", "install"]).ok();
    repo.git(&["add", "-A"]);
    let o = repo.git_wb(&["commit", "-q", "-m", "cite the forged run"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains(bad), "{err}");
    repo.git_wb(&["commit", "-q", "--no-verify", "-m", "pushed past the hook"]);
    let v = repo.wb(&["--json", "verify"]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.stdout.contains(bad), "{}", v.stdout);
}

#[test]
fn an_identity_other_than_the_author_or_a_replayed_approval_is_refused() {
    let repo = train_repo();
    let good = run_json(&repo, &["train"]);
    repo.wb(&["review", &good]).ok();
    repo.wb(&["approve", &good, "--yes"]).ok();
    // reviewed for real, then an approval naming someone else than its author
    let other = run_json(&repo, &["train", "-p", "train.lr=0.5"]);
    repo.wb(&["review", &other]).ok();
    forge_approval(&repo, &good, &other);
    repo.wb(&["show", &other]).fails(
        1,
        "names Mallory <mallory@example.com> as approver but the commit's author is",
    );
    // the genuine approval replayed under another run id of the same stage
    let replay = "20260308T142233Z-bbb1";
    let t = tip(&repo, "train", &good);
    repo.git(&[
        "update-ref",
        &format!("refs/workbench/runs/train/{replay}"),
        &t,
    ]);
    repo.wb(&["show", replay]).fails(1, "trailers name train/");
    // status names the forged approval for what it is and does not call it approved
    let s = repo.wb(&["--json", "status", "train"]).ok().json();
    let row = &s["stages"][0];
    assert!(
        row["invalid"].to_string().contains("as approver but"),
        "{row}"
    );
    assert_ne!(row["approved_run"], other.as_str());
}

#[cfg(unix)]
#[test]
fn replayed_and_tampered_signatures_never_show_as_signed() {
    crate::common::require_program("ssh-keygen", "openssh-client");
    let repo = train_repo();
    let key = repo.home.join("id_ed25519");
    let ok = repo
        .cmd(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "t",
                "-f",
                key.to_str().unwrap(),
            ],
        )
        .status()
        .unwrap();
    assert!(ok.success());
    repo.git(&["config", "gpg.format", "ssh"]);
    repo.git(&["config", "user.signingKey", key.to_str().unwrap()]);
    let pubkey = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    repo.write(
        ".workbench/allowed_signers",
        &format!("ada@example.com namespaces=\"git\" {pubkey}"),
    );
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["approve", &id, "--yes", "--sign"]).ok();
    let j = repo.wb(&["--json", "show", &id]).ok().json();
    assert_eq!(
        (j["signed"].as_bool(), j["signature"].as_str()),
        (Some(true), Some("good"))
    );

    // replayed under the other stage's ref: verify-approvals calls it invalid
    let signed = tip(&repo, "train", &id);
    repo.git(&[
        "update-ref",
        &format!("refs/workbench/runs/report/{id}"),
        &signed,
    ]);
    let v = repo.wb(&["--json", "verify-approvals"]);
    assert_eq!(v.code, 1);
    let alias = v.json()["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["stage"] == "report")
        .cloned()
        .unwrap();
    assert_eq!(alias["status"], "invalid_record", "{alias}");
    repo.wb(&["show", &format!("report/{id}")])
        .fails(1, "not a valid record");
    repo.git(&[
        "update-ref",
        "-d",
        &format!("refs/workbench/runs/report/{id}"),
    ]);

    // the signed commit with its message altered: the header is still there
    let raw = repo.git(&["cat-file", "commit", &signed]);
    let altered = raw.replacen("approved by", "approved  by", 1);
    assert_ne!(raw, altered);
    let c = git_in(
        &repo,
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        format!("{altered}\n").as_bytes(),
    );
    repo.git(&["update-ref", &format!("refs/workbench/runs/train/{id}"), &c]);
    let j = repo.wb(&["--json", "show", &id]).ok().json();
    assert_eq!(j["signed"], false, "{j}");
    assert_eq!(j["signature"], "bad_signature", "{j}");
    let v = repo.wb(&["--json", "verify-approvals"]).json();
    assert_eq!(v["approvals"][0]["status"], "bad_signature");
}

#[test]
fn a_conflict_on_an_older_run_shows_in_status_and_next() {
    let (_remote, ada, bob) = team();
    let r1 = run_json(&ada, &["train"]);
    ada.wb(&["review", &r1]).ok();
    ada.wb(&["sync"]).ok();
    bob.wb(&["sync"]).ok();
    ada.wb(&["approve", &r1, "--yes"]).ok();
    bob.wb(&["checkout", &r1]).ok();
    bob.wb(&["reject", &r1, "--issue", "too slow"]).ok();
    ada.wb(&["sync"]).ok();
    let r = bob.wb(&["--json", "sync"]).ok().json();
    assert_eq!(r["merged"]["conflicts"][0], format!("train/{r1}"));
    // bob goes on with a newer run: the conflict must not vanish behind it
    let r2 = run_json(&bob, &["train", "-p", "train.lr=0.3"]);
    let s = bob.wb(&["--json", "status", "train"]).ok().json();
    assert_eq!(s["stages"][0]["latest_run"], r2.as_str());
    assert_eq!(s["stages"][0]["conflicts"][0], r1.as_str());
    assert!(bob.wb(&["status"]).ok().stdout.contains("in conflict"));
    let n = bob.wb(&["--json", "next"]).ok().json();
    let item = &n["items"][0];
    assert_eq!(
        (item["kind"].as_str(), item["run_id"].as_str()),
        (Some("resolve_conflict"), Some(r1.as_str())),
        "{n}"
    );
    // a human decision resolves it, and the conflict is gone from status
    bob.wb(&["approve", &r1, "--yes"]).ok();
    let s = bob.wb(&["--json", "status", "train"]).ok().json();
    assert_eq!(s["stages"][0]["conflicts"], serde_json::json!([]));
}

#[test]
fn identical_approvals_from_two_clones_merge_cleanly() {
    let (_remote, ada, bob) = team();
    let r1 = run_json(&ada, &["train"]);
    ada.wb(&["review", &r1]).ok();
    ada.wb(&["card", &r1, "-m", "Score 0.75 is fine."]).ok();
    ada.wb(&["sync"]).ok();
    bob.wb(&["sync"]).ok();
    ada.wb(&["approve", &r1, "--yes"]).ok();
    bob.wb(&["checkout", &r1]).ok();
    bob.wb(&["approve", &r1, "--yes"]).ok();
    ada.wb(&["sync"]).ok();
    let r = bob.wb(&["--json", "sync"]).ok().json();
    assert_eq!(r["merged"]["conflicts"], serde_json::json!([]), "{r}");
    assert_eq!(r["merged"]["identical"][0], format!("train/{r1}"));
    ada.wb(&["sync"]).ok();
    assert_eq!(tip(&ada, "train", &r1), tip(&bob, "train", &r1));
    for repo in [&ada, &bob] {
        let s = repo.wb(&["--json", "status", "train"]).ok().json();
        assert_eq!(s["stages"][0]["approved_run"], r1.as_str());
        assert_eq!(s["stages"][0]["state"], "approved");
        repo.fsck();
    }
}

fn repo_at_tier(tier: u8) -> Repo {
    Repo::with(
        &format!("tier = {tier}\n{}", crate::TRAIN_CONFIG),
        &[
            ("scripts/train.sh", crate::TRAIN_SH),
            ("data/in.csv", "a,b\n1,2\n"),
            ("params.yaml", "train:\n  lr: 0.1\n  depth: 3\nother: 1\n"),
        ],
    )
}

/// A narrative citing a run that is only reviewed, staged with the hook installed.
fn unapproved_block(repo: &Repo) {
    let id = run_json(repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    repo.write(".gitattributes", "reports/*.md workbench-narrative\n");
    repo.write(
        "reports/r.md",
        &format!("<!-- workbench:begin stage=train run={id} -->\n| score | 0.75 |\n<!-- workbench:end -->\n"),
    );
    repo.wb(&["hooks", "install"]).ok();
    repo.git(&["add", "-A"]);
}

#[test]
fn tier_2_warns_where_tier_3_blocks_and_a_commit_cannot_lower_its_tier() {
    let repo = repo_at_tier(2);
    unapproved_block(&repo);
    let o = repo.git_wb(&["commit", "-q", "-m", "draft report"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "tier 2 only warns: {err}");
    assert!(err.contains("tier 2: a warning, tier 3 blocks it"), "{err}");
    let v = repo.wb(&["--json", "verify"]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert!(v.stdout.contains("tier 2: a warning"));

    // at tier 3, lowering the tier in the very commit that needs it does not help
    let repo = repo_at_tier(3);
    unapproved_block(&repo);
    repo.write(
        "workbench.toml",
        &format!("tier = 2\n{}", crate::TRAIN_CONFIG),
    );
    repo.git(&["add", "-A"]);
    let o = repo.git_wb(&["commit", "-q", "-m", "lower the tier and cite"]);
    assert!(!o.status.success(), "HEAD's tier 3 applies");
    repo.git_wb(&["commit", "-q", "--no-verify", "-m", "pushed past the hook"]);
    let v = repo.wb(&["--json", "verify", "--range", "HEAD~1..HEAD"]);
    assert_eq!(v.code, 1, "the base's tier 3 applies: {}", v.stdout);
}

#[test]
fn tier_4_signs_approvals_by_default_and_verify_requires_signatures() {
    let repo = repo_at_tier(4);
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    // no key: tier 4 will not approve unsigned
    repo.wb(&["approve", &id, "--yes"])
        .fails(2, "user.signingKey");
    assert_eq!(event(&repo, &id), "reviewed");
    // an approval made before the tier was raised is not enough for verify
    let low = repo_at_tier(3);
    let id = run_json(&low, &["train"]);
    low.wb(&["review", &id]).ok();
    low.wb(&["approve", &id, "--yes"]).ok();
    low.write(".gitattributes", "reports/*.md workbench-narrative\n");
    low.write("reports/r.md", "<!-- workbench:slot stage=train -->\n");
    low.wb(&["narrative", "new", "train", "reports/r.md"]).ok();
    low.write(
        "workbench.toml",
        &format!("tier = 4\n{}", crate::TRAIN_CONFIG),
    );
    low.git(&["add", "-A"]);
    low.git(&["commit", "-q", "-m", "tier 4 without signers"]);
    low.wb(&["verify"]).fails(
        2,
        "signed approvals are required (workbench.requireSigned or tier 4)",
    );
    low.write(
        ".workbench/allowed_signers",
        "ada@example.com namespaces=\"git\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
    );
    low.git(&["add", "-A"]);
    low.git(&["commit", "-q", "-m", "report at tier 4"]);
    let v = low.wb(&["--json", "verify"]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.stdout.contains("signed approvals are required"),
        "{}",
        v.stdout
    );
}

fn event(repo: &Repo, id: &str) -> String {
    repo.wb(&["--json", "show", id]).ok().json()["state"]
        .as_str()
        .unwrap()
        .to_string()
}
