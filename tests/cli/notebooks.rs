//! Narrative formats: Jupyter and marimo notebooks checked with their own packages
//! (nbformat, marimo, from the test virtualenv), Quarto, `# %%` scripts, and the
//! bytes every narrative command keeps (line endings, a byte-order mark).

use crate::common::{venv_tool, Repo};
use crate::run_json;
use std::process::Command;

/// A repository with an approved run of `train` whose interpretation is `text`, its
/// notebooks and reports marked as narratives.
fn approved(text: &str) -> (Repo, String) {
    let repo = crate::train_repo();
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", text]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    repo.write(
        ".gitattributes",
        "*.ipynb workbench-narrative\n*.py workbench-narrative\n*.md workbench-narrative\n*.qmd workbench-narrative\n",
    );
    (repo, id)
}

/// Approves another run of `train` with interpretation `text`.
fn approve_another(repo: &Repo, text: &str) -> String {
    let id = run_json(repo, &["train", "-p", "train.lr=0.2"]);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", text]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    id
}

/// Runs a program of the test virtualenv in the repository; returns stdout, failing
/// the test on a non-zero exit.
fn venv(repo: &Repo, program: &str, args: &[&str]) -> String {
    let o = repo
        .cmd(venv_tool(program).to_str().unwrap(), args)
        .env("MARIMO_SKIP_UPDATE_CHECK", "1")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// nbformat validates the notebook, and writing what it read gives back the same
/// bytes: the edit kept Jupyter's own formatting (key order, 1-space indent, source
/// lists, the final newline).
const NBFORMAT_CHECK: &str = r#"
import sys, nbformat
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
nbformat.validate(nb)
text = open(path, encoding="utf-8").read()
again = nbformat.writes(nb) + "\n"
if again != text:
    sys.exit("nbformat writes it differently:\n" + again)
for c in nb.cells:
    print(c.cell_type, "|", c.source.replace("\n", "\\n"))
"#;

/// Loads the marimo notebook with marimo and saves it the way marimo saves it.
const MARIMO_RESAVE: &str = r#"
import sys
from marimo._convert.converters import MarimoConvert
path = sys.argv[1]
src = open(path, encoding="utf-8").read()
out = MarimoConvert.from_py(src).to_py()
open(path, "w", encoding="utf-8").write(out)
"#;

fn nbformat_cells(repo: &Repo, path: &str) -> String {
    venv(repo, "python", &["-c", NBFORMAT_CHECK, path])
}

const NOTEBOOK: &str = r##"
import nbformat
nb = nbformat.v4.new_notebook()
nb.cells.append(nbformat.v4.new_markdown_cell("# Analysis\n\nWritten by hand, café.\n\n<!-- workbench:slot stage=train -->"))
nb.cells.append(nbformat.v4.new_code_cell("x = 1\nprint(x)"))
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
for i, c in enumerate(nb.cells):
    c.id = f"cell-{i}"
nbformat.write(nb, "analysis.ipynb")
"##;

#[test]
fn jupyter_blocks_live_in_markdown_cells_and_the_notebook_stays_valid() {
    let (repo, id) = approved("Score 0.75 is \"fine\" at C:\\data.");
    venv(&repo, "python", &["-c", NOTEBOOK]);
    let original = repo.read("analysis.ipynb");

    // Into the cell holding the slot.
    repo.wb(&[
        "narrative",
        "new",
        "train",
        "analysis.ipynb",
        "--metrics",
        "score",
    ])
    .ok();
    let cells = nbformat_cells(&repo, "analysis.ipynb");
    let first = cells.lines().next().unwrap();
    assert!(
        first.starts_with("markdown | # Analysis\\n\\nWritten by hand, café.\\n\\n<!-- workbench:begin stage=train run=")
            && first.contains("Score 0.75 is \"fine\" at C:\\data.")
            && first.contains("| score | 0.75 |")
            && first.ends_with("<!-- workbench:end -->"),
        "{cells}"
    );
    assert!(cells.contains("code | x = 1\\nprint(x)"), "{cells}");
    let after_new = repo.read("analysis.ipynb");
    let untouched = original.split("\"source\": [").next().unwrap();
    assert!(after_new.starts_with(untouched), "{after_new}");

    // No slot left: a new markdown cell at the end.
    repo.wb(&["narrative", "new", "train", "analysis.ipynb"])
        .ok();
    let cells = nbformat_cells(&repo, "analysis.ipynb");
    let last = cells.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "markdown | <!-- workbench:begin stage=train run={id} -->\\nScore"
        )),
        "{cells}"
    );
    assert_eq!(cells.lines().count(), 3, "{cells}");
    let two_blocks = repo.read("analysis.ipynb");
    repo.wb(&["narrative", "check", "analysis.ipynb"]).ok();

    // sync re-renders inside the cells, and is byte-stable.
    let r = repo.wb(&["narrative", "sync", "analysis.ipynb"]).ok();
    assert!(r.stdout.contains("already in sync"), "{}", r.stdout);
    repo.write(
        "analysis.ipynb",
        &two_blocks.replace("| score | 0.75 |", "| score | 0.95 |"),
    );
    // A tampered cell is refused by check and by the hook, like any narrative.
    repo.wb(&["narrative", "check", "analysis.ipynb"])
        .fails(1, "differs from the approved rendering");
    repo.git(&["add", "-A"]);
    repo.wb(&["hook", "pre-commit"])
        .fails(1, "differs from the approved rendering");
    repo.wb(&["narrative", "sync", "analysis.ipynb"]).ok();
    assert_eq!(repo.read("analysis.ipynb"), two_blocks);
    nbformat_cells(&repo, "analysis.ipynb");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "notebook"]);
    // remove takes blocks out of their cells whole; the notebook stays valid.
    repo.wb(&["narrative", "remove", "analysis.ipynb", "--stage", "train"])
        .ok();
    let cells = nbformat_cells(&repo, "analysis.ipynb");
    assert!(
        !cells.contains("workbench:") && !cells.contains("Approved by"),
        "{cells}"
    );
    assert!(cells.contains("Written by hand, café."), "{cells}");
    repo.git(&["commit", "-q", "-am", "no blocks"]);
    repo.fsck();
}

#[test]
fn jupyter_markers_outside_markdown_cells_and_broken_json_are_refused() {
    let (repo, _) = approved("Fine.");
    venv(&repo, "python", &["-c", NOTEBOOK]);
    let text = repo.read("analysis.ipynb");
    let code_marker = text.replace(
        "\"print(x)\"",
        "\"# workbench:begin stage=train run=20260308T142233Z-1e2a\"",
    );
    repo.write("analysis.ipynb", &code_marker);
    repo.wb(&["narrative", "sync", "analysis.ipynb"])
        .fails(2, "a workbench marker in a code cell");
    repo.wb(&["narrative", "new", "train", "analysis.ipynb"])
        .fails(2, "code cell");
    assert_eq!(repo.read("analysis.ipynb"), code_marker);

    let broken = &text[..text.len() / 2];
    repo.write("analysis.ipynb", broken);
    repo.wb(&["narrative", "new", "train", "analysis.ipynb"])
        .fails(2, "not valid JSON");
    assert_eq!(repo.read("analysis.ipynb"), broken, "nothing was written");

    // A missing notebook is created as a valid one.
    repo.wb(&["narrative", "new", "train", "fresh.ipynb"]).ok();
    let cells = nbformat_cells(&repo, "fresh.ipynb");
    assert!(
        cells.starts_with("markdown | <!-- workbench:begin stage=train"),
        "{cells}"
    );
}

/// A marimo notebook as marimo writes it: a cell importing mo, a markdown cell with
/// a slot, a code cell.
const MARIMO: &str = r#"import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import marimo as mo

    return (mo,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Analysis

    Written by hand.

    <!-- workbench:slot stage=train -->
    """)
    return


@app.cell
def _():
    x = 1
    return


if __name__ == "__main__":
    app.run()
"#;

/// Saving through marimo leaves the file as it is, `marimo check` passes, and
/// `marimo export md` shows every `needle`.
fn marimo_keeps(repo: &Repo, path: &str, needles: &[&str]) {
    let before = repo.read(path);
    venv(repo, "python", &["-c", MARIMO_RESAVE, path]);
    assert_eq!(repo.read(path), before, "marimo's serializer changed it");
    venv(repo, "marimo", &["check", "--strict", path]);
    let md = venv(repo, "marimo", &["-y", "export", "md", path]);
    for n in needles {
        assert!(md.contains(n), "marimo export md lacks {n:?}:\n{md}");
    }
}

#[test]
fn marimo_blocks_live_in_markdown_cells_and_survive_marimo() {
    let (repo, id) = approved("Score 0.75 is fine at C:\\data.\n\n  - an indented item");
    repo.write("analysis.py", MARIMO);
    marimo_keeps(&repo, "analysis.py", &["Written by hand."]);

    repo.wb(&[
        "narrative",
        "new",
        "train",
        "analysis.py",
        "--metrics",
        "score",
    ])
    .ok();
    let text = repo.read("analysis.py");
    assert!(
        text.contains(&format!(
            "    Written by hand.\n\n    <!-- workbench:begin stage=train run={id} metrics=score -->\n    Score 0.75 is fine at C:\\data.\n\n      - an indented item\n\n    | metric | value |\n"
        )),
        "{text}"
    );
    let provenance = format!("(run {id}, sha256:");
    marimo_keeps(
        &repo,
        "analysis.py",
        &[
            "Score 0.75 is fine at C:\\data.",
            "| score | 0.75 |",
            &provenance,
        ],
    );

    // No slot left: a new markdown cell before the trailer.
    repo.wb(&["narrative", "new", "train", "analysis.py"]).ok();
    let two = repo.read("analysis.py");
    assert!(
        two.contains(
            "@app.cell(hide_code=True)\ndef _(mo):\n    mo.md(r\"\"\"\n    <!-- workbench:begin"
        ) && two.ends_with("    return\n\n\nif __name__ == \"__main__\":\n    app.run()\n"),
        "{two}"
    );
    assert_eq!(two.matches("workbench:begin").count(), 2);
    marimo_keeps(&repo, "analysis.py", &[&provenance]);
    repo.wb(&["narrative", "check", "analysis.py"]).ok();

    // sync restores a tampered block inside the cell, in marimo's form.
    repo.write(
        "analysis.py",
        &two.replace("| score | 0.75 |", "| score | 0.95 |"),
    );
    repo.wb(&["narrative", "check", "analysis.py"])
        .fails(1, "differs from the approved rendering");
    repo.wb(&["narrative", "sync", "analysis.py"]).ok();
    assert_eq!(repo.read("analysis.py"), two);
    let r = repo.wb(&["narrative", "sync", "analysis.py"]).ok();
    assert!(r.stdout.contains("already in sync"), "{}", r.stdout);

    // A notebook without a cell defining mo gets one.
    let bare = MARIMO.replace(
        "@app.cell\ndef _():\n    import marimo as mo\n\n    return (mo,)\n\n\n",
        "",
    );
    assert!(!bare.contains("import marimo as"));
    repo.write("bare.py", &bare);
    repo.wb(&["narrative", "new", "train", "bare.py"]).ok();
    marimo_keeps(&repo, "bare.py", &[&provenance]);
}

#[test]
fn marimo_refuses_hash_markers_and_what_marimo_would_rewrite() {
    let (repo, _) = approved("Fine.");
    let hashed = MARIMO.replace(
        "    x = 1\n",
        "    # workbench:begin stage=train run=20260308T142233Z-1e2a\n    # x\n    # workbench:end\n    x = 1\n",
    );
    repo.write("analysis.py", &hashed);
    repo.wb(&["narrative", "new", "train", "analysis.py"])
        .fails(2, "'# workbench:' marker in a marimo notebook");
    repo.wb(&["narrative", "sync", "analysis.py"])
        .fails(2, "mo.md(r\"\"\"...\"\"\")");
    assert_eq!(repo.read("analysis.py"), hashed);

    approve_another(&repo, "He wrote \"\" twice.");
    repo.write("analysis.py", MARIMO);
    repo.wb(&["narrative", "new", "train", "analysis.py"])
        .fails(1, "cannot be kept in a marimo markdown cell");
    assert_eq!(repo.read("analysis.py"), MARIMO, "nothing was written");
}

#[test]
fn percent_scripts_and_quarto_keep_working() {
    let (repo, id) = approved("Fine.");
    repo.write(
        "analysis.py",
        "# %%\nimport math\n\n# %% [markdown]\n# workbench:slot stage=train\n",
    );
    repo.wb(&["narrative", "new", "train", "analysis.py"]).ok();
    let text = repo.read("analysis.py");
    assert!(
        text.starts_with(&format!(
            "# %%\nimport math\n\n# %% [markdown]\n# workbench:begin stage=train run={id}\n# Fine.\n#\n# _Approved by"
        )) && text.ends_with("# workbench:end\n"),
        "{text}"
    );
    let o = Command::new("python3")
        .args(["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())"])
        .arg(repo.path("analysis.py"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    repo.write("report.qmd", "---\ntitle: Report\n---\n\n```{python}\nx = 1\n```\n\n<!-- workbench:slot stage=train -->\n");
    repo.wb(&["narrative", "new", "train", "report.qmd"]).ok();
    let q = repo.read("report.qmd");
    assert!(
        q.starts_with("---\ntitle: Report\n---\n\n```{python}\nx = 1\n```\n\n<!-- workbench:begin stage=train run=")
            && q.ends_with("<!-- workbench:end -->\n"),
        "{q}"
    );
    repo.wb(&["narrative", "check"]).ok();
}

fn write_bytes(repo: &Repo, rel: &str, bytes: &[u8]) {
    std::fs::write(repo.path(rel), bytes).unwrap();
}

fn read_bytes(repo: &Repo, rel: &str) -> Vec<u8> {
    std::fs::read(repo.path(rel)).unwrap()
}

#[test]
fn new_and_sync_keep_line_endings_and_a_byte_order_mark() {
    let (repo, _) = approved("Fine.\nSecond line.");
    let lf = "# Report\n\nProse by hand.\n\n<!-- workbench:slot stage=train -->\n\nMore prose.\n";
    repo.write("lf.md", lf);
    repo.wb(&["narrative", "new", "train", "lf.md", "--table"])
        .ok();
    let lf_after = repo.read("lf.md");

    // CRLF with a byte-order mark: the same result, in CRLF, with the mark.
    let crlf = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
    write_bytes(&repo, "crlf.md", crlf.as_bytes());
    repo.wb(&["narrative", "new", "train", "crlf.md", "--table"])
        .ok();
    let want = format!("\u{feff}{}", lf_after.replace('\n', "\r\n"));
    assert_eq!(
        String::from_utf8(read_bytes(&repo, "crlf.md")).unwrap(),
        want
    );

    // Mixed: every prose line keeps its own ending; the block takes its slot's.
    let mixed = "# Report\r\n\nProse by hand.\r\n<!-- workbench:slot stage=train -->\r\nMore prose.\nLast, no newline";
    write_bytes(&repo, "mixed.md", mixed.as_bytes());
    repo.wb(&["narrative", "new", "train", "mixed.md", "--table"])
        .ok();
    let out = repo.read("mixed.md");
    let (head, tail) = mixed
        .split_once("<!-- workbench:slot stage=train -->")
        .unwrap();
    assert!(out.starts_with(head) && out.ends_with(tail), "{out:?}");
    let block = &out[head.len()..out.len() - tail.len()];
    assert!(
        block.starts_with("<!-- workbench:begin") && block.ends_with("<!-- workbench:end -->"),
        "{block:?}"
    );
    assert_eq!(
        block.matches('\n').count(),
        block.matches("\r\n").count(),
        "{block:?}"
    );

    // sync restores tampered content in the file's own endings.
    let synced = read_bytes(&repo, "crlf.md");
    let tampered = String::from_utf8(synced.clone())
        .unwrap()
        .replace("Second line.", "Third line.");
    write_bytes(&repo, "crlf.md", tampered.as_bytes());
    repo.wb(&["narrative", "sync", "crlf.md"]).ok();
    assert_eq!(read_bytes(&repo, "crlf.md"), synced);
    let r = repo
        .wb(&["narrative", "sync", "crlf.md", "mixed.md", "lf.md"])
        .ok();
    assert!(r.stdout.contains("already in sync"), "{}", r.stdout);
    repo.wb(&["narrative", "check", "lf.md", "crlf.md", "mixed.md"])
        .ok();

    // Not UTF-8: refused, nothing written.
    let latin1 = b"# R\xe9sum\xe9\n<!-- workbench:slot stage=train -->\n";
    write_bytes(&repo, "latin1.md", latin1);
    repo.wb(&["narrative", "new", "train", "latin1.md"])
        .fails(2, "latin1.md is not UTF-8 text");
    repo.wb(&["narrative", "sync", "latin1.md"])
        .fails(2, "latin1.md is not UTF-8 text");
    assert_eq!(read_bytes(&repo, "latin1.md"), latin1);
}
