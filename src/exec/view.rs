//! A per-run view of the working tree in which one file — a stage's params file —
//! holds other bytes, so a command that reads that file sees its run's values while
//! the user's file is never written (no kill can leave it changed) and runs in
//! parallel each see their own.
//!
//! The view is a directory beside the repository's private files whose entries are
//! symbolic links to the tree's entries, except the directories on the way to the
//! file and to the command's code files, which are real directories of links, the
//! code files, which are hard links (so that a script's own resolved path stays in
//! the view), and the file itself. `View::finish` carries what the command did in
//! those real directories into the tree, as if it had run there: entries it created
//! move in, entries it replaced (an atomic write renamed over a link) replace the
//! real ones, an entry it renamed is renamed, a file whose link it removed is
//! removed. Never carried: the rendered file, anything named `.git`, and the
//! protected paths. A directory whose link was only removed is kept (with a
//! warning): `mv dir other/` moves the link and looks the same, and removing the
//! directory then would lose it.
//!
//! A view is locked (an advisory lock on its directory) while its run is alive;
//! `remove_stale` removes the views of killed runs.

use super::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// What a view is made of.
pub struct ViewSpec<'a> {
    /// The directory views live in: on the tree's file system, so that carrying back
    /// is a rename (across file systems it is a copy).
    pub views: &'a Path,
    /// A name no other live view has (the run's).
    pub name: &'a str,
    /// The working tree.
    pub root: &'a Path,
    /// The file the view shows with other bytes, relative to `root`.
    pub file: &'a str,
    pub bytes: &'a [u8],
    /// The command's code files, relative to `root`: their directories are real in
    /// the view too, and they are hard links where the file system allows, so that a
    /// script finding the file from its own path (`Path(__file__).resolve().parent`,
    /// `dirname(__file__)/..`) finds the view's.
    pub code: &'a [String],
    /// Paths carrying back never removes or replaces, besides `.git` and the file
    /// (the repository's private directory).
    pub protect: &'a [PathBuf],
}

/// A device and inode: what an entry is, whatever it is called.
type Id = (u64, u64);

fn id_of(m: &fs::Metadata) -> Id {
    (m.dev(), m.ino())
}

/// How the view shows one entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    /// A symbolic link to this target.
    Sym(PathBuf),
    /// A hard link of the tree's file (a code file).
    Hard(Id),
}

/// One real directory of the view: the root, one on the way to the file, or one
/// holding code.
struct Level {
    /// Relative to the root (empty for the root).
    rel: PathBuf,
    /// The level of the directory holding this one.
    parent: Option<usize>,
    /// The view directory, to see whether the command replaced it.
    id: Id,
    links: BTreeMap<OsString, Link>,
    /// The entries that are real here: directories of other levels, or the file.
    kept: BTreeSet<OsString>,
}

/// A live view; dropped without `finish`, it is removed and nothing is carried back.
pub struct View {
    dir: PathBuf,
    root: PathBuf,
    name: String,
    levels: Vec<Level>,
    /// The rendered file in the view, and what it holds.
    rendered: Id,
    rendered_bytes: Vec<u8>,
    /// Where it is, relative to the view.
    file_rel: PathBuf,
    /// The user's file.
    file_id: Id,
    /// Canonical paths never removed or replaced: the file and the protected paths.
    protect: Vec<PathBuf>,
    warnings: Vec<String>,
    _lock: File,
    /// Every real directory of the view and the rendered file, open: while they are,
    /// their inodes cannot be reused, so an entry with the same device and inode is
    /// the same one (a directory the command removed and made again is another).
    _held: Vec<File>,
    finished: bool,
}

/// At most this many real directories in a view: each is held open while it lives.
/// Code directories beyond it stay links (their scripts then resolve to the tree).
const MAX_LEVELS: usize = 64;

/// An entry the command left in a real directory of the view that is not the link
/// made there.
struct Carry {
    level: usize,
    name: OsString,
    /// The name had a link, which the command replaced.
    replaced: bool,
    /// The entry is one of the view's links under another name: the real entry it
    /// names was renamed (this is where it was).
    moved_from: Option<PathBuf>,
}

impl View {
    /// Makes the view. The file must exist in the tree (its mode is kept).
    pub fn create(spec: &ViewSpec) -> Result<View> {
        let parts = normalized(spec.file).ok_or_else(|| Error::Io {
            path: PathBuf::from(spec.file),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a path inside the tree"),
        })?;
        let root = std::path::absolute(spec.root).map_err(Error::io(spec.root))?;
        fs::create_dir_all(spec.views).map_err(Error::io(spec.views))?;
        // Made under a name `remove_stale` leaves alone, locked, then renamed: a view is
        // never seen unlocked while its run is alive.
        let fresh = spec.views.join(format!(".new-{}", spec.name));
        fs::create_dir(&fresh).map_err(Error::io(&fresh))?;
        let lock = File::open(&fresh).map_err(Error::io(&fresh))?;
        let dir = spec.views.join(spec.name);
        let placed = lock
            .try_lock()
            .map_err(|e| match e {
                fs::TryLockError::Error(e) => e,
                fs::TryLockError::WouldBlock => io::ErrorKind::WouldBlock.into(),
            })
            .and_then(|()| match fs::symlink_metadata(&dir) {
                Ok(_) => Err(io::ErrorKind::AlreadyExists.into()),
                Err(_) => fs::rename(&fresh, &dir),
            });
        if let Err(e) = placed {
            let _ = fs::remove_dir(&fresh);
            return Err(Error::io(&dir)(e));
        }
        let mut view = View {
            dir,
            root,
            name: spec.name.to_string(),
            levels: Vec::new(),
            rendered: (0, 0),
            rendered_bytes: spec.bytes.to_vec(),
            file_rel: parts.iter().collect(),
            file_id: (0, 0),
            protect: Vec::new(),
            warnings: Vec::new(),
            _lock: lock,
            _held: Vec::new(),
            finished: false,
        };
        // On an error from here on, dropping the view removes it.
        view.build(&parts, spec)?;
        Ok(view)
    }

    /// The view's root: the command's working directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn build(&mut self, parts: &[OsString], spec: &ViewSpec) -> Result<()> {
        let (file_name, file_dirs) = parts.split_last().expect("normalized paths are not empty");
        let real_file: PathBuf = self.root.join(parts.iter().collect::<PathBuf>());
        let file_meta = fs::metadata(&real_file).map_err(Error::io(&real_file))?;
        self.file_id = id_of(&file_meta);
        let file_canon = fs::canonicalize(&real_file).map_err(Error::io(&real_file))?;
        self.protect = spec
            .protect
            .iter()
            .chain([&self.root.join(".git")])
            .filter_map(|p| fs::canonicalize(p).ok())
            .chain([file_canon.clone()])
            .collect();
        // The real directories (parents sort before children) and the code files.
        let mut dirs: BTreeSet<Vec<OsString>> = (0..=file_dirs.len())
            .map(|k| file_dirs[..k].to_vec())
            .collect();
        let on_the_way = dirs.clone();
        let mut code: BTreeMap<Vec<OsString>, BTreeSet<OsString>> = BTreeMap::new();
        for c in spec.code.iter().filter_map(|c| normalized(c)) {
            if c.as_slice() == parts {
                continue;
            }
            let (name, d) = c.split_last().expect("normalized paths are not empty");
            let more = (0..=d.len()).filter(|k| !dirs.contains(&d[..*k])).count();
            if dirs.len() + more > MAX_LEVELS {
                continue;
            }
            dirs.extend((0..=d.len()).map(|k| d[..k].to_vec()));
            code.entry(d.to_vec()).or_default().insert(name.clone());
        }
        // Where a link to a directory on the way to the file must point instead.
        let mut spine = Vec::new();
        for d in &on_the_way {
            let real = self.root.join(d.iter().collect::<PathBuf>());
            let canon = fs::canonicalize(&real).map_err(Error::io(&real))?;
            spine.push((canon, self.dir.join(d.iter().collect::<PathBuf>())));
        }
        let view_file = self.dir.join(parts.iter().collect::<PathBuf>());
        let mut index: HashMap<Vec<OsString>, usize> = HashMap::new();
        for d in &dirs {
            let parent = d.split_last().map(|(_, p)| p.to_vec());
            let parent = match parent {
                Some(p) => match index.get(&p) {
                    Some(&i) => Some(i),
                    None => continue, // its parent was left out
                },
                None => None,
            };
            let rel: PathBuf = d.iter().collect();
            let rd = self.root.join(&rel);
            let vd = self.dir.join(&rel);
            if parent.is_some() {
                let meta = match fs::metadata(&rd) {
                    Ok(m) if m.is_dir() => m,
                    // A code path that is gone, or not under a directory: the command
                    // finds what the tree has through the link.
                    _ if !on_the_way.contains(d) => continue,
                    Ok(_) => return Err(Error::io(&rd)(io::ErrorKind::NotADirectory.into())),
                    Err(e) => return Err(Error::io(&rd)(e)),
                };
                fs::create_dir(&vd).map_err(Error::io(&vd))?;
                fs::set_permissions(&vd, meta.permissions()).map_err(Error::io(&vd))?;
            }
            let mut kept: BTreeSet<OsString> = dirs
                .iter()
                .filter(|c| c.len() == d.len() + 1 && c.starts_with(d))
                .filter(|c| {
                    // a child level that will exist
                    on_the_way.contains(*c)
                        || fs::metadata(rd.join(c.last().unwrap())).is_ok_and(|m| m.is_dir())
                })
                .map(|c| c.last().unwrap().clone())
                .collect();
            if d.as_slice() == file_dirs {
                kept.insert(file_name.clone());
            }
            let hard = code.get(d);
            let mut links = BTreeMap::new();
            for entry in fs::read_dir(&rd).map_err(Error::io(&rd))? {
                let entry = entry.map_err(Error::io(&rd))?;
                let name = entry.file_name();
                if kept.contains(&name) {
                    continue;
                }
                let real = rd.join(&name);
                let link = vd.join(&name);
                if hard.is_some_and(|h| h.contains(&name)) {
                    let m = fs::symlink_metadata(&real).map_err(Error::io(&real))?;
                    // Across file systems, or where hard links are not allowed, a
                    // symbolic link does.
                    if m.is_file()
                        && id_of(&m) != self.file_id
                        && fs::hard_link(&real, &link).is_ok()
                    {
                        links.insert(name, Link::Hard(id_of(&m)));
                        continue;
                    }
                }
                let Some(target) = self.target_for(&entry, &view_file, &file_canon, &spine)? else {
                    self.warnings.push(format!(
                        "'{}' is left out of the command's view: it leads to the params file another way",
                        self.shown(&real)
                    ));
                    continue;
                };
                symlink(&target, &link).map_err(Error::io(&link))?;
                links.insert(name, Link::Sym(target));
            }
            let held = File::open(&vd).map_err(Error::io(&vd))?;
            let id = id_of(&held.metadata().map_err(Error::io(&vd))?);
            self._held.push(held);
            index.insert(d.clone(), self.levels.len());
            self.levels.push(Level {
                rel,
                parent,
                id,
                links,
                kept,
            });
        }
        let mut f = File::options()
            .write(true)
            .create_new(true)
            .open(&view_file)
            .map_err(Error::io(&view_file))?;
        f.write_all(spec.bytes).map_err(Error::io(&view_file))?;
        f.set_permissions(file_meta.permissions())
            .map_err(Error::io(&view_file))?;
        self.rendered = id_of(&f.metadata().map_err(Error::io(&view_file))?);
        self._held.push(f);
        Ok(())
    }

    /// What the view's link for `real` points at: `real` itself, unless it leads to
    /// the file by another name (a hard link, or a link to it or to a directory on its
    /// way), which must show the rendered file too. `None`: it leads there and the
    /// view has no counterpart (a link to a directory above the tree).
    fn target_for(
        &self,
        entry: &fs::DirEntry,
        view_file: &Path,
        file_canon: &Path,
        spine: &[(PathBuf, PathBuf)],
    ) -> Result<Option<PathBuf>> {
        use std::os::unix::fs::DirEntryExt;
        let real = &entry.path();
        // The directory listing's type and inode spare a stat per entry: a view's
        // cost is a few system calls per entry of its real directories.
        let kind = entry.file_type().map_err(Error::io(real))?;
        if !kind.is_symlink() {
            // A hard link of the file is the file; a directory off the way to it
            // cannot hold it (only a link can lead there).
            if kind.is_file()
                && entry.ino() == self.file_id.1
                && fs::symlink_metadata(real).is_ok_and(|m| id_of(&m) == self.file_id)
            {
                return Ok(Some(view_file.to_path_buf()));
            }
            return Ok(Some(real.to_path_buf()));
        }
        let Ok(followed) = fs::metadata(real) else {
            return Ok(Some(real.to_path_buf())); // dangling: kept as it is
        };
        if followed.is_file() && id_of(&followed) == self.file_id {
            return Ok(Some(view_file.to_path_buf()));
        }
        if followed.is_dir() {
            let canon = fs::canonicalize(real).map_err(Error::io(real))?;
            if file_canon.starts_with(&canon) {
                return Ok(spine
                    .iter()
                    .find(|(c, _)| *c == canon)
                    .map(|(_, v)| v.clone()));
            }
        }
        Ok(Some(real.to_path_buf()))
    }

    /// Carries the command's effects into the tree and removes the view. Returns what
    /// the user should know: entries not carried, and why.
    pub fn finish(mut self) -> Vec<String> {
        let mut w = std::mem::take(&mut self.warnings);
        self.carry_back(&mut w);
        self.finished = true;
        if let Err(e) = fs::remove_dir_all(&self.dir) {
            w.push(format!(
                "the command's view {} was not removed ({e}); the next run removes it",
                self.dir.display()
            ));
        }
        w
    }

    fn carry_back(&self, w: &mut Vec<String>) {
        // Levels the command left in place; below a replaced one nothing is judged
        // (its links are gone with it, which must not read as removals).
        let mut valid = vec![false; self.levels.len()];
        for (i, lv) in self.levels.iter().enumerate() {
            if lv.parent.is_some_and(|p| !valid[p]) {
                continue;
            }
            let vd = self.dir.join(&lv.rel);
            match fs::symlink_metadata(&vd) {
                Ok(m) if m.is_dir() && id_of(&m) == lv.id => valid[i] = true,
                _ => w.push(if lv.rel.as_os_str().is_empty() {
                    "the command removed its working directory: nothing it did there was carried into the working tree".to_string()
                } else {
                    format!(
                        "the command removed or replaced '{}' in its view, a directory the view makes real (it holds the params file or the command's code): nothing it did there was carried into the working tree",
                        lv.rel.display()
                    )
                }),
            }
        }
        // The command may mean to write its params file (a tuner saving its best
        // values): that never reaches the tree, and the user is told.
        let file_level = self.file_rel.parent().unwrap_or(Path::new(""));
        let file_kept = self
            .levels
            .iter()
            .zip(&valid)
            .any(|(l, ok)| *ok && l.rel == file_level);
        if file_kept {
            let now = fs::read(self.dir.join(&self.file_rel));
            if now.as_deref().ok() != Some(self.rendered_bytes.as_slice()) {
                w.push(format!(
                    "the command changed its params file '{}' in its view: the change is not carried into the working tree, whose file is never written",
                    self.file_rel.display()
                ));
            }
        }
        let levels = &self.levels;
        // Each symbolic link's target → its level and name.
        let mut named: HashMap<&Path, (usize, &OsString)> = HashMap::new();
        for (k, lv) in levels.iter().enumerate().filter(|(k, _)| valid[*k]) {
            for (name, link) in &lv.links {
                if let Link::Sym(t) = link {
                    named.insert(t, (k, name));
                }
            }
        }
        let mut carries = Vec::new();
        let mut removed: BTreeSet<(usize, OsString)> = BTreeSet::new();
        for (k, lv) in levels.iter().enumerate().filter(|(k, _)| valid[*k]) {
            let vd = self.dir.join(&lv.rel);
            let names: io::Result<Vec<OsString>> =
                fs::read_dir(&vd).and_then(|rd| rd.map(|e| e.map(|e| e.file_name())).collect());
            let names = match names {
                Ok(n) => n,
                Err(e) => {
                    // Unread, a directory must not look emptied.
                    w.push(format!(
                        "'{}' in the command's view could not be read ({e}): nothing it did there was carried into the working tree",
                        vd.display()
                    ));
                    continue;
                }
            };
            let present: BTreeSet<&OsString> = names.iter().collect();
            for name in &names {
                if lv.kept.contains(name) {
                    continue; // another level, or the rendered file: never carried
                }
                let vp = vd.join(name);
                let ours = lv.links.get(name);
                if let Some(Link::Sym(t)) = ours {
                    // One system call for the common case, an untouched link.
                    if fs::read_link(&vp).is_ok_and(|l| l == *t) {
                        continue;
                    }
                }
                let Ok(m) = fs::symlink_metadata(&vp) else {
                    continue;
                };
                let untouched = match ours {
                    Some(Link::Sym(t)) => {
                        m.file_type().is_symlink() && fs::read_link(&vp).is_ok_and(|l| l == *t)
                    }
                    Some(Link::Hard(id)) => m.is_file() && id_of(&m) == *id,
                    None => false,
                };
                if untouched {
                    continue;
                }
                let id = id_of(&m);
                if id == self.rendered || self.levels.iter().any(|l| l.id == id) {
                    w.push(format!(
                        "'{}' is the params file, or a directory of the view, under another name in the command's view: not carried into the working tree",
                        lv.rel.join(name).display()
                    ));
                    continue;
                }
                carries.push(Carry {
                    level: k,
                    name: name.clone(),
                    replaced: lv.links.contains_key(name),
                    moved_from: None,
                });
            }
            for name in lv.links.keys() {
                if !present.contains(name) {
                    removed.insert((k, name.clone()));
                }
            }
        }
        // One of the view's links under a new name, its own name removed or replaced
        // by something else: a rename (swaps included).
        let replaced: BTreeSet<(usize, OsString)> = carries
            .iter()
            .filter(|c| c.replaced)
            .map(|c| (c.level, c.name.clone()))
            .collect();
        let mut claimed = BTreeSet::new();
        for c in &mut carries {
            let vp = self.dir.join(&levels[c.level].rel).join(&c.name);
            let Ok(t) = fs::read_link(&vp) else { continue };
            let Some(&(k, name)) = named.get(t.as_path()) else {
                continue;
            };
            let key = (k, name.clone());
            if claimed.contains(&key) || !(removed.contains(&key) || replaced.contains(&key)) {
                continue; // a copy of a link that is still in place
            }
            removed.remove(&key);
            c.moved_from = Some(self.root.join(&levels[k].rel).join(name));
            claimed.insert(key);
        }
        // Renamed entries go to temporary names first, so that swaps work.
        let mut staged = Vec::new();
        for (i, c) in carries.iter().enumerate() {
            let Some(from) = &c.moved_from else { continue };
            let dst = self.root.join(&levels[c.level].rel).join(&c.name);
            if self.guarded_name(from) || self.guarded(from) {
                w.push(format!(
                    "the command renamed '{}' to '{}' in its view: not done in the working tree",
                    self.shown(from),
                    self.shown(&dst)
                ));
                continue;
            }
            let tmp = from.with_file_name(format!(".workbench-move-{}-{i}", self.name));
            match fs::rename(from, &tmp) {
                Ok(()) => staged.push((tmp, from, dst, c.replaced)),
                Err(e) => w.push(format!(
                    "'{}' was not renamed to '{}' in the working tree: {e}",
                    self.shown(from),
                    self.shown(&dst)
                )),
            }
        }
        for (tmp, from, dst, replaced) in staged {
            self.place(&tmp, &dst, replaced, w);
            if fs::symlink_metadata(&tmp).is_ok() && fs::rename(&tmp, from).is_err() {
                w.push(format!(
                    "'{}' is now '{}': it could be put neither at its new name nor back",
                    self.shown(from),
                    self.shown(&tmp)
                ));
            }
        }
        for c in carries.iter().filter(|c| c.moved_from.is_none()) {
            let rel = &levels[c.level].rel;
            self.place(
                &self.dir.join(rel).join(&c.name),
                &self.root.join(rel).join(&c.name),
                c.replaced,
                w,
            );
        }
        for (k, name) in removed {
            self.remove_real(&self.root.join(&levels[k].rel).join(name), w);
        }
    }

    /// Puts `src` at `dst` in the tree: moved in when `dst` is free or both are files
    /// (an atomic replace); a directory merged into a directory there; anything else
    /// only when the command replaced `dst` (removed its link).
    fn place(&self, src: &Path, dst: &Path, replaced: bool, w: &mut Vec<String>) {
        if let Err(e) = self.try_place(src, dst, replaced, w) {
            w.push(format!(
                "'{}' was not carried into the working tree: {e}",
                self.shown(dst)
            ));
        }
    }

    fn try_place(
        &self,
        src: &Path,
        dst: &Path,
        replaced: bool,
        w: &mut Vec<String>,
    ) -> io::Result<()> {
        if self.guarded_name(dst) {
            w.push(format!(
                "the command wrote '{}' in its view: not carried into the working tree (.git is never touched)",
                self.shown(dst)
            ));
            return Ok(());
        }
        let sm = fs::symlink_metadata(src)?;
        if sm.file_type().is_symlink() {
            self.retarget(src)?;
        }
        let dm = match fs::symlink_metadata(dst) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return match move_entry(src, dst, &self.name) {
                    // A parallel run's directory appeared there meanwhile: merge.
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists
                        ) && fs::symlink_metadata(dst).is_ok() =>
                    {
                        self.try_place(src, dst, replaced, w)
                    }
                    other => other,
                };
            }
            Err(e) => return Err(e),
            Ok(m) => m,
        };
        if sm.is_dir() && dm.is_dir() && !replaced {
            for entry in fs::read_dir(src)? {
                let name = entry?.file_name();
                self.place(&src.join(&name), &dst.join(&name), false, w);
            }
            let _ = fs::remove_dir(src);
            return Ok(());
        }
        if self.guarded(dst) {
            w.push(format!(
                "'{}' was not replaced: it holds the params file or the repository's own files",
                self.shown(dst)
            ));
            return Ok(());
        }
        if !sm.is_dir() && !dm.is_dir() {
            return move_entry(src, dst, &self.name);
        }
        if !replaced {
            w.push(format!(
                "'{}' was not carried into the working tree: a {} appeared there while the command ran",
                self.shown(dst),
                if dm.is_dir() { "directory" } else { "file" }
            ));
            return Ok(());
        }
        remove_any(dst, &dm)?;
        move_entry(src, dst, &self.name)
    }

    /// A link the command made to a place in the view points at the same place in the
    /// tree once carried.
    fn retarget(&self, link: &Path) -> io::Result<()> {
        let t = fs::read_link(link)?;
        let Ok(rest) = t.strip_prefix(&self.dir) else {
            return Ok(());
        };
        let tmp = link.with_file_name(format!(".workbench-link-{}", self.name));
        symlink(self.root.join(rest), &tmp)?;
        fs::rename(&tmp, link)
    }

    /// The tree's entry whose link the command removed.
    fn remove_real(&self, real: &Path, w: &mut Vec<String>) {
        if self.guarded_name(real) {
            w.push(format!(
                "the command removed '{}' from its view: the working tree's is kept (.git is never touched)",
                self.shown(real)
            ));
            return;
        }
        let m = match fs::symlink_metadata(real) {
            Ok(m) => m,
            Err(_) => return, // already gone
        };
        if m.is_dir() {
            w.push(format!(
                "the command removed the directory '{}' from its view, where it is a link: the working tree keeps it (a link moved away looks the same); remove it by hand if that was meant",
                self.shown(real)
            ));
            return;
        }
        if self.guarded(real) {
            w.push(format!(
                "the command removed '{}' from its view: the working tree's is kept (it is the params file)",
                self.shown(real)
            ));
            return;
        }
        if let Err(e) = fs::remove_file(real) {
            w.push(format!(
                "'{}' was removed in the command's view but not in the working tree: {e}",
                self.shown(real)
            ));
        }
    }

    fn guarded_name(&self, p: &Path) -> bool {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.eq_ignore_ascii_case(".git"))
    }

    /// True when removing or replacing `p` would remove the file or a protected path
    /// (a link itself never is: only the link would go).
    fn guarded(&self, p: &Path) -> bool {
        let Ok(m) = fs::symlink_metadata(p) else {
            return false;
        };
        if m.file_type().is_symlink() {
            return false;
        }
        if id_of(&m) == self.file_id {
            return true;
        }
        fs::canonicalize(p).is_ok_and(|c| self.protect.iter().any(|q| q.starts_with(&c)))
    }

    /// A tree path as the user knows it: relative to the root.
    fn shown(&self, p: &Path) -> String {
        p.strip_prefix(&self.root)
            .unwrap_or(p)
            .display()
            .to_string()
    }
}

impl Drop for View {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Removes the views no live run holds: those of killed runs. A view being made is
/// left alone for an hour.
pub fn remove_stale(views: &Path) {
    let Ok(entries) = fs::read_dir(views) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let fresh = entry.file_name().to_string_lossy().starts_with(".new-");
        let old = || {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > std::time::Duration::from_secs(3600))
        };
        if fresh && !old() {
            continue;
        }
        let Ok(f) = File::open(&path) else { continue };
        if f.try_lock().is_ok() {
            // remove_dir_all never follows a link: the tree behind the view is safe.
            if fs::remove_dir_all(&path).is_err() {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

/// `file`'s components with `.` and `..` resolved; `None` for an absolute path or
/// one that climbs out.
fn normalized(file: &str) -> Option<Vec<OsString>> {
    let mut out: Vec<OsString> = Vec::new();
    for c in Path::new(file).components() {
        match c {
            Component::Normal(n) => out.push(n.to_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Renames, or across file systems copies to a temporary name beside `dst` and
/// renames that (so `dst` still changes in one step); `tag` makes the temporary name
/// the caller's own.
fn move_entry(src: &Path, dst: &Path, tag: &str) -> io::Result<()> {
    match fs::rename(src, dst) {
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            let tmp = dst.with_file_name(format!(
                ".workbench-copy-{tag}-{}",
                dst.file_name().unwrap_or_default().to_string_lossy()
            ));
            let copied = copy_tree(src, &tmp).and_then(|()| fs::rename(&tmp, dst));
            if let Err(e) = copied {
                if let Ok(m) = fs::symlink_metadata(&tmp) {
                    let _ = remove_any(&tmp, &m);
                }
                return Err(e);
            }
            let m = fs::symlink_metadata(src)?;
            remove_any(src, &m)
        }
        other => other,
    }
}

fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    let m = fs::symlink_metadata(src)?;
    let t = m.file_type();
    if t.is_symlink() {
        symlink(fs::read_link(src)?, dst)
    } else if t.is_dir() {
        fs::create_dir(dst)?;
        for entry in fs::read_dir(src)? {
            let name = entry?.file_name();
            copy_tree(&src.join(&name), &dst.join(&name))?;
        }
        fs::set_permissions(dst, m.permissions())
    } else if t.is_file() {
        fs::copy(src, dst).map(|_| ())
    } else {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "not a file, directory or link",
        ))
    }
}

fn remove_any(p: &Path, m: &fs::Metadata) -> io::Result<()> {
    if m.is_dir() {
        fs::remove_dir_all(p)
    } else {
        fs::remove_file(p)
    }
}

#[cfg(test)]
mod tests;
