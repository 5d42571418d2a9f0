//! Progress of long work, as the code doing it reports it: a phase begins (what it
//! does, how much there is), units of it are done, it ends. The code that ticks never
//! knows whether anything is drawn: the CLI decides that (`cli::progress`: a bar on a
//! terminal after about a second, nothing otherwise), tests and library callers pass
//! `NoProgress`, the default.

/// What a phase's total and advances count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Files,
    Records,
    /// Steps without a size: a spinner.
    Steps,
}

/// Receives the progress of the work in hand; one phase at a time, a new `begin`
/// ending the phase before. Called from several threads at once (hashing).
pub trait Progress: Sync + Send {
    /// A phase begins: `what` says what is done ("hashing inputs"), `total` how much
    /// there is in `unit` (`None`: unknown, a spinner).
    fn begin(&self, _what: &str, _total: Option<u64>, _unit: Unit) {}
    /// `n` more units of the current phase are done.
    fn advance(&self, _n: u64) {}
    /// The item being worked on now (a file name): shown as is given, so whoever
    /// draws it must make it safe for a terminal.
    fn item(&self, _item: &str) {}
    /// The current phase is over.
    fn end(&self) {}
}

/// Progress nobody sees: what use cases get unless the CLI passes its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A `NoProgress` to borrow where a `&dyn Progress` is asked for.
pub static NONE: NoProgress = NoProgress;

/// A phase that ends when dropped, whichever way the work leaves.
pub struct Phase<'a>(&'a dyn Progress);

impl<'a> Phase<'a> {
    pub fn begin(p: &'a dyn Progress, what: &str, total: Option<u64>, unit: Unit) -> Phase<'a> {
        p.begin(what, total, unit);
        Phase(p)
    }
}

impl Drop for Phase<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// Work that counts into the phase already begun: its own `begin` and `end` are
/// ignored, its advances and items passed on.
pub struct Within<'a>(pub &'a dyn Progress);

impl Progress for Within<'_> {
    fn advance(&self, n: u64) {
        self.0.advance(n);
    }
    fn item(&self, item: &str) {
        self.0.item(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Progress for Log {
        fn begin(&self, what: &str, total: Option<u64>, _: Unit) {
            self.0
                .lock()
                .unwrap()
                .push(format!("begin {what} {total:?}"));
        }
        fn advance(&self, n: u64) {
            self.0.lock().unwrap().push(format!("advance {n}"));
        }
        fn item(&self, item: &str) {
            self.0.lock().unwrap().push(format!("item {item}"));
        }
        fn end(&self) {
            self.0.lock().unwrap().push("end".into());
        }
    }

    #[test]
    fn a_phase_ends_when_dropped_and_within_only_counts() {
        let log = Log::default();
        {
            let _p = Phase::begin(&log, "outer", Some(3), Unit::Files);
            let inner = Within(&log);
            let _q = Phase::begin(&inner, "inner", None, Unit::Bytes);
            inner.item("f");
            inner.advance(2);
        }
        assert_eq!(
            *log.0.lock().unwrap(),
            ["begin outer Some(3)", "item f", "advance 2", "end"]
        );
    }

    #[test]
    fn hashing_reports_the_bytes_it_reads_out_of_their_total() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), vec![0u8; 3 << 20]).unwrap();
        std::fs::write(d.path().join("b"), b"xy").unwrap();
        let log = Log::default();
        let mut cache = crate::exec::statcache::StatCache::disabled();
        let names = ["a".to_string(), "b".to_string()];
        crate::exec::hash::hash_files_shown(d.path(), &names, &mut cache, &log, "hashing").unwrap();
        let log = log.0.into_inner().unwrap();
        assert_eq!(log[0], format!("begin hashing Some({})", (3 << 20) + 2));
        assert_eq!(log.last().unwrap(), "end");
        let read: u64 = log
            .iter()
            .filter_map(|l| l.strip_prefix("advance ")?.parse::<u64>().ok())
            .sum();
        assert_eq!(read, (3 << 20) + 2);
    }
}
