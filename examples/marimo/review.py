"""The git-workbench review app: the comparison table, a plot per metric and a
per-run drill-down (params, metrics, card, review checks, approval state, figures),
all read from `git workbench ... --json` in one repository.

    marimo run examples/marimo/review.py -- --repo PATH [--run RUN]
    marimo export html examples/marimo/review.py -o review.html -- --repo PATH

The repository is `--repo PATH`, else $WORKBENCH_REPO, else the current directory.
`--run` picks the run shown first (an id, a prefix, STAGE@approved, ...); default:
the newest approved run. Read-only: the app never records anything (approval is the
human's, at the CLI); it shows the command to type. docs/marimo.md has the details.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="git-workbench review")

with app.setup:
    import base64
    import hashlib
    import html
    import json
    import math
    import os
    import pathlib
    import re
    import shlex
    import subprocess
    import tempfile
    from datetime import datetime, timezone

    import marimo as mo

    # The largest stored file (a card, a figure) the app puts into the page, and the
    # most bytes of figures one run's page holds.
    MAX_BYTES = 20 * 1024 * 1024
    MAX_FIGURE_BYTES = 64 * 1024 * 1024
    # How much of one value from a record a cell shows.
    MAX_CELL = 300
    FIGURE_TYPES = {
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".svg": "image/svg+xml",
    }
    STATE_COLORS = {
        "approved": "#1e8449",
        "reviewed": "#2874a6",
        "executed": "#7f8c8d",
        "rejected": "#c0392b",
        "failed": "#8e44ad",
        "conflict": "#d35400",
    }
    RUN_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[0-9a-f]{4}")
    # Control characters and the bidirectional overrides that could make record text
    # read as something else: shown as escapes, as the CLI shows them.
    UNSAFE_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
    # Variables git sets for a hook: they would point git at another repository.
    GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR")

    class WorkbenchError(Exception):
        """A command the app ran failed: its one-line error and hint."""


@app.function
def esc(value, limit=MAX_CELL):
    """Text from a record, safe in HTML text and attributes: escaped, control and
    bidi characters made visible, cut to `limit` characters (None: whole)."""
    s = value if isinstance(value, str) else fmt(value)
    if limit is not None and len(s) > limit:
        s = s[:limit] + f"… ({len(s)} characters)"
    s = UNSAFE_CHARS.sub(lambda m: "\\u%04x" % ord(m.group()), s)
    return html.escape(s, quote=True)


@app.function
def fmt(value):
    """A JSON value as one cell's text (null: empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@app.function
def number(value):
    """A finite number from a JSON value, else None (NaN and infinities are strings)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@app.function
def run_env():
    env = {k: v for k, v in os.environ.items() if k not in GIT_ENV}
    env["NO_COLOR"] = "1"
    return env


@app.function
def workbench(repo, *args, timeout=600):
    """`git workbench --json ARGS` in `repo`: its report, or WorkbenchError with the
    CLI's error and hint."""
    cmd = ["git", "workbench", "--json", *args]
    try:
        p = subprocess.run(
            cmd,
            cwd=repo,
            env=run_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise WorkbenchError(f"cannot run {shlex.join(cmd)} in {repo}: {e}") from None
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    if p.returncode == 0 and isinstance(doc, dict) and "error" not in doc:
        return doc
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        msg = f"{shlex.join(cmd)}: {err.get('message')}"
        if err.get("hint"):
            msg += f"\nhint: {err.get('hint')}"
    else:
        tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        msg = f"{shlex.join(cmd)} exited {p.returncode}: " + " / ".join(tail)
    raise WorkbenchError(msg)


@app.function
def record_file(repo, record, name):
    """A file of a run's record as stored (`card.md`), read through git from the
    record commit `show --json` named; None when the record has none. No
    workbench command prints a record's card."""
    if not re.fullmatch(r"[0-9a-f]{40}", record or ""):
        return None
    spec = f"{record}:{name}"
    size = subprocess.run(
        ["git", "cat-file", "-s", spec],
        cwd=repo, env=run_env(), stdin=subprocess.DEVNULL, capture_output=True,
    )
    if size.returncode != 0:
        return None
    n = int(size.stdout.strip() or 0)
    if n > MAX_BYTES:
        return f"[{name} is {n} bytes; not shown]"
    blob = subprocess.run(
        ["git", "cat-file", "blob", spec],
        cwd=repo, env=run_env(), stdin=subprocess.DEVNULL, capture_output=True, check=True,
    )
    return blob.stdout.decode("utf-8", "replace")


@app.function
def read_figure(path, digest, to, root):
    """One figure: its stored bytes (from where checkout wrote them, inside `root`),
    checked against the manifest's digest; or why there are none."""
    fig = {"path": path, "mime": FIGURE_TYPES[pathlib.PurePosixPath(path).suffix.lower()]}
    if to is None:
        return {**fig, "note": "not stored in the record (larger than max_stored_size): only its hash"}
    real = os.path.realpath(to)
    if os.path.commonpath([real, os.path.realpath(root)]) != os.path.realpath(root):
        return {**fig, "note": "checkout named a place outside its destination; not read"}
    if not os.path.isfile(real) or os.path.getsize(real) > MAX_BYTES:
        return {**fig, "note": f"not a regular file under {MAX_BYTES} bytes; not shown"}
    data = pathlib.Path(real).read_bytes()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        return {**fig, "note": "the stored bytes do not match the manifest; not shown"}
    return {**fig, "bytes": data}


@app.function
def stored_figures(repo, shown):
    """The run's figure outputs with their recorded bytes: `checkout RUN --to TMP`
    writes every stored output, checked against the manifest, into a temporary
    directory (never the working tree), and the figures are read from there."""
    outputs = shown["manifest"].get("outputs") or {}
    figures = sorted(p for p in outputs if pathlib.PurePosixPath(p).suffix.lower() in FIGURE_TYPES)
    if not figures or not RUN_ID.fullmatch(shown.get("run_id", "")):
        return []
    with tempfile.TemporaryDirectory(prefix="workbench-review-") as tmp:
        report = workbench(repo, "checkout", "--to", tmp, "--", shown["run_id"])
        where = {f["path"]: f["to"] for f in report.get("files", [])}
        shown_figures, total = [], 0
        for p in figures:
            fig = read_figure(p, outputs[p], where.get(p), tmp)
            total += len(fig.get("bytes", b""))
            if total > MAX_FIGURE_BYTES:
                fig = {"path": p, "mime": fig["mime"], "note": f"not shown: the run's figures exceed {MAX_FIGURE_BYTES} bytes"}
            shown_figures.append(fig)
        return shown_figures


@app.function
def table(headers, rows, cls="", attrs=None):
    """An HTML table; every cell is escaped text, `attrs` an attribute string per row
    (already escaped)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        f"<tr{(' ' + attrs[i]) if attrs else ''}>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
        for i, row in enumerate(rows)
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


@app.function
def compare_html(cmp, approved):
    """The comparison table, one row per run, approved runs marked."""
    cols = cmp["columns"]
    rows = [[r.get(c) for c in cols] for r in cmp["rows"]]
    attrs = [
        f'data-run="{esc(r.get("run_id"))}" class="{"wb-approved" if r.get("run_id") in approved else ""}"'
        for r in cmp["rows"]
    ]
    return table(cols, rows, "wb-compare", attrs)


@app.function
def axis_options(cmp):
    """What a plot's x axis can be: the run order, or a param with numeric values
    that differ between runs."""
    options = {"run order (oldest first)": ""}
    for c in cmp["columns"]:
        if c.startswith("params."):
            values = {number(r.get(c)) for r in cmp["rows"]} - {None}
            if len(values) > 1:
                options[c[:MAX_CELL]] = c
    return options


@app.function
def plot_points(cmp, metric, axis):
    """(x, y, run_id, state) for each run with a finite value of `metric` (and of the
    axis param); how many runs lack one."""
    points, missing = [], 0
    for i, r in enumerate(cmp["rows"]):
        x = float(i) if not axis else number(r.get(axis))
        y = number(r.get(metric))
        if x is None or y is None:
            missing += 1
            continue
        points.append((x, y, r.get("run_id"), r.get("state")))
    return points, missing


@app.function
def scale(lo, hi, a, b):
    """Maps [lo, hi], widened by 5% each side, onto [a, b]."""
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    return lambda v: a + (v - lo) * (b - a) / (hi - lo)


@app.function
def plot_svg(metric, points, axis_name, approved):
    """One metric as an SVG scatter plot (our own markup; every label escaped)."""
    w, h, left, right, top, bottom = 420, 260, 64, 16, 28, 44
    xs, ys = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    sx = scale(min(xs), max(xs), left, w - right)
    sy = scale(min(ys), max(ys), h - bottom, top)
    parts = [
        f'<svg class="wb-plot" data-metric="{esc(metric)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">',
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="white" stroke="#ddd"/>',
        f'<text x="{left}" y="18" font-size="13" font-weight="bold">{esc(metric, 60)}</text>',
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#555"/>',
        f'<text x="{(left + w - right) / 2}" y="{h - 8}" font-size="11" text-anchor="middle">{esc(axis_name, 60)}</text>',
    ]
    for v in sorted({min(ys), max(ys)}):
        parts.append(f'<text x="{left - 6}" y="{sy(v) + 4:.1f}" font-size="10" text-anchor="end">{esc(f"{v:.4g}")}</text>')
    for v in sorted({min(xs), max(xs)}):
        parts.append(f'<text x="{sx(v):.1f}" y="{h - bottom + 14}" font-size="10" text-anchor="middle">{esc(f"{v:.4g}")}</text>')
    for x, y, run, state in points:
        color = STATE_COLORS.get(state, "#444")
        ring = ' stroke="black" stroke-width="2"' if run in approved else ""
        parts.append(
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{6 if ring else 4}" fill="{color}"{ring}>'
            f"<title>{esc(run)} ({esc(state)}): {esc(f'{y:.6g}')}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


@app.function
def when(unix):
    try:
        return datetime.fromtimestamp(int(unix), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError, OSError):
        return fmt(unix)


@app.function
def decision_html(shown):
    """The approval state, and the command a human would type (the app never runs it)."""
    state, run = shown.get("state"), shown.get("run_id", "")
    a = shown.get("approval")
    rows = [["state", state], ["latest event", shown.get("latest_event")]]
    if a:
        rows += [
            ["approved by", a.get("approved_by")],
            ["at", a.get("timestamp")],
            ["signature", f"{shown.get('signature')} ({shown.get('signature_detail')})"],
            ["review verdict at approval", a.get("review_verdict")],
            ["forced", a.get("forced")],
            ["overridden checks", ", ".join(map(fmt, shown.get("overridden_checks") or []))],
            ["interpretation edited by the human", a.get("interpretation_edited")],
        ]
    f = shown.get("feedback")
    if f:
        rows += [[f"feedback: {k}", v] for k, v in f.items() if k not in ("schema", "run_id", "stage")]
    out = table(["", ""], rows, "wb-decision")
    if a and a.get("approved_interpretation"):
        out += f'<p>Approved interpretation:</p><pre class="wb-interpretation">{esc(a["approved_interpretation"], None)}</pre>'
    hint = {
        "reviewed": f"git workbench approve {shlex.quote(run)}   # or: git workbench reject {shlex.quote(run)} --issue '...'",
        "executed": f"git workbench review {shlex.quote(run)}",
    }.get(state)
    if hint:
        out += (
            "<p>Decide at the command line, after reading the card; this app only shows the command:</p>"
            f'<pre class="wb-command">{esc(hint, None)}</pre>'
        )
    return out


@app.function
def figures_html(figures):
    if not figures:
        return "<p>No figure outputs.</p>"
    parts = []
    for f in figures:
        if "bytes" in f:
            src = f"data:{f['mime']};base64," + base64.b64encode(f["bytes"]).decode("ascii")
            body = f'<img class="wb-figure" data-path="{esc(f["path"], None)}" alt="{esc(f["path"])}" src="{src}" style="max-width:100%">'
        else:
            body = f'<p class="wb-figure-missing">{esc(f["note"])}</p>'
        parts.append(f"<figure>{body}<figcaption>{esc(f['path'])}</figcaption></figure>")
    return "".join(parts)


@app.function
def run_html(shown, card, figures):
    """The drill-down of one run. Every string from the record is escaped; the card
    is shown as its text, not rendered (its HTML and links are the agent's)."""
    m = shown["manifest"]
    overrides = m.get("overrides") or {}
    params = [[k, v, "-p" if k in overrides else ""] for k, v in sorted((m.get("params_used") or {}).items())]
    metrics = sorted((m.get("metrics") or {}).items())
    metric_rows = [f'data-metric="{esc(k)}"' for k, _ in metrics]
    review = shown.get("review") or {}
    checks = [
        [c.get("name"), "pass" if c.get("pass") else "FAIL", "blocking" if c.get("blocking") else "", c.get("source"), c.get("note")]
        for c in review.get("checks") or []
    ]
    files = [[p, h, "input"] for p, h in sorted((m.get("inputs") or {}).items())]
    files += [[p, h, "output"] for p, h in sorted((m.get("outputs") or {}).items())]
    return (
        f'<section class="wb-run" data-run="{esc(shown.get("run_id"))}">'
        f"<h3>Run {esc(shown.get('run_id'))} of stage {esc(shown.get('stage'))}: {esc(shown.get('state'))}</h3>"
        f"<p>command <code>{esc(m.get('command'))}</code>, exit {esc(m.get('exit_code'))}, "
        f"started {esc(m.get('started_at'))}, {esc(m.get('duration_seconds'))} s; record <code>{esc(shown.get('record'))}</code></p>"
        f"<h4>Approval</h4>{decision_html(shown)}"
        f"<h4>Metrics</h4>{table(['metric', 'value'], metrics, 'wb-metrics', metric_rows)}"
        f"{'<p>metrics error: ' + esc(m['metrics_error']) + '</p>' if m.get('metrics_error') else ''}"
        f"<h4>Params</h4>{table(['param', 'value', 'override'], params, 'wb-params')}"
        f"<h4>Figures</h4>{figures_html(figures)}"
        f"<h4>Card</h4>" + (f'<pre class="wb-card">{esc(card, None)}</pre>' if card else "<p>No card yet.</p>")
        + f"<h4>Review: {esc(review.get('verdict') or 'not reviewed')}</h4>{table(['check', 'result', '', 'source', 'note'], checks, 'wb-checks')}"
        f"<h4>Inputs and outputs</h4>{table(['path', 'sha256', ''], files, 'wb-files')}"
        f"<h4>Transitions</h4>{table(['event', 'commit', 'author', 'time'], [[t.get('event'), (t.get('commit') or '')[:12], t.get('author'), when(t.get('time'))] for t in shown.get('transitions') or []], 'wb-transitions')}"
        "</section>"
    )


@app.function
def error_html(message):
    return mo.Html(
        '<div style="border-left:4px solid #c0392b;background:#fdecea;padding:4px 12px">'
        f'<pre class="wb-error">{esc(message, None)}</pre></div>'
    )


@app.cell
def _():
    # The repository: --repo PATH, else $WORKBENCH_REPO, else the current directory.
    arg = mo.cli_args().get("repo")
    repo = os.path.abspath(str(arg if arg not in (None, "") else os.environ.get("WORKBENCH_REPO") or os.getcwd()))
    wanted_run = mo.cli_args().get("run")
    load_error = None
    try:
        status = workbench(repo, "status")
        cmp = workbench(repo, "compare")
    except WorkbenchError as e:
        status, cmp, load_error = None, None, str(e)
    mo.stop(load_error is not None, error_html(load_error or ""))
    return cmp, repo, status, wanted_run


@app.cell
def _(repo, status):
    approved = {s["approved_run"] for s in status["stages"] if s.get("approved_run")}
    stages = [
        [s.get("stage"), s.get("state"), s.get("approved_run"), s.get("current_run"),
         "; ".join(fmt(r.get("kind")) + (": " + fmt(r.get("path") or r.get("key") or r.get("message")) if (r.get("path") or r.get("key") or r.get("message")) else "") for r in s.get("reasons") or [])]
        for s in status["stages"]
    ]
    mo.vstack([
        mo.md("# git-workbench review"),
        mo.Html(f"<p>Repository <code>{esc(repo, None)}</code>. Read-only: decisions are made at the command line.</p>"),
        mo.Html(table(["stage", "state", "approved run", "current run", "why"], stages, "wb-stages")),
    ])
    return (approved,)


@app.cell
def _(approved, cmp):
    mo.vstack([
        mo.md(f"## Comparison table ({len(cmp['rows'])} runs)"),
        mo.Html(compare_html(cmp, approved)),
    ])
    return


@app.cell
def _(cmp):
    axis = mo.ui.dropdown(options=axis_options(cmp), value="run order (oldest first)", label="x axis")
    return (axis,)


@app.cell
def _(approved, axis, cmp):
    metrics = [c for c in cmp["columns"] if c.startswith("metrics.")]
    plots = []
    for metric in metrics:
        points, missing = plot_points(cmp, metric, axis.value)
        note = f"<p>{missing} run(s) without a finite value not shown</p>" if missing else ""
        plots.append(mo.Html(f'<div class="wb-plot-box">{plot_svg(metric, points, axis.value or "run, oldest first", approved)}{note}</div>'))
    legend = " ".join(
        f'<span style="color:{c}">&#9679; {esc(state)}</span>' for state, c in STATE_COLORS.items()
    )
    mo.vstack([
        mo.md("## Metrics"),
        axis,
        mo.Html(f"<p>{legend}; ringed: the stage's approved run. Hover a point for its run.</p>"),
        mo.hstack(plots, wrap=True, justify="start") if plots else mo.md("No metrics recorded."),
    ])
    return


@app.cell
def _(approved, cmp, repo, wanted_run):
    ids = [r["run_id"] for r in cmp["rows"] if RUN_ID.fullmatch(str(r.get("run_id")))]
    labels = {f"{r['run_id']} · {r.get('stage')} · {r.get('state')}"[:MAX_CELL]: r["run_id"] for r in cmp["rows"] if r.get("run_id") in ids}
    first, pick_error = None, None
    if wanted_run not in (None, ""):
        try:
            first = workbench(repo, "show", "--", str(wanted_run))["run_id"]
        except WorkbenchError as e:
            pick_error = f"--run {wanted_run}: {e}"
    elif approved:
        first = max(approved)
    elif ids:
        first = ids[-1]
    default = next((k for k, v in labels.items() if v == first), None)
    pick = mo.ui.dropdown(options=labels, value=default, label="run", searchable=True)
    return pick, pick_error


@app.cell
def _(pick, pick_error, repo):
    mo.stop(pick_error is not None, mo.vstack([mo.md("## Run"), pick, error_html(pick_error or "")]))
    mo.stop(pick.value is None, mo.vstack([mo.md("## Run"), pick, mo.md("No run to show.")]))
    try:
        shown = workbench(repo, "show", "--", pick.value)
        page = run_html(shown, record_file(repo, shown.get("record"), "card.md"), stored_figures(repo, shown))
        out = mo.Html(page)
    except WorkbenchError as e:
        out = error_html(str(e))
    mo.vstack([mo.md("## Run"), pick, out])
    return


if __name__ == "__main__":
    app.run()
