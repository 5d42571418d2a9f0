//! Printing: JSON or human text, tables that respect `NO_COLOR` and non-terminals,
//! `error:`/`hint:` lines, and a broken pipe that ends the process quietly with 0.

use crate::error::Error;
use comfy_table::{presets, ContentArrangement, Table};
use std::io::{IsTerminal, Write};

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

    /// Writes text to stdout; a closed pipe ends the process with exit code 0.
    pub fn print(&self, text: &str) {
        let mut so = std::io::stdout().lock();
        if let Err(e) = so.write_all(text.as_bytes()).and_then(|_| so.flush()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }

    pub fn line(&self, text: &str) {
        self.print(&format!("{text}\n"));
    }

    /// Progress and notes for humans: stderr, never in `--json` stdout.
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    pub fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr(), "warning: {text}");
    }

    pub fn json_value(&self, v: &serde_json::Value) {
        let mut s = serde_json::to_string_pretty(v).expect("json serializes");
        s.push('\n');
        self.print(&s);
    }

    pub fn error(&self, e: &Error) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "error: {e}");
        let mut source = std::error::Error::source(e);
        // Git and I/O errors already include their cause in the message.
        if matches!(e, Error::Git { .. } | Error::Io { .. }) {
            source = None;
        }
        while let Some(s) = source {
            let _ = writeln!(err, "caused by: {s}");
            source = s.source();
        }
        if let Some(h) = e.hint_text() {
            let _ = writeln!(err, "hint: {h}");
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

    /// The terminal's width in columns, when stdout is a terminal that reports one.
    pub fn terminal_width(&self) -> Option<usize> {
        if !self.tty {
            return None;
        }
        let t = Table::new();
        t.width().map(usize::from).filter(|w| *w >= 20)
    }

    /// Colours a state name when colour is on.
    pub fn state_cell(&self, state: &str) -> comfy_table::Cell {
        let cell = comfy_table::Cell::new(state);
        if !self.color {
            return cell;
        }
        use comfy_table::Color;
        match state {
            "STALE" => cell.fg(Color::Yellow),
            "EXECUTED" | "REVIEWED" => cell.fg(Color::Cyan),
            "APPROVED" => cell.fg(Color::Green),
            "REJECTED" | "FAILED" => cell.fg(Color::Red),
            _ => cell,
        }
    }
}
