//! UTC time for run ids and records: calendar arithmetic for the two fixed formats we
//! write (so no date crate is needed), and `Timestamp`, the one type records hold a
//! time in. Times are compared as instants, never as strings. Also the wall-clock
//! times other tools write without a zone (Hydra's folder names) and the zones they
//! may be read in (`Zone`); turning a named zone into an offset is the C library's
//! job (`exec::clock`), since the tz database lives on the machine.

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

/// A wall-clock date and time with no zone: what Hydra's `${now:%Y-%m-%d}` and
/// `${now:%H-%M-%S}` folder names hold (Python's `datetime.now()`, the local time of
/// the machine and `TZ` the job ran with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock(UtcDateTime);

impl WallClock {
    /// Reads exactly `YYYY-MM-DD` and `HH-MM-SS`; anything else (another pattern in
    /// `hydra.run.dir`, an impossible date) is `None`.
    pub fn parse_hydra(date: &str, time: &str) -> Option<WallClock> {
        let shape = |s: &str, pattern: &[u8]| {
            s.len() == pattern.len()
                && s.bytes().zip(pattern).all(|(c, p)| match p {
                    b'9' => c.is_ascii_digit(),
                    other => c == *other,
                })
        };
        if !shape(date, b"9999-99-99") || !shape(time, b"99-99-99") {
            return None;
        }
        UtcDateTime::parse(&format!("{date}T{}Z", time.replace('-', ":"))).map(WallClock)
    }

    /// Its calendar fields (year, month, day, hour, minute, second).
    pub fn fields(&self) -> &UtcDateTime {
        &self.0
    }

    /// The instant this wall clock shows in a zone `offset_minutes` east of UTC.
    pub fn at_offset(&self, offset_minutes: i32) -> i64 {
        self.0.unix_millis() - i64::from(offset_minutes) * 60_000
    }
}

/// The zone a wall-clock time is read in, as `import hydra --timezone` names it: a
/// fixed offset from UTC (`+09:00`, `-0530`, `+09`, `Z`, `UTC`; east is positive, as
/// in ISO 8601, unlike POSIX `TZ` strings) or a tz database name (`Asia/Tokyo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// Minutes east of UTC.
    Offset(i32),
    Named(String),
}

impl Zone {
    /// Parses a zone; a name is only checked for its shape here (whether the machine's
    /// tz database has it is `exec::clock`'s question).
    pub fn parse(s: &str) -> Result<Zone, String> {
        if matches!(s, "Z" | "z" | "UTC" | "utc") {
            return Ok(Zone::Offset(0));
        }
        if let Some(rest) = s.strip_prefix(['+', '-']) {
            let minutes = parse_offset(rest).ok_or_else(|| {
                format!("'{s}' is not a UTC offset (write it as +09:00, -05:30, +0900 or +09)")
            })?;
            if minutes > 18 * 60 {
                return Err(format!("'{s}' is more than 18 hours from UTC"));
            }
            return Ok(Zone::Offset(if s.starts_with('-') {
                -minutes
            } else {
                minutes
            }));
        }
        let part_ok = |p: &str| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'))
        };
        if s.split('/').all(part_ok) {
            Ok(Zone::Named(s.to_string()))
        } else {
            Err(format!(
                "'{s}' is neither a UTC offset (+09:00) nor a tz database name (Asia/Tokyo)"
            ))
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Offset(m) => {
                let sign = if *m < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
            }
            Zone::Named(n) => f.write_str(n),
        }
    }
}

/// `HH:MM`, `HHMM` or `HH` after the sign, as minutes.
fn parse_offset(s: &str) -> Option<i32> {
    let digits: String = s.chars().filter(|c| *c != ':').collect();
    let colon_ok = match s.find(':') {
        None => true,
        Some(i) => i == 2 && s.len() == 5,
    };
    if !colon_ok || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 if s.len() == 2 => (&digits[..2], "0"),
        4 => (&digits[..2], &digits[2..]),
        _ => return None,
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60).then_some(h * 60 + m)
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
    #[test]
    fn hydra_wall_clocks_and_zones() {
        let w = WallClock::parse_hydra("2026-12-01", "10-00-00").unwrap();
        assert_eq!(
            Timestamp::from_unix_millis(w.at_offset(0)).to_string(),
            "2026-12-01T10:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(w.at_offset(9 * 60)).to_string(),
            "2026-12-01T01:00:00.000Z"
        );
        assert_eq!(
            Timestamp::from_unix_millis(w.at_offset(-330)).to_string(),
            "2026-12-01T15:30:00.000Z"
        );
        for (d, t) in [
            ("2026-12-01", "10:00:00"),
            ("2026-12-1", "10-00-00"),
            ("2026-02-30", "10-00-00"),
            ("2026-12-01", "24-00-00"),
            ("2026-12-01", "10-00-0x"),
            ("20261201", "100000"),
        ] {
            assert_eq!(WallClock::parse_hydra(d, t), None, "{d} {t}");
        }
        for (text, zone, shown) in [
            ("+09:00", Zone::Offset(540), "+09:00"),
            ("+0900", Zone::Offset(540), "+09:00"),
            ("+09", Zone::Offset(540), "+09:00"),
            ("-05:30", Zone::Offset(-330), "-05:30"),
            ("-00:00", Zone::Offset(0), "+00:00"),
            ("Z", Zone::Offset(0), "+00:00"),
            ("UTC", Zone::Offset(0), "+00:00"),
            ("+18:00", Zone::Offset(1080), "+18:00"),
            ("Asia/Tokyo", Zone::Named("Asia/Tokyo".into()), "Asia/Tokyo"),
            ("Etc/GMT+9", Zone::Named("Etc/GMT+9".into()), "Etc/GMT+9"),
            (
                "America/Port-au-Prince",
                Zone::Named("America/Port-au-Prince".into()),
                "America/Port-au-Prince",
            ),
        ] {
            assert_eq!(Zone::parse(text), Ok(zone.clone()), "{text}");
            assert_eq!(zone.to_string(), shown);
        }
        for bad in [
            "",
            "+9",
            "+09:0",
            "+0960",
            "+18:01",
            "+09:00:00",
            "+ab:cd",
            "09:00",
            "../etc/passwd",
            "/etc/localtime",
            "Asia//Tokyo",
            "Asia/.hidden",
            "Asia/Tokyo ",
            "Asia/東京",
        ] {
            assert!(Zone::parse(bad).is_err(), "{bad:?}");
        }
    }
}
