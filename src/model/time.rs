//! UTC time for run ids and records: calendar arithmetic for the two fixed formats we
//! write (so no date crate is needed), and `Timestamp`, the one type records hold a
//! time in. Times are compared as instants, never as strings.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Calendar date and time of day in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcDateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

impl UtcDateTime {
    /// Splits milliseconds since the Unix epoch into a UTC calendar date and time.
    pub fn from_unix_millis(ms: i64) -> Self {
        let secs = ms.div_euclid(1000);
        let millis = ms.rem_euclid(1000) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        UtcDateTime {
            year,
            month,
            day,
            hour: (sod / 3600) as u32,
            minute: (sod % 3600 / 60) as u32,
            second: (sod % 60) as u32,
            millis,
        }
    }

    /// RFC 3339 with milliseconds, e.g. `2026-03-08T14:22:33.120Z`.
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }

    /// The compact, sortable form used in run ids, e.g. `20260308T142233Z`.
    pub fn compact(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

impl UtcDateTime {
    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        ((days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second))
            * 1000)
            + i64::from(self.millis)
    }

    /// Reads exactly `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn parse_rfc3339(s: &str) -> Option<UtcDateTime> {
        let b = s.as_bytes();
        let shape = |pattern: &[u8]| {
            b.len() == pattern.len()
                && b.iter().zip(pattern).all(|(c, p)| match p {
                    b'9' => c.is_ascii_digit(),
                    other => c == other,
                })
        };
        if shape(b"9999-99-99T99:99:99Z") || shape(b"9999-99-99T99:99:99.999Z") {
            UtcDateTime::parse(s)
        } else {
            None
        }
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS[.mmm]Z` and the compact `YYYYMMDDTHHMMSSZ`.
    pub fn parse(s: &str) -> Option<UtcDateTime> {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        let shape_ok = s.ends_with('Z') && s.contains('T');
        if !shape_ok || (digits.len() != 14 && digits.len() != 17) {
            return None;
        }
        let n = |a: usize, b: usize| digits[a..b].parse::<u32>().ok();
        let t = UtcDateTime {
            year: i64::from(n(0, 4)?),
            month: n(4, 6)?,
            day: n(6, 8)?,
            hour: n(8, 10)?,
            minute: n(10, 12)?,
            second: n(12, 14)?,
            millis: if digits.len() == 17 { n(14, 17)? } else { 0 },
        };
        let valid = (1..=12).contains(&t.month)
            && (1..=31).contains(&t.day)
            && t.hour < 24
            && t.minute < 60
            && t.second < 60
            // 31 February and the like do not survive the round trip
            && UtcDateTime::from_unix_millis(t.unix_millis()) == t;
        valid.then_some(t)
    }
}

/// An instant, to the millisecond, written in records as RFC 3339 in UTC
/// (`2026-03-08T14:22:33.120Z`). Ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_unix_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub fn unix_millis(self) -> i64 {
        self.0
    }

    pub fn parse(s: &str) -> Result<Timestamp, super::error::Error> {
        UtcDateTime::parse_rfc3339(s)
            .map(|t| Timestamp(t.unix_millis()))
            .ok_or_else(|| super::error::Error::Timestamp {
                text: s.to_string(),
            })
    }

    /// `YYYY-MM-DD`.
    pub fn date(self) -> String {
        self.to_string()[..10].to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&UtcDateTime::from_unix_millis(self.0).rfc3339())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = super::error::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Howard Hinnant's civil-to-days algorithm (the inverse of `civil_from_days`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_unix_millis_round_trip() {
        for ms in [0i64, 1_772_979_753_120, 951_782_400_000, -86_400_000] {
            let t = UtcDateTime::from_unix_millis(ms);
            assert_eq!(t.unix_millis(), ms);
            assert_eq!(UtcDateTime::parse(&t.rfc3339()), Some(t));
        }
        let t = UtcDateTime::parse("2026-11-28T05:41:28Z").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-28T05:41:28.000Z");
        assert_eq!(UtcDateTime::parse("20261128T054128Z"), Some(t));
        assert_eq!(UtcDateTime::parse("2026-13-01T00:00:00Z"), None);
        assert_eq!(UtcDateTime::parse("yesterday"), None);
    }

    #[test]
    fn timestamps_order_as_instants_and_parse_strictly() {
        let a = Timestamp::parse("2026-03-08T14:22:33.120Z").unwrap();
        let b = Timestamp::parse("2026-03-08T14:22:33Z").unwrap();
        assert!(b < a, "compared as times, not as text");
        assert_eq!(b.to_string(), "2026-03-08T14:22:33.000Z");
        assert_eq!(a.date(), "2026-03-08");
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            "\"2026-03-08T14:22:33.120Z\""
        );
        // "9" sorts after "1" as text, yet 09:00 is earlier than 10:00
        let nine = Timestamp::parse("2026-03-08T09:00:00Z").unwrap();
        let ten = Timestamp::parse("2026-03-08T10:00:00Z").unwrap();
        assert!(nine < ten);
        for bad in [
            "2026-03-08 14:22:33Z",
            "2026-03-08T14:22:33",
            "2026-02-30T00:00:00Z",
            "2026-03-08T14:22:33.1Z",
            "20260308T142233Z",
            "2026-03-08T24:00:00Z",
            "",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<Timestamp>(&format!("\"{bad}\"")).is_err());
        }
    }

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(
            UtcDateTime::from_unix_millis(0).rfc3339(),
            "1970-01-01T00:00:00.000Z"
        );
        // 2026-03-08T14:22:33.120Z
        let t = UtcDateTime::from_unix_millis(1_772_979_753_120);
        assert_eq!(t.rfc3339(), "2026-03-08T14:22:33.120Z");
        assert_eq!(t.compact(), "20260308T142233Z");
        // leap day
        assert_eq!(
            UtcDateTime::from_unix_millis(951_782_400_000).rfc3339(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            UtcDateTime::from_unix_millis(-1).rfc3339(),
            "1969-12-31T23:59:59.999Z"
        );
    }
}
