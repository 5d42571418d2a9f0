//! Moving records through the system `git`: which remote, what it advertises, fetch
//! into tracking refs, and one atomic compare-and-swap push.

use super::super::error::{Error, RemoteProblem, Result};
use super::super::refs::{APPROVED_PREFIX, NOTES_REF, RUNS_PREFIX};
use super::super::Store;
use super::{tracking_approved, tracking_notes, tracking_runs};
use std::collections::BTreeMap;
use std::process::Command;

/// How a push ended.
#[derive(Debug, PartialEq, Eq)]
pub enum PushResult {
    Done {
        updated: usize,
    },
    /// The remote moved since the last fetch: fetch, merge and try again.
    Stale,
}

impl Store {
    /// The remote to use when none is named: the only one, or `origin`.
    pub fn default_remote(&self) -> Result<String> {
        let remotes = self
            .repo
            .remotes()
            .map_err(Error::git("cannot list remotes"))?;
        let names: Vec<&str> = remotes.iter().filter_map(|n| n.ok().flatten()).collect();
        match names.as_slice() {
            [] => Err(Error::Remote(RemoteProblem::None)),
            [one] => Ok(one.to_string()),
            many if many.contains(&"origin") => Ok("origin".into()),
            many => Err(Error::Remote(RemoteProblem::Ambiguous(many.join(", ")))),
        }
    }

    pub(super) fn git_cmd(&self) -> Command {
        let mut c = Command::new("git");
        c.arg("--git-dir").arg(self.repo.path());
        c.env_remove("GIT_INDEX_FILE");
        c
    }

    pub(super) fn run_git(&self, what: &str, cmd: &mut Command) -> Result<std::process::Output> {
        cmd.output().map_err(|e| Error::Tool {
            what: format!("cannot run git {what}"),
            message: e.to_string(),
        })
    }

    /// `run_git` with `input` on the command's stdin, written from a second thread so
    /// that a command answering before it has read everything cannot deadlock us.
    pub(super) fn run_git_with_input(
        &self,
        what: &str,
        cmd: &mut Command,
        input: &[u8],
    ) -> Result<std::process::Output> {
        let tool = |e: std::io::Error| Error::Tool {
            what: format!("cannot run git {what}"),
            message: e.to_string(),
        };
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(tool)?;
        let mut stdin = child.stdin.take();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            if let Some(s) = stdin.as_mut() {
                let _ = std::io::Write::write_all(s, &input);
            }
        });
        let o = child.wait_with_output().map_err(tool)?;
        let _ = writer.join();
        Ok(o)
    }

    /// The remote's records as the tracking refs would hold them, by `git ls-remote`
    /// (an advertisement only: no negotiation, no connectivity check).
    pub(super) fn remote_state(&self, remote: &str) -> Result<BTreeMap<String, String>> {
        let o = self.run_git(
            "ls-remote",
            self.git_cmd()
                .args(["ls-remote", "--quiet"])
                .arg(remote)
                .args([
                    &format!("{RUNS_PREFIX}*"),
                    &format!("{APPROVED_PREFIX}*"),
                    NOTES_REF,
                ]),
        )?;
        if !o.status.success() {
            return Err(transport_error("fetch from", remote, &o.stderr));
        }
        let mut out = BTreeMap::new();
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let Some((oid, name)) = line.split_once('\t') else {
                continue;
            };
            let Some(tracked) = super::tracking_name(remote, name) else {
                continue;
            };
            out.insert(tracked, oid.to_string());
        }
        Ok(out)
    }

    /// The tracking refs of `remote` as they are here.
    pub(super) fn tracking_state(&self, remote: &str) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for prefix in [tracking_runs(remote), tracking_approved(remote)] {
            for (n, o) in self.refs_under(&prefix)? {
                out.insert(n, o.to_string());
            }
        }
        if let Some(o) = self
            .ref_target(&tracking_notes(remote))
            .map(super::super::oid)
        {
            out.insert(tracking_notes(remote), o.to_string());
        }
        Ok(out)
    }

    /// True when every local record ref equals its tracking ref and vice versa: a push
    /// would change nothing.
    pub fn in_step_with(&self, remote: &str) -> Result<bool> {
        let tracking = self.tracking_state(remote)?;
        let mut local = BTreeMap::new();
        for (prefix, to) in [
            (RUNS_PREFIX, tracking_runs(remote)),
            (APPROVED_PREFIX, tracking_approved(remote)),
        ] {
            for (n, o) in self.refs_under(prefix)? {
                local.insert(format!("{to}{}", &n[prefix.len()..]), o.to_string());
            }
        }
        if let Some(o) = self.ref_target(NOTES_REF).map(super::super::oid) {
            local.insert(tracking_notes(remote), o.to_string());
        }
        Ok(local == tracking)
    }

    /// A remote given by name must exist; a URL or path is passed to git as it is.
    pub fn check_remote(&self, remote: &str) -> Result<()> {
        if self.repo.find_remote(remote).is_err() && !remote.contains(['/', ':']) {
            return Err(Error::Remote(RemoteProblem::Unknown(remote.to_string())));
        }
        Ok(())
    }

    /// Pushes the records with compare-and-swap: run refs and the notes index only
    /// fast-forward (the merge made them descend from the remote's), approved-index refs
    /// with `--force-with-lease` against the value last fetched; all in one atomic
    /// push. A remote that moved since the fetch gives `Stale`.
    pub fn push_records(&self, remote: &str) -> Result<PushResult> {
        self.check_remote(remote)?;
        let mut cmd = self.git_cmd();
        cmd.args(["push", "--porcelain", "--atomic", "--no-verify"])
            .arg(remote);
        let mut specs = 0;
        if !self.refs_under(RUNS_PREFIX)?.is_empty() {
            cmd.arg(format!("{RUNS_PREFIX}*:{RUNS_PREFIX}*"));
            specs += 1;
            // The remote holds a refused record under these names: leave them be, so
            // the rest of the push goes through.
            for name in self.refused_local_refs(remote) {
                if name.starts_with(RUNS_PREFIX) {
                    cmd.arg(format!("^{name}"));
                }
            }
        }
        if self.ref_target(NOTES_REF).map(super::super::oid).is_some() {
            cmd.arg(format!("{NOTES_REF}:{NOTES_REF}"));
            specs += 1;
        }
        let refused = self.refused_local_refs(remote);
        for (name, _) in self.refs_under(APPROVED_PREFIX)? {
            if refused.contains(&name) {
                continue;
            }
            let stage = &name[APPROVED_PREFIX.len()..];
            let expect = self
                .ref_target(&format!("{}{stage}", tracking_approved(remote)))
                .map(super::super::oid)
                .map(|o| o.to_string())
                .unwrap_or_default();
            cmd.arg(format!("--force-with-lease={name}:{expect}"));
            cmd.arg(format!("{name}:{name}"));
            specs += 1;
        }
        if specs == 0 {
            return Ok(PushResult::Done { updated: 0 });
        }
        let o = self.run_git("push", &mut cmd)?;
        let outcome = read_porcelain(&String::from_utf8_lossy(&o.stdout));
        if !outcome.refused.is_empty() {
            let r = &outcome.refused;
            return Err(Error::RemoteRefused {
                remote: remote.to_string(),
                detail: format!(
                    "{}{}",
                    r[0],
                    if r.len() > 1 {
                        format!(" and {} more", r.len() - 1)
                    } else {
                        String::new()
                    }
                ),
            });
        }
        if outcome.stale {
            return Ok(PushResult::Stale);
        }
        if !o.status.success() {
            return Err(transport_error("push to", remote, &o.stderr));
        }
        Ok(PushResult::Done {
            updated: outcome.updated,
        })
    }
}

/// What `git push --porcelain` reported, ref by ref.
#[derive(Debug, Default, PartialEq, Eq)]
struct PushOutcome {
    updated: usize,
    /// Another push won a race: fetch, merge and try again.
    stale: bool,
    /// Refs the remote refused by policy: `ref: reason`.
    refused: Vec<String>,
}

fn read_porcelain(stdout: &str) -> PushOutcome {
    let mut out = PushOutcome::default();
    for line in stdout.lines() {
        let mut parts = line.split('\t');
        let (Some(flag), Some(spec), summary) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let summary = summary.unwrap_or("");
        match flag {
            " " | "+" | "*" => out.updated += 1,
            "!" if summary.contains("remote rejected") && is_race(summary) => out.stale = true,
            "!" if summary.contains("remote rejected") => out.refused.push(format!(
                "{}: {summary}",
                spec.split(':').nth(1).unwrap_or(spec)
            )),
            "!" if summary.contains("atomic push failed") => {}
            "!" => out.stale = true,
            _ => {}
        }
    }
    out
}

/// Reasons a remote gives when another push won a race, not a policy refusal.
fn is_race(summary: &str) -> bool {
    [
        "atomic transaction failed",
        "failed to update ref",
        "lock",
        "incorrect old value",
        "stale",
    ]
    .iter()
    .any(|r| summary.contains(r))
}

pub(super) fn transport_error(what: &'static str, remote: &str, stderr: &[u8]) -> Error {
    let text = String::from_utf8_lossy(stderr);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("git failed without a message")
        .trim()
        .to_string();
    Error::Transport {
        what,
        remote: remote.to_string(),
        message: first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::remote::tests::{a_run, team};

    #[test]
    fn porcelain_tells_races_from_refusals() {
        let out = read_porcelain(
            "To ../origin.git\n\
             *\trefs/workbench/runs/a/x:refs/workbench/runs/a/x\t[new reference]\n\
             !\trefs/notes/workbench:refs/notes/workbench\t[remote rejected] (failed to update ref)\n\
             Done\n",
        );
        assert_eq!((out.updated, out.stale), (1, true));
        let out = read_porcelain(
            "!\trefs/workbench/runs/a/x:refs/workbench/runs/a/x\t[remote rejected] (hook declined)\n",
        );
        assert_eq!(
            out.refused,
            ["refs/workbench/runs/a/x: [remote rejected] (hook declined)"]
        );
        assert!(!out.stale);
        let out = read_porcelain("!\tr:r\t[rejected] (non-fast-forward)\n");
        assert!(out.stale, "a plain rejection is a remote that moved");
    }

    #[test]
    fn push_then_fetch_moves_records_and_remotes_are_named() {
        let t = team();
        let run = a_run(&t.ours, "20260308T142233Z-0001");
        assert!(!t.ours.in_step_with("origin").unwrap());
        assert_eq!(
            t.ours.push_records("origin").unwrap(),
            PushResult::Done { updated: 1 }
        );
        t.ours.fetch_records("origin").unwrap();
        assert!(t.ours.in_step_with("origin").unwrap());
        t.theirs.fetch_records("origin").unwrap();
        let tracked = t
            .theirs
            .raw()
            .refname_to_id(&format!("{}train/{}", tracking_runs("origin"), run.run_id))
            .unwrap();
        assert_eq!(crate::store::id(tracked), run.tip);
        assert_eq!(t.ours.default_remote().unwrap(), "origin");
        assert!(matches!(
            t.ours.check_remote("nowhere"),
            Err(Error::Remote(RemoteProblem::Unknown(_)))
        ));
        let e = t
            .ours
            .fetch_records(&t.dir.path().join("missing.git").display().to_string());
        assert!(matches!(e, Err(Error::Transport { .. })), "{e:?}");
    }
}
