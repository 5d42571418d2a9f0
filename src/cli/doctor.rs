//! `git workbench doctor`: checks the set-up and explains each problem with the command
//! that fixes it.

use super::Out;
use crate::error::Result;
use crate::store::refs::{fetch_refspecs, NOTES_REF};
use crate::store::Store;
use serde::Serialize;

/// Check configuration, git settings, hook, identity, signing, unpushed records and
/// orphaned notes; print each problem with the command that fixes it. Exits 1 when a
/// check fails (warnings alone exit 0).
#[derive(clap::Args, Debug)]
pub struct Args {}

#[derive(Serialize)]
struct Check {
    check: &'static str,
    /// `ok`, `warn` or `fail`.
    status: &'static str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

fn check(check: &'static str, status: &'static str, detail: String, fix: Option<&str>) -> Check {
    Check {
        check,
        status,
        detail,
        fix: fix.map(str::to_string),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
}

pub fn cmd_doctor(out: &Out, _args: Args) -> Result<u8> {
    let mut checks = Vec::new();
    let store = match Store::discover() {
        Ok(s) => s,
        Err(e) => {
            // Not a repository, or a format libgit2 cannot read (reftable, SHA-256).
            checks.push(Check {
                check: "repository",
                status: "fail",
                detail: e.to_string(),
                fix: e.hint_text().map(str::to_string),
            });
            return report(out, &checks);
        }
    };
    checks.push(check(
        "repository",
        "ok",
        format!("{}", store.common_dir().display()),
        None,
    ));
    if let Some(root) = store.maybe_workdir() {
        match crate::workspace::load_config(root) {
            Ok((c, file)) => checks.push(check(
                "configuration",
                "ok",
                format!("{file}: {} stage(s)", c.stages.len()),
                None,
            )),
            Err(e) => checks.push(check(
                "configuration",
                "fail",
                e.to_string(),
                Some("fix the file as the error says (docs/config.md), or 'git workbench init' for a skeleton"),
            )),
        }
    }
    let rewrite = store.config_values("notes.rewriteRef");
    checks.push(if rewrite.iter().any(|v| v == NOTES_REF) {
        check(
            "notes survive rebase and amend",
            "ok",
            format!("notes.rewriteRef has {NOTES_REF}"),
            None,
        )
    } else {
        check(
            "notes survive rebase and amend",
            "warn",
            format!("notes.rewriteRef lacks {NOTES_REF}: rebase and amend drop the index lines"),
            Some("git workbench init"),
        )
    });
    let drivers = store
        .config_string("diff.workbench-table.command")
        .is_some()
        && store
            .config_string("merge.workbench-table.driver")
            .is_some();
    checks.push(if drivers {
        check(
            "table drivers",
            "ok",
            "diff and merge drivers configured".into(),
            None,
        )
    } else {
        check(
            "table drivers",
            "warn",
            "the workbench-table diff/merge drivers are not configured".into(),
            Some("git workbench init"),
        )
    });
    for remote in store.remote_names() {
        let have = store.config_values(&format!("remote.{remote}.fetch"));
        let missing: Vec<String> = fetch_refspecs(&remote)
            .into_iter()
            .filter(|s| !have.contains(s))
            .collect();
        checks.push(if missing.is_empty() {
            check(
                "fetch refspecs",
                "ok",
                format!("remote {remote} fetches the records"),
                None,
            )
        } else {
            check(
                "fetch refspecs",
                "warn",
                format!("remote {remote} lacks {}", missing.join(", ")),
                Some("git workbench init"),
            )
        });
        match store.in_step_with(&remote) {
            Ok(true) => checks.push(check(
                "records pushed",
                "ok",
                format!("records equal what was last fetched from {remote}"),
                None,
            )),
            Ok(false) => checks.push(check(
                "records pushed",
                "warn",
                format!("records differ from what was last fetched from {remote} (unpushed runs or decisions, or a fetch is due)"),
                Some("git workbench sync"),
            )),
            Err(e) => checks.push(check("records pushed", "warn", e.to_string(), None)),
        }
    }
    if let Some(root) = store.maybe_workdir() {
        let hook = crate::hooks::hook_path(root).ok();
        let installed = hook
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .is_some_and(|t| t.contains(crate::hooks::BEGIN));
        let attrs = std::fs::read_to_string(root.join(".gitattributes")).unwrap_or_default();
        let narratives = attrs.contains("workbench-narrative");
        checks.push(match (installed, narratives) {
            (true, _) if on_path("git-workbench") => {
                check("pre-commit hook", "ok", "installed; git-workbench is on PATH".into(), None)
            }
            (true, _) => check(
                "pre-commit hook",
                "fail",
                "installed, but git-workbench is not on PATH, so commits cannot be checked".into(),
                Some("put git-workbench on PATH (e.g. cargo install --path .), or git workbench hooks uninstall"),
            ),
            (false, true) => check(
                "pre-commit hook",
                "warn",
                ".gitattributes marks narratives but the hook is not installed".into(),
                Some("git workbench hooks install"),
            ),
            (false, false) => check("pre-commit hook", "ok", "no narratives marked; not needed".into(), None),
        });
    }
    if let Some(root) = store.maybe_workdir() {
        mirror_checks(&store, root, &mut checks)?;
    }
    checks.push(match store.decision_identity() {
        Ok((n, e)) => check(
            "identity",
            "ok",
            format!("decisions are recorded as {n} <{e}>"),
            None,
        ),
        Err(_) => check(
            "identity",
            "fail",
            "no user.name/user.email: approvals and rejections would be refused".into(),
            Some("git config user.name 'Your Name' && git config user.email you@example.com"),
        ),
    });
    if store.config_bool("workbench.signApprovals") == Some(true) {
        checks.push(match store.config_string("user.signingKey") {
            Some(k) => check(
                "signing",
                "ok",
                format!("approvals are signed with {k}"),
                None,
            ),
            None => check(
                "signing",
                "fail",
                "workbench.signApprovals is on but user.signingKey is not set".into(),
                Some("git config user.signingKey <key> (and gpg.format ssh for an ssh key)"),
            ),
        });
    }
    match store.orphaned_notes() {
        Ok(o) if o.is_empty() => checks.push(check(
            "notes index",
            "ok",
            "every annotated commit is on a branch".into(),
            None,
        )),
        Ok(o) => {
            let lines: usize = o.iter().map(|(_, n)| n).sum();
            checks.push(check(
                "notes index",
                "warn",
                format!(
                    "{lines} index line(s) on {} commit(s) no branch reaches (a squash merge or a deleted branch), e.g. {}; the runs themselves are safe in their refs",
                    o.len(),
                    o[0].0
                ),
                Some("git workbench notes-repair (moves them to the commits that landed them)"),
            ))
        }
        Err(e) => checks.push(check("notes index", "warn", e.to_string(), None)),
    }
    report(out, &checks)
}

/// The working-tree mirror `review/<stage>/` against the records: it should show the
/// stage's latest run, byte for byte.
fn mirror_checks(store: &Store, root: &std::path::Path, checks: &mut Vec<Check>) -> Result<()> {
    let dir = root.join(crate::workspace::MIRROR_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    let mut problems = Vec::new();
    let mut seen = 0;
    for e in entries.flatten() {
        let stage = e.file_name().to_string_lossy().into_owned();
        let Ok(bytes) = std::fs::read(e.path().join("manifest.json")) else {
            continue;
        };
        seen += 1;
        let Ok(m) = crate::model::manifest::RunManifest::from_json(&bytes) else {
            problems.push(format!("review/{stage}/manifest.json is not a manifest"));
            continue;
        };
        match store.list_runs(Some(&stage))?.pop() {
            None => problems.push(format!(
                "review/{stage}/ shows run {} but this clone has no run of {stage} (fetch them: git workbench fetch)",
                m.run_id
            )),
            Some(latest) if latest.run_id != m.run_id => problems.push(format!(
                "review/{stage}/ shows run {} but the latest run is {} (the next run or decision of the stage rewrites it)",
                m.run_id, latest.run_id
            )),
            Some(latest) => {
                if store.record_file(latest.tip, "manifest.json")?.as_deref() != Some(&bytes[..]) {
                    problems.push(format!(
                        "review/{stage}/manifest.json differs from the record of run {} (edited by hand? git checkout -- review/{stage})",
                        m.run_id
                    ));
                }
            }
        }
    }
    if seen > 0 {
        checks.push(if problems.is_empty() {
            check(
                "review mirror",
                "ok",
                format!("{seen} stage(s) mirror their latest run"),
                None,
            )
        } else {
            check(
                "review mirror",
                "warn",
                problems.join("; "),
                Some("see each problem; 'git workbench verify' checks the committed mirror"),
            )
        });
    }
    Ok(())
}

fn report(out: &Out, checks: &[Check]) -> Result<u8> {
    let failed = checks.iter().any(|c| c.status == "fail");
    if out.json {
        out.json_value(&serde_json::json!({"ok": !failed, "checks": checks}));
    } else {
        for c in checks {
            out.line(&format!("{:<4} {}: {}", c.status, c.check, c.detail));
            if let Some(f) = &c.fix {
                out.line(&format!("     fix: {f}"));
            }
        }
    }
    Ok(u8::from(failed))
}
