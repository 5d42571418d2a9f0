//! A forced approval (`approve --force`, over a failed review) is visible everywhere an
//! approval is: the block's provenance line — derived from the records, so the hook and
//! `verify` refuse a block that claims or hides it — `verify`'s summary and JSON,
//! `show` and `compare`.

use crate::common::Repo;
use crate::narratives::{commit_ok, commit_refused};
use crate::{run_json, TRAIN_CONFIG, TRAIN_SH};

/// Stage `s` writes an empty `app.log` among its outputs: `non_empty_outputs` fails.
const S_SH: &str = r#"set -e
mkdir -p "$WORKBENCH_RUN_DIR"
printf 'a,b\n1,2\n' > "$WORKBENCH_RUN_DIR/t.csv"
: > "$WORKBENCH_RUN_DIR/app.log"
printf '{"f1": 0.5}' > "$WORKBENCH_RUN_DIR/m.json"
"#;

/// An agent check whose name is free text holding a line break and an end marker.
const HOSTILE_CHECK: &str = "x\n<!-- workbench:end -->";

const PROVENANCE_TAIL: &str = "; FORCED over a failed review (non_empty_outputs and 1 more)._";

fn config() -> String {
    format!(
        "{TRAIN_CONFIG}\n[stages.s]\ncmd = \"sh scripts/s.sh\"\nouts = [\"runs/{{run_id}}/t.csv\", \"runs/{{run_id}}/app.log\"]\nmetrics = \"runs/{{run_id}}/m.json\"\n"
    )
}

/// A forced approval of `s` (over `non_empty_outputs` and the hostile agent check)
/// and a clean approval of `train`, each with a block in `reports/summary.md`,
/// committed through the installed hook. Returns (repo, forced run, clean run).
fn forced_report() -> (Repo, String, String) {
    let repo = Repo::with(
        &config(),
        &[
            ("scripts/train.sh", TRAIN_SH),
            ("scripts/s.sh", S_SH),
            ("data/in.csv", "a,b\n1,2\n"),
            ("params.yaml", "train:\n  lr: 0.1\n  depth: 3\nother: 1\n"),
        ],
    );
    let forced = run_json(&repo, &["s"]);
    let checks = serde_json::json!([{"name": HOSTILE_CHECK, "pass": false}]);
    let checks_file = repo.home.join("checks.json");
    std::fs::write(&checks_file, checks.to_string()).unwrap();
    let r = repo.wb(&[
        "--json",
        "review",
        &forced,
        "--checks",
        checks_file.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "the review fails: {}", r.stderr);
    assert_eq!(r.json()["verdict"], "fail");
    repo.wb(&["card", &forced, "-m", "The empty log is expected."])
        .ok();
    repo.wb(&["approve", &forced, "--yes"])
        .fails(1, "failed its review");
    repo.wb(&["approve", &forced, "--yes", "--force"]).ok();

    let clean = run_json(&repo, &["train"]);
    repo.wb(&["review", &clean]).ok();
    repo.wb(&["card", &clean, "-m", "Score 0.75 is fine."]).ok();
    repo.wb(&["approve", &clean, "--yes"]).ok();

    repo.write(".gitattributes", "reports/*.md workbench-narrative\n");
    repo.write(
        "reports/summary.md",
        "# Summary\n\n<!-- workbench:slot stage=s -->\n\nBetween.\n\n<!-- workbench:slot stage=train -->\n",
    );
    repo.wb(&["narrative", "new", "s", "reports/summary.md"])
        .ok();
    repo.wb(&["narrative", "new", "train", "reports/summary.md"])
        .ok();
    repo.wb(&["hooks", "install"]).ok();
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "report"]);
    (repo, forced, clean)
}

/// The provenance line of the block citing `run`.
fn provenance(text: &str, run: &str) -> String {
    let begin = text
        .lines()
        .position(|l| l.contains("workbench:begin") && l.contains(run))
        .unwrap_or_else(|| panic!("no block of {run}:\n{text}"));
    text.lines()
        .skip(begin)
        .take_while(|l| !l.contains("workbench:end"))
        .find(|l| l.starts_with("_Approved by"))
        .unwrap_or_else(|| panic!("no provenance line:\n{text}"))
        .to_string()
}

#[test]
fn the_provenance_line_says_forced_and_no_text_can_hide_or_claim_it() {
    let (repo, forced, clean) = forced_report();
    let text = repo.read("reports/summary.md");
    let line = provenance(&text, &forced);
    assert!(
        line.starts_with("_Approved by Ada Analyst <ada@example.com> on ")
            && line.contains(&format!("(run {forced}, sha256:"))
            && line.ends_with(PROVENANCE_TAIL),
        "{line}"
    );
    let clean_line = provenance(&text, &clean);
    assert!(
        !clean_line.contains("FORCED") && clean_line.ends_with(")._"),
        "{clean_line}"
    );
    // The agent's free-text check name is counted, never written into the block.
    assert_eq!(text.matches("workbench:end").count(), 2, "{text}");
    repo.wb(&["verify"]).ok();

    let edits: [(&str, String, String); 3] = [
        // hiding it
        ("hides", line.clone(), line.replace(PROVENANCE_TAIL, "._")),
        // naming other checks than the review failed
        (
            "misnames",
            line.clone(),
            line.replace("non_empty_outputs", "row_counts"),
        ),
        // claiming it for a clean approval
        (
            "claims",
            clean_line.clone(),
            clean_line.replace(")._", ")") + "; FORCED over a failed review (row_counts)._",
        ),
    ];
    for (what, from, to) in edits {
        assert_ne!(from, to);
        repo.write("reports/summary.md", &text.replace(&from, &to));
        let err = commit_refused(
            &repo,
            &["commit", "-q", "-a", "-m", what],
            "differs from the approved rendering",
        );
        assert!(
            err.contains(&format!("-{from}")) && err.contains(&format!("+{to}")),
            "{what}: the diff shows the provenance line:\n{err}"
        );
        // Committed past the hook, verify finds it.
        commit_ok(&repo, &["commit", "-q", "-a", "--no-verify", "-m", what]);
        let r = repo.wb(&["--json", "verify", "--range", "HEAD~1..HEAD"]);
        assert_eq!(r.code, 1, "{what}: {}", r.stdout);
        let problems = r.json()["problems"].to_string();
        assert!(
            problems.contains("differs from the approved rendering"),
            "{what}: {problems}"
        );
        repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    }
    // sync writes the records' rendering back, FORCED included
    repo.write(
        "reports/summary.md",
        &text.replace(&line, &line.replace(PROVENANCE_TAIL, "._")),
    );
    repo.wb(&["narrative", "sync"]).ok();
    assert_eq!(repo.read("reports/summary.md"), text);
    repo.wb(&["narrative", "check"]).ok();
}

#[test]
fn a_forced_block_in_a_python_narrative_is_marked_too() {
    let (repo, forced, _) = forced_report();
    repo.write(
        ".gitattributes",
        "reports/*.md workbench-narrative\n*.py workbench-narrative\n",
    );
    repo.write("analysis.py", "# %%\n# workbench:slot stage=s\nx = 1\n");
    repo.wb(&["narrative", "new", "s", "analysis.py"]).ok();
    let text = repo.read("analysis.py");
    let line = text
        .lines()
        .find(|l| l.starts_with("# _Approved by"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(&forced) && line.ends_with(PROVENANCE_TAIL),
        "{line}"
    );
    repo.git(&["add", "-A"]);
    commit_ok(&repo, &["commit", "-q", "-m", "py"]);
    let hidden = text.replace(PROVENANCE_TAIL, "._");
    repo.write("analysis.py", &hidden);
    commit_refused(&repo, &["commit", "-q", "-a", "-m", "hide"], "differs");
}

#[test]
fn verify_names_forced_approvals_in_text_markdown_and_json() {
    let (repo, forced, clean) = forced_report();
    let r = repo.wb(&["--json", "verify"]).ok();
    let j = r.json();
    let blocks = j["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 2, "{j}");
    let of = |run: &str| blocks.iter().find(|b| b["run"] == run).unwrap().clone();
    assert_eq!(of(&forced)["forced"], true);
    assert_eq!(
        of(&forced)["overridden_checks"],
        serde_json::json!(["non_empty_outputs", HOSTILE_CHECK])
    );
    assert_eq!(of(&clean)["forced"], false);
    assert_eq!(of(&clean)["overridden_checks"], serde_json::json!([]));
    let line = of(&forced)["line"].as_u64().unwrap();
    assert_eq!(
        j["summary"]["forced"],
        serde_json::json!([{
            "stage": "s",
            "run": forced,
            "approved_by": "Ada Analyst <ada@example.com>",
            "overridden_checks": ["non_empty_outputs", HOSTILE_CHECK],
            "blocks": [format!("reports/summary.md:{line}")],
        }])
    );
    assert_eq!(
        j["ok"], true,
        "a forced approval is a human's decision, not a problem"
    );

    let text = repo.wb(&["verify"]).ok().stdout;
    assert!(
        text.contains(&format!(
            "FORCED APPROVAL: run {forced} of stage s, approved by Ada Analyst <ada@example.com> over a failed review (non_empty_outputs, x\\n<!-- workbench:end -->); cited by reports/summary.md:{line}\n"
        )),
        "the check name stays on its line, escaped:\n{text}"
    );
    assert!(
        text.contains("2 narrative block(s) (1 on a forced approval): ok"),
        "{text}"
    );

    let md = repo.wb(&["verify", "--format", "markdown"]).ok().stdout;
    assert!(md.contains("### ⚠️ Forced approvals\n\n"), "{md}");
    assert!(
        md.contains(&format!(
            "- run `{forced}` of stage `s`, approved by Ada Analyst <ada@example.com> **over a failed review** (`non_empty_outputs`, `x <!-- workbench:end -->`); cited by `reports/summary.md:{line}`\n"
        )),
        "{md}"
    );
    assert!(
        md.contains("| approved by | when | signed | edited | forced | changed |"),
        "{md}"
    );
    let row = |run: &str| {
        md.lines()
            .find(|l| l.starts_with("| reports/summary.md:") && l.contains(run))
            .unwrap()
            .to_string()
    };
    assert!(row(&forced).contains("| **yes** | no |"), "{md}");
    assert!(row(&clean).ends_with("| no | no |"), "{md}");
    // the per-stage section marks it too, the hostile check name inert
    let section = md.split("### Approved results\n").nth(1).unwrap();
    let s = section.split("#### `s`").nth(1).unwrap();
    let s = s.split("#### ").next().unwrap();
    assert!(
        s.starts_with(&format!(": run `{forced}`"))
            && s.contains("⚠️ **forced** over a failed review (non\\_empty\\_outputs, x\\\\n&lt;\\!-- workbench:end --&gt;)"),
        "{section}"
    );
    assert!(!section.contains("<!--"), "{section}");

    // Without a forced approval, nothing says forced.
    let plain = crate::narratives::reported().0;
    plain.git(&["add", "-A"]);
    commit_ok(&plain, &["commit", "-q", "-m", "report"]);
    let j = plain.wb(&["--json", "verify"]).ok().json();
    assert_eq!(j["summary"]["forced"], serde_json::json!([]));
    let text = plain.wb(&["verify"]).ok().stdout;
    assert!(
        !text.contains("FORCED") && !text.contains("forced approval"),
        "{text}"
    );
    let md = plain.wb(&["verify", "--format", "markdown"]).ok().stdout;
    assert!(!md.contains("Forced approvals"), "{md}");
}

#[test]
fn show_says_an_approval_was_forced() {
    let (repo, forced, clean) = forced_report();
    let text = repo.wb(&["show", &forced]).ok().stdout;
    assert!(
        text.starts_with(&format!(
            "run {forced} of stage s (approved, FORCED over a failed review)\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "  FORCED    over a failed review (approve --force): non_empty_outputs, x\\n<!-- workbench:end -->\n"
        ),
        "{text}"
    );
    // The review's issues too: a check name never starts a line of its own.
    assert!(
        text.contains("  - x\\n<!-- workbench:end -->\n")
            && !text.contains("\n<!-- workbench:end -->"),
        "{text}"
    );
    let j = repo.wb(&["--json", "show", &forced]).ok().json();
    assert_eq!(j["approval"]["forced"], true);
    assert_eq!(
        j["overridden_checks"],
        serde_json::json!(["non_empty_outputs", HOSTILE_CHECK])
    );
    let text = repo.wb(&["show", &clean]).ok().stdout;
    assert!(!text.contains("FORCED"), "{text}");
    let j = repo.wb(&["--json", "show", &clean]).ok().json();
    assert_eq!(j["overridden_checks"], serde_json::json!([]));
}

#[test]
fn compare_marks_forced_approved_runs() {
    let repo = Repo::with(
        &config(),
        &[
            ("scripts/train.sh", TRAIN_SH),
            ("scripts/s.sh", S_SH),
            ("data/in.csv", "a,b\n1,2\n"),
            ("params.yaml", "train:\n  lr: 0.1\n  depth: 3\nother: 1\n"),
        ],
    );
    let clean = run_json(&repo, &["train"]);
    repo.wb(&["review", &clean]).ok();
    repo.wb(&["approve", &clean, "--yes"]).ok();
    let forced = run_json(&repo, &["s"]);
    repo.wb(&["review", &forced]).fails(1, "");
    // Before any forced approval the table has the columns it always had (and the
    // cache holds the row of the reviewed run).
    let columns = |j: &serde_json::Value| -> Vec<String> {
        j["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    let j = repo.wb(&["--json", "compare"]).ok().json();
    assert_eq!(
        columns(&j)[..5],
        [
            "run_id",
            "stage",
            "started_at",
            "state",
            "params.train.depth"
        ]
    );
    assert!(!columns(&j).contains(&"forced".to_string()), "{j}");
    repo.wb(&["approve", &forced, "--yes", "--force"]).ok();

    let j = repo.wb(&["--json", "compare"]).ok().json();
    assert_eq!(
        columns(&j)[..6],
        [
            "run_id",
            "stage",
            "started_at",
            "state",
            "forced",
            "params.train.depth"
        ],
        "{j}"
    );
    let row = |run: &str| {
        j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["run_id"] == run)
            .unwrap()
            .clone()
    };
    assert_eq!(row(&forced)["state"], "approved");
    assert_eq!(row(&forced)["forced"], "non_empty_outputs");
    assert_eq!(row(&clean)["state"], "approved");
    assert_eq!(row(&clean)["forced"], serde_json::Value::Null);

    let csv = repo.wb(&["compare", "--format", "csv"]).ok().stdout;
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("run_id,stage,started_at,state,forced,params."),
        "{csv}"
    );
    assert!(csv.contains(",approved,non_empty_outputs,"), "{csv}");
    assert!(csv.contains(&format!("{clean},train,")), "{csv}");
    // The marker stays through column selection, --only-changed and state filters.
    for args in [
        &["--json", "compare", "--columns", "metrics.*"][..],
        &["--json", "compare", "--only-changed"][..],
        &["--json", "compare", "--state", "approved", "--stage", "s"][..],
    ] {
        let j = repo.wb(args).ok().json();
        assert!(
            j["columns"].as_array().unwrap().contains(&"forced".into()),
            "{args:?}: {j}"
        );
    }
    let j = repo
        .wb(&["--json", "compare", "--where", "forced=non_empty_outputs"])
        .ok()
        .json();
    assert_eq!(j["rows"].as_array().unwrap().len(), 1, "{j}");
    assert_eq!(j["rows"][0]["run_id"], forced.as_str());
    let table = repo.wb(&["compare"]).ok().stdout;
    assert!(
        table.contains("forced") && table.contains("non_empty_outputs"),
        "{table}"
    );
}
