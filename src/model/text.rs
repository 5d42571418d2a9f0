//! Text from records made safe to show: the one escaping of control characters and of
//! the Unicode controls that reorder text. Every string a record holds (metric names
//! and values, params, commands, paths, notes, interpretations, issues) may come from
//! someone else's repository through a fetch, and a terminal obeys the escape
//! sequences it is sent; `cli::output::Out` passes all human output through here, and
//! the card (`card.md`) is escaped the same way before it is written.
//!
//! Escaped are the C0 controls (U+0000–U+001F, newline and tab kept where text may
//! have several lines), DEL, the C1 controls (U+0080–U+009F, which some terminals
//! read as escape sequences), the bidirectional overrides, embeddings and isolates
//! (U+202A–U+202E, U+2066–U+2069) and marks (U+061C, U+200E, U+200F), and the line
//! and paragraph separators (U+2028, U+2029), which can make text read differently
//! from what it is. They show as `\x1b`, `\x7f`, `\u{85}`, `\u{202e}`; a line break
//! in a one-line field as `\n`, a carriage return as `\r`. Backslashes are left as
//! they are, so escaping twice changes nothing; JSON output is never escaped here
//! (serde writes it exactly).

use std::borrow::Cow;

/// Whether newlines (and tabs) are text or are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// Multi-line text: `\n` and `\t` are kept.
    Keep,
    /// A one-line field (a name, a table key): `\n` and `\t` are escaped too.
    Escape,
}

fn needs_escape(c: char, lines: Lines) -> bool {
    match c {
        '\n' | '\t' => lines == Lines::Escape,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// `s` with every character that could steer a terminal or disguise text shown as a
/// visible escape (module docs). Borrows when nothing needed escaping.
pub fn escape_controls(s: &str, lines: Lines) -> Cow<'_, str> {
    // The common case, printable ASCII (with line breaks and tabs when kept), checked a
    // byte at a time: a 100,000-row table goes through here whole.
    let keep = lines == Lines::Keep;
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) || (keep && (b == b'\n' || b == b'\t')))
    {
        return Cow::Borrowed(s);
    }
    if !s.chars().any(|c| needs_escape(c, lines)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !needs_escape(c, lines) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// A file name's bytes as text: valid UTF-8 kept (its controls escaped as above),
/// every byte that is not UTF-8 as `\xNN`. For names that cannot be recorded.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape_controls(chunk.valid(), Lines::Escape));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_ascii_is_borrowed_and_every_ascii_control_escaped() {
        for b in 0u8..0x80 {
            let s = format!("a{}b", b as char);
            for lines in [Lines::Keep, Lines::Escape] {
                let kept = lines == Lines::Keep && (b == b'\n' || b == b'\t');
                let plain = (0x20..0x7f).contains(&b) || kept;
                let e = escape_controls(&s, lines);
                assert_eq!(matches!(e, Cow::Borrowed(_)), plain, "{b:#x} {lines:?}");
                assert_eq!(e == s, plain, "{b:#x} {lines:?}: {e}");
            }
        }
    }

    #[test]
    fn escapes_what_steers_a_terminal() {
        let table: [(&str, Lines, &str); 12] = [
            ("plain text", Lines::Keep, "plain text"),
            ("précision ✓", Lines::Keep, "précision ✓"),
            ("\x1b[31mred", Lines::Keep, "\\x1b[31mred"),
            ("a\nb\tc", Lines::Keep, "a\nb\tc"),
            ("a\nb\tc", Lines::Escape, "a\\nb\\tc"),
            ("over\rwrite", Lines::Keep, "over\\rwrite"),
            ("del\x7f", Lines::Keep, "del\\x7f"),
            ("c1\u{9b}31m", Lines::Keep, "c1\\u{9b}31m"),
            ("txt.\u{202e}fdp", Lines::Keep, "txt.\\u{202e}fdp"),
            ("\u{2066}iso\u{2069}", Lines::Keep, "\\u{2066}iso\\u{2069}"),
            ("nul\0", Lines::Keep, "nul\\x00"),
            ("a\\x1b", Lines::Keep, "a\\x1b"),
        ];
        for (input, lines, want) in table {
            assert_eq!(escape_controls(input, lines), want, "{input:?}");
            // Escaping twice is escaping once.
            assert_eq!(escape_controls(want, lines), want, "{want:?}");
        }
        assert!(matches!(
            escape_controls("clean", Lines::Escape),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn bytes_that_are_not_utf8() {
        assert_eq!(escape_bytes(b"caf\xe9.csv"), "caf\\xe9.csv");
        assert_eq!(escape_bytes(b"ok.csv"), "ok.csv");
        assert_eq!(escape_bytes(b"\xff\xfe\x1b"), "\\xff\\xfe\\x1b");
        assert_eq!(escape_bytes("é\n".as_bytes()), "é\\n");
    }
}
