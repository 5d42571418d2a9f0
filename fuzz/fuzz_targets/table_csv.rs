//! Tables as run records store them (`runs/comparison.csv` and CSV outputs): the bytes
//! are split at 0xff bytes (never in UTF-8) into base, ours and theirs, each read by
//! `table_diff::parse_csv`, then diffed (`diff`, what `git workbench diff` shows) and
//! merged (`table_merge::merge`, git's merge driver for the comparison table).
//! Asserts: no panic; a table diffed with itself has no changes; a merge of a table
//! with itself (ancestor, ours and theirs) is clean, reads back as CSV and diffs empty against it; a clean merge
//! always reads back as CSV; a cell written back by `render` reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use workbench::model::table::{Cell, Direction};
use workbench::model::table_diff::{diff, parse_csv, Keyed};
use workbench::model::table_merge::{default_key, merge};

fn cells(k: &Keyed) {
    for row in k.rows.iter().take(64) {
        for field in row.iter().take(64) {
            let once = Cell::parse(field).render();
            assert_eq!(Cell::parse(&once).render(), once, "{field:?}");
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    let mut parts = bytes.splitn(3, |b| *b == 0xff);
    let (b, o, t) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (Ok(base), Ok(ours), Ok(theirs)) = (
        parse_csv("base", b),
        parse_csv("ours", o),
        parse_csv("theirs", t),
    ) else {
        // Each side alone, so one bad side does not hide the others.
        for side in [b, o, t] {
            if let Ok(k) = parse_csv("side", side) {
                cells(&k);
            }
        }
        return;
    };
    cells(&ours);
    let Some(key) = default_key(&ours.columns).map(str::to_string) else {
        return;
    };
    let directions = BTreeMap::from([
        ("f1".to_string(), Direction::Maximize),
        ("loss".to_string(), Direction::Minimize),
    ]);
    if let Ok(changes) = diff(&ours, &ours, &key, &directions) {
        assert!(changes.is_empty(), "{changes:?}");
        // Against itself as the ancestor (the ancestor may lack the key: that is an error).
        let m = merge(&ours, &ours, &ours, &key, 7).expect("merging a table with itself");
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        let back = parse_csv("merged", m.text.as_bytes()).expect("a clean merge reads back");
        let d = diff(&ours, &back, &key, &directions).expect("the merge keeps the keys");
        assert!(d.is_empty(), "{d:?}\n{}", m.text);
    }
    let _ = diff(&base, &ours, &key, &directions);
    if let Ok(m) = merge(&base, &ours, &theirs, &key, 7) {
        if m.conflicts.is_empty() {
            parse_csv("merged", m.text.as_bytes()).expect("a clean merge reads back");
        }
    }
});
