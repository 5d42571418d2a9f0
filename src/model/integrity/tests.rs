use super::*;
use crate::model::decision::{Decision, APPROVAL_SCHEMA, FEEDBACK_SCHEMA};
use crate::model::digest::{FileHashes, Sha256};
use crate::model::event::record_message;
use crate::model::manifest::CodeRef;
use crate::model::review::CheckResult;
use crate::model::time::Timestamp;

const WHO: &str = "Alice <alice@example.com>";

fn stage() -> StageName {
    StageName::new("train").unwrap()
}

fn run_id() -> RunId {
    RunId::new("20260308T142233Z-0001").unwrap()
}

fn oid(n: u8) -> ObjectId {
    ObjectId::parse(&format!("{n:02x}").repeat(20)).unwrap()
}

fn outputs() -> FileHashes {
    FileHashes::from([("out/o.csv".to_string(), Sha256::of(b"o"))])
}

fn manifest(exit: i32, run_dir: &str) -> Vec<u8> {
    RunManifest::builder(
        stage(),
        run_id(),
        CodeRef {
            commit: None,
            dirty: false,
            tree: oid(0xee),
            branch: None,
        },
        Timestamp::from_unix_millis(0),
    )
    .command("true".into(), exit, 0.0)
    .produced(outputs(), vec![], vec![])
    .place(run_dir.into(), "h".into())
    .build()
    .to_json()
    .into_bytes()
}

fn review(pass: bool) -> Vec<u8> {
    let check = CheckResult {
        name: "c".into(),
        pass,
        note: None,
        blocking: true,
        source: "builtin".into(),
    };
    ReviewRecord::new(
        &stage(),
        &run_id(),
        vec![check],
        Timestamp::from_unix_millis(1),
        "agent".into(),
    )
    .to_json()
    .into_bytes()
}

fn approval(verdict: Verdict, forced: bool, by: &str, text: &str) -> ApprovalRecord {
    ApprovalRecord {
        schema: APPROVAL_SCHEMA.into(),
        run_id: run_id(),
        stage: stage(),
        decision: Decision::Approved,
        approved_by: by.into(),
        timestamp: Timestamp::from_unix_millis(2),
        artifacts_approved: outputs(),
        interpretation_approved: true,
        interpretation_edited: false,
        approved_interpretation: text.into(),
        note: None,
        supersedes: None,
        artifact_digest: artifact_digest(&outputs()),
        review_verdict: verdict,
        forced,
    }
}

fn feedback(by: &str) -> Vec<u8> {
    FeedbackRecord {
        schema: FEEDBACK_SCHEMA.into(),
        run_id: run_id(),
        stage: stage(),
        issue: "no".into(),
        suggested_params: Default::default(),
        acceptance_criteria: vec![],
        rejected_by: by.into(),
        timestamp: Timestamp::from_unix_millis(3),
    }
    .to_json()
    .into_bytes()
}

/// Builds a linear or merged record graph commit by commit.
struct G(RecordGraph);

impl G {
    fn new() -> G {
        G(RecordGraph {
            stage: stage(),
            run_id: run_id(),
            tip: oid(1),
            commits: BTreeMap::new(),
        })
    }

    /// Adds commit `n` recording `event` on `parents`, its tree the first parent's
    /// files plus `files`.
    fn add(&mut self, n: u8, parents: &[u8], event: RunEvent, files: &[(&str, Vec<u8>)]) -> &mut G {
        let mut all = parents
            .first()
            .map(|p| self.0.commits[&oid(*p)].files.clone())
            .unwrap_or_default();
        for (name, bytes) in files {
            all.insert(name.to_string(), bytes.clone());
        }
        let c = RecordCommit {
            id: oid(n),
            parents: parents.iter().map(|p| oid(*p)).collect(),
            message: record_message(event, "train", run_id().as_str(), ""),
            author: WHO.into(),
            tree: oid(n.wrapping_add(100)),
            files: all,
        };
        self.0.commits.insert(c.id, c);
        self.0.tip = oid(n);
        self
    }

    fn edit(&mut self, n: u8, f: impl FnOnce(&mut RecordCommit)) -> &mut G {
        f(self.0.commits.get_mut(&oid(n)).unwrap());
        self
    }

    fn check(&self) -> Result<RunState, String> {
        check_graph(&self.0).map(|c| c.state).map_err(|e| e.why)
    }
}

fn executed() -> G {
    let mut g = G::new();
    g.add(
        1,
        &[],
        RunEvent::Executed,
        &[("manifest.json", manifest(0, "runs/train/x"))],
    );
    g
}

fn reviewed(pass: bool) -> G {
    let mut g = executed();
    g.add(
        2,
        &[1],
        RunEvent::Reviewed,
        &[("review.json", review(pass))],
    );
    g
}

fn approved(g: &mut G, n: u8, parent: u8, a: &ApprovalRecord) {
    g.add(
        n,
        &[parent],
        RunEvent::Approved,
        &[("approval.json", a.to_json().into_bytes())],
    );
}

#[test]
fn the_records_the_tool_writes_are_valid() {
    assert_eq!(executed().check(), Ok(RunState::Executed));
    assert_eq!(reviewed(true).check(), Ok(RunState::Reviewed));
    let mut g = reviewed(true);
    g.add(3, &[2], RunEvent::Carded, &[("card.md", b"card".to_vec())]);
    approved(&mut g, 4, 3, &approval(Verdict::Pass, false, WHO, "fine"));
    assert_eq!(g.check(), Ok(RunState::Approved));
    let mut g = reviewed(false);
    approved(&mut g, 3, 2, &approval(Verdict::Fail, true, WHO, "forced"));
    assert_eq!(
        g.check(),
        Ok(RunState::Approved),
        "a forced approval, marked"
    );
    let mut g = executed();
    g.add(
        2,
        &[1],
        RunEvent::Rejected,
        &[("feedback.json", feedback(WHO))],
    );
    assert_eq!(g.check(), Ok(RunState::Rejected));
}

#[test]
fn impossible_approvals_are_refused() {
    // a failed run approved without a review (the plumbing attack)
    let mut g = G::new();
    g.add(
        1,
        &[],
        RunEvent::Failed,
        &[("manifest.json", manifest(3, "r"))],
    );
    approved(&mut g, 2, 1, &approval(Verdict::Pass, false, WHO, "x"));
    assert!(g
        .check()
        .unwrap_err()
        .contains("failed -> approved is a move the state machine forbids"));
    // reviewed, but the review failed and the approval does not say forced
    let mut g = reviewed(false);
    approved(&mut g, 3, 2, &approval(Verdict::Fail, false, WHO, "x"));
    assert!(g
        .check()
        .unwrap_err()
        .contains("without being marked forced"));
    // claims a passing review the record does not have
    let mut g = reviewed(false);
    approved(&mut g, 3, 2, &approval(Verdict::Pass, false, WHO, "x"));
    assert!(g.check().unwrap_err().contains("claims a pass review"));
    // forced although the review passed
    let mut g = reviewed(true);
    approved(&mut g, 3, 2, &approval(Verdict::Pass, true, WHO, "x"));
    assert!(g.check().unwrap_err().contains("marked forced"));
    // approved_by is not the author
    let mut g = reviewed(true);
    approved(
        &mut g,
        3,
        2,
        &approval(Verdict::Pass, false, "Bob <bob@example.com>", "x"),
    );
    assert!(g
        .check()
        .unwrap_err()
        .contains("the commit's author is Alice"));
    // other outputs than the manifest's
    let mut g = reviewed(true);
    let mut a = approval(Verdict::Pass, false, WHO, "x");
    a.artifacts_approved
        .insert("extra".into(), Sha256::of(b"e"));
    approved(&mut g, 3, 2, &a);
    assert!(g.check().unwrap_err().contains("other outputs"));
    // approved twice; rejected after approval
    let mut g = reviewed(true);
    approved(&mut g, 3, 2, &approval(Verdict::Pass, false, WHO, "x"));
    approved(&mut g, 4, 3, &approval(Verdict::Pass, false, WHO, "y"));
    assert!(g.check().unwrap_err().contains("approved -> approved"));
    let mut g = reviewed(true);
    approved(&mut g, 3, 2, &approval(Verdict::Pass, false, WHO, "x"));
    g.add(
        4,
        &[3],
        RunEvent::Rejected,
        &[("feedback.json", feedback(WHO))],
    );
    assert!(g.check().unwrap_err().contains("approved -> rejected"));
    // an approval without approval.json; a rejection by someone else
    let mut g = reviewed(true);
    g.add(3, &[2], RunEvent::Approved, &[]);
    assert!(g.check().unwrap_err().contains("has no approval.json"));
    let mut g = executed();
    g.add(
        2,
        &[1],
        RunEvent::Rejected,
        &[("feedback.json", feedback("Bob <b@x>"))],
    );
    assert!(g
        .check()
        .unwrap_err()
        .contains("names Bob <b@x> as rejecting"));
}

#[test]
fn records_of_another_run_are_refused() {
    // trailers naming another run: a replayed record
    let mut g = reviewed(true);
    g.edit(2, |c| {
        c.message = record_message(RunEvent::Reviewed, "other", run_id().as_str(), "")
    });
    assert!(g.check().unwrap_err().contains("trailers name other/"));
    // an approval of another stage under this ref
    let mut g = reviewed(true);
    let mut a = approval(Verdict::Pass, false, WHO, "x");
    a.stage = StageName::new("other").unwrap();
    approved(&mut g, 3, 2, &a);
    assert!(g.check().unwrap_err().contains("approval.json is of run"));
    // a manifest rewritten by a later record
    let mut g = reviewed(true);
    g.edit(2, |c| {
        c.files
            .insert("manifest.json".into(), manifest(0, "elsewhere"));
    });
    assert!(g.check().unwrap_err().contains("manifests never change"));
    // a failed run whose first record says executed
    let mut g = G::new();
    g.add(
        1,
        &[],
        RunEvent::Executed,
        &[("manifest.json", manifest(2, "r"))],
    );
    assert!(g.check().unwrap_err().contains("its manifest says failed"));
    // no trailer at all; a first record that is a decision; a missing parent
    let mut g = executed();
    g.edit(1, |c| c.message = "hello".into());
    assert!(g.check().unwrap_err().contains("no Workbench-Event"));
    let mut g = G::new();
    g.add(
        1,
        &[],
        RunEvent::Approved,
        &[("manifest.json", manifest(0, "r"))],
    );
    assert!(g.check().unwrap_err().contains("first record is approved"));
    let mut g = reviewed(true);
    g.0.commits.remove(&oid(1));
    assert!(g.check().unwrap_err().contains("missing or longer"));
    // a re-executed record on top of another
    let mut g = executed();
    g.add(2, &[1], RunEvent::Executed, &[]);
    assert!(g.check().unwrap_err().contains("only a run's first record"));
}

#[test]
fn escaping_paths_are_refused() {
    for bad in [
        "/tmp/x",
        "../../x",
        "runs/../../x",
        "a//b",
        ".git/hooks",
        "a/.GIT/x",
        "a/.git./x",
        "git~1/x",
        "a/.g\u{200c}it",
        "C:/x",
        "a\\b",
        "./a",
        "a/\u{1b}",
    ] {
        let mut g = G::new();
        g.add(
            1,
            &[],
            RunEvent::Executed,
            &[("manifest.json", manifest(0, bad))],
        );
        assert!(g.check().unwrap_err().contains("its run_dir"), "{bad}");
        assert!(contained_path(bad).is_err(), "{bad}");
    }
    for good in [
        "runs/train/x",
        "a.git/b",
        ".github/x",
        "gitx",
        "résumé/ü",
        "a/..b/c..",
        "runs/train/x/",
    ] {
        assert_eq!(contained_path(good.trim_end_matches('/')), Ok(()), "{good}");
    }
    assert!(entry_problem(b"..").is_err());
    assert!(entry_problem(b"a/b").is_err());
    assert!(entry_problem(b"a\0b").is_err());
    assert!(entry_problem(b". .").is_err());
    assert_eq!(entry_problem(b"\xff\xfe"), Ok(()));
    // a C1 control (U+009E) is a control character too (found by the integrity fuzz target)
    assert!(entry_problem("_at\u{9e}x".as_bytes()).is_err());
    assert!(contained_path("a/\u{85}b").is_err());
    assert!(mode_allowed(0o100644) && mode_allowed(0o040000));
    assert!(!mode_allowed(0o160000) && !mode_allowed(0o100664));
    assert!(symlink_contained("a/b", b"c"));
    assert!(symlink_contained("a/b", b"../c"));
    assert!(!symlink_contained("a/b", b"../../c"));
    assert!(!symlink_contained("b", b"/etc/passwd"));
    assert!(!symlink_contained("a/b", b"x/../../../c"));
    assert!(!symlink_contained("a/b", b".git/config"));
}

#[test]
fn conflicts_and_identical_decisions() {
    // two clones decided differently: a conflict merge with its record
    let mut g = reviewed(true);
    approved(&mut g, 3, 2, &approval(Verdict::Pass, false, WHO, "x"));
    g.add(
        4,
        &[2],
        RunEvent::Rejected,
        &[("feedback.json", feedback(WHO))],
    );
    let conflict = |ours: u8, theirs: u8| ConflictRecord {
        schema: crate::model::decision::CONFLICT_SCHEMA.into(),
        stage: stage(),
        run_id: run_id(),
        remote: "origin".into(),
        ours: crate::model::decision::ConflictSide {
            commit: oid(ours),
            event: "approved".into(),
        },
        theirs: crate::model::decision::ConflictSide {
            commit: oid(theirs),
            event: "rejected".into(),
        },
    };
    let rec = crate::model::record::to_json(&conflict(3, 4)).into_bytes();
    g.add(5, &[3, 4], RunEvent::Conflict, &[("conflict.json", rec)]);
    assert_eq!(g.check(), Ok(RunState::Conflict));
    // resolving it with a new approval is legal
    approved(
        &mut g,
        6,
        5,
        &approval(Verdict::Pass, false, WHO, "after all"),
    );
    assert_eq!(g.check(), Ok(RunState::Approved));
    // a conflict record naming other parents
    let mut g2 = g.0.clone();
    g2.tip = oid(5);
    g2.commits.get_mut(&oid(5)).unwrap().files.insert(
        "conflict.json".into(),
        crate::model::record::to_json(&conflict(4, 3)).into_bytes(),
    );
    assert!(check_graph(&g2)
        .unwrap_err()
        .why
        .contains("other commits than its two parents"));

    // the same approval from two clones: one merge, valid, approved
    let mut g = reviewed(true);
    approved(&mut g, 3, 2, &approval(Verdict::Pass, false, WHO, "same"));
    approved(
        &mut g,
        4,
        2,
        &approval(Verdict::Pass, false, "Bob <b@x>", "same"),
    );
    g.edit(4, |c| c.author = "Bob <b@x>".into());
    let a = g.0.commits[&oid(3)].clone();
    g.add(5, &[3, 4], RunEvent::Approved, &[]);
    g.edit(5, |c| c.tree = a.tree);
    assert_eq!(g.check(), Ok(RunState::Approved));
    assert!(identical_decisions(&a.files, &g.0.commits[&oid(4)].files));
    // ... but not when they approved different interpretations
    let mut g = reviewed(true);
    approved(&mut g, 3, 2, &approval(Verdict::Pass, false, WHO, "one"));
    approved(&mut g, 4, 2, &approval(Verdict::Pass, false, WHO, "two"));
    let tree = g.0.commits[&oid(3)].tree;
    g.add(5, &[3, 4], RunEvent::Approved, &[]);
    g.edit(5, |c| c.tree = tree);
    assert!(g.check().unwrap_err().contains("decided differently"));
}

#[test]
fn a_forged_long_history_is_refused_not_walked() {
    let mut g = executed();
    for n in 2..=255u8 {
        g.add(
            n,
            &[n - 1],
            RunEvent::Reviewed,
            &[("review.json", review(true))],
        );
    }
    assert_eq!(g.check(), Ok(RunState::Reviewed));
    // a cycle cannot exist in git, but a graph that claims one must not loop
    g.edit(1, |c| c.parents = vec![oid(255)]);
    assert!(g.check().is_err());
}
