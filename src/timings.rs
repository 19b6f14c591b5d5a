//! Wall-clock timings of a run's phases, for `report.json` → `timings_ms`. A phase is timed
//! by wrapping it ([`Timings::time`]), so its clock starts where the phase starts.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds per phase, and the run's own clock for `total`.
#[derive(Debug, Clone)]
pub struct Timings {
    start: Instant,
    started_at: SystemTime,
    ms: BTreeMap<String, u64>,
}

impl Timings {
    /// Starts the run's clock.
    pub fn start() -> Timings {
        Timings {
            start: Instant::now(),
            started_at: SystemTime::now(),
            ms: BTreeMap::new(),
        }
    }

    /// A clock that started `before` ago (a distributed run's phase 2 continues the
    /// driver's clock: the job's total, not the task's).
    pub fn started_before(before: Duration) -> Timings {
        let now = Instant::now();
        Timings {
            start: now.checked_sub(before).unwrap_or(now),
            started_at: SystemTime::now()
                .checked_sub(before)
                .unwrap_or_else(SystemTime::now),
            ms: BTreeMap::new(),
        }
    }

    /// When the run started, UTC (`2026-11-23 14:55:01 UTC`).
    pub fn started_utc(&self) -> String {
        utc(self.started_at)
    }

    /// Runs `f`, recording its wall time under `name`.
    pub fn time<T>(&mut self, name: &str, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.record(name, t.elapsed());
        out
    }

    /// Records a duration measured elsewhere (CPU time summed over workers, say).
    pub fn record(&mut self, name: &str, d: Duration) {
        self.ms.insert(name.to_string(), d.as_millis() as u64);
    }

    /// The timings so far, with `total` set to the time since [`Timings::start`].
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        let mut m = self.ms.clone();
        m.insert("total".into(), self.start.elapsed().as_millis() as u64);
        m
    }
}

/// A time as `YYYY-MM-DD HH:MM:SS UTC` (days to civil date: Howard Hinnant's algorithm).
pub fn utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates() {
        let at = |s: u64| utc(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(at(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(at(1_795_444_501), "2026-11-23 14:35:01 UTC");
    }

    #[test]
    fn phases_are_timed_from_their_own_start() {
        let mut t = Timings::start();
        std::thread::sleep(Duration::from_millis(30));
        let v = t.time("phase", || 7);
        assert_eq!(v, 7);
        t.record("cpu", Duration::from_micros(2_500));
        let m = t.snapshot();
        assert!(m["phase"] < 30, "{m:?}");
        assert_eq!(m["cpu"], 2);
        assert!(m["total"] >= 30);
    }
}
