//! The `.gitattributes` files another clone's commits bring along, through
//! `model::attributes`: they decide which files the narrative check protects.
//! Input: files separated by 0x1E (each its directory, a newline, its bytes), then
//! 0x1F, then paths one a line.
//! Asserts: no panic; an attribute no file spells out is unspecified; `state` and
//! `state_bytes` agree; the order the files come in does not matter; a later line in
//! the path's own directory that names the path exactly (anchored, every byte
//! escaped) decides it: `attr` sets it, `-attr` unsets it, `!attr` leaves it
//! unspecified, whatever came before.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::attributes::{AttrState, Attributes, MAX_FILE_SIZE, MAX_LINE_LENGTH};

const WN: &str = "workbench-narrative";
const ABSENT: &str = "zz-absent";

/// `/<basename>` as a C-quoted pattern that matches exactly that basename: glob
/// specials escaped for wildmatch, then every byte but `[A-Za-z0-9._-]` octal.
fn exact_pattern(basename: &[u8]) -> Vec<u8> {
    let mut glob = vec![b'/'];
    for &c in basename {
        if matches!(c, b'*' | b'?' | b'[' | b'\\') {
            glob.push(b'\\');
        }
        glob.push(c);
    }
    let mut quoted = vec![b'"'];
    for c in glob {
        if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'/') {
            quoted.push(c);
        } else {
            quoted.extend_from_slice(format!("\\{c:03o}").as_bytes());
        }
    }
    quoted.push(b'"');
    quoted
}

fn trim(mut dir: &[u8]) -> &[u8] {
    while let Some(d) = dir.strip_suffix(b"/") {
        dir = d;
    }
    dir
}

fn normal(path: &[u8]) -> bool {
    !path.contains(&0)
        && path
            .split(|&c| c == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

fuzz_target!(|bytes: &[u8]| {
    let (files_part, paths_part) = match bytes.iter().position(|&c| c == 0x1f) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &b"a.md\nd/a.md"[..]),
    };
    let files: Vec<(&[u8], &[u8])> = files_part
        .split(|&c| c == 0x1e)
        .map(|f| match f.iter().position(|&c| c == b'\n') {
            Some(i) => (&f[..i], &f[i + 1..]),
            None => (&b""[..], f),
        })
        .collect();
    let paths: Vec<&[u8]> = paths_part.split(|&c| c == b'\n').take(16).collect();
    let attrs = Attributes::parse_bytes(&files);
    let mentions_absent = bytes.windows(ABSENT.len()).any(|w| w == ABSENT.as_bytes());

    // Distinct directories in reverse: the same answers (a directory given twice is
    // the last one given, so only distinct ones may be reordered; `d/` is `d`).
    let mut distinct: Vec<(&[u8], &[u8])> = Vec::new();
    for f in files.iter().rev() {
        if !distinct.iter().any(|d| trim(d.0) == trim(f.0)) {
            distinct.push(*f);
        }
    }
    let reordered = Attributes::parse_bytes(&distinct);

    for path in &paths {
        let state = attrs.state_bytes(path, WN);
        for attr in [WN, "diff", "binary", ABSENT] {
            assert_eq!(
                attrs.state_bytes(path, attr),
                reordered.state_bytes(path, attr)
            );
        }
        if let Ok(p) = std::str::from_utf8(path) {
            assert_eq!(attrs.state(p, WN), state);
        }
        if !mentions_absent {
            assert_eq!(attrs.state_bytes(path, ABSENT), AttrState::Unspecified);
        }
        if !normal(path) {
            continue;
        }
        let (dir, basename) = match path.iter().rposition(|&c| c == b'/') {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&b""[..], &path[..]),
        };
        let old = distinct
            .iter()
            .find(|f| trim(f.0) == dir)
            .map(|f| f.1)
            .unwrap_or(b"");
        let old = match old.iter().position(|&c| c == 0) {
            Some(i) => &old[..i],
            None => old,
        };
        for (token, want) in [
            (WN.to_string(), AttrState::Set),
            (format!("-{WN}"), AttrState::Unset),
            (format!("!{WN}"), AttrState::Unspecified),
        ] {
            let mut line = exact_pattern(basename);
            line.push(b' ');
            line.extend_from_slice(token.as_bytes());
            let mut text = old.to_vec();
            text.push(b'\n');
            text.extend_from_slice(&line);
            text.push(b'\n');
            if line.len() >= MAX_LINE_LENGTH || text.len() >= MAX_FILE_SIZE {
                continue;
            }
            let mut more = files.clone();
            more.push((dir, &text));
            let decided = Attributes::parse_bytes(&more).state_bytes(path, WN);
            assert_eq!(
                decided,
                want,
                "{:?} {:?}",
                path.escape_ascii().to_string(),
                line.escape_ascii().to_string()
            );
        }
    }
});
