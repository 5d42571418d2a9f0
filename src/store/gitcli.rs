//! What only the git CLI does: where hooks live (`core.hooksPath`, worktrees),
//! whether this git trusts a diff driver's exit code, signature verification with an
//! explicit allowed-signers file, and git's own line merge.

use super::error::{Error, Result};
use super::{oid, Store};
use crate::model::decision::SignatureStatus;
use crate::model::ObjectId;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn git_failed(what: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Tool {
        what: format!("cannot run git {what}"),
        message: e.to_string(),
    }
}

/// Where the pre-commit hook lives for the repository at `root`, as git resolves it
/// (`git rev-parse --git-path hooks`: `core.hooksPath`, the common dir of worktrees).
/// Under husky (`core.hooksPath=.husky/_`) it is `.husky/pre-commit`.
pub fn pre_commit_hook_path(root: &Path) -> Result<PathBuf> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--git-path", "hooks"])
        .output()
        .map_err(git_failed("rev-parse"))?;
    if !out.status.success() {
        return Err(Error::Tool {
            what: "git rev-parse --git-path hooks failed".into(),
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let dir = if dir.is_absolute() {
        dir
    } else {
        root.join(dir)
    };
    if dir.ends_with(".husky/_") || dir.ends_with(".husky\\_") {
        return Ok(dir.parent().expect("husky dir").join("pre-commit"));
    }
    Ok(dir.join("pre-commit"))
}

/// True when the installed git honours `diff.<driver>.trustExitCode` (git 2.46+);
/// an unknown version is taken as new.
pub fn git_trusts_exit_codes() -> bool {
    let Ok(o) = Command::new("git").arg("--version").output() else {
        return true;
    };
    let text = String::from_utf8_lossy(&o.stdout);
    let mut nums = text
        .split_whitespace()
        .nth(2)
        .unwrap_or("")
        .split('.')
        .map(|n| n.parse::<u32>().ok());
    match (nums.next().flatten(), nums.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (2, 46),
        _ => true,
    }
}

/// git's line merge of three files, in place in `ours`; true when it merged cleanly.
pub fn merge_file(ours: &Path, base: &Path, theirs: &Path, marker_size: usize) -> Result<bool> {
    let status = Command::new("git")
        .args(["merge-file", &format!("--marker-size={marker_size}")])
        .args(["-L", "ours", "-L", "base", "-L", "theirs"])
        .arg(ours)
        .arg(base)
        .arg(theirs)
        .status()
        .map_err(git_failed("merge-file"))?;
    Ok(status.success())
}

impl Store {
    /// Verifies the signature of a record commit with `git verify-commit`, trusting the
    /// ssh keys in `allowed_signers`. Returns the status and git's message.
    pub fn verify_commit(
        &self,
        commit: ObjectId,
        allowed_signers: &Path,
    ) -> (SignatureStatus, String) {
        if self.repo.extract_signature(&oid(commit), None).is_err() {
            return (SignatureStatus::Unsigned, "no signature".to_string());
        }
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.repo.path())
            .arg("-c")
            .arg(format!(
                "gpg.ssh.allowedSignersFile={}",
                allowed_signers.display()
            ))
            .args(["verify-commit", "--raw", &commit.to_string()])
            .stdin(Stdio::null())
            .output();
        let Ok(out) = out else {
            return (
                SignatureStatus::BadSignature,
                "cannot run git verify-commit".to_string(),
            );
        };
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        if out.status.success() {
            let who = text
                .lines()
                .find(|l| l.contains("Good"))
                .unwrap_or(&first)
                .trim()
                .to_string();
            return (SignatureStatus::Good, who);
        }
        let lower = text.to_ascii_lowercase();
        if lower.contains("no principal matched")
            || lower.contains("no public key")
            || lower.contains("allowedsignersfile")
        {
            (SignatureStatus::UnlistedSigner, first)
        } else {
            (SignatureStatus::BadSignature, first)
        }
    }
}
