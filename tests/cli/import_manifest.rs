//! `import manifest`: runs another orchestrator ran, from the import manifests that
//! examples/orchestrators/workbench_manifest.py writes (run here with the test
//! virtualenv's Python), recorded once with their origin; hostile manifests and their
//! files are refused whole, before anything is written.

use crate::common::{sha256sum, venv_tool, Repo};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const CONFIG: &str = "max_stored_size = 64\n[stages.train]\ncmd = \"sh train.sh\"\n[stages.report]\ncmd = \"echo report\"\n";

const TRAIN_SH: &str = r#"set -e
mkdir -p results
printf 'weights-that-are-too-large-to-store-in-a-record-of-this-repo-0123456789' > results/model.bin
printf '{"score": 0.75, "loss": NaN}' > results/metrics.json
echo "trained on $(cat data/train.csv | wc -l) lines"
"#;

fn helper() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/orchestrators/workbench_manifest.py")
}

fn repo() -> Repo {
    Repo::with(
        CONFIG,
        &[("train.sh", TRAIN_SH), ("data/train.csv", "x,y\n1,2\n")],
    )
}

/// The helper's plain-script mode: runs train.sh and writes ci-runs/NAME.workbench.*.
fn helper_run(repo: &Repo, run_id: &str) -> PathBuf {
    let python = venv_tool("python");
    let helper = helper();
    let o = repo
        .cmd(
            python.to_str().unwrap(),
            &[
                helper.to_str().unwrap(),
                "--stage",
                "train",
                "--out",
                "ci-runs",
                "--orchestrator",
                "script",
                "--run-id",
                run_id,
                "--url",
                "https://ci.example/runs/7",
                "--param",
                "lr=0.1",
                "--input",
                "data/train.csv",
                "--output",
                "results/model.bin",
                "--store",
                "results/metrics.json",
                "--metrics",
                "results/metrics.json",
                "--",
                "sh",
                "train.sh",
            ],
        )
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    repo.path(&format!("ci-runs/script-{run_id}.workbench.json"))
}

fn run_count(repo: &Repo) -> usize {
    repo.run_refs().len()
}

#[test]
fn the_helpers_manifest_is_recorded_once_with_its_origin_and_stored_outputs() {
    let repo = repo();
    let manifest = helper_run(&repo, "nightly-1");
    let j = repo
        .wb(&["--json", "import", "manifest", "ci-runs"])
        .ok()
        .json();
    assert_eq!(j["imported"].as_array().unwrap().len(), 1, "{j}");
    let run = &j["imported"][0];
    let id = run["run_id"].as_str().unwrap().to_string();
    assert_eq!(run["stage"], "train");
    assert_eq!(run["stored_outputs"], json!(["results/metrics.json"]));
    let m = repo.manifest("train", &id);
    assert_eq!(m["origin"]["orchestrator"], "script");
    assert_eq!(m["origin"]["run_id"], "nightly-1");
    assert_eq!(m["origin"]["url"], "https://ci.example/runs/7");
    assert_eq!(m["params_used"], json!({"lr": 0.1}));
    assert_eq!(m["metrics"], json!({"score": 0.75, "loss": "NaN"}));
    assert_eq!(m["command"], "sh train.sh");
    assert_eq!(m["exit_code"], 0);
    assert_eq!(
        m["code_ref"]["commit"],
        repo.git(&["rev-parse", "HEAD"]).trim()
    );
    assert_eq!(m["code_ref"]["branch"], "main");
    for f in ["results/model.bin", "results/metrics.json"] {
        assert_eq!(m["outputs"][f], sha256sum(&repo.path(f)), "{f}");
    }
    assert_eq!(
        m["inputs"]["data/train.csv"],
        sha256sum(&repo.path("data/train.csv"))
    );
    assert!(m["imported_from"]
        .as_str()
        .unwrap()
        .starts_with("manifest sha256:"));
    let log = repo.git(&["show", &format!("refs/workbench/runs/train/{id}:log.txt")]);
    assert!(log.contains("trained on 2 lines"), "{log}");
    // show says where it ran, as text and as JSON
    let shown = repo.wb(&["show", &id]).ok().stdout;
    assert!(
        shown.contains("origin:     script run nightly-1")
            && shown.contains("url https://ci.example/runs/7"),
        "{shown}"
    );
    let sj = repo.wb(&["--json", "show", &id]).ok().json();
    assert_eq!(sj["manifest"]["origin"]["run_id"], "nightly-1");
    // the same manifest again: nothing new, however it is named
    for again in ["ci-runs", manifest.to_str().unwrap()] {
        let j = repo
            .wb(&["--json", "import", "manifest", again])
            .ok()
            .json();
        assert_eq!(j["imported"], json!([]));
        assert_eq!(j["already_imported"][0]["run_id"], id.as_str());
    }
    let t = repo.wb(&["import", "manifest", "ci-runs"]).ok().stdout;
    assert!(t.contains("already recorded"), "{t}");
    assert_eq!(run_count(&repo), 1);
    // reviewed against the files here; the stored output comes back byte for byte
    repo.wb(&["review", &id]).ok();
    std::fs::remove_dir_all(repo.path("results")).unwrap();
    repo.wb(&["checkout", &id]).ok();
    assert_eq!(
        repo.read(&format!("runs/{id}/results/metrics.json")),
        r#"{"score": 0.75, "loss": NaN}"#
    );
    repo.fsck();
}

#[test]
fn the_helpers_python_api_records_a_failing_run_as_failed() {
    let repo = repo();
    let python = venv_tool("python");
    let code = format!(
        r#"
import sys; sys.path.insert(0, {dir:?})
from workbench_manifest import Run
run = Run("train", orchestrator="prefect", run_id="flow-run-1", job="train flow",
          params={{"model": {{"depth": 3}}}})
try:
    with run:
        run.metrics["score"] = float("inf")
        raise RuntimeError("diverged")
except RuntimeError:
    pass
print(run.write("out"))
"#,
        dir = helper().parent().unwrap().to_str().unwrap()
    );
    let o = repo
        .cmd(python.to_str().unwrap(), &["-c", &code])
        // no __pycache__ beside the example in the source tree
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j = repo
        .wb(&[
            "--json",
            "import",
            "manifest",
            "out/prefect-flow-run-1.workbench.json",
        ])
        .ok()
        .json();
    let id = j["imported"][0]["run_id"].as_str().unwrap();
    let m = repo.manifest("train", id);
    assert_eq!(m["status"], "failed");
    assert_eq!(m["exit_code"], 1);
    assert_eq!(m["metrics"]["score"], "Infinity");
    assert_eq!(m["params_used"], json!({"model.depth": 3}));
    assert_eq!(m["origin"]["job"], "train flow");
}

/// A manifest written by hand: `edit` changes its JSON.
fn write_manifest(repo: &Repo, rel: &str, edit: impl FnOnce(&mut Value)) {
    let mut m = json!({
        "schema": "workbench/import-manifest/v1",
        "stage": "train",
        "origin": {"orchestrator": "dagster", "run_id": "r-1"},
        "started_at": "2026-03-08T14:22:33.120Z",
        "duration_seconds": 2.5,
        "metrics": {"score": 0.5},
        "outputs": {"out/a.txt": {"sha256": hex(b"hello"), "size": 5}}
    });
    edit(&mut m);
    repo.write(rel, &serde_json::to_string_pretty(&m).unwrap());
}

fn hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_changed_manifest_of_a_recorded_run_is_refused() {
    let repo = repo();
    write_manifest(&repo, "m/a.workbench.json", |_| {});
    repo.write("m/a.workbench.files/out/a.txt", "hello");
    repo.wb(&["import", "manifest", "m"]).ok();
    let before = repo.git(&["for-each-ref", "refs/workbench", "refs/notes"]);
    write_manifest(&repo, "m/a.workbench.json", |m| {
        m["metrics"]["score"] = json!(0.9)
    });
    repo.wb(&["import", "manifest", "m"]).fails(
        1,
        "dagster run r-1 is already recorded as run 20260308T142233Z-",
    );
    let e = repo.wb(&["--json", "import", "manifest", "m"]);
    assert_eq!(e.code, 1);
    assert_eq!(e.json()["error"]["kind"], "refused");
    // the same run under another stage is another manifest too
    write_manifest(&repo, "m/a.workbench.json", |m| {
        m.as_object_mut().unwrap().remove("stage");
    });
    repo.wb(&["import", "manifest", "m", "--stage", "report"])
        .fails(1, "from another manifest than this one");
    write_manifest(&repo, "m/a.workbench.json", |_| {});
    repo.wb(&["import", "manifest", "m", "--stage", "report"])
        .fails(2, "is a run of stage train, not of --stage report");
    assert_eq!(
        repo.git(&["for-each-ref", "refs/workbench", "refs/notes"]),
        before
    );
}

#[test]
fn hostile_manifests_and_files_are_refused_before_anything_is_recorded() {
    let repo = repo();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    // a good manifest sorts first: a refusal of the second must leave it unrecorded
    let good = |repo: &Repo| {
        let _ = std::fs::remove_dir_all(repo.path("m"));
        write_manifest(repo, "m/a.workbench.json", |m| {
            m["origin"]["run_id"] = json!("good");
            m["code"] = json!({"commit": head});
        });
        repo.write("m/a.workbench.files/out/a.txt", "hello");
    };
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "dotdot",
            Box::new(|m| m["outputs"] = json!({"../x": {"sha256": hex(b""), "size": 0}})),
            "climbs out with '.' or '..'",
        ),
        (
            "git",
            Box::new(|m| m["inputs"] = json!({".Git/config": {"sha256": hex(b""), "size": 0}})),
            "names the repository's .git",
        ),
        (
            "absolute",
            Box::new(|m| m["inputs"] = json!({"/etc/passwd": {"sha256": hex(b""), "size": 0}})),
            "is absolute",
        ),
        (
            "absurd-size",
            Box::new(|m| m["outputs"]["out/a.txt"]["size"] = json!(1u64 << 60)),
            "more than any file",
        ),
        (
            "negative-size",
            Box::new(|m| m["outputs"]["out/a.txt"]["size"] = json!(-5)),
            "expected u64",
        ),
        (
            "bad-digest",
            Box::new(|m| m["outputs"]["out/a.txt"]["sha256"] = json!("abc")),
            "is not 64 lower-case hex digits",
        ),
        (
            "stage",
            Box::new(|m| m["stage"] = json!("deploy")),
            "stage 'deploy' is not declared in workbench.toml",
        ),
        (
            "bad-stage",
            Box::new(|m| m["stage"] = json!("../x")),
            "stage",
        ),
        (
            "unknown-field",
            Box::new(|m| m["gpu_hours"] = json!(3)),
            "unknown field `gpu_hours`",
        ),
        (
            "origin-field",
            Box::new(|m| m["origin"]["password"] = json!("x")),
            "unknown field `password`",
        ),
        (
            "escape",
            Box::new(|m| m["origin"]["run_id"] = json!("a\u{1b}[2Jb")),
            "origin.run_id 'a\\u{1b}[2Jb' holds a control",
        ),
        (
            "bidi",
            Box::new(|m| m["origin"]["job"] = json!("x\u{202e}y")),
            "invisible",
        ),
        (
            "url",
            Box::new(|m| m["origin"]["url"] = json!("javascript:alert(1)")),
            "not an http:// or https:// URL",
        ),
        (
            "path-control",
            Box::new(|m| m["inputs"] = json!({"a\nb": {"sha256": hex(b""), "size": 0}})),
            "control character",
        ),
        (
            "time",
            Box::new(|m| m["started_at"] = json!("yesterday")),
            "yesterday",
        ),
        (
            "duration",
            Box::new(|m| m["duration_seconds"] = json!(-1.0)),
            "duration_seconds -1",
        ),
        (
            "commit",
            Box::new(|m| m["code"] = json!({"commit": "0123456789012345678901234567890123456789"})),
            "is not a commit of this repository",
        ),
        (
            "same-run",
            Box::new(|m| m["origin"]["run_id"] = json!("good")),
            "both describe dagster run good",
        ),
        (
            "schema",
            Box::new(|m| m["schema"] = json!("workbench/manifest/v1")),
            "is not workbench/import-manifest/v1",
        ),
    ];
    for (name, edit, needle) in cases {
        good(&repo);
        write_manifest(&repo, "m/b.workbench.json", |m| edit(m));
        let r = repo.wb(&["import", "manifest", "m"]);
        assert_ne!(r.code, 0, "{name}: {}", r.stdout);
        assert!(r.stderr.contains(needle), "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains("nothing was imported"),
            "{name}: {}",
            r.stderr
        );
        repo.assert_nothing_recorded();
    }
    // texts no serde_json::Value can hold: duplicate keys, NaN, a huge manifest
    let raw = |repo: &Repo, name: &str, text: &str, needle: &str| {
        good(repo);
        repo.write("m/b.workbench.json", text);
        repo.wb(&["import", "manifest", "m"]).fails(2, needle);
        repo.assert_nothing_recorded();
        let _ = name;
    };
    let base = r#"{"schema": "workbench/import-manifest/v1", "stage": "train",
  "origin": {"orchestrator": "x", "run_id": "y"}, "started_at": "2026-03-08T14:22:33Z",
  "metrics": {"score": 1}}"#;
    raw(
        &repo,
        "dup",
        &base.replace("\"score\": 1", "\"score\": 1, \"score\": 2"),
        "duplicate key 'metrics.score'",
    );
    raw(
        &repo,
        "dup-top",
        &base.replace(
            "\"stage\": \"train\",",
            "\"stage\": \"train\", \"stage\": \"report\",",
        ),
        "duplicate key 'stage'",
    );
    raw(
        &repo,
        "nan",
        &base.replace("\"score\": 1", "\"score\": NaN"),
        "NaN and Infinity are not JSON",
    );
    raw(&repo, "not-json", "{", "b.workbench.json");
    let huge = base.replace(
        "\"score\": 1",
        &format!("\"score\": \"{}\"", "x".repeat(5 << 20)),
    );
    raw(&repo, "huge", &huge, "larger than any import manifest");

    // the files beside a manifest
    let files_case = |setup: &dyn Fn(&Repo), needle: &str| {
        good(&repo);
        write_manifest(&repo, "m/b.workbench.json", |m| {
            m["origin"]["run_id"] = json!("b")
        });
        setup(&repo);
        repo.wb(&["import", "manifest", "m"]).fails(2, needle);
        repo.assert_nothing_recorded();
    };
    files_case(
        &|r| r.write("m/b.workbench.files/out/a.txt", "HELLO"),
        &format!(
            "has sha256 {}; the manifest says {}",
            hex(b"HELLO"),
            hex(b"hello")
        ),
    );
    files_case(
        &|r| r.write("m/b.workbench.files/out/a.txt", "hello!"),
        "is 6 bytes; the manifest says 5",
    );
    files_case(
        &|r| r.write("m/b.workbench.files/out/other.txt", "x"),
        "'out/other.txt' is not one of the manifest's outputs",
    );
    files_case(
        &|r| {
            r.write("secret.txt", "hello");
            std::fs::create_dir_all(r.path("m/b.workbench.files/out")).unwrap();
            std::os::unix::fs::symlink(
                r.path("secret.txt"),
                r.path("m/b.workbench.files/out/a.txt"),
            )
            .unwrap();
        },
        "'out/a.txt' is a symbolic link",
    );
    files_case(
        &|r| {
            std::fs::create_dir_all(r.path("elsewhere/out")).unwrap();
            r.write("elsewhere/out/a.txt", "hello");
            std::os::unix::fs::symlink(r.path("elsewhere"), r.path("m/b.workbench.files")).unwrap();
        },
        "b.workbench.files, beside",
    );
    files_case(
        &|r| {
            r.write("elsewhere.log", "log");
            std::os::unix::fs::symlink(r.path("elsewhere.log"), r.path("m/b.workbench.log"))
                .unwrap();
        },
        "is a symbolic link or not a regular file",
    );
    // a file larger than the stage may store: refused, not hashed into the record
    let big = "y".repeat(100);
    files_case(
        &|r| {
            write_manifest(r, "m/b.workbench.json", |m| {
                m["origin"]["run_id"] = json!("b");
                m["outputs"]["out/big.bin"] = json!({"sha256": hex(big.as_bytes()), "size": 100});
            });
            r.write("m/b.workbench.files/out/big.bin", &big);
        },
        "is 100 bytes, more than the stage's max_stored_size (64)",
    );
    // a manifest in DIR that is a link: refused; named directly, it is read
    good(&repo);
    write_manifest(&repo, "other/c.json", |m| {
        m["origin"]["run_id"] = json!("c")
    });
    std::os::unix::fs::symlink(repo.path("other/c.json"), repo.path("m/c.workbench.json")).unwrap();
    repo.wb(&["import", "manifest", "m"])
        .fails(2, "c.workbench.json is a symbolic link");
    repo.assert_nothing_recorded();
    repo.wb(&["import", "manifest", "m/nothing"])
        .fails(2, "m/nothing");
    std::fs::create_dir_all(repo.path("empty")).unwrap();
    repo.wb(&["import", "manifest", "empty"])
        .fails(2, "holds no import manifest");
    write_manifest(&repo, "nostage.json", |m| {
        m.as_object_mut().unwrap().remove("stage");
    });
    repo.wb(&["import", "manifest", "nostage.json"])
        .fails(2, "names no stage");
    repo.assert_nothing_recorded();
    let j = repo
        .wb(&["--json", "import", "manifest", "other/c.json"])
        .ok()
        .json();
    assert_eq!(j["imported"][0]["origin"]["run_id"], "c");
    repo.fsck();
}

#[test]
fn a_run_id_taken_by_a_local_run_is_never_reused() {
    let make = || {
        let repo = repo();
        write_manifest(&repo, "m/a.workbench.json", |_| {});
        repo
    };
    let first = make();
    let j = first.wb(&["--json", "import", "manifest", "m"]).ok().json();
    let id = j["imported"][0]["run_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("20260308T142233Z-"), "{id}");
    // another clone holds a run of that id already (any record under that ref)
    let second = make();
    let head = second.git(&["rev-parse", "HEAD"]).trim().to_string();
    let taken = format!("refs/workbench/runs/report/{id}");
    second.git(&["update-ref", &taken, &head]);
    let j = second
        .wb(&["--json", "import", "manifest", "m"])
        .ok()
        .json();
    let other = j["imported"][0]["run_id"].as_str().unwrap();
    assert_ne!(other, id);
    assert_eq!(second.git(&["rev-parse", &taken]).trim(), head);
    // and the same manifest imports to the same id wherever nothing is in the way
    let third = make();
    let j = third.wb(&["--json", "import", "manifest", "m"]).ok().json();
    assert_eq!(j["imported"][0]["run_id"], id.as_str());
    // a changed manifest of the same orchestrator run aims at the same ref, so two
    // imports racing in one repository cannot both be recorded
    let fourth = repo();
    write_manifest(&fourth, "m/a.workbench.json", |m| {
        m["metrics"]["score"] = json!(0.9)
    });
    let j = fourth
        .wb(&["--json", "import", "manifest", "m"])
        .ok()
        .json();
    assert_eq!(j["imported"][0]["run_id"], id.as_str());
}
