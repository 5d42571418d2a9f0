//! The one writer every command prints through: JSON or human text on stdout, notes,
//! warnings and `error:`/`hint:` lines on stderr, tables that respect `NO_COLOR` and
//! non-terminals. A closed stdout is `Error::BrokenPipe`, which `main` ends quietly
//! with exit 0.
//!
//! Human output is escaped here, in one place (`model::text::escape_controls`): every
//! line on stdout and stderr that is not JSON or a machine format (`--format csv`,
//! textconv, completion scripts: `print_exact`) can carry text from records fetched
//! from anyone, and a terminal obeys the escape sequences it is sent. Tables are
//! printed with `print_table`, which keeps the colours this module adds and nothing
//! else.

use crate::error::{Error, ErrorKind, Result};
use crate::model::text::{escape_controls, Lines};
use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;
use std::io::{IsTerminal, Write};

/// What record bytes become on stdout: the bytes themselves for a pipe or a file; for
/// a terminal, which obeys the escape sequences it is sent, control characters shown
/// as escapes (line breaks and tabs kept) and bytes that are not UTF-8 as `\xNN`.
pub fn for_stdout(bytes: &[u8], tty: bool) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    if !tty {
        return Cow::Borrowed(bytes);
    }
    let mut out = String::new();
    let mut changed = false;
    for chunk in bytes.utf8_chunks() {
        let shown = escape_controls(chunk.valid(), Lines::Keep);
        changed |= matches!(shown, Cow::Owned(_)) || !chunk.invalid().is_empty();
        out.push_str(&shown);
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if changed {
        Cow::Owned(out.into_bytes())
    } else {
        Cow::Borrowed(bytes)
    }
}

pub struct Out {
    pub json: bool,
    pub color: bool,
    tty: bool,
}

impl Out {
    pub fn new(json: bool) -> Out {
        let tty = std::io::stdout().is_terminal();
        let color = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Out { json, color, tty }
    }

    /// Writes human text to stdout, its control characters escaped.
    pub fn print(&self, text: &str) -> Result<()> {
        self.print_exact(&escape_controls(text, Lines::Keep))
    }

    /// Writes text to stdout exactly: JSON, CSV, textconv output and completion
    /// scripts, which programs read back.
    pub fn print_exact(&self, text: &str) -> Result<()> {
        self.write_stdout(text.as_bytes())
    }

    /// Writes bytes from a record that programs read back (a run's log): exactly to a
    /// pipe or a file; on a terminal decoded, with control characters escaped, as any
    /// record text is (`for_stdout`).
    pub fn print_record_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.write_stdout(&for_stdout(bytes, self.tty))
    }

    fn write_stdout(&self, bytes: &[u8]) -> Result<()> {
        let mut so = std::io::stdout().lock();
        so.write_all(bytes)
            .and_then(|_| so.flush())
            .map_err(|e| match e.kind() {
                // Only our own stdout closing ends a command quietly.
                std::io::ErrorKind::BrokenPipe => Error::BrokenPipe,
                _ => Error::io(std::path::Path::new("stdout"))(e),
            })
    }

    pub fn line(&self, text: &str) -> Result<()> {
        self.print(&format!("{text}\n"))
    }

    /// A report as the command's one JSON document, serialized straight to stdout (a
    /// 10,000-run comparison table is tens of MiB of JSON: never held as one string).
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let so = std::io::stdout().lock();
        let mut w = std::io::BufWriter::with_capacity(1 << 16, so);
        let io_error = |e: std::io::Error| match e.kind() {
            // Only our own stdout closing ends a command quietly.
            std::io::ErrorKind::BrokenPipe => Error::BrokenPipe,
            _ => Error::io(std::path::Path::new("stdout"))(e),
        };
        serde_json::to_writer_pretty(&mut w, value).map_err(|e| match e.io_error_kind() {
            Some(kind) => io_error(std::io::Error::from(kind)),
            None => Error::io(std::path::Path::new("stdout"))(std::io::Error::other(e)),
        })?;
        w.write_all(b"\n").and_then(|_| w.flush()).map_err(io_error)
    }

    /// A table and a line break. Its cells are record text, so they are escaped; the
    /// colours of `state_cell` are kept only when the table without them needed no
    /// escaping (then the coloured rendering holds no control character but ours).
    pub fn print_table(&self, t: &Table) -> Result<()> {
        let mut plain = t.clone();
        if let Some(w) = t.width() {
            plain.set_width(w); // the same layout, without colour
        }
        plain.force_no_tty();
        let plain = format!("{plain}\n");
        match escape_controls(&plain, Lines::Keep) {
            std::borrow::Cow::Borrowed(_) if t.should_style() => {
                self.print_exact(&format!("{t}\n"))
            }
            clean => self.print_exact(&clean),
        }
    }

    /// Progress and notes for humans: stderr, never in `--json` stdout.
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{}", escape_controls(text, Lines::Keep));
    }

    pub fn warn(&self, text: &str) {
        let _ = writeln!(
            std::io::stderr(),
            "warning: {}",
            escape_controls(text, Lines::Keep)
        );
    }

    pub fn warnings(&self, all: &[String]) {
        for w in all {
            self.warn(w);
        }
    }

    /// An error: `error:` and `hint:` lines on stderr and, with `--json`, also
    /// `{"error": {"kind", "message", "hint"}}` on stdout. A broken pipe says nothing.
    pub fn error(&self, e: &Error) {
        if e.kind() == ErrorKind::BrokenPipe {
            return;
        }
        let mut err = std::io::stderr().lock();
        // Every message already names its cause (libgit2's, the file system's).
        let message = e.to_string();
        let _ = writeln!(err, "error: {}", escape_controls(&message, Lines::Keep));
        let hint = e.hint_text();
        if let Some(h) = &hint {
            let _ = writeln!(err, "hint: {}", escape_controls(h, Lines::Keep));
        }
        if self.json {
            let _ = self.json(&ErrorReport {
                error: ErrorBody {
                    kind: e.kind(),
                    message,
                    hint,
                },
            });
        }
    }

    /// A table styled for a terminal, or plain ASCII for pipes and files.
    pub fn table(&self, header: &[&str]) -> Table {
        let mut t = Table::new();
        if self.tty {
            t.load_preset(presets::UTF8_FULL_CONDENSED);
            // Wrap to the terminal only when its width is known and usable; a pty
            // that reports 0 columns would squeeze every cell to one letter.
            if t.width().is_some_and(|w| w >= 40) {
                t.set_content_arrangement(ContentArrangement::Dynamic);
            }
        } else {
            t.load_preset(presets::ASCII_MARKDOWN);
            t.force_no_tty();
        }
        if !self.color {
            t.force_no_tty();
        }
        t.set_header(header.iter().copied());
        t
    }

    /// The width a table for eyes fits: `COLUMNS` when set to a number, else the
    /// terminal's width, else 80 — so piped output does not change with the terminal
    /// it was piped from. Never under 20.
    pub fn table_width(&self) -> usize {
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok());
        let tty = || {
            self.tty
                .then(|| Table::new().width().map(usize::from))
                .flatten()
                .filter(|w| *w > 0)
        };
        columns.or_else(tty).unwrap_or(80).max(20)
    }

    /// A state name, coloured when colour is on.
    pub fn state_cell(&self, state: &str) -> comfy_table::Cell {
        let cell = comfy_table::Cell::new(state);
        if !self.color {
            return cell;
        }
        use comfy_table::Color;
        match state.to_ascii_uppercase().as_str() {
            "STALE" => cell.fg(Color::Yellow),
            "EXECUTED" | "REVIEWED" => cell.fg(Color::Cyan),
            "APPROVED" => cell.fg(Color::Green),
            "REJECTED" | "FAILED" | "CONFLICT" => cell.fg(Color::Red),
            _ => cell,
        }
    }
}

/// An error with `--json`: `{"error": {"kind", "message", "hint"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReport {
    pub error: ErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

/// `install-man --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallManReport {
    pub dir: std::path::PathBuf,
    pub pages: Vec<std::path::PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::for_stdout;

    #[test]
    fn record_bytes_are_exact_off_a_terminal_and_escaped_on_one() {
        let hostile = b"ok\n\x1b[2J\xff\x00tab\there\r\nend";
        assert_eq!(&*for_stdout(hostile, false), hostile);
        let shown = String::from_utf8(for_stdout(hostile, true).into_owned()).unwrap();
        assert!(
            !shown.contains('\x1b') && !shown.contains('\0'),
            "{shown:?}"
        );
        assert!(shown.contains("\\x1b[2J"), "{shown:?}");
        assert!(shown.contains("\\xff\\x00tab"), "{shown:?}");
        assert!(
            shown.starts_with("ok\n") && shown.contains("tab\there"),
            "{shown:?}"
        );
        let plain = b"plain\ntext\n";
        assert!(matches!(
            for_stdout(plain, true),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
