//! Whether an approval is signed by its approver, verified against the allowed
//! signers and never read from the record: a `gpgsig` header proves nothing until git
//! verifies it, the key is listed, the listed principal is the approver, and the
//! signed record is a valid record of the run it sits on.

use crate::model::decision::{ApprovalRecord, SignatureStatus};
use crate::store::{RunRef, Store};
use std::path::{Path, PathBuf};

/// The allowed-signers file: `asked`, else `workbench.allowedSignersFile`, else
/// `.workbench/allowed_signers`, relative to `root`.
pub fn allowed_signers_path(store: &Store, root: &Path, asked: Option<PathBuf>) -> PathBuf {
    let file = asked
        .or_else(|| {
            store
                .config_string("workbench.allowedSignersFile")
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(".workbench/allowed_signers"));
    if file.is_absolute() {
        file
    } else {
        root.join(file)
    }
}

/// The working tree's allowed-signers file, when it exists.
pub fn allowed_signers_file(store: &Store) -> Option<PathBuf> {
    let file = allowed_signers_path(store, store.maybe_workdir()?, None);
    file.is_file().then_some(file)
}

/// The verified signature status of a run's approval record (its tip) and what git
/// said. `allowed: None` means no allowed-signers file is known.
pub fn approval_signature(
    store: &Store,
    run: &RunRef,
    approval: &ApprovalRecord,
    allowed: Option<&Path>,
) -> crate::error::Result<(SignatureStatus, String)> {
    if store.commit_signature(run.tip).is_none() {
        return Ok((SignatureStatus::Unsigned, "no signature".into()));
    }
    if let Err(invalid) = store.check_run(run)? {
        return Ok((SignatureStatus::InvalidRecord, invalid.to_string()));
    }
    let Some(allowed) = allowed else {
        return Ok((
            SignatureStatus::Unverified,
            "signed, but no allowed-signers file to verify it against".into(),
        ));
    };
    let (status, detail) = store.verify_commit(run.tip, allowed);
    if status != SignatureStatus::Good {
        return Ok((status, detail));
    }
    let principal = signer_principal(&detail);
    let email = approver_email(&approval.approved_by);
    match principal {
        Some(p) if p.eq_ignore_ascii_case(email) || p == approval.approved_by => {
            Ok((status, detail))
        }
        Some(p) => Ok((
            SignatureStatus::WrongSigner,
            format!(
                "signed by {p}, but the approval names {}",
                approval.approved_by
            ),
        )),
        None => Ok((
            SignatureStatus::WrongSigner,
            format!("cannot tell who signed: {detail}"),
        )),
    }
}

/// The principal of git's `Good "git" signature for alice@example.com with ...` (ssh)
/// or `Good signature from "Name <email>"` (gpg).
fn signer_principal(detail: &str) -> Option<&str> {
    if let Some(rest) = detail.split_once("signature for ").map(|x| x.1) {
        return Some(rest.split(" with ").next().unwrap_or(rest).trim());
    }
    let rest = detail.split_once("signature from \"").map(|x| x.1)?;
    let who = rest.split('"').next()?;
    Some(approver_email(who))
}

/// `email` of `Name <email>`, or the whole text.
fn approver_email(who: &str) -> &str {
    match (who.rfind('<'), who.rfind('>')) {
        (Some(a), Some(b)) if a < b => &who[a + 1..b],
        _ => who.trim(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals() {
        assert_eq!(
            signer_principal(
                r#"Good "git" signature for alice@example.com with ED25519 key SHA256:x"#
            ),
            Some("alice@example.com")
        );
        assert_eq!(
            signer_principal(r#"gpg: Good signature from "Carol <carol@x.org>" [ultimate]"#),
            Some("carol@x.org")
        );
        assert_eq!(signer_principal("nothing"), None);
        assert_eq!(
            approver_email("Alice <alice@example.com>"),
            "alice@example.com"
        );
    }
}
