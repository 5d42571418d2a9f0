//! The marimo review app (`examples/marimo/review.py`) exported headless with
//! `marimo export html`, as CI runs it: against the demo repository, and against
//! records whose text is hostile. The export is judged from the cells' outputs
//! marimo stores in the page (`__MARIMO_MOUNT_CONFIG__`'s session), not its code.

// base64: the app's `data:` URLs carry the figures' bytes; the report's encoder,
// unit-tested against known values there.
use crate::common::{path_with_binary, venv_tool, Repo};
use crate::run_json;
use std::path::Path;
use workbench::report::base64;

const APP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/marimo/review.py");

/// What one export produced.
struct Export {
    /// Every cell output's HTML (markdown outputs too), concatenated.
    html: String,
    /// The whole page marimo wrote.
    page: String,
}

/// `marimo export html APP -o OUT -- ARGS`, run from `cwd` with the built binary on
/// PATH (and `WORKBENCH_REPO` set to `repo_env`, when given); fails the test when
/// marimo reports a failed cell (exit 1, "some cells failed to execute"), the page
/// holds an error output or a traceback, or the app shows an error of its own.
fn export(scratch: &Repo, cwd: &Path, args: &[&str], repo_env: Option<&Path>) -> Export {
    let e = export_page(scratch, cwd, args, repo_env, false);
    assert!(
        !e.html.contains("wb-error"),
        "an error shown by the app:\n{}",
        e.html
    );
    e
}

/// `export`, where the app may show its own error (and stop the cells after it:
/// `stopped`).
fn export_page(
    scratch: &Repo,
    cwd: &Path,
    args: &[&str],
    repo_env: Option<&Path>,
    stopped: bool,
) -> Export {
    let out = scratch.home.join("review.html");
    let _ = std::fs::remove_file(&out);
    // marimo writes a session snapshot beside the notebook it exports
    // (`__marimo__/session/`): a copy in a temporary directory keeps the source tree
    // clean (PYTHONPYCACHEPREFIX would too, but makes Python compile marimo anew)
    let app = scratch.home.join("review.py");
    std::fs::copy(APP, &app).unwrap();
    let mut all = vec![
        "export",
        "html",
        app.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--no-sandbox",
        "--",
    ];
    all.extend_from_slice(args);
    let mut cmd = scratch.cmd(venv_tool("marimo").to_str().unwrap(), &all);
    cmd.current_dir(cwd)
        .env("PATH", path_with_binary())
        .env("MARIMO_SKIP_UPDATE_CHECK", "1");
    if let Some(r) = repo_env {
        cmd.env("WORKBENCH_REPO", r);
    }
    let o = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success(),
        "marimo export failed ({:?}):\n{stderr}",
        o.status
    );
    assert!(!stderr.contains("failed to execute"), "{stderr}");
    let page = std::fs::read_to_string(&out).unwrap();
    let html = outputs(&page, stopped);
    Export { html, page }
}

/// The outputs of every cell, asserting none is an error (but for cells not run
/// because the app stopped, when `stopped`) and no cell printed a traceback.
fn outputs(page: &str, stopped: bool) -> String {
    let at = page
        .find("\"__MARIMO_MOUNT_CONFIG__\"")
        .expect("the page has marimo's mount config");
    let start = at + page[at..].find("Object.freeze(").unwrap() + "Object.freeze(".len();
    let end = start + page[start..].find("writable: false").unwrap();
    let body = page[start..end].trim_end().trim_end_matches(',').trim_end();
    let config: serde_json::Value =
        serde_json::from_str(body.strip_suffix(')').unwrap()).expect("the mount config is JSON");
    let cells = config["session"]["cells"]
        .as_array()
        .expect("session cells");
    assert!(cells.len() >= 6, "{} cells", cells.len());
    let mut html = String::new();
    for cell in cells {
        for c in cell["console"].as_array().unwrap() {
            assert_ne!(
                c["mimetype"], "application/vnd.marimo+traceback",
                "cell {} printed a traceback: {}",
                cell["id"], c["text"]
            );
        }
        for o in cell["outputs"].as_array().unwrap() {
            let skipped = stopped && o["ename"] == "ancestor-stopped";
            assert!(
                o["type"] != "error" || skipped,
                "cell {} failed: {o}",
                cell["id"]
            );
            for (_, v) in o["data"].as_object().into_iter().flatten() {
                html.push_str(v.as_str().unwrap_or_default());
                html.push('\n');
            }
        }
    }
    assert!(
        !page.contains("Traceback (most recent call last)"),
        "a traceback in the page"
    );
    html
}

/// `text` as Python's `html.escape(text, quote=True)` writes it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Everything a read-only app must leave as it was: every ref, the notes, the index
/// and the working tree.
fn repository_state(scratch: &Repo, dir: &Path) -> String {
    let git = |args: &[&str]| {
        let o = scratch.cmd("git", args).current_dir(dir).output().unwrap();
        assert!(o.status.success(), "git {args:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    git(&["for-each-ref", "--format=%(refname) %(objectname)"])
        + &git(&[
            "status",
            "--porcelain",
            "--untracked-files=all",
            "--ignored",
        ])
        + &git(&["ls-files", "--stage"])
}

/// The part of `html` from the element that opens with `open` to the next `close`.
fn element<'a>(html: &'a str, open: &str, close: &str) -> &'a str {
    let start = html
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in:\n{html}"));
    let end = start + html[start..].find(close).unwrap() + close.len();
    &html[start..end]
}

#[test]
fn review_app_shows_the_demo_repository() {
    let scratch = Repo::bare_dir();
    let dir = scratch.root.join("demo repo");
    let demo = scratch
        .wb(&["--json", "demo", dir.to_str().unwrap()])
        .ok()
        .json();
    let dir = Path::new(demo["dir"].as_str().unwrap()).to_path_buf();
    let cmp = scratch.wb_in(&dir, &["--json", "compare"]).ok().json();
    let shown = scratch
        .wb_in(&dir, &["--json", "show", "baseline@approved"])
        .ok()
        .json();
    let before = repository_state(&scratch, &dir);
    // run from elsewhere: the app finds the repository through --repo
    let e = export(
        &scratch,
        &scratch.root,
        &["--repo", dir.to_str().unwrap()],
        None,
    );
    assert_eq!(
        repository_state(&scratch, &dir),
        before,
        "the app changed the repository"
    );

    let table = element(&e.html, "<table class=\"wb-compare\">", "</table>");
    let rows = cmp["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert_eq!(table.matches("<tr data-run=").count(), rows.len());
    for r in rows {
        let id = r["run_id"].as_str().unwrap();
        assert!(table.contains(&format!("<tr data-run=\"{id}\"")), "{id}");
    }
    let metrics: Vec<&str> = cmp["columns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c.as_str().filter(|c| c.starts_with("metrics.")))
        .collect();
    assert_eq!(metrics.len(), 4, "{metrics:?}");
    assert_eq!(
        e.html.matches("<svg class=\"wb-plot\"").count(),
        metrics.len()
    );
    for m in &metrics {
        let plot = element(
            &e.html,
            &format!("<svg class=\"wb-plot\" data-metric=\"{m}\""),
            "</svg>",
        );
        assert_eq!(
            plot.matches("<circle").count(),
            rows.len(),
            "{m}: a point per run"
        );
    }
    drill_down(&scratch, &dir, &e.html, &shown);
    assert!(e.page.contains("git-workbench review"));
}

/// The drill-down of the approved run: its metrics, the approval, the card as
/// recorded and its figure with exactly the stored bytes.
fn drill_down(scratch: &Repo, dir: &Path, html: &str, shown: &serde_json::Value) {
    let id = shown["run_id"].as_str().unwrap();
    let run = element(
        html,
        &format!("<section class=\"wb-run\" data-run=\"{id}\">"),
        "</section>",
    );
    for (k, v) in shown["manifest"]["metrics"].as_object().unwrap() {
        assert!(
            run.contains(&format!(
                "<tr data-metric=\"{k}\"><td>{k}</td><td>{v}</td></tr>"
            )),
            "metric {k} = {v} in:\n{run}"
        );
    }
    let by = shown["approval"]["approved_by"].as_str().unwrap();
    assert!(
        run.contains(&format!("<td>approved by</td><td>{}</td>", escaped(by))),
        "{run}"
    );
    assert!(
        run.contains("<pre class=\"wb-card\"># baseline — run "),
        "{run}"
    );
    let figure = format!("runs/{id}/alerts.svg");
    let stored = scratch
        .cmd(
            "git",
            &[
                "cat-file",
                "blob",
                &format!("{}:outputs/{figure}", shown["record"].as_str().unwrap()),
            ],
        )
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(stored.status.success() && stored.stdout.starts_with(b"<svg"));
    let img = format!(
        "<img class=\"wb-figure\" data-path=\"{figure}\" alt=\"{figure}\" src=\"data:image/svg+xml;base64,{}\"",
        base64(&stored.stdout)
    );
    assert!(run.contains(&img), "the figure's stored bytes in:\n{run}");
    assert_eq!(run.matches("<img ").count(), 1);
}

const EVIL_CONFIG: &str = r#"
[stages.evil]
cmd = "sh scripts/evil.sh"
outs = ["runs/{run_id}/*.svg"]
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["evil.*"] }
"#;

/// A figure whose name breaks out of an attribute and whose SVG holds a script, and
/// metric names with markup, a quote, an escape sequence and a right-to-left override.
const EVIL_SH: &str = r#"set -e
mkdir -p "$WORKBENCH_RUN_DIR"
printf '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><script>alert(1)</script><rect width="20" height="20" fill="white"/><path d="M0 0 L20 20" stroke="black"/></svg>' > "$WORKBENCH_RUN_DIR/<b>\"x'.svg"
printf '{"<script>alert(1)</script>": 1, "a\\"b": 0.5, "\\u202eevil": 2, "x\\u001b[31m": 3}' > "$WORKBENCH_RUN_DIR/metrics.json"
"#;

#[test]
fn review_app_escapes_hostile_records_and_only_shows_the_decision() {
    let repo = Repo::with(
        EVIL_CONFIG,
        &[
            ("scripts/evil.sh", EVIL_SH),
            (
                "params.yaml",
                "evil:\n  note: \"<iframe src=http://evil.example/>\"\n  n: 1\n",
            ),
        ],
    );
    repo.wb(&["init"]).ok();
    let approved = run_json(&repo, &["evil"]);
    repo.wb(&["review", &approved]).ok();
    let card = "<img src=x onerror=alert(1)> </pre><script>alert(2)</script>";
    repo.wb(&["card", &approved, "-m", card]).ok();
    repo.wb(&["approve", &approved, "--yes"]).ok();
    let pending = run_json(&repo, &["evil", "-p", "evil.n=2"]);
    repo.wb(&["review", &pending]).ok();
    repo.wb(&["card", &pending, "-m", "second"]).ok();
    let before = repository_state(&repo, &repo.root);
    let elsewhere = repo.home.clone();
    let e = export(
        &repo,
        &elsewhere,
        &["--repo", repo.root.to_str().unwrap()],
        None,
    );
    // no markup from a record survives as markup: not the card's, a metric name's, a
    // param's or the figure's (whose SVG is only an <img> source, base64-encoded)
    for raw in [
        "<script",
        "<iframe",
        "<img src=x",
        "<b>",
        "\u{202e}",
        "\u{1b}",
    ] {
        assert!(!e.html.contains(raw), "{raw:?} in the outputs:\n{}", e.html);
    }
    let run = element(
        &e.html,
        &format!("<section class=\"wb-run\" data-run=\"{approved}\">"),
        "</section>",
    );
    // the card as recorded, shown as text
    let stored = repo.git(&[
        "show",
        &format!("refs/workbench/runs/evil/{approved}:card.md"),
    ]);
    assert!(stored.contains(card), "{stored}");
    assert!(
        run.contains(&format!("<pre class=\"wb-card\">{}", escaped(&stored))),
        "the card as text:\n{run}"
    );
    assert!(run.contains("<tr data-metric=\"&lt;script&gt;alert(1)&lt;/script&gt;\">"));
    assert!(run.contains("<td>\\u202eevil</td>") && run.contains("<td>x\\u001b[31m</td>"));
    assert!(run.contains("&lt;iframe src=http://evil.example/&gt;"));
    let name = format!("runs/{approved}/&lt;b&gt;&quot;x&#x27;.svg");
    assert!(
        run.contains(&format!(
            "<img class=\"wb-figure\" data-path=\"{name}\" alt=\"{name}\" src=\"data:image/svg+xml;base64,"
        )),
        "{run}"
    );
    assert_eq!(e.html.matches("<svg class=\"wb-plot\"").count(), 4);
    assert!(
        !run.contains("wb-command"),
        "an approved run needs no decision"
    );

    // the run awaiting a decision, picked with --run and the repository from the
    // environment: the app shows the command, and running it is the human's
    let e = export(&repo, &elsewhere, &["--run", &pending], Some(&repo.root));
    let run = element(
        &e.html,
        &format!("<section class=\"wb-run\" data-run=\"{pending}\">"),
        "</section>",
    );
    assert!(run.contains(&format!(
        "<pre class=\"wb-command\">git workbench approve {pending}"
    )));
    assert_eq!(
        repository_state(&repo, &repo.root),
        before,
        "the app changed the repository"
    );
    let shown = repo.wb(&["--json", "show", &pending]).ok().json();
    assert_eq!(shown["state"], "reviewed");

    // a --run that looks like an option is a run name to `show`, never its --log
    let e = export_page(&repo, &elsewhere, &["--run=--log"], Some(&repo.root), false);
    let error = element(&e.html, "<pre class=\"wb-error\">", "</pre>");
    assert!(
        error.contains("no run matches &#x27;--log&#x27;"),
        "{error}"
    );
    assert!(e.html.contains("wb-compare") && !e.html.contains("wb-run"));
}

#[test]
fn review_app_outside_a_repository_shows_the_error() {
    let scratch = Repo::bare_dir();
    let e = export_page(&scratch, &scratch.home, &[], Some(&scratch.root), true);
    let error = element(&e.html, "<pre class=\"wb-error\">", "</pre>");
    assert!(
        error.contains("git workbench --json status: not a git repository")
            && error.contains("hint: "),
        "{error}"
    );
    assert!(!e.html.contains("wb-compare"));
}
