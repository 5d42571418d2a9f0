//! Signing and verifying record commits the way git does: `ssh-keygen -Y sign` for
//! `gpg.format=ssh`, `gpg -bsau` for OpenPGP; verification through the real
//! `git verify-commit` with the allowed-signers file given explicitly.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The user's signing setup, read from git config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningConfig {
    /// `openpgp` (default), `ssh` or `x509`.
    pub format: String,
    pub key: String,
    /// The program to run (`gpg.program`, `gpg.ssh.program`, `gpg.x509.program`).
    pub program: String,
}

/// Signs `payload`, returning the armored signature git stores in `gpgsig`.
pub fn sign(cfg: &SigningConfig, payload: &[u8]) -> Result<String> {
    let mut cmd = Command::new(&cfg.program);
    match cfg.format.as_str() {
        "ssh" => {
            let key = expand_home(&cfg.key);
            if key.starts_with("key::") || key.starts_with("ssh-") {
                return Err(Error::input(
                    "user.signingKey holds a literal ssh key; git-workbench signs with a key file",
                )
                .hint("set user.signingKey to the path of the private (or agent-backed public) key file"));
            }
            cmd.args(["-Y", "sign", "-n", "git", "-f", &key]);
        }
        "openpgp" | "x509" => {
            cmd.args(["--status-fd=2", "-bsau", &cfg.key]);
        }
        other => return Err(Error::input(format!("unsupported gpg.format '{other}'"))),
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::input(format!("cannot run '{}' to sign: {e}", cfg.program))
                .hint("install it, or set gpg.program / gpg.ssh.program")
        })?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(payload)
        .map_err(Error::io(Path::new(&cfg.program)))?;
    let out = child
        .wait_with_output()
        .map_err(Error::io(Path::new(&cfg.program)))?;
    let armor = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() || !armor.contains("-----BEGIN") {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no signature produced");
        return Err(Error::input(format!(
            "signing with {} failed: {}",
            cfg.program,
            why.trim()
        ))
        .hint("check user.signingKey and gpg.format"));
    }
    Ok(armor)
}

fn expand_home(p: &str) -> String {
    match (p.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => p.to_string(),
    }
}

/// How a signature verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    Good,
    Unsigned,
    BadSignature,
    UnlistedSigner,
}

/// Verifies a commit with `git verify-commit`, trusting the ssh keys in
/// `allowed_signers`. Returns the status and git's message.
pub fn verify_commit(
    repo_dir: &Path,
    commit: &str,
    allowed_signers: &Path,
    signed: bool,
) -> (SignatureStatus, String) {
    if !signed {
        return (SignatureStatus::Unsigned, "no signature".to_string());
    }
    let out = Command::new("git")
        .arg("-c")
        .arg(format!(
            "gpg.ssh.allowedSignersFile={}",
            allowed_signers.display()
        ))
        .args(["verify-commit", "--raw", commit])
        .current_dir(repo_dir)
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
