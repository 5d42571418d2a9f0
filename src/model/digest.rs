//! sha256 digests: the type records bind bytes with (`"sha256:<hex>"` in JSON), and the
//! lower-case hex helpers (sha2 digests have no `LowerHex`).

use super::error::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;
use std::fmt;
use std::str::FromStr;

/// A sha256 digest, written `sha256:<64 hex digits>`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256([u8; 32]);

/// Path → digest of the file's bytes.
pub type FileHashes = std::collections::BTreeMap<String, Sha256>;

const PREFIX: &str = "sha256:";

impl Sha256 {
    pub const fn from_bytes(bytes: [u8; 32]) -> Sha256 {
        Sha256(bytes)
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// The 64 hex digits, as `sha256sum` prints them.
    pub fn hex(&self) -> String {
        to_hex(&self.0)
    }

    /// `"sha256:<hex>"`, or a bare 64-digit hex string.
    pub fn parse(s: &str) -> Result<Sha256, Error> {
        Sha256::parse_hex(s.strip_prefix(PREFIX).ok_or_else(|| Error::Digest {
            text: s.to_string(),
        })?)
        .map_err(|_| Error::Digest {
            text: s.to_string(),
        })
    }

    /// 64 lower-case hex digits.
    pub fn parse_hex(hex: &str) -> Result<Sha256, Error> {
        let bad = || Error::Digest {
            text: hex.to_string(),
        };
        let b = hex.as_bytes();
        if b.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks(2).enumerate() {
            let v = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            };
            out[i] = v(pair[0]).ok_or_else(bad)? << 4 | v(pair[1]).ok_or_else(bad)?;
        }
        Ok(Sha256(out))
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", self.hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl FromStr for Sha256 {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Sha256::parse(s)
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Sha256::parse(&s).map_err(serde::de::Error::custom)
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::of(bytes).hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_print_parse_and_refuse() {
        let d = Sha256::of(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(d.hex(), hex);
        assert_eq!(d.to_string(), format!("sha256:{hex}"));
        assert_eq!(Sha256::parse(&d.to_string()).unwrap(), d);
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            format!("\"sha256:{hex}\"")
        );
        for bad in [
            hex.to_string(),
            format!("sha256:{}", &hex[1..]),
            format!("sha256:{}", hex.to_uppercase()),
            format!("md5:{hex}"),
            "sha256:".to_string(),
        ] {
            assert!(Sha256::parse(&bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<Sha256>(&format!("\"{bad}\"")).is_err());
        }
    }
}
