//! Installing and removing the pre-commit hook. Only a marked block of the hook file is
//! ours: an existing hook keeps running. Where the hook file is (`core.hooksPath`,
//! linked worktrees, husky) is the store's to say: `store::gitcli::pre_commit_hook_path`.
//! How the pre-commit framework's own hook treats ours is `framework`'s.

pub mod framework;

use crate::error::{Error, Result};
use std::path::Path;

pub const BEGIN: &str = "# >>> git-workbench >>>";
pub const END: &str = "# <<< git-workbench <<<";

/// The block the hook file gets.
pub fn block() -> String {
    format!(
        "{BEGIN} (managed by 'git workbench hooks install'; remove with 'git workbench hooks uninstall')\n\
         if ! command -v git-workbench >/dev/null 2>&1; then\n\
         \x20 echo \"git-workbench is not on PATH; install it, or run 'git workbench hooks uninstall'\" >&2\n\
         \x20 exit 1\n\
         fi\n\
         git-workbench hook pre-commit || exit 1\n\
         {END}\n"
    )
}

/// True when `text` holds our block.
pub fn has_block(text: &str) -> bool {
    text.lines().any(|l| l.starts_with(BEGIN))
}

/// `text` without our block.
fn without_block(text: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        if line.starts_with(BEGIN) {
            inside = true;
            continue;
        }
        if inside {
            if line.starts_with(END) {
                inside = false;
            }
            continue;
        }
        out.push_str(line);
    }
    out
}

/// What `install` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Installed {
    Created,
    Added,
    Unchanged,
}

/// Adds (or refreshes) our block, right after the shebang so that an existing hook's
/// own `exit` cannot skip it.
pub fn install(path: &Path) -> Result<Installed> {
    let existing = match std::fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(path)(e)),
    };
    let (text, what) = match &existing {
        None => (format!("#!/bin/sh\n{}", block()), Installed::Created),
        Some(t) => {
            let rest = without_block(t);
            let (shebang, body) = match rest.strip_prefix("#!") {
                Some(_) => match rest.split_once('\n') {
                    Some((first, body)) => (format!("{first}\n"), body.to_string()),
                    None => (format!("{rest}\n"), String::new()),
                },
                None => ("#!/bin/sh\n".to_string(), rest.clone()),
            };
            let new = format!("{shebang}{}{body}", block());
            let what = if &new == t {
                Installed::Unchanged
            } else {
                Installed::Added
            };
            (new, what)
        }
    };
    if what != Installed::Unchanged {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        }
        std::fs::write(path, &text).map_err(Error::io(path))?;
    }
    make_executable(path)?;
    Ok(what)
}

/// Removes our block; deletes the file when nothing but a shebang is left.
pub fn uninstall(path: &Path) -> Result<bool> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(path)(e)),
    };
    let rest = without_block(&text);
    if rest == text {
        return Ok(false);
    }
    let only_shebang = rest
        .lines()
        .all(|l| l.trim().is_empty() || (l.starts_with("#!") && rest.starts_with(l)));
    if only_shebang {
        std::fs::remove_file(path).map_err(Error::io(path))?;
    } else {
        std::fs::write(path, rest).map_err(Error::io(path))?;
    }
    Ok(true)
}

#[cfg(unix)]
pub(crate) fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(path)
        .map_err(Error::io(path))?
        .permissions();
    perm.set_mode(perm.mode() | 0o755);
    std::fs::set_permissions(path, perm).map_err(Error::io(path))
}

#[cfg(not(unix))]
pub(crate) fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_is_idempotent_and_keeps_the_users_hook() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pre-commit");
        std::fs::write(&p, "#!/bin/bash\necho mine\nexit 0\n").unwrap();
        assert_eq!(install(&p).unwrap(), Installed::Added);
        let once = std::fs::read_to_string(&p).unwrap();
        assert!(
            once.starts_with("#!/bin/bash\n# >>> git-workbench >>>"),
            "{once}"
        );
        assert!(once.ends_with("echo mine\nexit 0\n"));
        assert_eq!(install(&p).unwrap(), Installed::Unchanged);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), once);
        assert!(uninstall(&p).unwrap());
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "#!/bin/bash\necho mine\nexit 0\n"
        );
        assert!(!uninstall(&p).unwrap());
        let fresh = d.path().join("new/pre-commit");
        assert_eq!(install(&fresh).unwrap(), Installed::Created);
        assert!(uninstall(&fresh).unwrap());
        assert!(!fresh.exists(), "a hook we created alone is removed");
    }
}
