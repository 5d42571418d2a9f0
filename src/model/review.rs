//! The review record (`workbench/review/v1`): the self-review checks of one run and
//! the verdict they imply. Verdict rule (docs/decisions.md): any blocking issue → fail;
//! else any warning → pass_with_warnings; else pass.

use super::ids::{RunId, StageName};
use super::record::Record;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

pub const REVIEW_SCHEMA: &str = "workbench/review/v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    PassWithWarnings,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::PassWithWarnings => "pass_with_warnings",
            Verdict::Fail => "fail",
        }
    }
}

/// One check's outcome. A failing blocking check is a blocking issue; a failing
/// non-blocking one is a warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub pass: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub blocking: bool,
    /// `"builtin"` or `"agent"` (merged from `--checks FILE`).
    pub source: String,
}

impl CheckResult {
    pub fn builtin(name: &str, pass: bool, blocking: bool, note: Option<String>) -> CheckResult {
        CheckResult {
            name: name.to_string(),
            pass,
            note,
            blocking,
            source: "builtin".to_string(),
        }
    }
}

/// A check the agent ran itself, as given in a `--checks` file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCheck {
    pub name: String,
    pub pass: bool,
    #[serde(default)]
    pub note: Option<String>,
    /// Defaults to true: a failed check the agent ran blocks unless it says otherwise.
    #[serde(default)]
    pub blocking: Option<bool>,
}

impl AgentCheck {
    pub fn into_result(self) -> CheckResult {
        CheckResult {
            name: self.name,
            pass: self.pass,
            note: self.note,
            blocking: self.blocking.unwrap_or(true),
            source: "agent".to_string(),
        }
    }
}

/// Parses a `--checks` file: a JSON list of `{name, pass, note?, blocking?}`.
pub fn parse_agent_checks(text: &str) -> Result<Vec<AgentCheck>, super::error::Error> {
    use super::error::Error::AgentChecks;
    let checks: Vec<AgentCheck> =
        serde_json::from_str(text).map_err(|e| AgentChecks(e.to_string()))?;
    if let Some(c) = checks.iter().find(|c| c.name.trim().is_empty()) {
        return Err(AgentChecks(format!("a check has an empty name ({c:?})")));
    }
    Ok(checks)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewRecord {
    pub schema: String,
    pub run_id: RunId,
    pub stage: StageName,
    pub verdict: Verdict,
    pub checks: Vec<CheckResult>,
    pub warnings: Vec<String>,
    pub blocking_issues: Vec<String>,
    pub recommendation: String,
    pub reviewed_at: Timestamp,
    pub reviewed_by: String,
}

impl Record for ReviewRecord {
    const FILE: &'static str = "review.json";
    const SCHEMA: &'static str = REVIEW_SCHEMA;
    fn schema(&self) -> &str {
        &self.schema
    }
}

fn describe(c: &CheckResult) -> String {
    match &c.note {
        Some(n) => format!("{}: {n}", c.name),
        None => c.name.clone(),
    }
}

impl ReviewRecord {
    /// Builds the record from check results, applying the verdict rule.
    pub fn new(
        stage: &StageName,
        run_id: &RunId,
        checks: Vec<CheckResult>,
        reviewed_at: Timestamp,
        reviewed_by: String,
    ) -> ReviewRecord {
        let blocking_issues: Vec<String> = checks
            .iter()
            .filter(|c| !c.pass && c.blocking)
            .map(describe)
            .collect();
        let warnings: Vec<String> = checks
            .iter()
            .filter(|c| !c.pass && !c.blocking)
            .map(describe)
            .collect();
        let verdict = if !blocking_issues.is_empty() {
            Verdict::Fail
        } else if !warnings.is_empty() {
            Verdict::PassWithWarnings
        } else {
            Verdict::Pass
        };
        let recommendation = match verdict {
            Verdict::Fail => format!(
                "fix the blocking issues and run the stage again (git workbench run {stage})"
            ),
            Verdict::PassWithWarnings => {
                format!("read the warnings, then present the run: git workbench card {run_id}")
            }
            Verdict::Pass => format!("present the run for a decision: git workbench card {run_id}"),
        };
        ReviewRecord {
            schema: REVIEW_SCHEMA.to_string(),
            run_id: run_id.clone(),
            stage: stage.clone(),
            verdict,
            checks,
            warnings,
            blocking_issues,
            recommendation,
            reviewed_at,
            reviewed_by,
        }
    }

    pub fn to_json(&self) -> String {
        super::record::to_json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pass: bool, blocking: bool) -> CheckResult {
        CheckResult::builtin("c", pass, blocking, Some("why".into()))
    }

    #[test]
    fn verdict_rule() {
        let (stage, run) = (
            StageName::new("s").unwrap(),
            RunId::new("20260308T142233Z-1e2a").unwrap(),
        );
        let r = |checks| {
            ReviewRecord::new(
                &stage,
                &run,
                checks,
                Timestamp::from_unix_millis(0),
                "a".into(),
            )
        };
        assert_eq!(r(vec![check(true, true)]).verdict, Verdict::Pass);
        assert_eq!(
            r(vec![check(true, true), check(false, false)]).verdict,
            Verdict::PassWithWarnings
        );
        let f = r(vec![check(false, false), check(false, true)]);
        assert_eq!(f.verdict, Verdict::Fail);
        assert_eq!(f.blocking_issues, ["c: why"]);
        assert_eq!(f.warnings, ["c: why"]);
        assert!(f.recommendation.contains("git workbench run s"));
        assert_eq!(r(vec![]).verdict, Verdict::Pass);
        let v: serde_json::Value = serde_json::from_str(&f.to_json()).unwrap();
        assert_eq!(v["verdict"], "fail");
        assert_eq!(v["schema"], REVIEW_SCHEMA);
    }

    #[test]
    fn agent_checks_parse_strictly() {
        let c = parse_agent_checks(
            r#"[{"name": "figure looks right", "pass": false, "note": "axis empty"}]"#,
        )
        .unwrap();
        assert!(c[0].clone().into_result().blocking, "blocking by default");
        let c = parse_agent_checks(r#"[{"name": "x", "pass": false, "blocking": false}]"#).unwrap();
        assert!(!c[0].clone().into_result().blocking);
        assert!(
            parse_agent_checks(r#"[{"name": "x", "pass": true, "colour": 1}]"#)
                .unwrap_err()
                .to_string()
                .contains("colour")
        );
        assert!(parse_agent_checks("not json").is_err());
        assert!(parse_agent_checks(r#"{"name": "x", "pass": true}"#).is_err());
        assert!(parse_agent_checks(r#"[{"name": " ", "pass": true}]"#).is_err());
    }
}
