//! Every command's `--json`, parsed into the report type the command serializes, which
//! denies unknown fields: a field added, dropped or renamed without its type changing,
//! or a value of the wrong type, fails here.

use crate::common::{Repo, Run};
use crate::{run_json, train_repo};
use serde::de::DeserializeOwned;
use workbench::cli::{ErrorReport, InstallManReport};
use workbench::ops;

/// Parses stdout as `T`, and checks that `T` keeps every field at every depth: the
/// records inside reports (manifest, approval, ...) accept fields a later version
/// adds, so denying unknown fields alone would stop at the report's own level.
fn strict<T: DeserializeOwned + serde::Serialize>(r: Run) -> T {
    let parsed: T = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout does not parse as {} ({e}):\n{}\nstderr:\n{}",
            std::any::type_name::<T>(),
            r.stdout,
            r.stderr
        )
    });
    let original: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        original,
        "{} drops or changes a field of its own --json",
        std::any::type_name::<T>()
    );
    parsed
}

fn json(repo: &Repo, args: &[&str]) -> Run {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    repo.wb(&a)
}

#[test]
fn the_loop_reports_parse_strictly() {
    let repo = train_repo();
    let init: ops::init::InitReport = strict(json(&repo, &["init"]).ok());
    assert!(!init.git_config.is_empty());
    let run: ops::run::RunReport = strict(json(&repo, &["run", "train"]).ok());
    let id = run.run_id.to_string();
    assert_eq!(run.manifest.run_id, run.run_id);
    let status: ops::status::StatusReport = strict(json(&repo, &["status"]).ok());
    assert_eq!(status.stages.len(), 2);
    let review: ops::review::ReviewReport = strict(json(&repo, &["review", &id]).ok());
    assert_eq!(review.review.run_id, run.run_id);
    let card: ops::card::CardReport = strict(json(&repo, &["card", &id, "-m", "fine"]).ok());
    assert!(card.card.contains("fine"));
    let next: ops::next::NextReport = strict(json(&repo, &["next"]).ok());
    assert!(!next.items.is_empty());
    let approve: ops::approve::ApproveReport = strict(json(&repo, &["approve", &id, "--yes"]).ok());
    assert_eq!(approve.approval.run_id, run.run_id);
    let show: ops::show::ShowReport = strict(json(&repo, &["show", &id]).ok());
    assert_eq!(show.transitions.len(), 4);
    assert_eq!(show.notes.len(), 4, "every event has its index line");
    let log: ops::show::LogReport = strict(json(&repo, &["show", &id, "--log"]).ok());
    assert!(log.log.contains("to stderr") && !log.truncated);
    let log: ops::log::LogReport = strict(json(&repo, &["log"]).ok());
    assert_eq!(log.runs.len(), 1);
    let compare: ops::compare::CompareReport = strict(json(&repo, &["compare"]).ok());
    assert_eq!(compare.table.rows.len(), 1);
    let second = run_json(&repo, &["train", "-p", "train.lr=0.2"]);
    let reject: ops::reject::RejectReport =
        strict(json(&repo, &["reject", &second, "--issue", "no"]).ok());
    assert_eq!(reject.feedback.issue, "no");
    let checkout: ops::checkout::CheckoutReport =
        strict(json(&repo, &["checkout", &id, "--to", "restored"]).ok());
    assert!(!checkout.files.is_empty());
    let hashed: std::collections::BTreeMap<String, workbench::model::digest::Sha256> =
        strict(json(&repo, &["hash", "data/in.csv"]).ok());
    assert_eq!(hashed.len(), 1);
    let doctor: ops::doctor::DoctorReport = strict(json(&repo, &["doctor"]).ok());
    assert!(!doctor.checks.is_empty());
    let repair: ops::notes_repair::RepairReport = strict(json(&repo, &["notes-repair"]).ok());
    assert!(repair.moved.is_empty());
}

#[test]
fn narrative_table_and_sharing_reports_parse_strictly() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", "fine"]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    repo.write(".gitattributes", "report.md workbench-narrative\n");
    let new: ops::narrative::NewReport =
        strict(json(&repo, &["narrative", "new", "train", "report.md"]).ok());
    assert_eq!(new.file, "report.md");
    let check: ops::narrative::CheckReport = strict(json(&repo, &["narrative", "check"]).ok());
    assert_eq!(check.errors, 0);
    let sync: ops::narrative::SyncReport = strict(json(&repo, &["narrative", "sync"]).ok());
    assert!(sync.changed.is_empty());
    let hooks: ops::hooks::HooksReport = strict(json(&repo, &["hooks", "install"]).ok());
    assert_eq!(hooks.action, ops::hooks::HookAction::Created);
    repo.git(&["add", "-A"]);
    let hook: ops::narrative::CheckReport = strict(json(&repo, &["hook", "pre-commit"]).ok());
    assert_eq!(hook.files, ["report.md"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "report"]);
    let verify: ops::verify::VerifyReport = strict(json(&repo, &["verify"]).ok());
    assert!(verify.ok && verify.blocks.len() == 1);
    assert_eq!(
        verify.stages.len(),
        1,
        "the committed mirror's approved run"
    );
    assert_eq!(verify.stages[0].run.as_str(), id);
    repo.wb(&["compare", "-o"]).ok();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "table"]);
    run_json(&repo, &["train", "-p", "train.lr=0.3"]);
    repo.wb(&["compare", "-o"]).ok();
    let diff: ops::diff::DiffReport = strict(json(&repo, &["diff"]).ok());
    assert_eq!(diff.changes.len(), 1, "the new run is an added row");
    let metrics: ops::diff::DiffReport =
        strict(json(&repo, &["diff", "--metrics", "HEAD~1", "HEAD"]).ok());
    assert_eq!(metrics.path, "approved metrics");
    repo.write(".workbench/allowed_signers", "");
    let signatures: ops::verify_approvals::VerifyApprovalsReport =
        strict(json(&repo, &["verify-approvals"]).fails(1, ""));
    assert_eq!(signatures.problems, 1, "the approval is unsigned");
    let report: ops::report::ReportReport = strict(json(&repo, &["report"]).ok());
    assert_eq!(report.pages, report.runs + 1);
    assert!(report.index.ends_with("runs/report/index.html"));
    let uninstall: ops::hooks::HooksReport = strict(json(&repo, &["hooks", "uninstall"]).ok());
    assert_eq!(uninstall.action, ops::hooks::HookAction::RemovedFrom);
    let bare = repo.root.parent().unwrap().join("origin.git");
    repo.git(&["init", "-q", "--bare", bare.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", bare.to_str().unwrap()]);
    for cmd in ["push", "fetch", "sync"] {
        let r: ops::sync::SyncReport = strict(json(&repo, &[cmd]).ok());
        assert_eq!(r.remote, "origin");
        assert_eq!(r.pushed_refs.is_some(), cmd != "fetch");
    }
}

#[test]
fn sweep_import_man_and_error_reports_parse_strictly() {
    let repo = train_repo();
    let sweep: ops::sweep::SweepReport =
        strict(json(&repo, &["sweep", "train", "-p", "train.lr=0.1,0.2"]).ok());
    assert_eq!((sweep.combinations, sweep.failed), (2, 0));
    repo.write("old/20260301T101500Z-1a00/metrics.json", "{\"auc\": 0.7}");
    let import: ops::import::ImportReport =
        strict(json(&repo, &["import", "runs", "old", "--stage", "report"]).ok());
    assert_eq!(import.imported.len(), 1);
    repo.write(
        "ci/a.workbench.json",
        r#"{"schema": "workbench/import-manifest/v1", "stage": "report",
            "origin": {"orchestrator": "prefect", "run_id": "f-1", "url": "https://p.example/f-1"},
            "started_at": "2026-03-01T10:15:00Z", "metrics": {"auc": 0.8}}"#,
    );
    let manifest: ops::import::manifest::ManifestReport =
        strict(json(&repo, &["import", "manifest", "ci"]).ok());
    assert_eq!(manifest.imported[0].origin.run_id, "f-1");
    let again: ops::import::manifest::ManifestReport =
        strict(json(&repo, &["import", "manifest", "ci"]).ok());
    assert_eq!(
        again.already_imported[0].run_id,
        manifest.imported[0].run_id
    );
    let man: InstallManReport = strict(
        json(
            &repo,
            &[
                "install-man",
                "--dir",
                repo.root.join("man").to_str().unwrap(),
            ],
        )
        .ok(),
    );
    assert!(man.pages.len() > 10);
    for (args, code) in [
        (&["show", "nope"][..], 2),
        (&["approve", "train@latest", "--yes"][..], 1),
        (&["compare", "--state", "exectued"][..], 2),
        (&["run", "bad..name"][..], 2),
    ] {
        let r = json(&repo, args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        let e: ErrorReport = strict(r);
        assert!(!e.error.message.is_empty());
    }
}
