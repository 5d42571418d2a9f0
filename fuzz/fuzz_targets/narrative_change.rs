//! Two versions of a narrative as another clone's commits carry them, through what the
//! hook and `verify` judge a change with: `model::narrative_change` (layout, block
//! pairing, remnants of removed blocks, rename detection) and the parser's near-miss
//! and provenance checks, in every format `regions` knows (the path picks it).
//! Asserts: no panic; a version compared with itself changes no block; every block
//! change names blocks of the right side; removing a block's lines whole leaves no
//! remnant of it when nothing else changed; a remnant is reported at a line outside
//! every block of the new version.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::narrative::{is_provenance, near_miss, Syntax};
use workbench::model::narrative_change::{
    block_changes, carries, layout, remnant, BlockChange,
};

const PATHS: [&str; 5] = ["r.md", "r.qmd", "r.py", "r.ipynb", "notes.txt"];

fuzz_target!(|input: (u8, &str, &str)| {
    let (which, old, new) = input;
    let path = PATHS[which as usize % PATHS.len()];
    for line in old.lines().chain(new.lines()).take(64) {
        let _ = near_miss(line, Syntax::Html);
        let _ = near_miss(line, Syntax::Hash);
        let _ = is_provenance(line);
    }
    let (lo, ln) = (layout(path, old), layout(path, new));
    assert!(block_changes(&lo.blocks, &lo.blocks).is_empty());
    for c in block_changes(&lo.blocks, &ln.blocks) {
        match c {
            BlockChange::Added(b) => assert!(ln.blocks.contains(&b)),
            BlockChange::Removed(b) => {
                assert!(lo.blocks.contains(&b));
                if let Some(line) = remnant(&b, &lo, &ln) {
                    assert!(ln.outside.iter().any(|(n, _)| *n == line));
                }
            }
            BlockChange::Changed { old: a, new: b } => {
                assert!(lo.blocks.contains(&a) && ln.blocks.contains(&b));
                assert_eq!(a.stage, b.stage);
            }
        }
    }
    let _ = carries(path, old, "other.md", new);
    // One block of a markdown text removed whole: no remnant.
    if path == "r.md" {
        if let Some(b) = lo.blocks.first() {
            let parsed = workbench::model::narrative::parse(old, Syntax::Html);
            let pb = &parsed.blocks[0];
            let kept: String = old
                .split_inclusive('\n')
                .enumerate()
                .filter(|(i, _)| !(pb.begin_line..=pb.end_line).contains(&(i + 1)))
                .map(|(_, l)| l)
                .collect();
            let after = layout(path, &kept);
            if after.blocks.len() + 1 == lo.blocks.len() {
                assert_eq!(remnant(b, &lo, &after), None, "{old:?} -> {kept:?}");
            }
        }
    }
});
