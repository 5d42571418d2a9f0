//! Where a run happened when git-workbench did not run it: the orchestrator that ran
//! it (Dagster, Prefect, a CI runner, submitit), the orchestrator's own id of the run,
//! the job or asset, the host and a link to the orchestrator's page of the run. The
//! manifest's `origin` field holds one; it is judged wherever a record is read (a
//! fetched record's origin passes the same rules as an imported one), so code holding
//! a `RunOrigin` never checks it again.

use serde::{Deserialize, Serialize};

/// The most bytes of an orchestrator's run id or a job's name.
pub const MAX_NAME: usize = 256;
/// The most bytes of a URL.
pub const MAX_URL: usize = 2048;
/// The most bytes of an orchestrator's name (`dagster`, `github-actions`).
pub const MAX_ORCHESTRATOR: usize = 64;
/// The most bytes of a host name.
pub const MAX_HOST: usize = 255;

/// Where a run happened. Field names are a contract; add, never rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawOrigin")]
pub struct RunOrigin {
    /// Who ran it: ASCII letters, digits, `.`, `_`, `-` (`dagster`, `submitit-slurm`).
    pub orchestrator: String,
    /// The orchestrator's id of the run (no white space): with `orchestrator`, what
    /// makes an imported run the same run when it is imported again.
    pub run_id: String,
    /// The job, asset, flow or task that ran, as the orchestrator names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The machine it ran on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The orchestrator's page of the run (`http://` or `https://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The shape read, before the rules.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrigin {
    orchestrator: String,
    run_id: String,
    #[serde(default)]
    job: Option<String>,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

impl TryFrom<RawOrigin> for RunOrigin {
    type Error = String;
    fn try_from(r: RawOrigin) -> Result<RunOrigin, String> {
        let o = RunOrigin {
            orchestrator: r.orchestrator,
            run_id: r.run_id,
            job: r.job,
            host: r.host,
            url: r.url,
        };
        o.check()?;
        Ok(o)
    }
}

impl RunOrigin {
    /// Every rule of the module doc; `Err` names the field and why.
    pub fn check(&self) -> Result<(), String> {
        let o = &self.orchestrator;
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if o.is_empty()
            || o.len() > MAX_ORCHESTRATOR
            || !o.chars().all(ok_char)
            || !o.starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            return Err(format!(
                "origin.orchestrator '{}' is not a name of at most {MAX_ORCHESTRATOR} ASCII letters, digits, '.', '_' or '-' starting with a letter or digit",
                shown(o)
            ));
        }
        word("origin.run_id", &self.run_id, MAX_NAME)?;
        if let Some(h) = &self.host {
            word("origin.host", h, MAX_HOST)?;
        }
        if let Some(j) = &self.job {
            text("origin.job", j, MAX_NAME)?;
        }
        if let Some(u) = &self.url {
            word("origin.url", u, MAX_URL)?;
            let scheme = u
                .strip_prefix("https://")
                .or_else(|| u.strip_prefix("http://"));
            if scheme.is_none_or(str::is_empty) {
                return Err(format!(
                    "origin.url '{}' is not an http:// or https:// URL",
                    shown(u)
                ));
            }
        }
        Ok(())
    }

    /// `orchestrator run_id`, as people read it.
    pub fn identity(&self) -> String {
        format!("{} run {}", self.orchestrator, self.run_id)
    }
}

/// The value as an error message may show it: control characters escaped, cut short.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    cut.escape_debug().to_string()
}

/// Text of 1 to `max` bytes without control characters.
fn text(field: &str, s: &str, max: usize) -> Result<(), String> {
    if s.is_empty() || s.len() > max {
        return Err(format!(
            "{field} is {} bytes long (1 to {max} allowed)",
            s.len()
        ));
    }
    if s.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(format!(
            "{field} '{}' holds a control or invisible character",
            shown(s)
        ));
    }
    Ok(())
}

/// Text without white space either.
fn word(field: &str, s: &str, max: usize) -> Result<(), String> {
    text(field, s, max)?;
    if s.chars().any(char::is_whitespace) {
        return Err(format!("{field} '{}' holds white space", shown(s)));
    }
    Ok(())
}

/// Characters that change how text around them is shown (bidirectional controls,
/// zero-width characters): a name holding one could pass for another.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<RunOrigin, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn valid_origins_round_trip_and_bad_ones_say_why() {
        let good = r#"{"orchestrator":"github-actions","run_id":"123/4","job":"train model","host":"runner-1","url":"https://ci.example/r/123"}"#;
        let o = parse(good).unwrap();
        assert_eq!(o.identity(), "github-actions run 123/4");
        assert_eq!(parse(&serde_json::to_string(&o).unwrap()).unwrap(), o);
        let minimal = parse(r#"{"orchestrator":"script","run_id":"a"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&minimal).unwrap(),
            r#"{"orchestrator":"script","run_id":"a"}"#
        );
        for (bad, why) in [
            (r#"{"orchestrator":"","run_id":"a"}"#, "origin.orchestrator"),
            (
                r#"{"orchestrator":"a b","run_id":"a"}"#,
                "origin.orchestrator",
            ),
            (
                r#"{"orchestrator":"-x","run_id":"a"}"#,
                "origin.orchestrator",
            ),
            (
                r#"{"orchestrator":"x","run_id":""}"#,
                "origin.run_id is 0 bytes",
            ),
            (r#"{"orchestrator":"x","run_id":"a b"}"#, "white space"),
            (r#"{"orchestrator":"x","run_id":"a\u001b[2J"}"#, "control"),
            (r#"{"orchestrator":"x","run_id":"a\u202eb"}"#, "invisible"),
            (
                r#"{"orchestrator":"x","run_id":"a","job":"j\nk"}"#,
                "control",
            ),
            (
                r#"{"orchestrator":"x","run_id":"a","url":"file:///etc"}"#,
                "not an http",
            ),
            (
                r#"{"orchestrator":"x","run_id":"a","url":"https://"}"#,
                "not an http",
            ),
            (
                r#"{"orchestrator":"x","run_id":"a","extra":1}"#,
                "unknown field",
            ),
            (r#"{"orchestrator":"x"}"#, "missing field"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        let long = format!(r#"{{"orchestrator":"x","run_id":"{}"}}"#, "a".repeat(257));
        assert!(parse(&long).unwrap_err().contains("257 bytes"));
    }
}
