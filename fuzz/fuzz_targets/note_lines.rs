//! A note blob of the notes index as a fetch brings it: split into lines
//! (`model::note_blob`), each line read as an event (`NoteEvent::parse`), the lines a
//! merge takes, and an append.
//! Asserts: no panic; splitting is idempotent (the blob rewritten from its lines has
//! the same lines); a merge takes exactly the lines that are JSON objects and names the
//! rest; an event that parses re-serializes to a canonical line that reads back the
//! same and re-serializes to the same bytes; appending a line makes readers see it
//! once more, and appending it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::event::NoteEvent;
use workbench::model::note_blob::{append_line, content, lines, numbered_lines, remote_lines};

const LINE: &str = r#"{"at":"2026-03-08T14:22:33.120Z","event":"executed","exit_code":0,"record":"4b825dc642cb6eb9a060e54bf8d69288fbee4904","ref":"refs/workbench/runs/a/20260308T142233Z-1e2a","run_id":"20260308T142233Z-1e2a","schema":"workbench/event/v1","stage":"a"}"#;

fuzz_target!(|blob: &[u8]| {
    let ls = lines(blob);
    assert!(ls.iter().all(|l| !l.is_empty() && !l.contains('\n')));
    assert_eq!(
        lines(content(&ls).as_bytes()),
        ls,
        "splitting is not idempotent"
    );

    let numbered = numbered_lines(blob);
    assert!(numbered.windows(2).all(|w| w[0].0 < w[1].0));
    let (good, bad) = remote_lines(blob);
    assert_eq!(good.len() + bad.len(), ls.len());
    for l in &good {
        assert!(serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(l).is_ok());
    }
    for (n, l) in &bad {
        assert!(numbered.contains(&(*n, l.clone())));
    }

    let mut canonical = Vec::new();
    for l in &ls {
        if let Ok(e) = NoteEvent::parse(l) {
            let line = e.to_line();
            let again = NoteEvent::parse(&line)
                .unwrap_or_else(|err| panic!("a canonical line does not parse: {err}\n{line}"));
            assert_eq!(again, e, "a canonical line reads back different");
            assert_eq!(again.to_line(), line, "a canonical line is not stable");
            assert!(!line.contains('\n'));
            canonical.push(line);
        }
    }

    for line in canonical.iter().map(String::as_str).chain([LINE]) {
        let had = ls.iter().filter(|l| *l == line).count();
        match append_line(blob, line) {
            None => assert!(
                had > 0,
                "an append was refused for a line readers do not see"
            ),
            Some(after) => {
                assert_eq!(had, 0, "an append duplicated a line readers already see");
                assert!(
                    after.starts_with(blob),
                    "an append changed the note's bytes"
                );
                let mut want = ls.clone();
                want.push(line.to_string());
                assert_eq!(lines(&after), want, "readers do not see the appended line");
                assert_eq!(
                    append_line(&after, line),
                    None,
                    "a second append changed the note"
                );
            }
        }
    }
});
