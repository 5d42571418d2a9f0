//! `report`: the static HTML report, loaded in real headless Chromium after its page
//! script ran (one row per run, one plot per metric, every figure present and
//! decoded: a screenshot kept under target/test-artifacts/ must not be blank); offline
//! (no http(s) URL in any file); hostile params, metric names and cards escaped; the
//! report swapped in whole and a foreign directory refused.

use crate::common::{require_program, Repo};
use crate::run_json;
use std::path::{Path, PathBuf};
use std::process::Command;

const HOSTILE: &str = "<script>alert(\"x\")</script>'../../etc";

/// Writes a PNG figure and two metrics, one named with markup, quotes and `../`.
const FIG_SH: &str = r#"set -e
mkdir -p "$WORKBENCH_RUN_DIR/figures"
lr=$(printf '%s' "$WORKBENCH_PARAMS" | sed 's/.*"train.lr": *\([0-9.]*\).*/\1/')
cp data/small.png "$WORKBENCH_RUN_DIR/figures/loss.png"
cp data/small.png "$WORKBENCH_RUN_DIR/figures/a b&c.png"
printf '{"score": %s, "<b>m\\"x'"'"'../y</b>": 2}' "$lr" > "$WORKBENCH_RUN_DIR/metrics.json"
"#;

const CONFIG: &str = r#"
[stages.fig]
cmd = "sh scripts/fig.sh"
outs = ["runs/{run_id}/figures/"]
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["train.*"] }
directions = { score = "maximize" }
"#;

/// A PNG of 16² pixels in a checkerboard of two colours.
fn png() -> Vec<u8> {
    let mut data = Vec::new();
    for y in 0..16u32 {
        for x in 0..16u32 {
            let v = 255 * ((x + y) % 2) as u8;
            data.extend([v, 40, 255 - v]);
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, 16, 16);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
    out
}

/// A repository with a sweep of three runs (one approved, with a hostile card and
/// param) and a narrative holding the approved run's block.
fn report_repo() -> (Repo, String) {
    let repo = Repo::with(
        CONFIG,
        &[
            ("scripts/fig.sh", FIG_SH),
            ("params.yaml", "train:\n  lr: 0.1\n  name: plain\n"),
            ("data/README", "figures\n"),
        ],
    );
    std::fs::write(repo.path("data/small.png"), png()).unwrap();
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "fig"]);
    repo.wb(&["sweep", "fig", "-p", "train.lr=0.1,0.2,0.3"])
        .ok();
    let name = format!("train.name={HOSTILE}");
    let id = run_json(&repo, &["fig", "-p", &name]);
    repo.wb(&["review", &id]).ok();
    let card = format!("{HOSTILE} <img src=x onerror=alert(1)> [l](javascript:alert(2))");
    repo.wb(&["card", &id, "-m", &card]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    repo.write(".gitattributes", "reports/*.md workbench-narrative\n");
    repo.write("reports/r.md", "<!-- workbench:slot stage=fig -->\n");
    repo.wb(&["narrative", "new", "fig", "reports/r.md"]).ok();
    (repo, id)
}

fn chromium() -> &'static str {
    require_program(
        "chromium",
        "chromium (and fonts-dejavu-core for the screenshot)",
    );
    "chromium"
}

/// Chromium headless on `page` with `args` (`--dump-dom` or `--screenshot=...`).
fn headless(repo: &Repo, page: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let o = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .env("HOME", repo.path(".."))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_report_renders_in_chromium_with_every_row_plot_and_figure() {
    let (repo, id) = report_repo();
    let r = repo.wb(&["--json", "report"]).ok().json();
    let dir = PathBuf::from(r["dir"].as_str().unwrap());
    assert_eq!(dir, repo.path("runs/report"));
    assert_eq!(r["runs"], 4, "{r}");
    assert_eq!(r["pages"], 5, "{r}");
    assert_eq!(r["narratives"], 1, "{r}");
    assert_eq!(r["opened_with"], serde_json::Value::Null);
    // two metrics: each against train.lr in the sweep, each over time in the stage
    assert_eq!(r["plots"], 4, "{r}");
    // the two figures have the same bytes: one file
    assert_eq!(r["figures"], 1, "{r}");

    let dom = headless(&repo, &dir.join("index.html"), &["--dump-dom"]);
    assert!(
        dom.contains("data-script=\"ran\""),
        "the page script did not run"
    );
    assert_eq!(count(&dom, "<tr class=\"run\""), 4);
    assert_eq!(count(&dom, "data-plot=\"sweep\""), 2);
    assert_eq!(count(&dom, "data-plot=\"time\""), 2);
    assert_eq!(count(&dom, "<svg"), 4);
    assert_eq!(
        count(&dom, "class=\"best\""),
        1,
        "score maximized: one best cell"
    );
    assert!(
        dom.contains("data-status=\"ok\""),
        "the narrative block checks: {dom}"
    );

    // the filters, preset from the address: the approved run alone, then the sweep
    let url = format!("{}#state=approved", dir.join("index.html").display());
    let dom = headless(&repo, Path::new(&url), &["--dump-dom"]);
    assert_eq!(count(&dom, "<tr class=\"run\""), 4);
    assert_eq!(count(&dom, "hidden=\"\""), 3, "only the approved run shown");
    assert!(dom.contains("<span id=\"shown\">1</span>"), "{dom}");
    let sweep = sweep_id(&dom);
    assert!(!sweep.is_empty(), "{dom}");
    let url = format!(
        "{}#sweep={sweep}&stage=fig",
        dir.join("index.html").display()
    );
    let dom = headless(&repo, Path::new(&url), &["--dump-dom"]);
    assert!(
        dom.contains("<span id=\"shown\">3</span>"),
        "the sweep's three runs"
    );

    // sorted from the address: score descending puts 0.3 first, the two 0.1 last
    let url = format!("{}#sort=-metrics.score", dir.join("index.html").display());
    let dom = headless(&repo, Path::new(&url), &["--dump-dom"]);
    let scores: Vec<&str> = dom
        .split("<tr class=\"run\"")
        .skip(1)
        .map(|row| {
            row.rsplit("data-v=\"")
                .next()
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(scores, ["0.3", "0.2", "0.1", "0.1"], "{dom}");
    assert!(dom.contains("aria-sort=\"descending\""));

    let stage = workbench_page(&dir, "fig", &id);
    let page = headless(&repo, &stage, &["--dump-dom"]);
    let imgs = count(&page, "<img src=\"../figures/");
    // two figures in the figures section, and the card links both
    assert_eq!(imgs, 4, "{page}");
    for f in all_files(&dir.join("figures")) {
        assert_eq!(std::fs::read(&f).unwrap(), png(), "{}", f.display());
    }
    assert!(page.contains("class=\"check\""), "review checks shown");
    assert!(page.contains("approved_by"), "approval shown");

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report-run-page.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &repo,
        &stage,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1000,2400",
        ],
    );
    assert_not_blank(&shot, true);
    let shot = artifacts.join("report-index.png");
    let _ = std::fs::remove_file(&shot);
    headless(
        &repo,
        &dir.join("index.html"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,1600",
        ],
    );
    assert_not_blank(&shot, false);
}

/// The id of the one sweep: the filter's one choice besides "all".
fn sweep_id(dom: &str) -> String {
    let select = dom.split("id=\"f-sweep\"").nth(1).unwrap();
    let at = select.find("<option value=\"").unwrap() + 15;
    let rest = &select[at..];
    let rest = &rest[rest.find("<option value=\"").unwrap() + 15..];
    rest.split('"').next().unwrap().to_string()
}

/// The page `report` names for a run: its path is a digest, so look it up by content.
fn workbench_page(dir: &Path, stage: &str, id: &str) -> PathBuf {
    let needle = format!("<title>{stage} {id}</title>");
    all_files(&dir.join("runs"))
        .into_iter()
        .find(|p| std::fs::read_to_string(p).unwrap().contains(&needle))
        .unwrap_or_else(|| panic!("no page for {stage}/{id}"))
}

/// Decodes the screenshot and checks it shows more than a few colours, with the
/// checkerboard figure's among them when `with_figure`.
fn assert_not_blank(shot: &Path, with_figure: bool) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(shot).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    let distinct: std::collections::BTreeSet<&[u8]> = pixels.iter().copied().collect();
    assert!(
        distinct.len() > 8,
        "screenshot nearly blank: {} colours",
        distinct.len()
    );
    // the checkerboard's two colours, (0, 40, 255) and (255, 40, 0), nowhere else
    let near = |p: &[u8], c: [u8; 3]| (0..3).all(|i| p[i].abs_diff(c[i]) <= 3);
    let figure = [[0, 40, 255], [255, 40, 0]]
        .iter()
        .all(|c| pixels.iter().any(|p| near(p, *c)));
    assert!(
        figure == with_figure,
        "the figure is {}in the screenshot {}",
        if figure { "" } else { "not " },
        shot.display()
    );
}

#[test]
fn the_report_is_offline_and_escapes_hostile_records() {
    let (repo, _) = report_repo();
    repo.wb(&["report"]).ok();
    let dir = repo.path("runs/report");
    let files = all_files(&dir);
    assert!(files.iter().any(|f| f.ends_with(".workbench-report")));
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    for f in &files {
        assert!(f.starts_with(&dir), "{}", f.display());
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{}",
            f.display()
        );
        if f.extension().is_some_and(|e| e == "html") {
            // exactly one script element, the page's own, on the index only
            assert!(!text.contains("<script>alert"), "{}", f.display());
            assert!(!text.contains("<b>m"), "{}", f.display());
            assert!(!text.contains("<img src=x"), "{}", f.display());
            assert!(!text.contains("href=\"javascript:"), "{}", f.display());
            assert!(!text.contains("onerror=alert(1)>"), "{}", f.display());
            assert!(count(&text, "<script") <= 1, "{}", f.display());
            assert!(text.contains("Content-Security-Policy"));
        }
    }
    let all: String = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "html"))
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert!(all.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;../../etc"));
    assert!(
        all.contains("&lt;b&gt;m"),
        "the hostile metric name, escaped"
    );
    assert!(
        names.iter().all(|n| !n.contains("etc") && !n.contains('<')),
        "{names:?}"
    );
    // a stage name cannot carry markup or climb: refused where it enters
    repo.wb(&["run", "<script>"])
        .fails(2, "is not a stage name");
    repo.wb(&["run", "a/../b"]).fails(2, "is not a stage name");
    let index = repo.read("runs/report/index.html");
    let script = index.split("<script>").nth(1).unwrap();
    assert!(
        script.starts_with("(function"),
        "the one script is the page's"
    );
}

#[test]
fn the_report_replaces_only_an_earlier_report_and_opens_a_browser() {
    let (repo, _) = report_repo();
    repo.wb(&["report"]).ok();
    repo.write("runs/report/stray.txt", "left over");
    repo.wb(&["report"]).ok();
    assert!(
        !repo.path("runs/report/stray.txt").exists(),
        "replaced whole"
    );
    let left: Vec<_> = std::fs::read_dir(repo.path("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".report-"))
        .collect();
    assert!(left.is_empty(), "temporary directories left: {left:?}");

    repo.write("mine/notes.txt", "precious");
    repo.wb(&["report", "-o", "mine"])
        .fails(1, "not a workbench report");
    assert_eq!(repo.read("mine/notes.txt"), "precious");
    // a link to a report is not a report: nothing is written through it
    let elsewhere = repo.path("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join(".workbench-report"), "").unwrap();
    std::fs::write(elsewhere.join("keep"), "kept").unwrap();
    std::os::unix::fs::symlink(&elsewhere, repo.path("linked")).unwrap();
    repo.wb(&["report", "-o", "linked"])
        .fails(1, "symbolic link");
    assert_eq!(repo.read("elsewhere/keep"), "kept");
    repo.write("afile", "x");
    repo.wb(&["report", "-o", "afile"])
        .fails(1, "not a directory");
    let e = repo.wb(&["--json", "report", "-o", "mine"]).json();
    assert!(e["error"]["hint"].as_str().unwrap().contains("-o"), "{e}");

    repo.write(
        "bin/browser",
        "#!/bin/sh\necho \"$1\" > \"$(dirname \"$0\")/opened\"\n",
    );
    let script = repo.path("bin/browser");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = repo
        .cmd(
            env!("CARGO_BIN_EXE_git-workbench"),
            &["--json", "report", "-o", "out", "--open"],
        )
        .env("BROWSER", &script)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["opened_with"], script.display().to_string());
    assert_eq!(r["dir"], repo.path("out").display().to_string(), "absolute");
    // The browser runs detached: wait for what it writes, not only for the file (the
    // shell creates it before writing, which a loaded machine made visible).
    for _ in 0..100 {
        let opened = std::fs::read_to_string(repo.path("bin/opened")).unwrap_or_default();
        if opened.trim_end().ends_with("out/index.html") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(repo
        .read("bin/opened")
        .trim_end()
        .ends_with("out/index.html"));

    let o = repo
        .cmd(
            env!("CARGO_BIN_EXE_git-workbench"),
            &["report", "-o", "out", "--open"],
        )
        .env("BROWSER", "")
        .env("PATH", repo.path("bin"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no browser found"));
}

/// Runs `git-workbench ARGS` on a pseudo-terminal (util-linux `script`) with `input`
/// typed at it; what the terminal showed and the exit code.
fn typed_at(r: &Repo, env: &[(&str, &str)], args: &[&str], input: &str) -> (String, i32) {
    require_program("script", "apt-get install bsdutils (util-linux's script)");
    let q = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = q(env!("CARGO_BIN_EXE_git-workbench"));
    for a in args {
        line.push(' ');
        line.push_str(&q(a));
    }
    let mut c = r.cmd("script", &["-qec", &line, "/dev/null"]);
    c.env("TERM", "xterm").stdin(std::process::Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.stdout(std::process::Stdio::piped()).spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // one answer at a time: the prompt reads a line, then asks again
        for l in input.lines() {
            stdin.write_all(format!("{l}\n").as_bytes()).unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1500));
        }
    }
    let o = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

#[test]
fn the_approve_prompt_opens_the_runs_report_page_then_asks_again() {
    let repo = crate::train_repo();
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", "Score 0.75 is fine."]).ok();
    repo.write(
        "bin/browser",
        "#!/bin/sh\necho \"$1\" > \"$(dirname \"$0\")/opened\"\n",
    );
    let browser = repo.path("bin/browser");
    std::fs::set_permissions(
        &browser,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let b = browser.display().to_string();

    // `o` writes the report and opens the run's page; `n` then records nothing
    let (tty, code) = typed_at(&repo, &[("BROWSER", &b)], &["approve", &id], "o\nn\n");
    assert_eq!(code, 1, "{tty}");
    assert!(tty.contains("o: open its report page"), "{tty}");
    assert!(tty.contains("nothing recorded"), "{tty}");
    assert_eq!(tty.matches("Approve run").count(), 2, "asked again:\n{tty}");
    let opened = PathBuf::from(repo.read("bin/opened").trim_end());
    assert!(
        opened.starts_with(repo.path("runs/report/runs")),
        "{opened:?}"
    );
    let page = std::fs::read_to_string(&opened).unwrap();
    assert!(page.contains(&id), "the page is the run's");
    assert!(page.contains("Score 0.75 is fine."), "its card");
    let st = repo.wb(&["--json", "show", &id]).ok().json();
    assert_ne!(st["state"], "APPROVED", "{st}");

    // no browser: the page is named and the prompt goes on to the approval
    std::fs::remove_file(repo.path("bin/opened")).unwrap();
    // a PATH with git, a shell and script only: no xdg-open, whatever this machine has
    let only = repo.home.join("only-git");
    std::fs::create_dir_all(&only).unwrap();
    for tool in ["git", "sh", "script"] {
        let found = String::from_utf8(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        std::os::unix::fs::symlink(found.trim(), only.join(tool)).unwrap();
    }
    let only = only.display().to_string();
    let (tty, code) = typed_at(
        &repo,
        &[("BROWSER", ""), ("PATH", &only)],
        &["approve", &id],
        "o\ny\n",
    );
    assert_eq!(code, 0, "{tty}");
    assert!(tty.contains("no browser found"), "{tty}");
    assert!(tty.contains(&format!("approved run {id}")), "{tty}");
    assert!(!repo.path("bin/opened").exists());
}
