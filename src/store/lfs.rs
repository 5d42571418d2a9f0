//! Outputs kept in git LFS: the local object store git-lfs uses
//! (`<git common dir>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>`, or under
//! `lfs.storage`), written here the way git-lfs writes it (a temporary file under
//! `lfs/tmp`, renamed into place), and the `git lfs` CLI for moving objects to and from
//! a remote. Writing the object here rather than through `git lfs clean` keeps it to
//! one read of the output: the bytes hashed for the record are the bytes stored, and
//! `run` needs no git-lfs binary. Moving objects needs git-lfs, because its transfer
//! protocols (the batch API over HTTPS/SSH, the standalone agent for local remotes)
//! are what every host speaks.

use super::error::{Error, Result};
use super::{id, RunRef, Store};
use crate::exec::stable::{read_stable, Found, Links};
use crate::model::digest::Sha256;
use crate::model::lfs::LfsPointer;
use crate::model::ObjectId;
use sha2::Digest as _;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the local LFS store holds for a pointer.
#[derive(Debug)]
pub enum LocalObject {
    /// No object at its path.
    Missing,
    /// An object whose bytes have the pointer's sha256 and size (checked now).
    Valid(PathBuf),
    /// An object at its path with other bytes.
    Corrupt { path: PathBuf, why: String },
}

/// Read buffer of the streaming copies.
const CHUNK: usize = 1 << 16;

impl Store {
    /// Where git-lfs keeps this repository's objects: `lfs.storage` (relative to the
    /// git common dir when not absolute), else `<common dir>/lfs`.
    pub fn lfs_dir(&self) -> PathBuf {
        match self.config_string("lfs.storage") {
            Some(s) if !s.is_empty() => {
                let p = PathBuf::from(s);
                if p.is_absolute() {
                    p
                } else {
                    self.common_dir().join(p)
                }
            }
            _ => self.common_dir().join("lfs"),
        }
    }

    /// The path of an object in the local LFS store.
    pub fn lfs_object_path(&self, oid: &Sha256) -> PathBuf {
        let hex = oid.hex();
        self.lfs_dir()
            .join("objects")
            .join(&hex[0..2])
            .join(&hex[2..4])
            .join(&hex)
    }

    /// Copies the file at `path` (links followed) into the local LFS store, hashing
    /// it on the way: the pointer of the bytes stored and whether the file is
    /// executable, `None` when there is no file there (any more). A file that changes
    /// while it is read is read again, and the object is always of one complete read.
    pub fn lfs_store_file(&self, path: &Path) -> Result<Option<(LfsPointer, bool)>> {
        let tmp_dir = self.lfs_dir().join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(Error::io(&tmp_dir))?;
        let found = read_stable(path, Links::Follow, |f| {
            let mut tmp = tempfile::NamedTempFile::new_in(&tmp_dir)?;
            let (oid, size) = copy_hashing(f, tmp.as_file_mut())?;
            Ok((tmp, oid, size))
        })
        .map_err(Error::io(path))?;
        let Found::File {
            value: (tmp, oid, size),
            executable,
            ..
        } = found
        else {
            return Ok(None);
        };
        let dest = self.lfs_object_path(&oid);
        let dir = dest.parent().expect("object dir");
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        // Readable by all, as git-lfs writes its objects: a local remote that
        // hard-links them serves them to other users too (tempfile makes 0600).
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(Error::io(&dest))?;
        }
        tmp.as_file().sync_all().map_err(Error::io(&dest))?;
        // Over any object already there: ours was hashed as it was written, so it
        // also repairs a corrupt one.
        tmp.persist(&dest).map_err(|e| Error::io(&dest)(e.error))?;
        Ok(Some((LfsPointer { oid, size }, executable)))
    }

    /// The blob of a pointer's canonical file.
    pub fn lfs_pointer_blob(&self, pointer: &LfsPointer) -> Result<ObjectId> {
        self.repo
            .blob(pointer.to_text().as_bytes())
            .map(id)
            .map_err(Error::git("cannot write an LFS pointer"))
    }

    /// Checks the local object of `pointer` byte for byte.
    pub fn lfs_local_object(&self, pointer: &LfsPointer) -> Result<LocalObject> {
        let path = self.lfs_object_path(&pointer.oid);
        let mut f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(LocalObject::Missing),
            Err(e) => return Err(Error::io(&path)(e)),
        };
        let (oid, size) = copy_hashing(&mut f, &mut io::sink()).map_err(Error::io(&path))?;
        if size != pointer.size {
            let why = format!("it holds {size} bytes, the pointer says {}", pointer.size);
            return Ok(LocalObject::Corrupt { path, why });
        }
        if oid != pointer.oid {
            let why = format!("its bytes hash to {oid}");
            return Ok(LocalObject::Corrupt { path, why });
        }
        Ok(LocalObject::Valid(path))
    }

    /// `git lfs push --object-id REMOTE` of these objects (read from stdin, so any
    /// number of them fits).
    pub fn lfs_push(&self, remote: &str, oids: &[Sha256]) -> Result<()> {
        if oids.is_empty() {
            return Ok(());
        }
        let input: String = oids.iter().map(|o| format!("{}\n", o.hex())).collect();
        let mut cmd = self.git_lfs_cmd();
        cmd.args(["push", "--object-id", remote, "--stdin"]);
        self.run_git_lfs("push", remote, cmd, Some(input))
    }

    /// Downloads exactly these objects from `remote` into the local LFS store
    /// (`git lfs fetch REMOTE TREE` of a tree holding only their pointers, so no
    /// other object of the record, such as the snapshot's, is fetched). The caller
    /// checks the bytes.
    pub fn lfs_fetch(&self, remote: &str, pointers: &[LfsPointer]) -> Result<()> {
        if pointers.is_empty() {
            return Ok(());
        }
        let ctx = || "cannot write the tree of the LFS objects to fetch".to_string();
        let mut tree = self.repo.treebuilder(None).map_err(Error::git(ctx()))?;
        for (i, p) in pointers.iter().enumerate() {
            let blob = self.lfs_pointer_blob(p)?;
            tree.insert(i.to_string(), super::oid(blob), git2::FileMode::Blob.into())
                .map_err(Error::git(ctx()))?;
        }
        let tree = tree.write().map_err(Error::git(ctx()))?;
        let mut cmd = self.git_lfs_cmd();
        // Empty -I/-X: the user's lfs.fetchinclude/exclude must not filter these out.
        cmd.args(["fetch", "-I", "", "-X", "", remote, &tree.to_string()]);
        self.run_git_lfs("fetch from", remote, cmd, None)
    }

    /// The tip `remote` had for `run` when last fetched, if any.
    pub fn tracking_run_tip(&self, remote: &str, run: &RunRef) -> Option<ObjectId> {
        let name = format!(
            "{}{}/{}",
            super::remote::tracking_runs(remote),
            run.stage,
            run.run_id
        );
        self.repo.refname_to_id(&name).ok().map(id)
    }

    /// `git lfs` on this repository: its git dir given explicitly (as every git call
    /// of the store does, so `GIT_DIR` relative to the caller's directory cannot
    /// point it elsewhere), run from the top of the working tree when there is one.
    fn git_lfs_cmd(&self) -> Command {
        let mut c = Command::new("git");
        if let Some(w) = self.repo.workdir() {
            c.arg("-C").arg(w);
        }
        c.arg("--git-dir").arg(self.repo.path());
        c.arg("lfs");
        c.env_remove("GIT_INDEX_FILE");
        c
    }

    fn run_git_lfs(
        &self,
        what: &'static str,
        remote: &str,
        mut cmd: Command,
        stdin: Option<String>,
    ) -> Result<()> {
        self.require_git_lfs(what)?;
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let tool = |e: io::Error| Error::Tool {
            what: "cannot run git lfs".into(),
            message: e.to_string(),
        };
        let mut child = cmd.spawn().map_err(tool)?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes()).map_err(tool)?;
        }
        let out = child.wait_with_output().map_err(tool)?;
        if out.status.success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&out.stderr);
        let message = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        let message = if message.is_empty() {
            format!("git lfs exited with {}", out.status)
        } else {
            message
        };
        Err(match what {
            "push" => Error::Lfs {
                message: format!("cannot upload LFS objects to {remote}: {message}"),
                hint: format!(
                    "{remote} must accept git LFS uploads; no record was pushed (objects go before refs), nothing is lost here"
                ),
            },
            _ => Error::Lfs {
                message: format!("cannot download LFS objects from {remote}: {message}"),
                hint: "push them from the clone that ran the stage (git workbench push there), and check that the remote serves git LFS".into(),
            },
        })
    }

    /// An error naming the package when `git lfs` cannot run.
    fn require_git_lfs(&self, what: &str) -> Result<()> {
        if git_lfs_version().is_some() {
            return Ok(());
        }
        Err(Error::Lfs {
            message: format!(
                "git-lfs is not installed: it is needed to {} the outputs kept in git LFS",
                if what == "push" { "upload" } else { "download" }
            ),
            hint: "apt install git-lfs (or see https://git-lfs.com)".into(),
        })
    }
}

/// The first line of `git lfs version`, or `None` when git-lfs cannot run.
pub fn git_lfs_version() -> Option<String> {
    let o = Command::new("git")
        .args(["lfs", "version"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !o.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()?
            .trim()
            .to_string(),
    )
}

/// Copies everything from `from` to `to`: the sha256 and number of bytes copied.
pub fn copy_hashing(from: &mut impl Read, to: &mut impl Write) -> io::Result<(Sha256, u64)> {
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
        size += n as u64;
    }
    Ok((Sha256::from_bytes(hasher.finalize().into()), size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    #[test]
    fn stored_objects_sit_where_git_lfs_looks_and_are_checked() {
        let (d, store) = temp_store();
        let p = d.path().join("big.bin");
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 13 % 251) as u8).collect();
        std::fs::write(&p, &bytes).unwrap();
        let (ptr, executable) = store.lfs_store_file(&p).unwrap().unwrap();
        assert!(!executable);
        assert_eq!(ptr.oid, Sha256::of(&bytes));
        assert_eq!(ptr.size, bytes.len() as u64);
        let hex = ptr.oid.hex();
        let at =
            store
                .raw()
                .path()
                .join(format!("lfs/objects/{}/{}/{hex}", &hex[0..2], &hex[2..4]));
        assert_eq!(std::fs::read(&at).unwrap(), bytes);
        assert!(matches!(
            store.lfs_local_object(&ptr).unwrap(),
            LocalObject::Valid(_)
        ));
        let mut other = bytes.clone();
        other[7] ^= 1;
        std::fs::write(&at, &other).unwrap();
        assert!(matches!(
            store.lfs_local_object(&ptr).unwrap(),
            LocalObject::Corrupt { .. }
        ));
        // storing again repairs it
        store.lfs_store_file(&p).unwrap().unwrap();
        assert_eq!(std::fs::read(&at).unwrap(), bytes);
        std::fs::remove_file(&at).unwrap();
        assert!(matches!(
            store.lfs_local_object(&ptr).unwrap(),
            LocalObject::Missing
        ));
        assert!(store
            .lfs_store_file(&d.path().join("none"))
            .unwrap()
            .is_none());
    }
}
