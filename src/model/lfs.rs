//! Git LFS pointer files (spec v1, <https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md>):
//! how a run record names an output kept in git LFS. Writing is canonical (the bytes
//! `git lfs pointer` prints); reading is strict, because a pointer in a record fetched
//! from another clone is hostile: exactly the three keys `version`, `oid`, `size`, in
//! that order, LF line ends, an oid of 64 lower-case hex digits, a size in plain
//! decimal. Anything else — extra keys, CRLF, a sha1 oid, leading zeros, a size that
//! does not fit — is refused, never guessed at.

use super::digest::Sha256;

/// The `version` line every pointer this spec describes starts with.
pub const POINTER_VERSION: &str = "https://git-lfs.github.com/spec/v1";

/// A pointer: the sha256 and size of the bytes it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LfsPointer {
    pub oid: Sha256,
    pub size: u64,
}

/// Why a pointer file is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a canonical git LFS pointer: {0}")]
pub struct PointerError(pub String);

/// The largest pointer file: `git lfs` itself reads at most 1024 bytes of a blob
/// when it looks for one.
pub const MAX_POINTER_SIZE: usize = 1024;

impl LfsPointer {
    /// The canonical pointer file.
    pub fn to_text(&self) -> String {
        format!(
            "version {POINTER_VERSION}\noid sha256:{}\nsize {}\n",
            self.oid.hex(),
            self.size
        )
    }

    /// Reads a pointer file, refusing anything but the canonical form.
    pub fn parse(bytes: &[u8]) -> Result<LfsPointer, PointerError> {
        let bad = |why: &str| PointerError(why.to_string());
        if bytes.len() > MAX_POINTER_SIZE {
            return Err(bad("larger than a pointer file can be"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8 text"))?;
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("it does not end with a line feed"))?;
        if body.contains('\r') {
            return Err(bad("it has carriage returns"));
        }
        let lines: Vec<&str> = body.split('\n').collect();
        let [version, oid, size] = lines.as_slice() else {
            return Err(bad(&format!(
                "it has {} lines; a pointer has exactly version, oid and size",
                lines.len()
            )));
        };
        if *version != format!("version {POINTER_VERSION}") {
            return Err(bad(
                "its first line is not 'version https://git-lfs.github.com/spec/v1'",
            ));
        }
        let hex = oid
            .strip_prefix("oid sha256:")
            .ok_or_else(|| bad("its second line is not 'oid sha256:<64 hex digits>'"))?;
        let oid =
            Sha256::parse_hex(hex).map_err(|_| bad("its oid is not 64 lower-case hex digits"))?;
        let digits = size
            .strip_prefix("size ")
            .ok_or_else(|| bad("its third line is not 'size <bytes>'"))?;
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !canonical {
            return Err(bad("its size is not a plain decimal number"));
        }
        let size = digits
            .parse::<u64>()
            .map_err(|_| bad("its size does not fit in 64 bits"))?;
        Ok(LfsPointer { oid, size })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

    fn text(version: &str, oid: &str, size: &str) -> String {
        format!("version {version}\noid {oid}\nsize {size}\n")
    }

    #[test]
    fn canonical_pointers_round_trip() {
        let p = LfsPointer {
            oid: Sha256::parse_hex(HEX).unwrap(),
            size: 12345,
        };
        // the bytes `git lfs pointer --file` prints for such a file
        assert_eq!(
            p.to_text(),
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{HEX}\nsize 12345\n")
        );
        assert_eq!(LfsPointer::parse(p.to_text().as_bytes()).unwrap(), p);
        let zero = text(POINTER_VERSION, &format!("sha256:{HEX}"), "0");
        assert_eq!(LfsPointer::parse(zero.as_bytes()).unwrap().size, 0);
    }

    #[test]
    fn anything_else_is_refused() {
        let oid = format!("sha256:{HEX}");
        let good = text(POINTER_VERSION, &oid, "5");
        let cases = [
            good.replace('\n', "\r\n"),
            good.trim_end().to_string(),
            format!("{good}ext-0-foo sha256:{HEX}\n"),
            format!("{good}\n"),
            text("https://hawser.github.com/spec/v1", &oid, "5"),
            text(
                POINTER_VERSION,
                &oid.to_uppercase().replace("SHA256", "sha256"),
                "5",
            ),
            text(POINTER_VERSION, &format!("sha256:{}", &HEX[..63]), "5"),
            text(POINTER_VERSION, &format!("sha1:{}", &HEX[..40]), "5"),
            text(POINTER_VERSION, &format!("sha256:../{}", &HEX[3..]), "5"),
            text(POINTER_VERSION, &oid, "05"),
            text(POINTER_VERSION, &oid, "-5"),
            text(POINTER_VERSION, &oid, "+5"),
            text(POINTER_VERSION, &oid, ""),
            text(POINTER_VERSION, &oid, "5 "),
            text(POINTER_VERSION, &oid, "99999999999999999999999"),
            format!("oid {oid}\nversion {POINTER_VERSION}\nsize 5\n"),
            format!("{}{good}", " ".repeat(MAX_POINTER_SIZE)),
        ];
        for c in cases {
            assert!(LfsPointer::parse(c.as_bytes()).is_err(), "accepted {c:?}");
        }
        assert!(LfsPointer::parse(b"\xff\n").is_err());
    }

    #[test]
    fn whatever_is_accepted_is_exactly_the_canonical_text() {
        // every one-byte change, insertion and deletion of a canonical pointer: what
        // parses is the canonical text of what it parsed to (so there is one spelling
        // of each pointer, and nothing a record hides in a second one)
        let good = LfsPointer {
            oid: Sha256::parse_hex(HEX).unwrap(),
            size: 1024,
        }
        .to_text()
        .into_bytes();
        let mut variants = Vec::new();
        for i in 0..=good.len() {
            for b in [
                b'0', b'9', b'a', b'f', b'A', b' ', b'\n', b'\r', b'\t', 0, 0xff,
            ] {
                if i < good.len() {
                    let mut v = good.clone();
                    v[i] = b;
                    variants.push(v);
                }
                let mut v = good.clone();
                v.insert(i, b);
                variants.push(v);
            }
            if i < good.len() {
                let mut v = good.clone();
                v.remove(i);
                variants.push(v);
            }
        }
        let mut accepted = 0;
        for v in variants {
            if let Ok(p) = LfsPointer::parse(&v) {
                assert_eq!(
                    p.to_text().as_bytes(),
                    &v[..],
                    "{:?}",
                    v.escape_ascii().to_string()
                );
                accepted += 1;
            }
        }
        assert!(accepted > 10, "only {accepted} variants parsed");
    }
}
