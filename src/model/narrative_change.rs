//! What one commit does to a narrative's blocks: which were added, changed or removed,
//! and whether a removed block left its approved text or provenance behind as
//! unchecked prose. Pure: the texts come in, the findings go out; `narrative::transition`
//! feeds it from git.

use super::ids::{RunId, StageName};
use super::narrative::{is_provenance, parse, regions, Block, Region};
use std::collections::{BTreeMap, HashSet};

/// A block as one side of a change sees it, with file line numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileBlock {
    pub line: usize,
    pub stage: StageName,
    pub run: RunId,
    pub content: String,
}

/// The blocks of a narrative file and its lines outside any block (file line, text).
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub blocks: Vec<FileBlock>,
    pub outside: Vec<(usize, String)>,
}

/// Reads the blocks and the prose of a file; structural errors are the checker's to
/// report, so a file whose regions cannot be read has no layout.
pub fn layout(path: &str, text: &str) -> Layout {
    let mut out = Layout::default();
    let Ok(regions) = regions(path, text) else {
        return out;
    };
    for Region {
        text,
        syntax,
        first_line,
    } in regions
    {
        let parsed = parse(&text, syntax);
        let inside: Vec<(usize, usize)> = parsed
            .blocks
            .iter()
            .map(|b| (b.begin_line, b.end_line))
            .collect();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if !inside.iter().any(|(b, e)| (*b..=*e).contains(&n)) {
                out.outside.push((n + first_line - 1, line.to_string()));
            }
        }
        out.blocks
            .extend(parsed.blocks.into_iter().map(|b: Block| FileBlock {
                line: b.begin_line + first_line - 1,
                stage: b.stage,
                run: b.run,
                content: b.content,
            }));
    }
    out
}

/// What happened to one block between two versions of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockChange {
    Added(FileBlock),
    /// The block now cites `run` (or holds other content).
    Changed {
        old: FileBlock,
        new: FileBlock,
    },
    Removed(FileBlock),
}

/// Pairs the blocks of each stage in file order: the n-th block of a stage before is
/// the n-th after. Unchanged blocks are left out.
pub fn block_changes(old: &[FileBlock], new: &[FileBlock]) -> Vec<BlockChange> {
    let mut by_stage: BTreeMap<&StageName, (Vec<&FileBlock>, Vec<&FileBlock>)> = BTreeMap::new();
    for b in old {
        by_stage.entry(&b.stage).or_default().0.push(b);
    }
    for b in new {
        by_stage.entry(&b.stage).or_default().1.push(b);
    }
    let mut out = Vec::new();
    for (_, (o, n)) in by_stage {
        for i in 0..o.len().max(n.len()) {
            match (o.get(i), n.get(i)) {
                (Some(a), Some(b)) => {
                    if a.run != b.run || normalize_block(&a.content) != normalize_block(&b.content)
                    {
                        out.push(BlockChange::Changed {
                            old: (*a).clone(),
                            new: (*b).clone(),
                        })
                    }
                }
                (Some(a), None) => out.push(BlockChange::Removed((*a).clone())),
                (None, Some(b)) => out.push(BlockChange::Added((*b).clone())),
                (None, None) => {}
            }
        }
    }
    out
}

fn normalize_block(s: &str) -> String {
    super::narrative::normalize(s)
}

/// A content line as prose compares it: comment prefix and surrounding space dropped.
fn prose(line: &str) -> &str {
    let t = line.trim();
    let t = t.strip_prefix('#').unwrap_or(t);
    t.trim()
}

/// Lines of a block too generic to identify it (blank lines, table scaffolding).
fn telling(line: &str) -> bool {
    let p = prose(line);
    p.chars().filter(|c| c.is_alphanumeric()).count() >= 6
        && p != "| metric | value |"
        && !p.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// Where a removed block's text survives outside the blocks of the new version: the
/// new file line of the first surviving line. A line survives when it is the same
/// prose or nearly (a changed number), and it was not prose already before.
pub fn remnant(removed: &FileBlock, old: &Layout, new: &Layout) -> Option<usize> {
    let before: HashSet<&str> = old.outside.iter().map(|(_, l)| prose(l)).collect();
    let lines: Vec<&str> = removed
        .content
        .lines()
        .filter(|l| telling(l))
        .map(prose)
        .filter(|l| !before.contains(l))
        .collect();
    if lines.is_empty() {
        return None;
    }
    for (n, l) in &new.outside {
        let have = prose(l);
        if !telling(have) || before.contains(have) {
            continue;
        }
        if is_provenance(have) {
            return Some(*n);
        }
        for want in &lines {
            if *want == have || (want.len() >= 16 && similar_line(want, have)) {
                return Some(*n);
            }
        }
    }
    None
}

fn similar_line(a: &str, b: &str) -> bool {
    let (la, lb) = (a.chars().count(), b.chars().count());
    if la.max(lb) > 4 * la.min(lb).max(1) || la.max(lb) > 4096 {
        return false;
    }
    similar::TextDiff::from_chars(a, b).ratio() >= 0.8
}

/// Whether `new` (a file that did not exist before) carries the narrative `old`
/// under another name: it cites one of its blocks or provenance lines, or (with the
/// same extension) is mostly the same text.
pub fn carries(old_path: &str, old: &str, new_path: &str, new: &str) -> bool {
    let marks = |t: &str| -> HashSet<String> {
        t.lines()
            .map(str::trim)
            .filter(|l| l.contains("workbench:begin") || is_provenance(l))
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (marks(old), marks(new));
    if !a.is_empty() && a.intersection(&b).next().is_some() {
        return true;
    }
    let ext = |p: &str| {
        let name = p.rsplit('/').next().unwrap_or(p);
        name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
    };
    if ext(old_path) != ext(new_path) || old.len() > 1 << 20 || new.len() > 1 << 20 {
        return false;
    }
    // Bounded: a change adding many large files must not make the hook slow.
    similar::TextDiff::configure()
        .timeout(std::time::Duration::from_millis(20))
        .diff_lines(old, new)
        .ratio()
        >= 0.5
}

/// The `.gitattributes` line that unmarks the file `name` in its own directory
/// (`/name -workbench-narrative`), or `None` when the name cannot be written as a
/// pattern without quoting (whitespace, quotes, control characters).
pub fn unmark_line(name: &str, attr: &str) -> Option<String> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"')
    {
        return None;
    }
    let mut pattern = String::from("/");
    for c in name.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '#') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    Some(format!("{pattern} -{attr}"))
}

/// `existing` (a `.gitattributes` file's text) with `line` appended, in the file's
/// own line ending.
pub fn append_line(existing: &str, line: &str) -> String {
    let nl = if existing.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = existing.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(nl);
    }
    out.push_str(line);
    out.push_str(nl);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "20260308T142233Z-1e2a";
    const RUN2: &str = "20260309T142233Z-1e2b";

    fn block(stage: &str, run: &str, body: &str) -> String {
        format!(
            "<!-- workbench:begin stage={stage} run={run} -->\n{body}\n<!-- workbench:end -->\n"
        )
    }

    #[test]
    fn changes_pair_blocks_per_stage_in_order() {
        let old = format!("{}{}", block("a", RUN, "x"), block("b", RUN, "y"));
        let new = format!("{}{}", block("a", RUN2, "x"), block("c", RUN, "z"));
        let (o, n) = (layout("r.md", &old), layout("r.md", &new));
        let c = block_changes(&o.blocks, &n.blocks);
        assert_eq!(c.len(), 3, "{c:?}");
        assert!(
            matches!(&c[0], BlockChange::Changed { old, new } if old.run == RUN && new.run == RUN2)
        );
        assert!(matches!(&c[1], BlockChange::Removed(b) if b.stage == "b"));
        assert!(matches!(&c[2], BlockChange::Added(b) if b.stage == "c"));
        assert!(block_changes(&o.blocks, &o.blocks).is_empty());
    }

    #[test]
    fn a_removed_block_may_not_leave_its_text_behind() {
        let body = "Recall 0.83 meets the goal of 0.8.\n\n| metric | value |\n| --- | --- |\n| recall | 0.83 |\n\n_Approved by Ada <a@x> on 2026-03-08 (run 20260308T142233Z-1e2a, sha256:0123456789ab)._";
        let old_text = format!("Intro.\n\n{}More.\n", block("a", RUN, body));
        let old = layout("r.md", &old_text);
        let removed = &old.blocks[0];
        // Removed whole: nothing left.
        let whole = layout("r.md", "Intro.\n\nMore.\n");
        assert_eq!(remnant(removed, &old, &whole), None);
        // Markers renamed, text kept with a changed number.
        let renamed = old_text
            .replace("workbench:begin", "note:begin")
            .replace("workbench:end", "note:end")
            .replace("0.83 meets", "0.93 meets");
        assert_eq!(remnant(removed, &old, &layout("r.md", &renamed)), Some(4));
        // Only the provenance line kept.
        let prov = "Intro.\n_Approved by Ada <a@x> on 2026-03-08 (run 20260308T142233Z-1e2a, sha256:0123456789ab)._\n";
        assert_eq!(remnant(removed, &old, &layout("r.md", prov)), Some(2));
        // Table scaffolding alone is not the block's text.
        let scaffold = "Intro.\n| metric | value |\n| --- | --- |\n";
        assert_eq!(remnant(removed, &old, &layout("r.md", scaffold)), None);
        // Prose that was already there before does not count.
        let with_prose = format!(
            "Recall 0.83 meets the goal of 0.8.\n{}",
            block("a", RUN, body)
        );
        let o2 = layout("r.md", &with_prose);
        let n2 = layout("r.md", "Recall 0.83 meets the goal of 0.8.\n");
        assert_eq!(remnant(&o2.blocks[0], &o2, &n2), None);
    }

    #[test]
    fn carries_follows_blocks_and_similar_text() {
        let old = format!("# R\n\n{}", block("a", RUN, "text"));
        assert!(carries("r.md", &old, "other.txt", &old));
        let other = "# Completely different\nnothing\nin common\n";
        assert!(!carries("r.md", &old, "x.md", other));
        let prose = "line one\nline two\nline three\nline four\n";
        assert!(carries("r.md", prose, "s.md", &format!("{prose}five\n")));
        assert!(!carries("r.md", prose, "s.txt", &format!("{prose}five\n")));
    }

    #[test]
    fn unmark_lines_are_exact_patterns() {
        assert_eq!(
            unmark_line("report.md", "workbench-narrative").unwrap(),
            "/report.md -workbench-narrative"
        );
        assert_eq!(unmark_line("a*[b].md", "x").unwrap(), "/a\\*\\[b\\].md -x");
        assert_eq!(unmark_line("a b.md", "x"), None);
        assert_eq!(append_line("a x\r\n", "b -x"), "a x\r\nb -x\r\n");
        assert_eq!(append_line("a x", "b -x"), "a x\nb -x\n");
        assert_eq!(append_line("", "b -x"), "b -x\n");
    }
}
