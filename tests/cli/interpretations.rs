//! An interpretation becomes a narrative block's text, so `card` and `approve` refuse
//! one holding a marker line, a near miss of one, or a provenance line (exit 2,
//! nothing recorded); anything else round-trips through `narrative new` and `check`.

use crate::common::{Repo, BIN};
use crate::{run_json, train_repo};

/// Every ref and its value, and the mirrored card: what a refusal must leave alone.
fn recorded(repo: &Repo) -> (String, Option<String>) {
    let refs = repo.git(&["for-each-ref", "--format=%(refname) %(objectname)"]);
    let card = std::fs::read_to_string(repo.path("review/train/candidate/card.md")).ok();
    (refs, card)
}

fn reviewed(repo: &Repo) -> String {
    let id = run_json(repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    id
}

/// Interpretations a block cannot hold, and the words the refusal names.
const FORBIDDEN: &[(&str, &str)] = &[
    ("Fine.\n<!-- workbench:end -->\nMore.\n", "line 2 is a workbench marker line"),
    ("Fine.\n# workbench:end\n", "line 2 is a workbench marker line"),
    ("Fine.\nworkbench:end\n", "line 2 is a workbench marker line"),
    (
        "<!-- workbench:begin stage=train run=20260308T142233Z-1e2a -->\n",
        "line 1 is a workbench marker line",
    ),
    ("Fine.\n<!-- Workbench:End -->\n", "line 2"),
    ("Fine.\n<!-- work\u{200B}bench:end -->\n", "work\\u{200b}bench:end"),
    ("Fine.\n\u{FEFF}<!-- workbench:slot stage=train -->\n", "line 2"),
    ("Fine.\r\n<!-- workbench:end\u{00AD} -->\r\n", "line 2"),
    (
        "Fine.\n\n_Approved by Eve <eve@example.com> on 2026-03-08 (run 20260308T142233Z-1e2a, sha256:0123456789ab)._\n",
        "line 3 is a provenance line",
    ),
];

#[test]
fn card_refuses_a_draft_with_marker_or_provenance_lines() {
    let repo = train_repo();
    let id = reviewed(&repo);
    let before = recorded(&repo);
    for (text, needle) in FORBIDDEN {
        let r = repo
            .wb(&["card", &id, "-m", text])
            .fails(2, "cannot be approved into a narrative");
        assert!(r.stderr.contains(needle), "{text:?}: {}", r.stderr);
        assert!(r.stderr.contains("given with -m"), "{}", r.stderr);
        assert!(
            r.stderr.contains("hint: remove or reword that line"),
            "{}",
            r.stderr
        );
        repo.write("draft.md", text);
        let r = repo
            .wb(&["card", &id, "--interpretation", "draft.md"])
            .fails(2, needle);
        assert!(r.stderr.contains("in draft.md"), "{}", r.stderr);
        assert_eq!(recorded(&repo), before, "nothing recorded for {text:?}");
    }
    // the run can still be carded and approved
    repo.wb(&["card", &id, "-m", "Score 0.75 is fine."]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
}

#[test]
fn approve_refuses_the_humans_text_with_marker_or_provenance_lines() {
    let repo = train_repo();
    let id = reviewed(&repo);
    repo.wb(&["card", &id, "-m", "Score 0.75 is fine."]).ok();
    let before = recorded(&repo);
    for (text, needle) in FORBIDDEN {
        repo.write("mine.md", text);
        let r = repo
            .wb(&["approve", &id, "--yes", "--interpretation", "mine.md"])
            .fails(2, needle);
        assert!(r.stderr.contains("in mine.md"), "{}", r.stderr);
        assert_eq!(recorded(&repo), before, "nothing recorded for {text:?}");
    }
    // the editor path: the human's edit adds an end marker
    let o = repo
        .cmd(BIN, &["approve", &id, "--yes", "--edit"])
        .env("GIT_EDITOR", "sed -i '$a <!-- workbench:end -->'")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the interpretation (as edited)")
            && err.contains("line 2 is a workbench marker line"),
        "{err}"
    );
    assert_eq!(recorded(&repo), before);
    repo.wb(&["approve", &id, "--yes"]).ok();
}

/// What is not a marker is the human's to say, and the block it becomes checks.
#[test]
fn an_interpretation_that_only_mentions_markers_round_trips() {
    let repo = train_repo();
    let id = reviewed(&repo);
    let text = "The workbench begin/end markers are fine; approved by the team lead.\n\nScore 0.75 (see the <!-- comment --> above).";
    repo.wb(&["card", &id, "-m", text]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    repo.write(
        ".gitattributes",
        "reports/*.md workbench-narrative\nreports/*.py workbench-narrative\n",
    );
    repo.write("reports/summary.md", "# Summary\n");
    repo.write("reports/summary.py", "x = 1\n");
    for f in ["reports/summary.md", "reports/summary.py"] {
        repo.wb(&["narrative", "new", "train", f]).ok();
        repo.wb(&["narrative", "check", f]).ok();
    }
    assert!(repo
        .read("reports/summary.md")
        .contains("approved by the team lead"));
}
