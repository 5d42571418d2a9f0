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
    repo.assert_nothing_recorded();
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
