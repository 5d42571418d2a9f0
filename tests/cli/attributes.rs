//! `model::attributes` against the real git: every case's `.gitattributes` files are
//! committed (one commit per case, through `git fast-import`, so that any bytes and
//! any directory name can be written), and `git check-attr -z --stdin --source=<case>`
//! (no system file, no `core.attributesFile`, no `info/attributes`) must report, for
//! every path and attribute, what `Attributes` reads from the same files. A table of
//! hand-written hostile cases, then a few hundred from a seeded generator.

use crate::common::Repo;
use std::io::Write;
use std::process::Stdio;
use workbench::model::attributes::{AttrState, Attributes};

const WN: &str = "workbench-narrative";
/// The attributes every case is checked for.
const ATTRS: &[&str] = &[WN, "diff", "merge", "text", "binary", "nar", "m1", "m2"];

/// One committed `.gitattributes`: its directory, its bytes, and whether the tree
/// holds it as a symlink (whose target text git then reads as the file).
#[derive(Clone, Debug)]
struct File {
    dir: Vec<u8>,
    text: Vec<u8>,
    symlink: bool,
}

#[derive(Clone, Debug)]
struct Case {
    name: String,
    files: Vec<File>,
    paths: Vec<Vec<u8>>,
}

fn file(dir: &str, text: &[u8]) -> File {
    File {
        dir: dir.as_bytes().to_vec(),
        text: text.to_vec(),
        symlink: false,
    }
}

/// Paths every hand-written case is checked at, besides its own.
const COMMON_PATHS: &[&str] = &[
    "a.md",
    "A.md",
    "a.MD",
    "b.md",
    "a.md.txt",
    ".md",
    "d/a.md",
    "d/e/a.md",
    "d/e/f/a.md",
    "x/d/a.md",
    "d",
    "a",
    "t",
    "r",
    "foo/bar",
    "foox/bar",
    "foo/x/bar",
    "fooxbar",
];

fn case(name: &str, files: Vec<File>, paths: &[&[u8]]) -> Case {
    let mut all: Vec<Vec<u8>> = COMMON_PATHS.iter().map(|p| p.as_bytes().to_vec()).collect();
    all.extend(paths.iter().map(|p| p.to_vec()));
    Case {
        name: name.to_string(),
        files,
        paths: all,
    }
}

fn root(name: &str, text: &[u8], paths: &[&[u8]]) -> Case {
    case(name, vec![file("", text)], paths)
}

fn hand_written() -> Vec<Case> {
    let long = |n: usize, eol: &str| {
        let mut l = b"*.md workbench-narrative".to_vec();
        l.resize(n - eol.len(), b' ');
        l.extend_from_slice(eol.as_bytes());
        l.push(b'\n');
        l
    };
    vec![
        root("basename at any depth", b"*.md workbench-narrative\n", &[]),
        root("leading slash anchors", b"/a.md workbench-narrative\n", &[]),
        root("middle slash anchors", b"d/a.md workbench-narrative\n", &[]),
        root("trailing slash never a file", b"d/ workbench-narrative\na.md/ workbench-narrative\n", &[]),
        root("star slash", b"*/a.md workbench-narrative\nd/* diff\n", &[]),
        root("leading starstar", b"**/a.md workbench-narrative\n", &[]),
        root("trailing starstar", b"d/** workbench-narrative\n/** diff\n** merge\n", &[]),
        root("middle starstar", b"d/**/a.md workbench-narrative\nx/**/**/a.md diff\n", &[]),
        root("starstar glued to a literal", b"foo**/bar workbench-narrative\na**.md diff\n", &[]),
        root("starstar after a wildcard", b"f*o**/bar workbench-narrative\n?**/a.md diff\n", &[]),
        root("escaped slash after starstar", b"**\\/a.md workbench-narrative\nd/**\\/a.md diff\n", &[]),
        root("star and question do not cross slashes", b"d*a.md workbench-narrative\nd?a.md diff\nd/*/a.md merge\n", &[b"d/a.md", b"dxa.md"]),
        root("ranges", b"[a-c].md workbench-narrative\n[!a-c].md diff\n[^a].md merge\n", &[b"c.md", b"z.md"]),
        root(
            "classes",
            b"[[:alpha:]].md workbench-narrative\n[[:digit:][:upper:]].md diff\n[[:punct:]]x merge\n[[:space:]]y text\n[[:xdigit:]]z binary\n",
            &[b"1.md", b"Z.md", b"!x", b"\ty", b" y", b"\x0by", b"fz", b"gz"],
        ),
        root(
            "more classes",
            b"[[:alnum:]]1 workbench-narrative\n[[:blank:]]2 diff\n[[:cntrl:]]3 merge\n[[:graph:]]4 text\n[[:lower:]]5 nar\n[[:print:]]6 m1\n[[:upper:]]7 m2\n",
            &[b"a1", b"_1", b" 2", b"\t2", b"\x013", b"\x7f3", b"~4", b" 4", b"q5", b"Q5", b" 6", b"\x7f6", b"Q7", b"\xc37"],
        ),
        root(
            "odd brackets",
            b"[]].md workbench-narrative\n[!]].md diff\n[a-].md merge\n[\\]].md text\n[[:foo:]].md nar\n[[:alpha:].md m1\n[a m2\n",
            &[b"].md", b"-.md", b"[a", b"[.md", b":.md"],
        ),
        root(
            "bracket corner cases",
            b"[[:]x workbench-narrative\n[[:a]y diff\n[a-c-e]z merge\n[\\a-\\c]w text\n[z-a]v nar\n[[]u m1\n[/]t m2\n",
            &[b"[x", b":x", b"ay", b"[y", b"-z", b"ez", b"dz", b"bw", b"av", b"[u", b"d/t"],
        ),
        root("escapes", b"\\*.md workbench-narrative\n\\a.md diff\na.m\\ merge\n\\#c text\n\\!x nar\n", &[b"*.md", b"a.m\\", b"#c", b"!x"]),
        root("negative patterns are ignored", b"!a.md workbench-narrative\n!*.md diff\n\"!b.md\" merge\n", &[b"!a.md"]),
        root(
            "quoted patterns",
            b"\"a b.md\" workbench-narrative\n\"a\\tb\" diff\n\"\\303\\251.md\" merge\n\"q\\\"q\" text\n\"back\\\\slash\" nar\n",
            &[b"a b.md", b"a\tb", "é.md".as_bytes(), b"q\"q", b"back\\slash"],
        ),
        root(
            "badly quoted patterns",
            b"\"unterminated workbench-narrative\n\"bad\\q\" diff\n\"oct\\8\" merge\n\"\\400\" text\n",
            &[b"\"unterminated", b"\"bad\\q\"", b"\"oct\\8\""],
        ),
        root("quote glued to attributes", b"\"a.md\"workbench-narrative\n\"b.md\"-workbench-narrative diff\n", &[]),
        root("quoted NUL ends the pattern", b"\"x\\000y\" workbench-narrative\n\"\\000\" diff\n", &[b"x", b"xy"]),
        root("quoted control bytes", b"\"\\001x\" workbench-narrative\n\"\\a\\b\\f\\v\\r\" diff\n", &[b"\x01x", b"\x07\x08\x0c\x0b\r"]),
        root("quoted slash anchors", b"\"d/a.md\" workbench-narrative\n\"/b.md\" diff\n", &[b"d/b.md"]),
        root("quoted macro", b"\"[attr]nar workbench-narrative\" diff\n*.md nar\n", &[]),
        root("quoted macro with a blank", b"\"[attr] nar\" workbench-narrative\n*.md nar\n", &[]),
        root(
            "tokens",
            b"a.md -workbench-narrative\nb.md workbench-narrative=yes\nd/a.md workbench-narrative=\nd/e/a.md -workbench-narrative=1\nx/d/a.md workbench-narrative=a=b\nA.md !workbench-narrative=2\n",
            &[],
        ),
        root("later token wins", b"a.md workbench-narrative -workbench-narrative\nb.md -workbench-narrative workbench-narrative\n", &[]),
        root("later line wins", b"*.md workbench-narrative\na.md -workbench-narrative\nb.md !workbench-narrative\n", &[]),
        root("unspecified blocks earlier lines", b"*.md workbench-narrative\n*.md !workbench-narrative\nd/* workbench-narrative\n", &[]),
        root(
            "invalid names drop the line",
            b"a.md workbench-narrative bad$name\nb.md workbench-narrative -\nd/a.md workbench-narrative builtin_x\nd/e/a.md workbench-narrative --x\nA.md workbench-narrative =x\nx/d/a.md workbench-narrative !\n",
            &[],
        ),
        root("a reserved name drops the line", b"*.md workbench-narrative -builtin_objectmode\n", &[]),
        root("a token with a non-ASCII byte", b"*.md workbench-narrative na\xc3\xafve\nb.md workbench-narrative na\xefve\n", &[]),
        root("pattern without attributes", b"a.md\n*.md workbench-narrative\nb.md\n", &[]),
        root("comments and blanks", b"# a.md workbench-narrative\n   # b.md workbench-narrative\n\n\t\n\\#c.md workbench-narrative\n", &[b"#c.md"]),
        root("leading blanks", b"   *.md workbench-narrative\n\t\tb.md -workbench-narrative\n", &[]),
        root("vertical tab is not blank", b"a.md\x0bworkbench-narrative\nb.md workbench-narrative\x0c\n\x0b*.md diff\n", &[b"a.md\x0bworkbench-narrative", b"\x0ba.md"]),
        root("CRLF", b"*.md workbench-narrative\r\nb.md -workbench-narrative\r\n\"a b.md\" diff\r\na.md workbench-narrative=x\r\n", &[b"a b.md"]),
        root("lone CR", b"*.md workbench-narrative\rb.md diff\n", &[]),
        root("BOM", b"\xef\xbb\xbf*.md workbench-narrative\n*.md diff\n", &["\u{feff}a.md".as_bytes()]),
        root("BOM before a macro", b"\xef\xbb\xbf[attr]nar workbench-narrative\n*.md nar\n", &[]),
        root("BOM on a later line", b"*.md diff\n\xef\xbb\xbf*.md workbench-narrative\n", &["\u{feff}a.md".as_bytes()]),
        root("NUL ends the file", b"*.md workbench-narrative\n\0\nb.md -workbench-narrative\n", &[]),
        root("NUL mid-line", b"*.md workbench-narrative\nb.md -workbench\0-narrative\n", &[]),
        root("line of 2047 bytes", &long(2047, ""), &[]),
        root("line of 2048 bytes", &long(2048, ""), &[]),
        root("line of 2047 bytes with CR", &long(2047, "\r"), &[]),
        root("line of 2048 bytes with CR", &long(2048, "\r"), &[]),
        root("long comment", &[&b"#"[..], &[b'x'; 3000], b"\n*.md workbench-narrative\n"].concat(), &[]),
        root("case sensitive", b"*.MD workbench-narrative\nA.md diff\n", &[]),
        root("endswith", b"*.md workbench-narrative\n*md diff\n*.m? merge\n*a.md/ text\n", &[b"xmd"]),
        root("star alone and question", b"* workbench-narrative\n? diff\n*/ merge\n**/ text\n", &[]),
        root("empty quoted pattern", b"\"\" workbench-narrative\n", &[]),
        root("attr macro prefix alone is a pattern", b"[attr] workbench-narrative\n[attr]  diff\n", &[]),
        root("macro", b"[attr]nar workbench-narrative\n*.md nar\n", &[]),
        root("unset macro does not expand", b"[attr]nar workbench-narrative\n*.md -nar\nb.md !nar\nd/a.md nar=1\n", &[]),
        root("macro after its use", b"*.md nar\n[attr]nar workbench-narrative\n", &[]),
        root("macro redefined: last wins", b"[attr]nar workbench-narrative\n*.md nar\n[attr]nar -workbench-narrative\n", &[]),
        root("macro token order", b"[attr]nar -workbench-narrative\na.md workbench-narrative nar\nb.md nar workbench-narrative\n", &[]),
        root("macro line order", b"[attr]nar -workbench-narrative\n*.md workbench-narrative\na.md nar\nb.md nar\nb.md workbench-narrative\n", &[]),
        root("macro chain", b"[attr]m1 m2\n[attr]m2 nar\n[attr]nar workbench-narrative\n*.md m1\n", &[]),
        root("macro cycle", b"[attr]m1 m2 workbench-narrative\n[attr]m2 m1 -diff\n*.md m1\nb.md m2\n", &[]),
        root("macro names itself", b"[attr]nar -nar workbench-narrative\n*.md nar\n", &[]),
        root("macro with values", b"[attr]nar workbench-narrative=narrative diff=md -merge !text\n*.md nar\n", &[]),
        root("builtin binary", b"*.md binary\nb.md binary diff\nd/a.md diff binary\n", &[]),
        root("binary redefined", b"[attr]binary workbench-narrative\n*.md binary\n", &[]),
        root("binary unset", b"*.md -binary\n", &[]),
        root("invalid macro name", b"[attr]bad$ workbench-narrative\n[attr]builtin_x diff\n*.md bad$\n", &[]),
        root("macro with an invalid state", b"[attr]nar workbench-narrative $\n*.md nar\n", &[]),
        root("macro macro-expands a macro that is decided", b"[attr]nar workbench-narrative\n[attr]m1 nar -diff\n*.md m1\na.md -nar\n", &[]),
        case(
            "macros only in the root",
            vec![file("", b"*.md nar\n"), file("d", b"[attr]nar workbench-narrative\n*.md m1\n[attr]m1 diff\n")],
            &[],
        ),
        case(
            "a root macro used below",
            vec![file("", b"[attr]nar workbench-narrative\n"), file("d", b"*.md nar\n")],
            &[],
        ),
        case(
            "deeper overrides shallower",
            vec![file("", b"*.md workbench-narrative\n"), file("d", b"a.md -workbench-narrative\n"), file("d/e", b"*.md !workbench-narrative\n")],
            &[],
        ),
        case(
            "shallower does not override deeper",
            vec![file("", b"a.md -workbench-narrative\nd/a.md -workbench-narrative\n"), file("d", b"*.md workbench-narrative\n")],
            &[],
        ),
        case(
            "patterns relative to their directory",
            vec![file("d", b"/a.md workbench-narrative\ne/a.md diff\n**/a.md merge\nd/a.md text\n*/a.md nar\n")],
            &[b"d/d/a.md", b"d/x/a.md"],
        ),
        case(
            "a file below names no sibling",
            vec![file("d", b"*.md workbench-narrative\n"), file("x", b"../d/a.md -workbench-narrative\n")],
            &[b"dd/a.md"],
        ),
        case(
            "directory with a blank and a non-UTF-8 byte",
            vec![file("s p", b"*.md workbench-narrative\n"), File { dir: b"\xfe".to_vec(), text: b"/\xff*.md workbench-narrative\n".to_vec(), symlink: false }],
            &[b"s p/a.md", b"\xfe/\xffa.md", b"\xfe/a.md", b"\xfe/x/\xffa.md"],
        ),
        case(
            "non-UTF-8 patterns",
            vec![file("", b"\xff*.md workbench-narrative\n[\x80-\xff]x diff\n[[:alpha:]]\xe9 merge\n")],
            &[b"\xffa.md", b"\xc3x", b"a\xe9", b"\xe9\xe9"],
        ),
        case(
            "a symlinked .gitattributes is read",
            vec![File { dir: b"d".to_vec(), text: b"a.md workbench-narrative".to_vec(), symlink: true }],
            &[],
        ),
        case(
            "a symlinked root .gitattributes is read",
            vec![File { dir: b"".to_vec(), text: b"*.md workbench-narrative".to_vec(), symlink: true }],
            &[],
        ),
        case("nothing committed", vec![], &[]),
        case(
            "dotfiles and odd names",
            vec![file("", b".* workbench-narrative\n-x diff\n*~ merge\n")],
            &[b".gitattributes", b"d/.hidden", b"-x", b"a~"],
        ),
    ]
}

/// xorshift64*: deterministic, so a failure is the same failure every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const COMPONENTS: &[&[u8]] = &[
    b"a",
    b"b",
    b"d",
    b"e",
    b"ab",
    b"a.md",
    b"b.md",
    b"A.md",
    b"x.txt",
    b"readme.md",
    b"a b",
    b"[a]",
    b"*",
    b"\xff",
    b"\xc3\xa9",
    b"-",
    b".md",
    b"a.md.txt",
    b"#c",
];

const PIECES: &[&[u8]] = &[
    b"a",
    b"b",
    b"d",
    b"e",
    b".md",
    b"md",
    b"*",
    b"**",
    b"?",
    b"[a-c]",
    b"[!a]",
    b"[^b]",
    b"[[:alpha:]]",
    b"[[:digit:]]",
    b"[]]",
    b"\\*",
    b"\\a",
    b"\\",
    b"[",
    b"/",
    b"/",
    b" ",
    b"\xff",
    b"\xc3\xa9",
    b"a.md",
    b"*.md",
    b"**/",
    b"/**",
    b"[a",
    b".",
    b"-",
];

const TOKENS: &[&str] = &[
    WN,
    WN,
    WN,
    "-workbench-narrative",
    "!workbench-narrative",
    "workbench-narrative=v",
    "nar",
    "-nar",
    "!nar",
    "m1",
    "m2",
    "binary",
    "-binary",
    "diff",
    "-diff",
    "merge=x",
    "text",
    "bad$",
    "builtin_x",
    "-",
    "m1=1",
];

const MACROS: &[&[u8]] = &[
    b"[attr]nar workbench-narrative",
    b"[attr]nar -workbench-narrative diff",
    b"[attr]m1 nar",
    b"[attr]m1 -workbench-narrative m2",
    b"[attr]m2 m1 workbench-narrative",
    b"[attr]m2 !workbench-narrative",
    b"[attr]binary workbench-narrative -diff",
    b"[attr]nar bad$",
];

const DIRS: &[&[u8]] = &[b"", b"", b"d", b"d/e", b"a", b"a b", b"\xff", b"d/e/f"];

/// A pattern (as written in the file) and a path it was drawn to match (a wildcard
/// filled in at random, so most such paths match and some do not).
fn generated_pattern(rng: &mut Rng) -> (Vec<u8>, Vec<u8>) {
    let mut p = Vec::new();
    let mut path = Vec::new();
    if rng.chance(15) {
        p.push(b'/');
    }
    if rng.chance(3) {
        p.push(b'!');
    }
    for _ in 0..1 + rng.below(3) {
        let piece = rng.pick(PIECES);
        p.extend_from_slice(piece);
        path.extend_from_slice(&instance(rng, piece));
    }
    if rng.chance(5) {
        p.push(b'/');
    }
    let quoted = rng.chance(15) || p.contains(&b' ');
    if !quoted {
        return (p, path);
    }
    let mut q = vec![b'"'];
    for &c in &p {
        match c {
            b'"' | b'\\' => q.extend_from_slice(&[b'\\', c]),
            b' ' if rng.chance(50) => q.extend_from_slice(b"\\040"),
            0x80..=0xff if rng.chance(50) => q.extend_from_slice(format!("\\{c:03o}").as_bytes()),
            _ => q.push(c),
        }
    }
    if rng.chance(95) {
        q.push(b'"');
    }
    (q, path)
}

/// Text that a piece of a pattern may match.
fn instance(rng: &mut Rng, piece: &[u8]) -> Vec<u8> {
    let any = |rng: &mut Rng| rng.pick(COMPONENTS).to_vec();
    match piece {
        b"*" => [&b""[..], b"a", b"xy", b".md"][rng.below(4)].to_vec(),
        b"**" => [&b""[..], b"a", b"a/b", b"d/e"][rng.below(4)].to_vec(),
        b"**/" => [&b""[..], b"a/", b"a/b/"][rng.below(3)].to_vec(),
        b"/**" => [&b"/a"[..], b"/a/b", b""][rng.below(3)].to_vec(),
        b"*.md" => [&b"a.md"[..], b".md", b"x.mdx"][rng.below(3)].to_vec(),
        b"?" => [&b"a"[..], b"/", b"]"][rng.below(3)].to_vec(),
        b"[a-c]" | b"[!a]" | b"[^b]" | b"[[:alpha:]]" | b"[[:digit:]]" | b"[]]" => {
            [&b"a"[..], b"b", b"c", b"z", b"1", b"]", b"A"][rng.below(7)].to_vec()
        }
        b"\\*" => b"*".to_vec(),
        b"\\a" => b"a".to_vec(),
        b"\\" | b"[" | b"[a" => piece.to_vec(),
        _ if rng.chance(10) => any(rng),
        _ => piece.to_vec(),
    }
}

fn generated_line(rng: &mut Rng, eol: &[u8], paths: &mut Vec<Vec<u8>>, dir: &[u8]) -> Vec<u8> {
    let mut line = Vec::new();
    if rng.chance(10) {
        line.extend_from_slice(rng.pick(&[&b" "[..], b"\t", b"  \t"]));
    }
    match rng.below(20) {
        0 => line.extend_from_slice(b"# a comment"),
        1 => {}
        2 | 3 => line.extend_from_slice(rng.pick(MACROS)),
        _ => {
            let (pattern, path) = generated_pattern(rng);
            line.extend_from_slice(&pattern);
            let tokens = if rng.chance(10) { 0 } else { 1 + rng.below(3) };
            for _ in 0..tokens {
                line.extend_from_slice(rng.pick(&[&b" "[..], b"\t", b"  "]));
                line.extend_from_slice(rng.pick(TOKENS).as_bytes());
            }
            // Where the pattern may match: below its directory, maybe deeper.
            let mut p = dir.to_vec();
            if rng.chance(30) {
                if !p.is_empty() {
                    p.push(b'/');
                }
                p.extend_from_slice(rng.pick(COMPONENTS));
            }
            let path = path.strip_prefix(b"/").unwrap_or(&path);
            if !p.is_empty() {
                p.push(b'/');
            }
            p.extend_from_slice(path);
            paths.push(p);
        }
    }
    line.extend_from_slice(eol);
    line.push(b'\n');
    line
}

/// A tree path git takes as it is: no empty, `.` or `..` component, no NUL.
fn normal(path: &[u8]) -> bool {
    !path.contains(&0)
        && path
            .split(|&c| c == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

fn generated(rng: &mut Rng, n: usize) -> Case {
    let mut files: Vec<File> = Vec::new();
    let mut paths = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let dir = rng.pick(DIRS).to_vec();
        if files.iter().any(|f| f.dir == dir) {
            continue;
        }
        let eol: &[u8] = if rng.chance(20) { b"\r" } else { b"" };
        let mut text = Vec::new();
        if rng.chance(5) {
            text.extend_from_slice(b"\xef\xbb\xbf");
        }
        for _ in 0..1 + rng.below(8) {
            text.extend(generated_line(rng, eol, &mut paths, &dir));
        }
        files.push(File {
            dir,
            text,
            symlink: rng.chance(3),
        });
    }
    for _ in 0..12 {
        let mut p = Vec::new();
        for i in 0..1 + rng.below(4) {
            if i > 0 {
                p.push(b'/');
            }
            p.extend_from_slice(rng.pick(COMPONENTS));
        }
        paths.push(p);
    }
    paths.retain(|p| normal(p));
    Case {
        name: format!("generated #{n}"),
        files,
        paths,
    }
}

/// fast-import's quoting of a path: C-style, every byte outside printable ASCII octal.
fn quote_path(path: &[u8]) -> Vec<u8> {
    let mut q = vec![b'"'];
    for &c in path {
        match c {
            b'"' | b'\\' => q.extend_from_slice(&[b'\\', c]),
            0x20..=0x7e => q.push(c),
            _ => q.extend_from_slice(format!("\\{c:03o}").as_bytes()),
        }
    }
    q.push(b'"');
    q
}

fn attr_path(dir: &[u8]) -> Vec<u8> {
    if dir.is_empty() {
        b".gitattributes".to_vec()
    } else {
        [dir, b"/.gitattributes"].concat()
    }
}

/// Commits every case as `refs/cases/<n>`, a root commit holding only its files.
fn commit_cases(repo: &Repo, cases: &[Case]) {
    let mut child = repo
        .cmd("git", &["fast-import", "--quiet", "--done"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stream = std::io::BufWriter::new(child.stdin.take().unwrap());
    for (n, c) in cases.iter().enumerate() {
        write!(
            stream,
            "commit refs/cases/{n}\ncommitter A <a@example.com> 0 +0000\ndata 0\n"
        )
        .unwrap();
        for f in &c.files {
            let mode = if f.symlink { "120000" } else { "100644" };
            write!(stream, "M {mode} inline ").unwrap();
            stream.write_all(&quote_path(&attr_path(&f.dir))).unwrap();
            write!(stream, "\ndata {}\n", f.text.len()).unwrap();
            stream.write_all(&f.text).unwrap();
            stream.write_all(b"\n").unwrap();
        }
        stream.write_all(b"\n").unwrap();
    }
    stream.write_all(b"done\n").unwrap();
    drop(stream);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "fast-import failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `git check-attr` at a case's commit: for each path, each attribute's info
/// (`set`, `unset`, `unspecified` or the value), in `ATTRS` order.
fn git_states(repo: &Repo, n: usize, paths: &[Vec<u8>]) -> Vec<Vec<Vec<u8>>> {
    let source = format!("--source=refs/cases/{n}");
    let mut args = vec![
        "-c",
        "core.attributesFile=/dev/null",
        "check-attr",
        "-z",
        "--stdin",
        &source,
    ];
    args.extend_from_slice(ATTRS);
    let mut child = repo
        .cmd("git", &args)
        .env("GIT_ATTR_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p);
        input.push(0);
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "check-attr failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fields: Vec<&[u8]> = out.stdout.split(|&c| c == 0).collect();
    assert_eq!(
        fields.len(),
        paths.len() * ATTRS.len() * 3 + 1,
        "check-attr output"
    );
    let mut states = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let mut row = Vec::new();
        for (j, a) in ATTRS.iter().enumerate() {
            let k = (i * ATTRS.len() + j) * 3;
            assert_eq!(fields[k], p.as_slice(), "check-attr echoed another path");
            assert_eq!(fields[k + 1], a.as_bytes());
            row.push(fields[k + 2].to_vec());
        }
        states.push(row);
    }
    states
}

fn info(s: &AttrState) -> Vec<u8> {
    match s {
        AttrState::Set => b"set".to_vec(),
        AttrState::Unset => b"unset".to_vec(),
        AttrState::Unspecified => b"unspecified".to_vec(),
        AttrState::Value(v) => v.as_bytes().to_vec(),
    }
}

fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn describe(c: &Case) -> String {
    let mut s = format!("case {:?}:\n", c.name);
    for f in &c.files {
        s += &format!(
            "  {}{}: b\"{}\"\n",
            show(&attr_path(&f.dir)),
            if f.symlink { " (symlink)" } else { "" },
            show(&f.text[..f.text.len().min(400)])
        );
    }
    s
}

/// Compares every case with git; returns how often git answered each state of
/// `workbench-narrative` (a generator that only ever produces one says little).
fn check_against_git(cases: &[Case]) -> std::collections::BTreeMap<String, usize> {
    let mut seen = std::collections::BTreeMap::new();
    let repo = Repo::bare_dir();
    repo.git(&["init", "-q", "-b", "main"]);
    let info_attributes = repo.root.join(".git/info/attributes");
    assert!(!info_attributes.exists(), "git init wrote info/attributes");
    commit_cases(&repo, cases);
    let mut failures = Vec::new();
    let mut compared = 0;
    for (n, c) in cases.iter().enumerate() {
        let want = git_states(&repo, n, &c.paths);
        let files: Vec<(&[u8], &[u8])> = c
            .files
            .iter()
            .map(|f| (f.dir.as_slice(), f.text.as_slice()))
            .collect();
        let attrs = Attributes::parse_bytes(&files);
        for (p, row) in c.paths.iter().zip(&want) {
            for (a, git) in ATTRS.iter().zip(row) {
                compared += 1;
                if *a == WN {
                    let kind = match git.as_slice() {
                        b"set" | b"unset" | b"unspecified" => show(git),
                        _ => "a value".to_string(),
                    };
                    *seen.entry(kind).or_insert(0) += 1;
                }
                let ours = info(&attrs.state_bytes(p, a));
                if &ours != git {
                    failures.push(format!(
                        "{}  path b\"{}\" {a}: git {:?}, ours {:?}",
                        describe(c),
                        show(p),
                        show(git),
                        show(&ours)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} disagree with git:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 0);
    seen
}

#[test]
fn hand_written_cases_agree_with_git() {
    let seen = check_against_git(&hand_written());
    assert_eq!(seen.len(), 4, "{seen:?}");
}

const SEED: u64 = 0x5eed_a77b_0011_d00d;
const COUNT: usize = 500;

#[test]
fn generated_cases_agree_with_git() {
    let mut rng = Rng(SEED);
    let cases: Vec<Case> = (0..COUNT).map(|n| generated(&mut rng, n)).collect();
    let seen = check_against_git(&cases);
    // Every state comes up, and often: the cases do decide things.
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.values().all(|&n| n >= 50), "{seen:?}");
}

/// A `.gitattributes` one byte under git's size limit counts, one at it does not.
#[test]
fn the_size_limit_agrees_with_git() {
    let max = workbench::model::attributes::MAX_FILE_SIZE;
    let sized = |size: usize| {
        let mut text = b"*.md workbench-narrative\n#".to_vec();
        text.resize(size, b'#');
        case(&format!("{size} bytes"), vec![file("", &text)], &[])
    };
    let seen = check_against_git(&[sized(max - 1), sized(max)]);
    let md = COMMON_PATHS.iter().filter(|p| p.ends_with(".md")).count();
    assert_eq!(
        seen.get("set"),
        Some(&md),
        "only the smaller file counts: {seen:?}"
    );
}
