//! The bytes of a note blob in the notes index as lines: how every reader splits a
//! note (local or fetched from another clone), how a line is appended, and which of a
//! remote note's lines a merge takes. The store reads and writes the blobs; the
//! rules are here, pure, so they are unit-tested and fuzzed (`fuzz/`) as functions.

/// The lines of a note blob as every reader sees them: bytes that are not UTF-8
/// replaced, trailing whitespace (a `\r` of a CRLF note included) dropped, blank lines
/// skipped. Each line comes with its 1-based line number in the blob.
pub fn numbered_lines(blob: &[u8]) -> Vec<(usize, String)> {
    String::from_utf8_lossy(blob)
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end()))
        .filter(|(_, l)| !l.is_empty())
        .map(|(n, l)| (n, l.to_string()))
        .collect()
}

/// The lines of a note blob (`numbered_lines` without the numbers).
pub fn lines(blob: &[u8]) -> Vec<String> {
    numbered_lines(blob).into_iter().map(|(_, l)| l).collect()
}

/// A note blob's content from lines: one per line, each ending in a newline.
pub fn content(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// The blob with `line` appended, or `None` when a reader already sees that line.
/// The rest of the blob is kept byte for byte.
pub fn append_line(blob: &[u8], line: &str) -> Option<Vec<u8>> {
    if numbered_lines(blob).iter().any(|(_, l)| l == line) {
        return None;
    }
    let mut out = blob.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
    Some(out)
}

/// The blob with each of `lines` appended that no reader sees in it yet (nor earlier
/// in `lines`), and how many were appended. The rest of the blob is kept byte for byte.
pub fn append_lines(blob: &[u8], lines: &[String]) -> (Vec<u8>, usize) {
    let text = String::from_utf8_lossy(blob);
    let mut seen: std::collections::HashSet<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = blob.to_vec();
    let mut added = 0;
    for line in lines {
        if line.is_empty() || !seen.insert(line.as_str()) {
            continue;
        }
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
        added += 1;
    }
    (out, added)
}

/// The lines of a remote's note that a notes merge takes (JSON objects), and those it
/// skips with their line numbers.
pub fn remote_lines(blob: &[u8]) -> (Vec<String>, Vec<(usize, String)>) {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for (n, line) in numbered_lines(blob) {
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&line) {
            Ok(_) => good.push(line),
            Err(_) => bad.push((n, line)),
        }
    }
    (good, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_lines_skips_what_a_reader_already_sees() {
        let (out, n) = append_lines(
            b"{\"a\":1}\n{\"b\":2}",
            &["{\"b\":2}".into(), "{\"c\":3}".into(), "{\"c\":3}".into()],
        );
        assert_eq!(n, 1);
        assert_eq!(out, b"{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
        assert_eq!(append_lines(b"", &[]), (Vec::new(), 0));
    }

    #[test]
    fn lines_skip_blanks_and_trailing_space_and_keep_numbers() {
        let blob = b"{\"a\":1}\r\n\n  \n{\"b\":2}  \nlast";
        assert_eq!(
            numbered_lines(blob),
            [
                (1, "{\"a\":1}".to_string()),
                (4, "{\"b\":2}".to_string()),
                (5, "last".to_string())
            ]
        );
        assert_eq!(lines(b"\xff\n"), ["\u{fffd}"], "not UTF-8: replaced");
        assert!(lines(b"").is_empty());
        assert_eq!(content(&["a".into(), "b".into()]), "a\nb\n");
        let l = lines(blob);
        assert_eq!(lines(content(&l).as_bytes()), l);
    }

    #[test]
    fn appends_are_idempotent_as_readers_see_lines() {
        let once = append_line(b"", "{\"a\":1}").unwrap();
        assert_eq!(once, b"{\"a\":1}\n");
        assert_eq!(append_line(&once, "{\"a\":1}"), None);
        assert_eq!(append_line(b"x", "y").unwrap(), b"x\ny\n");
        // A CRLF note (written by another tool) already has the line readers see.
        assert_eq!(append_line(b"{\"a\":1}\r\n", "{\"a\":1}"), None);
    }

    #[test]
    fn a_merge_takes_json_objects_and_names_the_rest() {
        let (good, bad) = remote_lines(b"{\"a\":1}\n\n{not json\n[1]\n{\"b\":2}\n");
        assert_eq!(good, ["{\"a\":1}", "{\"b\":2}"]);
        assert_eq!(bad, [(3, "{not json".to_string()), (4, "[1]".to_string())]);
    }
}
