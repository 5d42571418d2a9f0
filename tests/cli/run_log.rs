//! `show RUN --log`: the log a run's command wrote, as its record stores it — exact
//! bytes to a pipe, a JSON report with `--json`, a note when the record kept only
//! its end.

use crate::common::Repo;
use crate::run_json;

/// Runs `stage` with `--json` expecting exit `code` (the command's); its run id.
fn run_exiting(repo: &Repo, stage: &str, code: i32) -> String {
    let r = repo.wb(&["--json", "run", stage]);
    assert_eq!(r.code, code, "{}", r.stderr);
    r.json()["run_id"].as_str().unwrap().to_string()
}

/// The raw stdout of the binary (the harness's `Run` decodes it lossily).
fn stdout_bytes(repo: &Repo, args: &[&str]) -> (i32, Vec<u8>, String) {
    let o = repo.cmd(crate::common::BIN, args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        o.stdout,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_failing_runs_stderr_is_found_in_its_log() {
    let repo = Repo::with(
        "[stages.f]\ncmd = \"sh scripts/f.sh\"\n",
        &[(
            "scripts/f.sh",
            "echo 'loading data'\necho 'Traceback: KeyError: threshold' >&2\nexit 3\n",
        )],
    );
    let id = run_exiting(&repo, "f", 3);
    let r = repo.wb(&["show", &id, "--log"]).ok();
    assert!(
        r.stdout.contains("Traceback: KeyError: threshold\n")
            && r.stdout.contains("loading data\n"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.is_empty(), "no note for a whole log: {}", r.stderr);
    // Every spelling of RUN works, and the bytes are the record's log.txt.
    let stored = repo.git(&["show", &format!("refs/workbench/runs/f/{id}:log.txt")]);
    for spec in [
        id.clone(),
        id[..20].to_string(),
        "f@latest".into(),
        format!("f/{}", &id[..18]),
    ] {
        let (code, out, err) = stdout_bytes(&repo, &["show", &spec, "--log"]);
        assert_eq!(code, 0, "{spec}: {err}");
        assert_eq!(String::from_utf8(out).unwrap().trim_end(), stored, "{spec}");
    }
    let j = repo.wb(&["--json", "show", &id, "--log"]).ok().json();
    assert_eq!(j["run_id"], id.as_str());
    assert_eq!(j["stage"], "f");
    assert_eq!(j["truncated"], false);
    assert_eq!(j["log_bytes"], stored.len() as u64 + 1);
    assert!(j["log"]
        .as_str()
        .unwrap()
        .contains("Traceback: KeyError: threshold\n"));
    let mut keys: Vec<&String> = j.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["log", "log_bytes", "run_id", "stage", "truncated"]);
}

#[test]
fn hostile_bytes_are_printed_exactly() {
    let want: &[u8] = b"start\x00mid\xff\xfeend\x1b[31mred\x1b]0;title\x07\r\nno newline";
    let repo = Repo::with(
        "[stages.h]\ncmd = \"sh scripts/h.sh\"\n",
        &[(
            "scripts/h.sh",
            "printf 'start\\000mid\\377\\376end\\033[31mred\\033]0;title\\007\\r\\nno newline'\n",
        )],
    );
    let id = run_json(&repo, &["h"]);
    let (code, out, err) = stdout_bytes(&repo, &["show", &id, "--log"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, want, "stdout:\n{:?}", String::from_utf8_lossy(&out));
    // The same bytes git holds.
    let blob = repo
        .cmd(
            "git",
            &[
                "cat-file",
                "blob",
                &format!("refs/workbench/runs/h/{id}:log.txt"),
            ],
        )
        .output()
        .unwrap()
        .stdout;
    assert_eq!(blob, want);
    // JSON is text: invalid UTF-8 replaced, controls as JSON escapes.
    let r = repo.wb(&["--json", "show", &id, "--log"]).ok();
    assert!(
        r.stdout.contains(r#""log": "start\u0000mid"#),
        "{}",
        r.stdout
    );
    let j = r.json();
    assert_eq!(j["log"], String::from_utf8_lossy(want).as_ref());
    assert_eq!(j["log_bytes"], want.len() as u64);
}

#[test]
fn a_closed_pipe_ends_a_long_log_quietly() {
    let repo = Repo::with(
        "[stages.l]\ncmd = \"yes abcdefghijklmnop | head -c 300000\"\n",
        &[],
    );
    let id = run_json(&repo, &["l"]);
    assert_eq!(repo.manifest("l", &id)["log_bytes"], 300000);
    // More than a pipe holds: the write meets the closed end whenever it comes.
    let mut child = repo
        .cmd(crate::common::BIN, &["show", &id, "--log"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let (code, out, _) = stdout_bytes(&repo, &["show", &id, "--log"]);
    assert_eq!((code, out.len()), (0, 300000));
}

#[test]
fn an_empty_log_prints_nothing() {
    let repo = Repo::with("[stages.q]\ncmd = \"true\"\n", &[]);
    let id = run_json(&repo, &["q"]);
    let (code, out, err) = stdout_bytes(&repo, &["show", &id, "--log"]);
    assert_eq!((code, out.as_slice(), err.as_str()), (0, &b""[..], ""));
    let j = repo.wb(&["--json", "show", &id, "--log"]).ok().json();
    assert_eq!(j["log"], "");
    assert_eq!(j["log_bytes"], 0);
}

#[test]
fn a_truncated_log_says_so_on_stderr() {
    let repo = Repo::with(
        "max_stored_size = 100\n[stages.big]\ncmd = \"sh scripts/big.sh\"\n",
        &[(
            "scripts/big.sh",
            "i=0; while [ $i -lt 30 ]; do echo \"line $i...\"; i=$((i+1)); done; echo LAST-LINE\n",
        )],
    );
    let id = run_json(&repo, &["big"]);
    let m = repo.manifest("big", &id);
    assert_eq!(m["log_truncated"], true);
    let wrote = m["log_bytes"].as_u64().unwrap();
    assert!(wrote > 100, "{m}");
    let (code, out, err) = stdout_bytes(&repo, &["show", &id, "--log"]);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8(out).unwrap();
    let header = format!(
        "[git-workbench: log truncated, first {} bytes dropped]\n",
        wrote - 100
    );
    let tail = text
        .strip_prefix(&header)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        tail.len() == 100 && tail.ends_with("LAST-LINE\n"),
        "{tail:?}"
    );
    assert_eq!(
        err,
        format!("note: the stored log of run {id} is truncated: the command wrote {wrote} bytes and the record keeps the last 100 of them (the stage's max_stored_size), after a line saying so\n")
    );
    let r = repo.wb(&["--json", "show", &id, "--log"]).ok();
    assert!(r.stderr.contains("is truncated"), "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["truncated"], true);
    assert_eq!(j["log_bytes"], wrote);
    assert_eq!(j["log"], text.as_str());
}

#[test]
fn a_bad_run_for_log_is_an_input_error() {
    let repo = Repo::with("[stages.q]\ncmd = \"echo hi\"\n", &[]);
    run_json(&repo, &["q"]);
    for spec in [
        "nope",
        "20200101T000000Z-0000",
        "q@approved",
        "missing@latest",
        "../x",
    ] {
        let r = repo.wb(&["show", spec, "--log"]);
        assert_eq!(r.code, 2, "{spec}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{spec}: {}", r.stdout);
        assert!(r.stderr.starts_with("error: "), "{spec}: {}", r.stderr);
        let j = repo.wb(&["--json", "show", spec, "--log"]);
        assert_eq!(j.code, 2);
        assert!(j.json()["error"]["message"].is_string(), "{spec}");
    }
}
