//! Limits and hostile text: oversize metrics and figures are refused before they are
//! read or decoded, names that are not UTF-8 are refused before the command runs (or
//! recorded apart after it), and control characters from records reach a terminal
//! escaped while JSON keeps them exactly.

use crate::common::{Repo, BIN};
use crate::run_json;
use serde_json::Value;

/// A metrics file of ~1.5 MiB: one string that, read, would land in the manifest.
const BIG_METRICS_CONFIG: &str = r#"
[stages.big]
cmd = "mkdir -p \"$WORKBENCH_RUN_DIR\"; { printf '{\"pad\": \"'; head -c 1572864 /dev/zero | tr '\\0' x; printf '\", \"score\": 1}'; } > \"$WORKBENCH_RUN_DIR/metrics.json\""
metrics = "runs/{run_id}/metrics.json"

[stages.roomy]
cmd = "mkdir -p \"$WORKBENCH_RUN_DIR\"; { printf '{\"pad\": \"'; head -c 1572864 /dev/zero | tr '\\0' x; printf '\", \"score\": 1}'; } > \"$WORKBENCH_RUN_DIR/metrics.json\""
metrics = "runs/{run_id}/metrics.json"
max_metrics_size = "2MiB"
"#;

#[test]
fn oversize_metrics_are_refused_before_they_are_read() {
    let repo = Repo::with(BIG_METRICS_CONFIG, &[]);
    let r = repo.wb(&["--json", "run", "big"]).ok();
    let report = r.json();
    let id = report["run_id"].as_str().unwrap();
    let metrics_file = format!("runs/{id}/metrics.json");
    let size = std::fs::metadata(repo.path(&metrics_file)).unwrap().len();
    assert!(size > 1 << 20, "{size}");
    // The command ran, so the run is recorded, and says why it has no metrics.
    let want = format!(
        "{metrics_file}: 1.5 MiB ({size} bytes) is above max_metrics_size (1 MiB); not read"
    );
    assert!(
        r.stderr
            .contains(&format!("warning: metrics not read: {want}")),
        "{}",
        r.stderr
    );
    let text = repo.git(&[
        "show",
        &format!("refs/workbench/runs/big/{id}:manifest.json"),
    ]);
    assert!(text.len() < 16 * 1024, "manifest is {} bytes", text.len());
    assert!(!text.contains("xxxxxxxx"), "the metrics were copied in");
    let m: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(m["metrics"], serde_json::json!({}));
    assert!(
        m["metrics_error"].as_str().unwrap().starts_with(&want),
        "{m}"
    );
    // The review fails on it, naming the limit.
    let review = repo.wb(&["--json", "review", id]);
    assert_eq!(review.code, 1, "{}", review.stderr);
    let checks = review.json()["review"]["checks"].clone();
    let summary = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "summary_valid")
        .unwrap()
        .clone();
    assert_eq!(summary["pass"], false);
    assert!(summary["note"]
        .as_str()
        .unwrap()
        .contains("above max_metrics_size"));
    // A stage that raises the limit reads the same file.
    let roomy = repo.wb(&["--json", "run", "roomy"]).ok().json();
    assert_eq!(roomy["metrics"]["score"], 1);
    assert!(roomy["manifest"].get("metrics_error").is_none());
    repo.fsck();
}

/// A CRC-32 (IEEE), for writing PNG chunks by hand.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for b in data {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A few hundred bytes of PNG whose header claims 29,999 × 29,999 RGB pixels
/// (2.5 GiB decoded), with a valid CRC on every chunk.
fn claimed_png() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut typed = kind.to_vec();
        typed.extend_from_slice(data);
        out.extend_from_slice(&typed);
        out.extend_from_slice(&crc32(&typed).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&29_999u32.to_be_bytes());
    ihdr.extend_from_slice(&29_999u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

#[cfg(unix)]
#[test]
fn a_png_claiming_29999_squared_fails_review_without_being_decoded() {
    use std::os::unix::process::CommandExt;
    let repo = Repo::with(
        "[stages.plot]\ncmd = \"mkdir -p \\\"$WORKBENCH_RUN_DIR\\\" && cp huge.png \\\"$WORKBENCH_RUN_DIR/fig.png\\\"\"\nouts = [\"runs/{run_id}/fig.png\"]\n",
        &[],
    );
    std::fs::write(repo.path("huge.png"), claimed_png()).unwrap();
    let id = run_json(&repo, &["plot"]);
    // Under a 1 GiB address-space limit a 2.5 GiB buffer cannot even be reserved:
    // the review would abort if it tried to decode.
    let mut cmd = repo.cmd(BIN, &["review", &id]);
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("figures_non_trivial"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("FAIL"), "{line}");
    assert!(
        line.contains(&format!(
            "runs/{id}/fig.png: 29999x29999 pixels x 3 channel(s) would decode to 2.5 GiB, above max_decoded_figure_size (256 MiB); not decoded"
        )),
        "{stdout}"
    );
    let review = repo.git(&[
        "show",
        &format!("refs/workbench/runs/plot/{id}:review.json"),
    ]);
    let review: Value = serde_json::from_str(&review).unwrap();
    let check = review["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "figures_non_trivial")
        .unwrap()
        .clone();
    assert_eq!(check["pass"], false);
    assert_eq!(
        check["note"],
        format!("runs/{id}/fig.png: 29999x29999 pixels x 3 channel(s) would decode to 2.5 GiB, above max_decoded_figure_size (256 MiB); not decoded")
    );
}

const HOSTILE: &str = "evil\u{1b}[31m\u{202e}name";
const HOSTILE_SHOWN: &str = "evil\\x1b[31m\\u{202e}name";

/// Every string and key in a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                strings(x, out);
            }
        }
        _ => {}
    }
}

fn holds_exactly(json: &Value, needle: &str) -> bool {
    let mut all = Vec::new();
    strings(json, &mut all);
    all.iter().any(|s| s.contains(needle))
}

/// Nothing in `text` a terminal would obey or that reorders what it shows.
fn assert_inert(what: &str, text: &str) {
    assert!(
        !text.contains(['\u{1b}', '\u{202e}', '\u{9b}']),
        "{what} holds raw control characters:\n{text:?}"
    );
}

#[test]
fn control_characters_from_records_are_escaped_on_terminals_and_exact_in_json() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"mkdir -p \\\"$WORKBENCH_RUN_DIR\\\" && cp m.json \\\"$WORKBENCH_RUN_DIR/metrics.json\\\"\"\nmetrics = \"runs/{run_id}/metrics.json\"\nparams = { file = \"params.json\" }\n",
        &[
            ("m.json", r#"{"evil\u001b[31m\u202ename": 0.5}"#),
            ("params.json", r#"{"evil\u001b[31m\u202ename": 1}"#),
        ],
    );
    let run = repo.wb(&["run", "s"]).ok();
    assert_inert("run", &run.stdout);
    assert!(run.stdout.contains(HOSTILE_SHOWN), "{}", run.stdout);
    let id = run_json(&repo, &["s"]);

    let show = repo.wb(&["show", &id]).ok();
    assert_inert("show", &show.stdout);
    assert!(show.stdout.contains(HOSTILE_SHOWN), "{}", show.stdout);
    let show_json = repo.wb(&["--json", "show", &id]).ok();
    assert!(
        show_json.stdout.contains('\u{202e}'),
        "serde keeps U+202E as is"
    );
    let v = show_json.json();
    assert_eq!(v["manifest"]["metrics"][HOSTILE], 0.5);
    assert_eq!(v["manifest"]["params_used"][HOSTILE], 1);

    let compare = repo.wb(&["compare", "--stage", "s"]).ok();
    assert_inert("compare", &compare.stdout);
    assert!(
        compare.stdout.contains("\\x1b[31m\\u{202e}name"),
        "{}",
        compare.stdout
    );
    let compare_json = repo.wb(&["--json", "compare", "--stage", "s"]).ok().json();
    assert!(holds_exactly(&compare_json, HOSTILE), "{compare_json}");
    let csv = repo
        .wb(&["compare", "--stage", "s", "--format", "csv"])
        .ok();
    assert!(csv.stdout.contains(HOSTILE), "CSV is data, written exactly");

    // A param change names the key in status's WHY column.
    repo.write("params.json", r#"{"evil\u001b[31m\u202ename": 2}"#);
    let status = repo.wb(&["status"]).ok();
    assert_inert("status", &status.stdout);
    assert!(
        status
            .stdout
            .contains(&format!("param changed: {HOSTILE_SHOWN}")),
        "{}",
        status.stdout
    );
    let status_json = repo.wb(&["--json", "status"]).ok().json();
    assert!(holds_exactly(&status_json, HOSTILE), "{status_json}");

    // The card file itself is escaped, and so is its terminal rendering.
    repo.wb(&["review", &id]).ok();
    let card = repo.wb(&["card", &id]).ok();
    assert_inert("card", &card.stdout);
    assert_inert("card stderr", &card.stderr);
    let file = repo.read("review/s/candidate/card.md");
    assert_inert("card.md", &file);
    assert!(file.contains(HOSTILE_SHOWN), "{file}");
}

#[test]
fn control_characters_in_errors_and_warnings_are_escaped() {
    let repo = Repo::with("[stages.s]\ncmd = \"true\"\n", &[]);
    let r = repo.wb(&["show", "s/\u{1b}]0;pwned\u{7}"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_inert("error", &r.stderr);
    assert!(!r.stderr.contains('\u{7}'), "{:?}", r.stderr);
    assert!(r.stderr.contains("\\x1b]0;pwned\\x07"), "{}", r.stderr);
    let j = repo.wb(&["--json", "show", "s/\u{1b}]0;pwned\u{7}"]);
    let body = j.json();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains('\u{1b}'),
        "the JSON error keeps the text exactly: {body}"
    );
}

#[cfg(unix)]
fn non_utf8_name(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStrExt;
    dir.join(std::ffi::OsStr::from_bytes(b"caf\xe9.csv"))
}

/// False on file systems that store only UTF-8 names (APFS refuses the others).
#[cfg(unix)]
fn takes_non_utf8_names(dir: &std::path::Path) -> bool {
    let probe = non_utf8_name(dir);
    let ok = std::fs::write(&probe, "").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

#[cfg(unix)]
#[test]
fn a_dependency_name_that_is_not_utf8_is_refused_before_the_command_runs() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"touch ran.marker\"\ndeps = [\"data/raw/\"]\n",
        &[("data/raw/ok.csv", "a\n1\n")],
    );
    if !takes_non_utf8_names(&repo.root) {
        return;
    }
    let first = run_json(&repo, &["s"]);
    std::fs::remove_file(repo.path("ran.marker")).unwrap();
    let refs = repo.run_refs();
    std::fs::write(non_utf8_name(&repo.path("data/raw")), "a\n2\n").unwrap();
    let r = repo.wb(&["run", "s"]).fails(
        2,
        "error: dependency 'data/raw/' holds a file whose name is not UTF-8, which no record can name: data/raw/caf\\xe9.csv\n",
    );
    assert!(
        r.stderr.contains("hint: rename it to a UTF-8 name"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("No such file"), "{}", r.stderr);
    assert!(!repo.path("ran.marker").exists(), "the command ran");
    let dirs: Vec<_> = std::fs::read_dir(repo.path("runs")).unwrap().collect();
    assert_eq!(dirs.len(), 1, "a run directory was reserved: {dirs:?}");
    assert_eq!(repo.run_refs(), refs, "something was recorded");
    // A glob names it too (the glob crate alone would pass over it in silence).
    repo.write(
        "workbench.toml",
        "[stages.s]\ncmd = \"touch ran.marker\"\ndeps = [\"data/raw/*.csv\"]\n",
    );
    repo.wb(&["run", "s"]).fails(
        2,
        "dependency 'data/raw/*.csv' holds a file whose name is not UTF-8",
    );
    assert!(!repo.path("ran.marker").exists(), "the command ran");
    // status says why it cannot check the stage, never a false "No such file".
    let st = repo.wb(&["status"]).ok();
    assert!(
        st.stdout.contains("cannot check: dependency 'data/raw/*.csv' holds a file whose name is not UTF-8, which no record can name: data/raw/caf\\xe9.csv"),
        "{}",
        st.stdout
    );
    assert!(st.stdout.contains(&first), "{}", st.stdout);
    assert!(!st.stdout.contains("No such file"), "{}", st.stdout);
}

#[cfg(unix)]
#[test]
fn an_output_name_that_is_not_utf8_is_recorded_apart_with_a_clear_warning() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"mkdir -p \\\"$WORKBENCH_RUN_DIR/out\\\" && echo 1 > \\\"$WORKBENCH_RUN_DIR/out/ok.csv\\\" && echo 2 > \\\"$WORKBENCH_RUN_DIR/out/$(printf 'caf\\\\351.csv')\\\"\"\nouts = [\"runs/{run_id}/out/\"]\n",
        &[],
    );
    if !takes_non_utf8_names(&repo.root) {
        return;
    }
    let r = repo.wb(&["--json", "run", "s"]).ok();
    assert!(!r.stderr.contains("No such file"), "{}", r.stderr);
    let id = r.json()["run_id"].as_str().unwrap().to_string();
    let bad = format!("runs/{id}/out/caf\\xe9.csv");
    assert!(
        r.stderr.contains(&format!(
            "warning: output 'runs/{id}/out/' holds a file whose name is not UTF-8, which no record can name: {bad}; the run is recorded without it"
        )),
        "{}",
        r.stderr
    );
    assert!(non_utf8_name(&repo.path(&format!("runs/{id}/out"))).exists());
    let m = repo.manifest("s", &id);
    assert_eq!(m["unrecorded_outputs"], serde_json::json!([bad]));
    let outputs: Vec<&String> = m["outputs"].as_object().unwrap().keys().collect();
    assert_eq!(outputs, [&format!("runs/{id}/out/ok.csv")]);
    // The review fails on it instead of approving an incomplete record.
    let review = repo.wb(&["review", &id]);
    assert_eq!(review.code, 1, "{}", review.stderr);
    assert!(
        review.stdout.contains("not recorded, names not UTF-8"),
        "{}",
        review.stdout
    );
    let show = repo.wb(&["show", &id]).ok();
    assert!(
        show.stdout
            .contains(&format!("{bad}  NOT RECORDED (name not UTF-8)")),
        "{}",
        show.stdout
    );
    repo.fsck();
}
