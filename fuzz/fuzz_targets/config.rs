//! The configuration another clone's commits bring along (`workbench.toml`, the
//! `[tool.workbench]` table of `pyproject.toml`, and the copy a run record keeps in its
//! snapshot) through `model::config`.
//! Asserts: no panic; an error names a line inside the text; a pyproject.toml that
//! yields a configuration is one that mentions `[tool.workbench]`; a path
//! `check_relative` accepts is neither empty nor absolute and never enters `.git`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::config::{
    check_relative, parse_pyproject, parse_size, parse_workbench_toml, pyproject_mentions_workbench,
};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let lines = text.matches('\n').count() + 1;
    if let Err(e) = parse_workbench_toml(text) {
        assert!(e.line.is_none_or(|l| (1..=lines).contains(&l)), "{e:?}");
    }
    match parse_pyproject(text) {
        Err(e) => assert!(e.line.is_none_or(|l| (1..=lines).contains(&l)), "{e:?}"),
        Ok(Some(_)) => assert!(pyproject_mentions_workbench(text)),
        Ok(None) => {}
    }
    let _ = pyproject_mentions_workbench(text);
    for line in text.lines().take(16) {
        let _ = parse_size(line);
        if check_relative(line).is_ok() {
            assert!(
                !line.starts_with('/') && !line.trim().is_empty(),
                "{line:?}"
            );
            assert!(!line.split(['/', '\\']).any(|p| p == ".git"), "{line:?}");
        }
    }
});
