//! The `RUN` argument grammar: a full run id, a unique prefix (optionally
//! `STAGE/PREFIX`), `STAGE@latest`, `STAGE@approved`.

use super::error::Error;
use super::ids::StageName;

/// What a `RUN` argument asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunSpec {
    /// A full run id or a prefix of one, optionally written `STAGE/ID`.
    Id {
        stage: Option<StageName>,
        prefix: String,
    },
    Latest(StageName),
    Approved(StageName),
}

impl RunSpec {
    pub fn parse(s: &str) -> Result<RunSpec, Error> {
        let bad = |why: String| Error::RunSpec {
            spec: s.to_string(),
            why,
        };
        let stage = |name: &str| StageName::new(name).map_err(|e| bad(e.to_string()));
        if let Some((name, what)) = s.split_once('@') {
            let name = stage(name)?;
            return match what {
                "latest" => Ok(RunSpec::Latest(name)),
                "approved" => Ok(RunSpec::Approved(name)),
                other => Err(bad(format!(
                    "unknown run selector '@{other}' (expected @latest or @approved)"
                ))),
            };
        }
        let (stage, prefix) = match s.split_once('/') {
            Some((st, id)) => (Some(stage(st)?), id),
            None => (None, s),
        };
        if prefix.is_empty() {
            return Err(bad("empty run id".to_string()));
        }
        if !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad(
                "a run id has only digits, letters and '-' (e.g. 20260308T142233Z-3f2a)".into(),
            ));
        }
        Ok(RunSpec::Id {
            stage,
            prefix: prefix.to_string(),
        })
    }
}

/// Outcome of matching a prefix against known `(stage, run_id)` pairs.
#[derive(Debug, PartialEq, Eq)]
pub enum PrefixMatch<'a, S, I> {
    One(&'a (S, I)),
    None,
    Ambiguous(Vec<&'a (S, I)>),
}

/// Matches a run id prefix; an exact id always wins over longer ids it prefixes.
pub fn match_prefix<'a, S: AsRef<str>, I: AsRef<str>>(
    runs: &'a [(S, I)],
    stage: Option<&str>,
    prefix: &str,
) -> PrefixMatch<'a, S, I> {
    let hits: Vec<&(S, I)> = runs
        .iter()
        .filter(|(st, id)| {
            stage.is_none_or(|s| s == st.as_ref()) && id.as_ref().starts_with(prefix)
        })
        .collect();
    if let Some(exact) = hits.iter().find(|(_, id)| id.as_ref() == prefix) {
        if hits.iter().filter(|(_, id)| id.as_ref() == prefix).count() == 1 {
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
    fn specs() {
        assert_eq!(
            RunSpec::parse("train@latest"),
            Ok(RunSpec::Latest(StageName::new("train").unwrap()))
        );
        assert_eq!(
            RunSpec::parse("train@approved"),
            Ok(RunSpec::Approved(StageName::new("train").unwrap()))
        );
        assert!(RunSpec::parse("train@best").is_err());
        assert_eq!(
            RunSpec::parse("train/2026"),
            Ok(RunSpec::Id {
                stage: Some(StageName::new("train").unwrap()),
                prefix: "2026".into()
            })
        );
        assert!(RunSpec::parse("").is_err());
        assert!(RunSpec::parse("../x@latest").is_err());
        assert!(RunSpec::parse("a..b/2026").is_err());
        assert!(RunSpec::parse("2026*").is_err());
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
