//! Helper R's attacks on issue 12's guarantees (baselines and candidates, `next`,
//! acceptance criteria, sweeps, `approve --write-params`), each a failing test of a
//! confirmed problem: an agent that follows `next --json` is led to a run that does
//! not meet a rejection's criterion or loops on one that cannot; `--write-params`
//! writes outside the repository through a committed link; a fetched manifest's sweep
//! id makes `status` and `next` panic.

use crate::common::Repo;
use serde_json::Value;

/// recall is t/10 and precision p/10, read from the params file as the command sees it.
const SH: &str = r#"set -e
t=$(sed -n 's/^ *t: *\([0-9]*\).*/\1/p' params.yaml)
p=$(sed -n 's/^ *p: *\([0-9]*\).*/\1/p' params.yaml)
mkdir -p "$WORKBENCH_RUN_DIR"
echo "$t,$p" > "$WORKBENCH_RUN_DIR/o.csv"
printf '{"recall": 0.%s, "precision": 0.%s}' "$t" "$p" > "$WORKBENCH_RUN_DIR/m.json"
"#;

fn config(params: &str) -> String {
    format!(
        r#"[stages.s]
cmd = "sh t.sh"
deps = ["d.csv"]
outs = ["runs/{{run_id}}/o.csv"]
metrics = "runs/{{run_id}}/m.json"
params = {{ file = "{params}", keys = ["s.*"] }}
directions = {{ recall = "maximize" }}
"#
    )
}

fn repo() -> Repo {
    Repo::with(
        &config("params.yaml"),
        &[
            ("t.sh", SH),
            ("d.csv", "x\n"),
            ("params.yaml", "s:\n  t: 5\n  p: 5\n"),
        ],
    )
}

fn run(repo: &Repo, args: &[&str]) -> String {
    let mut a = vec!["--json", "run", "s"];
    a.extend_from_slice(args);
    repo.wb(&a).ok().json()["run_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn first_item(repo: &Repo) -> Option<Value> {
    repo.wb(&["--json", "next"]).ok().json()["items"]
        .as_array()
        .unwrap()
        .first()
        .cloned()
}

fn act(repo: &Repo, action: &Value, extra: &[&str]) {
    let argv: Vec<&str> = action["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let mut args = argv[2..].to_vec();
    args.extend_from_slice(extra);
    // a failed review exits 1 and is still an answer the agent reads from `next`
    let r = repo.wb(&args);
    assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
}

fn metric(repo: &Repo, run: &str, name: &str) -> f64 {
    repo.manifest("s", run)["metrics"][name].as_f64().unwrap()
}

/// A human rejected the baseline with `precision>=0.7`; a sweep then holds a run
/// meeting it with the highest recall (t=9, p=8). `next` ranks the sweep by recall
/// alone, presents t=9 p=5 (precision 0.5), whose review fails the criterion, and then
/// asks the agent to re-run exactly that setting, again and again: the run the human
/// asked for is never reviewed or presented.
#[test]
fn a_sweep_after_a_rejection_presents_a_run_that_meets_its_criterion() {
    let repo = repo();
    let base = run(&repo, &[]);
    repo.wb(&["review", &base]).ok();
    repo.wb(&["card", &base, "-m", "baseline"]).ok();
    repo.wb(&[
        "reject",
        &base,
        "--issue",
        "precision too low",
        "--criterion",
        "precision>=0.7",
    ])
    .ok();
    repo.wb(&["sweep", "s", "-p", "s.t=9,6", "-p", "s.p=5,8"])
        .ok();
    let mut log = Vec::new();
    for _ in 0..12 {
        let Some(item) = first_item(&repo) else { break };
        let kind = item["kind"].as_str().unwrap().to_string();
        log.push(format!("{kind} {}", item["command"]));
        match kind.as_str() {
            "decide" => {
                let id = item["run_id"].as_str().unwrap();
                assert!(
                    metric(&repo, id, "precision") >= 0.7,
                    "presented a run failing the criterion: {log:#?}"
                );
                return;
            }
            "card" => act(&repo, &item["actions"][0], &["-m", "interpretation"]),
            "review" | "run" | "fix_failed_review" | "rerun_after_rejection" => {
                act(&repo, &item["actions"][0], &[])
            }
            other => panic!("unexpected {other}: {log:#?}"),
        }
    }
    panic!("the agent never reached a run meeting precision>=0.7: {log:#?}");
}

/// Two runs; the later one is reviewed and carded first, then the human rejects the
/// earlier one with `recall>=0.9`. The later run answers that rejection (docs: every
/// later run does, until one is approved), but its review predates it: `next` presents
/// it for approval without naming the criterion, and `approve` takes it, recall 0.5.
#[test]
fn a_run_reviewed_before_the_rejection_it_answers_is_not_approved_past_its_criterion() {
    let repo = repo();
    let a = run(&repo, &[]);
    let b = run(&repo, &[]);
    assert!(b > a);
    repo.wb(&["review", &b]).ok();
    repo.wb(&["card", &b, "-m", "b"]).ok();
    repo.wb(&["review", &a]).ok();
    repo.wb(&["card", &a, "-m", "a"]).ok();
    repo.wb(&[
        "reject",
        &a,
        "--issue",
        "recall too low",
        "--criterion",
        "recall>=0.9",
    ])
    .ok();
    assert_eq!(metric(&repo, &b, "recall"), 0.5);
    let item = first_item(&repo).expect("an item for stage s");
    let claims = item["kind"] == "decide" && item["run_id"] == b.as_str();
    let names_it = item["why"].to_string().contains("recall>=0.9");
    assert!(
        !claims || names_it,
        "next presents {b} for approval without its acceptance criterion: {item:#}"
    );
    let r = repo.wb(&["approve", &b, "--yes"]);
    assert_ne!(
        r.code, 0,
        "approved {b} (recall 0.5) past the rejection's recall>=0.9"
    );
}

/// The params file sits under a committed directory link that points outside the
/// repository (a teammate's commit could hold one): `approve --write-params` follows
/// it and rewrites the file outside. The mirror refuses to write through such links
/// (docs/decisions.md); the params writer should too.
#[test]
fn write_params_never_writes_through_a_linked_directory() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("params.yaml");
    std::fs::write(&target, "s:\n  t: 5\n  p: 5\n").unwrap();
    let repo = Repo::with(
        &config("conf/params.yaml"),
        &[
            ("t.sh", &SH.replace("params.yaml", "conf/params.yaml")),
            ("d.csv", "x\n"),
        ],
    );
    std::os::unix::fs::symlink(outside.path(), repo.path("conf")).unwrap();
    repo.git(&["add", "conf"]);
    repo.git(&["commit", "-qm", "conf link"]);
    let c = run(&repo, &["-p", "s.t=7"]);
    repo.wb(&["review", &c]).ok();
    repo.wb(&["card", &c, "-m", "x"]).ok();
    let r = repo.wb(&["approve", &c, "--yes", "--write-params"]);
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "s:\n  t: 5\n  p: 5\n",
        "written outside the repository through conf -> {}: {}{}",
        outside.path().display(),
        r.stdout,
        r.stderr
    );
}

/// A run record from another clone whose manifest names a sweep id that sorts after
/// its own run id (`sweep-zzzz`): `doctor` calls every record valid, and `status` and
/// `next` panic in `sweep_focus` ("a sweep with a recorded run has one to choose")
/// instead of reporting the record.
#[test]
fn a_hostile_sweep_id_never_panics_status_or_next() {
    let repo = repo();
    let real = run(&repo, &[]);
    let id = "20991231T235959Z-aaa1";
    let mut m = repo.manifest("s", &real);
    m["run_id"] = id.into();
    m["sweep_id"] = "sweep-zzzz".into();
    let path = repo.path("../forged-manifest.json");
    std::fs::write(&path, serde_json::to_string(&m).unwrap()).unwrap();
    let blob = repo.git(&["hash-object", "-w", path.to_str().unwrap()]);
    let base = repo.git(&["ls-tree", &format!("refs/workbench/runs/s/{real}^{{tree}}")]);
    let mut lines: Vec<String> = base
        .lines()
        .filter(|l| !l.ends_with("\tmanifest.json"))
        .map(str::to_string)
        .collect();
    lines.push(format!("100644 blob {blob}\tmanifest.json"));
    let listing = repo.path("../forged-tree.txt");
    std::fs::write(&listing, lines.join("\n") + "\n").unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("git mktree < '{}'", listing.to_str().unwrap()))
        .current_dir(&repo.root)
        .output()
        .unwrap();
    let tree = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let msg = format!(
        "workbench: executed s {id}\n\nWorkbench-Event: executed\nWorkbench-Stage: s\nWorkbench-Run: {id}\n"
    );
    let commit = repo.git(&["commit-tree", &tree, "-m", &msg]);
    repo.git(&[
        "update-ref",
        &format!("refs/workbench/runs/s/{id}"),
        &commit,
    ]);
    for cmd in [["--json", "status"], ["--json", "next"]] {
        let r = repo.wb(&cmd);
        assert!(
            !r.stderr.contains("panicked") && r.code != 101,
            "{cmd:?} panicked: {}",
            r.stderr
        );
    }
}
