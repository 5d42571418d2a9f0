//! Events as they are written: the commit message on a run ref, and the JSON line in
//! the `refs/notes/workbench` note on the code commit.
//!
//! Note lines are canonical JSON (keys sorted, no spaces) so that git's
//! `cat_sort_uniq` notes merge is an exact set union.

use super::state::RunEvent;
use serde::{Deserialize, Serialize};

/// One line of the notes index. Fields are declared in sorted order: serde writes
/// them in declaration order, which keeps the line canonical.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteEvent {
    pub at: String,
    pub event: RunEvent,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The run record commit this event created.
    pub record: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub run_id: String,
    pub schema: String,
    pub stage: String,
}

pub const NOTE_EVENT_SCHEMA: &str = "workbench/event/v1";

impl NoteEvent {
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("note event serializes")
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
    message
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("Workbench-Event: "))
        .and_then(|e| RunEvent::parse(e.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_lines_are_canonical() {
        let e = NoteEvent {
            at: "2026-03-08T14:22:33.120Z".into(),
            event: RunEvent::Executed,
            exit_code: Some(0),
            record: "abc".into(),
            ref_name: "refs/workbench/runs/a/x".into(),
            run_id: "x".into(),
            schema: NOTE_EVENT_SCHEMA.into(),
            stage: "a".into(),
        };
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
        let m = record_message(RunEvent::Failed, "train", "R1", "exit code 3");
        assert!(m.starts_with("workbench: failed train R1\n"));
        assert_eq!(event_of_message(&m), Some(RunEvent::Failed));
        assert_eq!(event_of_message("hello"), None);
    }
}
