//! DVC interop with the real `dvc` (target/test-venv, `.ci/deps`): stages read live
//! from `dvc.yaml`, `run` through `dvc repro`, DVC's md5s in the manifest, `checkout`
//! from DVC's cache and from a DVC remote, each byte verified; what the reader does
//! not support, and hostile paths, refused.

use crate::common::{sha256sum, venv_tool, Repo};
use crate::run_json;
use std::path::{Path, PathBuf};

const DVC_YAML: &str = r#"stages:
  prepare:
    cmd: sh prepare.sh
    deps:
      - prepare.sh
      - data/raw.txt
    outs:
      - data/clean.txt
  train:
    desc: fits the model
    cmd: sh train.sh
    deps: [train.sh, data/clean.txt]
    params:
      - train.lr
    outs:
      - model.bin
      - eval
      - notes.txt:
          cache: false
    metrics:
      - metrics.json:
          cache: false
"#;

const PREPARE_SH: &str = "tr a-z A-Z < data/raw.txt > data/clean.txt\n";

const TRAIN_SH: &str = r#"set -e
lr=$(sed -n 's/^ *lr: *//p' params.yaml)
{ cat data/clean.txt; echo "model fitted with lr=$lr"; } > model.bin
mkdir -p eval/sub
echo "predictions at lr=$lr" > eval/pred.txt
echo "per-class scores for lr=$lr" > eval/sub/scores.txt
echo "trained" > notes.txt
echo "{\"lr\": $lr, \"acc\": 0.9}" > metrics.json
"#;

/// Every DVC stage imported; `train` gets a workbench-only field. Outputs above 8
/// bytes are not stored in the record: their bytes live in DVC's cache.
const CONFIG: &str = "dvc = \"dvc.yaml\"\nmax_stored_size = 8\n\n[stages.train]\ndirections = { acc = \"maximize\" }\n";

fn dvc() -> PathBuf {
    venv_tool("dvc")
}

/// `dvc ARGS` in `dir`, with the tests' fixed environment.
fn dvc_in(repo: &Repo, dir: &Path, args: &[&str]) -> String {
    let o = repo
        .cmd(dvc().to_str().unwrap(), args)
        .current_dir(dir)
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "dvc {args:?} failed:\n{out}\n{err}");
    format!("{out}{err}")
}

/// Makes `repo` a DVC project that workbench runs DVC in: `dvc init`, no analytics or
/// update checks, and `workbench.dvc` naming the test virtualenv's dvc (never PATH's).
fn dvc_init(repo: &Repo) {
    dvc_in(repo, &repo.root, &["init", "-q"]);
    dvc_in(repo, &repo.root, &["config", "core.analytics", "false"]);
    dvc_in(repo, &repo.root, &["config", "core.check_update", "false"]);
    repo.git(&["config", "workbench.dvc", dvc().to_str().unwrap()]);
}

/// A git + DVC project with a two-stage pipeline, committed.
fn dvc_project(config: &str, dvc_yaml: &str) -> Repo {
    let r = Repo::bare_dir();
    r.git(&["init", "-q", "-b", "main"]);
    dvc_init(&r);
    for (p, c) in [
        ("workbench.toml", config),
        ("dvc.yaml", dvc_yaml),
        ("params.yaml", "train:\n  lr: 0.1\n"),
        ("prepare.sh", PREPARE_SH),
        ("train.sh", TRAIN_SH),
        ("data/raw.txt", "some raw text\n"),
        (".gitignore", "runs/*/\n"),
    ] {
        r.write(p, c);
    }
    r.git(&["add", "-A"]);
    r.git(&["commit", "-q", "-m", "a DVC project"]);
    r
}

fn lock(repo: &Repo) -> serde_yaml_ng::Value {
    serde_yaml_ng::from_str(&repo.read("dvc.lock")).unwrap()
}

/// dvc.lock's md5 of an output of a stage.
fn locked_md5(repo: &Repo, stage: &str, path: &str) -> String {
    let l = lock(repo);
    let outs = l["stages"][stage]["outs"].as_sequence().unwrap().clone();
    let o = outs
        .iter()
        .find(|o| o["path"].as_str() == Some(path))
        .unwrap();
    o["md5"].as_str().unwrap().to_string()
}

fn cache_object(repo: &Repo, md5: &str) -> PathBuf {
    repo.path(&format!(".dvc/cache/files/md5/{}/{}", &md5[..2], &md5[2..]))
}

fn state(repo: &Repo, stage: &str) -> String {
    let j = repo.wb(&["--json", "status"]).ok().json();
    let s = j["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == stage)
        .unwrap_or_else(|| panic!("no stage {stage} in {j}"))
        .clone();
    s["state"].as_str().unwrap().to_string()
}

#[test]
fn dvc_stages_run_through_dvc_repro_and_check_out_from_its_cache() {
    let repo = dvc_project(CONFIG, DVC_YAML);
    assert_eq!(state(&repo, "prepare"), "stale", "never run");
    let p1 = run_json(&repo, &["prepare"]);
    let t1 = run_json(&repo, &["train"]);
    // DVC ran it: dvc.lock and DVC's cache hold the outputs, and DVC sees no change.
    let m = repo.manifest("train", &t1);
    assert_eq!(m["command"], "sh train.sh", "{m}");
    assert_eq!(m["dvc"]["stage"], "train");
    let model_md5 = locked_md5(&repo, "train", "model.bin");
    assert_eq!(m["dvc"]["outs"]["model.bin"]["md5"], model_md5.as_str());
    let eval_md5 = locked_md5(&repo, "train", "eval");
    assert!(eval_md5.ends_with(".dir"), "{eval_md5}");
    assert_eq!(m["dvc"]["outs"]["eval"]["md5"], eval_md5.as_str());
    assert!(
        m["dvc"]["outs"].get("notes.txt").is_none()
            && m["dvc"]["outs"].get("metrics.json").is_none(),
        "outputs DVC does not cache have no object: {m}"
    );
    assert!(cache_object(&repo, &model_md5).is_file());
    assert!(cache_object(&repo, &eval_md5).is_file());
    let status = dvc_in(&repo, &repo.root, &["status"]);
    assert!(status.contains("up to date"), "{status}");
    // ... and workbench recorded it like any run.
    assert_eq!(m["params_used"]["train.lr"], 0.1);
    assert_eq!(m["metrics"]["acc"], 0.9);
    assert!(m["inputs"]["data/clean.txt"].is_string(), "{m}");
    assert!(m["inputs"]["train.sh"].is_string(), "{m}");
    for out in [
        "model.bin",
        "eval/pred.txt",
        "eval/sub/scores.txt",
        "notes.txt",
        "metrics.json",
    ] {
        assert_eq!(
            m["outputs"][out].as_str().unwrap(),
            sha256sum(&repo.path(out)),
            "{out}"
        );
    }
    assert!(!m["stored_outputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "model.bin"));
    assert_eq!(repo.manifest("prepare", &p1)["dvc"]["stage"], "prepare");
    assert_eq!(state(&repo, "train"), "executed");
    let shown = repo.wb(&["show", &t1]).ok().stdout;
    assert!(
        shown
            .lines()
            .any(|l| l.contains("model.bin") && l.ends_with("(in DVC's cache)")),
        "{shown}"
    );
    let first_model = sha256sum(&repo.path("model.bin"));

    // A second run with other params: DVC's lock and cache move on.
    repo.write("params.yaml", "train:\n  lr: 0.2\n");
    assert_eq!(state(&repo, "train"), "stale");
    let t2 = run_json(&repo, &["train"]);
    assert_ne!(t2, t1);
    assert_ne!(sha256sum(&repo.path("model.bin")), first_model);
    assert_ne!(locked_md5(&repo, "train", "model.bin"), model_md5);
    assert_eq!(repo.manifest("train", &t2)["params_used"]["train.lr"], 0.2);
    assert_eq!(repo.manifest("train", &t2)["parent_run_id"], t1.as_str());

    // Checkout of the first run: its bytes from DVC's cache, verified, into its run
    // directory (checkout never writes over working files by default)...
    let j = repo.wb(&["--json", "checkout", &t1]).ok().json();
    let at = |out: &str| repo.path(&format!("runs/{t1}/{out}"));
    assert_eq!(sha256sum(&at("model.bin")), first_model);
    for out in ["eval/pred.txt", "eval/sub/scores.txt"] {
        assert_eq!(sha256sum(&at(out)), m["outputs"][out].as_str().unwrap());
    }
    let not_stored: Vec<&str> = j["not_stored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap())
        .collect();
    assert!(!not_stored.contains(&"model.bin"), "{j}");
    assert!(!not_stored.contains(&"eval/pred.txt"), "{j}");
    // ... and in place, over the second run's outputs, only when forced.
    let root = repo.root.to_str().unwrap();
    repo.wb(&["checkout", &t1, "--to", root])
        .fails(1, "exist with other content");
    repo.wb(&["checkout", &t1, "--to", root, "--force"]).ok();
    assert_eq!(sha256sum(&repo.path("model.bin")), first_model);
    assert_eq!(
        sha256sum(&repo.path("eval/pred.txt")),
        m["outputs"]["eval/pred.txt"].as_str().unwrap()
    );
    // Into another directory too, with nothing of DVC's left behind in the tree.
    let dir = repo.root.parent().unwrap().join("restored");
    repo.wb(&["checkout", &t2, "--to", dir.to_str().unwrap()])
        .ok();
    assert_eq!(
        sha256sum(&dir.join("model.bin")),
        repo.manifest("train", &t2)["outputs"]["model.bin"]
            .as_str()
            .unwrap()
    );
    repo.fsck();

    // A dependency changes: prepare is stale, then executed again after its run.
    assert_eq!(state(&repo, "prepare"), "executed");
    repo.write("data/raw.txt", "other raw text\n");
    assert_eq!(state(&repo, "prepare"), "stale");
    let status = dvc_in(&repo, &repo.root, &["status"]);
    assert!(
        status.contains("prepare") && status.contains("changed deps"),
        "{status}"
    );
    run_json(&repo, &["prepare"]);
    assert_eq!(state(&repo, "prepare"), "executed");
    assert_eq!(
        state(&repo, "train"),
        "stale",
        "its input data/clean.txt changed"
    );
    repo.fsck();
}

#[test]
fn a_tampered_dvc_cache_object_is_refused_and_nothing_is_written() {
    let repo = dvc_project(CONFIG, DVC_YAML);
    run_json(&repo, &["prepare"]);
    let t1 = run_json(&repo, &["train"]);
    let md5 = locked_md5(&repo, "train", "model.bin");
    let obj = cache_object(&repo, &md5);
    let mut perms = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).unwrap();
    std::fs::write(&obj, "forged model\n").unwrap();
    std::fs::remove_file(repo.path("model.bin")).unwrap();
    std::fs::remove_dir_all(repo.path("eval")).unwrap();
    let r = repo
        .wb(&["checkout", &t1])
        .fails(1, "does not hold the recorded bytes");
    assert!(
        r.stderr.contains(&md5) && r.stderr.contains("nothing was written"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert!(!repo.path(&format!("runs/{t1}/model.bin")).exists());
    assert!(
        !repo.path(&format!("runs/{t1}/eval")).exists(),
        "nothing at all is written"
    );
}

#[test]
fn a_fresh_clone_checks_out_from_the_dvc_remote() {
    let repo = dvc_project(CONFIG, DVC_YAML);
    let storage = repo.root.parent().unwrap().join("dvc-storage");
    dvc_in(
        &repo,
        &repo.root,
        &["remote", "add", "-d", "store", storage.to_str().unwrap()],
    );
    run_json(&repo, &["prepare"]);
    let t1 = run_json(&repo, &["train"]);
    let m = repo.manifest("train", &t1);
    dvc_in(&repo, &repo.root, &["push", "-q"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "pipeline ran"]);
    let remote = Repo::bare_dir();
    remote.git(&["init", "-q", "--bare", "-b", "main"]);
    repo.git(&["remote", "add", "origin", remote.root.to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.wb(&["init"]).ok();
    repo.wb(&["push"]).ok();

    let clone = Repo::bare_dir();
    clone.git(&["clone", "-q", remote.root.to_str().unwrap(), "."]);
    clone.wb(&["init"]).ok();
    clone.wb(&["fetch"]).ok();
    clone.git(&["config", "workbench.dvc", dvc().to_str().unwrap()]);
    assert!(
        !clone.path(".dvc/cache").exists(),
        "a fresh clone has no DVC cache"
    );
    assert!(!clone.path("model.bin").exists());
    clone.wb(&["checkout", &t1]).ok();
    for out in ["model.bin", "eval/pred.txt", "eval/sub/scores.txt"] {
        assert_eq!(
            sha256sum(&clone.path(&format!("runs/{t1}/{out}"))),
            m["outputs"][out].as_str().unwrap(),
            "{out}"
        );
    }
    let md5 = m["dvc"]["outs"]["model.bin"]["md5"].as_str().unwrap();
    assert!(
        cache_object(&clone, md5).is_file(),
        "fetched into the clone's cache"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&clone.root)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".workbench-dvc")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // DVC agrees: the objects are in its cache now (the workspace files are not, as
    // checkout wrote into the run directory).
    let status = dvc_in(&clone, &clone.root, &["status"]);
    assert!(
        status
            .lines()
            .any(|l| l.contains("not in cache") && l.contains("data/clean.txt")),
        "{status}"
    );
    assert!(
        !status
            .lines()
            .any(|l| l.contains("not in cache") && (l.contains("model.bin") || l.contains("eval"))),
        "{status}"
    );
    clone.fsck();

    // An object the remote lacks: refused, nothing written.
    let other = Repo::bare_dir();
    other.git(&["clone", "-q", remote.root.to_str().unwrap(), "."]);
    other.wb(&["init"]).ok();
    other.wb(&["fetch"]).ok();
    other.git(&["config", "workbench.dvc", dvc().to_str().unwrap()]);
    std::fs::remove_dir_all(&storage).unwrap();
    std::fs::create_dir(&storage).unwrap();
    let r = other.wb(&["checkout", &t1]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(!other.path("runs").exists(), "nothing was written");
}

#[test]
fn overrides_and_other_commands_are_refused_for_dvc_stages() {
    let repo = dvc_project(CONFIG, DVC_YAML);
    run_json(&repo, &["prepare"]);
    let r = repo
        .wb(&["run", "train", "-p", "train.lr=0.5"])
        .fails(2, "stage 'train' is a DVC stage");
    assert!(r.stderr.contains("dvc exp run -S"), "{}", r.stderr);
    repo.wb(&["run", "train", "--", "sh", "-c", "true"])
        .fails(2, "dvc repro runs the cmd of dvc.yaml");
    repo.wb(&["sweep", "train", "-p", "train.lr=0.1,0.2"])
        .fails(2, "DVC stage");
    assert_eq!(
        repo.run_refs().len(),
        1,
        "only prepare's run: {:?}",
        repo.run_refs()
    );
    // Without the dvc program: named, with the way to name another, nothing run.
    repo.git(&["config", "workbench.dvc", "/nonexistent/bin/dvc"]);
    let r = repo
        .wb(&["run", "train"])
        .fails(2, "cannot find the DVC program '/nonexistent/bin/dvc'");
    assert!(r.stderr.contains("hint: install DVC"), "{}", r.stderr);
    assert_eq!(repo.run_refs().len(), 1);
    let d = repo.wb(&["doctor"]);
    assert!(
        d.stdout
            .contains("fail dvc: cannot find the DVC program '/nonexistent/bin/dvc'"),
        "{}",
        d.stdout
    );
    repo.git(&["config", "workbench.dvc", dvc().to_str().unwrap()]);
    let d = repo.wb(&["doctor"]);
    assert!(
        d.stdout.contains("ok   dvc: DVC stages run with "),
        "{}",
        d.stdout
    );
}

#[test]
fn unsupported_dvc_yaml_is_refused_with_its_hint() {
    for (dvc_yaml, needle, hint) in [
        (
            "stages:\n  train:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n",
            "dvc.yaml: stage 'train': 'foreach' is not supported",
            "write each generated stage out",
        ),
        (
            "stages:\n  train:\n    cmd: python train.py --lr ${lr}\n",
            "stage 'train': ${...} templating is not supported",
            "write the value out",
        ),
        (
            "vars:\n  - lr: 1\nstages:\n  train:\n    cmd: echo\n",
            "'vars' (templating) is not supported",
            "write the values into the stages",
        ),
        (
            "stages:\n  train:\n    cmd: echo\n    params:\n      - lr\n      - conf.yaml: [x]\n",
            "params come from 2 files",
            "keep the stage's params in one file",
        ),
    ] {
        let repo = dvc_project(CONFIG, dvc_yaml);
        let r = repo.wb(&["status"]).fails(2, needle);
        assert!(r.stderr.contains(&format!("hint: {hint}")), "{}", r.stderr);
        repo.wb(&["run", "train"]).fails(2, needle);
        repo.assert_nothing_recorded();
    }
    // A table naming a DVC stage that does not exist, or repeating its fields.
    let repo = dvc_project("[stages.fit]\ndvc = \"tran\"\n", DVC_YAML);
    let r = repo
        .wb(&["run", "fit"])
        .fails(2, "dvc.yaml has no stage 'tran'");
    assert!(r.stderr.contains("prepare, train"), "{}", r.stderr);
    let repo = dvc_project(
        "[stages.fit]\ndvc = \"train\"\ncmd = \"sh other.sh\"\n",
        DVC_YAML,
    );
    repo.wb(&["status"])
        .fails(2, "a DVC stage takes cmd from dvc.yaml");
    // One stage under another name: it works.
    let repo = dvc_project(
        "[stages.fit]\ndvc = \"train\"\n[stages.prep]\ndvc = \"prepare\"\n",
        DVC_YAML,
    );
    run_json(&repo, &["prep"]);
    let id = run_json(&repo, &["fit"]);
    assert_eq!(repo.manifest("fit", &id)["dvc"]["stage"], "train");
}

#[test]
fn hostile_dvc_yaml_paths_are_refused() {
    for (entry, needle) in [
        ("deps: ['../outside.txt']", "escapes the repository"),
        ("outs: [/tmp/stolen.txt]", "is absolute"),
        (
            "outs: [.git/hooks/pre-commit]",
            "points into the .git directory",
        ),
        ("deps: [.dvc/config]", "points into the .dvc directory"),
        ("outs: ['runs/{run_id}/x']", "reads as a pattern"),
    ] {
        let dvc_yaml = format!("stages:\n  train:\n    cmd: echo hi\n    {entry}\n");
        let repo = dvc_project(CONFIG, &dvc_yaml);
        let r = repo.wb(&["run", "train"]).fails(2, "stage 'train'");
        assert!(r.stderr.contains(needle), "{entry}: {}", r.stderr);
        repo.assert_nothing_recorded();
    }
    // Symbolic links out of the repository: a dependency, an output's directory, dvc.yaml.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret\n").unwrap();
    let dvc_yaml = "stages:\n  train:\n    cmd: sh train.sh\n    deps: [data/secret.txt]\n    outs: [model.bin]\n";
    let repo = dvc_project(CONFIG, dvc_yaml);
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        repo.path("data/secret.txt"),
    )
    .unwrap();
    repo.wb(&["run", "train"])
        .fails(2, "outside the repository");
    repo.assert_nothing_recorded();
    let dvc_yaml =
        "stages:\n  train:\n    cmd: echo x > out/model.bin\n    outs: [out/model.bin]\n";
    let repo = dvc_project(CONFIG, dvc_yaml);
    std::os::unix::fs::symlink(outside.path(), repo.path("out")).unwrap();
    repo.wb(&["run", "train"])
        .fails(2, "outside the repository");
    repo.assert_nothing_recorded();
    assert!(!outside.path().join("model.bin").exists());
    let repo = dvc_project(CONFIG, DVC_YAML);
    std::fs::write(outside.path().join("dvc.yaml"), DVC_YAML).unwrap();
    std::fs::remove_file(repo.path("dvc.yaml")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("dvc.yaml"), repo.path("dvc.yaml")).unwrap();
    repo.wb(&["status"])
        .fails(2, "dvc.yaml is not a plain file");
}

#[test]
fn a_forged_dvc_record_names_no_file_outside_the_cache() {
    let repo = dvc_project(CONFIG, DVC_YAML);
    run_json(&repo, &["prepare"]);
    let t1 = run_json(&repo, &["train"]);
    std::fs::remove_file(repo.path("model.bin")).unwrap();
    let forged = [
        (
            "20260308T142233Z-dd01",
            serde_json::json!({"md5": "../../../../../etc/passwd"}),
            "malformed md5",
        ),
        (
            "20260308T142233Z-dd02",
            serde_json::json!({"md5": "0123456789abcdef0123456789abcdef.dir"}),
            "of the wrong kind",
        ),
        (
            "20260308T142233Z-dd03",
            serde_json::json!({"md5": "0123456789ABCDEF0123456789ABCDEF"}),
            "malformed md5",
        ),
    ];
    for (id, object, needle) in forged {
        crate::attacks::forge_run(
            &repo,
            &t1,
            id,
            |m| {
                m["run_dir"] = format!("runs/{id}").into();
                m["dvc"]["outs"]["model.bin"] = object.clone();
            },
            &[],
        );
        let r = repo.wb(&["checkout", id]).fails(2, needle);
        assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
        assert!(!repo.path(&format!("runs/{id}")).exists(), "{id}");
    }
    // A real md5 of other bytes than the manifest's sha256: refused when read.
    let other = locked_md5(&repo, "prepare", "data/clean.txt");
    let id = "20260308T142233Z-dd04";
    crate::attacks::forge_run(
        &repo,
        &t1,
        id,
        |m| {
            m["run_dir"] = format!("runs/{id}").into();
            m["dvc"]["outs"]["model.bin"] = serde_json::json!({ "md5": other });
        },
        &[],
    );
    repo.wb(&["checkout", id])
        .fails(1, "does not hold the recorded bytes");
    assert!(!repo.path(&format!("runs/{id}")).exists());
}

#[test]
fn init_in_a_dvc_project_imports_its_stages_and_a_failing_stage_is_recorded_failed() {
    let repo = dvc_project("", DVC_YAML);
    std::fs::remove_file(repo.path("workbench.toml")).unwrap();
    repo.wb(&["init"]).ok();
    assert!(repo
        .read("workbench.toml")
        .contains("\ndvc = \"dvc.yaml\"\n"));
    let j = repo.wb(&["--json", "status"]).ok().json();
    let names: Vec<&str> = j["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prepare", "train"], "{j}");
    // train before prepare: workbench refuses before DVC starts, as for any stage.
    let r = repo.wb(&["run", "train"]).fails(
        2,
        "dependency 'data/clean.txt' of stage 'train' does not exist",
    );
    assert!(
        r.stderr
            .contains("fix the deps of stage 'train' in dvc.yaml"),
        "{}",
        r.stderr
    );
    repo.assert_nothing_recorded();
    // A command that fails: the run is recorded failed, without DVC's md5s (DVC
    // locks only what succeeded), and dvc.lock has no train.
    run_json(&repo, &["prepare"]);
    repo.write("train.sh", "echo failing >&2; exit 3\n");
    let r = repo.wb(&["--json", "run", "train"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["status"], "failed", "{j}");
    assert!(j["manifest"].get("dvc").is_none(), "{j}");
    assert!(lock(&repo)["stages"].get("train").is_none());
    repo.fsck();
}
