//! `compare`: the comparison table from the records.

use crate::common::Repo;
use crate::run_json;

fn swept() -> Repo {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"mkdir -p $WORKBENCH_RUN_DIR && echo \\\"{\\\\\\\"score\\\\\\\": $(echo $WORKBENCH_PARAMS | sed 's/.*lr.:\\\\([0-9.]*\\\\).*/\\\\1/')}\\\" > $WORKBENCH_RUN_DIR/m.json\"\nmetrics = \"runs/{run_id}/m.json\"\nparams = { file = \"params.yaml\" }\ndirections = { score = \"maximize\" }\n",
        &[("params.yaml", "lr: 0.1\nseed: 1\n")],
    );
    for lr in ["0.1", "0.3", "0.2"] {
        run_json(&repo, &["s", "-p", &format!("lr={lr}")]);
    }
    repo
}

#[test]
fn compare_builds_the_table_from_records() {
    let repo = swept();
    let j = repo.wb(&["--json", "compare"]).ok().json();
    assert_eq!(
        j["columns"],
        serde_json::json!([
            "run_id",
            "stage",
            "started_at",
            "state",
            "params.lr",
            "params.seed",
            "metrics.score"
        ])
    );
    let scores: Vec<f64> = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["metrics.score"].as_f64().unwrap())
        .collect();
    assert_eq!(scores, [0.1, 0.3, 0.2], "oldest first");
    let j = repo
        .wb(&[
            "--json",
            "compare",
            "--sort",
            "-score",
            "--where",
            "score>0.15",
            "--only-changed",
        ])
        .ok()
        .json();
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["metrics.score"], 0.3);
    assert!(
        !j["columns"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("params.seed")),
        "constant column dropped"
    );
    let j = repo
        .wb(&["--json", "compare", "--last", "1", "--exclude", "params.*"])
        .ok()
        .json();
    assert_eq!(j["rows"].as_array().unwrap().len(), 1);
    assert_eq!(j["rows"][0]["metrics.score"], 0.2);
    assert!(j["rows"][0].get("params.lr").is_none());

    // -o writes runs/comparison.csv, which the csv crate reads back
    repo.wb(&["compare", "-o"]).ok();
    let text = repo.read("runs/comparison.csv");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(r.headers().unwrap().len(), 7);
    assert_eq!(r.records().count(), 3);
    // the terminal table marks the best score
    let t = repo.wb(&["compare"]).ok().stdout;
    assert!(t.contains("0.3*"), "{t}");
    let md = repo.wb(&["compare", "--format", "markdown"]).ok().stdout;
    assert!(md.lines().nth(1).unwrap().starts_with("| --- |"), "{md}");
}

#[test]
fn compare_errors() {
    let repo = swept();
    repo.wb(&["compare", "--sort", "nope"])
        .fails(2, "no column 'nope'");
    let r = repo.wb(&["compare", "--where", "garbage"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a condition"), "{}", r.stderr);
    let j = repo
        .wb(&["--json", "compare", "--state", "approved"])
        .ok()
        .json();
    assert_eq!(j["rows"].as_array().unwrap().len(), 0);
}

#[test]
fn the_table_cache_follows_transitions() {
    let repo = swept();
    let j = repo.wb(&["--json", "compare"]).ok().json();
    let id = j["rows"][0]["run_id"].as_str().unwrap().to_string();
    assert_eq!(j["rows"][0]["state"], "executed");
    assert!(repo.path(".git/workbench/table-cache").is_file());
    repo.wb(&["review", &id]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    let j = repo
        .wb(&["--json", "compare", "--state", "approved"])
        .ok()
        .json();
    assert_eq!(j["rows"].as_array().unwrap().len(), 1);
    assert_eq!(j["rows"][0]["run_id"], id.as_str());
    // a damaged cache is ignored
    std::fs::write(repo.path(".git/workbench/table-cache"), "garbage").unwrap();
    assert_eq!(
        repo.wb(&["--json", "compare"]).ok().json()["rows"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// Every format prints the same bytes from the records (no cache), from a warm cache,
/// and when the cache file is of an older version (a v4 entry lying about a run),
/// truncated, or altered: a damaged file is ignored whole and rewritten, never
/// trusted in part.
#[test]
fn the_table_cache_never_changes_what_compare_prints() {
    let repo = swept();
    let j = repo.wb(&["--json", "compare"]).ok().json();
    let first = j["rows"][0]["run_id"].as_str().unwrap().to_string();
    let second = j["rows"][1]["run_id"].as_str().unwrap().to_string();
    repo.wb(&["review", &first]).ok();
    repo.wb(&["approve", &first, "--yes"]).ok();
    repo.wb(&["review", &second]).ok();
    repo.wb(&["reject", &second, "--issue", "no"]).ok();
    let cache = repo.path(".git/workbench/table-cache");
    let tips = repo.git(&[
        "for-each-ref",
        "--format=%(objectname)",
        "refs/workbench/runs/",
    ]);
    let tip = tips.lines().next().unwrap().to_string();
    let print = |args: &[&str]| -> String {
        let mut all = vec!["compare"];
        all.extend_from_slice(args);
        let o = repo
            .cmd(crate::common::BIN, &all)
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let formats: [&[&str]; 9] = [
        &[],
        &["--wide"],
        &["--vertical"],
        &["--format", "csv"],
        &["--format", "json"],
        &["--format", "markdown"],
        &["--format", "table", "--only-changed", "--sort", "-score"],
        &[
            "--format",
            "csv",
            "--where",
            "score>0.1",
            "--columns",
            "metrics.*",
        ],
        &["--format", "json", "--state", "approved", "--last", "1"],
    ];
    for args in formats {
        std::fs::remove_file(&cache).ok();
        let cold = print(args);
        assert!(cold.contains("run_id"), "{args:?}: {cold}");
        let good = std::fs::read_to_string(&cache).unwrap();
        assert!(good.starts_with("workbench-table-cache v5\n"), "{good}");
        assert_eq!(print(args), cold, "warm {args:?}");
        let damaged = [
            format!(
                "workbench-table-cache v4\n{tip}\t{{\"run_id\":\"{first}\",\"stage\":\"s\",\"started_at\":\"2026-01-01T00:00:00.000Z\",\"state\":\"executed\",\"params\":{{}},\"metrics\":{{\"score\":999}}}}\n"
            ),
            good[..good.len() / 2].to_string(),
            good[..good.len() - 3].to_string(),
            good.replacen("approved", "executed", 1),
            good.replacen("\ts", "\tx", 1),
            good.replace("crc32 ", "crc32 0"),
        ];
        for (i, d) in damaged.iter().enumerate() {
            assert_ne!(d, &good, "damage {i} changes the file");
            std::fs::write(&cache, d).unwrap();
            assert_eq!(print(args), cold, "damage {i} of the cache, {args:?}");
            assert_eq!(
                std::fs::read_to_string(&cache).unwrap(),
                good,
                "damage {i}: the cache is rewritten whole"
            );
        }
    }
    // A --stage view keeps the other stages' entries (the file stays as it was).
    print(&["--stage", "s"]);
    let before = std::fs::read_to_string(&cache).unwrap();
    print(&["--format", "csv", "--stage", "s", "--state", "rejected"]);
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), before);
}

#[test]
fn diff_compares_tables_across_commits() {
    let repo = swept();
    repo.wb(&["compare", "-o"]).ok();
    repo.git(&["add", "-f", "runs/comparison.csv"]);
    repo.git(&["commit", "-q", "-m", "table"]);
    repo.wb(&["diff", "--exit-code"]).ok();
    let first = repo.wb(&["--json", "compare"]).ok().json()["rows"][0]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    repo.wb(&["review", &first]).ok();
    let added = run_json(&repo, &["s", "-p", "lr=0.4"]);
    repo.wb(&["compare", "-o"]).ok();
    let r = repo.wb(&["diff", "--exit-code"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = repo.wb(&["--json", "diff"]).ok().json();
    let changes = j["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{j}");
    assert_eq!(changes[0]["key"], first.as_str());
    assert_eq!(changes[0]["cells"][0]["column"], "state");
    assert_eq!(changes[0]["cells"][0]["old"], "executed");
    assert_eq!(changes[0]["cells"][0]["new"], "reviewed");
    assert_eq!(changes[1]["key"], added.as_str());
    assert_eq!(changes[1]["change"], "added");
    repo.git(&["add", "-f", "runs/comparison.csv"]);
    repo.git(&["commit", "-q", "-m", "table 2"]);
    let md = repo
        .wb(&["diff", "HEAD~1", "HEAD", "--format", "markdown"])
        .ok()
        .stdout;
    assert!(md.contains("| state | executed | reviewed |"), "{md}");
    let csv_out = repo
        .wb(&["diff", "HEAD~1", "HEAD", "--format", "csv"])
        .ok()
        .stdout;
    assert_eq!(
        csv_out.lines().next().unwrap(),
        "key,change,column,old,new,delta"
    );

    // errors
    repo.wb(&["diff", "nope"]).fails(2, "cannot resolve 'nope'");
    repo.wb(&["diff", "--path", "missing.csv"])
        .fails(2, "missing.csv does not exist at HEAD");
    repo.write("dup.csv", "run_id,x\na,1\na,2\n");
    repo.git(&["add", "dup.csv"]);
    repo.git(&["commit", "-q", "-m", "dup"]);
    repo.wb(&["diff", "--path", "dup.csv"])
        .fails(2, "'a' appears twice, on lines 2 and 3");
    std::fs::write(
        repo.path("bin.csv"),
        [0x89, b'P', b'N', b'G', 0, 0xff, b'\n'],
    )
    .unwrap();
    repo.write("rag.csv", "run_id,x\na,1\nb,2,3\n");
    repo.git(&["add", "bin.csv", "rag.csv"]);
    repo.git(&["commit", "-q", "-m", "bad tables"]);
    repo.wb(&["diff", "--path", "bin.csv"])
        .fails(2, "HEAD:bin.csv is not UTF-8 text (binary?)");
    repo.wb(&["diff", "--path", "rag.csv"])
        .fails(2, "HEAD:rag.csv: CSV error: record 2 (line: 3");
    repo.write("rag.csv", "run_id,x\na,1\n");
    repo.wb(&["diff", "--path", "rag.csv"])
        .fails(2, "HEAD:rag.csv");
    repo.write("keyed.csv", "name,x\na,1\n");
    repo.git(&["add", "keyed.csv"]);
    repo.git(&["commit", "-q", "-m", "keyed"]);
    repo.write("keyed.csv", "x\n1\n");
    repo.wb(&["diff", "--path", "keyed.csv", "--key", "name"])
        .fails(2, "the new table has no key column 'name'");
}

fn commit_mirror(repo: &Repo, msg: &str) {
    repo.git(&["add", "-f", "review"]);
    repo.git(&["commit", "-q", "-m", msg]);
}

#[test]
fn diff_metrics_compares_the_approved_runs_at_two_commits() {
    let repo = swept();
    let ids: Vec<String> = repo.wb(&["--json", "compare"]).ok().json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    // nothing approved yet: no stages on either side
    repo.wb(&["diff", "--metrics", "HEAD", "HEAD", "--exit-code"])
        .ok();
    for (id, msg) in [(&ids[0], "approve lr=0.1"), (&ids[1], "approve lr=0.3")] {
        repo.wb(&["review", id]).ok();
        repo.wb(&["approve", id, "--yes"]).ok();
        commit_mirror(&repo, msg);
    }
    let j = repo
        .wb(&["--json", "diff", "--metrics", "HEAD~1", "HEAD"])
        .ok()
        .json();
    assert_eq!(j["old"], "HEAD~1");
    let c = &j["changes"];
    assert_eq!(c.as_array().unwrap().len(), 1, "{j}");
    assert_eq!(c[0]["key"], "s");
    assert_eq!(c[0]["change"], "changed");
    assert_eq!(c[0]["cells"][0]["column"], "run_id");
    assert_eq!(c[0]["cells"][0]["old"], ids[0].as_str());
    assert_eq!(c[0]["cells"][0]["new"], ids[1].as_str());
    assert_eq!(c[0]["cells"][1]["column"], "metrics.score");
    assert_eq!(c[0]["cells"][1]["verdict"], "better");
    assert!((c[0]["cells"][1]["delta"].as_f64().unwrap() - 0.2).abs() < 1e-9);
    let table = repo
        .wb(&["diff", "--metrics", "HEAD~1", "HEAD", "--exit-code"])
        .fails(1, "")
        .stdout;
    assert!(table.contains("+0.2 (+200.0%) ▲ better"), "{table}");
    // a later run goes to candidate/ and leaves the committed approval alone
    let approval = repo.read("review/s/approval.json");
    run_json(&repo, &["s", "-p", "lr=0.05"]);
    commit_mirror(&repo, "new run, not approved");
    assert_eq!(repo.read("review/s/approval.json"), approval);
    assert!(repo.path("review/s/candidate/manifest.json").is_file());
    repo.wb(&["diff", "--metrics", "HEAD~1", "HEAD", "--exit-code"])
        .ok();
    let j = repo
        .wb(&["--json", "diff", "--metrics", "HEAD~2", "HEAD"])
        .ok()
        .json();
    assert_eq!(j["changes"][0]["cells"][0]["new"], ids[1].as_str());
    // the first approval's commit against the root: the stage is added
    let j = repo
        .wb(&["--json", "diff", "--metrics", "HEAD~3", "HEAD~2"])
        .ok()
        .json();
    assert_eq!(j["changes"][0]["change"], "added", "{j}");

    // a committed approval that the record does not hold is refused
    repo.git(&["checkout", "-q", "HEAD~1", "--", "review/s/approval.json"]);
    let forged = repo
        .read("review/s/approval.json")
        .replace("\"approved_by\"", "\"approved_by\" ");
    repo.write("review/s/approval.json", &forged);
    commit_mirror(&repo, "edited approval");
    repo.wb(&["diff", "--metrics", "HEAD~1", "HEAD"])
        .fails(1, "does not match the approval in the record of run");
    // an approval whose run record is missing here names the run and says to fetch
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    repo.git(&[
        "update-ref",
        "-d",
        &format!("refs/workbench/runs/s/{}", ids[1]),
    ]);
    repo.wb(&["diff", "--metrics", "HEAD~1", "HEAD"]).fails(
        2,
        &format!(
            "approves run {} of stage s, which has no record here",
            ids[1]
        ),
    );
    repo.wb(&["diff", "--metrics", "nope", "HEAD"])
        .fails(2, "cannot resolve 'nope'");
}

/// Compares `actual` with `tests/golden/NAME`; `UPDATE_GOLDEN=1` rewrites the file.
fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, want, "output differs from {}", path.display());
}

const DIRECTED: &str =
    "[stages.s]\ncmd = \"true\"\ndirections = { auc = \"maximize\", loss = \"minimize\" }\n";

/// Two commits of a hand-written table with every kind of change: a better and a
/// worse metric, a text cell, a renamed column, an added and a removed row, quoted
/// commas and newlines, and cells a spreadsheet would evaluate.
fn two_tables() -> Repo {
    let repo = Repo::with(
        DIRECTED,
        &[(
            "t.csv",
            "run_id,note,params.lr,metrics.auc,metrics.loss\n\
             r1,plain,0.1,0.5,0.9\n\
             r2,\"with, comma\",0.2,0.6,0.8\n\
             r3,gone,0.3,0.7,0.7\n",
        )],
    );
    repo.write(
        "t.csv",
        "run_id,note,params.learning_rate,metrics.auc,metrics.loss\n\
         r2,\"with, comma\nand a newline\",0.2,0.55,0.8\n\
         r1,=HYPERLINK(\"http://x\"),0.1,0.75,0.95\n\
         r4,a|b,0.4,-0.1,@SUM(A1)\n",
    );
    repo.git(&["commit", "-q", "-am", "second"]);
    repo
}

#[test]
fn diff_renderings_match_the_golden_files() {
    let repo = two_tables();
    for (format, file) in [
        ("table", "diff.table.txt"),
        ("markdown", "diff.markdown.md"),
    ] {
        let out = repo
            .wb(&[
                "diff", "HEAD~1", "HEAD", "--path", "t.csv", "--format", format,
            ])
            .ok()
            .stdout;
        golden(file, &out);
    }
    let md = repo
        .wb(&[
            "diff", "HEAD~1", "HEAD", "--path", "t.csv", "--format", "markdown",
        ])
        .ok()
        .stdout;
    assert!(md.contains("'=HYPERLINK"), "formula defused:\n{md}");
    assert!(md.contains("a\\|b"), "pipe escaped:\n{md}");
    for line in md.lines() {
        assert!(
            line.starts_with('|') && line.ends_with('|'),
            "one row per line: {line:?}"
        );
        for cell in line.trim_matches('|').split(" | ").take(5) {
            assert!(
                !cell.trim().starts_with(['=', '@']),
                "a spreadsheet would evaluate {cell:?}"
            );
        }
    }
    assert!(md.contains("| +0.25 (+50.0%) ▲ better |"), "{md}");
}

/// The JSON of `diff` parsed into strict structs (unknown fields are errors), and its
/// CSV read back by the csv crate.
#[test]
fn diff_json_and_csv_parse_back() {
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        path: String,
        old: String,
        new: String,
        changes: Vec<Row>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct Row {
        key: String,
        change: String,
        cells: Vec<CellJson>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    struct CellJson {
        column: String,
        old: String,
        new: String,
        delta: Option<f64>,
        relative: Option<f64>,
        verdict: Option<String>,
        text_diff: Option<String>,
    }
    let repo = two_tables();
    let out = repo
        .wb(&["--json", "diff", "HEAD~1", "HEAD", "--path", "t.csv"])
        .ok()
        .stdout;
    let doc: Doc = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (doc.path.as_str(), doc.old.as_str(), doc.new.as_str()),
        ("t.csv", "HEAD~1", "HEAD")
    );
    let kinds: Vec<(&str, &str)> = doc
        .changes
        .iter()
        .map(|r| (r.key.as_str(), r.change.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("r1", "changed"),
            ("r2", "changed"),
            ("r3", "removed"),
            ("r4", "added")
        ]
    );
    let r1 = &doc.changes[0].cells;
    let cell = |name: &str| r1.iter().find(|c| c.column == name).unwrap();
    assert_eq!(cell("metrics.auc").delta, Some(0.25));
    assert_eq!(cell("metrics.auc").verdict.as_deref(), Some("better"));
    assert_eq!(cell("metrics.loss").verdict.as_deref(), Some("worse"));
    assert!((cell("metrics.auc").relative.unwrap() - 0.5).abs() < 1e-12);
    // the renamed column: old cells removed, new cells added, never a crash
    assert_eq!(cell("params.lr").old, "0.1");
    assert_eq!(cell("params.lr").new, "");
    assert_eq!(cell("params.learning_rate").new, "0.1");
    let r2 = &doc.changes[1].cells;
    assert_eq!(r2[0].new, "with, comma\nand a newline");
    assert!(r2[0].delta.is_none() && r2[0].verdict.is_none());
    assert_eq!(
        r2[0].text_diff.as_deref(),
        Some("with, comma{+\nand a newline+}")
    );
    assert!(
        cell("note").text_diff.is_none(),
        "one word each: plain old → new"
    );

    let csv_out = repo
        .wb(&[
            "diff", "HEAD~1", "HEAD", "--path", "t.csv", "--format", "csv",
        ])
        .ok()
        .stdout;
    let mut rd = csv::Reader::from_reader(csv_out.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert!(rows
        .iter()
        .any(|r| &r[0] == "r2" && &r[4] == "with, comma\nand a newline"));
    assert!(rows.iter().any(|r| &r[0] == "r4" && &r[1] == "added"));
}

#[test]
fn compare_csv_round_trips_and_goldens_hold() {
    let repo = swept();
    let csv_out = repo.wb(&["compare", "--format", "csv"]).ok().stdout;
    let j = repo.wb(&["--json", "compare"]).ok().json();
    let mut rd = csv::Reader::from_reader(csv_out.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(serde_json::json!(header), j["columns"]);
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    for (r, jr) in rows.iter().zip(j["rows"].as_array().unwrap()) {
        for (i, col) in header.iter().enumerate() {
            let want = match &jr[col] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            assert_eq!(&r[i], want.as_str(), "{col}");
        }
    }
    // goldens, with the run ids and start times (which differ per run) normalised
    let mut norm: Vec<(String, String)> = Vec::new();
    for (i, r) in j["rows"].as_array().unwrap().iter().enumerate() {
        norm.push((
            r["run_id"].as_str().unwrap().into(),
            format!("RUN-{i}                ")[..21].to_string(),
        ));
        norm.push((
            r["started_at"].as_str().unwrap().into(),
            format!("START-{i}                  ")[..24].to_string(),
        ));
    }
    // The terminal table's abbreviations differ in length from run to run: its
    // goldens are the imported sweep's (`the_terminal_table_fits_...`).
    for (format, file) in [("markdown", "compare.markdown.md")] {
        let mut out = repo
            .wb(&["compare", "--format", format, "--sort", "-score"])
            .ok()
            .stdout;
        for (from, to) in &norm {
            out = out.replace(from, to);
        }
        golden(file, &out);
    }
}

#[test]
fn wide_tables_and_long_cells_diff_and_render() {
    let cols: Vec<String> = (0..500).map(|i| format!("metrics.m{i:03}")).collect();
    let row = |k: &str, v: f64| {
        let cells: Vec<String> = (0..500).map(|i| format!("{}", v + i as f64)).collect();
        format!("{k},{}\n", cells.join(","))
    };
    let long = "x".repeat(10_000);
    let header = format!("run_id,{},note\n", cols.join(","));
    let v1 = format!("{header}{},{long}\n", row("a", 1.0).trim_end());
    let v2 = format!("{header}{},{long}y\n", row("a", 2.0).trim_end());
    let repo = Repo::with(DIRECTED, &[("wide.csv", &v1)]);
    repo.write("wide.csv", &v2);
    let j = repo
        .wb(&["--json", "diff", "--path", "wide.csv"])
        .ok()
        .json();
    let cells = j["changes"][0]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 501, "every metric and the long note");
    assert_eq!(cells[500]["new"].as_str().unwrap().len(), 10_001);
    let table = repo.wb(&["diff", "--path", "wide.csv"]).ok().stdout;
    assert_eq!(table.lines().filter(|l| l.starts_with("| a ")).count(), 501);
}

/// Nine imported runs of a sweep over two params with a long shared prefix
/// (`model.optimizer.learning_rate` × `model.optimizer.weight_decay`), their ids fixed
/// by their folder names (`import runs` keeps a run id's time and derives the rest
/// from the folder), so the terminal tables are golden files. `extra` adds a param to
/// every run's config (YAML lines under the top level).
fn long_prefix_sweep(extra: &str) -> Repo {
    let repo = Repo::with(
        "[stages.train]\ncmd = \"true\"\ndirections = { loss = \"minimize\", accuracy = \"maximize\" }\n",
        &[],
    );
    let mut i = 0;
    for lr in ["0.001", "0.01", "0.1"] {
        for wd in ["0", "0.0001", "0.01"] {
            i += 1;
            let dir = format!("imported/20261201T1030{i:02}Z-0000");
            repo.write(
                &format!("{dir}/config.yaml"),
                &format!("model:\n  optimizer:\n    learning_rate: {lr}\n    weight_decay: {wd}\n  seed: 7\n{extra}"),
            );
            repo.write(
                &format!("{dir}/metrics.json"),
                &format!(
                    "{{\"loss\": 0.{}, \"accuracy\": 0.9{i}, \"f1\": 0.8}}\n",
                    i * 7
                ),
            );
        }
    }
    // One more day's run at a time of day another run has, so an abbreviation needs
    // more than the time.
    repo.write(
        "imported/20261130T103001Z-0000/config.yaml",
        "model:\n  optimizer:\n    learning_rate: 1\n    weight_decay: 1\n  seed: 7\n",
    );
    repo.wb(&["import", "runs", "imported", "--stage", "train"])
        .ok();
    repo
}

fn compare_at(repo: &Repo, columns: &str, args: &[&str]) -> String {
    let mut all = vec!["compare"];
    all.extend_from_slice(args);
    let o = repo
        .cmd(crate::common::BIN, &all)
        .env("COLUMNS", columns)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

#[test]
fn the_terminal_table_fits_80_120_and_200_columns() {
    let repo = long_prefix_sweep("");
    for (width, file) in [
        (80, "compare.sweep.80.txt"),
        (120, "compare.sweep.120.txt"),
        (200, "compare.sweep.200.txt"),
    ] {
        let out = compare_at(&repo, &width.to_string(), &[]);
        assert!(widest(&out) <= width, "{width}:\n{out}");
        golden(file, &out);
    }
    // Piped with no COLUMNS: 80, whatever the terminal the test runs in.
    let piped = repo.wb(&["compare"]).ok().stdout;
    assert_eq!(piped, compare_at(&repo, "80", &[]));
    // The shared prefix is a heading, the swept params fit at 80, and what does not
    // fit is named with how to see it.
    let at80 = compare_at(&repo, "80", &[]);
    assert!(
        at80.lines()
            .next()
            .unwrap()
            .contains("params.model.optimizer."),
        "{at80}"
    );
    assert!(
        at80.contains("learning_rate") && at80.contains("weight_decay"),
        "{at80}"
    );
    assert!(
        !at80.contains("params.model.optimizer.learning_rate"),
        "{at80}"
    );
    let note = at80.lines().last().unwrap();
    assert!(
        note.starts_with("4 columns hidden (see --wide, --vertical): params.model.seed"),
        "{at80}"
    );
    // Every number shown is whole (a column is hidden, never cut).
    let j = repo.wb(&["--json", "compare"]).ok().json();
    let numbers: std::collections::BTreeSet<String> = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_object().unwrap().values())
        .filter(|v| v.is_number())
        .map(|v| v.to_string())
        .collect();
    for width in ["80", "120", "200"] {
        let out = compare_at(&repo, width, &[]);
        for line in out.lines().skip(3).take(10) {
            for word in line.split_whitespace().skip(5) {
                let n = word.trim_end_matches(['*', '!']);
                assert!(numbers.contains(n), "{n} at {width}:\n{out}");
            }
        }
    }
    golden(
        "compare.sweep.wide.txt",
        &compare_at(&repo, "80", &["--wide"]),
    );
    golden(
        "compare.sweep.vertical.txt",
        &compare_at(&repo, "80", &["--vertical", "--last", "2"]),
    );
    repo.wb(&["compare", "--wide", "--format", "csv"])
        .fails(2, "--wide lays out the terminal table");
    repo.wb(&["--json", "compare", "--vertical"])
        .fails(2, "--vertical lays out the terminal table");
}

#[test]
fn every_abbreviated_run_id_resolves_to_its_run() {
    let repo = long_prefix_sweep("");
    let j = repo.wb(&["--json", "compare"]).ok().json();
    let ids: Vec<String> = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    let table = compare_at(&repo, "200", &[]);
    let shown: Vec<String> = table
        .lines()
        .skip(3)
        .take(ids.len())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    // Two runs share 10:30:01 on different days: the one of 12-01 needs its date... or
    // its suffix; every other run is its time alone.
    assert!(
        shown.iter().filter(|s| s.len() == 8).count() >= 8,
        "{table}"
    );
    for (short, id) in shown.iter().zip(&ids) {
        assert!(short.len() < id.len() || short == id, "{short} for {id}");
        for spec in [short.clone(), format!("train/{short}")] {
            let s = repo.wb(&["--json", "show", &spec]).ok().json();
            assert_eq!(s["manifest"]["run_id"], id.as_str(), "{spec}");
        }
    }
    // The review and approval commands take them too.
    let last = shown.last().unwrap();
    repo.wb(&["review", last]).ok();
    repo.wb(&["reject", last, "--issue", "no"]).ok();
    // A time alone that two runs share is ambiguous, named with both.
    repo.wb(&["show", "T103001Z"]).fails(2, "is ambiguous");
    repo.wb(&["show", "T999999Z"]).fails(2, "no run matches");
}

#[test]
fn hostile_param_names_cannot_break_the_layout() {
    let long = "k".repeat(300);
    let repo = long_prefix_sweep(&format!(
        "\"evil\\e[2J\\e[31m\\u202e\\nname\": 1\n{long}: 2\n\"ok\": \"text\\r\\nwith\\e]0;title\\u0007 escapes and a very long value that goes on and on\"\n"
    ));
    for width in [80usize, 120, 200] {
        let out = compare_at(&repo, &width.to_string(), &[]);
        assert!(
            !out.contains(['\u{1b}', '\u{202e}', '\u{7}', '\r']),
            "{out:?}"
        );
        assert!(widest(&out) <= width, "{width}:\n{out}");
        // group heading, labels, rule, ten rows, the legend when a marked column is
        // shown, and the note: nothing broke a line
        let lines = out.lines().count();
        assert!((14..=15).contains(&lines), "{width}: {lines} lines:\n{out}");
    }
    for args in [&["--wide"][..], &["--vertical"][..]] {
        let out = compare_at(&repo, "80", args);
        assert!(
            !out.contains(['\u{1b}', '\u{202e}', '\u{7}', '\r']),
            "{out:?}"
        );
        assert!(
            out.contains("evil\\x1b[2J\\x1b[31m\\u{202e}\\nname"),
            "{out}"
        );
    }
    let wide = compare_at(&repo, "80", &["--wide"]);
    // headings, labels, rule, ten rows, the legend
    assert_eq!(wide.lines().count(), 14, "{wide}");
}
