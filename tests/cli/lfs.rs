//! Outputs over `max_stored_size` kept in git LFS (`large_outputs = "lfs"`), with the
//! real git-lfs: the record holds a standard pointer that `git lfs` itself accepts,
//! `push` uploads the object to a local bare remote (git-lfs's standalone transfer
//! agent, for a plain path and for a file:// URL alike), a fresh clone's `checkout`
//! downloads and restores it byte for byte, and a tampered object or a forged pointer
//! is refused with nothing written.

use crate::attacks::{blob, git_in, tree};
use crate::common::{require_program, sha256sum, Repo};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const LFS_CONFIG: &str = r#"
[stages.big]
cmd = "sh make.sh"
outs = ["runs/{run_id}/big.bin", "runs/{run_id}/small.txt"]
max_stored_size = "1KiB"
large_outputs = "lfs"

[stages.plain]
cmd = "sh make.sh"
outs = ["runs/{run_id}/big.bin", "runs/{run_id}/small.txt"]
max_stored_size = "1KiB"
"#;

/// ~14 KB that differ per run, and a small file the record stores itself.
const MAKE_SH: &str = r#"set -e
mkdir -p "$WORKBENCH_RUN_DIR"
{ seq 1 3000; echo "$WORKBENCH_RUN_ID"; } > "$WORKBENCH_RUN_DIR/big.bin"
chmod +x "$WORKBENCH_RUN_DIR/big.bin"
echo small > "$WORKBENCH_RUN_DIR/small.txt"
"#;

fn lfs_repo() -> Repo {
    require_program("git-lfs", "git-lfs");
    Repo::with(LFS_CONFIG, &[("make.sh", MAKE_SH)])
}

fn run(repo: &Repo, stage: &str) -> String {
    let r = repo.wb(&["--json", "run", stage]).ok().json();
    r["run_id"].as_str().unwrap().to_string()
}

fn big(id: &str) -> String {
    format!("runs/{id}/big.bin")
}

/// Where git-lfs keeps an object of `repo` (`sha256:<hex>` or bare hex).
fn object_path(git_dir: &Path, oid: &str) -> PathBuf {
    let hex = oid.trim_start_matches("sha256:");
    git_dir
        .join("lfs/objects")
        .join(&hex[0..2])
        .join(&hex[2..4])
        .join(hex)
}

/// Runs a program in `repo` with `input` on stdin: (exit code, stdout, stderr).
fn piped(repo: &Repo, program: &str, args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = repo
        .cmd(program, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A bare remote, `ada` (the project pushed to it, initialised) and `bob`, a fresh
/// clone of it through a file:// URL.
fn team() -> (Repo, Repo, Repo) {
    let remote = Repo::bare_dir();
    remote.git(&["init", "-q", "--bare", "-b", "main"]);
    let ada = lfs_repo();
    ada.git(&["remote", "add", "origin", remote.root.to_str().unwrap()]);
    ada.git(&["push", "-q", "origin", "main"]);
    ada.wb(&["init"]).ok();
    let bob = Repo::bare_dir();
    let url = format!("file://{}", remote.root.display());
    bob.git(&["clone", "-q", &url, "."]);
    bob.wb(&["init"]).ok();
    (remote, ada, bob)
}

#[test]
fn run_keeps_a_large_output_in_lfs_as_a_standard_pointer_and_object() {
    let repo = lfs_repo();
    let id = run(&repo, "big");
    let m = repo.manifest("big", &id);
    let path = big(&id);
    let bytes = std::fs::read(repo.path(&path)).unwrap();
    let oid = sha256sum(&repo.path(&path));
    assert_eq!(m["outputs"][&path], oid.as_str());
    assert_eq!(m["lfs_outputs"][&path], bytes.len() as u64, "{m}");
    assert_eq!(m["lfs_outputs"].as_object().unwrap().len(), 1, "{m}");
    let stored: Vec<&str> = m["stored_outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(stored, [format!("runs/{id}/small.txt")]);
    // the record holds the pointer at lfs/<path>, nothing under outputs/ for it
    let record = format!("refs/workbench/runs/big/{id}");
    let pointer = repo.git(&["show", &format!("{record}:lfs/{path}")]) + "\n";
    assert_eq!(
        pointer,
        format!(
            "version https://git-lfs.github.com/spec/v1\noid {oid}\nsize {}\n",
            bytes.len()
        )
    );
    // with the file's mode, as git-lfs keeps an executable one
    let entry = repo.git(&["ls-tree", &record, &format!("lfs/{path}")]);
    assert!(entry.starts_with("100755 blob "), "{entry}");
    let r = repo.git_run(&["cat-file", "-e", &format!("{record}:outputs/{path}")]);
    assert_ne!(r.code, 0, "the large output is stored in the record too");
    // the object sits where git-lfs looks, with the very bytes
    let object = object_path(&repo.path(".git"), &oid);
    assert_eq!(std::fs::read(&object).unwrap(), bytes);
    // git-lfs agrees: the pointer is canonical, it is the one of the file, and fsck
    // of the record finds its object intact
    let (code, _, err) = piped(
        &repo,
        "git",
        &["lfs", "pointer", "--check", "--strict", "--stdin"],
        pointer.as_bytes(),
    );
    assert_eq!(code, 0, "git lfs pointer --check: {err}");
    let theirs = repo
        .cmd("git", &["lfs", "pointer", "--file", &path])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&theirs.stdout), pointer);
    let fsck = repo.git(&["lfs", "fsck", &record]);
    assert!(fsck.contains("Git LFS fsck OK"), "{fsck}");
    repo.fsck();
    // show says where it is
    let shown = repo.wb(&["show", &id]).ok().stdout;
    assert!(shown.contains("(in git LFS)"), "{shown}");
}

#[test]
fn push_shares_the_object_and_a_fresh_clone_checks_it_out_byte_identical() {
    let (remote, ada, bob) = team();
    let id = run(&ada, "big");
    let path = big(&id);
    let bytes = std::fs::read(ada.path(&path)).unwrap();
    let oid = sha256sum(&ada.path(&path));
    // decisions are later commits of the record: its lfs/ tree stays with them
    ada.wb(&["review", &id]).ok();
    ada.wb(&["approve", &id, "--yes"]).ok();
    ada.wb(&["push"]).ok();
    // the object reached the remote's LFS store (git-lfs's layout in a bare repo)
    assert_eq!(
        std::fs::read(object_path(&remote.root, &oid)).unwrap(),
        bytes
    );
    bob.wb(&["fetch"]).ok();
    assert!(!object_path(&bob.path(".git"), &oid).exists());
    let r = bob.wb(&["--json", "checkout", "big@approved"]).ok().json();
    assert_eq!(std::fs::read(bob.path(&path)).unwrap(), bytes);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(bob.path(&path))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "the executable bit was not restored");
    assert_eq!(
        std::fs::read(bob.path(&format!("runs/{id}/small.txt"))).unwrap(),
        b"small\n"
    );
    let files = r["files"].as_array().unwrap();
    assert!(
        files
            .iter()
            .any(|f| f["path"] == path.as_str() && f["action"] == "new"),
        "{r}"
    );
    assert_eq!(r["not_stored"], serde_json::json!([]), "{r}");
    // it came through git-lfs into bob's own LFS store, which git-lfs checks
    assert!(object_path(&bob.path(".git"), &oid).exists());
    let fsck = bob.git(&["lfs", "fsck", &format!("refs/workbench/runs/big/{id}")]);
    assert!(fsck.contains("Git LFS fsck OK"), "{fsck}");
    // a second checkout has nothing to do
    let again = bob.wb(&["--json", "checkout", &id]).ok().json();
    assert!(
        again["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["action"] == "unchanged"),
        "{again}"
    );
    // the clone that ran it, its object and file deleted, downloads it again
    std::fs::remove_file(object_path(&ada.path(".git"), &oid)).unwrap();
    std::fs::remove_file(ada.path(&path)).unwrap();
    ada.wb(&["checkout", &id]).ok();
    assert_eq!(std::fs::read(ada.path(&path)).unwrap(), bytes);
    // sync shares later runs the same way
    let id2 = run(&bob, "big");
    bob.wb(&["sync"]).ok();
    ada.wb(&["sync"]).ok();
    let out = ada.wb(&["checkout", &id2, "--to", "elsewhere"]).ok().stdout;
    assert!(out.contains("elsewhere/big.bin"), "{out}");
    assert_eq!(
        std::fs::read(ada.path("elsewhere/big.bin")).unwrap(),
        std::fs::read(bob.path(&big(&id2))).unwrap()
    );
    ada.fsck();
    bob.fsck();
    remote.fsck();
}

#[test]
fn a_tampered_or_substituted_object_is_refused_and_nothing_is_written() {
    let (remote, ada, bob) = team();
    let id = run(&ada, "big");
    let path = big(&id);
    let oid = sha256sum(&ada.path(&path));
    let bytes = std::fs::read(ada.path(&path)).unwrap();
    ada.wb(&["push"]).ok();
    bob.wb(&["fetch"]).ok();
    // the same oid path, other bytes of the same size, in the local store
    let local = object_path(&bob.path(".git"), &oid);
    let mut other = bytes.clone();
    other[100] ^= 0x20;
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    std::fs::write(&local, &other).unwrap();
    let r = bob
        .wb(&["checkout", &id])
        .fails(1, "does not match its record");
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert!(r.stderr.contains("hint: delete"), "{}", r.stderr);
    assert!(
        !bob.path(&format!("runs/{id}")).exists(),
        "something was written"
    );
    // a shorter one too
    std::fs::write(&local, &bytes[..10]).unwrap();
    bob.wb(&["checkout", &id])
        .fails(1, "does not match its record");
    assert!(!bob.path(&format!("runs/{id}")).exists());
    // deleted, it is fetched again, and the real bytes are restored
    std::fs::remove_file(&local).unwrap();
    bob.wb(&["checkout", &id]).ok();
    assert_eq!(std::fs::read(bob.path(&path)).unwrap(), bytes);
    // substituted on the remote: git-lfs or workbench refuses it, nothing is written.
    // (git-lfs's local transfer hard-links objects: replace the file, do not write
    // into it, or ada's own object would change with it.)
    std::fs::remove_file(&local).unwrap();
    std::fs::remove_dir_all(bob.path(&format!("runs/{id}"))).unwrap();
    let on_remote = object_path(&remote.root, &oid);
    std::fs::remove_file(&on_remote).unwrap();
    std::fs::write(&on_remote, &other).unwrap();
    let r = bob.wb(&["checkout", &id]);
    assert_ne!(
        r.code, 0,
        "a substituted object was accepted:\n{}",
        r.stdout
    );
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert!(
        !bob.path(&format!("runs/{id}")).exists(),
        "something was written"
    );
    assert!(
        !local.exists() || std::fs::read(&local).unwrap() != bytes,
        "unexpected object"
    );
    // push refuses to share a corrupt local object, before any ref moves
    let id2 = run(&ada, "big");
    let oid2 = sha256sum(&ada.path(&big(&id2)));
    std::fs::write(object_path(&ada.path(".git"), &oid2), b"corrupt").unwrap();
    let before = remote.git(&["for-each-ref", "refs/workbench/"]);
    ada.wb(&["push"]).fails(1, "is corrupt");
    assert_eq!(remote.git(&["for-each-ref", "refs/workbench/"]), before);
    assert!(!before.contains(&id2));
    assert!(!object_path(&remote.root, &oid2).exists());
}

/// What a forged record's pointer says, the size its manifest claims (when edited),
/// and the exit code and message expected.
type Forgery = (&'static str, String, Option<u64>, (i32, &'static str));

#[test]
fn a_hostile_pointer_in_a_forged_record_is_refused_before_use() {
    let repo = lfs_repo();
    let id = run(&repo, "big");
    let path = big(&id);
    let m = repo.manifest("big", &id);
    let oid = m["outputs"][&path].as_str().unwrap().to_string();
    let size = m["lfs_outputs"][&path].as_u64().unwrap();
    // another object that exists locally: a pointer to it must not pass for this one
    let id2 = run(&repo, "big");
    let oid2 = repo.manifest("big", &id2)["outputs"][&big(&id2)]
        .as_str()
        .unwrap()
        .to_string();
    let record = format!("refs/workbench/runs/big/{id}");
    let canonical = format!("version https://git-lfs.github.com/spec/v1\noid {oid}\nsize {size}\n");
    const POINTER: (i32, &str) = (2, "LFS pointer");
    let cases: Vec<Forgery> = vec![
        (
            "extra key",
            format!("{canonical}x-evil yes\n"),
            None,
            POINTER,
        ),
        ("CRLF", canonical.replace('\n', "\r\n"), None, POINTER),
        (
            "short oid",
            canonical.replace(&oid, &oid[..70]),
            None,
            POINTER,
        ),
        (
            "upper-case oid",
            canonical.replace(&oid, &oid.to_uppercase().replace("SHA256", "sha256")),
            None,
            POINTER,
        ),
        (
            "other size",
            canonical.replace(&format!("size {size}"), &format!("size {}", size - 1)),
            None,
            POINTER,
        ),
        (
            "other object",
            canonical.replace(&oid, &oid2),
            None,
            POINTER,
        ),
        ("not a pointer", "hello\n".to_string(), None, POINTER),
        // pointer and manifest agree on a lie: the object's bytes give it away
        (
            "size lied in both",
            canonical.replace(&format!("size {size}"), "size 7"),
            Some(7),
            (1, "does not match its record"),
        ),
    ];
    for (n, (what, pointer, manifest_size, (code, needle))) in cases.into_iter().enumerate() {
        let forged = format!("20260308T142233Z-bad{n}");
        let mut fm = m.clone();
        fm["run_id"] = forged.as_str().into();
        if let Some(s) = manifest_size {
            fm["lfs_outputs"][&path] = s.into();
        }
        let manifest = blob(&repo, serde_json::to_string(&fm).unwrap().as_bytes());
        let p = blob(&repo, pointer.as_bytes());
        let t1 = tree(&repo, None, &[("100644", "big.bin", p)]);
        let t2 = tree(&repo, None, &[("040000", id.as_str(), t1)]);
        let lfs = tree(&repo, None, &[("040000", "runs", t2)]);
        let base = format!("{record}^{{tree}}");
        let t = tree(
            &repo,
            Some(&base),
            &[
                ("100644", "manifest.json", manifest),
                ("040000", "lfs", lfs),
            ],
        );
        let msg = format!(
            "workbench: executed big {forged}\n\nWorkbench-Event: executed\nWorkbench-Stage: big\nWorkbench-Run: {forged}\n"
        );
        let c = git_in(&repo, &["commit-tree", &t], msg.as_bytes());
        repo.git(&[
            "update-ref",
            &format!("refs/workbench/runs/big/{forged}"),
            &c,
        ]);
        let dest = format!("out-{n}");
        let r = repo.wb(&["checkout", &forged, "--to", &dest]);
        assert_eq!(r.code, code, "{what}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("nothing was written"),
            "{what}: {}",
            r.stderr
        );
        assert!(r.stderr.contains(needle), "{what}: {}", r.stderr);
        assert!(!repo.path(&dest).exists(), "{what}: something was written");
    }
    // a manifest that lists an LFS output the record has no pointer for
    let forged = "20260308T142233Z-bad9";
    let mut fm = m.clone();
    fm["run_id"] = forged.into();
    fm["lfs_outputs"]["runs/x/ghost.bin"] = 5.into();
    fm["outputs"]["runs/x/ghost.bin"] = oid.as_str().into();
    let manifest = blob(&repo, serde_json::to_string(&fm).unwrap().as_bytes());
    let t = tree(
        &repo,
        Some(&format!("{record}^{{tree}}")),
        &[("100644", "manifest.json", manifest)],
    );
    let msg = format!(
        "workbench: executed big {forged}\n\nWorkbench-Event: executed\nWorkbench-Stage: big\nWorkbench-Run: {forged}\n"
    );
    let c = git_in(&repo, &["commit-tree", &t], msg.as_bytes());
    repo.git(&[
        "update-ref",
        &format!("refs/workbench/runs/big/{forged}"),
        &c,
    ]);
    repo.wb(&["checkout", forged, "--to", "out-9"])
        .fails(2, "no LFS pointer for runs/x/ghost.bin");
    assert!(!repo.path("out-9").exists());
    // the genuine record still checks out
    repo.wb(&["checkout", &id, "--to", "good"]).ok();
    assert_eq!(
        std::fs::read(repo.path("good/big.bin")).unwrap(),
        std::fs::read(repo.path(&path)).unwrap()
    );
}

/// A PATH with `git` and `sh` but no git-lfs.
fn path_without_git_lfs(repo: &Repo) -> PathBuf {
    let bin = repo.home.join("no-lfs-bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["git", "sh", "seq", "mkdir", "chmod"] {
        let found = std::env::split_paths(&crate::common::test_path())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} not found"));
        std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
    }
    bin
}

#[test]
fn without_git_lfs_run_still_works_and_sharing_says_what_to_install() {
    let (_remote, ada, bob) = team();
    let bin = path_without_git_lfs(&ada);
    let no_lfs = |repo: &Repo, args: &[&str]| {
        let o = repo
            .cmd(crate::common::BIN, args)
            .env("PATH", &bin)
            .output()
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = no_lfs(&ada, &["run", "big"]);
    assert_eq!(code, 0, "run needs no git-lfs: {err}");
    // doctor says so, with the package to install
    let o = ada
        .cmd(crate::common::BIN, &["--json", "doctor"])
        .env("PATH", &bin)
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lfs = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "git lfs")
        .unwrap_or_else(|| panic!("no git lfs check: {j}"));
    assert_eq!(lfs["status"], "warn", "{lfs}");
    assert!(
        lfs["fix"].as_str().unwrap().contains("apt install git-lfs"),
        "{lfs}"
    );
    let with = ada.wb(&["--json", "doctor"]).json();
    let found = with["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["check"] == "git lfs" && c["status"] == "ok");
    assert!(found, "{with}");
    let (code, err) = no_lfs(&ada, &["push"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("git-lfs is not installed"), "{err}");
    assert!(err.contains("hint: apt install git-lfs"), "{err}");
    assert!(
        ada.git(&["ls-remote", "origin", "refs/workbench/*"])
            .is_empty(),
        "refs were pushed before their objects"
    );
    ada.wb(&["push"]).ok();
    bob.wb(&["fetch"]).ok();
    let id = bob.git(&[
        "for-each-ref",
        "--format=%(refname:lstrip=4)",
        "refs/workbench/runs/big/",
    ]);
    let bin = path_without_git_lfs(&bob);
    let o = bob
        .cmd(crate::common::BIN, &["checkout", &id])
        .env("PATH", &bin)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(err.contains("hint: apt install git-lfs"), "{err}");
    assert!(
        !bob.path(&format!("runs/{id}")).exists(),
        "something was written"
    );
}

#[test]
fn a_stage_without_lfs_is_unchanged_and_checkout_says_how_to_enable_it() {
    let repo = lfs_repo();
    let id = run(&repo, "plain");
    let m = repo.manifest("plain", &id);
    assert!(m.get("lfs_outputs").is_none(), "{m}");
    let path = big(&id);
    assert_eq!(m["outputs"][&path], sha256sum(&repo.path(&path)).as_str());
    let tree = repo.git(&[
        "ls-tree",
        "--name-only",
        &format!("refs/workbench/runs/plain/{id}"),
    ]);
    assert!(!tree.lines().any(|l| l == "lfs"), "{tree}");
    assert!(!repo.path(".git/lfs").exists(), "an LFS store was created");
    std::fs::remove_file(repo.path(&path)).unwrap();
    let out = repo.wb(&["checkout", &id]).ok().stdout;
    assert!(out.contains(&format!("not stored {path}")), "{out}");
    assert!(out.contains("large_outputs = \"lfs\""), "{out}");
    // a top-level default applies to every stage that does not choose
    let cfg = format!(
        "large_outputs = \"lfs\"\n{}",
        LFS_CONFIG.replace("large_outputs = \"lfs\"\n", "")
    );
    repo.write("workbench.toml", &cfg);
    let id2 = run(&repo, "plain");
    assert!(repo.manifest("plain", &id2)["lfs_outputs"]
        .get(big(&id2))
        .is_some());
    // and a stage can opt out of it
    repo.write(
        "workbench.toml",
        &cfg.replace(
            "[stages.plain]\n",
            "[stages.plain]\nlarge_outputs = \"hash\"\n",
        ),
    );
    let id3 = run(&repo, "plain");
    assert!(repo.manifest("plain", &id3).get("lfs_outputs").is_none());
    // a value that is neither is refused, naming the key
    repo.write(
        "workbench.toml",
        &cfg.replace("large_outputs = \"lfs\"", "large_outputs = \"dvc\""),
    );
    repo.wb(&["run", "plain"]).fails(2, "large_outputs");
    repo.fsck();
}

#[test]
fn checkout_never_writes_an_lfs_output_through_a_link() {
    let repo = lfs_repo();
    let id = run(&repo, "big");
    let path = big(&id);
    let victim = repo.home.join("victim.txt");
    std::fs::write(&victim, "keep me\n").unwrap();
    std::fs::remove_file(repo.path(&path)).unwrap();
    std::os::unix::fs::symlink(&victim, repo.path(&path)).unwrap();
    repo.wb(&["checkout", &id, "--force"])
        .fails(1, "symbolic link");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
}

#[test]
fn a_linked_worktree_shares_the_lfs_store_of_its_repository() {
    let repo = lfs_repo();
    let wt = repo.home.join("wt");
    repo.git(&["worktree", "add", "-q", wt.to_str().unwrap()]);
    let r = repo.wb_in(&wt, &["--json", "run", "big"]).ok().json();
    let id = r["run_id"].as_str().unwrap();
    let oid = sha256sum(&wt.join(big(id)));
    // where git-lfs itself looks from either checkout: the common git dir
    assert!(object_path(&repo.path(".git"), &oid).is_file());
    let fsck = repo
        .cmd(
            "git",
            &["lfs", "fsck", &format!("refs/workbench/runs/big/{id}")],
        )
        .current_dir(&wt)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&fsck.stdout).contains("Git LFS fsck OK"),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    std::fs::remove_file(wt.join(big(id))).unwrap();
    repo.wb_in(&wt, &["checkout", id]).ok();
    assert_eq!(sha256sum(&wt.join(big(id))), oid);
}

#[test]
fn imported_runs_keep_their_large_outputs_in_lfs_too() {
    let repo = lfs_repo();
    let dir = "old/20260301T101500Z-1a00";
    let bytes: String = (0..2000).map(|i| format!("{i}\n")).collect();
    repo.write(&format!("{dir}/big.bin"), &bytes);
    repo.write(&format!("{dir}/metrics.json"), "{\"auc\": 0.7}");
    let j = repo
        .wb(&["--json", "import", "runs", "old", "--stage", "big"])
        .ok()
        .json();
    let id = j["imported"][0].as_str().unwrap().to_string();
    let m = repo.manifest("big", &id);
    let path = format!("{dir}/big.bin");
    assert_eq!(m["lfs_outputs"][&path], bytes.len() as u64, "{m}");
    let fsck = repo.git(&["lfs", "fsck", &format!("refs/workbench/runs/big/{id}")]);
    assert!(fsck.contains("Git LFS fsck OK"), "{fsck}");
    let r = repo
        .wb(&["--json", "checkout", &id, "--to", "back"])
        .ok()
        .json();
    assert_eq!(r["not_stored"], serde_json::json!([]), "{r}");
    let restored = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path.as_str())
        .unwrap_or_else(|| panic!("{r}"))["to"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        std::fs::read_to_string(repo.path(&restored)).unwrap(),
        bytes
    );
    // importing again changes nothing
    let again = repo
        .wb(&["--json", "import", "runs", "old", "--stage", "big"])
        .ok()
        .json();
    assert_eq!(again["already_imported"][0], id.as_str(), "{again}");
}
