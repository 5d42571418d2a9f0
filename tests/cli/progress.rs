//! Progress bars on stderr (docs/progress.md): drawn through a real pseudo-terminal
//! (util-linux `script`) with `WORKBENCH_PROGRESS_DELAY_MS=0`; never with `--json`,
//! `NO_COLOR` or stderr not a terminal; never on stdout; hostile file names escaped.

use crate::common::{require_program, Repo, BIN};
use crate::run_json;
use crate::sync::team;

const CONFIG: &str = r#"
[stages.prep]
cmd = "cp data/big.bin out.bin"
deps = ["data/*.bin"]
outs = ["out.bin"]
"#;

/// A repository whose stage hashes a few MiB (enough for several ticks, still fast).
fn repo() -> Repo {
    let r = Repo::with(CONFIG, &[]);
    std::fs::create_dir_all(r.path("data")).unwrap();
    std::fs::write(r.path("data/big.bin"), vec![7u8; 3 << 20]).unwrap();
    r.wb(&["init"]).ok();
    r
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs `git-workbench ARGS` with stderr on a pseudo-terminal, stdout into a file,
/// and `extra` appended to the shell line (a redirection). Returns what the terminal
/// received and what stdout held.
fn on_tty(r: &Repo, env: &[(&str, &str)], args: &[&str], extra: &str) -> (String, Vec<u8>) {
    require_program("script", "util-linux");
    let out = r.home.join("stdout");
    let mut line = quote(BIN);
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    line.push_str(&format!(" >{} {extra}", quote(out.to_str().unwrap())));
    let mut c = r.cmd("script", &["-qec", &line, "/dev/null"]);
    c.env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .env("WORKBENCH_PROGRESS_DELAY_MS", "0");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "script failed: {o:?}");
    let tty = String::from_utf8_lossy(&o.stdout).into_owned();
    (tty, std::fs::read(&out).unwrap())
}

/// The same command with stdout and stderr plain files.
fn plain(r: &Repo, args: &[&str]) -> Vec<u8> {
    let o = r
        .cmd(BIN, args)
        .env_remove("NO_COLOR")
        .env("WORKBENCH_PROGRESS_DELAY_MS", "0")
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("hashing"),
        "progress on a stderr that is no terminal"
    );
    o.stdout
}

#[test]
fn a_run_shows_its_hashing_on_a_terminal_and_clears_it() {
    let r = repo();
    let (tty, stdout) = on_tty(&r, &[], &["run", "prep", "--no-stat-cache"], "");
    assert!(
        tty.contains("hashing inputs"),
        "no bar on the terminal:\n{tty:?}"
    );
    assert!(tty.contains("hashing outputs"), "{tty:?}");
    assert!(tty.contains("MiB"), "bytes with a total:\n{tty:?}");
    // cleared: the terminal's last bytes erase the bar's line
    assert!(tty.ends_with("\r\x1b[2K"), "{tty:?}");
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(stdout.starts_with("recorded run "), "{stdout}");
    assert!(!stdout.contains("hashing"), "progress on stdout:\n{stdout}");
}

#[test]
fn json_no_color_and_a_redirected_stderr_show_none() {
    let r = repo();
    let run = ["run", "prep", "--no-stat-cache"];
    let json = ["--json", "run", "prep", "--no-stat-cache"];
    for (env, args, extra) in [
        (&[][..], &json[..], ""),
        (&[("NO_COLOR", "1")][..], &run[..], ""),
        (&[][..], &run[..], "2>err.txt"),
    ] {
        let (tty, _) = on_tty(&r, env, args, extra);
        assert!(
            !tty.contains("hashing"),
            "{env:?} {args:?} {extra}:\n{tty:?}"
        );
    }
    let err = r.read("err.txt");
    assert!(!err.contains("hashing") && !err.contains('\r'), "{err:?}");
    assert!(err.contains("workbench: running stage prep"), "{err}");
}

#[test]
fn stdout_is_the_same_bytes_with_and_without_a_terminal() {
    let r = repo();
    run_json(&r, &["prep"]);
    for args in [
        &["hash", "--no-stat-cache", "data/big.bin"][..],
        &["status"][..],
        &["--json", "status"][..],
    ] {
        // rewritten, so the stat cache cannot answer for them and status hashes
        for f in ["data/big.bin", "out.bin"] {
            std::fs::write(r.path(f), std::fs::read(r.path(f)).unwrap()).unwrap();
        }
        let (tty, on_tty_stdout) = on_tty(&r, &[], args, "");
        assert!(
            args[0] == "--json" || tty.contains("hashing"),
            "{args:?}: no bar:\n{tty:?}"
        );
        assert_eq!(on_tty_stdout, plain(&r, args), "{args:?}");
    }
}

#[test]
fn the_default_delay_keeps_quick_commands_free_of_bars() {
    let r = repo();
    let (tty, _) = on_tty(
        &r,
        &[("WORKBENCH_PROGRESS_DELAY_MS", "60000")],
        &["run", "prep", "--no-stat-cache"],
        "",
    );
    assert!(!tty.contains("hashing"), "{tty:?}");
}

#[test]
fn a_hostile_file_name_cannot_steer_the_terminal_through_the_bar() {
    let r = repo();
    let evil = "data/e\x1b]0;pwned\x07\x1b[2J.bin";
    std::fs::write(r.path(evil), vec![1u8; 1 << 20]).unwrap();
    let (tty, _) = on_tty(&r, &[], &["run", "prep", "--no-stat-cache"], "");
    assert!(tty.contains("hashing inputs"), "{tty:?}");
    assert!(
        !tty.contains("\x1b]0;pwned"),
        "raw OSC reached the terminal:\n{tty:?}"
    );
    assert!(
        !tty.contains("\x1b[2J"),
        "raw CSI reached the terminal:\n{tty:?}"
    );
    // shown escaped (cut to the 80 columns of the pseudo-terminal)
    assert!(tty.contains(r"data/e\x1b]0;pw"), "escaped:\n{tty:?}");
}

#[test]
fn fetch_push_and_sync_show_their_phases() {
    let (_remote, ada, bob) = team();
    run_json(&ada, &["train"]);
    let (tty, _) = on_tty(&ada, &[], &["push"], "");
    assert!(tty.contains("pushing to origin"), "{tty:?}");
    let (tty, stdout) = on_tty(&bob, &[], &["fetch"], "");
    for phase in ["fetching origin", "judging records", "merging records"] {
        assert!(tty.contains(phase), "{phase}:\n{tty:?}");
    }
    assert!(!String::from_utf8_lossy(&stdout).contains("fetching"));
    let (tty, _) = on_tty(&bob, &[("NO_COLOR", "1")], &["sync"], "");
    assert!(!tty.contains("fetching origin"), "{tty:?}");
}

#[test]
fn import_counts_the_runs_it_records() {
    let r = repo();
    for i in 0..3 {
        r.write(&format!("old/r{i}/metrics.json"), "{\"auc\": 0.7}");
    }
    let (tty, stdout) = on_tty(&r, &[], &["import", "runs", "old", "--stage", "prep"], "");
    assert!(tty.contains("importing runs"), "{tty:?}");
    assert!(tty.contains("/3"), "a count with its total:\n{tty:?}");
    assert!(!String::from_utf8_lossy(&stdout).contains("importing runs"));
}

#[test]
fn review_shows_the_hashing_of_the_outputs() {
    let r = repo();
    let id = run_json(&r, &["prep"]);
    std::fs::write(r.path("out.bin"), std::fs::read(r.path("out.bin")).unwrap()).unwrap();
    let (tty, stdout) = on_tty(&r, &[], &["review", &id], "");
    assert!(tty.contains("hashing outputs"), "{tty:?}");
    assert!(!String::from_utf8_lossy(&stdout).contains("hashing"));
}
