//! The DVC files a repository brings along (`dvc.yaml`, `dvc.lock`) and the directory
//! listings a DVC cache or remote hands `checkout`, through `model::dvc`.
//! Asserts: no panic; every path a parsed stage holds passes `check_relative` and
//! enters neither `.git` nor `.dvc`; every md5 `locked_outs` accepts is 32 lowercase
//! hex digits (with `.dir` at most); every listing entry accepted stays inside.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::config::check_relative;
use workbench::model::dvc::{locked_outs, parse_dir_object, parse_dvc_yaml};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(entries) = parse_dir_object(bytes) {
        for e in entries {
            assert!(check_relative(&e.relpath).is_ok(), "{e:?}");
            assert!(!e.relpath.split('/').any(|c| c == ".."), "{e:?}");
        }
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(project) = parse_dvc_yaml(text) {
        for (name, st) in &project.stages {
            let mut paths: Vec<&str> = st.deps.iter().map(String::as_str).collect();
            paths.extend(st.outs.iter().map(|o| o.path.as_str()));
            paths.extend(st.params.iter().map(|p| p.file.as_str()));
            for p in paths {
                assert!(check_relative(p).is_ok(), "{name}: {p:?}");
                assert!(
                    !p.split(['/', '\\']).any(|c| c == ".git" || c == ".dvc"),
                    "{name}: {p:?}"
                );
            }
            assert!(!st.cmd.trim().is_empty(), "{name}");
            assert!(!st.cmd.contains("${"), "{name}");
        }
        if let Some((stage, st)) = project.stages.iter().next() {
            let cached: Vec<String> = st.outs.iter().map(|o| o.path.clone()).collect();
            if let Ok(rec) = locked_outs(text, stage, &cached) {
                for o in rec.outs.values() {
                    assert!(o.digest().is_some(), "{o:?}");
                }
            }
        }
    }
    for stage in ["train", "prepare", "a"] {
        if let Ok(rec) = locked_outs(text, stage, &["model.bin".to_string(), "data".to_string()]) {
            for o in rec.outs.values() {
                let (hex, _) = o.digest().expect("accepted md5s are well-formed");
                assert_eq!(hex.len(), 32);
            }
        }
    }
});
