//! The clock and the other facts of the machine a run records: the time now, random
//! bits for run ids, the host name. The model never reads them itself.

use crate::model::time::Timestamp;

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn now() -> Timestamp {
    Timestamp::from_unix_millis(now_millis())
}

/// Sixteen bits that differ between processes, threads and calls.
pub fn random_u16(salt: u64) -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let thread = format!("{:?}", std::thread::current().id());
    (RandomState::new().hash_one((nanos, std::process::id(), thread, salt)) & 0xffff) as u16
}

/// The machine's host name, or `unknown`.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".to_string();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

extern "C" {
    /// POSIX: re-reads `TZ` (the libc crate does not declare it).
    fn tzset();
}

/// Where the C library looks for tz database files (`TZDIR`, else the usual place).
fn zoneinfo_dir() -> std::path::PathBuf {
    std::env::var_os("TZDIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| "/usr/share/zoneinfo".into(), Into::into)
}

/// Whether the machine's tz database has the zone `name` (a file starting with the
/// TZif magic). Asked before the C library is: given a name it does not know, it
/// silently reads the time as UTC.
pub fn zone_known(name: &str) -> Result<(), String> {
    let dir = zoneinfo_dir();
    let path = dir.join(name);
    let mut magic = [0u8; 4];
    let found = std::fs::File::open(&path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok();
    if found && &magic == b"TZif" {
        Ok(())
    } else {
        Err(format!(
            "unknown time zone '{name}': no such zone in {}",
            dir.display()
        ))
    }
}

/// The instant (ms since the epoch) a wall clock shows in the tz database zone
/// `zone`, or, with `None`, in the machine's zone (`TZ`, else /etc/localtime): the C
/// library's `mktime`, the inverse of the `localtime` that Python's `datetime.now()`
/// (and so Hydra's folder names) used. In the hour a daylight-saving change repeats,
/// or skips, the C library decides. A named zone is set in `TZ` for the call and
/// restored after it, so this must run before the process starts threads (import
/// converts every time before it hashes anything).
pub fn wall_clock_millis(t: &crate::model::time::UtcDateTime, zone: Option<&str>) -> Option<i64> {
    let saved = zone.map(|name| {
        let old = std::env::var_os("TZ");
        std::env::set_var("TZ", name);
        old
    });
    // SAFETY: `tm` is a plain C struct, zeroed then filled; mktime only reads and
    // normalises it. tzset takes no arguments.
    let secs = unsafe {
        tzset();
        let mut tm: libc::tm = std::mem::zeroed();
        tm.tm_year = (t.year - 1900) as libc::c_int;
        tm.tm_mon = t.month as libc::c_int - 1;
        tm.tm_mday = t.day as libc::c_int;
        tm.tm_hour = t.hour as libc::c_int;
        tm.tm_min = t.minute as libc::c_int;
        tm.tm_sec = t.second as libc::c_int;
        tm.tm_isdst = -1; // the C library decides whether summer time applies
        libc::mktime(&mut tm)
    };
    if let Some(old) = saved {
        match old {
            Some(v) => std::env::set_var("TZ", v),
            None => std::env::remove_var("TZ"),
        }
        // SAFETY: as above.
        unsafe { tzset() };
    }
    // -1 is also 1969-12-31T23:59:59Z, which no Hydra folder is named after.
    #[allow(clippy::useless_conversion)] // time_t is 32 bits on some targets
    (secs != -1).then(|| i64::from(secs) * 1000 + i64::from(t.millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Conversions set TZ, which threads of the test harness may be reading: they are
    // tested through the binary (tests/cli/import.rs), one process each.
    #[test]
    fn zone_names_are_checked_against_the_tz_database() {
        // needs the tz database (.ci/deps installs tzdata)
        assert_eq!(zone_known("Asia/Tokyo"), Ok(()));
        assert!(zone_known("Asia/Tokio")
            .unwrap_err()
            .contains("unknown time zone 'Asia/Tokio'"));
        assert!(zone_known("Asia").is_err(), "a directory is no zone");
    }
}
