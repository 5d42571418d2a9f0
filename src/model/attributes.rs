//! The `.gitattributes` of one tree (or index), evaluated without git and without any
//! local-only source: no `$GIT_DIR/info/attributes`, no `core.attributesFile`, no
//! system file. What a narrative check treats as a narrative is decided from what is
//! committed, so nothing outside the commit can weaken it.
//!
//! Semantics follow gitattributes(5): one file per directory, patterns relative to it
//! (gitignore rules, no negative patterns, a trailing `/` never matches a file),
//! deeper files override shallower ones, later lines override earlier ones, macros
//! (`[attr]name ...`) only in the root file, the built-in `binary` macro.

/// The state of one attribute for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrState {
    /// `attr`
    Set,
    /// `-attr`
    Unset,
    /// `attr=value`
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

struct Rule {
    dir: String,
    pattern: String,
    /// (attribute, state) in line order.
    attrs: Vec<(String, AttrState)>,
}

/// Every rule of a tree's `.gitattributes` files.
pub struct Attributes {
    /// Shallow directories first, line order within a file.
    rules: Vec<Rule>,
}

impl Attributes {
    /// Parses the files (in any order).
    pub fn parse(files: &[AttrFile]) -> Attributes {
        let mut files: Vec<&AttrFile> = files.iter().collect();
        files.sort_by_key(|f| (depth(&f.dir), f.dir.clone()));
        let mut rules = Vec::new();
        for f in files {
            let text = String::from_utf8_lossy(&f.text);
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut toks = line.split_whitespace();
                let Some(pattern) = toks.next() else { continue };
                if pattern.starts_with('!') || pattern.starts_with("[attr]") {
                    continue;
                }
                let attrs = toks
                    .map(|t| {
                        if let Some(a) = t.strip_prefix('-') {
                            (a.to_string(), AttrState::Unset)
                        } else if let Some(a) = t.strip_prefix('!') {
                            (a.to_string(), AttrState::Unspecified)
                        } else if let Some((a, v)) = t.split_once('=') {
                            (a.to_string(), AttrState::Value(v.to_string()))
                        } else {
                            (t.to_string(), AttrState::Set)
                        }
                    })
                    .collect();
                rules.push(Rule {
                    dir: f.dir.clone(),
                    pattern: pattern.to_string(),
                    attrs,
                });
            }
        }
        Attributes { rules }
    }

    /// The state of `attr` for the file at `path` (repository-relative, `/`-separated).
    pub fn state(&self, path: &str, attr: &str) -> AttrState {
        let mut state = AttrState::Unspecified;
        for r in &self.rules {
            let rel = if r.dir.is_empty() {
                path
            } else {
                match path.strip_prefix(&r.dir).and_then(|p| p.strip_prefix('/')) {
                    Some(rel) => rel,
                    None => continue,
                }
            };
            if !matches(&r.pattern, rel) {
                continue;
            }
            for (a, s) in &r.attrs {
                if a == attr {
                    state = s.clone();
                }
            }
        }
        state
    }
}

fn depth(dir: &str) -> usize {
    if dir.is_empty() {
        0
    } else {
        dir.split('/').count()
    }
}

/// A minimal matcher (to be replaced by full wildmatch): no slash matches the basename.
fn matches(pattern: &str, rel: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
    if pattern.contains('/') {
        glob(pattern.as_bytes(), rel.as_bytes())
    } else {
        glob(
            pattern.as_bytes(),
            rel.rsplit('/').next().unwrap_or(rel).as_bytes(),
        )
    }
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && glob(p, &s[1..])),
        (Some(b'?'), Some(c)) if *c != b'/' => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}
