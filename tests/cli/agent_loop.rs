//! The seed's loop run by an agent that only follows `next --json`: it executes the
//! agent items' argument vectors as given, and the test plays the human. Baselines and
//! candidates: a run with overrides is judged as itself, a sweep presents its best run,
//! acceptance criteria become blocking checks, and an approval writes its params into
//! the params file when asked.

use crate::common::{venv_tool, Repo};
use serde_json::Value;

/// recall falls as the threshold rises; the script reads params.yaml itself (the seed's
/// convention), never WORKBENCH_PARAMS.
const TRAIN_PY: &str = r#"import json, os, yaml
p = yaml.safe_load(open("params.yaml"))["baseline"]
t = p["threshold"]
recall = round(1.0 - t / 4.0, 4)
d = os.environ["WORKBENCH_RUN_DIR"]
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "scores.csv"), "w") as f:
    f.write("threshold,recall\n%s,%s\n" % (t, recall))
with open(os.path.join(d, "metrics.json"), "w") as f:
    json.dump({"recall": recall, "window": p["window"]}, f)
"#;

const PARAMS: &str =
    "# tuned by hand\nbaseline:\n  threshold: 1.5   # alerts above this\n  window: 3\n";

fn config(python: &str, extra: &str) -> String {
    format!(
        r#"[stages.baseline]
cmd = "{python} train.py"
deps = ["data.csv"]
outs = ["runs/{{run_id}}/scores.csv"]
metrics = "runs/{{run_id}}/metrics.json"
params = {{ file = "params.yaml", keys = ["baseline.*"] }}
directions = {{ recall = "maximize" }}
{extra}
"#
    )
}

fn repo(extra: &str) -> Repo {
    let python = venv_tool("python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} cannot import yaml: run .ci/deps (hydra-core brings PyYAML into the test virtualenv)",
        python.display()
    );
    Repo::with(
        &config(python.to_str().unwrap(), extra),
        &[
            ("train.py", TRAIN_PY),
            ("data.csv", "x\n1\n"),
            ("params.yaml", PARAMS),
        ],
    )
}

fn next(repo: &Repo) -> Value {
    repo.wb(&["--json", "next"]).ok().json()
}

/// Runs an action's argv as given (`git workbench ...` through our binary), with
/// `extra` for its inputs.
fn act(repo: &Repo, action: &Value, extra: &[&str]) -> Value {
    let argv: Vec<&str> = action["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&argv[..2], ["git", "workbench"], "{action}");
    let mut args = vec!["--json"];
    args.extend_from_slice(&argv[2..]);
    args.extend_from_slice(extra);
    repo.wb(&args).ok().json()
}

fn status_row(repo: &Repo) -> Value {
    repo.wb(&["--json", "status"]).ok().json()["stages"][0].clone()
}

fn threshold_of(repo: &Repo, run: &str) -> Value {
    repo.manifest("baseline", run)["params_used"]["baseline.threshold"].clone()
}

#[test]
fn an_agent_following_next_reaches_the_approval_the_human_asked_for() {
    let repo = repo("");
    let mut decisions = 0;
    let mut presented = Vec::new();
    let mut log = Vec::new();
    for step in 0..20 {
        let n = next(&repo);
        let Some(item) = n["items"].as_array().unwrap().first().cloned() else {
            break;
        };
        let kind = item["kind"].as_str().unwrap().to_string();
        log.push(format!(
            "{step}: {} {kind} {}",
            item["who"], item["command"]
        ));
        // every item carries literal argv arrays, named inputs and the status reasons
        assert!(item["reasons"].is_array(), "{item}");
        for a in item["actions"].as_array().unwrap() {
            assert!(!a["argv"].as_array().unwrap().is_empty(), "{item}");
            assert!(
                !a["argv"].to_string().contains('<'),
                "no placeholder in argv: {item}"
            );
        }
        let first = &item["actions"][0];
        match kind.as_str() {
            "run" | "rerun_after_rejection" | "review" => {
                act(&repo, first, &[]);
            }
            "card" => {
                let input = &first["inputs"][0];
                assert_eq!(input["name"], "interpretation");
                let flag = input["flag"].as_str().unwrap();
                act(&repo, first, &[flag, "recall follows the threshold"]);
            }
            "decide" => {
                let run = item["run_id"].as_str().unwrap().to_string();
                presented.push(threshold_of(&repo, &run));
                let (approve, reject) = (&item["actions"][0], &item["actions"][1]);
                assert_eq!(
                    (approve["name"].as_str(), reject["name"].as_str()),
                    (Some("approve"), Some("reject"))
                );
                decisions += 1;
                if decisions == 1 {
                    act(
                        &repo,
                        reject,
                        &[
                            "--issue",
                            "recall too low",
                            "--suggest",
                            "baseline.threshold=1.2",
                            "--criterion",
                            "recall>=0.68",
                        ],
                    );
                } else {
                    // the candidate's params differ from the file: the approval offers
                    // to write them
                    let inputs = approve["inputs"].as_array().unwrap();
                    assert!(
                        inputs.iter().any(|i| i["flag"] == "--write-params"),
                        "{item}"
                    );
                    act(&repo, approve, &["--yes", "--write-params"]);
                }
            }
            other => panic!("unexpected item {other}: {item}\n{}", log.join("\n")),
        }
    }
    let log = log.join("\n");
    assert!(next(&repo)["items"].as_array().unwrap().is_empty(), "{log}");
    assert_eq!(decisions, 2, "{log}");
    // The human saw the baseline, then the run with the suggestion: never the rejected
    // setting twice.
    assert_eq!(
        presented,
        [serde_json::json!(1.5), serde_json::json!(1.2)],
        "{log}"
    );
    let row = status_row(&repo);
    assert_eq!(row["state"], "approved", "{row}");
    assert_eq!(row["reasons"], serde_json::json!([]), "{row}");
    let approved = row["approved_run"].as_str().unwrap().to_string();
    let m = repo.manifest("baseline", &approved);
    assert_eq!(m["params_used"]["baseline.threshold"], 1.2);
    assert_eq!(m["overrides"]["baseline.threshold"], 1.2);
    assert!(m["metrics"]["recall"].as_f64().unwrap() >= 0.68);
    // The review of the approved run checked the criterion, as a blocking check.
    let show = repo.wb(&["--json", "show", &approved]).ok().json();
    let checks = show["review"]["checks"].as_array().unwrap().clone();
    let criterion = checks
        .iter()
        .find(|c| c["name"] == "acceptance_criterion: recall>=0.68")
        .unwrap_or_else(|| panic!("{show}"));
    assert_eq!(
        (criterion["pass"].as_bool(), criterion["blocking"].as_bool()),
        (Some(true), Some(true))
    );
    // The params file holds the approved value, comments and layout kept.
    assert_eq!(
        repo.read("params.yaml"),
        "# tuned by hand\nbaseline:\n  threshold: 1.2   # alerts above this\n  window: 3\n"
    );
    // `run` now reproduces the approved configuration: the stage is current without
    // overrides.
    repo.fsck();
}

#[test]
fn a_failing_criterion_blocks_the_review_of_the_next_runs() {
    let repo = repo("");
    let first = crate::run_json(&repo, &["baseline"]);
    repo.wb(&["review", &first]).ok();
    repo.wb(&["card", &first, "-m", "recall is 0.625"]).ok();
    // Only checkable criteria are accepted, and nothing is written otherwise.
    repo.wb(&[
        "reject",
        &first,
        "--issue",
        "low",
        "--criterion",
        "recall should be higher",
    ])
    .fails(2, "--criterion 'recall should be higher' has no comparison");
    repo.wb(&[
        "reject",
        &first,
        "--issue",
        "low",
        "--suggest",
        "baseline.treshold=1",
    ])
    .fails(2, "baseline.treshold");
    assert_eq!(status_row(&repo)["state"], "reviewed");
    repo.wb(&[
        "reject",
        &first,
        "--issue",
        "low",
        "--suggest",
        "baseline.threshold=1.4",
        "--criterion",
        "recall>=0.7",
    ])
    .ok();
    // The suggestion (recall 0.65) does not meet the criterion: the review blocks.
    let n = next(&repo);
    let item = &n["items"][0];
    assert_eq!(item["kind"], "rerun_after_rejection");
    assert_eq!(
        item["actions"][0]["argv"],
        serde_json::json!([
            "git",
            "workbench",
            "run",
            "baseline",
            "-p",
            "baseline.threshold=1.4"
        ])
    );
    assert!(
        item["why"]
            .to_string()
            .contains("acceptance criterion: recall>=0.7"),
        "{item}"
    );
    act(&repo, &item["actions"][0], &[]);
    let second = status_row(&repo)["current_run"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(threshold_of(&repo, &second), 1.4);
    // a candidate is not stale because the params file still says 1.5
    assert_eq!(status_row(&repo)["state"], "executed");
    let r = repo.wb(&["--json", "review", &second]);
    assert_eq!(r.code, 1, "a failed review exits 1");
    let r = r.json();
    assert_eq!(r["verdict"], "fail", "{r}");
    assert!(
        r["review"]["blocking_issues"]
            .to_string()
            .contains("0.65 fails recall >= 0.7"),
        "{r}"
    );
    // A run after that one still answers the rejection: the criterion still binds.
    let n = next(&repo);
    assert_eq!(n["items"][0]["kind"], "fix_failed_review");
    assert_eq!(
        n["items"][0]["actions"][0]["argv"],
        serde_json::json!([
            "git",
            "workbench",
            "run",
            "baseline",
            "-p",
            "baseline.threshold=1.4"
        ])
    );
    let third = crate::run_json(&repo, &["baseline", "-p", "baseline.threshold=1.1"]);
    let r = repo.wb(&["--json", "review", &third]).ok().json();
    assert_eq!(r["verdict"], "pass", "{r}");
    assert!(r["review"]
        .to_string()
        .contains("acceptance_criterion: recall>=0.7"));
}

#[test]
fn an_approved_candidate_without_its_params_in_the_file_says_so() {
    let repo = repo("");
    let run = crate::run_json(&repo, &["baseline", "-p", "baseline.threshold=1.0"]);
    assert_eq!(status_row(&repo)["state"], "executed");
    repo.wb(&["review", &run]).ok();
    repo.wb(&["card", &run, "-m", "better recall"]).ok();
    repo.wb(&["approve", &run, "--yes"]).ok();
    let row = status_row(&repo);
    assert_eq!(row["state"], "stale", "{row}");
    assert_eq!(
        row["reasons"],
        serde_json::json!([{"kind": "param_not_applied", "key": "baseline.threshold", "approved": 1.0, "file": 1.5}])
    );
    let n = next(&repo);
    let item = &n["items"][0];
    assert_eq!(
        (item["who"].as_str(), item["kind"].as_str()),
        (Some("human"), Some("apply_params")),
        "{item}"
    );
    assert_eq!(
        item["actions"][0]["argv"],
        serde_json::json!(["git", "workbench", "approve", run, "--write-params"])
    );
    let before = repo.git(&["for-each-ref", "refs/workbench"]);
    act(&repo, &item["actions"][0], &[]);
    // writing the params records nothing new: the approval stands as it was
    assert_eq!(repo.git(&["for-each-ref", "refs/workbench"]), before);
    assert!(repo
        .read("params.yaml")
        .contains("  threshold: 1.0   # alerts above this\n"));
    assert_eq!(status_row(&repo)["state"], "approved");
    // an edit of the file that does not come from the approval is stale again
    repo.write("params.yaml", &PARAMS.replace("1.5", "1.3"));
    let row = status_row(&repo);
    assert_eq!(row["reasons"][0]["kind"], "param_not_applied", "{row}");
    // and a change of a key the candidate did not override is an ordinary param change
    repo.write(
        "params.yaml",
        &PARAMS
            .replace("1.5", "1.0")
            .replace("window: 3", "window: 4"),
    );
    let row = status_row(&repo);
    assert_eq!(row["reasons"][0]["kind"], "param_changed", "{row}");
    assert_eq!(next(&repo)["items"][0]["kind"], "run");
}

#[test]
fn a_candidate_goes_stale_on_deps_and_next_reruns_it_with_its_own_params() {
    let repo = repo("");
    let run = crate::run_json(&repo, &["baseline", "-p", "baseline.threshold=1.0"]);
    assert_eq!(status_row(&repo)["current_run"], run.as_str());
    repo.write("data.csv", "x\n2\n");
    let row = status_row(&repo);
    assert_eq!(row["state"], "stale");
    assert_eq!(
        row["reasons"],
        serde_json::json!([{"kind": "dep_changed", "path": "data.csv"}])
    );
    let item = &next(&repo)["items"][0];
    assert_eq!(item["kind"], "run");
    assert_eq!(item["reasons"], row["reasons"]);
    assert_eq!(
        item["actions"][0]["argv"],
        serde_json::json!([
            "git",
            "workbench",
            "run",
            "baseline",
            "-p",
            "baseline.threshold=1.0"
        ])
    );
}

#[test]
fn after_a_sweep_next_presents_the_best_run() {
    let repo = repo("");
    let first = crate::run_json(&repo, &["baseline"]);
    repo.wb(&["review", &first]).ok();
    repo.wb(&["card", &first, "-m", "baseline"]).ok();
    repo.wb(&["approve", &first, "--yes"]).ok();
    assert_eq!(status_row(&repo)["state"], "approved");
    let s = repo
        .wb(&[
            "--json",
            "sweep",
            "baseline",
            "-p",
            "baseline.threshold=1.4,0.8,1.2",
            "--jobs",
            "2",
        ])
        .ok()
        .json();
    let sweep_id = s["sweep_id"].as_str().unwrap().to_string();
    let best = s["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["params"]["baseline.threshold"] == 0.8)
        .unwrap()["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    // An approved, up-to-date stage is not stale because of a sweep: its best run
    // awaits review.
    let row = status_row(&repo);
    assert_eq!(row["state"], "executed", "{row}");
    assert_eq!(row["current_run"], best.as_str());
    assert_eq!(row["sweep"]["best"], best.as_str());
    assert_eq!(row["sweep"]["metric"], "recall");
    assert_eq!(row["sweep"]["direction"], "maximize");
    let n = next(&repo);
    let item = &n["items"][0];
    assert_eq!(
        (item["kind"].as_str(), item["run_id"].as_str()),
        (Some("review"), Some(best.as_str())),
        "{item}"
    );
    assert!(
        item["why"]
            .to_string()
            .contains(&format!("git workbench compare --sweep {sweep_id}")),
        "{item}"
    );
    act(&repo, &item["actions"][0], &[]);
    let item = &next(&repo)["items"][0];
    assert_eq!(
        (item["kind"].as_str(), item["run_id"].as_str()),
        (Some("card"), Some(best.as_str()))
    );
    act(
        &repo,
        &item["actions"][0],
        &["-m", "threshold 0.8 has the best recall"],
    );
    let item = &next(&repo)["items"][0];
    assert_eq!(
        (item["kind"].as_str(), item["run_id"].as_str()),
        (Some("decide"), Some(best.as_str()))
    );
    act(&repo, &item["actions"][0], &["--yes", "--write-params"]);
    assert!(repo.read("params.yaml").contains("threshold: 0.8   #"));
    let row = status_row(&repo);
    assert_eq!(
        (row["state"].as_str(), row["approved_run"].as_str()),
        (Some("approved"), Some(best.as_str())),
        "{row}"
    );
    assert!(next(&repo)["items"].as_array().unwrap().is_empty());
}

#[test]
fn a_sweep_whose_metrics_ignore_its_params_fails_review() {
    let ignore = "import json, os\nd = os.environ['WORKBENCH_RUN_DIR']\nos.makedirs(d, exist_ok=True)\nopen(os.path.join(d, 'scores.csv'), 'w').write('a\\n1\\n')\njson.dump({'recall': 0.5, 'window': 3}, open(os.path.join(d, 'metrics.json'), 'w'))\n";
    for (extra, verdict) in [
        ("", "fail"),
        (
            "[stages.baseline.review]\nexpect_constant_metrics = true\n",
            "pass",
        ),
    ] {
        let repo = repo(extra);
        repo.write("train.py", ignore);
        let s = repo
            .wb(&[
                "--json",
                "sweep",
                "baseline",
                "-p",
                "baseline.threshold=1.0,2.0",
            ])
            .ok()
            .json();
        let run = s["runs"][1]["run_id"].as_str().unwrap().to_string();
        let r = repo.wb(&["--json", "review", &run]);
        assert_eq!(r.code, i32::from(verdict == "fail"), "{}", r.stdout);
        let r = r.json();
        assert_eq!(r["verdict"], verdict, "{extra}: {r}");
        let check = r["review"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "sweep_metrics_vary")
            .cloned()
            .unwrap();
        assert_eq!(check["blocking"], true);
        if verdict == "fail" {
            assert!(check["note"]
                .as_str()
                .unwrap()
                .contains("identical for all 2 param sets"));
        }
    }
}

#[test]
fn write_params_refuses_what_it_cannot_write_safely() {
    let repo = repo("");
    let run = crate::run_json(&repo, &["baseline", "-p", "baseline.threshold=1.0"]);
    repo.wb(&["review", &run]).ok();
    repo.wb(&["card", &run, "-m", "better"]).ok();
    // a params file that is a symlink is not written through
    let elsewhere = repo.path("elsewhere.yaml");
    std::fs::write(&elsewhere, PARAMS).unwrap();
    std::fs::remove_file(repo.path("params.yaml")).unwrap();
    std::os::unix::fs::symlink("elsewhere.yaml", repo.path("params.yaml")).unwrap();
    let r = repo.wb(&["approve", &run, "--yes", "--write-params"]);
    let r = r.fails(1, "approved, but the params were not written");
    assert!(
        r.stderr
            .contains("is reached through the link 'params.yaml'"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), PARAMS);
    // the approval stands, and writing later is refused the same way
    assert_eq!(status_row(&repo)["approved_run"], run.as_str());
    repo.wb(&["approve", &run, "--write-params"])
        .fails(2, "reached through the link");
    // a flow-style document cannot be edited in place: refused with the values to set
    std::fs::remove_file(repo.path("params.yaml")).unwrap();
    repo.write("params.yaml", "baseline: {threshold: 1.5, window: 3}\n");
    repo.wb(&["approve", &run, "--write-params"])
        .fails(2, "cannot be edited in place");
    assert_eq!(
        repo.read("params.yaml"),
        "baseline: {threshold: 1.5, window: 3}\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(repo.path("."))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".workbench-params-")
        })
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_failed_run_points_the_agent_to_its_log() {
    let repo = repo("");
    repo.write(
        "train.py",
        "import sys\nsys.stderr.write('KeyError: baseline.window\\n')\nsys.exit(3)\n",
    );
    let r = repo.wb(&["--json", "run", "baseline", "-p", "baseline.threshold=1.1"]);
    assert_eq!(r.code, 3);
    let run = r.json()["run_id"].as_str().unwrap().to_string();
    let item = &next(&repo)["items"][0];
    assert_eq!(item["kind"], "fix_failed_run", "{item}");
    assert_eq!(item["reasons"][0]["kind"], "latest_failed");
    assert_eq!(
        item["actions"][0]["argv"],
        serde_json::json!(["git", "workbench", "show", run, "--log"])
    );
    // the rerun keeps the failed candidate's params
    assert_eq!(
        item["actions"][1]["argv"],
        serde_json::json!([
            "git",
            "workbench",
            "run",
            "baseline",
            "-p",
            "baseline.threshold=1.1"
        ])
    );
    let argv: Vec<&str> = item["actions"][0]["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let log = repo.wb(&argv[2..]).ok();
    assert!(
        log.stdout.contains("KeyError: baseline.window"),
        "{}",
        log.stdout
    );
    // and `run` itself says where the log is
    let r = repo.wb(&["run", "baseline"]);
    assert!(
        r.stdout.contains("log      git workbench show"),
        "{}",
        r.stdout
    );
}
