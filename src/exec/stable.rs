//! Reading a file another process may be rewriting or removing at that moment (a
//! parallel run writing the `review/` mirror, an editor saving): the bytes returned
//! are the bytes read, from one open file, and they are called stable when the
//! file's stat data was the same before, during and after the read. An unstable
//! read is retried a few times; after that its bytes are still the answer, just not
//! ones a cache may trust. A file that is gone is an answer too, never an error.

use super::statcache::Stamp;
use std::fs::{File, Metadata};
use std::io;
use std::path::Path;
use std::time::Duration;

/// Reads of one file before its last read is taken as it is.
const ATTEMPTS: u32 = 5;

/// What a path held when it was read.
#[derive(Debug)]
pub enum Found<T> {
    /// A regular file: what `consume` made of its bytes, and its stat data.
    File {
        value: T,
        /// The stat data of the file that was read (taken from the open file).
        stamp: Stamp,
        executable: bool,
        /// Nothing changed the file while it was read.
        stable: bool,
    },
    /// A symbolic link (only when links are not followed): its target, as bytes.
    Link { target: Vec<u8> },
    /// Nothing, or nothing a file can be read from (a directory, a socket).
    Gone,
}

/// Whether a symbolic link at the path itself is read as a link or followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Follow,
    Keep,
}

/// Errors that mean "the file is not there (any more)".
fn is_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn stat(path: &Path, links: Links) -> io::Result<Metadata> {
    match links {
        Links::Follow => std::fs::metadata(path),
        Links::Keep => std::fs::symlink_metadata(path),
    }
}

#[cfg(unix)]
fn is_executable(m: &Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &Metadata) -> bool {
    false
}

#[cfg(unix)]
fn link_bytes(target: std::path::PathBuf) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    target.into_os_string().into_vec()
}

#[cfg(not(unix))]
fn link_bytes(target: std::path::PathBuf) -> Vec<u8> {
    target.to_string_lossy().replace('\\', "/").into_bytes()
}

/// Reads `path` with `consume` (given the open file), retrying while the file
/// changes under the read. Only errors other than "not there" are errors, and those
/// of `consume`.
pub fn read_stable<T>(
    path: &Path,
    links: Links,
    mut consume: impl FnMut(&mut File) -> io::Result<T>,
) -> io::Result<Found<T>> {
    let mut last = Found::Gone;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            // Let a writer that is midway finish (1, 2, 4, 8 ms).
            std::thread::sleep(Duration::from_millis(1 << (attempt - 1)));
        }
        let before = match stat(path, links) {
            Ok(m) => m,
            Err(e) if is_gone(&e) => return Ok(Found::Gone),
            Err(e) => return Err(e),
        };
        if before.file_type().is_symlink() {
            match read_link_stable(path, &before)? {
                Some(found) => return Ok(found),
                None => continue,
            }
        }
        if !before.is_file() {
            return Ok(Found::Gone);
        }
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) if is_gone(&e) => continue,
            Err(e) => return Err(e),
        };
        let value = consume(&mut file)?;
        let read = file.metadata()?;
        let stamp = Stamp::of(&read);
        let after = stat(path, links).ok().map(|m| Stamp::of(&m));
        let stable = stamp == Stamp::of(&before) && after == Some(stamp);
        last = Found::File {
            value,
            stamp,
            executable: is_executable(&read),
            stable,
        };
        if stable {
            break;
        }
    }
    Ok(last)
}

/// The target of the link at `path`, when the link was not replaced while it was
/// read (`None`: read again).
fn read_link_stable<T>(path: &Path, before: &Metadata) -> io::Result<Option<Found<T>>> {
    let target = match std::fs::read_link(path) {
        Ok(t) => t,
        // Replaced by something that is not a link, or removed: look again.
        Err(e) if is_gone(&e) || e.kind() == io::ErrorKind::InvalidInput => return Ok(None),
        Err(e) => return Err(e),
    };
    match std::fs::symlink_metadata(path) {
        Ok(after) if Stamp::of(&after) == Stamp::of(before) => Ok(Some(Found::Link {
            target: link_bytes(target),
        })),
        Ok(_) => Ok(None),
        Err(e) if is_gone(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every byte of a file (for `read_stable`).
pub fn all_bytes(file: &mut File) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io::Read::read_to_end(file, &mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_links_and_nothing() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, "abc").unwrap();
        match read_stable(&f, Links::Keep, all_bytes).unwrap() {
            Found::File {
                value,
                stable,
                executable,
                stamp,
            } => {
                assert_eq!(value, b"abc");
                assert!(stable);
                assert!(!executable);
                assert_eq!(stamp.size, 3);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            read_stable(&d.path().join("none"), Links::Keep, all_bytes).unwrap(),
            Found::Gone
        ));
        assert!(matches!(
            read_stable(&f.join("below-a-file"), Links::Keep, all_bytes).unwrap(),
            Found::Gone
        ));
        assert!(matches!(
            read_stable(d.path(), Links::Keep, all_bytes).unwrap(),
            Found::Gone
        ));
        #[cfg(unix)]
        {
            let l = d.path().join("l");
            std::os::unix::fs::symlink("f", &l).unwrap();
            match read_stable(&l, Links::Keep, all_bytes).unwrap() {
                Found::Link { target } => assert_eq!(target, b"f"),
                other => panic!("{other:?}"),
            }
            match read_stable(&l, Links::Follow, all_bytes).unwrap() {
                Found::File { value, .. } => assert_eq!(value, b"abc"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_file_rewritten_during_the_read_is_read_again() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("f");
        std::fs::write(&f, "first").unwrap();
        let mut reads = 0;
        let found = read_stable(&f, Links::Follow, |file| {
            reads += 1;
            let bytes = all_bytes(file)?;
            if reads == 1 {
                // Another writer replaces the file after this read.
                let tmp = d.path().join("tmp");
                std::fs::write(&tmp, "second, longer").unwrap();
                std::fs::rename(&tmp, &f).unwrap();
            }
            Ok(bytes)
        })
        .unwrap();
        assert_eq!(reads, 2);
        match found {
            Found::File { value, stable, .. } => {
                assert_eq!(value, b"second, longer");
                assert!(stable);
            }
            other => panic!("{other:?}"),
        }
    }
}
