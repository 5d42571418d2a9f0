//! The `.gitattributes` of one tree (or index), evaluated without git and without any
//! local-only source: no `$GIT_DIR/info/attributes`, no `core.attributesFile`, no
//! system file. What a narrative check treats as a narrative is decided from what is
//! committed, so nothing outside the commit can weaken it.
//!
//! The evaluation is a port of git 2.47's `attr.c`, `dir.c` (`match_basename`,
//! `match_pathname`) and `wildmatch.c` as git runs them on committed files
//! (`git check-attr --source=<tree>` or `--cached`), with `core.ignorecase=false`; a
//! differential test (`tests/cli/attributes.rs`) holds it to the real git. Everything
//! is bytes, as in git; `state` takes a `&str` path, `state_bytes` any path.
//!
//! * **Files.** One per directory, given with its directory (`""` is the root; a
//!   trailing `/` is dropped). For a path `a/b/f`, the files of `""`, `a` and `a/b`
//!   apply; the deepest decides first.
//!   Whatever blob the tree holds at `<dir>/.gitattributes` is read, a symlink's target
//!   text included (git does so for trees and the index). A file of 100 MiB or more
//!   ([`MAX_FILE_SIZE`]) is ignored whole; a NUL byte ends the file.
//! * **Lines.** Split at `\n`; blanks are space, `\t`, `\r` and `\n`, so CRLF files
//!   read as LF ones. Blank lines and lines whose first non-blank is `#` are skipped.
//!   A line of 2048 bytes or more ([`MAX_LINE_LENGTH`]) is ignored. A UTF-8 BOM is
//!   *not* skipped: git skips it only in worktree files, never in a blob, so the first
//!   line of a committed file with a BOM has the BOM in its pattern.
//! * **Patterns.** A pattern that opens with `"` and unquotes as a C-style string
//!   (`\a \b \f \n \r \t \v \\ \"` and octal `\ooo`, first digit 0-3) is the unquoted
//!   text, and the attributes start right after the closing quote; otherwise the
//!   pattern runs to the first blank (a badly quoted one keeps its `"`). A `\000` in
//!   a quoted pattern ends it. `!pat` (negative) lines are ignored (`\!` is a literal
//!   `!`). A trailing `/` never matches a file. A pattern without `/` matches the
//!   basename at any depth;
//!   otherwise it is anchored at its file's directory (a leading `/` dropped) and
//!   matched with wildmatch's pathname rules: `*`, `?` and brackets never match `/`;
//!   `**` is recursive only as a whole component (`**/`, `/**`, `/**/`), else it is
//!   `*`; brackets take ranges, `!`/`^` negation, `\` escapes and the classes
//!   `[:alnum:] [:alpha:] [:blank:] [:cntrl:] [:digit:] [:graph:] [:lower:] [:print:]
//!   [:punct:] [:space:] [:upper:] [:xdigit:]` (ASCII; an unknown class or an
//!   unclosed set makes the whole pattern match nothing);
//!   `\c` is a literal `c`. As in git, the pattern's literal lead (up to its first
//!   `* ? [ \`) is compared before wildmatch sees the rest, so in `foo**/bar` the `**`
//!   counts as a leading one and matches `foo/x/bar` and `foox/bar`. Case-sensitive.
//! * **Attributes.** `attr` (set), `-attr` (unset), `!attr` (unspecified, and it stops
//!   shallower lines from deciding), `attr=value` (a `-`/`!` token drops its value).
//!   A name is `[-A-Za-z0-9_.]+`, not starting with `-` nor `builtin_`; one invalid
//!   name makes git ignore the whole line.
//! * **Order.** Deeper files first, later lines first within a file, later tokens first
//!   within a line; the first to decide an attribute wins.
//! * **Macros.** `[attr]name states` lines, honoured only in the root file (git ignores
//!   them elsewhere with a warning); the last definition of a name wins, wherever it
//!   sits in the file; the built-in `binary` is `-diff -merge -text`. A macro
//!   decided *set* sets its own name and expands in place: its states decide what is
//!   still undecided, recursively, before the tokens to the left of it. `-macro`,
//!   `!macro` and `macro=value` decide only the macro's own name.
//!
//! Not modelled: `core.ignorecase=true`, the reserved `builtin_objectmode` (always
//! unspecified here), a locale that gives bytes over 0x7f a `[:blank:]` or
//! `[:graph:]` class, and paths that are not normalized tree paths (no `//`, no
//! leading `/`).

use std::collections::{HashMap, HashSet};

/// git ignores a `.gitattributes` line this long or longer (`ATTR_MAX_LINE_LENGTH`).
pub const MAX_LINE_LENGTH: usize = 2048;
/// git ignores a `.gitattributes` blob this large or larger (`ATTR_MAX_FILE_SIZE`).
pub const MAX_FILE_SIZE: usize = 100 * 1024 * 1024;

const MACRO_PREFIX: &[u8] = b"[attr]";
const BUILTIN_MACROS: &[u8] = b"[attr]binary -diff -merge -text";

/// The state of one attribute for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrState {
    /// `attr`
    Set,
    /// `-attr`
    Unset,
    /// `attr=value` (a value that is not UTF-8 is read lossily).
    Value(String),
    /// No line says anything (or `!attr`).
    Unspecified,
}

impl AttrState {
    /// Set or given a value: what "marked" means for a boolean attribute.
    pub fn is_set(&self) -> bool {
        matches!(self, AttrState::Set | AttrState::Value(_))
    }
}

/// One `.gitattributes` file: its directory (`""` for the root, `reports` for
/// `reports/.gitattributes`, no trailing slash) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrFile {
    pub dir: String,
    pub text: Vec<u8>,
}

/// Why a line of a `.gitattributes` file says nothing (git warns about most of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoredWhy {
    /// The file is [`MAX_FILE_SIZE`] or larger: all of it is ignored (line 0).
    FileTooLarge,
    /// The line is [`MAX_LINE_LENGTH`] bytes or longer.
    LineTooLong,
    /// `[attr]` outside the root file.
    MacroNotAllowed,
    /// An attribute or macro name that is not valid.
    InvalidName,
    /// A `!pattern`.
    NegativePattern,
}

/// A line that says nothing: the file's directory, the line (from 1) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub dir: Vec<u8>,
    pub line: usize,
    pub why: IgnoredWhy,
}

/// What a token decides (`setto` in git).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Setto {
    True,
    False,
    Unset,
    Value(Vec<u8>),
}

/// (interned attribute, what it is set to), in token order.
type States = Vec<(usize, Setto)>;

/// A pattern as `parse_path_pattern` leaves it.
#[derive(Debug)]
struct Pattern {
    /// Without the trailing `/`.
    text: Vec<u8>,
    /// The length of the literal lead (`nowildcardlen`).
    literal: usize,
    /// No `/` in it (other than a trailing one): match the basename.
    no_dir: bool,
    /// Ended with `/`.
    must_be_dir: bool,
    /// `*literal`.
    ends_with: bool,
}

#[derive(Debug)]
struct Rule {
    pattern: Pattern,
    states: States,
}

enum Line {
    Macro(Vec<u8>, States),
    Rule(Rule),
}

/// Every rule of a tree's `.gitattributes` files, patterns precompiled.
#[derive(Debug)]
pub struct Attributes {
    /// Interned attribute names (git's `attr_nr`).
    names: HashMap<Vec<u8>, usize>,
    /// Directory (no trailing `/`, `""` the root) to its rules in line order.
    frames: HashMap<Vec<u8>, Vec<Rule>>,
    /// Macro (interned) to its states: the last root definition, else the built-in.
    macros: HashMap<usize, States>,
    ignored: Vec<Ignored>,
}

impl Attributes {
    /// Parses the files (in any order; a directory given twice: the last one counts).
    pub fn parse(files: &[AttrFile]) -> Attributes {
        let raw: Vec<(&[u8], &[u8])> = files
            .iter()
            .map(|f| (f.dir.as_bytes(), f.text.as_slice()))
            .collect();
        Attributes::parse_bytes(&raw)
    }

    /// [`Attributes::parse`] for directories that need not be UTF-8: (dir, text).
    pub fn parse_bytes(files: &[(&[u8], &[u8])]) -> Attributes {
        let mut a = Attributes {
            names: HashMap::new(),
            frames: HashMap::new(),
            macros: HashMap::new(),
            ignored: Vec::new(),
        };
        let mut builtin = Vec::new();
        a.read_lines(b"", BUILTIN_MACROS, true, &mut builtin, &mut Vec::new());
        let mut root_macros = Vec::new();
        for (dir, text) in files {
            let mut dir: &[u8] = dir;
            while let Some(d) = dir.strip_suffix(b"/") {
                dir = d;
            }
            let mut rules = Vec::new();
            let mut macros = Vec::new();
            a.ignored.retain(|i| i.dir != *dir);
            if text.len() >= MAX_FILE_SIZE {
                a.ignored.push(Ignored {
                    dir: dir.to_vec(),
                    line: 0,
                    why: IgnoredWhy::FileTooLarge,
                });
            } else {
                a.read_lines(dir, text, dir.is_empty(), &mut macros, &mut rules);
            }
            if dir.is_empty() {
                root_macros = macros;
            }
            a.frames.insert(dir.to_vec(), rules);
        }
        // git's determine_macros: the last definition in the root file, else the built-in.
        for (name, states) in builtin.into_iter().chain(root_macros) {
            a.macros.insert(name, states);
        }
        a
    }

    /// The state of `attr` for the file at `path` (repository-relative, `/`-separated).
    pub fn state(&self, path: &str, attr: &str) -> AttrState {
        self.state_bytes(path.as_bytes(), attr)
    }

    /// [`Attributes::state`] for a path that need not be UTF-8.
    pub fn state_bytes(&self, path: &[u8], attr: &str) -> AttrState {
        let Some(&target) = self.names.get(attr.as_bytes()) else {
            return AttrState::Unspecified;
        };
        // A C string ends at its first NUL (no tree path holds one).
        let path = match memchr::memchr(0, path) {
            Some(n) => &path[..n],
            None => path,
        };
        let mut last_slash = None;
        for (i, &c) in path.iter().enumerate() {
            if c == b'/' && i + 1 < path.len() {
                last_slash = Some(i);
            }
        }
        let (basename_offset, dirlen) = match last_slash {
            Some(i) => (i + 1, i),
            None => (0, 0),
        };
        let mut frames: Vec<(&[u8], &Vec<Rule>)> = Vec::new();
        if let Some(rules) = self.frames.get(&b""[..]) {
            frames.push((b"", rules));
        }
        for (i, &c) in path[..dirlen.min(path.len())].iter().enumerate() {
            if c == b'/' && i > 0 {
                if let Some(rules) = self.frames.get(&path[..i]) {
                    frames.push((&path[..i], rules));
                }
            }
        }
        if dirlen > 0 {
            if let Some(rules) = self.frames.get(&path[..dirlen]) {
                frames.push((&path[..dirlen], rules));
            }
        }
        let mut fill = Fill {
            macros: &self.macros,
            decided: HashSet::new(),
            target,
            result: None,
        };
        for (base, rules) in frames.iter().rev() {
            for rule in rules.iter().rev() {
                if path_matches(path, basename_offset, &rule.pattern, base) {
                    fill.rule(&rule.states);
                    if let Some(s) = fill.result {
                        return state_of(s);
                    }
                }
            }
        }
        AttrState::Unspecified
    }

    /// The lines that say nothing, and why: for warnings (`git` prints most of them).
    pub fn ignored(&self) -> &[Ignored] {
        &self.ignored
    }

    fn intern(&mut self, name: &[u8]) -> usize {
        let n = self.names.len();
        *self.names.entry(name.to_vec()).or_insert(n)
    }

    /// git's `read_attr_from_buf`: lines split at `\n`, the text ended at a NUL.
    fn read_lines(
        &mut self,
        dir: &[u8],
        text: &[u8],
        macro_ok: bool,
        macros: &mut Vec<(usize, States)>,
        rules: &mut Vec<Rule>,
    ) {
        let text = match memchr::memchr(0, text) {
            Some(n) => &text[..n],
            None => text,
        };
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', text).chain([text.len()]);
        for (n, end) in ends.enumerate() {
            let line = &text[start..end];
            start = end + 1;
            match self.parse_line(line, macro_ok) {
                Ok(Some(Line::Macro(name, states))) => {
                    let id = self.intern(&name);
                    macros.push((id, states));
                }
                Ok(Some(Line::Rule(rule))) => rules.push(rule),
                Ok(None) => {}
                Err(why) => self.ignored.push(Ignored {
                    dir: dir.to_vec(),
                    line: n + 1,
                    why,
                }),
            }
        }
    }

    /// git's `parse_attr_line`: `Ok(None)` for a blank line or a comment.
    fn parse_line(&mut self, line: &[u8], macro_ok: bool) -> Result<Option<Line>, IgnoredWhy> {
        let cp = span(line, 0, is_blank);
        if cp == line.len() || line[cp] == b'#' {
            return Ok(None);
        }
        if line.len() >= MAX_LINE_LENGTH {
            return Err(IgnoredWhy::LineTooLong);
        }
        let (name, states_at) = match unquote_c_style(&line[cp..]) {
            Some((unquoted, used)) => (unquoted, cp + used),
            None => {
                let end = span(line, cp, |c| !is_blank(c));
                (line[cp..end].to_vec(), end)
            }
        };
        let macro_name = if name.len() > MACRO_PREFIX.len() && name.starts_with(MACRO_PREFIX) {
            if !macro_ok {
                return Err(IgnoredWhy::MacroNotAllowed);
            }
            let start = span(&name, MACRO_PREFIX.len(), is_blank);
            let end = span(&name, start, |c| c != 0 && !is_blank(c));
            let m = &name[start..end];
            if !valid_name(m) {
                return Err(IgnoredWhy::InvalidName);
            }
            Some(m.to_vec())
        } else {
            None
        };
        let states = parse_states(&line[states_at..]).ok_or(IgnoredWhy::InvalidName)?;
        let line = match macro_name {
            Some(m) => Line::Macro(m, Vec::new()),
            None => {
                let pattern = parse_pattern(&name).ok_or(IgnoredWhy::NegativePattern)?;
                Line::Rule(Rule {
                    pattern,
                    states: Vec::new(),
                })
            }
        };
        // Names are interned only for lines git keeps, in token order.
        let states: States = states
            .into_iter()
            .map(|(name, setto)| (self.intern(name), setto))
            .collect();
        Ok(Some(match line {
            Line::Macro(m, _) => Line::Macro(m, states),
            Line::Rule(r) => Line::Rule(Rule {
                pattern: r.pattern,
                states,
            }),
        }))
    }
}

/// git's `fill` for one attribute: the attributes decided so far, and the target's
/// state once decided.
struct Fill<'a> {
    macros: &'a HashMap<usize, States>,
    decided: HashSet<usize>,
    target: usize,
    result: Option<&'a Setto>,
}

impl<'a> Fill<'a> {
    /// git's `fill_one` with `macroexpand_one`, the recursion on a stack of its own
    /// (a chain of macros in a large root file must not overflow the thread's stack).
    fn rule(&mut self, states: &'a [(usize, Setto)]) {
        let mut stack: Vec<std::slice::Iter<'a, (usize, Setto)>> = vec![states.iter()];
        while let Some(top) = stack.last_mut() {
            let Some((attr, setto)) = top.next_back() else {
                stack.pop();
                continue;
            };
            if !self.decided.insert(*attr) {
                continue;
            }
            if *attr == self.target {
                self.result = Some(setto);
                return;
            }
            if *setto == Setto::True {
                if let Some(expansion) = self.macros.get(attr) {
                    stack.push(expansion.iter());
                }
            }
        }
    }
}

fn state_of(s: &Setto) -> AttrState {
    match s {
        Setto::True => AttrState::Set,
        Setto::False => AttrState::Unset,
        Setto::Unset => AttrState::Unspecified,
        Setto::Value(v) => AttrState::Value(String::from_utf8_lossy(v).into_owned()),
    }
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// The index of the first byte from `from` on that is not `keep` (or the end).
fn span(s: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut i = from.min(s.len());
    while i < s.len() && keep(s[i]) {
        i += 1;
    }
    i
}

/// git's `attr_name_valid` and not `attr_name_reserved`.
fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name[0] != b'-'
        && !name.starts_with(b"builtin_")
        && name
            .iter()
            .all(|&c| c == b'-' || c == b'.' || c == b'_' || c.is_ascii_alphanumeric())
}

/// git's `parse_attr`, over every token: `None` if any name is invalid.
fn parse_states(mut s: &[u8]) -> Option<Vec<(&[u8], Setto)>> {
    let mut out = Vec::new();
    s = &s[span(s, 0, is_blank)..];
    while !s.is_empty() {
        let ep = span(s, 0, |c| !is_blank(c));
        let token = &s[..ep];
        let equals = memchr::memchr(b'=', token);
        let (name, setto) = match (token[0], equals) {
            (b'-', Some(e)) => (&token[1..e], Setto::False),
            (b'-', None) => (&token[1..], Setto::False),
            (b'!', Some(e)) => (&token[1..e], Setto::Unset),
            (b'!', None) => (&token[1..], Setto::Unset),
            (_, Some(e)) => (&token[..e], Setto::Value(token[e + 1..].to_vec())),
            (_, None) => (token, Setto::True),
        };
        if !valid_name(name) {
            return None;
        }
        out.push((name, setto));
        s = &s[span(s, ep, is_blank)..];
    }
    Some(out)
}

/// git's `parse_path_pattern`; `None` for a negative pattern.
fn parse_pattern(name: &[u8]) -> Option<Pattern> {
    // The pattern is copied as a C string: it ends at a NUL.
    let p = match memchr::memchr(0, name) {
        Some(n) => &name[..n],
        None => name,
    };
    if p.first() == Some(&b'!') {
        return None;
    }
    let mut len = p.len();
    let must_be_dir = len > 0 && p[len - 1] == b'/';
    if must_be_dir {
        len -= 1;
    }
    let no_dir = !p[..len].contains(&b'/');
    let literal = simple_length(p).min(len);
    let ends_with = p.first() == Some(&b'*') && simple_length(&p[1..]) == p.len() - 1;
    Some(Pattern {
        text: p[..len].to_vec(),
        literal,
        no_dir,
        must_be_dir,
        ends_with,
    })
}

fn is_glob_special(c: u8) -> bool {
    matches!(c, b'*' | b'?' | b'[' | b'\\')
}

/// The length of the lead without `* ? [ \`.
fn simple_length(s: &[u8]) -> usize {
    s.iter()
        .position(|&c| is_glob_special(c))
        .unwrap_or(s.len())
}

/// git's `unquote_c_style` on a pattern that opens with `"`: the unquoted bytes and
/// how many bytes of `s` the quoted string took; `None` if it is not one.
fn unquote_c_style(s: &[u8]) -> Option<(Vec<u8>, usize)> {
    if s.first() != Some(&b'"') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        let c = *s.get(i)?;
        i += 1;
        match c {
            b'"' => return Some((out, i)),
            b'\\' => {}
            _ => {
                out.push(c);
                continue;
            }
        }
        let c = *s.get(i)?;
        i += 1;
        let byte = match c {
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            b'\\' | b'"' => c,
            b'0'..=b'3' => {
                let d1 = *s.get(i)?;
                let d2 = *s.get(i + 1)?;
                if !(b'0'..=b'7').contains(&d1) || !(b'0'..=b'7').contains(&d2) {
                    return None;
                }
                i += 2;
                ((c - b'0') << 6) | ((d1 - b'0') << 3) | (d2 - b'0')
            }
            _ => return None,
        };
        out.push(byte);
    }
}

/// git's `path_matches` for one rule of the file in directory `base`.
fn path_matches(path: &[u8], basename_offset: usize, pat: &Pattern, base: &[u8]) -> bool {
    let is_dir = path.last() == Some(&b'/');
    if pat.must_be_dir && !is_dir {
        return false;
    }
    let end = path.len() - usize::from(is_dir);
    if pat.no_dir {
        match_basename(&path[basename_offset.min(end)..end], pat)
    } else {
        match_pathname(&path[..end], base, pat)
    }
}

fn match_basename(basename: &[u8], pat: &Pattern) -> bool {
    let p = &pat.text;
    if pat.literal == p.len() {
        p.as_slice() == basename
    } else if pat.ends_with {
        basename.ends_with(&p[1..])
    } else {
        wildmatch(p, basename, false)
    }
}

fn match_pathname(path: &[u8], base: &[u8], pat: &Pattern) -> bool {
    let (mut p, mut prefix) = (pat.text.as_slice(), pat.literal);
    if p.first() == Some(&b'/') {
        p = &p[1..];
        prefix = prefix.saturating_sub(1);
    }
    if path.len() < base.len() + 1
        || (!base.is_empty() && path[base.len()] != b'/')
        || !path.starts_with(base)
    {
        return false;
    }
    let mut name = if base.is_empty() {
        path
    } else {
        &path[base.len() + 1..]
    };
    if prefix > 0 {
        if prefix > name.len() || p[..prefix] != name[..prefix] {
            return false;
        }
        p = &p[prefix..];
        name = &name[prefix..];
        if p.is_empty() && name.is_empty() {
            return true;
        }
    }
    wildmatch(p, name, true)
}

const WM_MATCH: i8 = 0;
const WM_NOMATCH: i8 = 1;
const WM_ABORT_ALL: i8 = -1;
const WM_ABORT_TO_STARSTAR: i8 = -2;

/// git's `wildmatch` (`WM_PATHNAME` if `pathname`, never `WM_CASEFOLD`).
fn wildmatch(pattern: &[u8], text: &[u8], pathname: bool) -> bool {
    dowild(pattern, text, pathname) == WM_MATCH
}

/// git's `dowild`, statement for statement; a slice's end reads as C's NUL.
fn dowild(pat: &[u8], text: &[u8], pathname: bool) -> i8 {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut p, mut t) = (0usize, 0usize);
    loop {
        let mut p_ch = at(pat, p);
        if p_ch == 0 {
            break;
        }
        let mut t_ch = at(text, t);
        if t_ch == 0 && p_ch != b'*' {
            return WM_ABORT_ALL;
        }
        match p_ch {
            b'?' => {
                if pathname && t_ch == b'/' {
                    return WM_NOMATCH;
                }
            }
            b'*' => {
                let match_slash;
                p += 1;
                if at(pat, p) == b'*' {
                    let prev_p = p;
                    p += 1;
                    while at(pat, p) == b'*' {
                        p += 1;
                    }
                    if !pathname {
                        match_slash = true;
                    } else if (prev_p < 2 || pat[prev_p - 2] == b'/')
                        && (at(pat, p) == 0
                            || at(pat, p) == b'/'
                            || (at(pat, p) == b'\\' && at(pat, p + 1) == b'/'))
                    {
                        if at(pat, p) == b'/'
                            && dowild(&pat[p + 1..], &text[t..], pathname) == WM_MATCH
                        {
                            return WM_MATCH;
                        }
                        match_slash = true;
                    } else {
                        match_slash = false;
                    }
                } else {
                    match_slash = !pathname;
                }
                if at(pat, p) == 0 {
                    if !match_slash && text[t..].contains(&b'/') {
                        return WM_ABORT_TO_STARSTAR;
                    }
                    return WM_MATCH;
                } else if !match_slash && at(pat, p) == b'/' {
                    match memchr::memchr(b'/', &text[t..]) {
                        None => return WM_ABORT_ALL,
                        Some(i) => t += i,
                    }
                    // The slash is consumed by the loop's step.
                    p += 1;
                    t += 1;
                    continue;
                }
                loop {
                    if t_ch == 0 {
                        break;
                    }
                    let next = at(pat, p);
                    if !is_glob_special(next) {
                        loop {
                            t_ch = at(text, t);
                            if t_ch == 0 || (!match_slash && t_ch == b'/') || t_ch == next {
                                break;
                            }
                            t += 1;
                        }
                        if t_ch != next {
                            return if match_slash {
                                WM_ABORT_ALL
                            } else {
                                WM_ABORT_TO_STARSTAR
                            };
                        }
                    }
                    let matched = dowild(&pat[p..], &text[t..], pathname);
                    if matched != WM_NOMATCH {
                        if !match_slash || matched != WM_ABORT_TO_STARSTAR {
                            return matched;
                        }
                    } else if !match_slash && t_ch == b'/' {
                        return WM_ABORT_TO_STARSTAR;
                    }
                    t += 1;
                    t_ch = at(text, t);
                }
                return WM_ABORT_ALL;
            }
            b'[' => {
                p += 1;
                p_ch = at(pat, p);
                if p_ch == b'^' {
                    p_ch = b'!';
                }
                let negated = p_ch == b'!';
                if negated {
                    p += 1;
                    p_ch = at(pat, p);
                }
                let mut prev_ch = 0u8;
                let mut matched = false;
                loop {
                    // The body of C's do-while; `continue` there goes to its condition.
                    if p_ch == 0 {
                        return WM_ABORT_ALL;
                    }
                    if p_ch == b'\\' {
                        p += 1;
                        p_ch = at(pat, p);
                        if p_ch == 0 {
                            return WM_ABORT_ALL;
                        }
                        if t_ch == p_ch {
                            matched = true;
                        }
                    } else if p_ch == b'-'
                        && prev_ch != 0
                        && at(pat, p + 1) != 0
                        && at(pat, p + 1) != b']'
                    {
                        p += 1;
                        p_ch = at(pat, p);
                        if p_ch == b'\\' {
                            p += 1;
                            p_ch = at(pat, p);
                            if p_ch == 0 {
                                return WM_ABORT_ALL;
                            }
                        }
                        if t_ch <= p_ch && t_ch >= prev_ch {
                            matched = true;
                        }
                        p_ch = 0;
                    } else if p_ch == b'[' && at(pat, p + 1) == b':' {
                        p += 2;
                        let s = p;
                        loop {
                            p_ch = at(pat, p);
                            if p_ch == 0 || p_ch == b']' {
                                break;
                            }
                            p += 1;
                        }
                        if p_ch == 0 {
                            return WM_ABORT_ALL;
                        }
                        if p == s || pat[p - 1] != b':' {
                            // Not "[:class:]": a plain '[' in the set.
                            p = s - 2;
                            p_ch = b'[';
                            if t_ch == p_ch {
                                matched = true;
                            }
                        } else {
                            match class_matches(&pat[s..p - 1], t_ch) {
                                Some(true) => matched = true,
                                Some(false) => {}
                                None => return WM_ABORT_ALL,
                            }
                            p_ch = 0;
                        }
                    } else if t_ch == p_ch {
                        matched = true;
                    }
                    prev_ch = p_ch;
                    p += 1;
                    p_ch = at(pat, p);
                    if p_ch == b']' {
                        break;
                    }
                }
                if matched == negated || (pathname && t_ch == b'/') {
                    return WM_NOMATCH;
                }
            }
            _ => {
                if p_ch == b'\\' {
                    // A literal match with the next byte (none: no match).
                    p += 1;
                    p_ch = at(pat, p);
                }
                if t_ch != p_ch {
                    return WM_NOMATCH;
                }
            }
        }
        p += 1;
        t += 1;
    }
    if at(text, t) != 0 {
        WM_NOMATCH
    } else {
        WM_MATCH
    }
}

/// A `[:class:]` as git's sane ctype reads it; `None` for an unknown class.
fn class_matches(class: &[u8], c: u8) -> Option<bool> {
    Some(match class {
        b"alnum" => c.is_ascii_alphanumeric(),
        b"alpha" => c.is_ascii_alphabetic(),
        b"blank" => c == b' ' || c == b'\t',
        b"cntrl" => c < 0x20 || c == 0x7f,
        b"digit" => c.is_ascii_digit(),
        b"graph" => (0x21..=0x7e).contains(&c),
        b"lower" => c.is_ascii_lowercase(),
        b"print" => (0x20..=0x7e).contains(&c),
        b"punct" => c.is_ascii_punctuation(),
        // git's isspace: no \v, no \f.
        b"space" => matches!(c, b' ' | b'\t' | b'\n' | b'\r'),
        b"upper" => c.is_ascii_uppercase(),
        b"xdigit" => c.is_ascii_hexdigit(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WN: &str = "workbench-narrative";

    fn attrs(files: &[(&str, &[u8])]) -> Attributes {
        let files: Vec<AttrFile> = files
            .iter()
            .map(|(dir, text)| AttrFile {
                dir: dir.to_string(),
                text: text.to_vec(),
            })
            .collect();
        Attributes::parse(&files)
    }

    /// The state of `attr` at each path, for a root file `text`.
    fn root(text: &[u8], attr: &str, paths: &[&str]) -> Vec<AttrState> {
        let a = attrs(&[("", text)]);
        paths.iter().map(|p| a.state(p, attr)).collect()
    }

    fn marked(text: &[u8], paths: &[&str]) -> Vec<bool> {
        root(text, WN, paths)
            .iter()
            .map(AttrState::is_set)
            .collect()
    }

    use AttrState::{Set, Unset, Unspecified};

    #[test]
    fn a_pattern_without_a_slash_matches_the_basename_at_any_depth() {
        assert_eq!(
            marked(
                b"*.md workbench-narrative\n",
                &["a.md", "d/a.md", "d/e/a.md", "a.mdx", "md"]
            ),
            [true, true, true, false, false]
        );
    }

    #[test]
    fn a_leading_or_middle_slash_anchors_the_pattern_to_its_directory() {
        let paths = ["a.md", "d/a.md", "x/d/a.md"];
        assert_eq!(
            marked(b"/a.md workbench-narrative\n", &paths),
            [true, false, false]
        );
        assert_eq!(
            marked(b"d/a.md workbench-narrative\n", &paths),
            [false, true, false]
        );
        let a = attrs(&[("d", b"/a.md workbench-narrative\ne/b.md diff\n")]);
        assert_eq!(a.state("d/a.md", WN), Set);
        assert_eq!(a.state("d/x/a.md", WN), Unspecified);
        assert_eq!(a.state("a.md", WN), Unspecified);
        assert_eq!(a.state("d/e/b.md", "diff"), Set);
        assert_eq!(a.state("e/b.md", "diff"), Unspecified);
    }

    #[test]
    fn a_trailing_slash_never_matches_a_file() {
        assert_eq!(
            marked(
                b"d/ workbench-narrative\na.md/ workbench-narrative\n",
                &["d", "d/a.md", "a.md"]
            ),
            [false, false, false]
        );
    }

    #[test]
    fn star_and_question_do_not_cross_slashes() {
        let paths = ["d/a.md", "dxa.md", "d/e/a.md"];
        assert_eq!(
            marked(b"d*a.md workbench-narrative\n", &paths),
            [false, true, false]
        );
        assert_eq!(
            marked(b"d?a.md workbench-narrative\n", &paths),
            [false, true, false]
        );
        assert_eq!(
            marked(b"d/*.md workbench-narrative\n", &paths),
            [true, false, false]
        );
    }

    #[test]
    fn double_stars() {
        let paths = ["a.md", "d/a.md", "d/e/a.md", "x/d/a.md", "d"];
        assert_eq!(
            marked(b"**/a.md workbench-narrative\n", &paths),
            [true, true, true, true, false]
        );
        assert_eq!(
            marked(b"d/** workbench-narrative\n", &paths),
            [false, true, true, false, false]
        );
        assert_eq!(
            marked(b"d/**/a.md workbench-narrative\n", &paths),
            [false, true, true, false, false]
        );
        // Not a whole component: a `*` that stops at slashes...
        assert_eq!(
            marked(b"d**a.md workbench-narrative\n", &["dxa.md", "d/a.md"]),
            [true, false]
        );
        // ...except after the literal lead, which git compares first.
        assert_eq!(
            marked(
                b"foo**/bar workbench-narrative\n",
                &["foo/bar", "foox/bar", "foo/x/bar", "fo/bar"]
            ),
            [true, true, true, false]
        );
    }

    #[test]
    fn bracket_expressions() {
        let paths = ["a.md", "c.md", "z.md", "].md", "-.md", "1.md", "Z.md"];
        assert_eq!(
            marked(b"[a-c].md workbench-narrative\n", &paths),
            [true, true, false, false, false, false, false]
        );
        assert_eq!(
            marked(b"[!a-c].md workbench-narrative\n", &paths),
            [false, false, true, true, true, true, true]
        );
        assert_eq!(
            marked(b"[^a].md workbench-narrative\n", &paths)[..2],
            [false, true]
        );
        assert!(marked(b"[]].md workbench-narrative\n", &paths)[3]);
        assert!(marked(b"[a-].md workbench-narrative\n", &paths)[4]);
        assert!(marked(b"[\\]].md workbench-narrative\n", &paths)[3]);
        assert_eq!(
            marked(b"[[:alpha:]].md workbench-narrative\n", &paths),
            [true, true, true, false, false, false, true]
        );
        assert_eq!(
            marked(b"[[:digit:][:upper:]].md workbench-narrative\n", &paths),
            [false, false, false, false, false, true, true]
        );
        // An unknown class or an unterminated set matches nothing.
        assert_eq!(
            marked(b"[[:foo:]].md workbench-narrative\n", &paths),
            [false; 7]
        );
        assert_eq!(
            marked(b"[a.md workbench-narrative\n", &["[a.md", "a.md"]),
            [false, false]
        );
        // A bracket never matches a slash.
        assert_eq!(marked(b"d[/]a workbench-narrative\n", &["d/a"]), [false]);
    }

    #[test]
    fn posix_classes_are_git_s_ascii_ones() {
        let m = |class: &str, c: u8| class_matches(class.as_bytes(), c).unwrap();
        assert!(m("space", b'\r') && m("space", b'\n') && !m("space", 0x0b) && !m("space", 0x0c));
        assert!(m("blank", b'\t') && !m("blank", b'\n'));
        assert!(m("graph", b'~') && !m("graph", b' ') && !m("graph", 0xe9));
        assert!(m("print", b' ') && !m("print", 0x7f));
        assert!(m("cntrl", 0x7f) && m("cntrl", 0) && !m("cntrl", 0x80));
        assert!(m("punct", b'_') && !m("punct", b'a'));
        assert!(m("xdigit", b'F') && !m("xdigit", b'g'));
        assert!(!m("alpha", 0xc3) && !m("lower", b'A') && m("upper", b'A'));
        assert_eq!(class_matches(b"word", b'a'), None);
    }

    #[test]
    fn backslash_escapes() {
        assert_eq!(
            marked(b"\\*.md workbench-narrative\n", &["*.md", "a.md"]),
            [true, false]
        );
        assert_eq!(marked(b"\\!a.md workbench-narrative\n", &["!a.md"]), [true]);
        assert_eq!(marked(b"\\#a.md workbench-narrative\n", &["#a.md"]), [true]);
        // A trailing backslash escapes nothing, and matches nothing.
        assert_eq!(
            marked(b"a.md\\ workbench-narrative\n", &["a.md\\", "a.md"]),
            [false, false]
        );
    }

    #[test]
    fn negative_patterns_are_ignored() {
        let a = attrs(&[(
            "",
            b"!a.md workbench-narrative\n\"!b.md\" workbench-narrative\n",
        )]);
        assert_eq!(a.state("a.md", WN), Unspecified);
        assert_eq!(a.state("!a.md", WN), Unspecified);
        assert_eq!(a.state("b.md", WN), Unspecified);
        assert_eq!(
            a.ignored()
                .iter()
                .map(|i| (i.line, i.why))
                .collect::<Vec<_>>(),
            [
                (1, IgnoredWhy::NegativePattern),
                (2, IgnoredWhy::NegativePattern)
            ]
        );
    }

    #[test]
    fn c_quoted_patterns() {
        let text = b"\"a b.md\" workbench-narrative\n\"t\\tb\" workbench-narrative\n\"\\303\\251.md\" workbench-narrative\n\"q\\\"x\" workbench-narrative\n";
        assert_eq!(
            marked(text, &["a b.md", "t\tb", "é.md", "q\"x", "a"]),
            [true, true, true, true, false]
        );
        // Unquoting leaves a pattern, whose own backslash escapes still count.
        assert_eq!(
            marked(b"\"b\\\\s\" workbench-narrative\n", &["bs", "b\\s"]),
            [true, false]
        );
        // The attributes start right after the closing quote.
        assert_eq!(marked(b"\"a.md\"workbench-narrative\n", &["a.md"]), [true]);
        // A badly quoted pattern is taken as it stands, its quote included.
        assert_eq!(
            marked(b"\"a.md workbench-narrative\n", &["\"a.md", "a.md"]),
            [true, false]
        );
        assert_eq!(
            marked(b"\"a\\q\" workbench-narrative\n", &["\"aq\"", "\"a\\q\""]),
            [true, false]
        );
        // An octal NUL ends the pattern.
        assert_eq!(
            marked(b"\"x\\000y\" workbench-narrative\n", &["x", "xy"]),
            [true, false]
        );
        assert_eq!(
            unquote_c_style(b"\"\\a\\b\\f\\v\\r\\n\\101\"rest"),
            Some((b"\x07\x08\x0c\x0b\r\nA".to_vec(), 18))
        );
        assert_eq!(unquote_c_style(b"\"\\400\""), None);
        assert_eq!(unquote_c_style(b"\"\\08\""), None);
    }

    #[test]
    fn attribute_tokens() {
        let a = attrs(&[(
            "",
            b"a workbench-narrative\nb -workbench-narrative\nc !workbench-narrative\nd workbench-narrative=yes\ne workbench-narrative=\nf -workbench-narrative=1\ng workbench-narrative=a=b\n",
        )]);
        let got: Vec<AttrState> = ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .map(|p| a.state(p, WN))
            .collect();
        assert_eq!(
            got,
            [
                Set,
                Unset,
                Unspecified,
                AttrState::Value("yes".into()),
                AttrState::Value(String::new()),
                Unset,
                AttrState::Value("a=b".into()),
                Unspecified
            ]
        );
        assert!(AttrState::Value(String::new()).is_set());
        assert!(!Unset.is_set() && !Unspecified.is_set() && Set.is_set());
    }

    #[test]
    fn an_invalid_name_drops_the_whole_line() {
        for token in [
            "bad$",
            "-",
            "!",
            "--x",
            "=x",
            "builtin_x",
            "-builtin_objectmode",
            "na\u{ef}ve",
            "a\x0bb",
        ] {
            let text = format!("*.md workbench-narrative {token}\n");
            assert_eq!(marked(text.as_bytes(), &["a.md"]), [false], "{token:?}");
            let a = attrs(&[("", text.as_bytes())]);
            assert_eq!(a.ignored()[0].why, IgnoredWhy::InvalidName, "{token:?}");
        }
        assert_eq!(
            marked(b"*.md workbench-narrative a-b_c.9\n", &["a.md"]),
            [true]
        );
    }

    #[test]
    fn later_lines_override_earlier_ones_and_unspecified_counts() {
        let a = attrs(&[(
            "",
            b"*.md workbench-narrative\nb.md -workbench-narrative\nc.md !workbench-narrative\nd.md workbench-narrative -workbench-narrative\n",
        )]);
        assert_eq!(a.state("a.md", WN), Set);
        assert_eq!(a.state("b.md", WN), Unset);
        assert_eq!(a.state("c.md", WN), Unspecified);
        assert_eq!(a.state("d.md", WN), Unset);
    }

    #[test]
    fn deeper_files_override_shallower_ones() {
        let a = attrs(&[
            ("d/e", b"*.md !workbench-narrative\n"),
            (
                "",
                b"*.md workbench-narrative\nd/b.md -workbench-narrative\n",
            ),
            (
                "d",
                b"a.md -workbench-narrative\nb.md workbench-narrative\n",
            ),
        ]);
        assert_eq!(a.state("x.md", WN), Set);
        assert_eq!(a.state("d/a.md", WN), Unset);
        assert_eq!(a.state("d/b.md", WN), Set);
        assert_eq!(a.state("d/e/x.md", WN), Unspecified);
        assert_eq!(a.state("dd/a.md", WN), Set);
    }

    #[test]
    fn macros_expand_in_place() {
        let a = attrs(&[(
            "",
            b"[attr]nar workbench-narrative diff=md\n*.md nar\nb.md -nar\nc.md !nar\nd.md nar=1\ne.md workbench-narrative\n[attr]neg -workbench-narrative\nf.md workbench-narrative neg\ng.md neg workbench-narrative\n",
        )]);
        assert_eq!(a.state("a.md", "nar"), Set);
        assert_eq!(a.state("a.md", WN), Set);
        assert_eq!(a.state("a.md", "diff"), AttrState::Value("md".into()));
        assert_eq!(a.state("b.md", "nar"), Unset);
        assert_eq!(a.state("b.md", WN), Unspecified);
        assert_eq!(a.state("c.md", WN), Unspecified);
        assert_eq!(a.state("d.md", WN), Unspecified);
        assert_eq!(a.state("f.md", WN), Unset);
        assert_eq!(a.state("g.md", WN), Set);
    }

    #[test]
    fn macros_only_in_the_root_file_and_last_definition_wins() {
        let a = attrs(&[
            (
                "",
                b"*.md nar\n[attr]nar -workbench-narrative\n[attr]nar workbench-narrative\n",
            ),
            ("d", b"[attr]m workbench-narrative\n*.txt m\n"),
        ]);
        assert_eq!(a.state("a.md", WN), Set);
        assert_eq!(a.state("d/a.md", WN), Set);
        assert_eq!(a.state("d/a.txt", "m"), Set);
        assert_eq!(a.state("d/a.txt", WN), Unspecified);
        assert_eq!(a.ignored()[0].why, IgnoredWhy::MacroNotAllowed);
        assert_eq!(a.ignored()[0].dir, b"d");
    }

    #[test]
    fn macro_chains_and_cycles_end() {
        let a = attrs(&[("", b"[attr]m1 m2\n[attr]m2 m1 workbench-narrative -diff\n*.md m1\n[attr]self self -self\nself self\n")]);
        assert_eq!(a.state("a.md", WN), Set);
        assert_eq!(a.state("a.md", "diff"), Unset);
        assert_eq!(a.state("self", "self"), Set);
        // A chain far deeper than any thread's stack would take as recursion.
        let mut text = Vec::new();
        for i in 0..100_000 {
            text.extend_from_slice(format!("[attr]m{i} m{}\n", i + 1).as_bytes());
        }
        text.extend_from_slice(b"[attr]m100000 workbench-narrative\n*.md m0\n");
        assert_eq!(root(&text, WN, &["a.md"]), [Set]);
    }

    #[test]
    fn the_builtin_binary_macro() {
        let a = attrs(&[(
            "",
            b"*.md binary\nb.md binary diff\nc.md diff binary\nd.md -binary\n",
        )]);
        assert_eq!(a.state("a.md", "binary"), Set);
        for attr in ["diff", "merge", "text"] {
            assert_eq!(a.state("a.md", attr), Unset, "{attr}");
        }
        assert_eq!(a.state("b.md", "diff"), Set);
        assert_eq!(a.state("c.md", "diff"), Unset);
        assert_eq!(a.state("d.md", "diff"), Unspecified);
        // The root file may redefine it.
        assert_eq!(
            root(
                b"[attr]binary workbench-narrative\n*.md binary\n",
                WN,
                &["a.md"]
            ),
            [Set]
        );
        assert_eq!(
            root(
                b"[attr]binary workbench-narrative\n*.md binary\n",
                "diff",
                &["a.md"]
            ),
            [Unspecified]
        );
    }

    #[test]
    fn macro_lines_that_git_rejects() {
        assert_eq!(
            marked(b"[attr]bad$ workbench-narrative\n*.md bad$\n", &["a.md"]),
            [false]
        );
        assert_eq!(
            marked(b"[attr]builtin_x workbench-narrative\n", &["a.md"]),
            [false]
        );
        assert_eq!(
            marked(b"[attr]nar workbench-narrative $\n*.md nar\n", &["a.md"]),
            [false]
        );
        // `[attr]` alone is a pattern (a bracket expression), not a macro.
        assert_eq!(
            marked(b"[attr] workbench-narrative\n", &["a", "t", "r", "x"]),
            [true, true, true, false]
        );
        // A quoted `[attr]` is a macro: its name ends at the first blank inside.
        assert_eq!(
            marked(
                b"\"[attr]nar diff\" workbench-narrative\n*.md nar\n",
                &["a.md"]
            ),
            [true]
        );
    }

    #[test]
    fn crlf_and_blanks() {
        let text = b"*.md workbench-narrative\r\nb.md workbench-narrative=x\r\n\"c d.md\"\tworkbench-narrative\r\n";
        assert_eq!(
            root(text, WN, &["a.md", "b.md", "c d.md"]),
            [Set, AttrState::Value("x".into()), Set]
        );
        // A lone CR ends no line: it is a blank, so `b.md` here is an attribute name.
        let lone = b"*.md workbench-narrative\rb.md -workbench-narrative\n";
        assert_eq!(root(lone, WN, &["a.md", "b.md"]), [Unset, Unset]);
        assert_eq!(root(lone, "b.md", &["a.md"]), [Set]);
        // A vertical tab is no blank: it is part of the token.
        assert_eq!(marked(b"a.md\x0bworkbench-narrative\n", &["a.md"]), [false]);
    }

    #[test]
    fn comments_blank_lines_and_leading_blanks() {
        let text = b"# *.md workbench-narrative\n\n \t \n   # b.md workbench-narrative\n\t c.md workbench-narrative\n";
        assert_eq!(
            marked(text, &["a.md", "b.md", "c.md"]),
            [false, false, true]
        );
    }

    #[test]
    fn a_bom_is_part_of_the_first_pattern_in_a_blob() {
        let text = b"\xef\xbb\xbf*.md workbench-narrative\n*.txt workbench-narrative\n";
        assert_eq!(
            marked(text, &["a.md", "\u{feff}a.md", "a.txt"]),
            [false, true, true]
        );
    }

    #[test]
    fn a_nul_ends_the_file() {
        assert_eq!(
            marked(
                b"a.md workbench-narrative\n\0\nb.md workbench-narrative\n",
                &["a.md", "b.md"]
            ),
            [true, false]
        );
        assert_eq!(marked(b"a.md workbench-narr\0ative\n", &["a.md"]), [false]);
    }

    #[test]
    fn long_lines_and_large_files_are_ignored() {
        let line = |n: usize| {
            let mut l = b"*.md workbench-narrative".to_vec();
            l.resize(n, b' ');
            l.push(b'\n');
            l
        };
        assert_eq!(marked(&line(MAX_LINE_LENGTH - 1), &["a.md"]), [true]);
        assert_eq!(marked(&line(MAX_LINE_LENGTH), &["a.md"]), [false]);
        let a = attrs(&[("", &line(MAX_LINE_LENGTH))]);
        assert_eq!(a.ignored()[0].why, IgnoredWhy::LineTooLong);
        // A long comment is still a comment.
        let mut comment = vec![b'#'; 3 * MAX_LINE_LENGTH];
        comment.extend_from_slice(b"\n*.md workbench-narrative\n");
        assert_eq!(marked(&comment, &["a.md"]), [true]);

        let mut big = b"*.md workbench-narrative\n#".to_vec();
        big.resize(MAX_FILE_SIZE - 1, b'#');
        assert_eq!(marked(&big, &["a.md"]), [true]);
        big.push(b'\n');
        assert_eq!(marked(&big, &["a.md"]), [false]);
        let a = attrs(&[("", &big)]);
        assert_eq!(a.ignored()[0].why, IgnoredWhy::FileTooLarge);
    }

    #[test]
    fn case_sensitive() {
        assert_eq!(
            marked(
                b"*.MD workbench-narrative\nREADME workbench-narrative\n",
                &["a.md", "a.MD", "readme"]
            ),
            [false, true, false]
        );
    }

    #[test]
    fn bytes_that_are_not_utf8() {
        let a = Attributes::parse_bytes(&[(
            b"\xfe",
            b"/\xff*.md workbench-narrative\n[\x80-\xff]x workbench-narrative\n",
        )]);
        assert_eq!(a.state_bytes(b"\xfe/\xffa.md", WN), Set);
        assert_eq!(a.state_bytes(b"\xfe/a.md", WN), Unspecified);
        assert_eq!(a.state_bytes(b"\xfe/d/\xc3x", WN), Set);
        assert_eq!(a.state_bytes(b"\xfd/\xffa.md", WN), Unspecified);
        let v = attrs(&[("", b"* workbench-narrative=\xff\n")]);
        assert_eq!(v.state("a", WN), AttrState::Value("\u{fffd}".into()));
    }

    #[test]
    fn an_attribute_never_mentioned_is_unspecified() {
        let a = attrs(&[("", b"* diff\n")]);
        assert_eq!(a.state("a.md", WN), Unspecified);
        assert_eq!(a.state("a.md", "not a name"), Unspecified);
        assert_eq!(a.state("", WN), Unspecified);
    }

    #[test]
    fn a_directory_given_twice_counts_once_the_last() {
        let a = attrs(&[
            ("", b"*.md workbench-narrative\n"),
            ("", b"*.md -workbench-narrative\n"),
        ]);
        assert_eq!(a.state("a.md", WN), Unset);
        // A trailing slash on a directory is dropped ("/" is the root, macros and all).
        let a = attrs(&[
            ("d/", b"*.md workbench-narrative\n"),
            ("/", b"[attr]nar workbench-narrative\n"),
            ("e", b"*.md nar\n"),
        ]);
        assert_eq!(a.state("d/a.md", WN), Set);
        assert_eq!(a.state("e/a.md", WN), Set);
        assert_eq!(a.ignored(), []);
    }

    #[test]
    fn wildmatch_agrees_with_git_s_own_tests() {
        // A sample of git's t/t3070-wildmatch.sh (pathname mode).
        let cases: &[(&str, &str, bool)] = &[
            ("foo", "foo", true),
            ("@foo", "foo", false),
            ("???", "foo", true),
            ("*f", "foo", false),
            ("*foo*", "foo", true),
            ("foo/*", "foo/bar", true),
            ("foo/*", "foo/bar/baz", false),
            ("**/foo", "foo", true),
            ("**/foo", "XXX/foo", true),
            ("**/foo", "bar/baz/foo", true),
            ("*/foo", "bar/baz/foo", false),
            ("**/bar*", "foo/bar/baz", false),
            ("**/bar/*", "deep/foo/bar/baz", true),
            ("**/bar/**", "deep/foo/bar/baz/", true),
            ("**/bar/*", "deep/foo/bar", false),
            ("**/bar/**", "deep/foo/bar/", true),
            ("**/bar*", "foo/bar", true),
            ("*/bar/**", "foo/bar/baz/x", true),
            ("*/bar/**", "deep/foo/bar/baz/x", false),
            ("**/bar/*/*", "deep/foo/bar/baz/x", true),
            ("a[]]b", "a]b", true),
            ("a[]-]b", "a-b", true),
            ("a[]a-]b", "aab", true),
            ("]", "]", true),
            ("t[a-g]n", "ten", true),
            ("t[!a-g]n", "ten", false),
            ("t[!a-g]n", "ton", true),
            ("t[^a-g]n", "ton", true),
            ("a[]]b", "a]b", true),
            ("[\\\\-^]", "]", true),
            ("[\\\\-^]", "[", false),
            ("[\\-_]", "-", true),
            ("[\\]]", "]", true),
            ("[\\]]", "\\]", false),
            ("[\\]]", "\\", false),
            ("a[]b", "ab", false),
            ("ab[", "ab[", false),
            ("[!", "ab", false),
            ("[-]", "-", true),
            ("[a-", "-", false),
            ("[!a-", "-", false),
            ("[--A]", "-", true),
            ("[--A]", "5", true),
            ("[ --]", " ", true),
            ("[ --]", "$", true),
            ("[ --]", "-", true),
            ("[ --]", "0", false),
            ("[---]", "-", true),
            ("[------]", "-", true),
            ("[a-e-n]", "j", false),
            ("[a-e-n]", "-", true),
            ("[!------]", "a", true),
            ("[]-a]", "[", false),
            ("[]-a]", "^", true),
            ("[!]-a]", "^", false),
            ("[!]-a]", "[", true),
            ("[a^bc]", "^", true),
            ("[a-]b]", "-b]", true),
            ("[\\]", "\\", false),
            ("[\\\\]", "\\", true),
            ("[!\\\\]", "\\", false),
            ("[A-\\\\]", "G", true),
            ("b*a", "aaabbb", false),
            ("*ba*", "aabcaa", false),
            ("[,]", ",", true),
            ("[\\\\,]", ",", true),
            ("[\\\\,]", "\\", true),
            ("[,-.]", "-", true),
            ("[,-.]", "+", false),
            ("[,-.]", "-.]", false),
            ("[\\1-\\3]", "2", true),
            ("[\\1-\\3]", "3", true),
            ("[\\1-\\3]", "4", false),
            ("[[-\\]]", "\\", true),
            ("[[-\\]]", "[", true),
            ("[[-\\]]", "]", true),
            ("[[-\\]]", "-", false),
            (
                "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
                "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1",
                true,
            ),
            (
                "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
                "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1",
                false,
            ),
            (
                "-*-*-*-*-*-*-12-*-*-*-m-*-*-*",
                "-adobe-courier-bold-o-normal--12-120-75-75-/-70-iso8859-1",
                false,
            ),
            (
                "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
                "XXX/adobe/courier/bold/o/normal//12/120/75/75/m/70/iso8859/1",
                true,
            ),
            (
                "XXX/*/*/*/*/*/*/12/*/*/*/m/*/*/*",
                "XXX/adobe/courier/bold/o/normal//12/120/75/75/X/70/iso8859/1",
                false,
            ),
            (
                "**/*a*b*g*n*t",
                "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt",
                true,
            ),
            (
                "**/*a*b*g*n*t",
                "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz",
                false,
            ),
            ("*/*/*", "foo", false),
            ("*/*/*", "foo/bar", false),
            ("*/*/*", "foo/bba/arr", true),
            ("*/*/*", "foo/bb/aa/rr", false),
            ("**/**/**", "foo/bb/aa/rr", true),
            ("*X*i", "abcXdefXghi", true),
            ("*X*i", "ab/cXd/efXg/hi", false),
            ("*/*X*/*/*i", "ab/cXd/efXg/hi", true),
            ("**/*X*/**/*i", "ab/cXd/efXg/hi", true),
            ("[[:alpha:]][[:digit:]][[:upper:]]", "a1B", true),
            ("[[:digit:][:upper:][:space:]]", "A", true),
            ("[[:digit:][:upper:][:space:]]", "a", false),
            ("[[:digit:][:upper:][:space:]]", " ", true),
            ("[[:digit:][:upper:][:spaci:]]", "1", false),
            ("[a-c[:digit:]x-z]", "5", true),
            ("[a-c[:digit:]x-z]", "b", true),
            ("[a-c[:digit:]x-z]", "q", false),
        ];
        for (p, t, want) in cases {
            assert_eq!(
                wildmatch(p.as_bytes(), t.as_bytes(), true),
                *want,
                "{p:?} {t:?}"
            );
        }
        // Without pathname mode (a basename pattern), `*` is `**`.
        assert!(wildmatch(b"foo*", b"foo/bar", false));
        assert!(!wildmatch(b"foo?bar", b"foo/bar", true));
    }

    #[test]
    fn many_paths_against_many_rules_reuse_the_compiled_patterns() {
        let mut text = b"[attr]nar workbench-narrative\n".to_vec();
        for i in 0..50 {
            text.extend_from_slice(
                format!("reports/**/r{i}-*.md nar\n*.t{i} -workbench-narrative\n").as_bytes(),
            );
        }
        let a = attrs(&[("", &text), ("reports", b"*.md diff\n")]);
        let marked = (0..1000)
            .filter(|i| {
                a.state(&format!("reports/q{}/r{}-x.md", i % 7, i % 60), WN)
                    .is_set()
            })
            .count();
        assert_eq!(marked, (0..1000).filter(|i| i % 60 < 50).count());
    }
}
