//! Run ids and the `RUN` argument grammar: full id, unique prefix, `STAGE@latest`,
//! `STAGE@approved`.
//!
//! A run id is the UTC start second in compact form plus four hex digits, e.g.
//! `20260308T142233Z-3f2a`: it sorts by time, never depends on the code commit (so it
//! survives rebase and squash), and the suffix keeps parallel runs apart.

use super::time::UtcDateTime;

/// Builds the run id for a run started at `unix_millis`. The suffix holds the
/// millisecond in its top ten bits and six bits of `random` below, so ids of runs
/// started in the same second still sort by start time.
pub fn new_run_id(unix_millis: i64, random: u16) -> String {
    let ms = unix_millis.rem_euclid(1000) as u16;
    format!(
        "{}-{:04x}",
        UtcDateTime::from_unix_millis(unix_millis).compact(),
        (ms << 6) | (random & 0x3f)
    )
}

/// The start time a run id encodes, to the millisecond.
pub fn millis_of_run_id(s: &str) -> Option<i64> {
    if !is_run_id(s) {
        return None;
    }
    let t = UtcDateTime::parse(&s[..16])?;
    let suffix = u16::from_str_radix(&s[17..], 16).ok()?;
    Some(t.unix_millis() + i64::from(suffix >> 6))
}

/// True when `s` has the shape of a run id (what `new_run_id` writes).
pub fn is_run_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 21
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[17..]
            .iter()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// A stage name must be usable as one ref path component and as a TOML key.
pub fn is_valid_stage_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && !s.starts_with(['.', '-'])
        && !s.ends_with(".lock")
        && !s.contains("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// What a `RUN` argument asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunSpec {
    /// A full run id or a prefix of one, optionally written `STAGE/ID`.
    Id {
        stage: Option<String>,
        prefix: String,
    },
    Latest(String),
    Approved(String),
}

impl RunSpec {
    pub fn parse(s: &str) -> Result<RunSpec, String> {
        if let Some((stage, what)) = s.split_once('@') {
            if !is_valid_stage_name(stage) {
                return Err(format!("'{stage}' is not a valid stage name"));
            }
            return match what {
                "latest" => Ok(RunSpec::Latest(stage.to_string())),
                "approved" => Ok(RunSpec::Approved(stage.to_string())),
                other => Err(format!(
                    "unknown run selector '@{other}' (expected @latest or @approved)"
                )),
            };
        }
        let (stage, prefix) = match s.split_once('/') {
            Some((st, id)) => (Some(st.to_string()), id),
            None => (None, s),
        };
        if prefix.is_empty() {
            return Err("empty run id".to_string());
        }
        Ok(RunSpec::Id {
            stage,
            prefix: prefix.to_string(),
        })
    }
}

/// Outcome of matching a prefix against known `(stage, run_id)` pairs.
#[derive(Debug, PartialEq, Eq)]
pub enum PrefixMatch<'a> {
    One(&'a (String, String)),
    None,
    Ambiguous(Vec<&'a (String, String)>),
}

/// Matches a run id prefix; an exact id always wins over longer ids it prefixes.
pub fn match_prefix<'a>(
    runs: &'a [(String, String)],
    stage: Option<&str>,
    prefix: &str,
) -> PrefixMatch<'a> {
    let hits: Vec<&(String, String)> = runs
        .iter()
        .filter(|(st, id)| stage.is_none_or(|s| s == st) && id.starts_with(prefix))
        .collect();
    if let Some(exact) = hits.iter().find(|(_, id)| id == prefix) {
        if hits.iter().filter(|(_, id)| id == prefix).count() == 1 {
            return PrefixMatch::One(exact);
        }
    }
    match hits.len() {
        0 => PrefixMatch::None,
        1 => PrefixMatch::One(hits[0]),
        _ => PrefixMatch::Ambiguous(hits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time_and_parse() {
        let a = new_run_id(1_772_979_753_120, 0x3f2a);
        assert_eq!(a, "20260308T142233Z-1e2a");
        // same second: later millisecond sorts later whatever the random bits
        assert!(new_run_id(1_772_979_753_121, 0) > new_run_id(1_772_979_753_120, 0xffff));
        assert!(new_run_id(1_772_979_753_999, 0xffff).starts_with("20260308T142233Z-"));
        assert!(is_run_id(&a));
        assert!(new_run_id(1_772_979_754_000, 0) > a);
        assert!(!is_run_id("20260308T142233Z-3F2A"));
        assert!(!is_run_id("20260308T142233Z"));
    }

    #[test]
    fn stage_names() {
        assert!(is_valid_stage_name("baseline"));
        assert!(is_valid_stage_name("train_v2.1"));
        for bad in ["", ".x", "-x", "a/b", "a..b", "x.lock", "a b", "a@b"] {
            assert!(!is_valid_stage_name(bad), "{bad}");
        }
    }

    #[test]
    fn specs() {
        assert_eq!(
            RunSpec::parse("train@latest"),
            Ok(RunSpec::Latest("train".into()))
        );
        assert_eq!(
            RunSpec::parse("train@approved"),
            Ok(RunSpec::Approved("train".into()))
        );
        assert!(RunSpec::parse("train@best").is_err());
        assert_eq!(
            RunSpec::parse("train/2026"),
            Ok(RunSpec::Id {
                stage: Some("train".into()),
                prefix: "2026".into()
            })
        );
        assert!(RunSpec::parse("").is_err());
    }

    #[test]
    fn prefixes() {
        let runs = vec![
            ("a".to_string(), "20260101T000000Z-0001".to_string()),
            ("a".to_string(), "20260101T000000Z-0002".to_string()),
            ("b".to_string(), "20260102T000000Z-0001".to_string()),
        ];
        assert_eq!(
            match_prefix(&runs, None, "202601"),
            PrefixMatch::Ambiguous(runs.iter().collect())
        );
        assert_eq!(
            match_prefix(&runs, None, "20260102"),
            PrefixMatch::One(&runs[2])
        );
        assert_eq!(
            match_prefix(&runs, Some("b"), "2026"),
            PrefixMatch::One(&runs[2])
        );
        assert_eq!(match_prefix(&runs, None, "2027"), PrefixMatch::None);
        assert_eq!(
            match_prefix(&runs, None, "20260101T000000Z-0001"),
            PrefixMatch::One(&runs[0])
        );
    }
}
