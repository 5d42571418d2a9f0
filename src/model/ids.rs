//! The identifiers records are keyed by: stage names, run ids and git object ids. Each
//! is validated once, where it enters (configuration, arguments, refs, records read
//! from git), so code that holds one never checks it again.
//!
//! A run id is the UTC start second in compact form plus four hex digits, e.g.
//! `20260308T142233Z-3f2a`: it sorts by time, never depends on the code commit (so it
//! survives rebase and squash), and the suffix keeps parallel runs apart.

use super::error::Error;
use super::time::UtcDateTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

/// Implements the string-like traits of a validated string newtype.
macro_rules! string_id {
    ($t:ident) => {
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::ops::Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Borrow<str> for $t {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                $t::new(s)
            }
        }
        impl TryFrom<String> for $t {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                $t::new(s)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $t::new(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A stage name: usable as one ref path component and as a TOML key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StageName(String);

impl StageName {
    /// The one validator of stage names (configuration, arguments, refs, records).
    pub fn new(s: impl Into<String>) -> Result<StageName, Error> {
        let s = s.into();
        let why = if s.is_empty() {
            Some("it is empty")
        } else if s.len() > 100 {
            Some("it is longer than 100 characters")
        } else if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        {
            Some("use letters, digits, '_', '-' and '.'")
        } else if s.starts_with(['.', '-']) {
            Some("it may not start with '.' or '-'")
        } else if s.contains("..") {
            Some("it may not contain '..'")
        } else if s.ends_with(".lock") || s.ends_with('.') {
            Some("it may not end with '.lock' or '.'")
        } else {
            None
        };
        match why {
            Some(why) => Err(Error::StageName { name: s, why }),
            None => Ok(StageName(s)),
        }
    }
}
string_id!(StageName);

/// A run id, `YYYYMMDDTHHMMSSZ-xxxx` (lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(String);

impl RunId {
    pub fn new(s: impl Into<String>) -> Result<RunId, Error> {
        let s = s.into();
        if is_run_id(&s) {
            Ok(RunId(s))
        } else {
            Err(Error::RunId { text: s })
        }
    }

    /// The run id of a run started at `unix_millis`. The suffix holds the millisecond
    /// in its top ten bits and six bits of `random` below, so ids of runs started in
    /// the same second still sort by start time.
    /// Times outside years 1970–9999 (an imported folder's odd name or date) are
    /// clamped to them, so every generated id is one `RunId::new` accepts.
    pub fn generate(unix_millis: i64, random: u16) -> RunId {
        const LAST: i64 = 253_402_300_798_999; // 9999-12-31T23:59:58.999Z
        let unix_millis = unix_millis.clamp(0, LAST);
        let ms = unix_millis.rem_euclid(1000) as u16;
        RunId(format!(
            "{}-{:04x}",
            UtcDateTime::from_unix_millis(unix_millis).compact(),
            (ms << 6) | (random & 0x3f)
        ))
    }

    /// The start time the id encodes, to the millisecond.
    pub fn unix_millis(&self) -> i64 {
        let t = UtcDateTime::parse(&self.0[..16]).expect("validated run id");
        let suffix = u16::from_str_radix(&self.0[17..], 16).expect("validated run id");
        t.unix_millis() + i64::from(suffix >> 6)
    }
}
string_id!(RunId);

/// True when `s` has the shape of a run id (what `RunId::generate` writes) and names a
/// real UTC second. Allocation-free: every run ref listed is checked with it.
pub fn is_run_id(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = b.len() == 21
        && digits(0..8)
        && b[8] == b'T'
        && digits(9..15)
        && b[15] == b'Z'
        && b[16] == b'-'
        && b[17..]
            .iter()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    if !shape {
        return false;
    }
    let n = |i: usize, len: usize| {
        b[i..i + len]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (n(0, 4), n(4, 2), n(6, 2));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day) && n(9, 2) < 24 && n(11, 2) < 60 && n(13, 2) < 60
}

/// A git object id (SHA-1, as the repositories git-workbench opens use). The store
/// converts it to and from libgit2's type; nothing else sees libgit2.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId([u8; 20]);

impl ObjectId {
    pub const fn from_bytes(bytes: [u8; 20]) -> ObjectId {
        ObjectId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    pub fn parse(s: &str) -> Result<ObjectId, Error> {
        let bad = || Error::ObjectId {
            text: s.to_string(),
        };
        let b = s.as_bytes();
        if b.len() != 40 {
            return Err(bad());
        }
        let mut out = [0u8; 20];
        for (i, pair) in b.chunks(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(bad)?;
            let lo = hex_value(pair[1]).ok_or_else(bad)?;
            out[i] = hi << 4 | lo;
        }
        Ok(ObjectId(out))
    }

    /// The first 12 hex digits, as people quote commits.
    pub fn short(&self) -> String {
        self.to_string()[..12].to_string()
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::digest::to_hex(&self.0))
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

impl FromStr for ObjectId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ObjectId::parse(s)
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ObjectId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time_and_parse() {
        let a = RunId::generate(1_772_979_753_120, 0x3f2a);
        assert_eq!(a, "20260308T142233Z-1e2a");
        assert_eq!(a.unix_millis(), 1_772_979_753_120);
        // same second: later millisecond sorts later whatever the random bits
        assert!(RunId::generate(1_772_979_753_121, 0) > RunId::generate(1_772_979_753_120, 0xffff));
        assert!(RunId::generate(1_772_979_753_999, 0xffff)
            .as_str()
            .starts_with("20260308T142233Z-"));
        assert!(RunId::new(a.to_string()).is_ok());
        assert!(RunId::new("20240229T000000Z-0000").is_ok(), "a leap day");
        assert!(
            RunId::new("21000229T000000Z-0000").is_err(),
            "not a leap year"
        );
        assert!(RunId::generate(1_772_979_754_000, 0) > a);
        for extreme in [i64::MIN, -1, i64::MAX, 253_402_300_800_000] {
            let id = RunId::generate(extreme, 0xffff);
            assert!(RunId::new(id.to_string()).is_ok(), "{id}");
        }
        for bad in [
            "20260308T142233Z-3F2A",
            "20260308T142233Z",
            "20261308T142233Z-3f2a",
            "20260230T142233Z-3f2a",
            "20260308T242233Z-3f2a",
            "../../20260308T1422-x",
            "",
        ] {
            assert_eq!(
                RunId::new(bad),
                Err(Error::RunId {
                    text: bad.to_string()
                }),
                "{bad}"
            );
        }
    }

    #[test]
    fn stage_names() {
        for good in ["baseline", "train_v2.1", "a-b", "X9"] {
            assert_eq!(StageName::new(good).unwrap(), good);
        }
        for bad in [
            "", ".x", "-x", "a/b", "a..b", "x.lock", "a b", "a@b", "a.", "é", "a\nb",
        ] {
            assert!(StageName::new(bad).is_err(), "{bad:?}");
        }
        let e = StageName::new("bad..name").unwrap_err().to_string();
        assert_eq!(
            e,
            "'bad..name' is not a stage name: it may not contain '..'"
        );
        assert!(StageName::new("x".repeat(101)).is_err());
    }

    #[test]
    fn ids_travel_as_json_strings_and_are_checked_on_the_way_in() {
        let s: StageName = serde_json::from_str("\"train\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"train\"");
        assert!(serde_json::from_str::<StageName>("\"../x\"").is_err());
        assert!(serde_json::from_str::<RunId>("\"x\"").is_err());
        let hex = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let o: ObjectId = serde_json::from_str(&format!("\"{hex}\"")).unwrap();
        assert_eq!(o.to_string(), hex);
        assert_eq!(o.short(), "4b825dc642cb");
        assert_eq!(ObjectId::parse(&hex.to_uppercase()).unwrap(), o);
        for bad in ["", "4b825dc6", &format!("{hex}0"), &hex.replace('b', "g")] {
            assert!(ObjectId::parse(bad).is_err(), "{bad}");
        }
        let mut map = std::collections::BTreeMap::new();
        map.insert(s.clone(), 1);
        assert_eq!(map.get("train"), Some(&1), "names look up as &str");
    }
}
