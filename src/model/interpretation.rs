//! What an interpretation may not say: it becomes the text of a narrative block, so a
//! line the narrative parser reads as (or takes for) a marker or a provenance line
//! would make `narrative new` write a block that fails its own check, or hide an
//! unchecked end of the block. `card` refuses such a draft and `approve` such an
//! approved text, before anything is recorded.
//!
//! Refused, line by line (lines split at every line break an editor may honour, so
//! the rule is never looser than a parser's):
//!
//! * a marker of either syntax (`<!-- workbench:... -->`, `# workbench:...`), or a line
//!   that is one once a renderer prefixes it with `# ` (`workbench:end`);
//! * a near miss the checks refuse: `workbench:begin`, `workbench:end` or
//!   `workbench:slot` anywhere in the line, whatever the case, the spacing, or the
//!   invisible characters (zero-width spaces, joiners, soft hyphens, BOMs) inside it;
//! * a provenance line (`_Approved by NAME on DATE (run ID, sha256:…)._`) or one that
//!   reads like it: workbench writes that line under every block, and a second one
//!   inside the text would pass for it.

use std::fmt;

/// Characters that render as nothing: a marker spelled with one reads as a marker to a
/// human and as prose to a parser. The same set the narrative checks strip.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{E0000}'..='\u{E0FFF}')
}

/// What kind of line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// A narrative marker, or a line the checks take for one.
    Marker,
    /// A provenance line, or one that reads like it.
    Provenance,
}

/// The first line an interpretation may not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForbiddenLine {
    /// 1-based.
    pub line: usize,
    /// The line, with its invisible characters shown as `\u{...}`.
    pub shown: String,
    pub kind: Forbidden,
}

impl fmt::Display for ForbiddenLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            Forbidden::Marker => "a workbench marker line (or one the narrative checks take for one)",
            Forbidden::Provenance => "a provenance line ('_Approved by … (run …, sha256:…)._'), which workbench alone writes under a block",
        };
        write!(f, "line {} is {what}: '{}'", self.line, self.shown)
    }
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// The line folded as the checks compare it: invisible characters and whitespace
/// dropped, lower case.
fn folded(line: &str) -> String {
    line.chars()
        .filter(|c| !is_invisible(*c) && !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

fn is_marker(line: &str) -> bool {
    let f = folded(line);
    if ["workbench:begin", "workbench:end", "workbench:slot"]
        .iter()
        .any(|m| f.contains(m))
    {
        return true;
    }
    // `<!-- workbench:x -->`, `# workbench:x`, and a bare `workbench:x`, which the `#`
    // syntax renders as `# workbench:x`.
    let mut rest = f.as_str();
    loop {
        let next = rest
            .strip_prefix("<!--")
            .or_else(|| rest.strip_prefix('#'))
            .or_else(|| rest.strip_prefix("//"));
        match next {
            Some(r) => rest = r,
            None => break,
        }
    }
    rest.starts_with("workbench:")
}

fn is_provenance(line: &str) -> bool {
    let f: String = line
        .chars()
        .filter(|c| !is_invisible(*c))
        .collect::<String>()
        .to_lowercase();
    if f.contains("approved by") && f.contains("sha256:") {
        return true;
    }
    let start = f.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '#' | '>' | '*'));
    start.starts_with("_approved by")
}

fn shown(line: &str) -> String {
    line.chars()
        .map(|c| {
            if is_invisible(c) || c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The lines of `text`, split at every line break (`\r\n` counting as one).
fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if is_line_break(c) {
            out.push(&text[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some((j, '\n')) = it.peek().copied() {
                    it.next();
                    end = j + 1;
                }
            }
            start = end;
        }
    }
    out.push(&text[start..]);
    out
}

/// The first line of `text` an interpretation may not hold (module docs), if any.
pub fn forbidden_line(text: &str) -> Option<ForbiddenLine> {
    lines(text).into_iter().enumerate().find_map(|(i, line)| {
        let kind = if is_marker(line) {
            Forbidden::Marker
        } else if is_provenance(line) {
            Forbidden::Provenance
        } else {
            return None;
        };
        Some(ForbiddenLine {
            line: i + 1,
            shown: shown(line),
            kind,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<(usize, Forbidden)> {
        forbidden_line(text).map(|f| (f.line, f.kind))
    }

    #[test]
    fn prose_passes() {
        for ok in [
            "Score 0.75 is fine.",
            "The workbench ran twice; see the begin and end of the log.",
            "# Heading\n\n- a list\n- <!-- a comment -->\n",
            "Approved by the committee in principle.",
            "",
        ] {
            assert_eq!(kind(ok), None, "{ok:?}");
        }
    }

    #[test]
    fn markers_and_near_misses_are_refused() {
        let m = Some((2, Forbidden::Marker));
        for bad in [
            "ok\n<!-- workbench:end -->",
            "ok\n  <!-- workbench:begin stage=a run=20260308T142233Z-1e2a -->  ",
            "ok\n# workbench:end",
            "ok\nworkbench:end",
            "ok\n<!-- workbench:note -->",
            "ok\n#workbench:x",
            "ok\nworkbench: a tool (in a `#` file, `# workbench: a tool` is a marker)",
            "ok\n<!-- WORKBENCH:END -->",
            "ok\n<!-- workbench : end -->",
            "ok\nsee workbench:slot here",
            "ok\n<!-- work\u{200B}bench:end -->",
            "ok\n<!-- workbench\u{2060}:end -->",
            "ok\n\u{FEFF}<!-- workbench:end -->",
            "ok\n<!-- work\u{00AD}bench:begin -->",
            "ok\r<!-- workbench:end -->",
            "ok\u{2028}<!-- workbench:end -->",
            "ok\r\n<!-- workbench:end -->\r\n",
        ] {
            assert_eq!(kind(bad), m, "{bad:?}");
        }
        let f = forbidden_line("<!-- work\u{200B}bench:end -->").unwrap();
        assert_eq!(f.shown, "<!-- work\\u{200b}bench:end -->");
        assert!(f
            .to_string()
            .starts_with("line 1 is a workbench marker line"));
    }

    #[test]
    fn provenance_lines_are_refused() {
        let p = Some((1, Forbidden::Provenance));
        for bad in [
            "_Approved by Ada <ada@example.com> on 2026-03-08 (run 20260308T142233Z-1e2a, sha256:0123456789ab)._",
            "# _Approved by Ada on 2026-03-08 (run x)._",
            "approved by someone, sha256:abc",
            "_approved by_ me",
            "_Appro\u{200B}ved by Ada (run x, sha256:1)._",
        ] {
            assert_eq!(kind(bad), p, "{bad:?}");
        }
    }
}
