//! Every error path of the foundation: a clear message, the right exit code, and
//! nothing written.

use crate::common::Repo;
use crate::train_repo;

#[test]
fn not_inside_a_repository() {
    let dir = Repo::bare_dir();
    dir.wb(&["run", "train"]).fails(2, "not a git repository");
    let r = dir.wb(&["status"]).fails(2, "not a git repository");
    assert!(r.stderr.contains("hint: run 'git init'"), "{}", r.stderr);
    assert!(!dir.path(".git").exists());
}

#[test]
fn bare_repository_cannot_run() {
    let dir = Repo::bare_dir();
    dir.git(&["init", "-q", "--bare", "."]);
    dir.wb(&["run", "x"]).fails(2, "bare repository");
    assert!(dir.run_refs().is_empty());
}

#[test]
fn no_config_and_unknown_stage() {
    let repo = Repo::bare_dir();
    repo.git(&["init", "-q"]);
    let r = repo.wb(&["run", "train"]).fails(2, "no workbench.toml");
    assert!(r.stderr.contains("hint: run 'git workbench init'"));
    repo.assert_nothing_recorded();

    let repo = train_repo();
    let r = repo.wb(&["run", "trian"]).fails(2, "unknown stage 'trian'");
    assert!(
        r.stderr.contains("hint: known stages: train, report"),
        "{}",
        r.stderr
    );
    repo.wb(&["status", "nope"])
        .fails(2, "unknown stage 'nope'");
    repo.assert_nothing_recorded();
}

#[test]
fn malformed_config_names_file_line_and_key() {
    let repo = Repo::with("[stages.a]\ncmd = \"true\"\ndepz = [\"x\"]\n", &[]);
    let r = repo.wb(&["run", "a"]).fails(2, "workbench.toml:3:");
    assert!(r.stderr.contains("depz"), "{}", r.stderr);
    assert!(r.stderr.contains("hint:"));
    repo.wb(&["status"]).fails(2, "depz");
    repo.assert_nothing_recorded();

    let repo = Repo::with(
        "[stages.a]\ncmd = \"true\"\n\n[stages.a.params]\nfile = \"p.yaml\"\nkey = []\n",
        &[],
    );
    repo.wb(&["run", "a"]).fails(2, "workbench.toml:");

    let repo = Repo::with("[stages.a\ncmd = \"true\"\n", &[]);
    repo.wb(&["run", "a"]).fails(2, "workbench.toml:1");
    repo.assert_nothing_recorded();
}

#[test]
fn both_config_files_is_an_error_naming_both() {
    let repo = Repo::with(
        "[stages.a]\ncmd = \"true\"\n",
        &[(
            "pyproject.toml",
            "[project]\nname = \"x\"\n[tool.workbench.stages.a]\ncmd = \"true\"\n",
        )],
    );
    let r = repo.wb(&["run", "a"]).fails(2, "workbench.toml");
    assert!(r.stderr.contains("pyproject.toml"), "{}", r.stderr);
    repo.assert_nothing_recorded();
}

#[test]
fn pyproject_configuration_works() {
    let repo = Repo::bare_dir();
    repo.git(&["init", "-q"]);
    repo.write(
        "pyproject.toml",
        "[project]\nname = \"x\"\n\n[tool.workbench.stages.a]\ncmd = \"echo hi\"\n",
    );
    let j = repo.wb(&["--json", "run", "a"]).ok().json();
    assert_eq!(j["status"], "executed");
    repo.write(
        "pyproject.toml",
        "[tool.workbench.stages.a]\ncmd = \"echo hi\"\nbogus = 1\n",
    );
    repo.wb(&["status"]).fails(2, "pyproject.toml:3");
}

#[test]
fn missing_dependency_file() {
    let repo = train_repo();
    std::fs::remove_file(repo.path("data/in.csv")).unwrap();
    let r = repo.wb(&["run", "train"]).fails(
        2,
        "dependency 'data/in.csv' of stage 'train' does not exist",
    );
    assert!(r.stderr.contains("hint:"));
    repo.assert_nothing_recorded();
    assert!(
        !repo.path("runs").exists()
            || std::fs::read_dir(repo.path("runs"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[test]
fn params_file_missing_a_declared_key() {
    let repo = Repo::with(
        "[stages.a]\ncmd = \"true\"\nparams = { file = \"params.yaml\", keys = [\"train.lr\", \"train.momentum\"] }\n",
        &[("params.yaml", "train:\n  lr: 0.1\n")],
    );
    repo.wb(&["run", "a"])
        .fails(2, "params file 'params.yaml' has no key 'train.momentum'");
    repo.assert_nothing_recorded();
    std::fs::remove_file(repo.path("params.yaml")).unwrap();
    repo.wb(&["run", "a"])
        .fails(2, "params file 'params.yaml' of stage 'a' does not exist");
    repo.assert_nothing_recorded();
}

#[test]
fn bad_overrides() {
    let repo = train_repo();
    let r = repo.wb(&["run", "train", "-p", "train.lr"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not key=value"), "{}", r.stderr);
    repo.wb(&["run", "train", "-p", "trian.lr=1"])
        .fails(2, "-p trian.lr");
    // The stage declares train.*: a misspelt key under it is still a typo.
    repo.wb(&["run", "train", "-p", "train.lrr=1"])
        .fails(2, "-p train.lrr: params file 'params.yaml' has no such key")
        .stderr
        .contains("-p +train.lrr=VALUE")
        .then_some(())
        .expect("the hint names the + spelling");
    repo.wb(&["run", "train", "-p", "+train.lr=1"])
        .fails(2, "already has 'train.lr'");
    repo.wb(&["run", "train", "-p", "train=5"])
        .fails(2, "'train' is a section of 2 key(s)");
    repo.assert_nothing_recorded();
    // `+` adds a key on purpose; it is recorded without the `+`.
    let id = crate::run_json(&repo, &["train", "-p", "+train.extra=2"]);
    let m = repo.manifest("train", &id);
    assert_eq!(m["params_used"]["train.extra"], 2, "{m}");
    assert_eq!(m["overrides"]["train.extra"], 2, "{m}");
}

#[test]
fn outputs_escaping_the_repository_are_refused() {
    let repo = Repo::with("[stages.a]\ncmd = \"true\"\nouts = [\"../up.csv\"]\n", &[]);
    repo.wb(&["run", "a"]).fails(2, "escapes the repository");
    let repo = Repo::with(
        "[stages.a]\ncmd = \"true\"\nouts = [\"/tmp/abs.csv\"]\n",
        &[],
    );
    repo.wb(&["run", "a"]).fails(2, "is absolute");
    let repo = Repo::with("[stages.a]\ncmd = \"true\"\nmetrics = \"../m.json\"\n", &[]);
    repo.wb(&["run", "a"]).fails(2, "workbench.toml:3");
    repo.assert_nothing_recorded();

    #[cfg(unix)]
    {
        let outside = tempfile::tempdir().unwrap();
        let repo = Repo::with(
            "[stages.a]\ncmd = \"echo x > link/out.csv\"\nouts = [\"link/out.csv\"]\n",
            &[],
        );
        std::os::unix::fs::symlink(outside.path(), repo.path("link")).unwrap();
        repo.wb(&["run", "a"]).fails(2, "outside the repository");
        repo.assert_nothing_recorded();
        assert!(
            !outside.path().join("out.csv").exists(),
            "the command never ran"
        );
        // a glob whose match is a symlink leaving the repository, found after the run
        let repo = Repo::with(
            "[stages.a]\ncmd = \"ln -s ../../escape.txt out/e.txt\"\nouts = [\"out/*.txt\"]\n",
            &[("out/keep", "")],
        );
        std::fs::write(repo.root.parent().unwrap().join("escape.txt"), "x").unwrap();
        repo.wb(&["run", "a"]).fails(2, "outside the repository");
        repo.assert_nothing_recorded();
    }
}

#[test]
fn repositories_libgit2_cannot_open() {
    let dir = Repo::bare_dir();
    let r = dir.git_run(&["init", "-q", "--ref-format=reftable", "."]);
    if r.code == 0 {
        dir.wb(&["status"]).fails(2, "reftable");
        dir.wb(&["run", "x"]).fails(2, "reftable");
    }
    let dir = Repo::bare_dir();
    let r = dir.git_run(&["init", "-q", "--object-format=sha256", "."]);
    if r.code == 0 {
        dir.wb(&["run", "x"]).fails(2, "SHA-256");
    }
}

#[test]
fn closed_sets_and_filters_refuse_typos_naming_the_choices() {
    let repo = train_repo();
    crate::run_json(&repo, &["train"]);
    let r = repo
        .wb(&["compare", "--state", "exectued"])
        .fails(2, "invalid value 'exectued'");
    assert!(
        r.stderr
            .contains("executed, failed, reviewed, approved, rejected, conflict"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
    repo.wb(&["compare", "--where", "f1>>0.5"])
        .fails(2, "is not a condition");
    repo.wb(&["compare", "--format", "tabel"])
        .fails(2, "possible values");
    repo.wb(&["verify", "--format", "html"])
        .fails(2, "possible values");
    // a filter on a column that does not exist names the columns
    repo.wb(&["compare", "--where", "nope>1"])
        .fails(2, "no column 'nope'");
}

#[test]
fn stage_names_are_validated_once_for_every_command() {
    let repo = train_repo();
    let before = repo.run_refs();
    repo.write("old/20260301T101500Z-1a00/metrics.json", "{\"auc\": 0.7}");
    for args in [
        &["import", "runs", "old", "--stage", "bad..name"][..],
        &["run", "bad..name"][..],
        &["sweep", "a/b", "-p", "x=1"][..],
        &["log", "x.lock"][..],
        &["status", "a b"][..],
    ] {
        let r = repo.wb(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("is not a stage name"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("InvalidSpec"),
            "no raw libgit2 error: {}",
            r.stderr
        );
    }
    assert_eq!(repo.run_refs(), before, "nothing recorded");
}

#[test]
fn errors_with_json_are_also_a_json_object_on_stdout() {
    let repo = train_repo();
    let r = repo
        .wb(&["--json", "show", "nope"])
        .fails(2, "no run matches 'nope'");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["error"]["kind"], "input");
    assert_eq!(j["error"]["message"], "no run matches 'nope'");
    assert_eq!(j["error"]["hint"], "list runs with 'git workbench log'");
    let id = crate::run_json(&repo, &["train"]);
    let r = repo
        .wb(&["--json", "approve", &id, "--yes"])
        .fails(1, "no review");
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["error"]["kind"], "refused");
    // without --json, stdout stays empty
    assert!(repo.wb(&["show", "nope"]).fails(2, "").stdout.is_empty());
}

#[test]
fn libgit2_errors_users_can_reach_get_a_message_and_a_hint() {
    // a branch without commits
    let repo = Repo::bare_dir();
    repo.git(&["init", "-q", "-b", "main"]);
    let r = repo
        .wb(&["verify"])
        .fails(2, "the current branch has no commits yet");
    assert!(
        r.stderr.contains("hint: make a first commit"),
        "{}",
        r.stderr
    );
    // the first commit with the hook installed goes through
    repo.wb(&["hooks", "install"]).ok();
    repo.write(".gitattributes", "report.md workbench-narrative\n");
    repo.write("report.md", "# Report\n");
    repo.git(&["add", "-A"]);
    let o = repo.git_wb(&["commit", "-q", "-m", "first"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // a lock another git process holds
    std::fs::write(repo.path(".git/config.lock"), "").unwrap();
    let r = repo.wb(&["init"]).fails(2, "config.lock");
    assert!(
        r.stderr
            .contains("hint: another git process holds the lock"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(repo.path(".git/config.lock")).unwrap();
    repo.wb(&["init"]).ok();
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_zero() {
    let repo = train_repo();
    for _ in 0..3 {
        crate::run_json(&repo, &["train"]);
    }
    let mut child = repo
        .cmd(crate::common::BIN, &["log"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
