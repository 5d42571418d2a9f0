//! Signing and verifying record commits the way git does: `ssh-keygen -Y sign` for
//! `gpg.format=ssh`, `gpg -bsau` for OpenPGP; verification through the real
//! `git verify-commit` with the allowed-signers file given explicitly.

use super::error::{Error, Result};
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
                return Err(Error::SigningSetup {
                    message: "user.signingKey holds a literal ssh key; git-workbench signs with a key file".into(),
                    hint: "set user.signingKey to the path of the private (or agent-backed public) key file".into(),
                });
            }
            cmd.args(["-Y", "sign", "-n", "git", "-f", &key]);
        }
        "openpgp" | "x509" => {
            cmd.args(["--status-fd=2", "-bsau", &cfg.key]);
        }
        other => {
            return Err(Error::SigningSetup {
                message: format!("unsupported gpg.format '{other}'"),
                hint: "git-workbench signs with gpg.format ssh, openpgp or x509".into(),
            })
        }
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::ProgramMissing {
            program: cfg.program.clone(),
            source,
        })?;
    // A signer that quits early (no key) closes its stdin: that is its failure, told
    // by its stderr below, not ours.
    let written = child.stdin.take().expect("piped stdin").write_all(payload);
    let out = child
        .wait_with_output()
        .map_err(Error::io(Path::new(&cfg.program)))?;
    let armor = String::from_utf8_lossy(&out.stdout).into_owned();
    if written.is_err() || !out.status.success() || !armor.contains("-----BEGIN") {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no signature produced");
        return Err(Error::Sign {
            program: cfg.program.clone(),
            message: why.trim().to_string(),
        });
    }
    Ok(armor)
}

fn expand_home(p: &str) -> String {
    match (p.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => p.to_string(),
    }
}
