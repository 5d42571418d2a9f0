//! Letting a human edit a text in their editor, the way git does: the editor command
//! runs through `sh -c` with the file as its argument.

use super::error::{Error, Result};
use std::path::Path;

/// How an editor session ended.
#[derive(Debug)]
pub enum Edited {
    /// The text as the human saved it.
    Text(String),
    /// The editor exited unsuccessfully (the human aborted).
    Aborted(std::process::ExitStatus),
}

/// Writes `text` to `file`, runs `editor` on it, and returns what was saved; the
/// file is removed afterwards.
pub fn edit(editor: &str, file: &Path, text: &str) -> Result<Edited> {
    std::fs::write(file, text).map_err(Error::io(file))?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(editor)
        .arg(file)
        .status();
    let saved = std::fs::read_to_string(file);
    let _ = std::fs::remove_file(file);
    let status = status.map_err(|source| Error::ProgramMissing {
        program: editor.to_string(),
        source,
    })?;
    if !status.success() {
        return Ok(Edited::Aborted(status));
    }
    Ok(Edited::Text(saved.map_err(Error::io(file))?))
}
