//! A narrative file in every format (`model::narrative_format::Document`): the same
//! bytes read as a Jupyter notebook, a marimo app (the bytes after a marimo header),
//! a `# %%` script and a Markdown report.
//! Asserts: no panic; in a file whose markers parse, replacing every block (what `narrative sync` does) gives a file
//! that parses again, with the same blocks in the same regions holding the new
//! content, and a notebook that is still JSON; doing it again is byte-stable; adding
//! a block (`narrative new` without a slot) gives one more block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::narrative::{block_lines, parse, BlockOptions};
use workbench::model::narrative_format::{Document, LineEdit};

const RUN: &str = "20260308T142233Z-1e2a";

/// Every block of `doc`, as (region, stage, run, content).
fn blocks(doc: &Document) -> Vec<(usize, String, String, String)> {
    let mut out = Vec::new();
    for (i, r) in doc.regions().iter().enumerate() {
        for b in parse(&r.text, r.syntax).blocks {
            out.push((i, b.stage.to_string(), b.run.to_string(), b.content));
        }
    }
    out
}

fn edits(doc: &Document, content: &str) -> Vec<LineEdit> {
    let mut out = Vec::new();
    for (i, r) in doc.regions().iter().enumerate() {
        for b in parse(&r.text, r.syntax).blocks {
            out.push(LineEdit {
                region: i,
                first: b.begin_line,
                last: b.end_line,
                lines: block_lines(&b.stage, &b.run, &b.options, content, r.syntax),
            });
        }
    }
    out
}

fn check(path: &str, text: &str) {
    let Ok(doc) = Document::parse(path, text) else {
        return;
    };
    // `narrative sync` and `new` refuse a file whose markers are broken.
    if doc
        .regions()
        .iter()
        .any(|r| !parse(&r.text, r.syntax).errors.is_empty())
    {
        return;
    }
    let before = blocks(&doc);
    let content = "new content\n\nsecond line";
    if let Ok(out) = doc.apply(edits(&doc, content)) {
        // (A byte-order mark is kept, and is not JSON.)
        let bom = |t: &'_ str| t.trim_start_matches('\u{feff}').to_string();
        if path.ends_with(".ipynb") && !bom(text).trim().is_empty() {
            serde_json::from_str::<serde_json::Value>(&bom(&out)).expect("still JSON");
        }
        let again = Document::parse(path, &out).expect("an edited file parses");
        let after = blocks(&again);
        assert_eq!(after.len(), before.len(), "{text:?} -> {out:?}");
        for (x, y) in before.iter().zip(&after) {
            assert_eq!((x.0, &x.1, &x.2), (y.0, &y.1, &y.2), "{text:?} -> {out:?}");
            assert_eq!(y.3, content, "{text:?} -> {out:?}");
        }
        let twice = again.apply(edits(&again, content)).expect("the same edit again");
        assert_eq!(twice, out, "byte-stable");
    }
    let syntax = doc.append_syntax();
    let lines = block_lines("stage", RUN, &BlockOptions::default(), "appended", syntax);
    if let Ok(out) = doc.append("stage", &lines) {
        let again = Document::parse(path, &out).expect("a file with a new block parses");
        let after = blocks(&again);
        assert_eq!(after.len(), before.len() + 1, "{text:?} -> {out:?}");
        assert!(after.iter().any(|b| b.3 == "appended"), "{out:?}");
    }
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    check("n.ipynb", text);
    check("m.py", &format!("import marimo\napp = marimo.App()\n{text}"));
    check("s.py", text);
    check("r.md", text);
});
