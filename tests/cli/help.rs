//! The `--help` of every command, as snapshots (`tests/cli/snapshots/`): a flag or
//! text that changes shows up in review. Update them with `INSTA_UPDATE=always cargo
//! test help` and read the diff. Also: every test file is compiled into this binary.

/// Every command and subcommand, as `git workbench a b`, with its long help.
fn helps(cmd: &clap::Command, name: &str, out: &mut Vec<(String, String)>) {
    let mut c = cmd.clone().term_width(100).bin_name(name.to_string());
    out.push((name.to_string(), c.render_long_help().to_string()));
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        helps(sub, &format!("{name} {}", sub.get_name()), out);
    }
}

#[test]
fn every_command_help_is_a_snapshot() {
    let mut cmd = workbench::cli::command();
    cmd.build();
    let mut all = Vec::new();
    helps(&cmd, "git workbench", &mut all);
    assert!(all.len() > 35, "{} commands", all.len());
    for (name, text) in all {
        let file = name.replace(' ', "-");
        insta::with_settings!({snapshot_path => "snapshots", prepend_module_to_snapshot => false, description => name.clone()}, {
            insta::assert_snapshot!(file, text);
        });
    }
}

/// A file under tests/cli/ that main.rs does not declare is never compiled, so its
/// tests never run.
#[test]
fn every_test_file_is_compiled() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(module) = name.strip_suffix(".rs") else {
            assert!(
                e.path().is_dir() || name.ends_with(".snap"),
                "tests/cli/{name} is neither a test module nor a snapshot"
            );
            continue;
        };
        if module != "main" && !main.contains(&format!("mod {module};")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "not declared in tests/cli/main.rs: {missing:?}"
    );
    // and no stray top-level test file outside the one binary
    for e in std::fs::read_dir(dir.parent().unwrap()).unwrap().flatten() {
        let p = e.path();
        assert!(
            p.is_dir(),
            "{} would be a second test binary; put it in tests/cli/",
            p.display()
        );
    }
}
