//! Events as they are written: the commit message on a run ref, and the JSON line in
//! the `refs/notes/workbench` note on the code commit.
//!
//! Note lines are canonical JSON (keys sorted, no spaces) so that git's
//! `cat_sort_uniq` notes merge is an exact set union.

use super::ids::{ObjectId, RunId, StageName};
use super::state::RunEvent;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One line of the notes index. Fields are declared in sorted order: serde writes
/// them in declaration order, which keeps the line canonical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteEvent {
    pub at: Timestamp,
    pub event: RunEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The run record commit this event created.
    pub record: ObjectId,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub run_id: RunId,
    pub schema: String,
    pub stage: StageName,
}

pub const NOTE_EVENT_SCHEMA: &str = "workbench/event/v1";

impl NoteEvent {
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("note event serializes")
    }

    /// Reads one index line, refusing another schema or malformed fields.
    pub fn parse(line: &str) -> Result<NoteEvent, super::error::Error> {
        let e: NoteEvent = serde_json::from_str(line).map_err(|e| super::error::Error::Record {
            file: "notes index line",
            why: e.to_string(),
        })?;
        if e.schema != NOTE_EVENT_SCHEMA {
            return Err(super::error::Error::Record {
                file: "notes index line",
                why: format!("unsupported schema '{}'", e.schema),
            });
        }
        Ok(e)
    }
}

/// The trailers of a run record commit: what it recorded, of which run. Parsed here
/// only; every reader of record commits goes through `Trailers::parse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailers {
    pub event: Option<RunEvent>,
    pub stage: Option<StageName>,
    pub run: Option<RunId>,
}

impl Trailers {
    /// The last `Workbench-Event`, `Workbench-Stage` and `Workbench-Run` lines of a
    /// commit message; a trailer whose value does not parse is absent.
    pub fn parse(message: &str) -> Trailers {
        let last = |key: &str| {
            message
                .lines()
                .rev()
                .find_map(|l| l.strip_prefix(key))
                .map(str::trim)
        };
        Trailers {
            event: last("Workbench-Event: ").and_then(RunEvent::parse),
            stage: last("Workbench-Stage: ").and_then(|s| StageName::new(s).ok()),
            run: last("Workbench-Run: ").and_then(|s| RunId::new(s).ok()),
        }
    }
}

/// The commit message of a run record commit.
pub fn record_message(event: RunEvent, stage: &str, run_id: &str, summary: &str) -> String {
    let mut m = format!("workbench: {event} {stage} {run_id}\n");
    if !summary.is_empty() {
        m.push('\n');
        m.push_str(summary.trim_end());
        m.push('\n');
    }
    m.push_str(&format!(
        "\nWorkbench-Event: {event}\nWorkbench-Stage: {stage}\nWorkbench-Run: {run_id}\n"
    ));
    m
}

/// Reads the `Workbench-Event` trailer of a record commit message.
pub fn event_of_message(message: &str) -> Option<RunEvent> {
    Trailers::parse(message).event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_lines_are_canonical() {
        let e = NoteEvent {
            at: Timestamp::parse("2026-03-08T14:22:33.120Z").unwrap(),
            event: RunEvent::Executed,
            exit_code: Some(0),
            record: ObjectId::parse("4b825dc642cb6eb9a060e54bf8d69288fbee4904").unwrap(),
            ref_name: "refs/workbench/runs/a/20260308T142233Z-1e2a".into(),
            run_id: RunId::new("20260308T142233Z-1e2a").unwrap(),
            schema: NOTE_EVENT_SCHEMA.into(),
            stage: StageName::new("a").unwrap(),
        };
        assert_eq!(NoteEvent::parse(&e.to_line()).unwrap(), e);
        let other = e.to_line().replace("event/v1", "event/v2");
        assert!(NoteEvent::parse(&other).is_err());
        let line = e.to_line();
        let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&line).unwrap();
        let keys: Vec<&String> = v.keys().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            keys, sorted,
            "serde_json maps are sorted; the struct must be too"
        );
        // The raw line must list keys in sorted order as well.
        let positions: Vec<usize> = [
            "\"at\"",
            "\"event\"",
            "\"exit_code\"",
            "\"record\"",
            "\"ref\"",
            "\"run_id\"",
            "\"schema\"",
            "\"stage\"",
        ]
        .iter()
        .map(|k| line.find(k).unwrap())
        .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn messages_carry_the_event() {
        let m = record_message(
            RunEvent::Failed,
            "train",
            "20260308T142233Z-1e2a",
            "exit code 3",
        );
        assert!(m.starts_with("workbench: failed train 20260308T142233Z-1e2a\n"));
        assert_eq!(event_of_message(&m), Some(RunEvent::Failed));
        let t = Trailers::parse(&m);
        assert_eq!(t.stage.unwrap(), "train");
        assert_eq!(t.run.unwrap(), "20260308T142233Z-1e2a");
        assert_eq!(event_of_message("hello"), None);
        // a forged trailer that is not a run id is no trailer at all
        let forged = "x\n\nWorkbench-Event: approved\nWorkbench-Run: ../../x\n";
        assert_eq!(Trailers::parse(forged).run, None);
        assert_eq!(Trailers::parse(forged).event, Some(RunEvent::Approved));
    }
}
