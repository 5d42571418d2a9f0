//! The record rules (`model::integrity`), the judge of every record another clone
//! sends: a record graph decoded from the input, and the path rules on the raw bytes.
//! Input: commits separated by 0xFF, the last one the tip; in each, the first byte
//! picks the parents (none, the previous one, the previous two, or one further on,
//! which can make a cycle or a missing parent), then the commit message and the rule
//! files in `RULE_FILES` order separated by 0xFE. The ref's stage and run are the
//! tip's trailers (else fixed ones), so a real record encoded this way is valid (the
//! seeds are the three commits of a real approved run).
//! Asserts: no panic and no hang, whatever the graph; a judged-valid graph names the
//! ref's run in every commit; a contained path has no component the rules forbid,
//! checked again here independently.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use workbench::model::event::Trailers;
use workbench::model::integrity::{
    check_graph, contained_path, entry_problem, symlink_contained, RecordCommit, RecordGraph,
    RULE_FILES,
};
use workbench::model::{ObjectId, RunId, StageName};

fn oid(n: usize) -> ObjectId {
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&(n as u64 + 1).to_be_bytes());
    ObjectId::from_bytes(b)
}

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    if contained_path(&text).is_ok() {
        assert!(!text.starts_with('/') && !text.contains('\\'), "{text:?}");
        for part in text.split('/') {
            assert!(!part.is_empty() && part != "." && part != "..", "{text:?}");
            assert!(!part.eq_ignore_ascii_case(".git"), "{text:?}");
            assert!(!part.chars().any(|c| c.is_control()), "{text:?}");
        }
    }
    let _ = entry_problem(bytes);
    if let Some((at, target)) = text.split_once('\n') {
        if symlink_contained(at, target.as_bytes()) {
            assert!(!target.starts_with('/'), "{target:?}");
        }
    }

    let chunks: Vec<&[u8]> = bytes.split(|b| *b == 0xff).take(64).collect();
    let mut commits = BTreeMap::new();
    let mut last_message = String::new();
    for (i, chunk) in chunks.iter().enumerate() {
        let (sel, rest) = chunk.split_first().map_or((0u8, &[][..]), |(a, r)| (*a, r));
        let mut parts = rest.split(|b| *b == 0xfe);
        let message = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
        let mut files = BTreeMap::new();
        for name in RULE_FILES {
            if let Some(p) = parts.next() {
                if !p.is_empty() {
                    files.insert(name.to_string(), p.to_vec());
                }
            }
        }
        let parents = match sel % 4 {
            1 if i > 0 => vec![oid(i - 1)],
            2 if i > 1 => vec![oid(i - 2), oid(i - 1)],
            3 => vec![oid(i + usize::from(sel >> 2))],
            _ => vec![],
        };
        last_message = message.clone();
        commits.insert(
            oid(i),
            RecordCommit {
                id: oid(i),
                parents,
                message,
                author: "A <a@x>".into(),
                tree: oid(1000 + usize::from(sel >> 4)),
                files,
            },
        );
    }
    let t = Trailers::parse(&last_message);
    let stage = t.stage.unwrap_or_else(|| StageName::new("train").unwrap());
    let run_id = t
        .run
        .unwrap_or_else(|| RunId::new("20260308T142233Z-0001").unwrap());
    let g = RecordGraph {
        stage: stage.clone(),
        run_id: run_id.clone(),
        tip: oid(chunks.len() - 1),
        commits,
    };
    if check_graph(&g).is_ok() {
        for c in g.commits.values() {
            let t = Trailers::parse(&c.message);
            // only commits reachable from the tip are judged; those must name the run
            if c.id == g.tip {
                assert_eq!(
                    (t.stage.as_ref(), t.run.as_ref()),
                    (Some(&stage), Some(&run_id))
                );
            }
        }
    }
});
