//! `doctor`: checks the set-up and explains each problem with the command that fixes
//! it. Each check is its own function; a failed check makes the report not ok.

use super::mirror::{exposed_untracked, stage_problems};
use crate::error::Result;
use crate::model::mirror::MIRROR_DIR;
use crate::store::refs::{fetch_refspecs, NOTES_REF};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub check: String,
    pub status: CheckStatus,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// `doctor --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoctorReport {
    pub ok: bool,
    pub checks: Vec<Check>,
}

fn check(name: &str, status: CheckStatus, detail: String, fix: Option<&str>) -> Check {
    Check {
        check: name.to_string(),
        status,
        detail,
        fix: fix.map(str::to_string),
    }
}

fn ok(name: &str, detail: String) -> Check {
    check(name, CheckStatus::Ok, detail, None)
}

pub fn doctor() -> Result<DoctorReport> {
    let mut checks = Vec::new();
    let store = match Store::discover() {
        Ok(s) => s,
        Err(e) => {
            // Not a repository, or a format libgit2 cannot read (reftable, SHA-256).
            let e = crate::Error::from(e);
            checks.push(check(
                "repository",
                CheckStatus::Fail,
                e.to_string(),
                e.hint_text().as_deref(),
            ));
            return Ok(report(checks));
        }
    };
    checks.push(ok("repository", store.common_dir().display().to_string()));
    if let Some(root) = store.maybe_workdir() {
        checks.push(configuration(root));
        checks.extend(dvc_program(&store, root));
        checks.extend(undeclared_stages(&store, root)?);
        checks.extend(git_lfs(root));
    }
    checks.push(notes_rewriting(&store));
    checks.push(drivers(&store));
    for remote in store.remote_names() {
        checks.extend(remote_checks(&store, &remote));
    }
    if let Some(root) = store.maybe_workdir() {
        checks.push(hook(root));
        checks.extend(mirror(&store, root)?);
    }
    checks.push(identity(&store));
    if store.config_bool("workbench.signApprovals") == Some(true) {
        checks.push(signing(&store));
    }
    checks.push(orphans(&store));
    checks.extend(records(&store)?);
    Ok(report(checks))
}

/// Every run record judged by the record rules; locks killed writers left; the
/// derived approved-run index and conflict markers brought up to date.
fn records(store: &Store) -> Result<Vec<Check>> {
    let mut out = Vec::new();
    let runs = store.list_runs(None)?;
    let mut invalid = Vec::new();
    let mut memo = crate::store::TreeMemo::default();
    for r in &runs {
        if let Err(i) = store.check_run_deep(r, &mut memo)? {
            invalid.push(i.to_string());
        }
    }
    out.push(if invalid.is_empty() {
        ok("records", format!("{} run record(s), all valid", runs.len()))
    } else {
        let shown: Vec<&str> = invalid.iter().take(5).map(String::as_str).collect();
        check(
            "records",
            CheckStatus::Fail,
            format!(
                "{} of {} run record(s) break the record rules (forged, replayed or corrupt) and are not trusted: {}{}",
                invalid.len(),
                runs.len(),
                shown.join("; "),
                if invalid.len() > 5 { "; ..." } else { "" }
            ),
            Some("investigate (git log REF); delete a record that is not yours with 'git update-ref -d REF'"),
        )
    });
    let (removed, fresh) = store.clear_stale_locks();
    out.push(match (removed.is_empty(), fresh.is_empty()) {
        (true, true) => ok("ref locks", "none held".into()),
        (_, true) => ok(
            "ref locks",
            format!(
                "removed {} stale lock(s) left by killed writers: {}",
                removed.len(),
                removed.join(", ")
            ),
        ),
        _ => check(
            "ref locks",
            CheckStatus::Warn,
            format!(
                "held now (a writer is running, or one was killed under 5 s ago): {}",
                fresh.join(", ")
            ),
            Some("run doctor again in a few seconds"),
        ),
    });
    let mut stages: Vec<_> = runs.iter().map(|r| r.stage.clone()).collect();
    stages.dedup();
    let mut repaired = Vec::new();
    for s in &stages {
        if store.repair_approved_index(s)? {
            repaired.push(s.to_string());
        }
    }
    out.push(if repaired.is_empty() {
        ok("approved index", "agrees with the run records".into())
    } else {
        ok(
            "approved index",
            format!(
                "repaired for {} (it lagged the run records, e.g. after a killed approval)",
                repaired.join(", ")
            ),
        )
    });
    let conflicts = store.rebuild_conflict_markers()?;
    if conflicts > 0 {
        out.push(check(
            "conflicts",
            CheckStatus::Warn,
            format!("{conflicts} run(s) in conflict: two clones decided differently"),
            Some("see 'git workbench next' and decide each with approve or reject"),
        ));
    }
    Ok(out)
}

fn report(checks: Vec<Check>) -> DoctorReport {
    DoctorReport {
        ok: !checks.iter().any(|c| c.status == CheckStatus::Fail),
        checks,
    }
}

fn configuration(root: &Path) -> Check {
    match super::workspace::load_config(root) {
        Ok((c, file)) => ok("configuration", format!("{file}: {} stage(s)", c.stages.len())),
        Err(e) => check(
            "configuration",
            CheckStatus::Fail,
            e.to_string(),
            Some("fix the file as the error says (docs/config.md), or 'git workbench init' for a skeleton"),
        ),
    }
}

/// With DVC stages configured: the `dvc` program their runs and checkouts need
/// (docs/dvc.md). Nothing to say otherwise.
fn dvc_program(store: &Store, root: &Path) -> Option<Check> {
    let (config, _) = super::workspace::load_config(root).ok()?;
    if config.stages.iter().all(|s| s.dvc.is_none()) {
        return None;
    }
    let key = crate::exec::dvc::PROGRAM_KEY;
    Some(match crate::exec::dvc::program(store.config_string(key)) {
        Ok(p) => ok("dvc", format!("DVC stages run with {}", p.display())),
        Err(e) => check(
            "dvc",
            CheckStatus::Fail,
            e.to_string(),
            Some("install DVC (pip install dvc), or name it: git config workbench.dvc PATH"),
        ),
    })
}

/// When a stage keeps outputs in git LFS: whether git-lfs runs, which `push` and
/// `checkout` of those outputs need (`run` does not).
fn git_lfs(root: &Path) -> Option<Check> {
    let (config, _) = super::workspace::load_config(root).ok()?;
    let stages: Vec<&str> = config
        .stages
        .iter()
        .filter(|s| s.large_outputs == crate::model::config::LargeOutputs::Lfs)
        .map(|s| s.name.as_str())
        .collect();
    if stages.is_empty() {
        return None;
    }
    Some(match crate::store::git_lfs_version() {
        Some(v) => ok("git lfs", format!("{v}; large outputs of {} go through it", stages.join(", "))),
        None => check(
            "git lfs",
            CheckStatus::Warn,
            format!(
                "git-lfs is not installed: {} keep large outputs in git LFS, and push and checkout of them need it",
                stages.join(", ")
            ),
            Some("apt install git-lfs (or see https://git-lfs.com)"),
        ),
    })
}

/// Runs of stages the configuration does not declare (imported before import refused
/// that, fetched from a clone that declares more, or of a stage since removed): no
/// `status` or `next` line shows them.
fn undeclared_stages(store: &Store, root: &Path) -> Result<Option<Check>> {
    let Ok((config, file)) = super::workspace::load_config(root) else {
        return Ok(None); // the configuration check says why
    };
    let mut runs: BTreeMap<String, usize> = BTreeMap::new();
    for r in store.list_runs(None)? {
        if config.stage(&r.stage).is_none() {
            *runs.entry(r.stage.to_string()).or_default() += 1;
        }
    }
    let name = "undeclared stages";
    if runs.is_empty() {
        return Ok(Some(ok(
            name,
            format!("every stage with runs is declared in {file}"),
        )));
    }
    let shown: Vec<String> = runs
        .iter()
        .map(|(s, n)| format!("{s} ({n} run(s))"))
        .collect();
    Ok(Some(Check {
        check: name.to_string(),
        status: CheckStatus::Warn,
        detail: format!(
            "runs of stages {file} does not declare, which status and next do not show: {}",
            shown.join(", ")
        ),
        fix: Some(format!(
            "declare each in {file} ([stages.NAME] with its cmd, docs/config.md)"
        )),
    }))
}

fn notes_rewriting(store: &Store) -> Check {
    let name = "notes survive rebase and amend";
    if store
        .config_values("notes.rewriteRef")
        .iter()
        .any(|v| v == NOTES_REF)
    {
        ok(name, format!("notes.rewriteRef has {NOTES_REF}"))
    } else {
        check(
            name,
            CheckStatus::Warn,
            format!("notes.rewriteRef lacks {NOTES_REF}: rebase and amend drop the index lines"),
            Some("git workbench init"),
        )
    }
}

fn drivers(store: &Store) -> Check {
    let configured = store
        .config_string("diff.workbench-table.command")
        .is_some()
        && store
            .config_string("merge.workbench-table.driver")
            .is_some();
    if configured {
        ok("table drivers", "diff and merge drivers configured".into())
    } else {
        check(
            "table drivers",
            CheckStatus::Warn,
            "the workbench-table diff/merge drivers are not configured".into(),
            Some("git workbench init"),
        )
    }
}

fn remote_checks(store: &Store, remote: &str) -> [Check; 2] {
    let have = store.config_values(&format!("remote.{remote}.fetch"));
    let missing: Vec<String> = fetch_refspecs(remote)
        .into_iter()
        .filter(|s| !have.contains(s))
        .collect();
    let refspecs = if missing.is_empty() {
        ok(
            "fetch refspecs",
            format!("remote {remote} fetches the records"),
        )
    } else {
        check(
            "fetch refspecs",
            CheckStatus::Warn,
            format!("remote {remote} lacks {}", missing.join(", ")),
            Some("git workbench init"),
        )
    };
    let pushed = match store.in_step_with(remote) {
        Ok(true) => ok(
            "records pushed",
            format!("records equal what was last fetched from {remote}"),
        ),
        Ok(false) => check(
            "records pushed",
            CheckStatus::Warn,
            format!("records differ from what was last fetched from {remote} (unpushed runs or decisions, or a fetch is due)"),
            Some("git workbench sync"),
        ),
        Err(e) => check("records pushed", CheckStatus::Warn, e.to_string(), None),
    };
    [refspecs, pushed]
}

fn on_path(program: &str) -> bool {
    crate::exec::command::on_path(program).is_some()
}

/// Whether anything runs our check at commit time: our block in the hook, the
/// pre-commit framework through its configuration, or our block in the
/// `pre-commit.legacy` pre-commit's script runs first. Warns only when nothing does
/// while narratives are marked, and then names the one step that fixes it.
fn hook(root: &Path) -> Check {
    use crate::hooks::framework::{inspect, ConfigVerdict, Runner};
    let name = "pre-commit hook";
    let setup = match crate::store::gitcli::pre_commit_hook_path(root)
        .map_err(crate::Error::from)
        .and_then(|h| inspect(root, &h))
    {
        Ok(s) => s,
        Err(e) => return check(name, CheckStatus::Warn, e.to_string(), None),
    };
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let (hook, legacy, config) = (rel(&setup.hook), rel(&setup.legacy), rel(&setup.config));
    let runners = setup.runners();
    if !runners.is_empty() {
        if runners.iter().any(|r| r.needs_path()) && !on_path("git-workbench") {
            return check(
                name,
                CheckStatus::Fail,
                "installed, but git-workbench is not on PATH, so commits cannot be checked".into(),
                Some("put git-workbench on PATH (e.g. cargo install --path .), or git workbench hooks uninstall"),
            );
        }
        if runners == [Runner::InsideFrameworkScript] {
            return check(
                name,
                CheckStatus::Warn,
                format!("our block is inside pre-commit's script {hook}, which the next 'pre-commit install' rewrites without it"),
                Some("add the check to the pre-commit configuration ('git workbench hooks install' prints the entry)"),
            );
        }
        let how: Vec<String> = runners
            .iter()
            .filter_map(|r| match r {
                Runner::Block => Some(format!("installed in {hook}")),
                Runner::Framework { .. } => Some(format!("run by the pre-commit framework ({config} lists it)")),
                Runner::Legacy => Some(format!(
                    "in {legacy}, which pre-commit's script runs first ('pre-commit install -f' would delete it)"
                )),
                Runner::InsideFrameworkScript => None,
            })
            .collect();
        let path = if runners.iter().any(|r| r.needs_path()) {
            "; git-workbench is on PATH"
        } else {
            ""
        };
        return ok(name, format!("{}{path}", how.join("; and ")));
    }
    let attrs = std::fs::read_to_string(root.join(".gitattributes")).unwrap_or_default();
    if !attrs.contains("workbench-narrative") {
        return ok(name, "no narratives marked; not needed".into());
    }
    let marked = ".gitattributes marks narratives but nothing runs the check at commit time";
    let add_it =
        "git workbench hooks install (it prints the pre-commit configuration entry to add)";
    if setup.framework_script {
        if setup.block_in_legacy {
            return check(
                name,
                CheckStatus::Warn,
                format!("{marked}: our block is in {legacy}, which pre-commit's script skips because it is not executable"),
                Some(&format!("chmod +x {legacy} (or git workbench hooks install)")),
            );
        }
        let why = match &setup.config_verdict {
            None => format!("{config} does not exist"),
            Some(ConfigVerdict::Unreadable(e)) => format!("{config} cannot be read: {e}"),
            _ => format!("{config} has no hook running 'git-workbench hook pre-commit' at the pre-commit stage"),
        };
        return check(
            name,
            CheckStatus::Warn,
            format!("{marked}: the hook {hook} is pre-commit's script, and {why}"),
            Some(add_it),
        );
    }
    if setup.config_runs() {
        return check(
            name,
            CheckStatus::Warn,
            format!("{marked}: {config} lists the check, but pre-commit's script is not installed"),
            Some("pre-commit install (or git workbench hooks install)"),
        );
    }
    check(
        name,
        CheckStatus::Warn,
        format!("{marked}: the hook is not installed"),
        Some("git workbench hooks install"),
    )
}

/// The working-tree mirror against the records: the top level of `review/<stage>/`
/// shows the stage's approved run exactly, `candidate/` a run of the stage that is not
/// approved, every file one its records hold; and no mirrored file is untracked
/// without being ignored (a `git pull` of a teammate's mirror would refuse to run).
fn mirror(store: &Store, root: &Path) -> Result<Option<Check>> {
    let Ok(entries) = std::fs::read_dir(root.join(MIRROR_DIR)) else {
        return Ok(None);
    };
    let mut dirs: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut problems = Vec::new();
    let mut seen = 0;
    for stage in &dirs {
        let exposed = exposed_untracked(store, root, stage)?;
        let mut present = false;
        let found = stage_problems(
            store,
            stage,
            &mut |rel| {
                let p = root.join(rel);
                match std::fs::read(&p) {
                    Ok(b) => {
                        present = true;
                        Ok(Some(b))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(crate::error::Error::io(&p)(e)),
                }
            },
            &mut |dir| super::mirror::files_below(&root.join(dir)),
        )?;
        if !present {
            continue;
        }
        seen += 1;
        problems.extend(
            found
                .into_iter()
                .map(|p| format!("{}/: {}", p.dir, p.problem)),
        );
        if !exposed.is_empty() {
            problems.push(format!(
                "untracked and not ignored, so a `git pull` bringing a teammate's committed mirror would refuse to run: {} (an ignore rule's '!' negation overrides the block git-workbench keeps in .git/info/exclude)",
                exposed.join(", ")
            ));
        }
    }
    if seen == 0 {
        return Ok(None);
    }
    Ok(Some(if problems.is_empty() {
        ok(
            "review mirror",
            format!("{seen} stage(s): the top level shows the approved run, candidate/ a run awaiting a decision"),
        )
    } else {
        check(
            "review mirror",
            CheckStatus::Warn,
            problems.join("; "),
            Some("fetch the records (git workbench fetch); restore hand edits and dropped files from the commit that has them (git checkout HEAD -- review/); the next run, review, card or rejection rewrites candidate/, the next approval the top level; 'git workbench verify' checks the committed mirror"),
        )
    }))
}

fn identity(store: &Store) -> Check {
    match store.decision_identity() {
        Ok((n, e)) => ok("identity", format!("decisions are recorded as {n} <{e}>")),
        Err(_) => check(
            "identity",
            CheckStatus::Fail,
            "no user.name/user.email: approvals and rejections would be refused".into(),
            Some("git config user.name 'Your Name' && git config user.email you@example.com"),
        ),
    }
}

fn signing(store: &Store) -> Check {
    match store.config_string("user.signingKey") {
        Some(k) => ok("signing", format!("approvals are signed with {k}")),
        None => check(
            "signing",
            CheckStatus::Fail,
            "workbench.signApprovals is on but user.signingKey is not set".into(),
            Some("git config user.signingKey <key> (and gpg.format ssh for an ssh key)"),
        ),
    }
}

fn orphans(store: &Store) -> Check {
    match store.orphaned_notes() {
        Ok(o) if o.is_empty() => ok(
            "notes index",
            "every annotated commit is on a branch".into(),
        ),
        Ok(o) => {
            let lines: usize = o.iter().map(|(_, n)| n).sum();
            check(
                "notes index",
                CheckStatus::Warn,
                format!(
                    "{lines} index line(s) on {} commit(s) no branch reaches (a squash merge or a deleted branch), e.g. {}; the runs themselves are safe in their refs",
                    o.len(),
                    o[0].0
                ),
                Some("git workbench notes-repair (moves them to the commits that landed them)"),
            )
        }
        Err(e) => check("notes index", CheckStatus::Warn, e.to_string(), None),
    }
}
