//! Wall-clock timings of a run's phases, for `report.json` → `timings_ms`. A phase is timed
//! by wrapping it ([`Timings::time`]), so its clock starts where the phase starts.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Milliseconds per phase, and the run's own clock for `total`.
#[derive(Debug, Clone)]
pub struct Timings {
    start: Instant,
    ms: BTreeMap<String, u64>,
}

impl Timings {
    /// Starts the run's clock.
    pub fn start() -> Timings {
        Timings {
            start: Instant::now(),
            ms: BTreeMap::new(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
