//! A narrative file as another clone's commit carries it, through
//! `model::narrative::parse` in both marker syntaxes (HTML comments and `#`).
//! Asserts: no panic; every block's begin marker, written back by `begin_marker`,
//! parses to the same stage, run and options; replacing a block (`replace_block`, what
//! `narrative sync` does) leaves every other block as it was and the new block with
//! the new content and every byte outside the block's lines as it was; `normalize` is
//! idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::narrative::{
    begin_marker, end_marker, normalize, parse, replace_block, Syntax,
};

fn check(text: &str, syntax: Syntax) {
    let parsed = parse(text, syntax);
    for b in &parsed.blocks {
        assert!(b.begin_line < b.end_line);
        let marker = format!(
            "{}\n{}\n",
            begin_marker(&b.stage, &b.run, &b.options, syntax),
            end_marker(syntax)
        );
        let p = parse(&marker, syntax);
        assert!(p.errors.is_empty(), "{marker:?}: {:?}", p.errors);
        assert_eq!(p.blocks.len(), 1, "{marker:?}");
        let again = &p.blocks[0];
        assert_eq!(
            (&again.stage, &again.run, &again.options),
            (&b.stage, &b.run, &b.options),
            "{marker:?}"
        );
    }
    // Replacing each of the first few blocks.
    for (i, b) in parsed.blocks.iter().enumerate().take(4) {
        let out = replace_block(text, b, &b.run, "new content", syntax);
        // Every byte outside the block's lines is kept (line endings included).
        let starts: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let head = &text[..starts[b.begin_line - 1]];
        let tail = starts.get(b.end_line).map_or("", |&e| &text[e..]);
        assert!(
            out.starts_with(head) && out.ends_with(tail),
            "{text:?} -> {out:?}"
        );
        let after = parse(&out, syntax);
        assert_eq!(
            after.blocks.len(),
            parsed.blocks.len(),
            "{text:?} -> {out:?}"
        );
        for (j, (x, y)) in parsed.blocks.iter().zip(&after.blocks).enumerate() {
            assert_eq!(
                (&x.stage, &x.run, &x.options),
                (&y.stage, &y.run, &y.options)
            );
            if i == j {
                assert_eq!(y.content, "new content", "{text:?} -> {out:?}");
            } else {
                assert_eq!(x.content, y.content, "{text:?} -> {out:?}");
            }
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    // Narrative files are read as UTF-8 text (anything else is refused before parsing).
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    check(text, Syntax::Html);
    check(text, Syntax::Hash);
    let n = normalize(text);
    assert_eq!(normalize(&n), n);
});
