//! `checkout`: a run's stored outputs and code snapshot restored from the record.

use crate::common::{sha256sum, Repo};
use crate::{run_json, train_repo};
use std::os::unix::fs::FileTypeExt;

#[test]
fn outputs_are_restored_and_verified_and_never_silently_overwritten() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    let out_csv = repo.path(&format!("runs/{id}/out.csv"));
    let want = sha256sum(&out_csv);
    std::fs::remove_dir_all(repo.path(&format!("runs/{id}"))).unwrap();
    let j = repo.wb(&["--json", "checkout", &id]).ok().json();
    let actions: Vec<&str> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["new", "new"], "{j}");
    assert_eq!(sha256sum(&out_csv), want);
    assert_eq!(
        repo.wb(&["--json", "status", "train"]).ok().json()["stages"][0]["state"],
        "executed",
        "restored outputs are the run's own bytes"
    );
    assert!(repo
        .wb(&["checkout", &id])
        .ok()
        .stdout
        .contains("unchanged"));
    // a file with other content is refused, then replaced with --force
    repo.write(&format!("runs/{id}/out.csv"), "edited\n");
    repo.wb(&["checkout", &id])
        .fails(1, "1 file(s) exist with other content");
    assert_eq!(repo.read(&format!("runs/{id}/out.csv")), "edited\n");
    repo.wb(&["checkout", &id, "--force"]).ok();
    assert_eq!(sha256sum(&out_csv), want);
    // elsewhere, with the code snapshot
    let dir = repo.root.parent().unwrap().join("restored");
    repo.wb(&["checkout", &id, "--to", dir.to_str().unwrap(), "--code"])
        .ok();
    assert_eq!(sha256sum(&dir.join("out.csv")), want);
    assert!(dir.join("metrics.json").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join("code/scripts/train.sh")).unwrap(),
        crate::TRAIN_SH
    );
    assert!(dir.join("code/params.yaml").is_file());
    repo.wb(&["checkout", "nope"]).fails(2, "nope");
}

#[test]
fn outputs_too_large_to_store_are_named() {
    let repo = Repo::with(
        "max_stored_size = 10\n[stages.s]\ncmd = \"printf 0123456789abcdef > big.txt; printf 1 > small.txt\"\nouts = [\"big.txt\", \"small.txt\"]\n",
        &[],
    );
    let id = run_json(&repo, &["s"]);
    let dir = repo.root.parent().unwrap().join("r");
    let r = repo
        .wb(&["checkout", &id, "--to", dir.to_str().unwrap()])
        .ok();
    assert!(
        r.stdout.contains("not stored big.txt (sha256:"),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read_to_string(dir.join("small.txt")).unwrap(), "1");
    assert!(!dir.join("big.txt").exists());
    let j = repo
        .wb(&["--json", "checkout", &id, "--to", dir.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(j["not_stored"][0]["path"], "big.txt");
}

/// Checkout never opens what sits at a destination unless it is a regular file: a
/// FIFO (which would block the read) is other content, refused unless forced and then
/// replaced; a link to `/dev/zero` (which would never end the read) is refused as a
/// link. Each attempt runs under `timeout`, so a read that blocks fails the test.
#[test]
fn a_fifo_or_a_link_to_a_device_at_the_destination_is_never_read() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    let out_csv = repo.path(&format!("runs/{id}/out.csv"));
    let want = sha256sum(&out_csv);
    let checkout = |extra: &[&str]| {
        let mut args = vec!["20", crate::common::BIN, "checkout", id.as_str()];
        args.extend_from_slice(extra);
        let o = repo.cmd("timeout", &args).output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    std::fs::remove_file(&out_csv).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&out_csv)
        .status()
        .unwrap();
    assert!(made.success());
    let (code, err) = checkout(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("exist with other content"), "{err}");
    assert!(std::fs::symlink_metadata(&out_csv)
        .unwrap()
        .file_type()
        .is_fifo());
    let (code, err) = checkout(&["--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(sha256sum(&out_csv), want);

    std::fs::remove_file(&out_csv).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &out_csv).unwrap();
    for extra in [&[][..], &["--force"][..]] {
        let (code, err) = checkout(extra);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("through the symbolic link"), "{err}");
        assert!(std::fs::symlink_metadata(&out_csv)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
