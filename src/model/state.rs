//! Run and stage states (the seed's state machine). A run's state is the event of the
//! newest commit on its ref; a stage's state is derived from its latest run and from
//! whether its inputs changed since.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Event recorded by one commit on a run ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum RunEvent {
    Executed,
    Failed,
    Reviewed,
    Carded,
    Approved,
    Rejected,
}

impl RunEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            RunEvent::Executed => "executed",
            RunEvent::Failed => "failed",
            RunEvent::Reviewed => "reviewed",
            RunEvent::Carded => "carded",
            RunEvent::Approved => "approved",
            RunEvent::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<RunEvent> {
        Some(match s {
            "executed" => RunEvent::Executed,
            "failed" => RunEvent::Failed,
            "reviewed" => RunEvent::Reviewed,
            "carded" => RunEvent::Carded,
            "approved" => RunEvent::Approved,
            "rejected" => RunEvent::Rejected,
            _ => return None,
        })
    }
}

impl fmt::Display for RunEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a stage as `status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StageState {
    Stale,
    Executed,
    Reviewed,
    Approved,
    Rejected,
}

impl StageState {
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Stale => "STALE",
            StageState::Executed => "EXECUTED",
            StageState::Reviewed => "REVIEWED",
            StageState::Approved => "APPROVED",
            StageState::Rejected => "REJECTED",
        }
    }

    /// The stage state implied by its latest run's newest event, when nothing
    /// changed since that run. A failed run leaves the stage needing a run.
    pub fn from_latest_event(e: RunEvent) -> StageState {
        match e {
            RunEvent::Executed => StageState::Executed,
            RunEvent::Failed => StageState::Stale,
            RunEvent::Reviewed | RunEvent::Carded => StageState::Reviewed,
            RunEvent::Approved => StageState::Approved,
            RunEvent::Rejected => StageState::Rejected,
        }
    }
}

impl fmt::Display for StageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        for e in [
            RunEvent::Executed,
            RunEvent::Failed,
            RunEvent::Reviewed,
            RunEvent::Carded,
            RunEvent::Approved,
            RunEvent::Rejected,
        ] {
            assert_eq!(RunEvent::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert_eq!(RunEvent::parse("merged"), None);
    }

    #[test]
    fn stage_states() {
        assert_eq!(
            StageState::from_latest_event(RunEvent::Failed),
            StageState::Stale
        );
        assert_eq!(
            StageState::from_latest_event(RunEvent::Executed),
            StageState::Executed
        );
        assert_eq!(serde_json::to_value(StageState::Stale).unwrap(), "STALE");
        assert_eq!(StageState::Approved.to_string(), "APPROVED");
    }
}
