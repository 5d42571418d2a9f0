//! Acceptance criteria a human gives when rejecting a run (`reject --criterion
//! 'recall>=0.8'`): a metric, a comparison and a number, checked against the metrics
//! of the runs that answer the rejection. Prose belongs in `--issue`; a criterion is
//! only what a review can check.

use super::review::CheckResult;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// How a metric is compared with the bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ge,
    Le,
    Gt,
    Lt,
    Eq,
    Ne,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Lt => "<",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::Ge => value >= bound,
            Op::Le => value <= bound,
            Op::Gt => value > bound,
            Op::Lt => value < bound,
            Op::Eq => value == bound,
            Op::Ne => value != bound,
        }
    }
}

/// `METRIC OP NUMBER`, for example `recall >= 0.8` or `errors.count == 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    pub metric: String,
    pub op: Op,
    pub bound: f64,
}

impl fmt::Display for Criterion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.metric, self.op.as_str(), self.bound)
    }
}

/// Why a criterion cannot be checked.
pub const FORM: &str = "write METRIC OP NUMBER with OP one of >= <= > < == != (for example 'recall>=0.8'); say anything else in --issue";

/// Parses a criterion; the error says what is wrong with it.
pub fn parse(text: &str) -> Result<Criterion, String> {
    let t = text.trim();
    // Two-character operators first, so `>=` is not read as `>` followed by `=0.8`.
    let ops = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
    ];
    let Some((at, len, op)) = ops
        .iter()
        .filter_map(|(s, op)| t.find(s).map(|i| (i, s.len(), *op)))
        .min_by_key(|(i, len, _)| (*i, std::cmp::Reverse(*len)))
    else {
        return Err(format!("'{t}' has no comparison"));
    };
    let metric = t[..at].trim();
    let number = t[at + len..].trim();
    if metric.is_empty()
        || !metric
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
    {
        return Err(format!("'{t}' does not start with a metric name"));
    }
    let bound: f64 = number
        .parse()
        .ok()
        .filter(|b: &f64| b.is_finite())
        .ok_or_else(|| format!("'{t}': '{number}' is not a finite number"))?;
    Ok(Criterion {
        metric: metric.to_string(),
        op,
        bound,
    })
}

/// The review check of one criterion given at the rejection of `rejected` against a
/// run's metrics. Blocking: the human said what an acceptable run must meet.
pub fn check(text: &str, rejected: &str, metrics: &BTreeMap<String, Value>) -> CheckResult {
    let name = format!("acceptance_criterion: {}", text.trim());
    let from = format!("(from the rejection of {rejected})");
    let (pass, note) = match parse(text) {
        Err(e) => (false, format!("{e}: not checkable {from}")),
        Ok(c) => match metrics.get(&c.metric).map(number) {
            None => (
                false,
                format!("the run has no metric '{}' {from}", c.metric),
            ),
            Some(None) => (
                false,
                format!(
                    "metric '{}' is {}, not a finite number {from}",
                    c.metric, metrics[&c.metric]
                ),
            ),
            Some(Some(v)) => {
                let pass = c.op.holds(v, c.bound);
                let verb = if pass { "meets" } else { "fails" };
                (pass, format!("{} = {v} {verb} {c} {from}", c.metric))
            }
        },
    };
    CheckResult::builtin(&name, pass, true, Some(note))
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_checkable_form_only() {
        let c = parse("recall>=0.8").unwrap();
        assert_eq!((c.metric.as_str(), c.op, c.bound), ("recall", Op::Ge, 0.8));
        assert_eq!(parse(" loss < 1e-3 ").unwrap().op, Op::Lt);
        assert_eq!(parse("a.b == 0").unwrap().metric, "a.b");
        assert_eq!(parse("x!=2").unwrap().op, Op::Ne);
        assert_eq!(parse("x<=2").unwrap().op, Op::Le);
        for bad in [
            "recall should be higher",
            ">= 0.8",
            "recall >= high",
            "recall >= NaN",
            "recall >= inf",
            "two words >= 1",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checks_block_and_say_why() {
        let m = BTreeMap::from([
            ("recall".to_string(), json!(0.7917)),
            ("bad".to_string(), json!("NaN")),
        ]);
        let fail = check("recall>=0.8", "R1", &m);
        assert!(!fail.pass && fail.blocking);
        assert!(fail
            .note
            .as_deref()
            .unwrap()
            .contains("0.7917 fails recall >= 0.8"));
        assert!(check("recall>0.5", "R1", &m).pass);
        assert!(!check("precision>0.5", "R1", &m).pass);
        assert!(!check("bad>0.5", "R1", &m).pass);
        let prose = check("make it better", "R1", &m);
        assert!(!prose.pass);
        assert!(prose.note.unwrap().contains("not checkable"));
    }
}
