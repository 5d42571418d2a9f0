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
    /// Two clones made different transitions on the run; `fetch` kept both histories
    /// in a merge commit. A new human decision (approve or reject) resolves it.
    Conflict,
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
            RunEvent::Conflict => "conflict",
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
            "conflict" => RunEvent::Conflict,
            _ => return None,
        })
    }
}

impl fmt::Display for RunEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a stage as `status` reports it. JSON spells it in lower case, like
/// every state; tables show it in capitals (`label`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageState {
    Stale,
    Executed,
    Reviewed,
    Approved,
    Rejected,
    /// The latest run has diverging decisions from two clones.
    Conflict,
}

impl StageState {
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Stale => "stale",
            StageState::Executed => "executed",
            StageState::Reviewed => "reviewed",
            StageState::Approved => "approved",
            StageState::Rejected => "rejected",
            StageState::Conflict => "conflict",
        }
    }

    /// The state as `status` tables show it: `STALE`, `EXECUTED`, ...
    pub fn label(self) -> String {
        self.as_str().to_ascii_uppercase()
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
            RunEvent::Conflict => StageState::Conflict,
        }
    }
}

impl fmt::Display for StageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The state of one run: the event of the newest commit on its ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Executed,
    Failed,
    Reviewed,
    Approved,
    Rejected,
    Conflict,
}

impl RunState {
    pub fn of(e: RunEvent) -> RunState {
        match e {
            RunEvent::Executed => RunState::Executed,
            RunEvent::Failed => RunState::Failed,
            RunEvent::Reviewed | RunEvent::Carded => RunState::Reviewed,
            RunEvent::Approved => RunState::Approved,
            RunEvent::Rejected => RunState::Rejected,
            RunEvent::Conflict => RunState::Conflict,
        }
    }

    pub const ALL: [RunState; 6] = [
        RunState::Executed,
        RunState::Failed,
        RunState::Reviewed,
        RunState::Approved,
        RunState::Rejected,
        RunState::Conflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Executed => "executed",
            RunState::Failed => "failed",
            RunState::Reviewed => "reviewed",
            RunState::Approved => "approved",
            RunState::Rejected => "rejected",
            RunState::Conflict => "conflict",
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a human or agent asks to do with a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Review,
    Card,
    Approve,
    Reject,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Review,
        Action::Card,
        Action::Approve,
        Action::Reject,
    ];

    pub fn verb(self) -> &'static str {
        match self {
            Action::Review => "review",
            Action::Card => "card",
            Action::Approve => "approve",
            Action::Reject => "reject",
        }
    }

    /// The event the action records.
    pub fn event(self) -> RunEvent {
        match self {
            Action::Review => RunEvent::Reviewed,
            Action::Card => RunEvent::Carded,
            Action::Approve => RunEvent::Approved,
            Action::Reject => RunEvent::Rejected,
        }
    }
}

/// A refused transition: why, and which actions the state allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub state: RunState,
    pub action: Action,
    pub reason: &'static str,
    pub legal: Vec<Action>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} a run that is {}: {}",
            self.action.verb(),
            self.state,
            self.reason
        )?;
        if self.legal.is_empty() {
            write!(f, "; no further transitions are possible")
        } else {
            let verbs: Vec<&str> = self.legal.iter().map(|a| a.verb()).collect();
            write!(f, "; legal moves: {}", verbs.join(", "))
        }
    }
}

/// The state machine: the state an action leads to, or a refusal naming the legal
/// moves. Approved and rejected runs are final; a new run of the stage starts over.
pub fn transition(state: RunState, action: Action) -> Result<RunState, Refusal> {
    use Action::*;
    use RunState::*;
    let next = match (state, action) {
        (Executed | Failed | Reviewed, Review) => Ok(Reviewed),
        (Reviewed, Card) => Ok(Reviewed),
        (Executed | Failed, Card) => Err("the card summarises the self-review, so review it first"),
        (Reviewed, Approve) => Ok(Approved),
        (Executed | Failed, Approve) => Err("it has no review yet"),
        (Executed | Failed | Reviewed, Reject) => Ok(Rejected),
        (Approved, Approve) => Err("it is already approved; approvals are never overwritten, a newer approved run supersedes it"),
        (Approved, Reject) => Err("it is approved; run the stage again and approve the new run to supersede it"),
        (Approved, Review | Card) => Err("it is approved and its records are final"),
        (Rejected, Approve | Reject | Review | Card) => Err("it was rejected; run the stage again (git workbench run STAGE)"),
        (Conflict, Approve) => Ok(Approved),
        (Conflict, Reject) => Ok(Rejected),
        (Conflict, Review | Card) => Err("two clones decided differently on it; a human resolves that with approve or reject"),
    };
    next.map_err(|reason| Refusal {
        state,
        action,
        reason,
        legal: Action::ALL
            .into_iter()
            .filter(|a| legal(state, *a))
            .collect(),
    })
}

fn legal(state: RunState, action: Action) -> bool {
    use Action::*;
    use RunState::*;
    matches!(
        (state, action),
        (Executed | Failed | Reviewed, Review)
            | (Reviewed, Card | Approve)
            | (Executed | Failed | Reviewed, Reject)
            | (Conflict, Approve | Reject)
    )
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
    fn transition_table_is_exhaustive() {
        use Action::*;
        use RunState::*;
        let table: [(RunState, Action, Option<RunState>); 24] = [
            (Executed, Review, Some(Reviewed)),
            (Executed, Card, None),
            (Executed, Approve, None),
            (Executed, Reject, Some(Rejected)),
            (Failed, Review, Some(Reviewed)),
            (Failed, Card, None),
            (Failed, Approve, None),
            (Failed, Reject, Some(Rejected)),
            (Reviewed, Review, Some(Reviewed)),
            (Reviewed, Card, Some(Reviewed)),
            (Reviewed, Approve, Some(Approved)),
            (Reviewed, Reject, Some(Rejected)),
            (Approved, Review, None),
            (Approved, Card, None),
            (Approved, Approve, None),
            (Approved, Reject, None),
            (Rejected, Review, None),
            (Rejected, Card, None),
            (Rejected, Approve, None),
            (Rejected, Reject, None),
            (Conflict, Review, None),
            (Conflict, Card, None),
            (Conflict, Approve, Some(Approved)),
            (Conflict, Reject, Some(Rejected)),
        ];
        for (state, action, want) in table {
            let got = transition(state, action);
            assert_eq!(got.as_ref().ok().copied(), want, "{state:?} x {action:?}");
            // the legal moves a refusal names are exactly the ones that succeed
            if let Err(r) = got {
                let ok: Vec<Action> = Action::ALL
                    .into_iter()
                    .filter(|a| transition(state, *a).is_ok())
                    .collect();
                assert_eq!(r.legal, ok, "{state:?}");
                assert!(r
                    .to_string()
                    .starts_with(&format!("cannot {} a run that is {state}", action.verb())));
            }
        }
        let e = transition(Executed, Approve).unwrap_err().to_string();
        assert_eq!(e, "cannot approve a run that is executed: it has no review yet; legal moves: review, reject");
        let e = transition(Approved, Reject).unwrap_err().to_string();
        assert!(e.ends_with("no further transitions are possible"), "{e}");
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
        assert_eq!(serde_json::to_value(StageState::Stale).unwrap(), "stale");
        assert_eq!(StageState::Approved.to_string(), "APPROVED");
        for s in RunState::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
