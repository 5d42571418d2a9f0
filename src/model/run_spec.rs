//! The `RUN` argument grammar: a full run id, a unique prefix (optionally
//! `STAGE/PREFIX`), an abbreviation from the time on (`T104512Z-a3`, what `compare`
//! shows), `STAGE@latest`, `STAGE@approved`.

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

/// Where the time of day starts in a run id (`20261201T104512Z-a3f2`).
const TIME_AT: usize = 8;
/// The shortest abbreviation: the time of day, `T104512Z`.
const SHORTEST: usize = 8;

/// True when `prefix` names `id`: a prefix of it, or, for a prefix starting with `T`
/// (no run id does: they start with the year), a prefix of its part from the time on.
fn names(id: &str, prefix: &str) -> bool {
    id.starts_with(prefix)
        || (prefix.starts_with('T') && id.get(TIME_AT..).is_some_and(|t| t.starts_with(prefix)))
}

/// The shortest form of each of `ids` that names it alone among them (as git abbreviates
/// object ids): from the time on, with as many characters of the suffix as it takes
/// (`T104512Z-a3`); the full id when even that is shared (the same time and suffix on
/// another day, or one id in two stages). Sorting the tails makes this n log n: a tail
/// is told apart by one character more than it shares with either neighbour.
pub fn abbreviations<'a>(ids: &[&'a str]) -> std::collections::HashMap<&'a str, String> {
    ids.iter().copied().zip(abbreviate(ids)).collect()
}

/// `abbreviations`, each in the place of its id. The tails are sorted once with their
/// places, so each one's neighbours are beside it (no search per id, no map).
pub fn abbreviate(ids: &[&str]) -> Vec<String> {
    let tail_of = |id: &str| -> Option<usize> {
        id.get(TIME_AT..)
            .filter(|t| t.starts_with('T'))
            .map(|_| TIME_AT)
    };
    let tails: Vec<&str> = ids
        .iter()
        .map(|id| tail_of(id).map_or(*id, |at| &id[at..]))
        .collect();
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_unstable_by(|a, b| tails[*a].cmp(tails[*b]));
    let common = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let mut out = vec![String::new(); ids.len()];
    let mut g = 0;
    while g < order.len() {
        let tail = tails[order[g]];
        let mut e = g + 1;
        while e < order.len() && tails[order[e]] == tail {
            e += 1;
        }
        // Every other tail: the neighbours below and above the run of equal ones.
        let below = g
            .checked_sub(1)
            .map_or(0, |i| common(tails[order[i]], tail));
        let above = order.get(e).map_or(0, |&i| common(tails[i], tail));
        let need = (below.max(above) + 1).max(SHORTEST);
        for &i in &order[g..e] {
            let id = ids[i];
            out[i] = match tail_of(id) {
                Some(_) if e - g == 1 && need <= tail.len() => tail[..need].to_string(),
                _ => id.to_string(),
            };
        }
        g = e;
    }
    out
}

/// Matches a run id prefix; an exact id always wins over longer ids it prefixes.
pub fn match_prefix<'a, S: AsRef<str>, I: AsRef<str>>(
    runs: &'a [(S, I)],
    stage: Option<&str>,
    prefix: &str,
) -> PrefixMatch<'a, S, I> {
    let hits: Vec<&(S, I)> = runs
        .iter()
        .filter(|(st, id)| stage.is_none_or(|s| s == st.as_ref()) && names(id.as_ref(), prefix))
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
        // From the time on: `T...` matches the tail of every day's ids.
        assert_eq!(
            match_prefix(&runs, None, "T000000Z-0002"),
            PrefixMatch::One(&runs[1])
        );
        assert_eq!(
            match_prefix(&runs, None, "T000000Z-0001"),
            PrefixMatch::Ambiguous(vec![&runs[0], &runs[2]])
        );
        assert_eq!(
            match_prefix(&runs, Some("b"), "T000000Z-0001"),
            PrefixMatch::One(&runs[2])
        );
        assert_eq!(match_prefix(&runs, None, "T1"), PrefixMatch::None);
    }

    #[test]
    fn abbreviations_name_one_run_each() {
        let ids = [
            "20261201T104512Z-a3f2",
            "20261201T104512Z-a3c0",
            "20261201T104513Z-0001",
            "20261130T104513Z-0040",
            "20261130T090000Z-0001",
            "20261129T090000Z-0001",
            "20261201T111111Z-0001",
            "20261201T111111Z-0001",
        ];
        let short = abbreviations(&ids);
        assert_eq!(short["20261201T104512Z-a3f2"], "T104512Z-a3f");
        assert_eq!(short["20261201T104512Z-a3c0"], "T104512Z-a3c");
        assert_eq!(short["20261201T104513Z-0001"], "T104513Z-000");
        assert_eq!(short["20261130T104513Z-0040"], "T104513Z-004");
        assert_eq!(short["20261130T090000Z-0001"], "20261130T090000Z-0001");
        assert_eq!(short["20261201T111111Z-0001"], "20261201T111111Z-0001");
        let lone = abbreviations(&["20261201T104512Z-a3f2"]);
        assert_eq!(lone["20261201T104512Z-a3f2"], "T104512Z");
        // Each abbreviation resolves to its run alone (the id in two stages aside).
        let pairs: Vec<(&str, &str)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (["a", "b"][i % 2], *id))
            .collect();
        for (i, id) in ids.iter().enumerate().take(6) {
            if i == 4 || i == 5 {
                continue;
            }
            assert_eq!(
                match_prefix(&pairs, None, &short[id]),
                PrefixMatch::One(&pairs[i]),
                "{id}"
            );
        }
    }

    /// The sorted-once `abbreviate` gives what a search per id gave.
    #[test]
    fn abbreviate_is_the_search_per_id() {
        fn by_search<'a>(ids: &[&'a str]) -> std::collections::HashMap<&'a str, String> {
            let tail = |id: &'a str| id.get(TIME_AT..).filter(|t| t.starts_with('T'));
            let mut tails: Vec<&str> = ids.iter().map(|id| tail(id).unwrap_or(id)).collect();
            tails.sort_unstable();
            let common =
                |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            ids.iter()
                .map(|&id| {
                    let Some(t) = tail(id) else {
                        return (id, id.to_string());
                    };
                    let at = tails.partition_point(|x| *x < t);
                    let same = tails[at..].iter().take_while(|x| **x == t).count();
                    let below = at.checked_sub(1).map_or(0, |i| common(tails[i], t));
                    let above = tails.get(at + same).map_or(0, |x| common(x, t));
                    let need = (below.max(above) + 1).max(SHORTEST);
                    if same > 1 || need > t.len() {
                        (id, id.to_string())
                    } else {
                        (id, t[..need].to_string())
                    }
                })
                .collect()
        }
        let mut ids: Vec<String> = Vec::new();
        for day in ["20261201", "20261202", "2026"] {
            for time in ["T104512Z", "T104513Z", "T1045", "X104512Z"] {
                for sfx in ["-a3f2", "-a3f3", "-b", "", "-a3f2"] {
                    ids.push(format!("{day}{time}{sfx}"));
                }
            }
        }
        ids.push("T104512Z-a3f2".into());
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        for n in [0, 1, 2, 7, ids.len()] {
            assert_eq!(abbreviations(&ids[..n]), by_search(&ids[..n]), "{n}");
        }
    }
}
